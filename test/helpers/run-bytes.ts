/**
 * The whole per-packet path in memory: reader -> translator -> writer, with
 * one decoder/translator reused across calls (as a long run reuses them).
 */
import { CaptureReader } from '../../src/capture/reader.js';
import { RecordKind } from '../../src/capture/record.js';
import { MemoryTarget } from '../../src/capture/target.js';
import { CaptureWriter } from '../../src/capture/writer.js';
import type { InterfaceMapper } from '../../src/nat/mapper.js';
import { parseRule } from '../../src/nat/rules.js';
import { RuleTable } from '../../src/nat/table.js';
import { Translator } from '../../src/nat/translate.js';

/** Broad rules so that most corpus packets get translated. */
export const FUZZ_RULES = ['10.0.0.0/8=11.0.0.0/8', '192.168.0.0/16=172.20.0.0/16', '172.16.0.0/16=172.21.0.0/16', '2001::/16=2002::/16', 'fd00::/8=fc00::/8'].map((r) => parseRule(r));

const translator = new Translator();

export interface RunBytesResult {
  out: Buffer;
  packets: number;
  undecodable: number;
  truncatedTail: boolean;
  maxWindow: number;
}

export async function runBytes(bytes: Uint8Array, opts: { maxBlock?: number; annotate?: boolean } = {}): Promise<RunBytesResult> {
  const reader = await CaptureReader.fromBytes(bytes, { maxBlock: opts.maxBlock ?? 1 << 20 });
  const target = new MemoryTarget();
  const writer = new CaptureWriter(target, reader.format, { annotating: opts.annotate === true });
  const table = new RuleTable(FUZZ_RULES, 'guest-to-host');
  const mappers: InterfaceMapper[] = [];
  let packets = 0;
  let undecodable = 0;
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
      let comment: string | undefined;
      if (rec.kind === RecordKind.Packet) {
        packets++;
        const m = mappers[rec.interfaceId];
        if (m?.active) {
          const r = translator.translate(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, rec.iface!.linkType, m);
          if (r.undecodable !== null) undecodable++;
          if (opts.annotate && r.changed) comment = r.describe(m);
        }
      } else if (rec.kind === RecordKind.InterfaceDescription || rec.kind === RecordKind.PcapHeader) {
        mappers[rec.iface!.id] = table.mapperFor(rec.iface!);
      }
      writer.write(rec, comment);
    }
    writer.finish();
    await writer.flush();
  } finally {
    await reader.close();
  }
  return { out: target.bytes(), packets, undecodable, truncatedTail: reader.truncatedTail !== null, maxWindow };
}
