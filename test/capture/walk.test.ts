/**
 * The rewrite loop's walk (`CaptureReader.nextPackets`) against the record
 * by record reader (`next()`): the same records, in the same order, with the
 * same frame numbers, offsets, lengths and interfaces, and the same error or
 * truncated tail, on every corpus capture (damaged ones included), whatever
 * the batch capacity and however the input arrives.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../src/capture/batch.js';
import { CaptureReader, type ReaderOptions } from '../../src/capture/reader.js';
import { RecordKind } from '../../src/capture/record.js';
import type { ByteSource } from '../../src/capture/source.js';
import { cli, tempDir } from '../helpers/cli.js';
import { corpusPath, manifest } from '../helpers/corpus.js';
import { ether, ip4, ipv4L4, pcapBytes, udp } from '../helpers/wire-build.js';
import { pcapngBytes } from '../verify/helpers.js';

/** One line per record: what the rewrite loop and the writer use of it. */
type Line = string;

/** A source handing out at most `chunk` bytes per read (a pipe). */
function chunked(bytes: Uint8Array, chunk: number): ByteSource {
  let pos = 0;
  return {
    read: async (buf, off, len) => {
      const n = Math.min(len, chunk, bytes.length - pos);
      buf.set(bytes.subarray(pos, pos + n), off);
      pos += n;
      return n;
    },
    close: async () => undefined,
  };
}

async function walk(bytes: Uint8Array, capacity: number, chunk: number, opts: ReaderOptions = {}): Promise<{ lines: Line[]; end: string }> {
  const reader = await CaptureReader.fromSource(chunked(bytes, chunk), { name: 'x', ...opts });
  const batch = capacity > 0 ? new PacketBatch(capacity) : null;
  const lines: Line[] = [];
  try {
    for (;;) {
      if (batch !== null && reader.nextPackets(batch) > 0) {
        expect(batch.start).toBe(batch.record[0]);
        let at = batch.start;
        for (let i = 0; i < batch.count; i++) {
          expect(batch.record[i]).toBe(at);
          const len = (i + 1 < batch.count ? batch.record[i + 1]! : batch.end) - at;
          lines.push(`packet ${batch.firstFrame + i} @${batch.base + at}+${len} data+${batch.data[i]! - at} cap ${batch.capLen[i]} orig ${batch.origLen[i]} iface ${batch.iface[i]}`);
          at += len;
        }
        expect(at).toBe(batch.end);
        continue;
      }
      const rec = reader.next();
      if (rec === null) {
        if (reader.done) break;
        await reader.fill();
        continue;
      }
      if (rec.kind === RecordKind.Packet) {
        lines.push(`packet ${rec.frame} @${rec.fileOffset}+${rec.length} data+${rec.dataOffset - rec.start} cap ${rec.capturedLength} orig ${rec.originalLength} iface ${rec.interfaceIndex}`);
      } else {
        // (`frame` is meaningful for the blocks Wireshark numbers as frames, which are "Other" records.)
        lines.push(`record ${rec.kind} ${rec.blockType} frame ${rec.kind === RecordKind.Other ? rec.frame : "-"} @${rec.fileOffset}+${rec.length}`);
      }
    }
    return { lines, end: `tail ${JSON.stringify(reader.truncatedTail)} frames ${reader.frames}` };
  } catch (e) {
    return { lines, end: `error ${(e as Error).message}` };
  } finally {
    await reader.close();
  }
}

describe('the walk of the rewrite loop = the record-by-record reader', () => {
  const entries = manifest();
  it.each(entries.map((e) => [e.path, e] as const))('%s', async (_p, e) => {
    const bytes = readFileSync(corpusPath(e.path));
    const want = await walk(bytes, 0, bytes.length);
    expect(want.lines.length > 0 || want.end.startsWith('error')).toBe(true);
    for (const [capacity, chunk] of [
      [4096, bytes.length],
      [1, bytes.length],
      [3, 7],
      [64, 4093],
    ] as const) {
      const got = await walk(bytes, capacity, chunk);
      expect(got.lines).toEqual(want.lines);
      expect(got.end).toBe(want.end);
    }
  });
});

/** A UDP packet of `size` bytes on Ethernet (a DNS-like query with a zero payload). */
function packet(size: number): Uint8Array {
  return ether(0x0800, ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(2345, 53, new Uint8Array(size - 42))));
}

describe('a record over --max-record / --max-block that fits in the read window', () => {
  // Frame 2 is 2,000 bytes: far less than the 2 MB window, so the walk has all of it in hand;
  // only the limit (one check per format, which the walk and next() share) stops it there.
  const pcap = pcapBytes(1, [packet(100), packet(2000), packet(100)]);
  const pcapng = pcapngBytes(1, [{ data: packet(100) }, { data: packet(2000) }, { data: packet(100) }]);
  const pcapError = 'error pcap record claims 2000 captured bytes, more than the limit of 1000 (snaplen 262144; --max-record)';
  // The EPB of frame 2: 32 bytes of block around its 2,000 bytes.
  const epbError = 'error enhanced packet block: block length 2032 is more than the limit of 1000 bytes (--max-block)';

  it.each([
    ['pcap', pcap, { maxRecord: 1000 }, pcapError],
    ['pcapng', pcapng, { maxBlock: 1000 }, epbError],
  ] as const)('%s: the walk stops before it, and next() refuses it, as the record-by-record reader alone does', async (_f, bytes, opts, error) => {
    const want = await walk(bytes, 0, bytes.length, opts);
    const packets = (lines: Line[]): Line[] => lines.filter((l) => l.startsWith('packet '));
    expect(packets(want.lines)).toHaveLength(1);
    expect(packets(want.lines)[0]).toMatch(/^packet 1 /);
    expect(want.end).toBe(error);
    for (const capacity of [4096, 1]) {
      const got = await walk(bytes, capacity, bytes.length, opts);
      expect(got.lines).toEqual(want.lines);
      expect(got.end).toBe(error);
    }
    // Within the limit, every record is read, by the walk too.
    const bigger = 'maxRecord' in opts ? { maxRecord: 2000 } : { maxBlock: 2032 };
    expect(packets((await walk(bytes, 4096, bytes.length, bigger)).lines)).toHaveLength(3);
  });

  it.each([
    ['pcap', pcap, '--max-record', 'x.pcap: byte offset 140, frame 2: pcap record claims 2000 captured bytes, more than the limit of 1000 (snaplen 262144; --max-record)'],
    ['pcapng', pcapng, '--max-block', 'x.pcapng: byte offset 192: enhanced packet block: block length 2032 is more than the limit of 1000 bytes (--max-block)'],
  ] as const)('%s: a rewrite (the batch loop) fails with exit 3 and writes nothing, as verify does', (format, bytes, option, message) => {
    const dir = tempDir();
    const input = join(dir, `x.${format}`);
    writeFileSync(input, bytes);
    const out = join(dir, `out.${format}`);
    const rewrite = cli([input, out, '-r', '10.0.0.0/24=192.168.1.0/24', option, '1000']);
    expect(rewrite.stderr).toBe(`ssnat-rewrite: ${input.slice(0, -`x.${format}`.length)}${message}\n`);
    expect(rewrite.code).toBe(3);
    expect(existsSync(out)).toBe(false);
    const verify = cli(['verify', input, option, '1000']);
    expect(verify.code).toBe(3);
    expect(verify.stderr).toBe(rewrite.stderr);
  });
});
