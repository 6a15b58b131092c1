/**
 * What a user hit running the tool again and again (issue 22, section 5):
 * a CI re-run's --report-file is replaced as pytest --junitxml replaces its
 * own (never a capture, never an input), one refusal for an output that is
 * the input, -q on verify printing no report, the HTML verdict's words,
 * and the intact frames before a pcap record with an absurd length.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { ether, hex, ip4, ipv4L4, udp } from '../helpers/wire-build.js';
import { pcapBytes } from '../verify/helpers.js';

const RULE = '10.0.0.0/24=192.168.1.0/24';
const dns = hex('12340100000100000000000003777777076578616d706c6504746573740000010001');
const query = (): Uint8Array => ether(0x0800, ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(2345, 53, dns)));

/** A pcap of three DNS queries from 10.0.0.2 (92 bytes each record with its 16-byte header; 24-byte file header). */
function capture(dir: string, name = 'in.pcap'): string {
  const p = join(dir, name);
  writeFileSync(p, pcapBytes(1, [{ data: query() }, { data: query() }, { data: query() }]));
  return p;
}

describe('--report-file on a re-run', () => {
  it('replaces an existing report without --force, atomically (a new file renamed over it), with exactly the report a first run writes', () => {
    const dir = tempDir();
    const input = capture(dir);
    const report = join(dir, 'verify.xml');
    expect(cli(['verify', input, '--report', 'junit', '--report-file', report]).code).toBe(0);
    const first = readFileSync(report);
    const inode = statSync(report).ino;
    writeFileSync(report, 'the report of an older run\n');
    const again = cli(['verify', input, '--report', 'junit', '--report-file', report]);
    expect([again.code, again.stderr, again.stdout.length]).toEqual([0, '', 0]);
    expect(readFileSync(report).equals(first)).toBe(true);
    expect(statSync(report).ino).not.toBe(inode);
    // rewrite's report file too; its capture output still needs --force.
    const out = join(dir, 'out.pcap');
    const json = join(dir, 'rewrite.json');
    writeFileSync(json, '{}');
    expect(cli([input, out, '-r', RULE, '--report', 'json', '--report-file', json, '-q']).code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).command).toBe('rewrite');
    writeFileSync(json, '{}');
    const refused = cli([input, out, '-r', RULE, '--report', 'json', '--report-file', json]);
    expect([refused.code, refused.stderr]).toEqual([2, `ssnat-rewrite: output ${out} exists; pass --force to replace it\n`]);
    expect(readFileSync(json, 'utf8')).toBe('{}');
  });

  it('never replaces a capture, --force or not: pcap, pcapng, nanosecond, big-endian and gzip-compressed alike, whatever the name', () => {
    const dir = tempDir();
    const input = capture(dir);
    const pcap = readFileSync(input);
    const nanoBig = Buffer.from(pcap);
    nanoBig.writeUInt32BE(0xa1b23c4d, 0);
    const shb = Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex');
    const cases: Array<[string, Uint8Array, string]> = [
      ['report.xml', pcap, 'a pcap capture'],
      ['report.json', nanoBig, 'a pcap capture'],
      ['verify', shb, 'a pcapng capture'],
      ['old.txt', gzipSync(pcap), 'a gzip-compressed pcap capture'],
    ];
    for (const [name, bytes, what] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      for (const force of [[], ['--force']]) {
        const r = cli(['verify', input, '--report', 'json', '--report-file', path, ...force]);
        expect([r.code, r.stderr, r.stdout.length], name).toEqual([2, `ssnat-rewrite: --report-file ${path} holds ${what}: refusing to replace a capture with a report; name another file for the report\n`, 0]);
        expect(Buffer.from(readFileSync(path)).equals(Buffer.from(bytes))).toBe(true);
      }
    }
    // gzip that is not a capture is a file like any other.
    const notCapture = join(dir, 'notes.gz');
    writeFileSync(notCapture, gzipSync('hello'));
    expect(cli(['verify', input, '--report', 'json', '--report-file', notCapture]).code).toBe(0);
    expect(JSON.parse(readFileSync(notCapture, 'utf8')).command).toBe('verify');
  });

  it('an output that is the input gets the one refusal that matters, with --force or without', () => {
    const dir = tempDir();
    const input = capture(dir);
    const before = readFileSync(input);
    for (const force of [[], ['--force']]) {
      const r = cli([input, input, '-r', RULE, ...force]);
      expect([r.code, r.stderr]).toEqual([2, `ssnat-rewrite: output ${input} is the input ${input}: refusing to overwrite what is being read; choose another path\n`]);
      const v = cli(['verify', input, '--annotate', input, ...force]);
      expect([v.code, v.stderr]).toEqual([2, `ssnat-rewrite: --annotate output ${input} is the input ${input}: refusing to overwrite what is being read; choose another path\n`]);
    }
    expect(readFileSync(input).equals(before)).toBe(true);
  });
});

describe('verify -q', () => {
  it('prints no report: the exit code is the answer; --report or --report-file still writes one', () => {
    const dir = tempDir();
    const input = capture(dir);
    const bad = join(dir, 'bad.pcap');
    const f = query();
    f[40] = f[40]! ^ 0xff;
    writeFileSync(bad, pcapBytes(1, [{ data: f }]));
    for (const args of [[input], [bad], [input, bad], [dir]]) {
      const r = cli(['verify', '-q', ...args]);
      expect([r.code, r.stdout.toString(), r.stderr], args.join(' ')).toEqual([args.length === 1 && args[0] === input ? 0 : 1, '', '']);
    }
    const json = cli(['verify', '-q', bad, '--report', 'json']);
    expect([json.code, JSON.parse(json.stdout.toString()).verdict.result, json.stderr]).toEqual([1, 'failed', '']);
    const text = cli(['verify', '-q', input, bad, '--report', 'text']);
    expect(text.stdout.toString().trimEnd().split('\n').pop()).toBe('FAILED: 2 files, 1 ok, 1 failed');
    const file = join(dir, 'r.txt');
    expect(cli(['verify', '-q', bad, '--report-file', file]).stdout.length).toBe(0);
    expect(readFileSync(file, 'utf8').trimEnd().split('\n').pop()).toBe('FAILED: 1 error');
  });

  it('--help says so', () => {
    expect(cli(['verify', '--help']).stdout.toString()).toMatch(/-q, --quiet +print nothing but errors \(verify: no report\s+either, unless --report or --report-file asks\s+for one\)/);
  });
});

describe('the HTML verdict', () => {
  it('says NOT CHECKED, as the text, JUnit and JSON reports say it, when nothing could be checked', () => {
    const dir = tempDir();
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, pcapBytes(1, []));
    const text = cli(['verify', empty]);
    expect(text.stdout.toString().trimEnd().split('\n').pop()).toBe('NOT CHECKED: nothing was checked: the capture holds no packets');
    const html = cli(['verify', empty, '--report', 'html']).stdout.toString();
    expect(html).toContain('<span class="word">NOT CHECKED</span><span class="why">nothing was checked: the capture holds no packets</span>');
    expect(html).toContain('<title>NOT CHECKED: ssnat-rewrite verify');
    expect(html).not.toContain('UNCHECKED');
  });
});

describe('a pcap record with an absurd length', () => {
  it('says which frames before it are intact and the head -c that keeps them, as damage in pcapng does', () => {
    const dir = tempDir();
    const input = capture(dir, "clone's.pcap");
    const bytes = readFileSync(input);
    // The third record's captured length: 24 + 2 * (16 + 78) = 212 is where it starts.
    const third = 24 + 2 * (16 + query().length);
    bytes.writeUInt32LE(0xdeadbeef, third + 8);
    writeFileSync(input, bytes);
    const r = cli(['verify', input]);
    expect(r.code).toBe(3);
    const kept = join(dir, "clone's.intact.pcap");
    expect(r.stderr).toBe(
      `ssnat-rewrite: ${input}: byte offset ${third}, frame 3: pcap record claims 3735928559 captured bytes, more than the limit of 262144 (snaplen 262144; --max-record); the 2 frames before byte offset ${third} are intact: head -c ${third} '${dir}/clone'\\''s.pcap' > '${kept.replace("'", "'\\''")}' keeps them\n`,
    );
    // The rewrite loop's batch walk stops there too, and the message is the same; no output is left.
    const rewritten = cli([input, join(dir, 'out.pcap'), '-r', RULE]);
    expect([rewritten.code, rewritten.stderr]).toEqual([3, r.stderr]);
    expect(existsSync(join(dir, 'out.pcap'))).toBe(false);
    // The command does what it says: the frames before it, whole.
    const intact = bytes.subarray(0, third);
    writeFileSync(kept, intact);
    expect(cli(['verify', kept]).code).toBe(0);
    // A limit the user set is the user's: over it is not damage, and no frame is given up.
    const limited = cli(['verify', capture(dir, 'ok.pcap'), '--max-record', '50']);
    expect([limited.code, limited.stderr]).toEqual([3, `ssnat-rewrite: ${join(dir, 'ok.pcap')}: byte offset 24, frame 1: pcap record claims ${query().length} captured bytes, more than the limit of 50 (snaplen 262144; --max-record)\n`]);
  });
});
