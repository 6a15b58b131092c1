/**
 * Every packet of every readable corpus capture: decode never throws, and for
 * a rule built from each capture's most common IPv4 /24 and IPv6 /64,
 * guest-to-host keeps every checksum residual (valid stays valid, bad stays
 * exactly as bad, a transmit-offload seed stays a seed of the new addresses)
 * and host-to-guest restores the original bytes. Uses the real
 * compiled rule table (src/nat/table.ts).
 */
import { describe, expect, it } from 'vitest';
import type { InterfaceMapper } from '../../src/nat/mapper.js';
import { parseRule } from '../../src/nat/rules.js';
import { RuleTable } from '../../src/nat/table.js';
import { Translator } from '../../src/nat/translate.js';
import { NET_IPV4, NET_IPV6 } from '../../src/wire/decode.js';
import { readPackets, type TestPacket } from '../helpers/capture.js';
import { corpusPath, manifest } from '../helpers/corpus.js';
import { rulesForCapture } from '../helpers/survey.js';
import { residuals, sameResidual } from '../helpers/wire-verify.js';

const files = manifest()
  .filter((e) => e.packets > 0)
  .map((e) => e.path);

function mapperOf(rules: string[], direction: 'guest-to-host' | 'host-to-guest', linkType: number): InterfaceMapper {
  const table = new RuleTable(rules.map((r) => parseRule(r)), direction);
  return table.mapperFor({ id: 0, index: 0, name: undefined, linkType, snapLength: 0, ipv4: [], ipv6: [] });
}

describe('corpus captures', () => {
  it('decode + g2h + h2g over every packet: residuals kept, identity restored', async () => {
    const tr = new Translator();
    let total = 0;
    let changed = 0;
    let files2 = 0;
    for (const f of files) {
      let pkts: TestPacket[];
      try {
        pkts = await readPackets(corpusPath(f));
      } catch {
        continue; // malformed capture: the reader's business, not the translator's
      }
      files2++;
      const rules = rulesForCapture(pkts);
      if (rules.length === 0) continue;
      const mappers = new Map<number, [InterfaceMapper, InterfaceMapper]>();
      for (const p of pkts) {
        total++;
        let m = mappers.get(p.linkType);
        if (!m) {
          m = [mapperOf(rules, 'guest-to-host', p.linkType), mapperOf(rules, 'host-to-guest', p.linkType)];
          mappers.set(p.linkType, m);
        }
        const buf = p.data.slice();
        const cap = buf.length;
        const before = residuals(buf, p.linkType, cap, p.originalLength);
        const r = tr.translate(buf, 0, cap, p.originalLength, p.linkType, m[0]);
        if (r.changed) changed++;
        const d = tr.decoded;
        if (d.net === NET_IPV4 || d.net === NET_IPV6) {
          const after = residuals(buf, p.linkType, cap, p.originalLength);
          const where = `${f} frame ${p.frame}`;
          // A wrong 0x0000 header beside an offload seed or in a TSO frame is IP checksum offload: it stays 0x0000.
          if (before.ipZero && (before.l4Seed || before.tso)) expect([buf[d.ip.off + 10], buf[d.ip.off + 11]], `${where}: offloaded header`).toEqual([0, 0]);
          else expect(sameResidual(after.ip, before.ip), where).toBe(true);
          // An offload seed stays a seed (of the new addresses); any other checksum keeps its residual.
          if (before.l4Seed) expect(after.l4Seed, `${where}: offload seed`).toBe(true);
          else expect(sameResidual(after.l4, before.l4), where).toBe(true);
          expect(sameResidual(after.innerIp, before.innerIp), where).toBe(true);
        }
        tr.translate(buf, 0, cap, p.originalLength, p.linkType, m[1]);
        expect(Buffer.from(buf).equals(Buffer.from(p.data)), `${f} frame ${p.frame} round trip (${rules.join(' ')})`).toBe(true);
      }
    }
    expect(files2).toBeGreaterThan(50);
    expect(changed).toBeGreaterThan(1000);
    console.log(`corpus: ${files2} captures, ${total} packets, ${changed} translated`);
  }, 120_000);
});
