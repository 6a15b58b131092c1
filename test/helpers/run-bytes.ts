/**
 * The whole per-packet path in memory: reader -> decoder -> translator ->
 * verifier -> writer, with one decoder/translator reused across calls (as a
 * long run reuses them) and a verifier per capture.
 */
import { RecordKind, type CaptureRecord } from '../../src/capture/record.js';
import { passThrough } from './capture.js';
import type { InterfaceMapper } from '../../src/nat/mapper.js';
import { parseRule } from '../../src/nat/rules.js';
import { RuleTable } from '../../src/nat/table.js';
import { Translator } from '../../src/nat/translate.js';
import { Findings } from '../../src/report/model.js';
import { Verifier } from '../../src/verify/verifier.js';

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
  const table = new RuleTable(FUZZ_RULES, 'guest-to-host');
  const mappers: InterfaceMapper[] = [];
  const verifier = new Verifier(new Findings(), { maxFlows: 4096, maxDatagrams: 64, maxArpEntries: 256 });
  let undecodable = 0;
  const translate = (rec: CaptureRecord): string | undefined => {
    if (rec.kind === RecordKind.InterfaceDescription || rec.kind === RecordKind.PcapHeader) {
      mappers[rec.iface!.index] = table.mapperFor(rec.iface!);
      return undefined;
    }
    if (rec.kind !== RecordKind.Packet) return undefined;
    const m = mappers[rec.interfaceIndex];
    let comment: string | undefined;
    if (m?.active) {
      const r = translator.translate(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, rec.iface!.linkType, m);
      if (opts.annotate && r.changed) comment = r.describe(m);
    } else {
      translator.decoder.decode(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, rec.iface!.linkType);
    }
    const d = translator.decoded;
    if (d.undecodable !== null) undecodable++;
    else verifier.packet(rec, d, m ?? null, translator.decoder.view);
    return comment;
  };
  const r = await passThrough(bytes, { annotating: opts.annotate === true }, translate, undefined, { maxBlock: opts.maxBlock ?? 1 << 20 });
  verifier.finish();
  return { out: r.out, packets: r.packets, undecodable, truncatedTail: r.truncatedTail !== null, maxWindow: r.maxWindow };
}
