/**
 * The rewrite loop's walk (`CaptureReader.nextPackets`) against the record
 * by record reader (`next()`): the same records, in the same order, with the
 * same frame numbers, offsets, lengths and interfaces, and the same error or
 * truncated tail, on every corpus capture (damaged ones included), whatever
 * the batch capacity and however the input arrives.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../src/capture/batch.js';
import { CaptureReader } from '../../src/capture/reader.js';
import { RecordKind } from '../../src/capture/record.js';
import type { ByteSource } from '../../src/capture/source.js';
import { corpusPath, manifest } from '../helpers/corpus.js';

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

async function walk(bytes: Uint8Array, capacity: number, chunk: number): Promise<{ lines: Line[]; end: string }> {
  const reader = await CaptureReader.fromSource(chunked(bytes, chunk), { name: 'x' });
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
