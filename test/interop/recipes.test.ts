/**
 * The README's recipe for spreading a suite over several machines with GNU
 * parallel, run for real on this machine (local job slots), as the README
 * writes it, outside the checkout, with the command installed as the
 * README's Install section says (`npm pack`, then `npm install -g` of the
 * tarball, here into a prefix of its own): its shards' reports, merged, are
 * exactly what one run over the suite prints, it says nothing on stderr,
 * and a shard that dies without its report fails it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/cli.js';
import { corpusPath, manifest } from '../helpers/corpus.js';
import { needs } from '../helpers/tools.js';

/** The tarball of this checkout (dist/ is built by the test setup: packed without the prepare script), installed into a prefix; its bin directory. */
function installFromTarball(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ssnat-install-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })) as Array<{ filename: string }>;
  const prefix = join(dir, 'prefix');
  execFileSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(dir, packed[0]!.filename)], { cwd: dir, stdio: 'ignore' });
  return join(prefix, 'bin');
}

describe('the GNU parallel recipe of the README', () => {
  it('run as written, with the command installed from npm pack: shards on local slots, merged, print what one run prints, and nothing on stderr', (ctx) => {
    needs(ctx, 'parallel');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Beyond one machine'));
    const recipe = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    expect(recipe).toContain('parallel --sshloginfile hosts.txt');
    expect(recipe).not.toContain('|| true');
    expect(recipe).not.toContain('npx');

    const bin = installFromTarball();
    const work = tempDir();
    // A suite of 60 captures from the corpus (sound and damaged ones), in two directories.
    const picked = manifest().filter((e) => /\.(pcap|pcapng)$/.test(e.path)).slice(0, 60);
    for (const [i, e] of picked.entries()) {
      const dir = join(work, 'captures', i % 2 === 0 ? 'even' : 'odd');
      mkdirSync(dir, { recursive: true });
      copyFileSync(corpusPath(e.path), join(dir, `${i}-${e.path.split('/').pop()}`));
    }
    writeFileSync(join(work, 'hosts.txt'), '2/:\n'); // two slots here
    const home = join(work, 'home');
    mkdirSync(join(home, '.parallel'), { recursive: true });
    writeFileSync(join(home, '.parallel/will-cite'), ''); // GNU parallel's one-time citation notice
    const env = { ...process.env, HOME: home, PATH: `${bin}:${process.env.PATH}` };
    expect(execFileSync('sh', ['-c', 'command -v ssnat-rewrite'], { cwd: work, env, encoding: 'utf8' }).trim()).toBe(join(bin, 'ssnat-rewrite'));

    const run = spawnSync('sh', ['-e', '-c', recipe], { cwd: work, env, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('');
    expect(run.status).toBe(3); // the merge's exit code, the last command's: the corpus holds damaged captures
    expect(readdirSync(work).filter((f) => f.startsWith('shard-')).sort()).toEqual(['shard-1.json', 'shard-2.json']);
    const one = spawnSync('ssnat-rewrite', ['verify', 'captures', '--report', 'junit'], { cwd: work, env, encoding: 'utf8' });
    expect(one.status).toBe(3);
    expect(readFileSync(join(work, 'verify.xml'), 'utf8')).toBe(one.stdout);
    expect(one.stdout.match(/<testsuite name=/g)).toHaveLength(picked.length);

    // A shard that dies without its report (killed, as by the OOM killer) fails the run: the merge never happens.
    const shim = join(work, 'shim');
    mkdirSync(shim);
    writeFileSync(join(shim, 'ssnat-rewrite'), `#!/bin/sh\ncase " $* " in *" shard-2.json "*) kill -9 $$ ;; esac\nexec ${join(bin, 'ssnat-rewrite')} "$@"\n`);
    chmodSync(join(shim, 'ssnat-rewrite'), 0o755);
    const xml = join(work, 'verify.xml');
    execFileSync('rm', [xml]);
    const failed = spawnSync('sh', ['-e', '-c', recipe], { cwd: work, env: { ...env, PATH: `${shim}:${env.PATH}` }, encoding: 'utf8' });
    expect(failed.status).toBe(1); // parallel: one job failed
    expect(readdirSync(work).filter((f) => f.startsWith('shard-'))).toEqual(['shard-1.json']);
    expect(existsSync(xml)).toBe(false);
  }, 180_000);
});
