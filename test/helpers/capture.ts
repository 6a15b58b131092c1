/** Test helpers over the capture reader: whole files in memory, copies of every packet. */
import { readFileSync } from 'node:fs';
import { CaptureReader } from '../../src/capture/reader.js';
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
