/**
 * A directory walk finds captures by content too (issue 22): tcpdump -w
 * writes whatever name it is given, often none, so a file without a
 * capture's name whose first bytes are a capture's (pcap, pcapng, or their
 * gzip) is checked, and every other file is skipped and counted: one note
 * on stderr, `summary.skipped` in the JSON report.
 */
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { ether, hex, ip4, ipv4L4, udp } from '../helpers/wire-build.js';
import { pcapBytes } from '../verify/helpers.js';

const GOLDEN = join(ROOT, 'fixtures/golden');
const RULE = '10.0.0.0/24=192.168.1.0/24';
const dns = hex('12340100000100000000000003777777076578616d706c6504746573740000010001');
const query = (): Uint8Array => ether(0x0800, ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(2345, 53, dns)));

/** The pcap as a big-endian nanosecond file (magic a1b23c4d, every field swapped). */
function bigEndianNanos(le: Uint8Array): Buffer {
  const b = Buffer.from(le);
  b.writeUInt32BE(0xa1b23c4d, 0);
  for (const at of [4, 6]) b.writeUInt16BE(b.readUInt16LE(at), at);
  for (const at of [8, 12, 16, 20]) b.writeUInt32BE(b.readUInt32LE(at), at);
  for (let at = 24; at < b.length; ) {
    for (let k = 0; k < 16; k += 4) b.writeUInt32BE(b.readUInt32LE(at + k), at + k);
    at += 16 + b.readUInt32BE(at + 8);
  }
  return b;
}

type Json = { files: Array<{ input: { path: string; format: string }; verdict: { result: string }; summary: { packets: number }; error?: { message: string } }>; summary: Record<string, unknown> };

/** tcpdump's files as users keep them: no extension, other byte orders, gzip; and files that are not captures. */
function suite(): string {
  const dir = join(tempDir(), 'dumps');
  mkdirSync(join(dir, 'night'), { recursive: true });
  const pcap = pcapBytes(1, [{ data: query() }, { data: query() }]);
  copyFileSync(join(GOLDEN, 'ssnat/guest0.pcapng'), join(dir, 'tap0')); // pcapng, no extension
  writeFileSync(join(dir, 'night/eth0.dump'), bigEndianNanos(pcap)); // an extension that is not a capture's
  writeFileSync(join(dir, 'night/rotated.1'), gzipSync(pcap)); // tcpdump -C/-z gzip: gzip, no .gz
  writeFileSync(join(dir, 'README.md'), '# captures of the night\n');
  writeFileSync(join(dir, 'night/notes.gz'), gzipSync('not a capture'));
  writeFileSync(join(dir, 'night/empty'), '');
  return dir;
}

describe('a directory walk finds captures by their first bytes', () => {
  it('checks the files that start as captures, whatever their names; skips the others with one counted note', () => {
    const dir = suite();
    const r = cli(['verify', dir, '--report', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout.toString()) as Json;
    expect(j.files.map((f) => [f.input.path.slice(dir.length + 1), f.input.format, f.verdict.result, f.summary.packets])).toEqual([
      ['night/eth0.dump', 'pcap', 'ok', 2],
      ['night/rotated.1', 'pcap', 'ok', 2],
      ['tap0', 'pcapng', 'ok', 28],
    ]);
    expect(j.summary).toMatchObject({ files: 3, skipped: 3, ok: 3 });
    expect(Object.keys(j.summary).slice(0, 3)).toEqual(['files', 'skipped', 'ok']);
    expect(r.stderr).toBe('ssnat-rewrite: note: 3 files in the directories given are not captures (by name or by their first bytes) and were skipped\n');
    // Each entry is the report of that file alone.
    for (const f of j.files) expect(f).toEqual(JSON.parse(cli(['verify', f.input.path, '--report', 'json']).stdout.toString()));
    // A file met by two walks (a directory and one inside it, both given) is counted once.
    const twice = JSON.parse(cli(['verify', dir, join(dir, 'night'), '-q', '--report', 'json']).stdout.toString()) as Json;
    expect([twice.summary.files, twice.summary.skipped]).toEqual([3, 3]);
    // -q: no note; the count stays in the report.
    const quiet = cli(['verify', dir, '-q', '--report', 'json']);
    expect([quiet.code, quiet.stderr, (JSON.parse(quiet.stdout.toString()) as Json).summary.skipped]).toEqual([0, '', 3]);
  });

  it('a directory holding only one extensionless capture is checked, not "holds no capture"', () => {
    const dir = join(tempDir(), 'one');
    mkdirSync(dir);
    copyFileSync(join(GOLDEN, 'ssnat/guest1.pcapng'), join(dir, 'capture'));
    const r = cli(['verify', dir]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout.toString()).toContain(`  ok  ${dir}/capture: 28 packets, 0 errors, 0 warnings, 0 collisions\n`);
    const j = JSON.parse(cli(['verify', dir, '--report', 'json']).stdout.toString()) as Json;
    expect(j.summary.skipped).toBeUndefined();
  });

  it('a directory of no capture says what it holds', () => {
    const dir = join(tempDir(), 'docs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.txt'), 'a');
    writeFileSync(join(dir, 'b.json'), '{}');
    const r = cli(['verify', dir, '--report', 'json']);
    expect(r.code).toBe(3);
    const j = JSON.parse(r.stdout.toString()) as Json;
    expect(j.files.map((f) => f.error?.message)).toEqual(['the directory holds no capture: none of its 2 files is a capture, by name (.pcap, .pcapng, .cap, or those .gz) or by its first bytes (pcap, pcapng, or their gzip)']);
    expect(j.summary.skipped).toBe(2);
    expect(r.stderr).toBe('ssnat-rewrite: note: 2 files in the directories given are not captures (by name or by their first bytes) and were skipped\n');
    const one = join(tempDir(), 'one');
    mkdirSync(one);
    writeFileSync(join(one, 'a.txt'), 'a');
    const o = cli(['verify', one, '-q', '--report', 'json']);
    expect((JSON.parse(o.stdout.toString()) as Json).files[0]!.error!.message).toBe('the directory holds no capture: none of its one file is a capture, by name (.pcap, .pcapng, .cap, or those .gz) or by its first bytes (pcap, pcapng, or their gzip)');
  });

  it('a file named as a capture is still judged by its name: one that is not is an unreadable entry, not skipped', () => {
    const dir = join(tempDir(), 'named');
    mkdirSync(dir);
    writeFileSync(join(dir, 'x.pcap'), 'not a capture');
    const r = cli(['verify', dir, '--report', 'json']);
    const j = JSON.parse(r.stdout.toString()) as Json;
    expect([r.code, j.files.map((f) => f.verdict.result), j.summary.skipped]).toEqual([3, ['unreadable'], undefined]);
  });

  it('--out-dir rewrites a capture found by content under its own name, uncompressed unless named .gz; --format adds its extension', () => {
    const dir = suite();
    const out = join(dir, '..', 'out');
    const r = cli(['--out-dir', out, dir, '-r', RULE]);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n')[0]).toBe('ssnat-rewrite: note: 3 files in the directories given are not captures (by name or by their first bytes) and were skipped');
    expect(readdirSync(out, { recursive: true }).map(String).sort()).toEqual(['night', 'night/eth0.dump', 'night/rotated.1', 'tap0']);
    // Each output is the rewrite of that file alone, into a file named as it is.
    for (const name of ['night/eth0.dump', 'night/rotated.1', 'tap0']) {
      const alone = join(tempDir(), 'alone');
      expect(cli([join(dir, name), alone, '-r', RULE, '-q']).code).toBe(0);
      expect(readFileSync(join(out, name)).equals(readFileSync(alone)), name).toBe(true);
    }
    // The gzip input's output is a plain pcap: an output is compressed only when its name ends .gz.
    expect(readFileSync(join(out, 'night/rotated.1')).readUInt32LE(0)).toBe(0xa1b2c3d4);
    const converted = join(dir, '..', 'converted');
    expect(cli(['--out-dir', converted, dir, '--format', 'pcapng', '-q']).code).toBe(0);
    expect(readdirSync(converted, { recursive: true }).map(String).sort()).toEqual(['night', 'night/eth0.dump.pcapng', 'night/rotated.1.pcapng', 'tap0.pcapng']);
    expect(gunzipSync(readFileSync(join(dir, 'night/rotated.1'))).readUInt32LE(0)).toBe(0xa1b2c3d4);
  });

  it('two inputs onto one output name: the advice matches what was given (directories, files, or both)', () => {
    const top = tempDir();
    for (const d of ['tap0', 'tap1']) {
      mkdirSync(join(top, d));
      copyFileSync(join(GOLDEN, 'ssnat/guest0.pcapng'), join(top, d, 'dump'));
    }
    const out = join(top, 'out');
    const [a, b] = [join(top, 'tap0/dump'), join(top, 'tap1/dump')];
    const tail = 'ssnat-rewrite: 1 output name(s) would be written twice; nothing was written\n';
    const dirs = cli(['--out-dir', out, join(top, 'tap0'), join(top, 'tap1'), '-r', RULE]);
    expect([dirs.code, dirs.stderr]).toEqual([
      2,
      `ssnat-rewrite: ${a} and ${b} would both be written to ${join(out, 'dump')} (each is dump inside the directory given, ${join(top, 'tap0')} and ${join(top, 'tap1')}): rewrite them in separate runs, each with its own --out-dir\n${tail}`,
    ]);
    const files = cli(['--out-dir', out, a, b, '-r', RULE]);
    expect([files.code, files.stderr]).toEqual([2, `ssnat-rewrite: ${a} and ${b} would both be written to ${join(out, 'dump')} (a file given is written by its name, dump): rewrite them in separate runs, each with its own --out-dir\n${tail}`]);
    const mixed = cli(['--out-dir', out, a, join(top, 'tap1'), '-r', RULE]);
    expect([mixed.code, mixed.stderr]).toEqual([
      2,
      `ssnat-rewrite: ${a} and ${b} would both be written to ${join(out, 'dump')} (a file given is written by its name, and a directory's files by their paths inside it: both are dump): rewrite them in separate runs, each with its own --out-dir\n${tail}`,
    ]);
    expect(readdirSync(top).sort()).toEqual(['tap0', 'tap1']);
  });

  it('merge-reports keeps the shards\' counts of skipped files', () => {
    const a = suite();
    const b = suite();
    const sa = join(tempDir(), 'a.json');
    const sb = join(tempDir(), 'b.json');
    expect(cli(['verify', a, '-q', '--report', 'json', '--report-file', sa]).code).toBe(0);
    expect(cli(['verify', b, '-q', '--report', 'json', '--report-file', sb]).code).toBe(0);
    const m = JSON.parse(cli(['merge-reports', sa, sb, '--report', 'json']).stdout.toString()) as Json;
    expect(m.summary).toMatchObject({ files: 6, skipped: 6, ok: 6 });
    const all = JSON.parse(cli(['verify', a, b, '-q', '--report', 'json']).stdout.toString()) as Json;
    expect(m).toEqual(all);
  });
});
