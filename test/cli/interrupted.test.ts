/**
 * An --out-dir run stopped by Ctrl-C or SIGTERM (issue 22): the outputs it
 * finished before the signal are whole and kept, and the message names
 * them (it said "no output was left behind" while they were there);
 * --skip-existing resumes the run. And a full disk under --out-dir is "not
 * written" (exit 4), never "unreadable".
 *
 * The run is stopped by a real signal, sent while it waits on a slow input:
 * a FIFO given by name, sorted after two captures, that nobody writes to.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, cliAsync, ROOT, tempDir } from '../helpers/cli.js';
import { combineReports, failedReport, renderMultiText } from '../../src/report/multi.js';
import { inconsistency } from '../../src/report/consistency.js';
import { renderHtmlReport } from '../../src/report/html.js';

const GOLDEN = join(ROOT, 'fixtures/golden/ssnat');
const RULE = '10.0.0.0/24=192.168.1.0/24';

/** a.pcapng, b.pcapng and c.pcapng: c a FIFO with no writer (a slow input) until `feed` makes it a capture. */
function inputs(): { dir: string; files: string[]; feed: () => void } {
  const dir = join(tempDir(), 'in');
  mkdirSync(dir);
  copyFileSync(join(GOLDEN, 'guest0.pcapng'), join(dir, 'a.pcapng'));
  copyFileSync(join(GOLDEN, 'guest1.pcapng'), join(dir, 'b.pcapng'));
  execFileSync('mkfifo', [join(dir, 'c.pcapng')]);
  const feed = (): void => {
    rmSync(join(dir, 'c.pcapng'));
    copyFileSync(join(GOLDEN, 'guest2.pcapng'), join(dir, 'c.pcapng'));
  };
  return { dir, files: ['a.pcapng', 'b.pcapng', 'c.pcapng'].map((f) => join(dir, f)), feed };
}

/** The bytes a run over that file alone writes. */
function alone(input: string): Buffer {
  const out = join(tempDir(), 'alone.pcapng');
  expect(cli([input, out, '-r', RULE, '-q']).code).toBe(0);
  return readFileSync(out);
}

async function interrupt(args: string[], out: string, signal: NodeJS.Signals): Promise<{ ended: [number | null, NodeJS.Signals | null]; stderr: string }> {
  const child = cliAsync(args);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = (): string[] => {
    try {
      return readdirSync(out).filter((n) => !n.startsWith('.'));
    } catch {
      return [];
    }
  };
  // Both captures before the FIFO are written (renamed into place); the run then waits on the FIFO.
  for (let waited = 0; done().length < 2 && waited < 30_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  expect(done()).toEqual(['a.pcapng', 'b.pcapng']);
  await new Promise((r) => setTimeout(r, 100));
  child.kill(signal);
  const ended = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('close', (code, sig) => r([code, sig])));
  return { ended, stderr };
}

describe('an --out-dir run interrupted', () => {
  it.each([
    ['SIGINT', '1'],
    ['SIGTERM', '2'],
  ] as const)('by %s (--jobs %s) keeps the outputs it finished, names them, and --skip-existing finishes it', async (signal, jobs) => {
    const { files, feed } = inputs();
    const out = join(tempDir(), 'out');
    const args = ['--out-dir', out, ...files, '-r', RULE, '--jobs', jobs];
    const { ended, stderr } = await interrupt(args, out, signal);
    // Ended by the signal itself (a shell's $? is 130 or 143), after the clean-up.
    expect(ended).toEqual([null, signal]);
    expect(stderr.slice(stderr.indexOf('\nssnat-rewrite: interrupted'))).toBe(
      `\nssnat-rewrite: interrupted (${signal}); the 2 outputs finished before it are kept, whole: ${join(out, 'a.pcapng')}, ${join(out, 'b.pcapng')}; the others were not written (nothing half-written is left): run the same command with --skip-existing to finish\n`,
    );
    // No temporary file; the two outputs are whole: byte for byte what a run over each alone writes.
    expect(readdirSync(out).sort()).toEqual(['a.pcapng', 'b.pcapng']);
    expect(readFileSync(join(out, 'a.pcapng')).equals(alone(files[0]!))).toBe(true);
    expect(readFileSync(join(out, 'b.pcapng')).equals(alone(files[1]!))).toBe(true);
    const inodes = ['a.pcapng', 'b.pcapng'].map((n) => statSync(join(out, n)).ino);
    // Without --skip-existing (or --force), the run again refuses the outputs that exist.
    feed();
    const again = cli(args);
    expect([again.code, again.stderr]).toEqual([2, `ssnat-rewrite: output ${join(out, 'a.pcapng')} exists; pass --force to replace it\n`]);
    // Resumed: the finished ones are left as they are, said and counted; the rest is written.
    const resumed = cli([...args, '--skip-existing', '--report', 'json']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toBe(
      `ssnat-rewrite: note: 2 inputs were skipped: their outputs exist in ${out} (--skip-existing)\nssnat-rewrite: ${files[2]}: 28 packets, 19 rewritten -> ${join(out, 'c.pcapng')}\nssnat-rewrite: 1 file, 1 ok, 2 skipped (output exists)\n`,
    );
    const j = JSON.parse(resumed.stdout.toString());
    expect(j.summary).toMatchObject({ files: 1, existing: 2, ok: 1 });
    expect(j.verdict).toEqual({ result: 'ok', exitCode: 0, strict: false, why: '1 file, 1 ok, 2 skipped (output exists)' });
    // merge-reports keeps the count: the merge of this one shard is this run's report.
    const shard = join(tempDir(), 'shard.json');
    writeFileSync(shard, resumed.stdout);
    expect(cli(['merge-reports', shard, '--report', 'json']).stdout.toString()).toBe(resumed.stdout.toString());
    expect(['a.pcapng', 'b.pcapng'].map((n) => statSync(join(out, n)).ino)).toEqual(inodes);
    expect(readFileSync(join(out, 'c.pcapng')).equals(alone(files[2]!))).toBe(true);
    // All done: a run resumed again has nothing left to do, and says so.
    const nothing = cli([...args, '--skip-existing', '--report', 'text']);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout.toString().trimEnd().split('\n').pop()).toBe('OK: 0 files, 3 skipped (output exists)');
  }, 90_000);

  it('interrupted before any output was finished, it says that none was left behind', async () => {
    const { dir } = inputs();
    const out = join(tempDir(), 'out');
    const child = cliAsync(['--out-dir', out, join(dir, 'c.pcapng'), '-r', RULE]);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The run makes the output directory when it plans the outputs, then waits on the FIFO.
    for (let waited = 0; !existsSync(out) && waited < 30_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const ended = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('close', (code, sig) => r([code, sig])));
    expect(ended).toEqual([null, 'SIGINT']);
    expect(stderr).toBe('\nssnat-rewrite: interrupted (SIGINT); no output was left behind\n');
    expect(readdirSync(out)).toEqual([]);
  }, 60_000);

  it('interrupted after every output was finished (its report waits on a FIFO), it says every one is kept', async () => {
    const { files } = inputs();
    const out = join(tempDir(), 'out');
    const report = join(tempDir(), 'report.fifo');
    execFileSync('mkfifo', [report]);
    const { ended, stderr } = await interrupt(['--out-dir', out, files[0]!, files[1]!, '-r', RULE, '-q', '--report', 'json', '--report-file', report], out, 'SIGINT');
    expect(ended).toEqual([null, 'SIGINT']);
    expect(stderr).toBe(`\nssnat-rewrite: interrupted (SIGINT); every output was finished before it, and is kept: ${join(out, 'a.pcapng')}, ${join(out, 'b.pcapng')}\n`);
    expect(readdirSync(out).sort()).toEqual(['a.pcapng', 'b.pcapng']);
  }, 60_000);

  it('--skip-existing is refused without --out-dir, and with --force', () => {
    const { files } = inputs();
    const a = cli([files[0]!, join(tempDir(), 'o.pcapng'), '-r', RULE, '--skip-existing']);
    expect([a.code, a.stderr]).toEqual([2, 'ssnat-rewrite: --skip-existing resumes a run over many captures: use it with --out-dir DIR\n']);
    const b = cli(['--out-dir', join(tempDir(), 'o'), files[0]!, '-r', RULE, '--skip-existing', '--force']);
    expect([b.code, b.stderr]).toEqual([2, 'ssnat-rewrite: --skip-existing keeps the outputs that exist and --force replaces them: give one of them\n']);
  });
});

describe('a full disk under --out-dir', () => {
  it('is "not written" (exit 4), never "unreadable": the other files are written', (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip('needs root: mounts a small file system');
    const dir = join(tempDir(), 'in');
    mkdirSync(dir);
    // 20 copies of a 7,100-byte capture as one file of 20 sections: 142,000 bytes, more than the 64 KiB mounted.
    const one = readFileSync(join(GOLDEN, 'guest0.pcapng'));
    execFileSync('sh', ['-c', `for i in $(seq 20); do cat "$0"; done > "$1"`, join(GOLDEN, 'guest0.pcapng'), join(dir, 'big.pcapng')]);
    expect(statSync(join(dir, 'big.pcapng')).size).toBe(20 * one.length);
    copyFileSync(join(GOLDEN, 'guest1.pcapng'), join(dir, 'small.pcapng'));
    const full = join(tempDir(), 'full');
    mkdirSync(full);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]);
    try {
      const out = join(full, 'out');
      const r = cli(['--out-dir', out, dir, '-r', RULE]);
      expect(r.code).toBe(4);
      expect(r.stderr).toBe(
        `ssnat-rewrite: ${join(dir, 'big.pcapng')}: error: cannot write output ${join(out, 'big.pcapng')}: no space left on device\nssnat-rewrite: ${join(dir, 'small.pcapng')}: 28 packets, 19 rewritten -> ${join(out, 'small.pcapng')}\nssnat-rewrite: 2 files, 1 ok, 1 not written\n`,
      );
      expect(readdirSync(out)).toEqual(['small.pcapng']);
      rmSync(join(out, 'small.pcapng'));
      const text = cli(['--out-dir', out, dir, '-r', RULE, '-q', '--report', 'text']);
      expect(text.code).toBe(4);
      expect(text.stdout.toString()).toBe(
        `ssnat-rewrite rewrite: 2 captures\n  NOT WRITTEN  ${join(dir, 'big.pcapng')}: cannot write output ${join(out, 'big.pcapng')}: no space left on device\n  ok           ${join(dir, 'small.pcapng')}: 28 packets, 19 rewritten, 0 errors, 0 warnings, 0 collisions\n\n  total: 28 packets, 19 rewritten, 0 checksums verified, 0 bad, 0 errors, 0 warnings, 0 collisions\n\nNOT WRITTEN: 2 files, 1 ok, 1 not written\n`,
      );
      rmSync(join(out, 'small.pcapng'));
      const json = JSON.parse(cli(['--out-dir', out, dir, '-r', RULE, '-q', '--report', 'json']).stdout.toString());
      expect(json.files[0].verdict).toEqual({ result: 'unwritten', exitCode: 4, strict: false, why: `not written: cannot write output ${join(out, 'big.pcapng')}: no space left on device` });
      expect(json.summary).toMatchObject({ files: 2, ok: 1, unreadable: 0, unwritten: 1 });
      expect(json.verdict).toEqual({ result: 'unwritten', exitCode: 4, strict: false, why: '2 files, 1 ok, 1 not written' });
    } finally {
      execFileSync('umount', [full]);
    }
  });

  it('an entry whose output was not written reads so in every format, and holds together for merge-reports', () => {
    const entry = failedReport('rewrite', 'in/big.pcapng', { code: 'output', message: 'cannot write output out/big.pcapng: no space left on device', exitCode: 4 }, false);
    expect(entry.verdict).toEqual({ result: 'unwritten', exitCode: 4, strict: false, why: 'not written: cannot write output out/big.pcapng: no space left on device' });
    expect(inconsistency(entry)).toBeNull();
    expect(inconsistency({ ...entry, verdict: { ...entry.verdict!, result: 'unreadable' } })).toBe('its error and its verdict do not agree');
    const unreadable = failedReport('rewrite', 'in/bad.pcapng', { code: 'input', message: 'damaged', exitCode: 3 }, false);
    expect(unreadable.verdict!.result).toBe('unreadable');
    const m = combineReports('rewrite', [entry, unreadable], false);
    expect(m.summary).toMatchObject({ files: 2, unreadable: 1, unwritten: 1 });
    // Exit 4 is the worst: the verdict is that one.
    expect(m.verdict).toEqual({ result: 'unwritten', exitCode: 4, strict: false, why: '2 files, 1 unreadable, 1 not written' });
    expect(renderMultiText(m).trimEnd().split('\n').pop()).toBe('NOT WRITTEN: 2 files, 1 unreadable, 1 not written');
    const html = renderHtmlReport(m);
    expect(html).toContain('<div class="verdict v-unreadable" data-verdict="unwritten" data-exit-code="4"><span class="icon" aria-hidden="true">!</span><span class="word">NOT WRITTEN</span><span class="why">2 files, 1 unreadable, 1 not written</span>');
    expect(html).toContain('<strong>The output was not written</strong> (output): cannot write output out/big.pcapng: no space left on device.');
    expect(html).toContain('<span>not written</span>');
  });
});
