/** Test helpers over the capture reader: whole files in memory, copies of every packet. */
import { readFileSync } from 'node:fs';
import { CaptureReader, type ReaderOptions } from '../../src/capture/reader.js';
import { RecordKind } from '../../src/capture/record.js';

export interface TestPacket {
  frame: number;
  interfaceId: number;
  linkType: number;
  data: Uint8Array;
  originalLength: number;
  timestampNs: bigint;
}

/** Every packet of a capture file, copied out of the reader's window. */
export async function readPackets(path: string): Promise<TestPacket[]> {
  const reader = await CaptureReader.fromBytes(readFileSync(path), { name: path });
  const out: TestPacket[] = [];
  for await (const rec of reader) {
    if (rec.kind !== RecordKind.Packet) continue;
    out.push({
      frame: rec.frame,
      interfaceId: rec.interfaceId,
      linkType: rec.iface?.linkType ?? -1,
      data: Uint8Array.from(rec.data),
      originalLength: rec.originalLength,
      timestampNs: rec.timestampNs(),
    });
  }
  return out;
}

import { CaptureWriter, type WriterOptions } from '../../src/capture/writer.js';
import { MemoryTarget } from '../../src/capture/target.js';
import { BlockType, type CaptureRecord } from '../../src/capture/record.js';

export interface PassResult {
  out: Buffer;
  packets: number;
  /** Block names in file order (SHB, IDB, EPB, SPB, PB, NRB, ISB, CB, DCB, DSB, ...). */
  blocks: string[];
  truncatedTail: { offset: number } | null;
  /** The largest read window any record was handed out from. */
  maxWindow: number;
}

const NAMES: Record<number, string> = {
  [BlockType.SHB]: 'SHB',
  [BlockType.IDB]: 'IDB',
  [BlockType.EPB]: 'EPB',
  [BlockType.SPB]: 'SPB',
  [BlockType.PB]: 'PB',
  [BlockType.NRB]: 'NRB',
  [BlockType.ISB]: 'ISB',
  [BlockType.CB]: 'CB',
  [BlockType.DCB]: 'DCB',
  [BlockType.DSB]: 'DSB',
};

/** Reads `bytes` and writes every record back (optionally converted), in memory; `edit` may change records. */
export async function passThrough(
  bytes: Uint8Array,
  opts: WriterOptions = {},
  edit?: (rec: CaptureRecord) => string | undefined,
  windowChunk?: number,
  readerOpts: ReaderOptions = {},
): Promise<PassResult> {
  const reader =
    windowChunk === undefined ? await CaptureReader.fromBytes(bytes, readerOpts) : await CaptureReader.fromSource(new TrickleSource(bytes, windowChunk), readerOpts);
  const target = new MemoryTarget();
  const writer = new CaptureWriter(target, reader.format, opts);
  const blocks: string[] = [];
  let packets = 0;
  let maxWindow = 0;
  try {
    for (;;) {
      const rec = reader.next();
      if (rec === null) {
        if (reader.done) break;
        await writer.flush();
        await reader.fill();
        continue;
      }
      maxWindow = Math.max(maxWindow, rec.buf.length);
      if (rec.kind === RecordKind.Packet) packets++;
      if (reader.format === 'pcapng') blocks.push(NAMES[rec.blockType] ?? `0x${rec.blockType.toString(16)}`);
      const comment = edit?.(rec);
      writer.write(rec, comment);
    }
    writer.finish();
    await writer.flush();
  } finally {
    await reader.close();
  }
  return { out: target.bytes(), packets, blocks, truncatedTail: reader.truncatedTail, maxWindow };
}

import type { ByteSource } from '../../src/capture/source.js';

/** A source that hands out at most `chunk` bytes per read, like a slow pipe. */
export class TrickleSource implements ByteSource {
  private pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly chunk: number,
  ) {}
  async read(buf: Buffer, off: number, len: number): Promise<number> {
    const n = Math.min(len, this.chunk, this.bytes.length - this.pos);
    buf.set(this.bytes.subarray(this.pos, this.pos + n), off);
    this.pos += n;
    return n;
  }
  async close(): Promise<void> {}
}
