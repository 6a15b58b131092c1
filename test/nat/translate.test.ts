import { describe, expect, it } from 'vitest';
import { C_FCS, C_INNER_L4, C_L4, K_ARP_SENDER, K_ARP_TARGET, K_INNER_IPV4_DST, K_INNER_IPV4_SRC, K_IPV4_DST, K_IPV4_SRC, K_IPV6_DST, K_IPV6_SRC, K_INNER_IPV6_DST, K_INNER_IPV6_SRC, K_NDP_REDIRECT_DST, K_NDP_TARGET, K_ICMP_REDIRECT_GATEWAY, K_RARP_SENDER, K_RARP_TARGET, Translator } from '../../src/nat/translate.js';
import * as B from '../helpers/wire-build.js';
import { TestMapper } from '../helpers/wire-mapper.js';
import { residuals, sameResidual } from '../helpers/wire-verify.js';
import { icmpRedirect4, redirectWithHeader } from '../helpers/rich-frames.js';
import { wlanFromEthernet, type WlanOptions } from '../helpers/wlan-build.js';
import { crc32 } from 'node:zlib';

const { hex, toHex, ip4, ip6, concat, be16, be32 } = B;
const RULES = ['10.0.0.0/24=192.168.1.0/24', 'fd00::/64=fd00:1::/64', 'fd10:0:0:8::/61=fd20:0:0:10::/61'];
const g2h = new TestMapper(RULES, 'g2h');
const tr = new Translator();
const payload = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 255);

function xlate(buf: Uint8Array, lt = 1, capLen = buf.length, orig = capLen, mapper = g2h) {
  return tr.translate(buf, 0, capLen, orig, lt, mapper);
}
function bit(...k: number[]) {
  return k.reduce((a, x) => a | (1 << x), 0);
}
function u16(b: Uint8Array, o: number) {
  return (b[o]! << 8) | b[o + 1]!;
}

describe('no laundering: bad checksums stay exactly as bad (tcprewrite defect)', () => {
  it('IPv4 header and UDP checksums that were wrong stay wrong by the same amount', () => {
    const buf = B.ether(0x800, B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, B.udp(1000, 53, payload(30))));
    buf[24] = buf[24]! ^ 0x01; // IP checksum off by one
    buf[40] = buf[40]! ^ 0x10; // UDP checksum off
    const before = residuals(buf, 1);
    expect(before.ip).not.toBe(0xffff);
    expect(before.l4).not.toBe(0xffff);
    xlate(buf);
    const after = residuals(buf, 1);
    expect(sameResidual(after.ip, before.ip)).toBe(true);
    expect(sameResidual(after.l4, before.l4)).toBe(true);
  });
});

describe('IPv4 fragments', () => {
  const src = ip4('10.0.0.2');
  const dst = ip4('8.8.8.8');
  const full = B.fillL4(B.udp(5000, 53, payload(40)), 17, B.pseudo4(src, dst, 17, 48));
  const frag1 = (s: number) => B.ether(0x800, B.ipv4(s, dst, 17, full.subarray(0, 24), { ff: 0x2000, id: 77 }));
  const frag2 = (s: number) => B.ether(0x800, B.ipv4(s, dst, 17, full.subarray(24), { ff: 3, id: 77 }));

  it('first fragment: L4 checksum (covering the whole datagram) updated incrementally', () => {
    const buf = frag1(src);
    const r = xlate(buf);
    expect(r.rewrites).toBe(bit(K_IPV4_SRC));
    const full2 = B.fillL4(B.udp(5000, 53, payload(40)), 17, B.pseudo4(ip4('192.168.1.2'), dst, 17, 48));
    expect(u16(buf, 34 + 6)).toBe(u16(full2, 6));
    expect(residuals(buf, 1).ip).toBe(0xffff);
    expect(tr.decoded.ip.isFragment).toBe(true);
    expect(tr.decoded.ip.moreFragments).toBe(true);
  });

  it('later fragment: only the IP header changes, payload bytes untouched', () => {
    const buf = frag2(src);
    const r = xlate(buf);
    expect(r.checksums & C_L4).toBe(0);
    expect(toHex(buf.subarray(34))).toBe(toHex(full.subarray(24)));
    expect(toHex(buf)).toBe(toHex(frag2(ip4('192.168.1.2'))));
    expect(tr.decoded.ip.fragOffset).toBe(24);
    expect(tr.decoded.ip.l4Off).toBe(-1);
  });
});

describe('snaplen truncation', () => {
  // Whenever the translated addresses are captured, translate(cut(p)) == cut(translate(p)).
  // (A cut inside the source address leaves it, and so the checksum, untranslated.)
  it('translate(cut(p)) == cut(translate(p)), flagged truncated', () => {
    const p = B.ether(0x800, B.ipv4L4(ip4('10.0.0.9'), ip4('1.2.3.4'), 6, B.tcp(1, 2, payload(100))));
    const whole = p.slice();
    xlate(whole);
    for (const cap of [14, 20, 24, 30, 34, 40, 50, 52, 54, 60]) {
      const cut = p.slice();
      const r = xlate(cut, 1, cap, p.length);
      expect(r.truncated).toBe(true);
      expect(toHex(cut.subarray(0, cap))).toBe(toHex(whole.subarray(0, cap)));
      expect(toHex(cut.subarray(cap))).toBe(toHex(p.subarray(cap)));
    }
    // a checksum field cut in half is not written at all
    const half = p.slice();
    const r = xlate(half, 1, 51, p.length);
    expect(r.checksums & C_L4).toBe(0);
    expect(half[50]).toBe(p[50]);
  });
});

describe('ICMPv4 errors (inner ICMP headers: tcprewrite defect)', () => {
  it('a quote of only 8 bytes of UDP: inner UDP checksum still updated incrementally', () => {
    const g = ip4('10.0.0.2');
    const o = ip4('8.8.8.8');
    const orig = B.ipv4L4(o, g, 17, B.udp(53, 2345, payload(60)));
    const quote = orig.subarray(0, 28);
    const buf = B.ether(0x800, B.ipv4L4(g, o, 1, B.icmpMsg(11, 0, 0, quote.slice())));
    const r = xlate(buf);
    expect(r.rewrites).toBe(bit(K_IPV4_SRC, K_INNER_IPV4_DST));
    expect(r.checksums & C_INNER_L4).toBe(C_INNER_L4);
    const origT = B.ipv4L4(o, ip4('192.168.1.2'), 17, B.udp(53, 2345, payload(60)));
    expect(toHex(buf.subarray(42))).toBe(toHex(origT.subarray(0, 28)));
    const res = residuals(buf, 1);
    expect(res.ip).toBe(0xffff);
    expect(res.l4).toBe(0xffff);
    expect(res.innerIp).toBe(0xffff);
  });

  it('an error quoting an error: one level only', () => {
    const innermost = B.ipv4L4(ip4('10.0.0.3'), ip4('8.8.8.8'), 17, B.udp(1, 2, payload(4)));
    const innerErr = B.ipv4L4(ip4('8.8.8.8'), ip4('10.0.0.3'), 1, B.icmpMsg(3, 3, 0, innermost.slice()));
    const buf = B.ether(0x800, B.ipv4L4(ip4('9.9.9.9'), ip4('8.8.8.8'), 1, B.icmpMsg(11, 0, 0, innerErr.slice())));
    const r = xlate(buf);
    expect(r.rewrites).toBe(bit(K_INNER_IPV4_DST));
    expect(toHex(buf.subarray(14 + 20 + 8 + 20 + 8))).toBe(toHex(innermost));
    expect(residuals(buf, 1).l4).toBe(0xffff);
    expect(residuals(buf, 1).innerIp).toBe(0xffff);
  });

  it('both inner addresses are looked up independently', () => {
    const inner = B.ipv4L4(ip4('10.0.0.5'), ip4('10.0.0.6'), 17, B.udp(1, 2, payload(4)));
    const buf = B.ether(0x800, B.ipv4L4(ip4('10.0.0.1'), ip4('10.0.0.5'), 1, B.icmpMsg(3, 1, 0, inner.slice())));
    const r = xlate(buf);
    expect(r.rewrites).toBe(bit(K_IPV4_SRC, K_IPV4_DST, K_INNER_IPV4_SRC, K_INNER_IPV4_DST));
    expect(residuals(buf, 1).l4).toBe(0xffff);
  });
});

describe('ARP', () => {
  const arp = (htype: number, s: string, t: string) => concat(be16(htype), be16(0x800), Uint8Array.of(6, 4), be16(1), B.MAC_A, be32(ip4(s)), hex('000000000000'), be32(ip4(t)));
  it('ARP probe: sender 0.0.0.0 never translated, target is', () => {
    const buf = B.ether(0x806, arp(1, '0.0.0.0', '10.0.0.2'));
    const r = xlate(buf);
    expect(r.rewrites).toBe(bit(K_ARP_TARGET));
    expect(toHex(buf.subarray(28, 32))).toBe('00000000');
    expect(toHex(buf.subarray(38, 42))).toBe('c0a80102');
    expect(toHex(buf.subarray(22, 28))).toBe(toHex(B.MAC_A)); // hardware address untouched
  });
  it('ARP of another hardware type (IEEE 802, htype 6) is translated too: RFC 826 places the addresses by hlen', () => {
    const buf = B.ether(0x806, arp(6, '10.0.0.2', '10.0.0.1'));
    expect(xlate(buf).rewrites).toBe(bit(K_ARP_SENDER, K_ARP_TARGET));
    expect(toHex(buf.subarray(28, 32))).toBe('c0a80102');
    expect(toHex(buf.subarray(38, 42))).toBe('c0a80101');
  });
  it('InfiniBand ARP (htype 32, 20-byte hardware addresses): protocol addresses at 8+20 and 8+20+4+20', () => {
    const hw = Uint8Array.from({ length: 20 }, (_, i) => 0xa0 + i);
    const body = concat(be16(32), be16(0x800), Uint8Array.of(20, 4), be16(2), hw, be32(ip4('10.0.0.2')), hw, be32(ip4('10.0.0.7')));
    const buf = B.ether(0x806, body);
    const before = buf.slice();
    expect(xlate(buf).rewrites).toBe(bit(K_ARP_SENDER, K_ARP_TARGET));
    expect(toHex(buf.subarray(14 + 28, 14 + 32))).toBe('c0a80102');
    expect(toHex(buf.subarray(14 + 52, 14 + 56))).toBe('c0a80107');
    // Hardware addresses untouched.
    expect(toHex(buf.subarray(14 + 8, 14 + 28))).toBe(toHex(before.subarray(14 + 8, 14 + 28)));
    expect(toHex(buf.subarray(14 + 32, 14 + 52))).toBe(toHex(before.subarray(14 + 32, 14 + 52)));
  });
  it('RARP (0x8035): the same places, its own kinds', () => {
    const body = concat(be16(1), be16(0x800), Uint8Array.of(6, 4), be16(4), B.MAC_B, be32(ip4('10.0.0.1')), B.MAC_A, be32(ip4('10.0.0.2')));
    const buf = B.ether(0x8035, body);
    expect(xlate(buf).rewrites).toBe(bit(K_RARP_SENDER, K_RARP_TARGET));
    expect(toHex(buf.subarray(28, 32))).toBe('c0a80101');
    expect(toHex(buf.subarray(38, 42))).toBe('c0a80102');
  });
  it('protocol addresses that are not IPv4 (or not 4 bytes) pass unchanged', () => {
    for (const [ptype, plen] of [
      [0x86dd, 4],
      [0x800, 6],
    ] as const) {
      const body = concat(be16(1), be16(ptype), Uint8Array.of(6, plen), be16(1), B.MAC_A, be32(ip4('10.0.0.2')), new Uint8Array(plen - 4), new Uint8Array(6), be32(ip4('10.0.0.1')), new Uint8Array(plen - 4));
      const buf = B.ether(0x806, body);
      const before = buf.slice();
      expect(xlate(buf).changed).toBe(false);
      expect(toHex(buf)).toBe(toHex(before));
    }
  });
  it('ARP over 802.3 LLC/SNAP is translated', () => {
    const snap = concat(hex('aaaa03000000'), be16(0x806), arp(1, '10.0.0.2', '10.0.0.1'));
    const buf = B.ether(snap.length, snap);
    expect(xlate(buf).rewrites).toBe(bit(K_ARP_SENDER, K_ARP_TARGET));
    expect(toHex(buf.subarray(22 + 14, 22 + 18))).toBe('c0a80102');
  });
  it('cut short: the captured sender is translated, the missing target is not', () => {
    const buf = B.ether(0x806, arp(1, '10.0.0.2', '10.0.0.1'));
    const r = xlate(buf, 1, 14 + 20, buf.length);
    expect(r.rewrites).toBe(bit(K_ARP_SENDER));
  });
});

describe('IPv6', () => {
  it('UDP/IPv6 checksum 0 stays 0', () => {
    const buf = B.ether(0x86dd, B.ipv6L4(ip6('fd00::2'), ip6('fd00::1'), 17, B.udp(1, 2, payload(10)), true));
    xlate(buf);
    expect(u16(buf, 54 + 6)).toBe(0);
  });

  it('NDP NA target and Redirect target/destination, options untouched', () => {
    const na = B.ether(0x86dd, B.ipv6L4(ip6('fd00::1'), ip6('fd00::2'), 58, concat(Uint8Array.of(136, 0, 0, 0), be32(0x60000000), ip6('fd00::1'), hex('0201525400abcdef'))));
    let r = xlate(na);
    expect(r.rewrites).toBe(bit(K_IPV6_SRC, K_IPV6_DST, K_NDP_TARGET));
    expect(residuals(na, 1).l4).toBe(0xffff);
    expect(toHex(na.subarray(na.length - 8))).toBe('0201525400abcdef');
    const rd = B.ether(0x86dd, B.ipv6L4(ip6('fe80::1'), ip6('fd00::2'), 58, concat(Uint8Array.of(137, 0, 0, 0), be32(0), ip6('fd00::9'), ip6('fd00::7'))));
    r = xlate(rd);
    expect(r.rewrites).toBe(bit(K_IPV6_DST, K_NDP_TARGET, K_NDP_REDIRECT_DST));
    expect(toHex(rd.subarray(22, 38))).toBe(toHex(ip6('fe80::1'))); // link-local never translated
    expect(residuals(rd, 1).l4).toBe(0xffff);
  });

  it('prefix lengths that are not a multiple of 8 keep the host bits (tcprewrite defect)', () => {
    const m = new TestMapper(['fd00::/57=fd00:0:0:80::/57'], 'g2h');
    const buf = B.ether(0x86dd, B.ipv6L4(ip6('fd00:0:0:7f:1::1'), ip6('2001:db8::1'), 17, B.udp(1, 2, payload(3))));
    xlate(buf, 1, buf.length, buf.length, m);
    expect(toHex(buf.subarray(22, 38))).toBe(toHex(ip6('fd00:0:0:ff:1::1')));
    expect(residuals(buf, 1).l4).toBe(0xffff);
  });

  /** IPv6 + routing header (type, segments left, addresses) + UDP, checksum against the final destination. */
  function routed(src: string, dst: string, type: number, left: number, addrs: string[], finalIdx: number) {
    const rhLen = 8 + 16 * addrs.length;
    const u = B.udp(7, 9, payload(12));
    const fin = ip6(addrs[finalIdx]!);
    B.fillL4(u, 17, B.pseudo6(ip6(src), left > 0 ? fin : ip6(dst), 17, u.length));
    const rh = concat(Uint8Array.of(17, rhLen / 8 - 1, type, left, type === 4 ? addrs.length - 1 : 0, 0, 0, 0), ...addrs.map(ip6));
    return B.ether(0x86dd, B.ipv6(ip6(src), ip6(dst), 43, concat(rh, u)));
  }

  it('routing header with segments left: dst translated, L4 adjusted for the source only; routing addresses untouched', () => {
    for (const [type, finalIdx] of [
      [0, 1],
      [4, 0],
      [2, 0],
    ] as const) {
      const addrs = type === 2 ? ['fd00::99'] : ['fd00::50', 'fd00::60'];
      const buf = routed('fd00::2', 'fd00::40', type, 1, addrs, type === 2 ? 0 : finalIdx);
      const rhBefore = toHex(buf.subarray(54, 54 + 8 + 16 * addrs.length));
      const r = xlate(buf);
      expect(r.rewrites).toBe(bit(K_IPV6_SRC, K_IPV6_DST));
      expect(tr.decoded.ip.pseudoDstOff).toBe(54 + 8 + 16 * (type === 0 ? 1 : 0));
      expect(toHex(buf.subarray(54, 54 + 8 + 16 * addrs.length))).toBe(rhBefore);
      expect(residuals(buf, 1).l4).toBe(0xffff);
    }
  });

  it('routing header with segments left 0: the header destination is the final one', () => {
    const buf = routed('fd00::2', 'fd00::40', 4, 0, ['fd00::40'], 0);
    xlate(buf);
    expect(tr.decoded.ip.pseudoDstOff).toBe(14 + 24);
    expect(residuals(buf, 1).l4).toBe(0xffff);
  });

  it('fragment header: first fragment adjusted, later fragment untouched past the headers', () => {
    const u = B.udp(7, 9, payload(30));
    B.fillL4(u, 17, B.pseudo6(ip6('fd00::2'), ip6('2001:db8::1'), 17, u.length));
    const f1 = B.ether(0x86dd, B.ipv6(ip6('fd00::2'), ip6('2001:db8::1'), 44, concat(hex('1100000100000005'), u.subarray(0, 16))));
    let r = xlate(f1);
    expect(r.checksums & C_L4).toBe(C_L4);
    const u2 = B.udp(7, 9, payload(30));
    B.fillL4(u2, 17, B.pseudo6(ip6('fd00:1::2'), ip6('2001:db8::1'), 17, u.length));
    expect(u16(f1, 62 + 6)).toBe(u16(u2, 6));
    const f2 = B.ether(0x86dd, B.ipv6(ip6('fd00::2'), ip6('2001:db8::1'), 44, concat(hex('1100001000000005'), u.subarray(16))));
    r = xlate(f2);
    expect(r.checksums).toBe(0);
    expect(toHex(f2.subarray(62))).toBe(toHex(u.subarray(16)));
    expect(tr.decoded.ip.fragId).toBe(5);
  });
});

describe('other transports', () => {
  it('UDP-Lite and DCCP get the pseudo-header update; SCTP and ESP are untouched past IP', () => {
    for (const proto of [136, 33]) {
      const l4 = concat(be16(1), be16(2), proto === 33 ? be32(0x03000000) : be16(0), proto === 33 ? new Uint8Array(0) : be16(0), payload(20));
      const buf = B.ether(0x800, B.ipv4L4(ip4('10.0.0.2'), ip4('7.7.7.7'), proto, l4));
      const r = xlate(buf);
      expect(r.checksums & C_L4).toBe(C_L4);
      expect(residuals(buf, 1).l4).toBe(0xffff);
    }
    for (const proto of [132, 50]) {
      const body = payload(24);
      const buf = B.ether(0x800, B.ipv4(ip4('10.0.0.2'), ip4('7.7.7.7'), proto, body.slice()));
      const r = xlate(buf);
      expect(r.rewrites).toBe(bit(K_IPV4_SRC));
      expect(r.checksums & C_L4).toBe(0);
      expect(toHex(buf.subarray(34))).toBe(toHex(body));
    }
  });

  it('IPv4 AH is walked to the TCP checksum', () => {
    const t = B.tcp(1, 2, payload(8));
    B.fillL4(t, 6, B.pseudo4(ip4('10.0.0.2'), ip4('7.7.7.7'), 51, 0) - 51 + 6 + t.length);
    const ah = concat(Uint8Array.of(6, 4, 0, 0), be32(0x100), be32(1), payload(12));
    const buf = B.ether(0x800, B.ipv4(ip4('10.0.0.2'), ip4('7.7.7.7'), 51, concat(ah, t)));
    const r = xlate(buf);
    expect(r.checksums & C_L4).toBe(C_L4);
    expect(tr.decoded.ip.l4Off).toBe(34 + 24);
    expect(residuals(buf, 1).l4).toBe(0xffff);
  });

  it('an unexhausted LSRR option makes the route end the pseudo-header destination', () => {
    const fin = ip4('10.0.0.77');
    const u = B.udp(1, 2, payload(8));
    B.fillL4(u, 17, B.pseudo4(ip4('7.7.7.7'), fin, 17, u.length));
    const opt = concat(Uint8Array.of(131, 11, 4), be32(ip4('10.0.0.30')), be32(fin), Uint8Array.of(0));
    const buf = B.ether(0x800, B.ipv4(ip4('7.7.7.7'), ip4('10.0.0.30'), 17, u, { options: opt }));
    const r = xlate(buf);
    expect(r.rewrites).toBe(bit(K_IPV4_DST));
    expect(r.checksums & C_L4).toBe(0); // the final destination (in the option) did not change
    expect(residuals(buf, 1).l4).toBe(0xffff);
    expect(residuals(buf, 1).ip).toBe(0xffff);
  });
});

describe('link types and pass-through', () => {
  const ip = () => B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, B.udp(1, 2, payload(6)));
  const ip6p = () => B.ipv6L4(ip6('fd00::2'), ip6('fd00::1'), 17, B.udp(1, 2, payload(6)));
  it('NULL in either byte order, BSD AF_INET6 values, LOOP, raw 12/14/228/229', () => {
    const cases: Array<[number, Uint8Array]> = [
      [0, concat(hex('02000000'), ip())],
      [0, concat(hex('00000002'), ip())],
      [0, concat(hex('18000000'), ip6p())],
      [0, concat(hex('0000001c'), ip6p())],
      [108, concat(hex('0000001e'), ip6p())],
      [12, ip()],
      [14, ip6p()],
      [228, ip()],
      [229, ip6p()],
    ];
    for (const [lt, buf] of cases) {
      const r = xlate(buf, lt);
      expect(r.changed, `linktype ${lt}`).toBe(true);
      expect(residuals(buf, lt).l4).toBe(0xffff);
    }
  });

  it('unknown link type, unknown EtherType, inactive mapper: unchanged', () => {
    const a = ip();
    let r = xlate(a, 147) // LINKTYPE_USER0: nobody knows what it holds;
    expect(r.unknownLink).toBe(true);
    expect(r.changed).toBe(false);
    const lldp = B.ether(0x88cc, payload(30));
    const before = lldp.slice();
    r = xlate(lldp);
    expect(r.unknownProtocol).toBe(true);
    expect(tr.decoded.etherType).toBe(0x88cc);
    expect(toHex(lldp)).toBe(toHex(before));
    const m = new TestMapper(RULES);
    m.active = false;
    const b = B.ether(0x800, ip());
    expect(xlate(b, 1, b.length, b.length, m).changed).toBe(false);
  });

  it('undecodable headers pass unchanged with a reason', () => {
    const bad: Array<[string, number, Uint8Array]> = [];
    const p = B.ether(0x800, ip());
    const ihl = p.slice();
    ihl[14] = 0x44;
    bad.push(['ipv4: header length (IHL) < 5', 1, ihl]);
    const tl = p.slice();
    tl[16] = 0;
    tl[17] = 19;
    bad.push(['ipv4: total length < header length', 1, tl]);
    bad.push(['ipv4: version is not 4', 1, B.ether(0x800, ip6p())]);
    bad.push(['ipv4: version is not 4', 228, ip6p()]);
    bad.push(['ipv6: version is not 6', 229, ip()]);
    bad.push(['raw: first nibble is neither 4 nor 6', 101, payload(30)]);
    const vl = concat(B.MAC_B, B.MAC_A, ...Array.from({ length: 9 }, () => concat(be16(0x8100), be16(5))), be16(0x800), ip());
    bad.push(['vlan: too many stacked tags', 1, vl]);
    const mp = concat(B.MAC_B, B.MAC_A, be16(0x8847), ...Array.from({ length: 17 }, () => be32(0x10040)), ip());
    bad.push(['mpls: no bottom of stack within 16 labels', 1, mp]);
    const ext = B.ether(0x86dd, B.ipv6(ip6('fd00::2'), ip6('fd00::1'), 60, concat(Uint8Array.of(17, 3), payload(14))));
    bad.push(['ipv6: extension header runs past the payload length', 1, ext]);
    for (const [reason, lt, buf] of bad) {
      const before = buf.slice();
      const r = xlate(buf, lt);
      expect(r.undecodable).toBe(reason);
      expect(r.changed).toBe(false);
      expect(toHex(buf)).toBe(toHex(before));
      expect(r.describe(g2h)).toContain('undecodable');
    }
  });

  it('VLAN ids and MPLS labels are recorded', () => {
    const buf = concat(B.MAC_B, B.MAC_A, be16(0x88a8), be16(0x2064), be16(0x8100), be16(200), be16(0x8847), be32((16 << 12) | 0x40), be32((17 << 12) | 0x140), ip());
    xlate(buf);
    const d = tr.decoded;
    expect([d.vlanCount, d.vlanIds[0], d.vlanIds[1], d.vlanTpids[0], d.vlanTpids[1]]).toEqual([2, 100, 200, 0x88a8, 0x8100]);
    expect([d.mplsCount, d.mplsLabels[0], d.mplsLabels[1]]).toEqual([2, 16, 17]);
    expect(d.etherType).toBe(0x800);
    expect(d.netOff).toBe(30);
  });
});

describe('transmit checksum offload seeds stay seeds (as the kernel\'s NAT keeps them)', () => {
  // On the sending host, the TCP/UDP field holds fold(pseudo-header sum), which the NIC completes.
  const seedOf = (pseudo: number) => B.fold16(pseudo);

  it('UDP/IPv4 and TCP/IPv4: the seed of the old addresses becomes the seed of the new ones', () => {
    for (const proto of [17, 6]) {
      const l4 = proto === 17 ? B.udp(33333, 53, payload(33)) : B.tcp(33334, 53, payload(20));
      const len = l4.length;
      const buf = B.ether(0x800, B.ipv4(ip4('10.0.0.2'), ip4('10.0.0.1'), proto, l4));
      const at = 14 + 20 + (proto === 17 ? 6 : 16);
      const seed = seedOf(B.pseudo4(ip4('10.0.0.2'), ip4('10.0.0.1'), proto, len));
      buf[at] = seed >> 8;
      buf[at + 1] = seed & 0xff;
      xlate(buf);
      expect(u16(buf, at)).toBe(seedOf(B.pseudo4(ip4('192.168.1.2'), ip4('192.168.1.1'), proto, len)));
    }
  });

  it('UDP/IPv6: the same', () => {
    const l4 = B.udp(33333, 53, payload(40));
    const buf = B.ether(0x86dd, B.ipv6(ip6('fd00::2'), ip6('fd00::1'), 17, l4));
    const at = 14 + 40 + 6;
    const seed = seedOf(B.pseudo6(ip6('fd00::2'), ip6('fd00::1'), 17, l4.length));
    buf[at] = seed >> 8;
    buf[at + 1] = seed & 0xff;
    xlate(buf);
    expect(u16(buf, at)).toBe(seedOf(B.pseudo6(ip6('fd00:1::2'), ip6('fd00:1::1'), 17, l4.length)));
  });

  it('a real checksum is updated as a checksum, and a wrong one that is no seed stays as wrong', () => {
    const good = B.ether(0x800, B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, B.udp(1, 2, payload(9))));
    xlate(good);
    expect(residuals(good, 1).l4).toBe(0xffff);
    const bad = B.ether(0x800, B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, B.udp(1, 2, payload(9))));
    bad[40] = bad[40]! ^ 0x40;
    const before = residuals(bad, 1).l4;
    xlate(bad);
    expect(sameResidual(residuals(bad, 1).l4, before)).toBe(true);
  });
});

describe('PPP, PPPoE and Cisco HDLC', () => {
  const datagram = () => B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, B.udp(33333, 53, payload(12)));
  const cases: Array<[string, number, Uint8Array, number]> = [
    ['PPP (9) with HDLC address/control', 9, concat(hex('ff03'), be16(0x0021), datagram()), 4],
    ['PPP (9) without them', 9, concat(be16(0x0021), datagram()), 2],
    ['PPP (9) with a compressed protocol field', 9, concat(Uint8Array.of(0x21), datagram()), 1],
    ['PPP in HDLC framing (50)', 50, concat(hex('ff03'), be16(0x0021), datagram()), 4],
    ['Cisco HDLC in PPP_HDLC (50)', 50, concat(hex('0f00'), be16(0x0800), datagram()), 4],
    ['Cisco HDLC (104)', 104, concat(hex('8f00'), be16(0x0800), datagram()), 4],
    ['PPPoE (51)', 51, concat(hex('1100 1234 0024'.replace(/ /g, '')), be16(0x0021), datagram()), 8],
    ['PPPoE session over Ethernet', 1, B.ether(0x8864, concat(hex('110012340024'), be16(0x0021), datagram())), 22],
  ];
  it.each(cases)('%s: IPv4 found and translated with its checksums', (_name, lt, buf, netOff) => {
    const r = xlate(buf, lt);
    expect(tr.decoded.netOff).toBe(netOff);
    expect(r.rewrites).toBe(bit(K_IPV4_SRC, K_IPV4_DST));
    const ipOff = netOff;
    expect(toHex(buf.subarray(ipOff + 12, ipOff + 20))).toBe('c0a80102c0a80101');
    const res = residuals(buf.subarray(ipOff), 228);
    expect([res.ip, res.l4]).toEqual([0xffff, 0xffff]);
  });
  it('PPP carrying something else (LCP) passes unchanged', () => {
    const lcp = concat(hex('ff03'), be16(0xc021), payload(20));
    const before = lcp.slice();
    const r = xlate(lcp, 9);
    expect(r.changed).toBe(false);
    expect(tr.decoded.unknownProtocol).toBe(true);
    expect(toHex(lcp)).toBe(toHex(before));
  });
});

describe('NDP Redirected Header option (RFC 4861 4.6.3)', () => {
  it('the quoted packet is translated like an ICMPv6 error quote; the outer ICMPv6 and the quoted UDP checksums stay right', () => {
    const buf = redirectWithHeader();
    const r = xlate(buf);
    expect(r.rewrites).toBe(bit(K_IPV6_DST, K_NDP_TARGET, K_NDP_REDIRECT_DST, K_INNER_IPV6_SRC, K_INNER_IPV6_DST));
    expect(r.checksums & (C_L4 | C_INNER_L4)).toBe(C_L4 | C_INNER_L4);
    expect(residuals(buf, 1).l4).toBe(0xffff);
    const q = tr.decoded.inner;
    expect(toHex(buf.subarray(q.srcOff, q.srcOff + 16))).toBe(toHex(ip6('fd00:1::2')));
    expect(toHex(buf.subarray(q.dstOff, q.dstOff + 16))).toBe(toHex(ip6('fd00:1::3')));
    // The quoted datagram is whole: its UDP checksum checks against the translated addresses.
    const qres = residuals(buf.subarray(q.off, tr.decoded.quoteEnd), 229);
    expect(qres.l4).toBe(0xffff);
  });
  it('a Redirect without the option, or with it cut short, translates what is there', () => {
    const full = redirectWithHeader();
    const cut = full.slice(0, 14 + 40 + 40 + 8 + 8 + 20);
    const r = xlate(cut, 1, cut.length, full.length);
    expect(r.rewrites & bit(K_INNER_IPV6_SRC)).toBe(bit(K_INNER_IPV6_SRC)); // 8..24 of the quote is its source
    expect(r.rewrites & bit(K_INNER_IPV6_DST)).toBe(0);
  });
});

describe('802.11 frames (radiotap) and their FCS', () => {
  const eth = () => B.ether(0x800, B.ipv4L4(ip4('10.0.0.2'), ip4('8.8.8.8'), 17, B.udp(1000, 53, payload(30))));
  const fcsOk = (f: Uint8Array, o: WlanOptions, radio: number): boolean => {
    // The FCS covers the 802.11 header (no data padding) and the body.
    const hdr = o.qos ? 26 : 24;
    const pad = o.datapad ? (4 - (hdr % 4)) % 4 : 0;
    const body = f.subarray(radio + hdr + pad, f.length - 4);
    const c = crc32(concat(f.subarray(radio, radio + hdr), body)) >>> 0;
    return (f[f.length - 4]! | (f[f.length - 3]! << 8) | (f[f.length - 2]! << 16) | (f[f.length - 1]! << 24)) >>> 0 === c;
  };
  it.each([
    ['no FCS', {}],
    ['FCS', { fcs: true }],
    ['QoS, data padding, FCS', { qos: true, datapad: true, fcs: true }],
  ] as Array<[string, WlanOptions]>)('%s: the packet is translated as on Ethernet; an FCS is recomputed', (_n, o) => {
    const ref = eth();
    xlate(ref);
    const buf = wlanFromEthernet(eth(), o);
    const r = xlate(buf, 127);
    expect(r.rewrites).toBe(bit(K_IPV4_SRC));
    expect(toHex(buf)).toBe(toHex(wlanFromEthernet(ref, o)));
    if (o.fcs) expect(r.checksums & C_FCS).toBe(C_FCS);
    if (o.fcs) expect(fcsOk(buf, o, 9)).toBe(true);
  });
  it('a wrong FCS stays exactly as wrong (F ^ crc(old) ^ crc(new)); an untouched frame keeps its FCS', () => {
    const o: WlanOptions = { fcs: true, badFcs: true };
    const buf = wlanFromEthernet(eth(), o);
    const ref = eth();
    xlate(ref);
    xlate(buf, 127);
    expect(toHex(buf)).toBe(toHex(wlanFromEthernet(ref, o)));
    const other = wlanFromEthernet(B.ether(0x800, B.ipv4L4(ip4('1.2.3.4'), ip4('8.8.8.8'), 17, B.udp(1000, 53, payload(30)))), o);
    const before = other.slice();
    expect(xlate(other, 127).changed).toBe(false);
    expect(toHex(other)).toBe(toHex(before));
  });
  it('an FCS the capture cut is not written', () => {
    const buf = wlanFromEthernet(eth(), { fcs: true });
    const tail = toHex(buf.subarray(buf.length - 4));
    const r = xlate(buf, 127, buf.length - 2, buf.length);
    expect(r.rewrites).toBe(bit(K_IPV4_SRC));
    expect(r.checksums & C_FCS).toBe(0);
    expect(toHex(buf.subarray(buf.length - 4))).toBe(tail);
  });
});

describe('ICMPv4 Redirect', () => {
  it('the gateway address is translated with the quote, the ICMP checksum kept right', () => {
    const buf = icmpRedirect4();
    const r = xlate(buf);
    expect(r.rewrites).toBe(bit(K_IPV4_SRC, K_IPV4_DST, K_ICMP_REDIRECT_GATEWAY, K_INNER_IPV4_SRC));
    expect(toHex(buf.subarray(34 + 4, 34 + 8))).toBe('c0a801fe');
    expect(residuals(buf, 1).l4).toBe(0xffff);
    expect(r.describe(g2h)).toContain('icmp.redirect-gateway 10.0.0.254>192.168.1.254');
  });
  it('a Redirect whose quote is cut away still has its gateway translated', () => {
    const buf = icmpRedirect4().slice(0, 34 + 8);
    const r = xlate(buf, 1, buf.length, buf.length + 28);
    expect(r.rewrites & bit(K_ICMP_REDIRECT_GATEWAY)).toBe(bit(K_ICMP_REDIRECT_GATEWAY));
  });
});
