/**
 * Every packet of every readable corpus capture: decode never throws, and for
 * a rule built from each capture's most common IPv4 /24 and IPv6 /64,
 * guest-to-host keeps every checksum residual (valid stays valid, bad stays
 * exactly as bad, a transmit-offload seed stays a seed of the new addresses)
 * and host-to-guest restores the original bytes. Uses the real
 * compiled rule table (src/nat/table.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InterfaceMapper } from '../../src/nat/mapper.js';
import { parseRule } from '../../src/nat/rules.js';
import { RuleTable } from '../../src/nat/table.js';
import { Translator } from '../../src/nat/translate.js';
import { NET_ARP, NET_IPV4, NET_IPV6, PacketDecoder } from '../../src/wire/decode.js';
import { readPackets, type TestPacket } from '../helpers/capture.js';
import { residuals, sameResidual } from '../helpers/wire-verify.js';

const CORPUS = join(process.cwd(), '..', 'shared', 'corpus');
const files = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8')
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t'))
  .filter((c) => c.length > 5 && Number(c[5]) > 0)
  .map((c) => c[0]!);

function mapperOf(rules: string[], direction: 'guest-to-host' | 'host-to-guest', linkType: number): InterfaceMapper {
  const table = new RuleTable(rules.map((r) => parseRule(r)), direction);
  return table.mapperFor({ id: 0, name: undefined, linkType, snapLength: 0, ipv4: [], ipv6: [] });
}

/** Collects every address the decoder finds (outer, inner, ARP) to pick a guest prefix and a free host prefix. */
function survey(pkts: TestPacket[]) {
  const dec = new PacketDecoder();
  const v4 = new Map<string, number>();
  const v6 = new Map<string, number>();
  const all4 = new Set<string>();
  const all6 = new Set<string>();
  for (const p of pkts) {
    const d = dec.decode(p.data, 0, p.data.length, p.originalLength, p.linkType);
    const b = p.data;
    const add = (off: number, v6len: boolean) => {
      if (off < 0 || off + (v6len ? 16 : 4) > d.capEnd) return;
      if (v6len) {
        const k = Array.from(b.subarray(off, off + 8), (x) => x.toString(16).padStart(2, '0')).join('');
        v6.set(k, (v6.get(k) ?? 0) + 1);
        all6.add(k);
      } else {
        const k = `${b[off]}.${b[off + 1]}.${b[off + 2]}`;
        v4.set(k, (v4.get(k) ?? 0) + 1);
        all4.add(k);
      }
    };
    for (const ip of [d.ip, d.inner]) {
      if (ip.version === 4 || ip.version === 6) {
        add(ip.srcOff, ip.version === 6);
        add(ip.dstOff, ip.version === 6);
      }
    }
    if (d.net === NET_ARP) {
      add(d.netOff + 14, false);
      add(d.netOff + 24, false);
    }
  }
  const usable4 = [...v4.entries()].filter(([k]) => {
    const a = Number(k.split('.')[0]);
    return a !== 0 && a !== 127 && a < 224 && !(a === 169 && k.startsWith('169.254'));
  });
  const usable6 = [...v6.entries()].filter(([k]) => !k.startsWith('fe8') && !k.startsWith('fe9') && !k.startsWith('fea') && !k.startsWith('feb') && !k.startsWith('ff') && k !== '0000000000000000');
  usable4.sort((a, b) => b[1] - a[1]);
  usable6.sort((a, b) => b[1] - a[1]);
  const rules: string[] = [];
  if (usable4[0]) {
    let n = 0;
    while (all4.has(`198.18.${n}`)) n++;
    rules.push(`${usable4[0][0]}.0/24=198.18.${n}.0/24`);
  }
  if (usable6[0]) {
    const k = usable6[0][0];
    let n = 0;
    while (all6.has(`fd5e00000000${n.toString(16).padStart(4, '0')}`)) n++;
    const g = k.match(/.{4}/g)!.join(':');
    rules.push(`${g}::/64=fd5e:0:0:${n.toString(16)}::/64`);
  }
  return rules;
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
        pkts = await readPackets(join(CORPUS, f));
      } catch {
        continue; // malformed capture: the reader's business, not the translator's
      }
      files2++;
      const rules = survey(pkts);
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
          expect(sameResidual(after.ip, before.ip), where).toBe(true);
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
