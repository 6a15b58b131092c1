/**
 * One capture on every core (src/parallel/) gives what one thread gives: the
 * same output bytes, the same report (findings in the same order), or the
 * same error with the same message, offset, frame and exit code, and no
 * output left behind. On every corpus capture (damaged ones included), on
 * bench captures in pcap and pcapng, on a pcapng of several sections and
 * interfaces with rules scoped to interfaces, with undecodable packets
 * throughout, damage far into the file and a cut tail. Runs that cannot be
 * split stay on one thread.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseRule, validateRuleSet } from '../../src/nat/rules.js';
import { runPipeline, type PipelineOptions, type RunResult } from '../../src/pipeline.js';
import { SsnatError } from '../../src/errors.js';
import { useWorkerScript } from '../../src/parallel/pool.js';
import { readPackets, type TestPacket } from '../helpers/capture.js';
import { BIN, ROOT, cli, cliAsync } from '../helpers/cli.js';
import { corpusPath, manifest } from '../helpers/corpus.js';
import { rulesForCapture } from '../helpers/survey.js';
import { block, epb, idb, shb, spb, u32 } from '../helpers/pcapng-build.js';
import { concat, ether, ip4, ipv4L4, tcp, udp } from '../helpers/wire-build.js';

// The tests run the sources; a worker thread runs the build of them (the suite's global setup makes it).
useWorkerScript(new URL('../../dist/parallel/worker.js', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'ssnat-parallel-'));
let serial = 0;

type Outcome = { bytes: string | null; report: unknown; threads: number; tasks: number[] } | { error: string };

/** Rewrites `input` with `jobs` threads: the output bytes and the report, or the error (and then no output). */
async function run(input: string, rules: readonly string[], jobs: number, extra: Partial<PipelineOptions> = {}): Promise<Outcome> {
  const output = join(dir, `out-${serial++}${extra.format === 'pcapng' ? '.pcapng' : ''}`);
  const parsed = rules.map((r) => parseRule(r));
  validateRuleSet(parsed);
  let r: RunResult;
  try {
    r = await runPipeline({ command: 'rewrite', input, output, rules: parsed, direction: 'guest-to-host', format: 'same', annotate: false, force: true, jobs, waitForWorkers: true, ...extra });
  } catch (e) {
    expect(existsSync(output), 'no output after an error').toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp')), 'no temporary file').toEqual([]);
    if (!(e instanceof SsnatError)) throw e;
    return { error: `${e.name} ${e.code} ${e.exitCode} ${e.file} ${e.offset} ${e.frame}: ${e.message}` };
  }
  const { output: _o, ...report } = r.report;
  return { bytes: existsSync(output) ? readFileSync(output).toString('base64') : null, report, threads: r.threads, tasks: r.tasksByThread ?? [] };
}

/** The one-thread and the `jobs`-thread outcomes agree; returns the parallel one. */
async function same(input: string, rules: readonly string[], jobs = 3, extra: Partial<PipelineOptions> = {}): Promise<Outcome> {
  const one = await run(input, rules, 1, extra);
  const many = await run(input, rules, jobs, extra);
  if ('error' in one) {
    expect(many).toEqual(one);
  } else {
    expect('error' in many ? many.error : null).toBeNull();
    const m = many as Exclude<Outcome, { error: string }>;
    expect(m.bytes === one.bytes, `${input}: output bytes`).toBe(true);
    expect(m.report).toEqual(one.report);
    expect(one.threads).toBe(1);
  }
  return many;
}

/** A thread count for a split run, and proof that the workers (not only the main thread) translated. */
function splitAcross(o: Outcome, threads: number): void {
  if ('error' in o) throw new Error(o.error);
  expect(o.threads).toBe(threads);
  expect(o.tasks).toHaveLength(threads);
  for (const n of o.tasks.slice(1)) expect(n, `tasks per thread ${o.tasks.join(',')}`).toBeGreaterThan(0);
}

// ------------------------------------------------------------------ captures

const GUEST = ['10.0.0.2', '10.0.0.7', '10.0.0.200'];
const OUTSIDE = '172.16.5.9';

/** A mix of frames: UDP, TCP, ARP, outside the rules, and one in `undecodableEvery` with an impossible IPv4 header. */
function frames(n: number, undecodableEvery = 0): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const a = ip4(GUEST[i % GUEST.length]!);
    const b = i % 11 === 0 ? ip4(OUTSIDE) : ip4('10.0.0.1');
    const payload = new Uint8Array(20 + (i % 97)).fill(i & 0xff);
    let f: Uint8Array;
    if (undecodableEvery > 0 && i % undecodableEvery === undecodableEvery - 1) {
      const bad = ipv4L4(a, b, 17, udp(2345, 53, payload));
      bad[0] = 0x43; // IHL 3: shorter than an IPv4 header can be
      f = ether(0x0800, bad);
    } else if (i % 29 === 0) {
      f = ether(0x0806, concat(Uint8Array.of(0, 1, 8, 0, 6, 4, 0, 1), new Uint8Array(6).fill(0x52), be32x(a), new Uint8Array(6), be32x(b)));
    } else if (i % 2 === 0) {
      f = ether(0x0800, ipv4L4(a, b, 17, udp(2345 + (i % 7), 53, payload)));
    } else {
      f = ether(0x0800, ipv4L4(b, a, 6, tcp(443, 40000 + (i % 300), payload)));
    }
    out.push(f);
  }
  return out;
}
const be32x = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);

function pcapOf(fs: readonly Uint8Array[]): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(1, 20);
  const parts: Buffer[] = [h];
  fs.forEach((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1_700_000_000 + (i >> 10), 0);
    r.writeUInt32LE(i & 1023, 4);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, Buffer.from(f));
  });
  return Buffer.concat(parts);
}

/**
 * Sections in both byte orders, each describing its interfaces (tap0, tap1,
 * tap2; the second section in another order), packets spread over them, and
 * now and then a block that is not a packet: a statistics block, a custom
 * block (a frame of its own for Wireshark), a simple packet block.
 */
function multiSection(perSection: number, undecodableEvery: number): Buffer {
  const parts: Buffer[] = [];
  const sections: Array<{ le: boolean; names: string[] }> = [
    { le: true, names: ['tap0', 'tap1', 'tap2'] },
    { le: false, names: ['tap2', 'tap0'] },
    { le: true, names: ['tap1', 'tap0', 'tap2', 'tap3'] },
  ];
  let t = 0;
  for (const s of sections) {
    parts.push(shb(s.le));
    // Two interfaces up front, the rest described between packets.
    parts.push(idb(s.names[0]!, s.le), idb(s.names[1]!, s.le));
    let described = 2;
    const fs = frames(perSection, undecodableEvery);
    fs.forEach((f, i) => {
      if (i === perSection >> 2 && described < s.names.length) while (described < s.names.length) parts.push(idb(s.names[described++]!, s.le));
      if (i % 997 === 500) parts.push(block(5, Buffer.concat([u32(0, s.le), u32(0, s.le), u32(t, s.le)]), s.le));
      if (i % 1499 === 700) parts.push(block(0x00000bad, Buffer.concat([u32(32473, s.le), Buffer.from('custom')]), s.le));
      if (i % 1201 === 900) parts.push(spb(f, s.le));
      else parts.push(epb(i % described, f, s.le, t++));
    });
  }
  return Buffer.concat(parts);
}

function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

// --------------------------------------------------------------------- tests

describe('parallel rewrite = one thread', () => {
  it('on every corpus capture, damaged ones included (the same bytes, report or error)', async () => {
    let compared = 0;
    for (const e of manifest()) {
      const path = corpusPath(e.path);
      let pkts: TestPacket[] = [];
      try {
        pkts = await readPackets(path);
      } catch {
        // damaged before its first packet: the error is what is compared
      }
      const rules = rulesForCapture(pkts);
      await same(path, rules.length > 0 ? rules : ['10.0.0.0/24=192.168.0.0/24'], 2, { waitForWorkers: false });
      compared++;
    }
    expect(compared).toBe(272);
  }, 600_000);

  it.each(['pcap', 'pcapng'])('on a %s bench capture (bench/generate.mjs, 50,000 packets), every worker translating', async (format) => {
    const path = join(dir, `bench.${format}`);
    execFileSync(process.execPath, [join(ROOT, 'bench/generate.mjs'), path, '--packets', '50000', '--format', format], { stdio: 'ignore' });
    for (const jobs of [2, 4]) splitAcross(await same(path, ['10.0.0.0/24=192.168.0.0/24'], jobs), jobs);
    // Both directions, and rules that match nothing.
    await same(path, ['192.168.0.0/24=10.0.0.0/24'], 2, { direction: 'host-to-guest' });
    await same(path, ['10.9.9.0/24=192.168.9.0/24'], 2);
  }, 120_000);

  it('on a pcapng of several sections and interfaces, with rules scoped to interfaces and undecodable packets throughout', async () => {
    const path = file('multi.pcapng', multiSection(20_000, 1_777));
    const scoped = ['10.0.0.0/24=192.168.10.0/24@tap0', '10.0.0.0/24=192.168.11.0/24@tap1', '10.0.0.0/24=192.168.12.0/24@#2', '172.16.0.0/16=172.20.0.0/16'];
    const o = await same(path, scoped, 3);
    splitAcross(o, 3);
    if ('error' in o) return;
    const report = o.report as RunResult['report'];
    expect(report.summary.undecodable).toBeGreaterThan(20);
    expect(report.findings.map((f) => f.frame)).toEqual([...report.findings.map((f) => f.frame)].sort((a, b) => a - b));
    // A rule for an interface only some sections have, and one the capture does not have at all.
    await same(path, ['10.0.0.0/24=192.168.13.0/24@tap3'], 3);
    expect(await run(path, ['10.0.0.0/24=192.168.14.0/24@tap9'], 3)).toEqual(await run(path, ['10.0.0.0/24=192.168.14.0/24@tap9'], 1));
  }, 120_000);

  it('on a pcap with undecodable packets throughout: the same findings, in frame order', async () => {
    const path = file('undecodable.pcap', pcapOf(frames(60_000, 313)));
    const o = await same(path, ['10.0.0.0/24=192.168.0.0/24'], 3);
    splitAcross(o, 3);
    if (!('error' in o)) expect((o.report as RunResult['report']).summary.undecodable).toBe(191);
  }, 60_000);

  it('a damaged record far into the file: the same error (message, byte offset, frame), no output', async () => {
    const bytes = pcapOf(frames(140_000));
    // Past the seventh 2 MB window: the record header there claims 4 GB.
    let at = 24;
    while (at < 14.5 * 1024 * 1024) at += 16 + bytes.readUInt32LE(at + 8);
    const damaged = Buffer.from(bytes);
    damaged.writeUInt32LE(0xfffffff0, at + 8);
    const o = await same(file('damaged.pcap', damaged), ['10.0.0.0/24=192.168.0.0/24'], 3);
    expect('error' in o && o.error).toMatch(/^CaptureError input 3 .* 1[0-9]{7} \d+: pcap record claims 4294967280 captured bytes/);

    // In the first section (little-endian), past the sixth window: a block whose trailing length is wrong.
    const ng = multiSection(90_000, 0);
    let b = 0;
    while (b < 11 * 1024 * 1024) b += ng.readUInt32LE(b + 4);
    const broken = Buffer.from(ng);
    broken.writeUInt32LE(12345, b + broken.readUInt32LE(b + 4) - 4); // trailing length
    const o2 = await same(file('damaged.pcapng', broken), ['10.0.0.0/24=192.168.0.0/24'], 3);
    expect('error' in o2 && o2.error).toMatch(/trailing block length 12345 differs from the leading length/);
  }, 60_000);

  it('a capture cut inside a record: the same truncated-tail finding and output', async () => {
    const bytes = pcapOf(frames(50_000));
    await same(file('cut.pcap', bytes.subarray(0, bytes.length - 37)), ['10.0.0.0/24=192.168.0.0/24'], 3);
    const ng = multiSection(15_000, 0);
    await same(file('cut.pcapng', ng.subarray(0, ng.length - 5)), ['10.0.0.0/24=192.168.0.0/24'], 3);
  }, 60_000);
});

describe('what is not split runs on one thread', () => {
  const path = file('small.pcap', pcapOf(frames(3_000)));
  const rules = ['10.0.0.0/24=192.168.0.0/24'];
  const threads = async (input: string, extra: Partial<PipelineOptions>) => {
    const o = await run(input, rules, 4, extra);
    return 'error' in o ? o.error : o.threads;
  };
  it('a regular file with jobs > 1 is split, whatever its size', async () => {
    expect(await threads(path, {})).toBe(4);
  });
  it('by default, a capture under PARALLEL_MIN_BYTES', async () => {
    const o = await run(path, rules, 1, { jobs: undefined });
    expect('error' in o ? o.error : o.threads).toBe(1);
  });
  it('--verify, --annotate, a format conversion, a gzip-compressed input or output', async () => {
    expect(await threads(path, { verify: true })).toBe(1);
    expect(await threads(path, { annotate: true, format: 'pcapng' })).toBe(1);
    expect(await threads(path, { format: 'pcapng' })).toBe(1);
    expect(await threads(file('small.pcap.gz', gzipSync(readFileSync(path))), {})).toBe(1);
    const o = await runPipeline({ command: 'rewrite', input: path, output: join(dir, 'small-out.pcap.gz'), rules: rules.map((r) => parseRule(r)), direction: 'guest-to-host', format: 'same', annotate: false, force: true, jobs: 4 });
    expect(o.threads).toBe(1);
  });
});

describe('the CLI', () => {
  it('--jobs N gives the bytes one thread gives; --jobs 0 is a usage error', () => {
    const input = file('cli.pcap', pcapOf(frames(20_000)));
    const a = join(dir, 'cli-1.pcap');
    const b = join(dir, 'cli-3.pcap');
    expect(cli([input, a, '-r', '10.0.0.0/24=192.168.0.0/24', '-q', '--jobs', '1']).code).toBe(0);
    expect(cli([input, b, '-r', '10.0.0.0/24=192.168.0.0/24', '-q', '--jobs', '3']).code).toBe(0);
    expect(Buffer.compare(readFileSync(a), readFileSync(b))).toBe(0);
    const bad = cli([input, join(dir, 'cli-0.pcap'), '-r', '10.0.0.0/24=192.168.0.0/24', '--jobs', '0']);
    expect(bad.code).toBe(2);
  });

  it('a damaged record far into the file: the same one line on stderr and exit code with --jobs 3 as with --jobs 1', () => {
    const bytes = pcapOf(frames(140_000));
    let at = 24;
    while (at < 14 * 1024 * 1024) at += 16 + bytes.readUInt32LE(at + 8);
    bytes.writeUInt32LE(0x7fffffff, at + 8);
    const input = file('cli-damaged.pcap', bytes);
    const out = (jobs: string) => cli([input, join(dir, `cli-damaged-${jobs}.pcap`), '-r', '10.0.0.0/24=192.168.0.0/24', '--jobs', jobs]);
    const one = out('1');
    const many = out('3');
    expect(one.code).toBe(3);
    expect(many.code).toBe(3);
    expect(many.stderr).toBe(one.stderr.replace('cli-damaged-1', 'cli-damaged-3'));
    expect(one.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'cli-damaged-3.pcap'))).toBe(false);
  });

  it('a parallel run stopped by SIGINT leaves no output and no temporary file', async () => {
    const input = file('sigint.pcap', pcapOf(frames(400_000)));
    const outDir = mkdtempSync(join(tmpdir(), 'ssnat-parallel-sigint-'));
    const child = cliAsync([input, join(outDir, 'out.pcap'), '-r', '10.0.0.0/24=192.168.0.0/24', '--jobs', '2']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    child.on('exit', () => (exited = true));
    // The temporary file appears once the output is open, just before the threads start.
    for (let waited = 0; readdirSync(outDir).length === 0 && !exited && waited < 20_000; waited += 2) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 30));
    child.kill('SIGINT');
    const ended = await new Promise<[number | null, NodeJS.Signals | null]>((r) =>
      exited ? r([child.exitCode, child.signalCode]) : child.on('close', (code, signal) => r([code, signal])),
    );
    // Ended by the signal itself after the clean-up (a shell sees $? = 130).
    expect(ended, stderr).toEqual([null, 'SIGINT']);
    expect(stderr).toContain('interrupted (SIGINT); no output was left behind');
    expect(readdirSync(outDir)).toEqual([]);
  }, 60_000);

  it('workers run from the bundle the CLI ships (dist/ssnat-worker.cjs)', () => {
    expect(existsSync(join(ROOT, 'dist/ssnat-worker.cjs'))).toBe(true);
    expect(BIN).toMatch(/ssnat-rewrite\.cjs$/);
  });
});
