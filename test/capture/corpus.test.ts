/**
 * The capture layer against the vendored public corpus (test/corpus), files nobody here wrote:
 * lossless pass-through, block sequences, timestamps, damaged files.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../../src/capture/reader.js';
import { CaptureError } from '../../src/errors.js';
import { passThrough, readPackets } from '../helpers/capture.js';
import { CORPUS, corpusPath, manifest } from '../helpers/corpus.js';

const entries = manifest();
const wellFormed = entries.filter((e) => !e.damaged);

describe('lossless pass-through of every well-formed corpus capture', () => {
  it('has a sizeable corpus to test', () => {
    expect(wellFormed.length).toBeGreaterThan(240);
  });
  it.each(wellFormed.map((e) => [e.path, e] as const))('%s comes back byte-identical', async (_p, e) => {
    const bytes = readFileSync(corpusPath(e.path));
    const r = await passThrough(bytes);
    expect(r.truncatedTail).toBeNull();
    expect(r.packets).toBe(e.packets);
    expect(Buffer.compare(r.out, bytes)).toBe(0);
  });
});

describe('pass-through is independent of how the input arrives', () => {
  it.each([1, 3, 7, 64, 4093])('a pipe handing out %i bytes per read gives the same output', async (chunk) => {
    for (const path of ['pcapng-test-generator/output_be/difficult/test202.pcapng', 'tcpdump/pcap/afs.pcap', 'pcap-parser/modified-format.pcap']) {
      const bytes = readFileSync(corpusPath(path));
      const r = await passThrough(bytes, {}, undefined, chunk);
      expect(Buffer.compare(r.out, bytes)).toBe(0);
    }
  });
});

/** The pcapng-test-generator and gopacket suites list each file's block sequence. */
describe('pcapng conformance suites: exact block sequence, both byte orders', () => {
  const suites = entries.filter((e) => e.path.startsWith('pcapng-test-generator/output_') && e.path.endsWith('.pcapng'));
  it('covers both byte orders', () => {
    expect(suites.filter((e) => e.path.includes('output_le')).length).toBe(suites.filter((e) => e.path.includes('output_be')).length);
    expect(suites.length).toBe(48);
  });
  it.each(suites.map((e) => e.path))('%s', async (path) => {
    const txt = readFileSync(corpusPath(path.replace(/\.pcapng$/, '.txt')), 'utf8');
    const seq = /Block sequence:\s*(.*)/.exec(txt)![1]!.split(',').map((s) => s.trim());
    const r = await passThrough(readFileSync(corpusPath(path)));
    expect(r.blocks).toEqual(seq);
  });
});

/** tcpdump's own test outputs: `-tttt` prints "N  YYYY-MM-DD HH:MM:SS.ffffff" (GMT) per packet. */
describe("timestamps agree with tcpdump's expected outputs", () => {
  const rows = readFileSync(`${CORPUS}tcpdump/expected.tsv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  // With a filter expression `-#` numbers the printed packets, not the file's: use unfiltered runs only.
  const unfiltered = (args: string): boolean => args.split(/\s+/).every((t) => t === '' || t.startsWith('-'));
  const usable = rows.filter(([, input, , args]) => !/SPECIAL_t/.test(args ?? '') && unfiltered(args ?? '') && input !== undefined && entries.some((e) => e.path === `tcpdump/pcap/${input}` && !e.damaged));
  it('compares a good share of the suite', () => {
    expect(usable.length).toBeGreaterThan(100);
  });
  it.each(usable.map(([name, input, out]) => [name!, input!, out!] as const))('%s', async (_name, input, out) => {
    const packets = await readPackets(corpusPath(`tcpdump/pcap/${input}`));
    const lines = readFileSync(corpusPath(`tcpdump/out/${out}`), 'utf8').split('\n');
    let compared = 0;
    for (const line of lines) {
      const m = /^\s*(\d+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d+)/.exec(line);
      if (!m) continue;
      const frame = Number(m[1]);
      const p = packets[frame - 1]!;
      expect(p.frame).toBe(frame);
      const ns = p.timestampNs;
      const secs = ns / 1_000_000_000n;
      const date = new Date(Number(secs) * 1000).toISOString().replace('T', ' ').slice(0, 19);
      const frac = m[3]!;
      const ours = (ns % 1_000_000_000n).toString().padStart(9, '0').slice(0, frac.length);
      expect(`${date}.${ours}`).toBe(`${m[2]}.${frac}`);
      compared++;
    }
    // Every packet tcpdump printed was found; outputs with a filter may print fewer.
    expect(compared).toBeLessThanOrEqual(packets.length);
  });
});

/** What each damaged corpus file must produce: one error with its offset, or a kept prefix and a warning. */
const DAMAGED: Record<string, { error: RegExp; offset: number } | { tail: number; packets: number }> = {
  'dpkt/truncated_dns_2.pcap': { tail: 240, packets: 1 },
  'gopacket/pcapgo-tests/be/test901.pcapng': { error: /unsupported pcapng section version 2\.0/, offset: 492 },
  'gopacket/pcapgo-tests/le/test901.pcapng': { error: /unsupported pcapng section version 2\.0/, offset: 492 },
  'libpcap/linktype-reserved-field-not-zero.pcap': { error: /link-type field 0x300000 has reserved bits set/, offset: 20 },
  'libpcap/pcap-invalid-version-1.pcap': { error: /unsupported pcap version 1\.4/, offset: 4 },
  'libpcap/pcapng-invalid-vers-1.pcapng': { error: /unsupported pcapng section version 0\.1/, offset: 12 },
  'libpcap/pcapng-invalid-vers-2.pcapng': { error: /unsupported pcapng section version 1\.1/, offset: 12 },
  'libpcap/shb-option-too-long.pcapng': { error: /section header block: trailing block length \d+ differs from the leading length 52/, offset: 0 },
  'python-pcapng/test006.ntar': { error: /obsolete packet block: block length 167 is not a multiple of 4/, offset: 96 },
  'python-pcapng/test007.ntar': { error: /simple packet block: block length 139 is not a multiple of 4/, offset: 96 },
  'python-pcapng/test010.ntar': { error: /simple packet block: block length 139 is not a multiple of 4/, offset: 96 },
};

describe('damaged corpus captures', () => {
  it('the table covers exactly the files the MANIFEST flags', () => {
    expect(entries.filter((e) => e.damaged).map((e) => e.path).sort()).toEqual(Object.keys(DAMAGED).sort());
  });
  it.each(Object.entries(DAMAGED))('%s', async (path, want) => {
    const bytes = readFileSync(corpusPath(path));
    if ('tail' in want) {
      const r = await passThrough(bytes);
      expect(r.truncatedTail?.offset).toBe(want.tail);
      expect(r.packets).toBe(want.packets);
      expect(Buffer.compare(r.out, bytes.subarray(0, want.tail))).toBe(0);
      return;
    }
    const err = await passThrough(bytes).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CaptureError);
    const ce = err as CaptureError;
    expect(ce.message).toMatch(want.error);
    expect(ce.offset).toBe(want.offset);
    expect(ce.exitCode).toBe(3);
  });
});

describe('reader basics', () => {
  it('refuses what is not a capture, naming the magic', async () => {
    await expect(CaptureReader.fromBytes(Buffer.from('hello world, not a capture'))).rejects.toThrow(/unknown magic number 0x68656c6c/);
    await expect(CaptureReader.fromBytes(Buffer.alloc(0))).rejects.toThrow(/empty input/);
  });
});
