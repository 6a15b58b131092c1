/**
 * The README's recipe for spreading a suite over several machines with GNU
 * parallel, run for real on this machine (local job slots): its shards'
 * reports, merged, are exactly what one run over the suite prints.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, tempDir } from '../helpers/cli.js';
import { corpusPath, manifest } from '../helpers/corpus.js';
import { needs } from '../helpers/tools.js';

describe('the GNU parallel recipe of the README', () => {
  it('shards on local slots, merged with --expect, print what one run prints', (ctx) => {
    needs(ctx, 'parallel');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Beyond one machine'));
    const recipe = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    expect(recipe).toContain('parallel --sshloginfile hosts.txt');
    const work = tempDir();
    // A suite of 60 captures from the corpus (sound and damaged ones), in two directories.
    const picked = manifest().filter((e) => /\.(pcap|pcapng)$/.test(e.path)).slice(0, 60);
    for (const [i, e] of picked.entries()) {
      const dir = join(work, 'captures', i % 2 === 0 ? 'even' : 'odd');
      mkdirSync(dir, { recursive: true });
      copyFileSync(corpusPath(e.path), join(dir, `${i}-${e.path.split('/').pop()}`));
    }
    // `npx ssnat-rewrite` finds this package's launcher, as it finds an installed one; two slots here.
    mkdirSync(join(work, 'node_modules/.bin'), { recursive: true });
    execFileSync('ln', ['-s', join(ROOT, 'bin/ssnat-rewrite.cjs'), join(work, 'node_modules/.bin/ssnat-rewrite')]);
    writeFileSync(join(work, 'hosts.txt'), '2/:\n');
    const home = join(work, 'home');
    mkdirSync(join(home, '.parallel'), { recursive: true });
    writeFileSync(join(home, '.parallel/will-cite'), ''); // GNU parallel's one-time citation notice
    const run = spawnSync('sh', ['-e', '-c', recipe.replace('--report junit --report-file verify.xml', '--report json --report-file merged.json')], {
      cwd: work,
      env: { ...process.env, HOME: home },
      encoding: 'utf8',
    });
    expect(readdirSync(work).filter((f) => f.startsWith('shard-')).length).toBe(Math.ceil(picked.length / 50));
    const one = spawnSync(process.execPath, [BIN, 'verify', 'captures', '--report', 'json'], { cwd: work, encoding: 'utf8' });
    expect(one.status).toBe(3); // the corpus holds damaged captures
    expect(run.status, run.stderr).toBe(3); // the merge's exit code, the last command's
    expect(readFileSync(join(work, 'merged.json'), 'utf8')).toBe(one.stdout);
    expect(JSON.parse(one.stdout).files).toHaveLength(picked.length);
  }, 180_000);
});
