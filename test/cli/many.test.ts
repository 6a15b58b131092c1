/**
 * CI at scale (issue 15): many captures in one run, one combined report
 * whatever the number of jobs, rewrite into --out-dir, merge-reports of
 * shards equal to one run, and the recipe for Kubernetes shards.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { EXIT_INTERNAL } from '../../src/errors.js';
import { availableCores } from '../../src/multi/cores.js';
import { serializeError } from '../../src/multi/run.js';
import { BIN, cli, ROOT, tempDir } from '../helpers/cli.js';
import { corpusPath } from '../helpers/corpus.js';
import { ether, ip4, ipv4L4, udp } from '../helpers/wire-build.js';
import { pcapBytes } from '../verify/helpers.js';

/** A DNS query whose UDP checksum is wrong: an error finding. */
function badUdp(): Uint8Array {
  const f = ether(0x0800, ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(2345, 53, Uint8Array.of(1, 2, 3, 4))));
  f[40] = f[40]! ^ 0xff;
  return f;
}

const GOLDEN = join(ROOT, 'fixtures/golden');
const RULE = '10.0.0.0/24=192.168.1.0/24';

/**
 * A small suite: captures in nested directories (pcap, pcapng, a .cap, a
 * .gz), a file that is not a capture (left out of the walk), a damaged
 * capture and a capture with an error finding.
 */
function suite(): string {
  const dir = join(tempDir(), 'captures');
  mkdirSync(join(dir, 'taps/deep'), { recursive: true });
  mkdirSync(join(dir, 'corpus'), { recursive: true });
  copyFileSync(join(GOLDEN, 'ssnat/guest0.pcapng'), join(dir, 'taps/guest0.pcapng'));
  copyFileSync(join(GOLDEN, 'collision/host.pcapng'), join(dir, 'taps/deep/collide.pcapng'));
  writeFileSync(join(dir, 'taps/guest1.pcapng.gz'), gzipSync(readFileSync(join(GOLDEN, 'ssnat/guest1.pcapng'))));
  copyFileSync(corpusPath('dpkt/dns_icmp.pcap'), join(dir, 'corpus/dns_icmp.cap'));
  writeFileSync(join(dir, 'corpus/nb6-http.pcap'), pcapBytes(1, [{ data: badUdp() }])); // a bad UDP checksum: an error
  copyFileSync(corpusPath('libpcap/shb-option-too-long.pcapng'), join(dir, 'corpus/damaged.pcapng'));
  writeFileSync(join(dir, 'corpus/README.txt'), 'not a capture');
  return dir;
}

const json = (r: { stdout: Buffer }): { files: Array<{ input: { path: string }; verdict: { result: string; exitCode: number }; summary: { packets: number }; error?: { message: string } }>; summary: Record<string, unknown>; verdict: { result: string; exitCode: number } } =>
  JSON.parse(r.stdout.toString());

describe('verify over many captures', () => {
  const dir = suite();
  const rel = (p: string): string => p.slice(dir.length - 'captures'.length);

  it('a directory: every capture in it, sorted by path, each entry the report a run over that file alone gives', () => {
    const r = cli(['verify', dir, '--report', 'json', '--jobs', '2']);
    expect(r.code).toBe(3); // the damaged one
    const j = json(r);
    expect(j.files.map((f) => rel(f.input.path))).toEqual([
      'captures/corpus/damaged.pcapng',
      'captures/corpus/dns_icmp.cap',
      'captures/corpus/nb6-http.pcap',
      'captures/taps/deep/collide.pcapng',
      'captures/taps/guest0.pcapng',
      'captures/taps/guest1.pcapng.gz',
    ]);
    // collide.pcapng shows the clones' bug: its wrong-clone replies fail it.
    expect(j.files.map((f) => f.verdict.result)).toEqual(['unreadable', 'ok', 'failed', 'failed', 'ok', 'ok']);
    expect(j.files[0]!.error!.message).toBe('section header block: trailing block length 808464432 differs from the leading length 52');
    for (const f of j.files.slice(1)) {
      const alone = JSON.parse(cli(['verify', f.input.path, '--report', 'json']).stdout.toString());
      expect(f).toEqual(alone);
    }
    expect(j.summary).toMatchObject({ files: 6, ok: 3, failed: 2, unchecked: 0, unreadable: 1, packets: j.files.reduce((n, f) => n + f.summary.packets, 0) });
    expect(j.verdict).toEqual({ result: 'unreadable', exitCode: 3, strict: false, why: '6 files, 3 ok, 2 failed, 1 unreadable' });
  });

  it('the report is the same byte for byte for any --jobs, in every format', () => {
    for (const format of ['json', 'junit', 'text', 'html']) {
      const outs = [1, 2, 3].map((n) => cli(['verify', dir, '--report', format, '--jobs', String(n)]).stdout.toString());
      expect(outs[1]).toBe(outs[0]);
      expect(outs[2]).toBe(outs[0]);
    }
  });

  it('exit code: 1 when one failed and none was unreadable; 0 when all passed', () => {
    const ok = cli(['verify', join(dir, 'taps/guest0.pcapng'), join(dir, 'taps/guest1.pcapng.gz'), '--report', 'json']);
    expect(ok.code).toBe(0);
    const failed = cli(['verify', join(dir, 'taps/guest0.pcapng'), join(dir, 'corpus/nb6-http.pcap')]);
    expect(failed.code).toBe(1);
    expect(cli(['verify', join(dir, 'taps')]).code).toBe(1); // collide.pcapng's wrong-clone replies
    // Its collisions alone are warnings: they fail only with --strict.
    expect(cli(['verify', join(dir, 'taps'), '--ignore', 'flow.wrong-clone']).code).toBe(0);
    expect(cli(['verify', join(dir, 'taps'), '--ignore', 'flow.wrong-clone', '--strict']).code).toBe(1);
  });

  it('text: one line per file, then the total and the verdict', () => {
    const lines = cli(['verify', join(dir, 'taps'), join(dir, 'corpus/damaged.pcapng')]).stdout.toString().trimEnd().split('\n');
    expect(lines[0]).toBe('ssnat-rewrite verify: 4 captures');
    expect(lines.slice(1, 5).map((l) => l.replace(dir, 'captures'))).toEqual([
      '  UNREADABLE  captures/corpus/damaged.pcapng: section header block: trailing block length 808464432 differs from the leading length 52',
      '  FAILED      captures/taps/deep/collide.pcapng: 91 packets, 14 errors, 10 warnings, 5 collisions',
      '  ok          captures/taps/guest0.pcapng: 28 packets, 0 errors, 0 warnings, 0 collisions',
      '  ok          captures/taps/guest1.pcapng.gz: 28 packets, 0 errors, 0 warnings, 0 collisions',
    ]);
    expect(lines[6]).toBe('  total: 147 packets, 226 checksums verified, 0 bad, 14 errors, 10 warnings, 5 collisions');
    expect(lines[8]).toBe('UNREADABLE: 4 files, 2 ok, 1 failed, 1 unreadable');
  });

  it('JUnit: one testsuite per file, named by its path; an unreadable file is an error there', () => {
    const xml = cli(['verify', join(dir, 'taps'), join(dir, 'corpus/damaged.pcapng'), '--report', 'junit']).stdout.toString();
    expect([...xml.matchAll(/<testsuite name="([^"]+)"/g)].map((m) => m[1]!.replace(dir, 'captures'))).toEqual([
      'captures/corpus/damaged.pcapng',
      'captures/taps/deep/collide.pcapng',
      'captures/taps/guest0.pcapng',
      'captures/taps/guest1.pcapng.gz',
    ]);
    expect(xml).toContain('<error message="section header block: trailing block length 808464432 differs from the leading length 52" type="input"></error>');
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="ssnat-rewrite" tests="\d+" failures="1" errors="1" skipped="0">\n/);
  });

  it('what cannot be an input is an entry of its own, and the rest is still checked', () => {
    const empty = join(dir, '..', 'empty');
    mkdirSync(empty);
    const r = cli(['verify', join(dir, 'taps/guest0.pcapng'), empty, join(dir, 'nothing/*.pcap'), '--report', 'json']);
    expect(r.code).toBe(3);
    const j = json(r);
    expect(j.files.map((f) => [f.input.path.replace(join(dir, '..'), '.'), f.verdict.result, f.error?.message])).toEqual([
      ['./captures/nothing/*.pcap', 'unreadable', 'no such file or directory (a pattern that matched no file?)'],
      ['./captures/taps/guest0.pcapng', 'ok', undefined],
      ['./empty', 'unreadable', 'the directory holds no capture: it holds no file'],
    ]);
  });

  it('a walk leaves no capture out without a word: a dangling link, a FIFO, a device, an unreadable directory or file is an entry of its own', () => {
    const top = join(tempDir(), 'suite');
    mkdirSync(join(top, 'locked'), { recursive: true });
    copyFileSync(join(GOLDEN, 'ssnat/guest0.pcapng'), join(top, 'a.pcapng'));
    copyFileSync(join(GOLDEN, 'ssnat/guest1.pcapng'), join(top, 'locked/hidden.pcapng'));
    copyFileSync(join(GOLDEN, 'ssnat/guest1.pcapng'), join(top, 'b.pcapng'));
    symlinkSync(join(top, 'gone.pcap'), join(top, 'dangling.pcap'));
    execFileSync('mkfifo', [join(top, 'fifo.pcap')]);
    symlinkSync('/dev/zero', join(top, 'zero.pcap.gz'));
    // Names that are not captures are not ours to judge, dangling or not.
    symlinkSync(join(top, 'gone.txt'), join(top, 'notes.txt'));
    // A directory that can be listed but not searched: its capture and its subdirectory cannot be looked up.
    mkdirSync(join(top, 'listed/sub'), { recursive: true });
    copyFileSync(join(GOLDEN, 'ssnat/guest1.pcapng'), join(top, 'listed/c.pcapng'));
    chmodSync(join(top, 'listed'), 0o444);
    chmodSync(join(top, 'locked'), 0);
    chmodSync(join(top, 'b.pcapng'), 0);
    // Root reads anything: without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, it is refused as anyone else.
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search'] : [];
    const ours = (...args: string[]) => spawnSync(asUser[0] ?? process.execPath, [...asUser.slice(1), ...(asUser.length > 0 ? [process.execPath] : []), BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    // The directory given twice, the second time inside the first: each problem is said once.
    const run = ours('verify', top, join(top, 'locked'), '--report', 'json', '--jobs', '1');
    // On worker threads, an unreadable file's error crosses back as the same entry (which thread takes
    // which file is a race: serializeError, what a worker sends, is held to it below too).
    const threads = ours('verify', top, join(top, 'locked'), '--report', 'json', '--jobs', '2');
    const out = join(top, '..', 'out');
    const rewrite = ours('--out-dir', out, top, '-r', RULE, '-q');
    chmodSync(join(top, 'locked'), 0o755);
    chmodSync(join(top, 'listed'), 0o755);
    expect(run.status).toBe(3);
    expect(run.stderr.toString()).toBe('');
    expect(threads.stdout.toString()).toBe(run.stdout.toString());
    const j = json(run);
    expect(j.files.map((f) => [f.input.path.replace(top, '.'), f.verdict.result, f.error?.message])).toEqual([
      ['./a.pcapng', 'ok', undefined],
      ['./b.pcapng', 'unreadable', `cannot read ${join(top, 'b.pcapng')}: permission denied`],
      ['./dangling.pcap', 'unreadable', `a symbolic link to ${join(top, 'gone.pcap')}, which cannot be followed: no such file or directory`],
      ['./fifo.pcap', 'unreadable', 'a FIFO, which a directory walk does not read: give it by name to read it'],
      ['./listed/c.pcapng', 'unreadable', 'permission denied'],
      ['./listed/sub', 'unreadable', 'cannot look into the directory: permission denied; the captures in it were not looked at'],
      ['./locked', 'unreadable', 'cannot read the directory: permission denied; the captures in it were not looked at'],
      ['./zero.pcap.gz', 'unreadable', 'a character device, which a directory walk does not read: give it by name to read it'],
    ]);
    expect(j.verdict).toMatchObject({ result: 'unreadable', exitCode: 3 });
    // What could be rewritten is, and kept.
    expect(rewrite.status).toBe(3);
    expect(rewrite.stderr.toString()).toBe('');
    expect(readdirSync(out)).toEqual(['a.pcapng']);
    const refused = Object.assign(new Error("EACCES: permission denied, open '/x/b.pcapng'"), { code: 'EACCES', syscall: 'open', path: '/x/b.pcapng' });
    expect(serializeError(refused)).toEqual({ ssnat: true, code: 'input', exitCode: 3, message: 'cannot read /x/b.pcapng: permission denied', file: undefined, offset: undefined, frame: undefined });
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    expect(serializeError(full)).toMatchObject({ ssnat: true, code: 'output', exitCode: 4, message: 'cannot write: no space left on device' });
    expect(serializeError(new TypeError('a bug'))).toMatchObject({ ssnat: false, code: 'internal', exitCode: EXIT_INTERNAL });
    expect(EXIT_INTERNAL).toBe(70);
  });

  it('--files-from adds the captures a list names; stdin is only ever the one input', () => {
    const list = join(dir, '..', 'list.txt');
    writeFileSync(list, `${join(dir, 'taps/guest0.pcapng')}\n\n${join(dir, 'corpus/dns_icmp.cap')}\n`);
    const j = json(cli(['verify', '--files-from', list, '--report', 'json']));
    expect(j.files.map((f) => f.verdict.result)).toEqual(['ok', 'ok']);
    const r = cli(['verify', '-', join(dir, 'taps/guest0.pcapng')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("ssnat-rewrite: '-' (stdin) can be the only input: give files or directories when there are several\n");
    // The list on stdin, as find gives it: the same report as from a file.
    const piped = cli(['verify', '--files-from', '-', '--report', 'json'], readFileSync(list));
    expect(piped.code).toBe(0);
    expect(piped.stdout.toString()).toBe(cli(['verify', '--files-from', list, '--report', 'json']).stdout.toString());
    const twice = cli(['verify', '-', '--files-from', '-']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe("ssnat-rewrite: stdin can be read once: give '-' as the input or as --files-from, not both\n");
  });

  it('--jobs past the cores gets a note (each thread is an engine of its own), once, for the threads really started, and not with -q', () => {
    const cores = availableCores();
    const taps = readdirSync(join(dir, 'taps'), { recursive: true }).filter((f) => /\.(pcapng|gz)$/.test(String(f))).length;
    const jobs = cores + taps; // more than the files: the threads started are one per file
    const started = Math.min(jobs, taps);
    const over = cli(['verify', join(dir, 'taps'), '--jobs', String(jobs), '--report', 'json']);
    expect(over.code).toBe(1); // collide.pcapng fails
    expect(over.stderr).toBe(
      started > cores
        ? `ssnat-rewrite: note: --jobs ${jobs} starts ${started} threads on the ${cores} core(s) this process may use; each thread starts its own JavaScript engine (about 20 MB and 0.1 s), so the threads past the cores make the run slower, not faster\n`
        : '',
    );
    expect(over.stdout.toString()).toBe(cli(['verify', join(dir, 'taps'), '--jobs', '1', '--report', 'json']).stdout.toString());
    // With more files than threads, the note names what --jobs asked for.
    const many = cli(['verify', dir, join(dir, 'taps'), '--jobs', String(cores + 1), '--report', 'json']);
    expect(many.stderr).toContain(`note: --jobs ${cores + 1} starts ${cores + 1} threads on the ${cores} core(s)`);
    // (The suite's README.txt is the one file its walk skips: said once.)
    expect(cli(['verify', dir, '--jobs', String(cores), '--report', 'json']).stderr).toBe('ssnat-rewrite: note: 1 file in the directories given is not a capture (by name or by its first bytes) and was skipped\n');
    expect(cli(['verify', dir, '--jobs', String(cores + 1), '--report', 'json', '-q']).stderr).toBe('');
    // One capture in a directory starts no worker, whatever --jobs says.
    expect(cli(['verify', join(dir, 'taps/deep'), '--jobs', String(cores + 4), '--report', 'json']).stderr).toBe('');
  });

  it('--progress draws one bar over the whole run: files done of the total', () => {
    const r = cli(['verify', join(dir, 'taps'), '--progress', '--jobs', '2']);
    expect(r.stderr).toMatch(/\| 3\/3 files \| [\d.]+ MB \| [\d.-]+ MB\/s \| /);
  });
});

describe('rewrite --out-dir', () => {
  it('each input under DIR at its path inside the directory given, byte for byte the one-file rewrite', () => {
    const dir = suite();
    const out = join(dir, '..', 'out');
    const r = cli(['--out-dir', out, join(dir, 'taps'), join(dir, 'corpus/dns_icmp.cap'), '-r', RULE, '--jobs', '2']);
    expect(r.code).toBe(0);
    const files = execFileSync('find', ['.', '-type', 'f'], { cwd: out, encoding: 'utf8' }).trim().split('\n').sort();
    expect(files).toEqual(['./deep/collide.pcapng', './dns_icmp.cap', './guest0.pcapng', './guest1.pcapng.gz']);
    for (const [input, output] of [
      ['taps/deep/collide.pcapng', 'deep/collide.pcapng'],
      ['taps/guest0.pcapng', 'guest0.pcapng'],
      ['corpus/dns_icmp.cap', 'dns_icmp.cap'],
    ]) {
      const alone = join(tempDir(), 'alone');
      expect(cli([join(dir, input!), alone, '-r', RULE, '-q']).code).toBe(0);
      expect(readFileSync(join(out, output!)).equals(readFileSync(alone)), output).toBe(true);
    }
    expect(r.stderr.trimEnd().split('\n').pop()).toBe('ssnat-rewrite: 4 files, 4 ok');
  });

  it('two inputs onto one output are refused before anything is written; existing outputs need --force', () => {
    const dir = suite();
    const out = join(dir, '..', 'out');
    const other = join(tempDir(), 'guest0.pcapng');
    copyFileSync(join(GOLDEN, 'ssnat/guest0.pcapng'), other);
    const r = cli(['--out-dir', out, join(dir, 'taps/guest0.pcapng'), other, '-r', RULE]);
    expect(r.code).toBe(2);
    const both = [join(dir, 'taps/guest0.pcapng'), other].sort();
    expect(r.stderr).toBe(
      `ssnat-rewrite: ${both[0]} and ${both[1]} would both be written to ${join(out, 'guest0.pcapng')} (a file given is written by its name, guest0.pcapng): rewrite them in separate runs, each with its own --out-dir\nssnat-rewrite: 1 output name(s) would be written twice; nothing was written\n`,
    );
    expect(readdirSync(join(dir, '..'))).not.toContain('out');
    expect(cli(['--out-dir', out, join(dir, 'taps/guest0.pcapng'), '-r', RULE, '-q']).code).toBe(0);
    const again = cli(['--out-dir', out, join(dir, 'taps/guest0.pcapng'), '-r', RULE]);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`ssnat-rewrite: output ${join(out, 'guest0.pcapng')} exists; pass --force to replace it\n`);
  });

  it('a damaged input among many: its entry says so, the others are written, exit 3, and no temporary file is left', () => {
    const dir = suite();
    const out = join(dir, '..', 'out');
    const r = cli(['--out-dir', out, join(dir, 'corpus'), '-r', RULE, '--report', 'json', '--jobs', '2']);
    expect(r.code).toBe(3);
    expect(readdirSync(out).sort()).toEqual(['dns_icmp.cap', 'nb6-http.pcap']);
    expect(json(r).files.map((f) => f.verdict.result)).toEqual(['unreadable', 'ok', 'ok']);
  });

  it('an output directory inside an input directory is refused; --format renames what it converts', () => {
    const dir = suite();
    const r = cli(['--out-dir', join(dir, 'taps/out'), join(dir, 'taps'), '-r', RULE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ssnat-rewrite: --out-dir ${join(dir, 'taps/out')} is inside the input directory ${join(dir, 'taps')}: a later run would take its outputs for inputs; choose a directory outside it\n`);
    const out = join(dir, '..', 'ng');
    expect(cli(['--out-dir', out, join(dir, 'corpus/dns_icmp.cap'), join(dir, 'taps/guest1.pcapng.gz'), '--format', 'pcapng', '-q']).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['dns_icmp.pcapng', 'guest1.pcapng.gz']);
    // Options no file could take are refused once, before any file, not once per file.
    const both = cli(['--out-dir', join(dir, '..', 'pcap'), join(dir, 'taps'), '-r', RULE, '--format', 'pcap', '--annotate']);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('ssnat-rewrite: --annotate writes pcapng packet comments; it cannot be used with --format pcap\n');
  });

  it('without --out-dir, rewrite takes exactly one input and one output, and says how to do more', () => {
    const r = cli(['a.pcap', 'b.pcap', 'c.pcap', '-r', RULE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ssnat-rewrite: rewrite takes one input and one output (got 3 paths); to rewrite many captures, add --out-dir DIR\n');
  });
});

describe('merge-reports', () => {
  const dir = suite();
  const work = join(dir, '..');
  const groups = [
    [join(dir, 'taps/deep'), join(dir, 'corpus/damaged.pcapng')],
    [join(dir, 'taps/guest1.pcapng.gz')],
    [join(dir, 'corpus/nb6-http.pcap'), join(dir, 'taps/guest0.pcapng'), join(dir, 'corpus/dns_icmp.cap')],
  ];
  /** One run over every input the shards were given (not the suite's directory: its walk also counts the README.txt it skips). */
  const one = (format: string): string => cli(['verify', ...groups.flat(), '--report', format]).stdout.toString();
  /** Three shards, made the way a CI job on three machines would: separate runs, in any order. */
  function shards(): string[] {
    return groups.map((g, i) => {
      const f = join(work, `shard-${i}.json`);
      cli(['verify', ...g, '--report', 'json', '--report-file', f, '--force']);
      return f;
    });
  }

  it('gives exactly what one run over all the files prints, in every format, whatever the order of the shards', () => {
    const parts = shards();
    for (const format of ['json', 'junit', 'text']) {
      const merged = cli(['merge-reports', parts[2]!, parts[0]!, parts[1]!, '--report', format]);
      expect(merged.code).toBe(3);
      expect(merged.stdout.toString()).toBe(one(format));
    }
  });

  it('--expect: a capture in no report (a lost shard) is an unreadable entry, and the merge fails', () => {
    const parts = shards();
    const list = join(work, 'suite.txt');
    writeFileSync(list, readdirSync(join(dir, 'taps')).filter((n) => n.includes('.pcapng')).map((n) => join(dir, 'taps', n)).join('\n') + '\n');
    const r = cli(['merge-reports', parts[2]!, '--expect', list, '--report', 'json']);
    expect(r.code).toBe(3);
    const j = json(r);
    expect(j.files.filter((f) => f.error?.message === 'in no report: was its shard lost?').map((f) => f.input.path)).toEqual([join(dir, 'taps/guest1.pcapng.gz')]);
  });

  it('refuses what cannot be merged, with one line each', () => {
    const parts = shards();
    const strict = join(work, 'strict.json');
    cli(['verify', join(dir, 'taps/guest0.pcapng'), join(dir, 'taps/deep'), '--strict', '--report', 'json', '--report-file', strict, '--force']);
    const notJson = join(work, 'x.json');
    writeFileSync(notJson, '<testsuites/>');
    const copy = join(work, 'copy-of-shard-0.json');
    copyFileSync(parts[0]!, copy);
    const cases: Array<[string[], number, string]> = [
      [[parts[0]!, parts[1]!, parts[0]!], 2, `ssnat-rewrite: ${parts[0]} is given twice: give each report once`],
      [[parts[1]!, `${work}/./shard-1.json`], 2, `ssnat-rewrite: ${work}/./shard-1.json is the report ${parts[1]} again (another name for one file): give each report once`],
      [[parts[0]!, copy], 2, `ssnat-rewrite: ${join(dir, 'corpus/damaged.pcapng')} is in both ${parts[0]} and ${copy}: each file must be in one report only`],
      [[parts[1]!, strict], 2, 'ssnat-rewrite: the reports were made with and without --strict: merge reports made alike'],
      [[notJson], 3, `ssnat-rewrite: ${notJson}: not a JSON report (Unexpected token '<', "<testsuites/>" is not valid JSON): give the files --report json wrote`],
    ];
    for (const [args, code, line] of cases) {
      const r = cli(['merge-reports', ...args]);
      expect(r.code).toBe(code);
      expect(r.stderr).toBe(`${line}\n`);
    }
  });

  it('a shard that does not hold together is refused, never merged into an OK: an edited verdict, counts, a finding, a type', () => {
    const parts = shards();
    const shard = JSON.parse(readFileSync(parts[2]!, 'utf8')) as { files: Array<Record<string, any>> };
    const nb6 = join(dir, 'corpus/nb6-http.pcap');
    const at = shard.files.findIndex((f) => f.input.path === nb6);
    expect(shard.files[at]!.verdict.result).toBe('failed');
    /** The shard with one edit to nb6-http's entry, merged beside shard 1. */
    const merged = (edit: (f: Record<string, any>) => void) => {
      const copy = structuredClone(shard);
      edit(copy.files[at]!);
      const p = join(work, 'edited.json');
      writeFileSync(p, JSON.stringify(copy));
      return cli(['merge-reports', parts[1]!, p, '--report', 'text']);
    };
    const entry = `ssnat-rewrite: ${join(work, 'edited.json')}: the entry of ${nb6}: `;
    const remedy = ': the report is damaged or was edited; make it again\n';
    const { errors, warnings } = shard.files[at]!.summary;
    const cases: Array<[(f: Record<string, any>) => void, string]> = [
      [(f) => Object.assign(f.verdict, { result: 'ok', exitCode: 0 }), `its verdict (ok, exit code 0) is not the one its summary gives (failed, exit code 1)`],
      [(f) => (f.summary.errors = 0), `its summary says 0 error(s) and ${warnings} warning(s), its findings ${errors} and ${warnings}`],
      [(f) => (f.findings = f.findings.filter((x: { severity: string }) => x.severity !== 'error')), `its summary says ${errors} error(s) and ${warnings} warning(s), its findings 0 and ${warnings}`],
      [(f) => (f.findings[0].severity = 'warning'), `finding 1 is not one this version makes (its check "${shard.files[at]!.findings[0].check}" with severity "warning")`],
      [(f) => (f.findings[0].check = 'constructor'), 'finding 1 is not one this version makes (its check "constructor" with severity "error")'],
      [(f) => (f.omitted = { toString: 3 }), 'its count of findings not listed for "toString" is not one this version makes'],
      [(f) => (f.findings[0].message = { html: '<b>' }), 'its findings: not of the form this version writes'],
      [(f) => (f.summary.packets = '12'), 'its summary: not of the form this version writes'],
      [(f) => (f.collisions = [{ protocol: 'udp', flow: 'x', interfaces: ['0'], frames: [1] }]), 'its collisions: not of the form this version writes'],
      [(f) => (f.timeline.lanes = 'x'), 'its timeline: not of the form this version writes'],
      [(f) => (f.collisions = [...f.collisions, { protocol: 'udp', flow: 'x', interfaces: [0, 1], frames: [1, 2] }]), `its summary says ${shard.files[at]!.summary.collisions} collision(s), and it lists ${shard.files[at]!.collisions.length + 1}`],
      [(f) => delete f.verdict, 'its verdict: missing'],
      // Claiming no checks ran, so that no verdict but "rewritten" could be asked of it.
      [(f) => (delete f.summary.unchecked, Object.assign(f.verdict, { result: 'ok', exitCode: 0 })), 'its summary has no count of packets not checked, which every verify has'],
      [(f) => (f.command = 'rewrite'), 'made by rewrite in a report of verify'],
    ];
    for (const [edit, why] of cases) {
      const r = merged(edit);
      expect([why, r.code]).toEqual([why, 3]);
      expect(r.stdout.toString()).toBe('');
      expect(r.stderr).toBe(`${entry}${why}${remedy}`);
    }
    // Untouched, the same shard merges.
    expect(merged(() => undefined).code).toBe(1);
  });
});

/**
 * The CLI with its stdout a pipe whose reader has gone before the first
 * byte (`| head -c0`): every report write meets EPIPE, whatever its size.
 */
async function readerGone(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, stderr };
}

/** The CLI with its stdout (or stderr) on /dev/full: every write there fails with ENOSPC. */
function diskFull(args: string[], full: 'stdout' | 'stderr' = 'stdout'): { code: number | null; stderr: string } {
  const fd = openSync('/dev/full', 'w');
  try {
    const stdio: Array<'ignore' | 'pipe' | number> = full === 'stdout' ? ['ignore', fd, 'pipe'] : ['ignore', 'ignore', fd];
    const r = spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio });
    return { code: r.status, stderr: r.stderr?.toString() ?? '' };
  } finally {
    closeSync(fd);
  }
}

describe('a report on stdout that cannot be written (a full disk) is exit 4 with one line, whatever the verdict', () => {
  const dir = suite();
  const line = 'ssnat-rewrite: cannot write the report to stdout: no space left on device\n';
  it.each([
    ['verify of many', ['verify', dir, '--report', 'junit', '-q']],
    ['verify of one, text', ['verify', join(dir, 'corpus/nb6-http.pcap')]],
    ['rewrite --out-dir', ['--out-dir', join(tempDir(), 'out'), join(dir, 'taps'), '-r', RULE, '--report', 'json', '-q']],
    ['rewrite of one', [join(dir, 'taps/guest0.pcapng'), join(tempDir(), 'o.pcapng'), '-r', RULE, '--report', 'json', '-q']],
  ])('%s', (_what, args) => {
    expect(diskFull(args)).toEqual({ code: 4, stderr: line });
  });
  it('--help and --version too', () => {
    expect(diskFull(['--help'])).toEqual({ code: 4, stderr: 'ssnat-rewrite: cannot write the help to stdout: no space left on device\n' });
    expect(diskFull(['--version'])).toEqual({ code: 4, stderr: 'ssnat-rewrite: cannot write the help to stdout: no space left on device\n' });
    expect(diskFull(['verify', '--help'])).toEqual({ code: 4, stderr: 'ssnat-rewrite: cannot write the help to stdout: no space left on device\n' });
  });
});

describe('a stderr that cannot be written changes no exit code', () => {
  const dir = suite();
  const out = (): string => join(tempDir(), 'o.pcapng');
  it.each([
    ['a damaged capture', ['verify', join(dir, 'corpus/damaged.pcapng')], 3],
    ['a failed verify', ['verify', join(dir, 'corpus/nb6-http.pcap')], 1],
    ['a rewrite and its summary line', [join(dir, 'taps/guest0.pcapng'), out(), '-r', RULE], 0],
    ['a usage error (commander)', ['--no-such-option'], 2],
    ['a rule error with its caret', [join(dir, 'taps/guest0.pcapng'), out(), '-r', '10.0.0.0/24-192.168.1.0/24'], 2],
    // Unless what stderr was to carry is the report asked for (stdout holds the capture): then 4.
    ['a report on stderr beside a capture on stdout', [join(dir, 'taps/guest0.pcapng'), '-', '-r', RULE, '--report', 'json'], 4],
  ])('%s', (_what, args, code) => {
    expect(diskFull(args, 'stderr').code).toBe(code);
  });
});

describe('a report reader that goes away (| head)', () => {
  const dir = suite();
  // The suite's verdict is 3 (a damaged capture): a reader that stopped reading must not make it 0.
  it("verify of many ends quietly with the verdict's exit code", async () => {
    expect(await readerGone(['verify', dir, '--report', 'json', '-q'])).toEqual({ code: 3, stderr: '' });
    expect(await readerGone(['verify', join(dir, 'corpus/nb6-http.pcap'), join(dir, 'taps'), '--report', 'junit'])).toEqual({ code: 1, stderr: '' });
  });

  it('verify of one capture too, and rewrite with its report on stdout', async () => {
    expect(await readerGone(['verify', join(dir, 'corpus/nb6-http.pcap'), '--report', 'json'])).toEqual({ code: 1, stderr: '' });
    const out = join(tempDir(), 'one.pcap');
    // --strict: the bad checksum is the input's own, which fails a rewrite only then.
    expect(await readerGone([join(dir, 'corpus/nb6-http.pcap'), out, '-r', RULE, '--verify', '--strict', '--report', 'json', '-q'])).toEqual({ code: 1, stderr: '' });
    expect(readFileSync(out).length).toBeGreaterThan(24);
  });

  it("rewrite --out-dir: no stack trace, the verdict's exit code, every output kept", async () => {
    const out = join(tempDir(), 'out');
    expect(await readerGone(['--out-dir', out, join(dir, 'corpus'), '-r', RULE, '--report', 'json', '-q'])).toEqual({ code: 3, stderr: '' });
    expect(readdirSync(out).sort()).toEqual(['dns_icmp.cap', 'nb6-http.pcap']);
  });

  it('--help', async () => {
    expect(await readerGone(['--help'])).toEqual({ code: 0, stderr: '' });
  });

  it('merge-reports', async () => {
    const shard = join(tempDir(), 'shard.json');
    cli(['verify', join(dir, 'taps'), join(dir, 'corpus/nb6-http.pcap'), '--report', 'json', '--report-file', shard]);
    expect(await readerGone(['merge-reports', shard, '--report', 'text'])).toEqual({ code: 1, stderr: '' });
  });
});

describe('the Kubernetes Indexed Job recipe of the README', () => {
  it("its pods' command, run for every index, gives shards whose merge equals one run", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const command = /^ {12}- (awk -v i=.*)$/m.exec(readme)![1]!;
    const n = Number(/completions: (\d+)/.exec(readme)![1]);
    const dir = suite();
    const work = join(dir, '..');
    // The pod's image has ssnat-rewrite on PATH (installed from the tarball): here, this checkout's launcher.
    const bin = join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    execFileSync('ln', ['-s', join(ROOT, 'bin/ssnat-rewrite.cjs'), join(bin, 'ssnat-rewrite')]);
    expect(command).not.toContain('npx');
    mkdirSync(join(work, 'reports'));
    const files = execFileSync('sh', ['-c', "find captures -type f | grep -Ei '\\.(pcap|pcapng|cap)(\\.gz)?$' | sort"], { cwd: work, encoding: 'utf8' });
    writeFileSync(join(work, 'suite.txt'), files);
    for (let i = 0; i < n; i++) {
      const r = spawnSync('sh', ['-c', command], { cwd: work, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, JOB_COMPLETION_INDEX: String(i) }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    const shardFiles = readdirSync(join(work, 'reports')).map((f) => join('reports', f));
    expect(shardFiles.length).toBe(n);
    const merged = spawnSync(process.execPath, [BIN, 'merge-reports', ...shardFiles, '--expect', 'suite.txt', '--report', 'json'], { cwd: work, encoding: 'utf8' });
    // One run over the suite's list (a walk of the directory would also count the README.txt it skips).
    const oneRun = spawnSync(process.execPath, [BIN, 'verify', '--files-from', 'suite.txt', '--report', 'json'], { cwd: work, encoding: 'utf8' });
    expect(merged.status).toBe(3);
    expect(merged.stdout).toBe(oneRun.stdout);
  });
});

describe('rules over a suite', () => {
  it('a scope applies to the captures that have the interface and not to the others; ruleHits count per capture', () => {
    const dir = suite();
    const r = cli(['verify', join(dir, 'taps/guest0.pcapng'), join(dir, 'taps/deep/collide.pcapng'), '-r', '10.0.0.0/24=192.168.11.0/24@tap1', '--report', 'json']);
    const j = JSON.parse(r.stdout.toString()) as { files: Array<{ input: { path: string }; ruleHits: Array<{ addresses: number }>; verdict: { result: string } }> };
    // guest0.pcapng has no tap1 (its interface is eth0): nothing applies there. collide.pcapng's tap1
    // holds 16 guest addresses: tshark -Y 'frame.interface_id == 1' shows 16 IPv4/ARP addresses in 10.0.0.0/24.
    expect(j.files.map((f) => [f.input.path.slice(dir.length), f.ruleHits[0]!.addresses, f.verdict.result])).toEqual([
      ['/taps/deep/collide.pcapng', 16, 'failed'],
      ['/taps/guest0.pcapng', 0, 'ok'],
    ]);
    expect(r.code).toBe(1);
  });
});
