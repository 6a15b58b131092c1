/**
 * Hostile and damaged captures (issue 7): seeded, reproducible mutations of
 * corpus captures through reader -> decoder -> translator -> writer. Only the
 * project's typed errors may escape, every loop ends, memory stays bounded,
 * and one decoder/translator instance keeps working across all of them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../../src/capture/reader.js';
import { RecordKind } from '../../src/capture/record.js';
import { DEFAULT_WINDOW } from '../../src/capture/source.js';
import { SsnatError } from '../../src/errors.js';
import { corpusPath, manifest } from '../helpers/corpus.js';
import { mutate, prng } from '../helpers/mutate.js';
import { runBytes } from '../helpers/run-bytes.js';
import { ROOT } from '../helpers/cli.js';

const MUTATIONS_PER_FILE = 80;

/** The file offset of every record, and which records are packets. */
async function recordOffsets(bytes: Uint8Array): Promise<{ offsets: number[]; packet: boolean[] }> {
  const reader = await CaptureReader.fromBytes(bytes);
  const offsets: number[] = [];
  const packet: boolean[] = [];
  for await (const rec of reader) {
    offsets.push(rec.fileOffset);
    packet.push(rec.kind === RecordKind.Packet);
  }
  return { offsets, packet };
}

function seedOf(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const files = manifest()
  .filter((e) => !e.damaged && e.packets > 0)
  .filter((e) => readFileSync(corpusPath(e.path)).length < 64 * 1024)
  .map((e) => e.path);

describe('mutated corpus captures: only typed errors escape', () => {
  it('fuzzes a broad set of files', () => {
    expect(files.length).toBeGreaterThan(150);
  });
  it.each(files)('%s', async (path) => {
    const input = readFileSync(corpusPath(path));
    const boundaries = (await recordOffsets(input)).offsets;
    const rand = prng(seedOf(path));
    let typed = 0;
    for (let i = 0; i < MUTATIONS_PER_FILE; i++) {
      const m = mutate(input, boundaries, rand);
      try {
        const r = await runBytes(m.bytes, { annotate: i % 2 === 0 });
        // Memory: the window never grows past the largest record actually present (x2).
        expect(r.maxWindow).toBeLessThanOrEqual(Math.max(DEFAULT_WINDOW, 2 * m.bytes.length));
      } catch (e) {
        if (!(e instanceof SsnatError)) {
          throw new Error(`${path}, mutation ${i} (${m.what}): ${(e as Error).stack ?? String(e)}`);
        }
        expect(e.offset === undefined || (e.offset >= 0 && e.offset <= m.bytes.length)).toBe(true);
        typed++;
      }
    }
    // Both outcomes, or the mutations test too little: all rejected (e.g. at
    // the file header) never reach the decoder; none rejected never reach
    // the reader's error paths.
    expect(typed).toBeGreaterThan(0);
    expect(typed).toBeLessThan(MUTATIONS_PER_FILE);
  });
});

describe('mutated tunnel captures (issue 23): the tunnel decoder meets damaged headers at every depth', () => {
  const dirs = ['fixtures/tunnels', 'fixtures/golden/vxlan'];
  const tunnelFiles = dirs.flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(d, f)));
  it('covers every encapsulation capture', () => {
    expect(tunnelFiles.length).toBe(22);
  });
  it.each(tunnelFiles)('%s', async (path) => {
    const input = readFileSync(join(ROOT, path));
    const boundaries = (await recordOffsets(input)).offsets;
    const rand = prng(seedOf(path));
    for (let i = 0; i < 3 * MUTATIONS_PER_FILE; i++) {
      const m = mutate(input, boundaries, rand);
      try {
        await runBytes(m.bytes, { annotate: i % 2 === 0 });
      } catch (e) {
        if (!(e instanceof SsnatError)) throw new Error(`${path}, mutation ${i} (${m.what}): ${(e as Error).stack ?? String(e)}`);
      }
    }
  });
});

describe('truncation at and around every record boundary, and at every byte of the first records', () => {
  const picked = ['pcapng-test-generator/output_be/difficult/test202.pcapng', 'tcpdump/pcap/icmpv6.pcap', 'pcap-parser/modified-format.pcap', 'scapy/pfcp.pcap'];
  it.each(picked)('%s', async (path) => {
    const input = readFileSync(corpusPath(path));
    const { offsets, packet } = await recordOffsets(input);
    const headerEnd = offsets[1] ?? input.length; // cutting inside the file header is an error, not a tail
    // Every byte of the first 2 KiB, and around every later record boundary.
    const cuts = new Set<number>();
    for (let c = headerEnd; c < Math.min(input.length, 2048); c++) cuts.add(c);
    for (const o of offsets) for (const d of [-1, 0, 1, 4, 8, 13, 17]) if (o + d >= headerEnd && o + d < input.length) cuts.add(o + d);
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      const r = await runBytes(input.subarray(0, cut));
      // Every packet that ends at or before the cut is read and passed on.
      const completePackets = offsets.filter((_, i) => packet[i] && (offsets[i + 1] ?? input.length) <= cut).length;
      expect(r.truncatedTail).toBe(!offsets.includes(cut));
      expect(r.out.length).toBe(offsets.includes(cut) ? cut : (offsets.filter((o) => o < cut).pop() ?? 0));
      expect(r.packets).toBe(completePackets);
    }
  });
});

describe('allocation is never sized by an untrusted length', () => {
  it('a 100-byte pcapng claiming a 255 MiB block reads as a truncated tail without allocating it', async () => {
    const shb = Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex');
    const block = Buffer.alloc(100);
    block.writeUInt32LE(6, 0);
    block.writeUInt32LE(255 * 1024 * 1024, 4);
    const reader = await CaptureReader.fromBytes(Buffer.concat([shb, block]));
    for await (const rec of reader) void rec;
    expect(reader.truncatedTail).toEqual({ offset: 28, needed: 255 * 1024 * 1024, had: 100 });
    expect(reader.windowSize).toBeLessThanOrEqual(DEFAULT_WINDOW);
  });
  it('a block over the limit is refused with its offset', async () => {
    const shb = Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex');
    const block = Buffer.alloc(16);
    block.writeUInt32LE(6, 0);
    block.writeUInt32LE(0x7ffffff0, 4);
    const err = await runBytes(Buffer.concat([shb, block]), { maxBlock: 1 << 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SsnatError);
    expect((err as SsnatError).message).toBe('enhanced packet block: block length 2147483632 is more than the limit of 1048576 bytes (--max-block)');
    expect((err as SsnatError).offset).toBe(28);
  });
  it('a pcap record over the snaplen bound is refused with its frame', async () => {
    const bytes = Buffer.from(readFileSync(corpusPath('dpkt/dns_icmp.pcap')));
    bytes.writeUInt32LE(0x7fffffff, 24 + 8);
    const err = await runBytes(bytes).catch((e: unknown) => e);
    expect((err as SsnatError).message).toBe('pcap record claims 2147483647 captured bytes, more than the limit of 262144 (snaplen 262144; --max-record)');
    expect([(err as SsnatError).offset, (err as SsnatError).frame]).toEqual([24, 1]);
  });
});
