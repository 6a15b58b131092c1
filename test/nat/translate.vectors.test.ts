import { describe, expect, it } from 'vitest';
import { Translator, K_ARP_SENDER, K_ARP_TARGET, K_INNER_IPV4_DST, K_INNER_IPV6_DST, K_IPV4_DST, K_IPV4_SRC, K_IPV6_DST, K_IPV6_SRC, K_NDP_TARGET, C_IPV4, C_L4, C_INNER_IPV4, C_INNER_L4 } from '../../src/nat/translate.js';
import { hex, toHex } from '../helpers/wire-build.js';
import { TestMapper } from '../helpers/wire-mapper.js';
import { residuals } from '../helpers/wire-verify.js';
import { VECTORS } from '../helpers/wire-vectors.js';

export const RULES = ['10.0.0.0/24=192.168.1.0/24', 'fd00::/64=fd00:1::/64', 'fd10:0:0:8::/61=fd20:0:0:10::/61'];

/** What each vector must report as rewritten. */
const EXPECT: Record<string, { rewrites: number[]; checksums: number; rule: number }> = {
  'eth-ipv4-udp': { rewrites: [K_IPV4_SRC, K_IPV4_DST], checksums: C_IPV4 | C_L4, rule: 0 },
  'eth-ipv4-udp-zero': { rewrites: [K_IPV4_SRC], checksums: C_IPV4, rule: 0 },
  'eth-ipv4-udp-ffff': { rewrites: [K_IPV4_SRC], checksums: C_IPV4 | C_L4, rule: 0 },
  'eth-ipv4-tcp-padding': { rewrites: [K_IPV4_SRC], checksums: C_IPV4 | C_L4, rule: 0 },
  'eth-ipv4-icmp-echo': { rewrites: [K_IPV4_SRC], checksums: C_IPV4, rule: 0 },
  'eth-ipv4-icmp-unreach': { rewrites: [K_IPV4_SRC, K_INNER_IPV4_DST], checksums: C_IPV4 | C_L4 | C_INNER_IPV4 | C_INNER_L4, rule: 0 },
  'eth-arp': { rewrites: [K_ARP_SENDER, K_ARP_TARGET], checksums: 0, rule: 0 },
  'eth-ipv6-udp': { rewrites: [K_IPV6_SRC, K_IPV6_DST], checksums: C_L4, rule: 1 },
  'eth-ipv6-ndp-ns': { rewrites: [K_IPV6_SRC, K_NDP_TARGET], checksums: C_L4, rule: 1 },
  'eth-ipv6-tcp-prefix61': { rewrites: [K_IPV6_SRC], checksums: C_L4, rule: 2 },
  'sll-ipv4-udp': { rewrites: [K_IPV4_SRC], checksums: C_IPV4 | C_L4, rule: 0 },
  'sll2-ipv4-tcp': { rewrites: [K_IPV4_SRC], checksums: C_IPV4 | C_L4, rule: 0 },
  'eth-qinq-ipv4-udp': { rewrites: [K_IPV4_SRC, K_IPV4_DST], checksums: C_IPV4 | C_L4, rule: 0 },
  'eth-mpls-ipv4-udp': { rewrites: [K_IPV4_SRC, K_IPV4_DST], checksums: C_IPV4 | C_L4, rule: 0 },
  'null-ipv6-udp': { rewrites: [K_IPV6_SRC, K_IPV6_DST], checksums: C_L4, rule: 1 },
  'loop-ipv4-udp': { rewrites: [K_IPV4_SRC, K_IPV4_DST], checksums: C_IPV4 | C_L4, rule: 0 },
  'raw-ipv4-udp': { rewrites: [K_IPV4_SRC, K_IPV4_DST], checksums: C_IPV4 | C_L4, rule: 0 },
  'eth-ipv6-icmpv6-unreach': { rewrites: [K_IPV6_SRC, K_INNER_IPV6_DST], checksums: C_L4 | C_INNER_L4, rule: 1 },
};

describe('translator byte vectors (guest-to-host and back)', () => {
  const g2h = new TestMapper(RULES, 'g2h');
  const h2g = g2h.reversed();
  const tr = new Translator();
  for (const [name, vec] of Object.entries(VECTORS)) {
    it(name, () => {
      const input = hex(vec.input);
      const expected = hex(vec.output);
      const buf = input.slice();
      const r = tr.translate(buf, 0, buf.length, buf.length, vec.linkType, g2h);
      expect(toHex(buf)).toBe(toHex(expected));
      expect(r.changed).toBe(true);
      const e = EXPECT[name]!;
      expect(r.rewrites).toBe(e.rewrites.reduce((a, k) => a | (1 << k), 0));
      expect(r.checksums).toBe(e.checksums);
      expect(r.rule).toBe(e.rule);
      expect(r.undecodable).toBeNull();
      // full recomputation agrees: every present checksum is valid
      const res = residuals(buf, vec.linkType);
      for (const x of [res.ip, res.l4, res.innerIp]) if (x !== null) expect(x).toBe(0xffff);
      // and back: identity
      tr.translate(buf, 0, buf.length, buf.length, vec.linkType, h2g);
      expect(toHex(buf)).toBe(toHex(input));
    });
  }

  it('a UDP checksum that computes to 0 is written 0xFFFF (RFC 768), never 0x0000 (tcprewrite defect)', () => {
    const buf = hex(VECTORS['eth-ipv4-udp-ffff']!.input);
    tr.translate(buf, 0, buf.length, buf.length, 1, g2h);
    expect((buf[14 + 20 + 6]! << 8) | buf[14 + 20 + 7]!).toBe(0xffff);
  });

  it('UDP/IPv4 checksum 0 ("none") stays 0', () => {
    const buf = hex(VECTORS['eth-ipv4-udp-zero']!.input);
    tr.translate(buf, 0, buf.length, buf.length, 1, g2h);
    expect((buf[40]! << 8) | buf[41]!).toBe(0);
  });

  it('Ethernet padding is neither touched nor folded into the IP length (tcprewrite defect)', () => {
    const buf = hex(VECTORS['eth-ipv4-tcp-padding']!.input);
    tr.translate(buf, 0, buf.length, buf.length, 1, g2h);
    expect(toHex(buf.subarray(54))).toBe('deadbeef0001');
    expect((buf[16]! << 8) | buf[17]!).toBe(40);
    expect(tr.decoded.padding).toBe(6);
  });

  it('describe() names every rewrite with its rule', () => {
    const buf = hex(VECTORS['eth-ipv4-icmp-unreach']!.input);
    const r = tr.translate(buf, 0, buf.length, buf.length, 1, g2h);
    expect(r.describe(g2h)).toBe(
      'ssnat: ipv4.src 10.0.0.2>192.168.1.2 (rule 10.0.0.0/24=192.168.1.0/24); icmp.inner-ipv4.dst 10.0.0.2>192.168.1.2 (rule 10.0.0.0/24=192.168.1.0/24)',
    );
    const b6 = hex(VECTORS['eth-ipv6-tcp-prefix61']!.input);
    const r6 = tr.translate(b6, 0, b6.length, b6.length, 1, g2h);
    expect(r6.describe(g2h)).toBe('ssnat: ipv6.src fd10:0:0:f::5>fd20:0:0:17::5 (rule fd10:0:0:8::/61=fd20:0:0:10::/61)');
  });
});
