/**
 * Trust at every edge (issue 14): what the CLI does with the paths it
 * writes, with traffic it cannot check, with the exit codes and the words
 * of its errors. Each test here failed on the code before the issue.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, linkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { FAMILIES } from '../../src/report/families.js';
import { BIN, cli, ROOT, tempDir } from '../helpers/cli.js';
import { epb, idb, shb } from '../helpers/pcapng-build.js';
import { ether, hex, ip4, ipv4L4, udp } from '../helpers/wire-build.js';
import { pcapBytes, pcapngBytes } from '../verify/helpers.js';

const RULE = '10.0.0.0/24=192.168.1.0/24';
const dns = hex('12340100000100000000000003777777076578616d706c6504746573740000010001');
const query = (): Uint8Array => ether(0x0800, ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(2345, 53, dns)));

function write(dir: string, name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** A small pcap whose one rewrite is known: three DNS queries from 10.0.0.2. */
function capture(dir: string, name = 'in.pcap'): string {
  return write(dir, name, pcapBytes(1, [{ data: query() }, { data: query() }, { data: query() }]));
}

/** The bytes a plain file-to-file rewrite gives (the reference for the special outputs). */
function reference(input: string): Buffer {
  const out = join(tempDir(), 'ref.pcap');
  expect(cli([input, out, '-r', RULE, '-q']).code).toBe(0);
  return readFileSync(out);
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

/** Device nodes and mounts need root (CI runs as root); elsewhere those tests say why they skip. */
function needsRoot(ctx: TestContext): void {
  if (process.getuid?.() !== 0) ctx.skip('needs root: creates device nodes or mounts a small file system');
}

/** Runs the CLI with stdout going to a file; resolves with the exit code and stderr. */
function cliToFile(args: string[], stdoutPath: string): { code: number | null; stderr: string } {
  const fd = openSync(stdoutPath, 'w');
  try {
    const r = spawnSync(process.execPath, [BIN, ...args], { stdio: ['ignore', fd, 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    return { code: r.status, stderr: r.stderr.toString() };
  } finally {
    closeSync(fd);
  }
}

describe('never destroy a file: special files are written straight through', () => {
  it('/dev/null works as an output, with or without --force, and stays the device it was', () => {
    const input = capture(tempDir());
    const before = statSync('/dev/null');
    for (const force of [[], ['--force']]) {
      const r = cli([input, '/dev/null', '-r', RULE, '-q', ...force]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
    }
    const after = statSync('/dev/null');
    expect(after.isCharacterDevice()).toBe(true);
    expect([after.ino, after.rdev]).toEqual([before.ino, before.rdev]);
  });

  it('a character device made with mknod is written through, never replaced', (ctx) => {
    needsRoot(ctx);
    const dir = tempDir();
    const input = capture(dir);
    const dev = join(dir, 'null-again');
    execFileSync('mknod', [dev, 'c', '1', '3']);
    const ino = statSync(dev).ino;
    expect(cli([input, dev, '-r', RULE, '-q', '--force']).code).toBe(0);
    expect(lstatSync(dev).isCharacterDevice()).toBe(true);
    expect(lstatSync(dev).ino).toBe(ino);
    expect(readdirSync(dir).sort()).toEqual(['in.pcap', 'null-again']);
  });

  it('a block device is refused, and left as it was', (ctx) => {
    needsRoot(ctx);
    const dir = tempDir();
    const input = capture(dir);
    const blk = join(dir, 'disk');
    execFileSync('mknod', [blk, 'b', '7', '200']);
    const r = cli([input, blk, '-r', RULE, '--force']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`ssnat-rewrite: output ${blk} is a block device: refusing to write a capture or a report onto a disk`);
    expect(lstatSync(blk).isBlockDevice()).toBe(true);
  });

  it('/dev/stdout redirected to a file is written there, without --force', () => {
    const dir = tempDir();
    const input = capture(dir);
    const out = join(dir, 'redirected.pcap');
    const r = cliToFile([input, '/dev/stdout', '-r', RULE, '-q'], out);
    expect(r).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(out).equals(reference(input))).toBe(true);
  });

  it('a symbolic link to /proc/self/fd/1 stays a link, and the bytes go to stdout', () => {
    const dir = tempDir();
    const input = capture(dir);
    const link = join(dir, 'to-stdout');
    symlinkSync('/proc/self/fd/1', link);
    const out = join(dir, 'redirected.pcap');
    expect(cliToFile([input, link, '-r', RULE, '-q', '--force'], out)).toEqual({ code: 0, stderr: '' });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('/proc/self/fd/1');
    expect(readFileSync(out).equals(reference(input))).toBe(true);
  });

  it('a FIFO is written through to its reader and stays a FIFO', async () => {
    const dir = tempDir();
    const input = capture(dir);
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    reader.stdout.on('data', (c: Buffer) => chunks.push(c));
    const readerDone = new Promise<void>((resolve) => reader.on('close', () => resolve()));
    const r = spawnSync(process.execPath, [BIN, input, fifo, '-r', RULE, '-q'], { encoding: 'utf8' });
    await readerDone;
    expect(r.status).toBe(0);
    expect(Buffer.concat(chunks).equals(reference(input))).toBe(true);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it('a Unix socket is connected to and written through', async () => {
    const dir = tempDir();
    const input = capture(dir);
    const path = join(dir, 'sock');
    const chunks: Buffer[] = [];
    let ended = (): void => undefined;
    const got = new Promise<void>((resolve) => (ended = resolve));
    const server = createServer((s) => {
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', ended);
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const child = spawn(process.execPath, [BIN, input, path, '-r', RULE, '-q'], { stdio: 'ignore' });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      await got;
      expect(code).toBe(0);
      expect(Buffer.concat(chunks).equals(reference(input))).toBe(true);
      expect(lstatSync(path).isSocket()).toBe(true);
    } finally {
      server.close();
    }
  });

  it('a symbolic link to a file stays a link: its target is replaced, atomically, beside the target', () => {
    const dir = tempDir();
    const input = capture(dir);
    mkdirSync(join(dir, 'real'));
    const target = write(join(dir, 'real'), 'target.pcap', 'old contents');
    const link = join(dir, 'link.pcap');
    symlinkSync('real/target.pcap', link);
    const refused = cli([input, link, '-r', RULE]);
    expect(refused.code).toBe(2);
    expect(oneLine(refused.stderr)).toBe(`ssnat-rewrite: output ${link} exists; pass --force to replace it`);
    expect(cli([input, link, '-r', RULE, '-q', '--force']).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('real/target.pcap');
    expect(readFileSync(target).equals(reference(input))).toBe(true);
    expect(readdirSync(join(dir, 'real'))).toEqual(['target.pcap']);
  });

  it('a dangling symbolic link: its target is created, the link kept', () => {
    const dir = tempDir();
    const input = capture(dir);
    const link = join(dir, 'link.pcap');
    symlinkSync('made.pcap', link);
    expect(cli([input, link, '-r', RULE, '-q']).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'made.pcap')).equals(reference(input))).toBe(true);
  });
});

describe('never destroy a file: every path written is checked against the input and the other outputs', () => {
  it('--report-file naming the input is refused, with --force or without, by the one line that matters; the input is untouched', () => {
    const dir = tempDir();
    const input = capture(dir);
    const before = readFileSync(input);
    for (const force of [[], ['--force']]) {
      const r = cli(['verify', input, '--report', 'json', '--report-file', input, ...force]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`ssnat-rewrite: --report-file ${input} is the input ${input}: refusing to overwrite what is being read; choose another path\n`);
      expect(readFileSync(input).equals(before)).toBe(true);
    }
  });

  it('--report-file naming the capture output, or --annotate naming the report file, is refused', () => {
    const dir = tempDir();
    const input = capture(dir);
    const out = join(dir, 'out.pcap');
    const r = cli([input, out, '-r', RULE, '--report', 'json', '--report-file', out]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(`ssnat-rewrite: --report-file ${out} and output ${out} are the same file: give each output its own path`);
    const v = cli(['verify', input, '--annotate', join(dir, 'a.pcapng'), '--report-file', join(dir, 'sub/../a.pcapng')]);
    expect(v.code).toBe(2);
    expect(oneLine(v.stderr)).toBe(`ssnat-rewrite: --report-file ${join(dir, 'sub/../a.pcapng')} and --annotate output ${join(dir, 'a.pcapng')} are the same file: give each output its own path`);
    expect(readdirSync(dir)).toEqual(['in.pcap']);
  });

  it('an output that is the input through a hard link or a symbolic link is refused, --force or not', () => {
    const dir = tempDir();
    const input = capture(dir);
    linkSync(input, join(dir, 'hard.pcap'));
    symlinkSync(input, join(dir, 'sym.json'));
    const a = cli([input, join(dir, 'hard.pcap'), '-r', RULE, '--force']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('is the input');
    const b = cli(['verify', input, '--report', 'json', '--report-file', join(dir, 'sym.json'), '--force']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('is the input');
  });

  it('standard input redirected from the output file is refused', () => {
    const dir = tempDir();
    const input = capture(dir);
    const r = spawnSync(process.execPath, [BIN, '-', input, '-r', RULE, '--force'], { stdio: [openSync(input, 'r'), 'pipe', 'pipe'] });
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toBe(`ssnat-rewrite: output ${input} is standard input: refusing to overwrite what is being read; choose another path\n`);
  });

  it('an existing report file is replaced without --force (a CI re-run), atomically (no temporary file left)', () => {
    const dir = tempDir();
    const input = capture(dir);
    const report = write(dir, 'report.json', 'an older report');
    expect(cli(['verify', input, '--report', 'json', '--report-file', report]).code).toBe(0);
    expect(JSON.parse(readFileSync(report, 'utf8')).summary.packets).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(['in.pcap', 'report.json']);
  });

  it('a run that fails on bad input leaves neither its capture nor its report behind', () => {
    const dir = tempDir();
    // A pcap header of version 1.4, which no reader accepts.
    const bad = write(dir, 'bad.pcap', hex('d4c3b2a1010004000000000000000000ffff000001000000'));
    const r = cli([bad, join(dir, 'out.pcap'), '-r', RULE, '--report', 'json', '--report-file', join(dir, 'r.json')]);
    expect(r.code).toBe(3);
    expect(readdirSync(dir)).toEqual(['bad.pcap']);
  });
});

describe('never destroy a file: an impossible scope fails before the first byte on stdout', () => {
  it('stdin to stdout with a rule scoped to an interface a pcap cannot have: exit 2, nothing written', () => {
    const input = readFileSync(capture(tempDir()));
    for (const scope of ['@tap1', '@#1']) {
      const r = cli(['-', '-', '-r', `${RULE}${scope}`], input);
      expect(r.code).toBe(2);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr.split('\n')[0]).toBe(`ssnat-rewrite: rule "${RULE}${scope}" names an interface the capture does not have before its first packet (it has: #0)`);
    }
    expect(cli(['-', '-', '-r', `${RULE}@#0`], input).stdout.length).toBe(input.length);
  });

  it('the same with a pcapng on stdin: the interfaces described before the first packet decide', () => {
    const input = pcapngBytes(2, [{ data: query(), iface: 0 }, { data: query(), iface: 1 }]);
    const r = cli(['-', '-', '-r', `${RULE}@tap7`], input);
    expect(r.code).toBe(2);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toContain('(it has: tap0 (#0), tap1 (#1)); an output that cannot be taken back (stdout, a FIFO) cannot wait for interfaces described later: write to a file to allow them');
    expect(cli(['-', '-', '-r', `${RULE}@tap1`, '-q'], input).code).toBe(0);
  });
});

describe('never call unchecked traffic OK', () => {
  /** A pcap of link type 147 (USER0): ssnat-rewrite decodes none of it. */
  const user0 = (): Uint8Array => pcapBytes(147, [{ data: query() }, { data: query() }]);

  it('a link type that is not decoded: one warning with the count, "NOT CHECKED", and --strict fails', () => {
    const dir = tempDir();
    const input = write(dir, 'user0.pcap', user0());
    const text = cli(['verify', input]);
    expect(text.code).toBe(0);
    const out = text.stdout.toString();
    expect(out).toContain('warning capture.unsupported-link (1)\n  frame 1 if 0: 2 packet(s) on interface 0 have link type 147 (USER0), which ssnat-rewrite does not decode: nothing in them was checked; they pass unchanged');
    expect(out.trimEnd().split('\n').pop()).toBe('NOT CHECKED: nothing was checked: none of the 2 packets could be checked (see the warnings)');
    expect(out).not.toMatch(/^OK/m);
    const strict = cli(['verify', input, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout.toString().trimEnd().split('\n').pop()).toBe('FAILED: 1 warning, which fail the run with --strict');
    const json = JSON.parse(cli(['verify', input, '--report', 'json']).stdout.toString());
    expect(json.summary.unchecked).toBe(2);
    expect(json.verdict).toEqual({ result: 'unchecked', exitCode: 0, strict: false, why: 'nothing was checked: none of the 2 packets could be checked (see the warnings)' });
    const junit = cli(['verify', input, '--report', 'junit']).stdout.toString();
    expect(junit).toContain(`<testsuites name="ssnat-rewrite" tests="${FAMILIES.length}" failures="0" skipped="${FAMILIES.length}">`);
    expect(junit).toContain('<skipped message="nothing was checked: none of the 2 packets could be checked (see the warnings)"/>');
  });

  it('packets that hold no IP or ARP (LLDP): "NOT CHECKED", and the line says why, with no warning to point at', () => {
    const dir = tempDir();
    const lldp = Uint8Array.from([...new Array<number>(6).fill(1), 2, 0, 0, 0, 0, 1, 0x88, 0xcc, 2, 7, 4, ...new Array<number>(40).fill(0)]);
    const input = write(dir, 'lldp.pcap', pcapBytes(1, [{ data: lldp }, { data: lldp }]));
    const json = JSON.parse(cli(['verify', input, '--report', 'json']).stdout.toString());
    expect(json.summary).toMatchObject({ packets: 2, unchecked: 2, warnings: 0 });
    expect(json.verdict).toEqual({ result: 'unchecked', exitCode: 0, strict: false, why: 'nothing was checked: none of the 2 packets could be checked (none holds IPv4, IPv6 or ARP, which the checks look at)' });
  });

  it('rewrite says so too: the packets of that interface passed unchanged', () => {
    const dir = tempDir();
    const input = write(dir, 'user0.pcap', user0());
    const r = cli([input, join(dir, 'o.pcap'), '-r', RULE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: frame 1: capture.unsupported-link: 2 packet(s) on interface 0 have link type 147 (USER0), which ssnat-rewrite does not decode: nothing in them was checked or translated; they pass unchanged');
    expect(cli([input, join(dir, 'p.pcap'), '-r', RULE, '--strict', '-q']).code).toBe(1);
  });

  it('interfaces interleaved: the count and the first frame of the one not decoded, the same from rewrite and verify', () => {
    const dir = tempDir();
    // Frames 1-6 on interfaces 0 (Ethernet), 1 (USER0), 1, 0, 1, 0: interface 1 has 3 packets, from frame 2.
    const on = [0, 1, 1, 0, 1, 0];
    const input = write(dir, 'mixed.pcapng', Buffer.concat([shb(true), idb('eth0', true), idb('user0', true, 147), ...on.map((i, t) => epb(i, query(), true, t))]));
    const line = '2: capture.unsupported-link: 3 packet(s) on interface 1 (user0) have link type 147 (USER0), which ssnat-rewrite does not decode: nothing in them was checked';
    const r = cli([input, join(dir, 'o.pcapng'), '-r', RULE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: frame ${line} or translated; they pass unchanged`);
    const json = JSON.parse(cli(['verify', input, '--report', 'json']).stdout.toString());
    expect(json.findings.filter((f: { check: string }) => f.check === 'capture.unsupported-link')).toEqual([
      { frame: 2, interface: 1, check: 'capture.unsupported-link', severity: 'warning', message: line.slice(line.indexOf('3 packet')) + '; they pass unchanged' },
    ]);
  });

  it('PPI around a link type not decoded: counted per interface and said, in every path of rewrite and in verify', () => {
    const dir = tempDir();
    /** A PPI header (version 0, no fields) naming link type `dlt`, then the frame. */
    const ppi = (dlt: number, frame: Uint8Array): Uint8Array => {
      const h = Buffer.alloc(8);
      h.writeUInt16LE(8, 2);
      h.writeUInt32LE(dlt, 4);
      return Buffer.concat([h, frame]);
    };
    const ipOnly = query().subarray(14);
    // Frame 1: PPI around Ethernet (decoded); 2 and 3 around raw IP; 4 around Linux SLL; 5 around Ethernet again.
    const frames = [ppi(1, query()), ppi(101, ipOnly), ppi(101, ipOnly), ppi(113, ipOnly), ppi(1, query())];
    const input = write(dir, 'ppi.pcap', pcapBytes(192, frames.map((data) => ({ data }))));
    const message = '3 packet(s) on interface 0 have PPI headers around link type 101 (raw IP) and other link types, which ssnat-rewrite does not decode: nothing in them was checked';

    const json = JSON.parse(cli(['verify', input, '--report', 'json']).stdout.toString());
    expect(json.summary).toMatchObject({ packets: 5, unchecked: 3, undecodable: 0, warnings: 1 });
    expect(json.findings).toEqual([{ frame: 2, interface: 0, check: 'capture.unsupported-link', severity: 'warning', message: `${message}; they pass unchanged` }]);
    expect(json.verdict.why).toBe('2 packets checked, no errors, 1 warning; 3 packets could not be checked');

    // The batch loop, the parallel pool (every task's packets not decoded go back to the main thread), the
    // record-by-record loop (a conversion to pcapng) and the full loop (--annotate).
    const line = `warning: frame 2: capture.unsupported-link: ${message} or translated; they pass unchanged`;
    const outputs: Buffer[] = [];
    for (const extra of [[], ['--jobs', '2'], ['--format', 'pcapng'], ['--annotate']]) {
      const out = join(dir, `out${outputs.length}.${extra[0] === '--annotate' || extra[0] === '--format' ? 'pcapng' : 'pcap'}`);
      const r = cli([input, out, '-r', RULE, ...extra]);
      expect(r.code).toBe(0);
      expect(r.stderr.split('\n')).toContain(line);
      outputs.push(readFileSync(out));
    }
    expect(outputs[1]!.equals(outputs[0]!)).toBe(true);
    // Frames 2-4 pass unchanged; 1 and 5 are translated.
    const before = Buffer.from(readFileSync(input));
    const rewritten = outputs[0]!;
    expect(rewritten.length).toBe(before.length);
    let at = 24;
    for (const [i, f] of frames.entries()) {
      const data = (b: Buffer): Buffer => b.subarray(at + 16, at + 16 + f.length);
      expect(data(rewritten).equals(data(before))).toBe(i >= 1 && i <= 3);
      at += 16 + f.length;
    }
  });

  it('an empty capture is not OK either', () => {
    const input = write(tempDir(), 'empty.pcap', pcapBytes(1, []));
    const r = cli(['verify', input]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString().trimEnd().split('\n').pop()).toBe('NOT CHECKED: nothing was checked: the capture holds no packets');
    expect(cli(['verify', input, '--strict']).code).toBe(1);
  });

  it('--strict: warnings fail in every report format, as the exit code says', () => {
    const dir = tempDir();
    const warn = write(dir, 'warn.pcapng', pcapngBytes(2, [{ data: query(), iface: 0 }, { data: query(), iface: 1 }]));
    const text = cli(['verify', warn, '--strict']);
    expect(text.code).toBe(1);
    expect(text.stdout.toString().trimEnd().split('\n').pop()).toBe('FAILED: 1 warning, which fail the run with --strict');
    const junit = cli(['verify', warn, '--strict', '--report', 'junit']);
    expect(junit.code).toBe(1);
    const xml = junit.stdout.toString();
    expect(xml).toContain(`<testsuites name="ssnat-rewrite" tests="${FAMILIES.length}" failures="1" skipped="0">`);
    expect(xml).toMatch(/<testcase [^>]*name="flow">\s*<failure message="0 error\(s\) and 1 warning\(s\) \(--strict\) in flow checks" type="flow">warning: frame 2 \(interface 1\): flow.collision/);
    const json = JSON.parse(cli(['verify', warn, '--strict', '--report', 'json']).stdout.toString());
    expect(json.verdict).toEqual({ result: 'failed', exitCode: 1, strict: true, why: '1 warning, which fail the run with --strict' });
    // Without --strict the same capture passes, and every format says so.
    expect(cli(['verify', warn]).stdout.toString().trimEnd().split('\n').pop()).toBe('OK: 2 packets checked, no errors, 1 warning');
    expect(cli(['verify', warn, '--report', 'junit']).stdout.toString()).toContain('failures="0"');
  });
});

describe('exit 4: an output that could not be written, named, with the reason in words', () => {
  it('a missing output directory', () => {
    const dir = tempDir();
    const input = capture(dir);
    const out = join(dir, 'no/such/dir/out.pcap');
    const r = cli([input, out, '-r', RULE]);
    expect(r.code).toBe(4);
    expect(oneLine(r.stderr)).toBe(`ssnat-rewrite: cannot write output ${out}: directory ${join(dir, 'no/such/dir')} does not exist; create it first`);
    const rep = cli(['verify', input, '--report', 'json', '--report-file', join(dir, 'gone/r.json')]);
    expect(rep.code).toBe(4);
    expect(oneLine(rep.stderr)).toBe(`ssnat-rewrite: cannot write --report-file ${join(dir, 'gone/r.json')}: directory ${join(dir, 'gone')} does not exist; create it first`);
  });

  it('a full device: the capture output and the report file alike (/dev/full)', () => {
    const input = capture(tempDir());
    const a = cli([input, '/dev/full', '-r', RULE]);
    expect(a.code).toBe(4);
    expect(oneLine(a.stderr)).toBe('ssnat-rewrite: cannot write output /dev/full: no space left on device');
    const b = cli(['verify', input, '--report', 'json', '--report-file', '/dev/full']);
    expect(b.code).toBe(4);
    expect(oneLine(b.stderr)).toBe('ssnat-rewrite: cannot write --report-file /dev/full: no space left on device');
  });

  it('a full file system and a read-only one leave nothing behind', (ctx) => {
    needsRoot(ctx);
    const dir = tempDir();
    const input = write(dir, 'big.pcap', pcapBytes(1, Array.from({ length: 2000 }, () => ({ data: query() }))));
    const full = join(dir, 'full');
    const ro = join(dir, 'ro');
    mkdirSync(full);
    mkdirSync(ro);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', full]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=16k', 'tmpfs', ro]);
    try {
      const a = cli([input, join(full, 'out.pcap'), '-r', RULE]);
      expect(a.code).toBe(4);
      expect(oneLine(a.stderr)).toBe(`ssnat-rewrite: cannot write output ${join(full, 'out.pcap')}: no space left on device`);
      expect(readdirSync(full)).toEqual([]);
      // A report larger than the room left: no 0-byte report.
      const b = cli(['verify', input, '--report', 'json', '--report-file', join(full, 'r.json'), '--rule', RULE]);
      expect(b.code).toBe(4);
      expect(oneLine(b.stderr)).toBe(`ssnat-rewrite: cannot write --report-file ${join(full, 'r.json')}: no space left on device`);
      expect(readdirSync(full)).toEqual([]);
      const c = cli([input, join(ro, 'out.pcap'), '-r', RULE]);
      expect(c.code).toBe(4);
      expect(oneLine(c.stderr)).toBe(`ssnat-rewrite: cannot write output ${join(ro, 'out.pcap')}: directory ${ro}: read-only file system`);
    } finally {
      execFileSync('umount', [full]);
      execFileSync('umount', [ro]);
    }
  });
});

describe('messages that say what to do', () => {
  const dir = tempDir();
  const input = capture(dir);
  const cases: Array<[string, string[], number, string]> = [
    ['a directory as input', [dir, join(dir, 'o.pcap'), '-r', RULE], 2, `ssnat-rewrite: input ${dir} is a directory: give a capture file, or rewrite every capture in it with --out-dir DIR`],
    ['a missing rules file', [input, join(dir, 'o.pcap'), '--rules-file', join(dir, 'nope.rules')], 2, `ssnat-rewrite: rules file ${join(dir, 'nope.rules')}: no such file or directory`],
    ['an empty rules file', [input, join(dir, 'o.pcap'), '--rules-file', write(dir, 'empty.rules', '# nothing yet\n\n')], 2, `ssnat-rewrite: rules file ${join(dir, 'empty.rules')} has no rules (only blank lines and # comments)`],
    ['a capture as the rules file', [input, join(dir, 'o.pcap'), '--rules-file', input], 2, `ssnat-rewrite: rules file ${input} holds a pcap capture, not rules: give a text file with one rule per line`],
    ...(
      [
        ['a big-endian nanosecond pcap', 'a1b23c4d00020004', 'a pcap capture'],
        ['a pcapng', '0a0d0d0a1c0000004d3c2b1a', 'a pcapng capture'],
        ['gzip data', '1f8b0800', 'gzip data'],
        ['binary data', '00414243', 'binary data'],
      ] as const
    ).map(([what, hex, holds]): [string, string[], number, string] => {
      const file = write(dir, `${what.replaceAll(' ', '-')}.rules`, Buffer.from(hex, 'hex'));
      return [`${what} as the rules file`, [input, join(dir, 'o.pcap'), '--rules-file', file], 2, `ssnat-rewrite: rules file ${file} holds ${holds}, not rules: give a text file with one rule per line`];
    }),
    ['a directory as output', [input, dir, '-r', RULE, '--force'], 2, `ssnat-rewrite: output ${dir} is a directory: give a file name (or --out-dir DIR for many inputs)`],
    ['an option where a rule belongs', [input, join(dir, 'o.pcap'), '-r', '--force'], 2, "ssnat-rewrite: option '-r, --rule <rule>' argument '--force' is invalid. expected a rule (GUEST=HOST[@IFACE]), got the option --force"],
    ['an option where a file name belongs', ['verify', input, '--report-file', '--strict'], 2, "ssnat-rewrite: option '--report-file <file>' argument '--strict' is invalid. expected a file name, got the option --strict"],
    ['a misspelt command', ['verfy', input], 2, "ssnat-rewrite: verfy: no such file or command; did you mean the command 'verify'? (ssnat-rewrite verify ...)"],
  ];
  it.each(cases)('%s', (_what, args, code, line) => {
    const r = cli(args);
    expect(r.code).toBe(code);
    expect(r.stderr.split('\n')[0]).toBe(line);
    expect(r.stderr).not.toMatch(/^error:/m);
  });

  it('"=" forgotten between the two networks: the caret points at what is there instead', () => {
    const r = cli([input, join(dir, 'o.pcap'), '-r', '10.0.0.0/24-192.168.1.0/24']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'ssnat-rewrite: rule "10.0.0.0/24-192.168.1.0/24": expected "=" between the guest and the host network: did you mean 10.0.0.0/24=192.168.1.0/24?\n  10.0.0.0/24-192.168.1.0/24\n             ^\n',
    );
  });

  it('--help lists exit codes 4 and 70, and 130 and 143', () => {
    for (const args of [['--help'], ['verify', '--help']]) {
      expect(cli(args).stdout.toString().replace(/\s+/g, ' ')).toContain(
        "4 an output could not be written, 70 a bug (an internal error; the message asks for a report), 130, 143 interrupted by SIGINT or SIGTERM (no output is left behind on 3, 4, 130 or 143, but for an --out-dir run's outputs finished before the signal: kept whole, and --skip-existing resumes).",
      );
    }
  });
});

describe('formats as editcap and tshark users expect', () => {
  it('the README example: tcpdump (pcap) | ssnat-rewrite - - --annotate gives pcapng, and says so once', () => {
    const input = readFileSync(capture(tempDir()));
    const r = cli(['-', '-', '--annotate', '-r', RULE], input);
    expect(r.code).toBe(0);
    expect(r.stdout.readUInt32LE(0)).toBe(0x0a0d0d0a);
    expect(r.stderr.split('\n').filter((l) => l.includes('note:'))).toEqual(['ssnat-rewrite: note: the input is pcap, which cannot hold comments: the output is written as pcapng']);
  });

  it('without --format the output name decides, with a note on the conversion and on what pcap cannot hold', () => {
    const dir = tempDir();
    const ng = write(dir, 'in.pcapng', pcapngBytes(2, [{ data: query(), iface: 0 }, { data: query(), iface: 1 }]));
    const r = cli([ng, join(dir, 'out.pcap'), '-r', RULE]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'out.pcap')).readUInt32LE(0)).toBe(0xa1b2c3d4);
    const notes = r.stderr.split('\n').filter((l) => l.includes('note:'));
    expect(notes).toEqual([
      `ssnat-rewrite: note: writing pcap, as the name ${join(dir, 'out.pcap')} says; the input is pcapng (--format same keeps it)`,
      'ssnat-rewrite: note: pcap has no place for the interface name(s) tap0, tap1: they are left out (keep pcapng to keep them)',
    ]);
    const back = cli([join(dir, 'out.pcap'), join(dir, 'again.cap.pcapng'), '-r', RULE]);
    expect(back.code).toBe(0);
    expect(readFileSync(join(dir, 'again.cap.pcapng')).readUInt32LE(0)).toBe(0x0a0d0d0a);
    expect(cli([ng, join(dir, 'same.cap'), '-r', RULE, '--format', 'same', '-q']).code).toBe(0);
    expect(readFileSync(join(dir, 'same.cap')).readUInt32LE(0)).toBe(0x0a0d0d0a);
  });

  it('verify --annotate x.pcap writes pcapng (comments need it) and says so', () => {
    const dir = tempDir();
    const warn = write(dir, 'warn.pcapng', pcapngBytes(2, [{ data: query(), iface: 0 }, { data: query(), iface: 1 }]));
    const r = cli(['verify', warn, '--annotate', join(dir, 'x.pcap'), '--report-file', join(dir, 'r.txt')]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'x.pcap')).readUInt32LE(0)).toBe(0x0a0d0d0a);
    expect(r.stderr).toBe(`ssnat-rewrite: note: comments need pcapng: the --annotate output ${join(dir, 'x.pcap')} is written as pcapng, though its name says pcap (Wireshark reads it by its content; name it .pcapng)\n`);
  });
});

describe('interface ids are Wireshark\'s frame.interface_id, in multi-section pcapng too', () => {
  it('two sections with two interfaces each: ids 0 and 1 in both, and @#1 scopes tap1 in both', () => {
    const dir = tempDir();
    const one = pcapngBytes(2, [{ data: query(), iface: 0 }, { data: query(), iface: 1 }]);
    const twice = write(dir, 'twice.pcapng', Buffer.concat([one, one]));
    const json = JSON.parse(cli(['verify', twice, '--report', 'json', '-r', RULE]).stdout.toString());
    expect(json.input.interfaces).toEqual([
      { id: 0, name: 'tap0', linkType: 1 },
      { id: 1, name: 'tap1', linkType: 1 },
    ]);
    // One addr.untranslated per frame (its source): frames 1..4 on interfaces 0, 1, 0, 1.
    const leaks = json.findings.filter((f: { check: string; message: string }) => f.check === 'addr.untranslated' && f.message.startsWith('IPv4 source'));
    expect(leaks.map((f: { frame: number; interface: number }) => [f.frame, f.interface])).toEqual([[1, 0], [2, 1], [3, 0], [4, 1]]);
    const out = join(dir, 'out.pcapng');
    const r = cli([twice, out, '-r', `${RULE}@#1`, '--report', 'json', '-q']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.toString()).summary.rewritten).toBe(2);
  });
});

describe('gzip-compressed captures, in and out', () => {
  const gz = (b: Uint8Array): Buffer => gzipSync(b);

  it('verify and rewrite read x.pcap.gz as they read x.pcap, from a file and from stdin', () => {
    const dir = tempDir();
    const plain = capture(dir);
    const packed = write(dir, 'in.pcap.gz', gz(readFileSync(plain)));
    const a = JSON.parse(cli(['verify', plain, '--report', 'json', '-r', RULE]).stdout.toString());
    const b = JSON.parse(cli(['verify', packed, '--report', 'json', '-r', RULE]).stdout.toString());
    expect({ ...b, input: { ...b.input, path: plain } }).toEqual(a);
    expect(cli([packed, join(dir, 'out.pcap'), '-r', RULE, '-q']).code).toBe(0);
    expect(readFileSync(join(dir, 'out.pcap')).equals(reference(plain))).toBe(true);
    const piped = cli(['-', '-', '-r', RULE, '-q'], readFileSync(packed));
    expect(piped.code).toBe(0);
    expect(piped.stdout.equals(reference(plain))).toBe(true);
  });

  it('an output named .gz is written compressed, and inflates to the plain output', () => {
    const dir = tempDir();
    const plain = capture(dir);
    const out = join(dir, 'out.pcapng.gz');
    const r = cli([plain, out, '-r', RULE, '--format', 'pcapng', '-q']);
    expect(r.code).toBe(0);
    const packed = readFileSync(out);
    expect([packed[0], packed[1]]).toEqual([0x1f, 0x8b]);
    const ref = join(dir, 'ref.pcapng');
    expect(cli([plain, ref, '-r', RULE, '-q']).code).toBe(0);
    expect(gunzipSync(packed).equals(readFileSync(ref))).toBe(true);
  });

  it('a gzip stream cut short keeps every complete record and warns; damaged gzip data is bad input', () => {
    const dir = tempDir();
    const frame = (i: number): Uint8Array => ether(0x0800, ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(1000 + i, 53, hex(i.toString(16).padStart(64, '0')))));
    const many = write(dir, 'many.pcap', pcapBytes(1, Array.from({ length: 400 }, (_, i) => ({ data: frame(i) }))));
    const packed = gz(readFileSync(many));
    const cut = write(dir, 'cut.pcap.gz', packed.subarray(0, packed.length >> 1));
    const r = cli(['verify', cut, '--report', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout.toString());
    expect(j.summary.packets).toBeGreaterThan(10);
    expect(j.summary.packets).toBeLessThan(400);
    const tail = j.findings.filter((f: { check: string }) => f.check === 'capture.truncated-tail');
    expect(tail).toHaveLength(1);
    expect(tail[0].message).toMatch(/^the input ends inside a record at inflated byte offset \d+, after frame \d+ \(\d+ of \d+ bytes there\) \(the gzip stream is cut short after \d+ compressed bytes\); every complete record before it is kept$/);
    expect(cli(['verify', cut, '--strict']).code).toBe(1);
    const damaged = Buffer.from(packed);
    damaged.fill(0x55, 20, 60);
    const bad = write(dir, 'bad.pcap.gz', damaged);
    const b = cli(['verify', bad]);
    expect(b.code).toBe(3);
    expect(oneLine(b.stderr)).toMatch(new RegExp(`^ssnat-rewrite: ${bad}: the gzip data is damaged after \\d+ compressed bytes: `));
  });
});

describe('rules that match nothing are named, with a hint', () => {
  const host = join(ROOT, 'fixtures/golden/ssnat/host.pcapng');
  const guest = join(ROOT, 'fixtures/golden/ssnat/guest1.pcapng');
  const TAP1 = '10.0.0.0/24=192.168.11.0/24';
  const NONE = '172.16.0.0/16=10.99.0.0/16';

  it('rewrite: each rule that matched nothing gets a line, with the other direction when it would have matched', () => {
    const r = cli([host, join(tempDir(), 'o.pcapng'), '-r', TAP1, '-r', NONE]);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').slice(0, 2)).toEqual([
      `ssnat-rewrite: warning: rule "${TAP1}" matched no address; the other way it matches 40 address(es): did you mean -d host-to-guest?`,
      `ssnat-rewrite: warning: rule "${NONE}" matched no address`,
    ]);
    // From stdin the input cannot be read again for the hint: the line alone.
    const piped = cli(['-', join(tempDir(), 'p.pcapng'), '-r', TAP1], readFileSync(host));
    expect(piped.stderr.split('\n')[0]).toBe(`ssnat-rewrite: warning: rule "${TAP1}" matched no address`);
    // Said once, even with -q; a warning, so --strict fails on it.
    expect(cli([host, join(tempDir(), 'q.pcapng'), '-r', TAP1, '-q']).stderr).toBe(
      `ssnat-rewrite: warning: rule "${TAP1}" matched no address; the other way it matches 40 address(es): did you mean -d host-to-guest?\n`,
    );
    const strict = cli([host, join(tempDir(), 's.pcapng'), '-r', TAP1, '-q', '--strict']);
    expect(strict.code).toBe(1);
    // Turned off, it is neither said nor failing.
    const off = cli([host, join(tempDir(), 'i.pcapng'), '-r', TAP1, '-q', '--strict', '--ignore', 'rule.unmatched']);
    expect([off.code, off.stderr.toString()]).toEqual([0, '']);
    const json = JSON.parse(cli([host, join(tempDir(), 'j.pcapng'), '-r', TAP1, '-r', NONE, '-q', '--report', 'json']).stdout.toString());
    expect(json.findings.filter((f: { check: string }) => f.check === 'rule.unmatched').map((f: { frame: number; interface: number; severity: string; message: string }) => [f.frame, f.interface, f.severity, f.message])).toEqual([
      [0, -1, 'warning', `rule "${TAP1}" matched no address: it rewrote nothing`],
      [0, -1, 'warning', `rule "${NONE}" matched no address: it rewrote nothing`],
    ]);
    expect(json.summary.warnings).toBe(2);
  });

  it('the JSON report counts the addresses of each rule: rewritten by rewrite, left untranslated for verify', () => {
    const rw = JSON.parse(cli([guest, join(tempDir(), 'o.pcapng'), '-r', TAP1, '-r', 'fd00::/64=fd00:11::/64', '-r', NONE, '--report', 'json', '-q']).stdout.toString());
    expect(rw.ruleHits).toEqual([
      { rule: TAP1, addresses: 38 },
      { rule: 'fd00::/64=fd00:11::/64', addresses: 19 },
      { rule: NONE, addresses: 0 },
    ]);
    expect(Object.keys(rw).indexOf('ruleHits')).toBe(Object.keys(rw).indexOf('rules') + 1);
    const v = JSON.parse(cli(['verify', guest, '-r', TAP1, '--report', 'json']).stdout.toString());
    expect(v.ruleHits).toEqual([{ rule: TAP1, addresses: 38 }]);
    expect(v.findings.filter((f: { check: string }) => f.check === 'addr.untranslated')).toHaveLength(38);
    expect(JSON.parse(cli(['verify', guest, '--report', 'json']).stdout.toString()).ruleHits).toBeUndefined();
    // A guest-side capture checked with -d host-to-guest: what is left behind is a host-side address, and said so.
    const back = JSON.parse(cli(['verify', host, '-d', 'host-to-guest', '-r', '10.0.0.0/24=192.168.10.0/24@tap0', '--report', 'json']).stdout.toString());
    expect(back.findings.find((f: { check: string }) => f.check === 'addr.untranslated').message).toBe(
      'ARP sender 192.168.10.2 is a host-side address: rule 10.0.0.0/24=192.168.10.0/24@tap0 maps it to 10.0.0.2',
    );
  });
});

describe('finding times', () => {
  it('an undecodable packet has the same time in rewrite (batch path, one thread and many) and in verify', () => {
    const dir = tempDir();
    const raw = hex('5000001400000000400100000a0000020a000001'); // raw IP whose header length is impossible
    const frames = [{ data: query(), time: 1700000000.25 }, { data: ether(0x0800, raw), time: 1700000001.123456 }, { data: query(), time: 1700000002 }];
    for (const [name, bytes] of [
      ['u.pcap', pcapBytes(1, frames)],
      ['u.pcapng', pcapngBytes(1, frames)],
    ] as const) {
      const input = write(dir, name, bytes);
      const times = (args: string[]): unknown[] => JSON.parse(cli(args).stdout.toString()).findings.map((f: { frame: number; time: number }) => [f.frame, f.time]);
      const expected = [[2, 1700000001.123456]];
      expect(times(['verify', input, '--report', 'json'])).toEqual(expected);
      expect(times([input, join(dir, `o-${name}`), '-r', RULE, '--report', 'json', '-q', '--force'])).toEqual(expected);
      expect(times([input, join(dir, `p-${name}`), '-r', RULE, '--report', 'json', '-q', '--force', '--jobs', '2'])).toEqual(expected);
    }
  });
});

describe('a finding on every packet: counted exactly, listed up to --max-findings per check', () => {
  it('the report stays small, the counts and the exit code stay exact, comments still name every finding', () => {
    const dir = tempDir();
    const input = write(dir, 'guests.pcap', pcapBytes(1, Array.from({ length: 40 }, () => ({ data: query() }))));
    const r = cli(['verify', input, '-r', RULE, '--report', 'json', '--max-findings', '5']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout.toString());
    expect(j.summary.errors).toBe(80); // source and destination of 40 packets
    expect(j.findings).toHaveLength(5);
    expect(j.findings.map((f: { frame: number }) => f.frame)).toEqual([1, 1, 2, 2, 3]);
    expect(j.omitted).toEqual({ 'addr.untranslated': 75 });
    expect(Object.keys(j).indexOf('omitted')).toBe(Object.keys(j).indexOf('findings') + 1);
    expect(JSON.parse(cli(['verify', input, '-r', RULE, '--report', 'json', '--max-findings', '0']).stdout.toString()).findings).toHaveLength(80);
    const text = cli(['verify', input, '-r', RULE, '--max-findings', '5']).stdout.toString();
    expect(text).toContain('error addr.untranslated (80)');
    expect(text).toContain('  ... 75 more (--report json lists up to --max-findings)');
    // The annotated copy comments every frame, past the limit too.
    const annotated = join(dir, 'a.pcapng');
    expect(cli(['verify', input, '-r', RULE, '--max-findings', '5', '--annotate', annotated, '--report-file', join(dir, 'r.json'), '--report', 'json']).code).toBe(1);
    const commented = readFileSync(annotated).toString('latin1').split('ssnat: addr.untranslated').length - 1;
    expect(commented).toBe(40);
  });
});
