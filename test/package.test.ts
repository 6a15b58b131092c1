/**
 * `npm pack` gives a package that installs in an empty project and works:
 * the CLI through npx, the library by name, the type declarations; and it
 * ships built files, README, licence and changelog only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';
import { ROOT } from './helpers/cli.js';

const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('npm package', () => {
  // dist/ is already built by the test setup: pack without the prepare script.
  const packDir = mkdtempSync(join(tmpdir(), 'ssnat-pack-'));
  const packed = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], ROOT)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  const files = packed[0]!.files.map((f) => f.path);

  it('ships built files, README, licence and changelog only', () => {
    const top = [...new Set(files.map((f) => (f.includes('/') ? f.slice(0, f.indexOf('/') + 1) : f)))].sort();
    expect(top).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'bin/', 'dist/', 'package.json']);
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/ssnat-rewrite.cjs');
    expect(files).toContain('dist/ssnat-rewrite.cache');
    expect(files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toBe(false);
  });

  it('installs in an empty project: npx ssnat-rewrite --version/--help, and the library by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssnat-consumer-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    const tgz = join(packDir, packed[0]!.filename);
    npm(['install', '--no-audit', '--no-fund', tgz], dir);
    expect(execFileSync('npx', ['ssnat-rewrite', '--version'], { cwd: dir, encoding: 'utf8' }).trim()).toBe(VERSION);
    expect(execFileSync('npx', ['ssnat-rewrite', 'verify', '--help'], { cwd: dir, encoding: 'utf8' })).toContain('--report <kind>');
    writeFileSync(join(dir, 'use.mjs'), "import { parseRule, VERSION } from 'ssnat-rewrite';\nconsole.log(VERSION, parseRule('10.0.0.0/24=192.168.1.0/24@tap1').scope.name);\n");
    expect(execFileSync(process.execPath, ['use.mjs'], { cwd: dir, encoding: 'utf8' }).trim()).toBe(`${VERSION} tap1`);
  }, 120_000);
});
