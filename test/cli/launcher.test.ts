/**
 * The launcher compiles the CLI bundle with the code cache made at build
 * time: V8 must accept it (a rejected cache still works, only slower, so
 * nothing else would notice), and without it the CLI behaves the same.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadCli } from '../../bin/load-cli.cjs';

describe('CLI launcher', () => {
  it("V8 accepts the bundle's code cache", () => {
    const { script, cli } = loadCli();
    expect(script.cachedDataRejected).toBe(false);
    expect(typeof cli.main).toBe('function');
  });

  it('without the cache the bundle is compiled as usual', () => {
    const { script, cli } = loadCli(false);
    expect(script.cachedDataRejected).toBeUndefined();
    expect(typeof cli.main).toBe('function');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', "import { loadCli } from './bin/load-cli.cjs'; await loadCli(false).cli.main([process.execPath, 'x', '--version']);"], { encoding: 'utf8' });
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('a run loads no builtin it does not use: child_process, crypto, fs/promises (each costs start-up time)', () => {
    const script = [
      'const before = new Set(process.moduleLoadList);',
      "process.on('exit', () => { require('fs').writeSync(2, JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m)))); });",
      "require('./bin/load-cli.cjs').loadCli().cli.main([process.execPath, 'x', 'verify', 'fixtures/golden/collision/host.pcapng', '--report', 'json']);",
    ].join('\n');
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    const loaded = JSON.parse(r.stderr.slice(r.stderr.lastIndexOf('['))) as string[];
    expect(loaded).toContain('NativeModule worker_threads'); // the list is the real one
    expect(loaded.filter((m) => /^NativeModule (child_process|crypto|fs\/promises|readline)$/.test(m))).toEqual([]);
  });
});
