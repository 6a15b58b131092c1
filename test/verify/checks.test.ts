/**
 * Each verifier check on small hand-built packets: exactly the expected
 * finding (name, severity, frame, expected/actual), and nothing on the
 * correct version of the same packet. Checksums in the expectations are
 * computed by test/helpers/wire-build.ts (a byte loop independent of
 * src/wire/checksum.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  be16,
  be32,
  cksum,
  concat,
  ether,
  fold16,
  hex,
  icmpMsg,
  ip4,
  ip6,
  ipv4,
  ipv4L4,
  ipv6,
  ipv6L4,
  MAC_A,
  MAC_B,
  pseudo4,
  pseudo6,
  tcp,
  udp,
} from '../helpers/wire-build.js';
import { only, verifyFrames, type Frame } from './helpers.js';
import { wlanFromEthernet, type WlanOptions } from '../helpers/wlan-build.js';

const A = ip4('10.0.0.2');
const B = ip4('10.0.0.1');
const h16 = (n: number): string => '0x' + n.toString(16).padStart(4, '0');
const eth4 = (p: Uint8Array): Uint8Array => ether(0x0800, p);
const eth6 = (p: Uint8Array): Uint8Array => ether(0x86dd, p);
const getU16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const setU16 = (b: Uint8Array, o: number, v: number): void => {
  b[o] = v >> 8;
  b[o + 1] = v & 255;
};
const IP = 14; // IP header offset in an Ethernet frame
const L4 = 34; // L4 offset behind a 20-byte IPv4 header
const L4V6 = 54;
const dns = hex('12340100000100000000000003777777076578616d706c6504746573740000010001');

describe('IPv4 header checksum', () => {
  it('a correct header is verified, a wrong one is ipv4.checksum with expected/actual', () => {
    const good = eth4(ipv4L4(A, B, 17, udp(2345, 53, dns)));
    const bad = Uint8Array.from(good);
    const right = getU16(good, IP + 10);
    setU16(bad, IP + 10, 0x5678);
    const r = verifyFrames([{ data: good }, { data: bad }]);
    expect(r.findings).toEqual([
      { frame: 2, interface: 0, check: 'ipv4.checksum', severity: 'error', message: `IPv4 header checksum 0x5678, expected ${h16(right)}`, expected: h16(right), actual: '0x5678', time: 1 },
    ]);
    expect(r.summary.checksums).toEqual({ verified: 3, bad: 1, unverifiable: 0 });
  });
  it('a header cut by the snaplen is unverifiable, never bad', () => {
    const f = eth4(ipv4L4(A, B, 17, udp(2345, 53, dns)));
    setU16(f, IP + 10, 0x5678);
    const r = verifyFrames([{ data: f.subarray(0, IP + 16), orig: f.length }]);
    expect(r.findings).toEqual([]);
    expect(r.summary.checksums.unverifiable).toBeGreaterThanOrEqual(1);
    expect(r.summary.checksums.bad).toBe(0);
  });
});

describe('L4 checksums', () => {
  it('UDP: "UDP checksum 0x5678, expected 0x...." on the frame, error', () => {
    const good = eth4(ipv4L4(A, B, 17, udp(2345, 53, dns)));
    const right = getU16(good, L4 + 6);
    const bad = Uint8Array.from(good);
    setU16(bad, L4 + 6, 0x5678);
    const r = verifyFrames([{ data: good }, { data: bad }]);
    expect(only(r.findings, 'udp.checksum')).toEqual([
      { frame: 2, interface: 0, check: 'udp.checksum', severity: 'error', message: `UDP checksum 0x5678, expected ${h16(right)}`, expected: h16(right), actual: '0x5678', time: 1 },
    ]);
    expect(r.findings).toHaveLength(1);
  });
  it('UDP over IPv4 with checksum 0 is "none": no finding, not counted', () => {
    const r = verifyFrames([{ data: eth4(ipv4L4(A, B, 17, udp(2345, 53, dns), {}, true)) }]);
    expect(r.findings).toEqual([]);
    expect(r.summary.checksums).toEqual({ verified: 1, bad: 0, unverifiable: 0 });
  });
  it('UDP over IPv6 with checksum 0 is udp.checksum-missing (error)', () => {
    const r = verifyFrames([{ data: eth6(ipv6L4(ip6('fd00::2'), ip6('fd00::1'), 17, udp(2345, 53, dns), true)) }]);
    expect(r.findings.map((f) => [f.frame, f.check, f.severity, f.actual])).toEqual([[1, 'udp.checksum-missing', 'error', '0x0000']]);
    expect(r.summary.checksums.bad).toBe(1);
  });
  it('TCP and ICMP and ICMPv6: wrong checksums are errors with the right expected value', () => {
    const t = eth4(ipv4L4(A, B, 6, tcp(40000, 443, hex('474554202f'))));
    const i = eth4(ipv4L4(A, B, 1, icmpMsg(8, 0, 0x12340001, hex('6162636465666768'))));
    const i6 = eth6(ipv6L4(ip6('fd00::2'), ip6('fd00::1'), 58, icmpMsg(128, 0, 0x12340001, hex('61626364'))));
    const cases: Array<[Uint8Array, number, string, string]> = [
      [t, L4 + 16, 'tcp.checksum', 'TCP'],
      [i, L4 + 2, 'icmp.checksum', 'ICMP'],
      [i6, L4V6 + 2, 'icmpv6.checksum', 'ICMPv6'],
    ];
    for (const [good, at, check, label] of cases) {
      const right = getU16(good, at);
      const bad = Uint8Array.from(good);
      setU16(bad, at, right ^ 0x0101);
      const r = verifyFrames([{ data: good }, { data: bad }]);
      expect(r.findings).toEqual([
        { frame: 2, interface: 0, check, severity: 'error', message: `${label} checksum ${h16(right ^ 0x0101)}, expected ${h16(right)}`, expected: h16(right), actual: h16(right ^ 0x0101), time: 1 },
      ]);
    }
  });
  it('TCP 0xFFFF where 0x0000 is right is bad, as Wireshark says ("should be 0x0000")', () => {
    // Choose a 2-byte payload that makes the correct checksum 0.
    const seg = tcp(40000, 443, hex('0000'));
    const c = cksum(seg, pseudo4(A, B, 6, seg.length));
    setU16(seg, 20, c);
    expect(cksum(seg, pseudo4(A, B, 6, seg.length))).toBe(0);
    setU16(seg, 16, 0xffff);
    const r = verifyFrames([{ data: eth4(ipv4(A, B, 6, seg)) }]);
    expect(r.findings.map((f) => [f.check, f.expected, f.actual])).toEqual([['tcp.checksum', '0x0000', '0xffff']]);
  });
  it('transmit offload: the seeds of src/wire/offload.ts are warnings, anything else near them an error', () => {
    // Seeds: fold(pseudo-header) with the length (TCP, UDP) and without it (TCP only). Not seeds: their
    // complements (no sender leaves them) and UDP without the length (Linux UDP GSO seeds with it).
    const seg = tcp(40000, 443, hex('474554'));
    const u = udp(2345, 53, dns);
    const full = (p: number, len: number) => fold16(pseudo4(A, B, p, len));
    const nolen = (p: number) => fold16(pseudo4(A, B, p, 0));
    const cases: Array<[number, Uint8Array, number, string]> = [
      [6, seg, full(6, seg.length), 'tcp.checksum-offloaded'],
      [6, seg, nolen(6), 'tcp.checksum-offloaded'],
      [17, u, full(17, u.length), 'udp.checksum-offloaded'],
      [6, seg, ~full(6, seg.length) & 0xffff, 'tcp.checksum'],
      [6, seg, ~nolen(6) & 0xffff, 'tcp.checksum'],
      [17, u, ~full(17, u.length) & 0xffff, 'udp.checksum'],
      [17, u, nolen(17), 'udp.checksum'],
    ];
    const frames = cases.map(([p, l4, field]) => {
      const b = Uint8Array.from(l4);
      setU16(b, p === 6 ? 16 : 6, field);
      return { data: eth4(ipv4(A, B, p, b)) };
    });
    const r = verifyFrames(frames);
    expect(r.findings.map((f) => [f.frame, f.check, f.severity, f.actual])).toEqual(
      cases.map(([, , field, check], i) => [i + 1, check, check.endsWith('-offloaded') ? 'warning' : 'error', h16(field)]),
    );
    expect(r.findings[0]!.expected).toBe(h16(cksum(seg, pseudo4(A, B, 6, seg.length))));
    expect(r.findings[0]!.message).toBe(
      `TCP checksum ${h16(full(6, seg.length))} is the pseudo-header partial sum left by transmit checksum offload (captured on the sending host?), expected ${h16(cksum(seg, pseudo4(A, B, 6, seg.length)))}`,
    );
  });
  it('a snaplen-cut datagram is unverifiable, never bad', () => {
    const f = eth4(ipv4L4(A, B, 17, udp(2345, 53, dns)));
    setU16(f, L4 + 6, 0x5678);
    const r = verifyFrames([{ data: f.subarray(0, f.length - 4), orig: f.length }]);
    expect(r.findings).toEqual([]);
    expect(r.summary.checksums).toEqual({ verified: 1, bad: 0, unverifiable: 1 });
  });
  it('UDP-Lite covers only its coverage; pseudo-header carries the IP payload length', () => {
    const payload = hex('0102030405060708');
    const l = concat(be16(5000), be16(5001), be16(8), be16(0), payload); // coverage: header only
    const c = cksum(l.subarray(0, 8), pseudo4(A, B, 136, l.length));
    setU16(l, 6, c);
    const changed = Uint8Array.from(l);
    changed[12] = 0xff; // outside the coverage: still fine
    const bad = Uint8Array.from(l);
    setU16(bad, 6, c ^ 1);
    const r = verifyFrames([{ data: eth4(ipv4(A, B, 136, l)) }, { data: eth4(ipv4(A, B, 136, changed)) }, { data: eth4(ipv4(A, B, 136, bad)) }]);
    expect(r.findings.map((f) => [f.frame, f.check, f.expected, f.actual])).toEqual([[3, 'udp.checksum', h16(c), h16(c ^ 1)]]);
  });
  it('DCCP (pseudo-header, full coverage): dccp.checksum', () => {
    const d = concat(be16(5000), be16(5001), Uint8Array.of(3, 0), be16(0), hex('0102030405060708'), hex('aabbccdd'));
    const c = cksum(d, pseudo4(A, B, 33, d.length));
    setU16(d, 6, c);
    const bad = Uint8Array.from(d);
    setU16(bad, 6, 0x1111);
    const r = verifyFrames([{ data: eth4(ipv4(A, B, 33, d)) }, { data: eth4(ipv4(A, B, 33, bad)) }]);
    expect(r.findings.map((f) => [f.frame, f.check, f.severity, f.expected])).toEqual([[2, 'dccp.checksum', 'error', h16(c)]]);
  });
});

describe('fragments: reassembled, judged on the frame that completes the datagram', () => {
  function fragments4(l4: Uint8Array, cut: number, id = 0x4242): Uint8Array[] {
    return [
      eth4(ipv4(A, B, 17, l4.subarray(0, cut), { id, ff: 0x2000 })),
      eth4(ipv4(A, B, 17, l4.subarray(cut), { id, ff: cut / 8 })),
    ];
  }
  const big = (): Uint8Array => {
    const u = udp(2345, 53, new Uint8Array(120).map((_, i) => (i * 7) & 255));
    setU16(u, 6, cksum(u, pseudo4(A, B, 17, u.length)));
    return u;
  };
  it('a good datagram in two fragments: verified once, no finding', () => {
    const r = verifyFrames(fragments4(big(), 64).map((data) => ({ data })));
    expect(r.findings).toEqual([]);
    expect(r.summary.checksums).toEqual({ verified: 3, bad: 0, unverifiable: 0 });
  });
  it('a bad UDP checksum is reported on the completing frame, in either order', () => {
    const u = big();
    const right = getU16(u, 6);
    setU16(u, 6, right ^ 0x00f0);
    const [f1, f2] = fragments4(u, 64);
    for (const order of [[f1!, f2!], [f2!, f1!]]) {
      const r = verifyFrames(order.map((data) => ({ data })));
      expect(r.findings).toEqual([
        { frame: 2, interface: 0, check: 'udp.checksum', severity: 'error', message: `UDP checksum ${h16(right ^ 0xf0)}, expected ${h16(right)}`, expected: h16(right), actual: h16(right ^ 0xf0), time: 1 },
      ]);
    }
  });
  it('an incomplete train is unverifiable; a fragment with a bad header checksum does not join', () => {
    const [f1, f2] = fragments4(big(), 64);
    const r1 = verifyFrames([{ data: f1! }]);
    expect(r1.summary.checksums).toEqual({ verified: 1, bad: 0, unverifiable: 1 });
    const bad2 = Uint8Array.from(f2!);
    setU16(bad2, IP + 10, 0x1234);
    const r2 = verifyFrames([{ data: f1! }, { data: bad2 }]);
    expect(r2.findings.map((f) => f.check)).toEqual(['ipv4.checksum']);
    expect(r2.summary.checksums.unverifiable).toBe(1);
  });
  it('IPv6 fragments (fragment header) are reassembled too', () => {
    const s6 = ip6('fd00::2');
    const d6 = ip6('fd00::1');
    const u = udp(2345, 53, new Uint8Array(100).map((_, i) => i));
    const right = cksum(u, pseudo6(s6, d6, 17, u.length));
    setU16(u, 6, right ^ 0x0f00);
    const frag = (off: number, more: boolean, body: Uint8Array): Uint8Array =>
      eth6(ipv6(s6, d6, 44, concat(Uint8Array.of(17, 0), be16(off | (more ? 1 : 0)), be32(0xabcdef), body)));
    const r = verifyFrames([{ data: frag(0, true, u.subarray(0, 56)) }, { data: frag(56, false, u.subarray(56)) }]);
    expect(r.findings.map((f) => [f.frame, f.check, f.expected])).toEqual([[2, 'udp.checksum', h16(right)]]);
  });
});

describe('ICMP errors', () => {
  it('a quoted IPv4 header with a wrong checksum is icmp.inner-ipv4.checksum (warning)', () => {
    const quoted = ipv4L4(B, A, 17, udp(53, 2345, dns));
    const right = getU16(quoted, 10);
    setU16(quoted, 10, 0x0bad);
    const r = verifyFrames([{ data: eth4(ipv4L4(A, B, 1, icmpMsg(3, 3, 0, quoted.subarray(0, 28)))) }]);
    expect(r.findings).toEqual([
      {
        frame: 1,
        interface: 0,
        check: 'icmp.inner-ipv4.checksum',
        severity: 'warning',
        message: `IPv4 header quoted in the ICMP error has checksum 0x0bad, expected ${h16(right)}`,
        expected: h16(right),
        actual: '0x0bad',
        time: 0,
      },
    ]);
  });

  // Quoted UDP/TCP checksums: judged when the quote holds all they cover, as tshark 4.0 judges them.
  const G = ip4('10.0.0.3');
  const err4 = (quoted: Uint8Array, type = 3): Uint8Array => eth4(ipv4L4(B, A, 1, icmpMsg(type, type === 11 ? 0 : 3, 0, quoted)));
  const err6 = (quoted: Uint8Array): Uint8Array => eth6(ipv6L4(ip6('fd00::1'), ip6('fd00::2'), 58, icmpMsg(1, 4, 0, quoted)));
  const spoil = (b: Uint8Array, at: number): { right: number; bad: Uint8Array } => {
    const bad = Uint8Array.from(b);
    const right = getU16(b, at);
    setU16(bad, at, right ^ 0x5555);
    return { right, bad };
  };
  it('a quoted whole UDP datagram with a wrong checksum is icmp.inner-udp.checksum (warning); over IPv6 too', () => {
    const u4 = spoil(ipv4L4(A, G, 17, udp(2345, 5000, dns)), 20 + 6);
    const u6 = spoil(ipv6L4(ip6('fd00::2'), ip6('fd00::3'), 17, udp(2345, 5000, dns)), 40 + 6);
    const r = verifyFrames([{ data: err4(u4.bad) }, { data: err6(u6.bad) }, { data: err4(ipv4L4(A, G, 17, udp(2345, 5000, dns))) }]);
    expect(r.findings).toEqual([
      {
        frame: 1,
        interface: 0,
        check: 'icmp.inner-udp.checksum',
        severity: 'warning',
        message: `UDP checksum of the datagram quoted in the ICMP error is ${h16(u4.right ^ 0x5555)}, expected ${h16(u4.right)}`,
        expected: h16(u4.right),
        actual: h16(u4.right ^ 0x5555),
        time: 0,
      },
      {
        frame: 2,
        interface: 0,
        check: 'icmp.inner-udp.checksum',
        severity: 'warning',
        message: `UDP checksum of the datagram quoted in the ICMPv6 error is ${h16(u6.right ^ 0x5555)}, expected ${h16(u6.right)}`,
        expected: h16(u6.right),
        actual: h16(u6.right ^ 0x5555),
        time: 1,
      },
    ]);
    // Counted: frames 1 and 3, the IPv4 header, ICMP and the quoted IPv4 header; frame 2, ICMPv6. Not the quoted UDP.
    expect(r.summary.checksums).toEqual({ verified: 7, bad: 0, unverifiable: 0 });
  });
  it('a quoted whole TCP segment with a wrong checksum is icmp.inner-tcp.checksum; 0xFFFF for 0x0000 too', () => {
    const seg = tcp(2345, 5000, dns);
    const t = spoil(ipv4L4(A, G, 6, seg), 20 + 16);
    const r = verifyFrames([{ data: err4(t.bad) }]);
    expect(r.findings.map((f) => [f.check, f.expected, f.actual])).toEqual([['icmp.inner-tcp.checksum', h16(t.right), h16(t.right ^ 0x5555)]]);
    expect(r.findings[0]!.message).toBe(`TCP checksum of the segment quoted in the ICMP error is ${h16(t.right ^ 0x5555)}, expected ${h16(t.right)}`);
  });
  it('not judged (and not counted): a cut quote, a quoted fragment, UDP checksum 0, UDP-Lite, ICMP; TCP cut anywhere', () => {
    const u = spoil(ipv4L4(A, G, 17, udp(2345, 5000, dns)), 20 + 6).bad;
    const t = spoil(ipv4L4(A, G, 6, tcp(2345, 5000, dns)), 20 + 16).bad;
    const frag = spoil(ipv4L4(A, G, 17, udp(2345, 5000, dns), { ff: 0x2000 }), 20 + 6).bad;
    const zero = ipv4L4(A, G, 17, udp(2345, 5000, dns), {}, true);
    const zero6 = ipv6L4(ip6('fd00::2'), ip6('fd00::3'), 17, udp(2345, 5000, dns), true);
    const lite = spoil(ipv4L4(A, G, 136, udp(2345, 5000, dns)), 20 + 6).bad;
    const echo = spoil(ipv4L4(A, G, 1, icmpMsg(8, 0, 0x01020304, dns)), 20 + 2).bad;
    const r = verifyFrames([
      { data: err4(u.subarray(0, 28)) },
      { data: err4(u.subarray(0, u.length - 1)) },
      { data: err4(t.subarray(0, t.length - 1)) },
      { data: err4(frag) },
      { data: err4(zero) },
      { data: err6(zero6) },
      { data: err4(lite) },
      { data: err4(echo) },
    ]);
    expect(r.findings).toEqual([]);
  });
  it("an ICMPv4 Redirect's quote is judged only within the header and 8 bytes (as Wireshark reads it)", () => {
    const u = spoil(ipv4L4(A, G, 17, udp(2345, 5000, dns)), 20 + 6).bad;
    const empty = spoil(ipv4L4(A, G, 17, udp(2345, 5000, new Uint8Array(0))), 20 + 6).bad;
    const r = verifyFrames([{ data: err4(u, 5) }, { data: err4(empty, 5) }, { data: err4(u, 11) }, { data: err4(u, 4) }, { data: err4(u, 12) }]);
    expect(r.findings.map((f) => [f.frame, f.check])).toEqual([
      [2, 'icmp.inner-udp.checksum'],
      [3, 'icmp.inner-udp.checksum'],
      [4, 'icmp.inner-udp.checksum'],
      [5, 'icmp.inner-udp.checksum'],
    ]);
  });
  it('RFC 4884: a quote ends at its length field; extension bytes after it are never summed', () => {
    // A 140-byte UDP datagram quoted to 128 bytes, then a 12-byte extension: it would fit the message but not the quote.
    const big = ipv4L4(A, G, 17, udp(2345, 5000, new Uint8Array(112)));
    const msg = icmpMsg(3, 3, 0x00200000, concat(big.subarray(0, 128), hex('2000000000080101 0a000001')));
    const r = verifyFrames([{ data: eth4(ipv4L4(B, A, 1, msg)) }]);
    expect(r.findings).toEqual([]);
  });
  it("the datagram an NDP Redirect's Redirected Header option quotes is judged too", () => {
    const quoted = spoil(ipv6L4(ip6('fd00::2'), ip6('fd00::3'), 17, udp(2345, 5000, dns)), 40 + 6);
    const padded = concat(quoted.bad, new Uint8Array((8 - (quoted.bad.length % 8)) % 8));
    const opt = concat(Uint8Array.of(4, padded.length / 8 + 1), new Uint8Array(6), padded);
    const redirect = eth6(ipv6L4(ip6('fe80::1'), ip6('fd00::2'), 58, concat(Uint8Array.of(137, 0, 0, 0), be32(0), ip6('fd00::9'), ip6('fd00::7'), opt)));
    const r = verifyFrames([{ data: redirect }]);
    expect(r.findings.map((f) => [f.check, f.expected, f.message])).toEqual([
      ['icmp.inner-udp.checksum', h16(quoted.right), `UDP checksum of the datagram quoted in the NDP Redirect's Redirected Header option is ${h16(quoted.right ^ 0x5555)}, expected ${h16(quoted.right)}`],
    ]);
  });
});

function arpFrame(op: number, sha: Uint8Array, spa: string, tha: Uint8Array, tpa: string, src = sha): Uint8Array {
  const body = concat(hex('0001 0800 06 04'), be16(op), sha, be32(ip4(spa)), tha, be32(ip4(tpa)));
  return ether(0x0806, concat(body, new Uint8Array(18)), hex('ffffffffffff'), src);
}
const MAC_C = hex('525400c0ffee');
const ZERO = new Uint8Array(6);

describe('ARP', () => {
  it('request + proper reply + gratuitous + probe: nothing', () => {
    const r = verifyFrames([
      { data: arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1') },
      { data: arpFrame(2, MAC_B, '10.0.0.1', MAC_A, '10.0.0.2') },
      { data: arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.2') },
      { data: arpFrame(1, MAC_C, '0.0.0.0', ZERO, '10.0.0.2') },
    ]);
    expect(r.findings).toEqual([]);
  });
  it('arp.duplicate-ip: one IP claimed by two MACs on one interface, once; other interfaces are other domains', () => {
    const r = verifyFrames([
      { data: arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1') },
      { data: arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1'), iface: 1 },
      { data: arpFrame(1, MAC_C, '10.0.0.2', ZERO, '10.0.0.1'), iface: 1 },
      { data: arpFrame(1, MAC_C, '10.0.0.2', ZERO, '10.0.0.1'), iface: 1 },
    ]);
    expect(r.findings.map((f) => [f.frame, f.interface, f.check, f.severity, f.expected, f.actual])).toEqual([
      [3, 1, 'arp.duplicate-ip', 'warning', '52:54:00:12:34:56', '52:54:00:c0:ff:ee'],
    ]);
  });
  it('arp.reply-mismatch: sender/target not swapped, or the wrong target', () => {
    const r = verifyFrames([
      { data: arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1') },
      { data: arpFrame(2, MAC_B, '10.0.0.2', MAC_A, '10.0.0.1') }, // echoes the request unswapped
      { data: arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.3') },
      { data: arpFrame(2, MAC_C, '10.0.0.3', MAC_A, '10.0.0.9') }, // answers 10.0.0.3 but to the wrong address
    ]);
    expect(r.findings.map((f) => [f.frame, f.check, f.severity])).toEqual([
      [2, 'arp.duplicate-ip', 'warning'], // MAC_B now claims the asker's address too
      [2, 'arp.reply-mismatch', 'error'],
      [4, 'arp.reply-mismatch', 'error'],
    ]);
    expect(r.findings[2]!.message).toContain('wrong target');
  });
  it('arp.ip-mac-mismatch: IPv4 from a bound address with another MAC, once', () => {
    const pkt = (src: Uint8Array): Uint8Array => ether(0x0800, ipv4L4(A, B, 17, udp(2345, 53, dns)), MAC_B, src);
    const r = verifyFrames([{ data: arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1') }, { data: pkt(MAC_A) }, { data: pkt(MAC_C) }, { data: pkt(MAC_C) }]);
    expect(r.findings.map((f) => [f.frame, f.check, f.severity, f.expected, f.actual])).toEqual([
      [3, 'arp.ip-mac-mismatch', 'warning', '52:54:00:12:34:56', '52:54:00:c0:ff:ee'],
    ]);
  });
  it('a virtual router MAC (VRRP v4/v6, HSRP, HSRPv2) on either side is no IP/MAC mismatch; a MAC next to one still is', () => {
    const pkt = (src: Uint8Array): Uint8Array => ether(0x0800, ipv4L4(A, B, 17, udp(2345, 53, dns)), MAC_B, src);
    const virtual = ['00005e000107', '00005e000203', '00000c07ac0a', '00000c9ff00a', '00000c9fffff'].map(hex);
    for (const vmac of virtual) {
      // The router answers ARP with its own MAC and sends from the group's (advertisements), or the other way round.
      expect(verifyFrames([{ data: arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1') }, { data: pkt(vmac) }]).findings).toEqual([]);
      expect(verifyFrames([{ data: arpFrame(1, vmac, '10.0.0.2', ZERO, '10.0.0.1') }, { data: pkt(MAC_A) }]).findings).toEqual([]);
    }
    const near = ['00005e000307', '00000c07ad0a', '00000c9fe00a', '01005e000107'].map(hex);
    for (const mac of near) {
      expect(verifyFrames([{ data: arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1') }, { data: pkt(mac) }]).findings.map((f) => f.check)).toEqual(['arp.ip-mac-mismatch']);
    }
  });
  it('arp.malformed: lengths that contradict the types, a zero length, or cut short on the wire (a snaplen cut is not)', () => {
    const hlen4 = arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1');
    hlen4[18] = 4; // Ethernet hardware type with 4-byte hardware addresses
    const plen6 = arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1');
    plen6[19] = 6; // IPv4 with 6-byte protocol addresses
    const zero = arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1');
    zero[16] = 0x12; // protocol 0x1200
    zero[19] = 0;
    const full = arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1');
    const short = full.subarray(0, 14 + 20);
    const r = verifyFrames([{ data: hlen4 }, { data: plen6 }, { data: zero }, { data: short }, { data: short, orig: full.length }]);
    expect(r.findings.map((f) => [f.frame, f.check, f.severity, f.message])).toEqual([
      [1, 'arp.malformed', 'warning', 'ARP for hardware type 1, protocol 0x0800 with address lengths 4/4: Ethernet addresses are 6 bytes'],
      [2, 'arp.malformed', 'warning', 'ARP for hardware type 1, protocol 0x0800 with address lengths 6/6: IPv4 addresses are 4 bytes'],
      [3, 'arp.malformed', 'warning', 'ARP for hardware type 1, protocol 0x1200 with address lengths 6/0: an address length of 0'],
      [4, 'arp.malformed', 'warning', 'ARP packet cut short: 20 bytes, its address lengths 6/4 need 28'],
    ]);
  });
  it('not malformed: ARP of another hardware type (IEEE 802; InfiniBand with 20-byte addresses), RARP; RARP binds nothing', () => {
    const ieee = arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1');
    ieee[15] = 6; // htype 6, IEEE 802: checked like Ethernet (6-byte addresses)
    const ieeeDup = arpFrame(1, MAC_C, '10.0.0.2', ZERO, '10.0.0.1');
    ieeeDup[15] = 6;
    const hw = Uint8Array.from({ length: 20 }, (_, i) => i);
    const ib = ether(0x0806, concat(hex('0020 0800 14 04 0001'), hw, be32(ip4('10.0.0.5')), hw, be32(ip4('10.0.0.1'))));
    const rarp = (sha: Uint8Array, spa: string) => ether(0x8035, concat(hex('0001 0800 06 04 0004'), sha, be32(ip4(spa)), MAC_A, be32(ip4('10.0.0.2'))));
    const r = verifyFrames([{ data: ieee }, { data: ieeeDup }, { data: ib }, { data: rarp(MAC_B, '10.0.0.1') }, { data: rarp(MAC_C, '10.0.0.1') }]);
    expect(r.findings.map((f) => [f.frame, f.check])).toEqual([[2, 'arp.duplicate-ip']]);
    const cut = rarp(MAC_B, '10.0.0.1').subarray(0, 14 + 12);
    expect(verifyFrames([{ data: cut }]).findings.map((f) => f.message)).toEqual(['RARP packet cut short: 12 bytes, its address lengths 6/4 need 28']);
  });
  it('802.11: the ARP checks use the source address (SA) the DS bits place, and the interface/VLAN domain', () => {
    const arp11 = (o: WlanOptions) => wlanFromEthernet(arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1'), o);
    const ip11 = (src: Uint8Array, o: WlanOptions) => wlanFromEthernet(ether(0x0800, ipv4L4(A, B, 17, udp(2345, 53, dns)), MAC_B, src), o);
    const r = verifyFrames([
      { data: arp11({ toDs: true, fromDs: false }), linkType: 127 },
      { data: ip11(MAC_A, { toDs: false, fromDs: true }), linkType: 127 },
      { data: ip11(MAC_A, { toDs: true, fromDs: true, qos: true }), linkType: 127 },
      { data: ip11(MAC_C, { toDs: true, fromDs: false, fcs: true }), linkType: 127 },
    ]);
    expect(r.findings.map((f) => [f.frame, f.check, f.expected, f.actual])).toEqual([[4, 'arp.ip-mac-mismatch', '52:54:00:12:34:56', '52:54:00:c0:ff:ee']]);
  });
});

describe('addr.untranslated (leak check with rules)', () => {
  const RULES = ['10.0.0.0/24=192.168.1.0/24', 'fd00::/64=fd00:1::/64'];
  it('flags guest-side addresses in IP, ARP, quoted ICMP headers and NDP targets; not host-side ones', () => {
    const H = ip4('192.168.1.2');
    const G = ip4('8.8.8.8');
    const quoted = ipv4L4(A, G, 17, udp(2345, 53, dns)).subarray(0, 28);
    const ns = icmpMsg(135, 0, 0, ip6('fd00::5'));
    const frames: Frame[] = [
      { data: eth4(ipv4L4(H, G, 17, udp(2345, 53, dns))) }, // translated: fine
      { data: eth4(ipv4L4(A, G, 17, udp(2345, 53, dns))) }, // source leaked
      { data: arpFrame(1, MAC_A, '192.168.1.2', ZERO, '10.0.0.1') }, // ARP target leaked
      { data: eth4(ipv4L4(G, H, 1, icmpMsg(3, 3, 0, quoted))) }, // quoted source leaked
      { data: eth6(ipv6L4(ip6('fd00:1::2'), ip6('ff02::1:ff00:5'), 58, ns)) }, // NDP target leaked
    ];
    const r = verifyFrames(frames, {}, RULES);
    const leaks = only(r.findings, 'addr.untranslated');
    expect(leaks.map((f) => [f.frame, f.severity, f.actual, f.expected])).toEqual([
      [2, 'error', '10.0.0.2', '192.168.1.2'],
      [3, 'error', '10.0.0.1', '192.168.1.1'],
      [4, 'error', '10.0.0.2', '192.168.1.2'],
      [5, 'error', 'fd00::5', 'fd00:1::5'],
    ]);
    expect(leaks[2]!.message).toContain('quoted IPv4 source');
    expect(leaks[3]!.message).toContain('NDP target');
  });
  it('reports a guest-side address where ssnat-rewrite does not translate: options, routing headers, tunnels, nested quotes, 802.11 A-MSDU and fragments', () => {
    const G = ip4('8.8.8.8');
    const H = ip4('192.168.1.2');
    const inner4 = ipv4L4(A, G, 17, udp(2345, 53, dns));
    const inner6 = ipv6L4(ip6('fd00::2'), ip6('2001:db8::1'), 17, udp(2345, 53, dns));
    const lsrr = concat(Uint8Array.of(131, 11, 4), be32(ip4('10.0.0.9')), be32(G), Uint8Array.of(0)); // 12 bytes of options
    const rr = concat(Uint8Array.of(1, 7, 7, 4), be32(ip4('10.0.0.8'))); // NOP, record route
    const ts = concat(Uint8Array.of(68, 12, 13, 0x01), be32(ip4('10.0.0.7')), be32(0x01020304)); // timestamp with addresses
    const rh0 = concat(Uint8Array.of(17, 4, 0, 2), be32(0), ip6('fd00::8'), ip6('2001:db8::9'));
    const srh = concat(Uint8Array.of(17, 4, 4, 1, 1, 0, 0, 0), ip6('2001:db8::9'), ip6('fd00::6'));
    const greV4 = concat(be16(0), be16(0x0800), inner4);
    const greKeyed = concat(be16(0x2000), be16(0x86dd), be32(7), inner6);
    const teb = concat(be16(0), be16(0x6558), arpFrame(1, MAC_A, '10.0.0.2', ZERO, '10.0.0.1'));
    const pptp = concat(be16(0x3001), be16(0x880b), be16(inner4.length + 4), be16(9), be32(1), hex('ff030021'), inner4);
    const nested = ipv4L4(H, G, 1, icmpMsg(3, 3, 0, ipv4L4(A, G, 17, udp(2345, 53, dns)).subarray(0, 28))).subarray(0, 56);
    const amsdu = wlanFromEthernet(eth4(inner4), { amsdu: true });
    const fragment = wlanFromEthernet(eth4(inner4), { moreFragments: true });
    const frames: Frame[] = [
      { data: eth4(ipv4L4(H, G, 17, udp(2345, 53, dns), { options: lsrr })) },
      { data: eth4(ipv4L4(H, G, 17, udp(2345, 53, dns), { options: concat(rr, ts) })) },
      { data: eth6(ipv6(ip6('fd00:1::2'), ip6('2001:db8::1'), 43, concat(rh0, udp(2345, 53, dns)))) },
      { data: eth6(ipv6(ip6('fd00:1::2'), ip6('2001:db8::1'), 43, concat(srh, udp(2345, 53, dns)))) },
      { data: eth4(ipv4(H, G, 4, inner4)) },
      { data: eth4(ipv4(H, G, 41, inner6)) },
      { data: eth4(ipv4(H, G, 47, greV4)) },
      { data: eth4(ipv4(H, G, 47, greKeyed)) },
      { data: eth4(ipv4(H, G, 47, teb)) },
      { data: eth4(ipv4(H, G, 47, pptp)) },
      { data: eth4(ipv4L4(G, H, 1, icmpMsg(11, 0, 0, nested))) },
      { data: amsdu, linkType: 127 },
      { data: fragment, linkType: 127 },
      // An ICMP error quoting a VXLAN packet: the guest's packet inside the quoted tunnel.
      { data: eth4(ipv4L4(G, H, 1, icmpMsg(3, 3, 0, ipv4L4(H, G, 17, udp(49152, 4789, concat(hex('0800000000000500'), eth4(inner4))))))) },
    ];
    const r = verifyFrames(frames, {}, RULES);
    const leaks = only(r.findings, 'addr.untranslated');
    expect(leaks.map((f) => `${f.frame} ${f.message}`)).toEqual([
      '1 IPv4 address 10.0.0.9 in an IPv4 loose source route option (not translated by ssnat-rewrite) is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.9',
      '2 IPv4 address 10.0.0.8 in an IPv4 record route option (not translated by ssnat-rewrite) is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.8',
      '2 IPv4 address 10.0.0.7 in an IPv4 timestamp option (not translated by ssnat-rewrite) is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.7',
      '3 IPv6 address fd00::8 in an IPv6 routing header (not translated by ssnat-rewrite) is a guest-side address: rule fd00::/64=fd00:1::/64 maps it to fd00:1::8',
      '4 IPv6 address fd00::6 in an IPv6 routing header (not translated by ssnat-rewrite) is a guest-side address: rule fd00::/64=fd00:1::/64 maps it to fd00:1::6',
      '5 IPv4 source 10.0.0.2 inside IP-in-IP is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.2',
      '6 IPv6 source fd00::2 inside IP-in-IP is a guest-side address: rule fd00::/64=fd00:1::/64 maps it to fd00:1::2',
      '7 IPv4 source 10.0.0.2 inside GRE is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.2',
      '8 IPv6 source fd00::2 inside GRE key 7 is a guest-side address: rule fd00::/64=fd00:1::/64 maps it to fd00:1::2',
      '9 ARP sender 10.0.0.2 inside GRE is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.2',
      '9 ARP target 10.0.0.1 inside GRE is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.1',
      '10 IPv4 source 10.0.0.2 inside PPTP GRE is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.2',
      '11 IPv4 source 10.0.0.2 in the ICMP error quoted by the ICMP error (not translated by ssnat-rewrite) is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.2',
      '12 IPv4 source 10.0.0.2 inside an 802.11 A-MSDU (not translated by ssnat-rewrite) is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.2',
      '13 IPv4 source 10.0.0.2 inside a fragmented 802.11 frame (not translated by ssnat-rewrite) is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.2',
      '14 IPv4 source 10.0.0.2 inside the tunnel of the quoted packet (not translated by ssnat-rewrite) is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.2',
    ]);
    expect(leaks.map((f) => [f.severity, f.expected !== undefined])).toEqual(leaks.map(() => ['error', true]));
    // The quoted packet's own sites are walked too (here: its IPv4 options), and the 11th frame's quote (G > A) is the host side.
    const quoting = eth4(ipv4L4(G, H, 1, icmpMsg(3, 3, 0, ipv4L4(H, G, 17, udp(2345, 53, dns), { options: lsrr }))));
    expect(only(verifyFrames([{ data: quoting }], {}, RULES).findings, 'addr.untranslated').map((f) => f.message)).toEqual([
      'IPv4 address 10.0.0.9 in an IPv4 loose source route option of the quoted packet (not translated by ssnat-rewrite) is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24 maps it to 192.168.1.9',
    ]);
  });

  it('at most 16 such addresses per packet, then one finding for the rest', () => {
    // A type 0 routing header with 20 guest addresses.
    const rh0 = concat(Uint8Array.of(17, 40, 0, 20), be32(0), ...Array.from({ length: 20 }, (_, i) => ip6(`fd00::${i + 1}`)));
    const f = eth6(ipv6(ip6('fd00:1::2'), ip6('2001:db8::1'), 43, concat(rh0, udp(2345, 53, dns))));
    const leaks = only(verifyFrames([{ data: f }], {}, RULES).findings, 'addr.untranslated');
    expect(leaks).toHaveLength(17);
    expect(leaks[15]!.actual).toBe('fd00::16');
    expect(leaks[16]!.message).toBe('and 4 more guest-side address(es) in places ssnat-rewrite does not translate');
  });

  it('without rules there is no leak check', () => {
    expect(verifyFrames([{ data: eth4(ipv4L4(A, B, 17, udp(2345, 53, dns))) }]).findings).toEqual([]);
  });
});

describe('flow collisions', () => {
  const q = (): Uint8Array => eth4(ipv4L4(A, B, 17, udp(2345, 53, dns)));
  const reply = (): Uint8Array => eth4(ipv4L4(B, A, 17, udp(53, 2345, dns)));
  it('the same query on 3 interfaces: one collision, interfaces [0,1,2] and their first frames', () => {
    const r = verifyFrames([
      { data: q(), iface: 0, time: 1 },
      { data: reply(), iface: 0, time: 1.1 },
      { data: q(), iface: 1, time: 1.2 },
      { data: q(), iface: 1, time: 1.3 },
      { data: reply(), iface: 2, time: 1.4 }, // the reply direction is the same flow
    ]);
    expect(r.summary.collisions).toEqual([
      {
        protocol: 'udp',
        flow: '10.0.0.2:2345 > 10.0.0.1:53',
        interfaces: [0, 1, 2],
        frames: [1, 3, 5],
        times: [1, 1.2, 1.4],
        // The reply of frame 5 answers frame 4's query, asked on interface 1.
        wrongReplies: [{ request: { frame: 4, interface: 1, time: 1.3 }, reply: { frame: 5, interface: 2, time: 1.4 } }],
        wrongReplyCount: 1,
      },
    ]);
    expect(only(r.findings, 'flow.collision').map((f) => [f.frame, f.interface, f.severity])).toEqual([
      [3, 1, 'warning'],
      [5, 2, 'warning'], // interface 2 is a third domain for the flow
    ]);
    // The reply went to interface 2, but the last query came from interface 1: the harm, an error.
    expect(only(r.findings, 'flow.wrong-clone').map((f) => [f.frame, f.interface, f.severity, f.message])).toEqual([
      [5, 2, 'error', 'udp 10.0.0.2:2345 > 10.0.0.1:53: reply on interface 2 to the request of frame 4 on interface 1: the answer went to another clone than the one that asked'],
    ]);
  });
  it('a collision whose every reply reaches the lane that asked stays a warning (the risk, not the harm)', () => {
    const r = verifyFrames([
      { data: q(), iface: 0, time: 1 },
      { data: reply(), iface: 0, time: 1.1 },
      { data: q(), iface: 1, time: 1.2 },
      { data: reply(), iface: 1, time: 1.3 },
      { data: q(), iface: 0, time: 1.4 },
      { data: reply(), iface: 0, time: 1.5 },
    ]);
    expect(r.findings.map((f) => [f.frame, f.check, f.severity])).toEqual([[3, 'flow.collision', 'warning']]);
    expect(r.summary.collisions[0]!.wrongReplyCount).toBe(0);
  });
  it('a reply on another lane than the only request is the wrong clone, even when that reply first makes the collision', () => {
    const r = verifyFrames([
      { data: q(), iface: 1, time: 1 },
      { data: reply(), iface: 0, time: 1.1 },
    ]);
    expect(r.findings.map((f) => [f.frame, f.check, f.severity])).toEqual([
      [2, 'flow.wrong-clone', 'error'],
      [2, 'flow.collision', 'warning'],
    ]);
    expect(r.summary.collisions[0]!.wrongReplies).toEqual([{ request: { frame: 1, interface: 1, time: 1 }, reply: { frame: 2, interface: 0, time: 1.1 } }]);
  });
  it('one flow captured on both sides of a bridge or router (every packet on two lanes) delivers no reply to a wrong clone', () => {
    // Request in on 0, out on 1; reply in on 1, out on 0; twice.
    const r = verifyFrames([
      { data: q(), iface: 0, time: 1 },
      { data: q(), iface: 1, time: 1.001 },
      { data: reply(), iface: 1, time: 1.01 },
      { data: reply(), iface: 0, time: 1.011 },
      { data: q(), iface: 0, time: 2 },
      { data: q(), iface: 1, time: 2.001 },
      { data: reply(), iface: 1, time: 2.01 },
      { data: reply(), iface: 0, time: 2.011 },
      { data: reply(), iface: 1, time: 2.02 }, // a second reply, copied the same way
      { data: reply(), iface: 0, time: 2.021 },
    ]);
    expect(r.findings.map((f) => [f.frame, f.check])).toEqual([[2, 'flow.collision']]);
  });
  it('replies to the wrong lane keep failing while the other clone asks: each one after a request elsewhere is named', () => {
    const r = verifyFrames([
      { data: q(), iface: 0, time: 1 },
      { data: reply(), iface: 0, time: 1.1 },
      { data: q(), iface: 1, time: 1.2 },
      { data: reply(), iface: 0, time: 1.3 }, // tap1 asked, tap0 got it
      { data: reply(), iface: 0, time: 1.4 }, // and again
    ]);
    expect(only(r.findings, 'flow.wrong-clone').map((f) => f.frame)).toEqual([4, 5]);
  });

  describe('ICMP errors are replies too', () => {
    const G = ip4('10.0.0.1');
    /** A port unreachable from the server for a query as sent (the quote: IP header + 8 bytes). */
    const unreachable = (): Uint8Array => eth4(ipv4L4(G, A, 1, icmpMsg(3, 3, 0, ipv4L4(A, B, 17, udp(2345, 53, dns)).subarray(0, 28))));
    /** The clone's port unreachable for an answer it did not ask for (quoting the reply). */
    const refused = (): Uint8Array => eth4(ipv4L4(A, G, 1, icmpMsg(3, 3, 0, ipv4L4(B, A, 17, udp(53, 2345, dns)).subarray(0, 28))));
    const q6 = (): Uint8Array => eth6(ipv6L4(ip6('fd00::2'), ip6('fd00::1'), 17, udp(2345, 53, dns)));
    const unreachable6 = (): Uint8Array =>
      eth6(ipv6L4(ip6('fd00::1'), ip6('fd00::2'), 58, icmpMsg(1, 4, 0, ipv6L4(ip6('fd00::2'), ip6('fd00::1'), 17, udp(2345, 53, dns)))));
    it('an error quoting a request asked on another lane reached the wrong clone (IPv4 and IPv6)', () => {
      const r = verifyFrames([
        { data: q(), iface: 0, time: 1 },
        { data: unreachable(), iface: 0, time: 1.1 }, // answers its own lane
        { data: q(), iface: 1, time: 1.2 },
        { data: unreachable(), iface: 0, time: 1.3 }, // tap1 asked
        { data: q6(), iface: 0, time: 2 },
        { data: q6(), iface: 1, time: 2.1 },
        { data: unreachable6(), iface: 0, time: 2.2 },
      ]);
      expect(only(r.findings, 'flow.wrong-clone').map((f) => [f.frame, f.interface, f.message])).toEqual([
        [4, 0, 'udp 10.0.0.2:2345 > 10.0.0.1:53: ICMP error on interface 0 to the request of frame 3 on interface 1: the answer went to another clone than the one that asked'],
        [7, 0, 'udp [fd00::2]:2345 > [fd00::1]:53: ICMPv6 error on interface 0 to the request of frame 6 on interface 1: the answer went to another clone than the one that asked'],
      ]);
      expect(r.summary.collisions.map((c) => c.wrongReplies)).toEqual([
        [{ request: { frame: 3, interface: 1, time: 1.2 }, reply: { frame: 4, interface: 0, time: 1.3 } }],
        [{ request: { frame: 6, interface: 1, time: 2.1 }, reply: { frame: 7, interface: 0, time: 2.2 } }],
      ]);
    });
    it('an error for a flow only one lane asked, sent out of another, makes the collision and is the wrong clone (also from the single-lane log)', () => {
      const r = verifyFrames([
        { data: q(), iface: 1, time: 1 },
        { data: unreachable(), iface: 0, time: 1.1 },
      ]);
      expect(r.findings.map((f) => [f.frame, f.check])).toEqual([
        [2, 'flow.wrong-clone'],
        [2, 'flow.collision'],
      ]);
      expect(r.summary.collisions.map((c) => [c.interfaces, c.frames])).toEqual([[[1, 0], [1, 2]]]);
    });
    it('an error quoting a reply (the clone refusing an answer it never asked for), an unknown flow, or a flow gone idle is nobody\'s reply', () => {
      const r = verifyFrames([
        { data: q(), iface: 0, time: 1 },
        { data: q(), iface: 1, time: 1.2 },
        { data: refused(), iface: 0, time: 1.3 }, // goes to the server
        { data: unreachable(), iface: 2, time: 500 }, // the flow went idle past the 120 s window
      ]);
      expect(only(r.findings, 'flow.wrong-clone')).toEqual([]);
      expect(r.summary.collisions[0]!.interfaces).toEqual([0, 1]);
      expect(only(verifyFrames([{ data: unreachable(), iface: 0 }]).findings, 'flow.wrong-clone')).toEqual([]);
    });
  });
  it('broadcast and multicast on several interfaces are no collision (one sender, every listener hears it)', () => {
    const bcastMac = hex('ffffffffffff');
    const subnetBroadcast = (): Uint8Array => ether(0x0800, ipv4L4(A, ip4('10.0.0.255'), 17, udp(17500, 17500, dns)), bcastMac);
    const limited = (): Uint8Array => eth4(ipv4L4(A, ip4('255.255.255.255'), 17, udp(68, 67, dns)));
    const mcast = (): Uint8Array => eth4(ipv4L4(A, ip4('224.0.0.251'), 17, udp(5353, 5353, dns)));
    const r = verifyFrames([
      { data: subnetBroadcast(), iface: 0 },
      { data: subnetBroadcast(), iface: 1 },
      { data: limited(), iface: 0 },
      { data: limited(), iface: 1 },
      { data: mcast(), iface: 0 },
      { data: mcast(), iface: 1 },
      { data: q(), iface: 0 },
      { data: q(), iface: 1 },
    ]);
    expect(r.summary.collisions.map((c) => c.flow)).toEqual(['10.0.0.2:2345 > 10.0.0.1:53']);
  });
  it("802.11: a group DA is no collision, a unicast one is (the DA's place follows the DS bits)", () => {
    const bcast = (o: WlanOptions) => wlanFromEthernet(ether(0x0800, ipv4L4(A, ip4('10.0.0.255'), 17, udp(17500, 17500, dns)), hex('ffffffffffff')), o);
    const uni = (o: WlanOptions) => wlanFromEthernet(q(), o);
    const r = verifyFrames([
      { data: bcast({ toDs: true, fromDs: false }), iface: 0, linkType: 127 },
      { data: bcast({ toDs: false, fromDs: true }), iface: 1, linkType: 127 },
      { data: uni({ toDs: true, fromDs: false }), iface: 0, linkType: 127 },
      { data: uni({ toDs: false, fromDs: true }), iface: 1, linkType: 127 },
    ]);
    expect(r.summary.collisions.map((c) => c.flow)).toEqual(['10.0.0.2:2345 > 10.0.0.1:53']);
  });
  it('a reply on the interface that asked last is no wrong reply', () => {
    const r = verifyFrames([
      { data: q(), iface: 0, time: 1 },
      { data: q(), iface: 1, time: 1.1 },
      { data: reply(), iface: 1, time: 1.2 },
      { data: q(), iface: 0, time: 1.3 },
      { data: reply(), iface: 0, time: 1.4 },
    ]);
    expect(only(r.findings, 'flow.collision').map((f) => f.frame)).toEqual([2]);
  });
  it('two VLANs on one interface are two domains; outside the window is no collision', () => {
    const vlan = (id: number): Uint8Array => ether(0x8100, concat(be16(id), be16(0x0800), ipv4L4(A, B, 17, udp(2345, 53, dns))));
    const r = verifyFrames([{ data: vlan(10) }, { data: vlan(20) }]);
    expect(r.summary.collisions.map((c) => [c.interfaces, c.vlans])).toEqual([[[0, 0], ['10', '20']]]);
    expect(r.findings[0]!.message).toContain('vlan 20');
    expect(r.findings[0]!.vlan).toBe('20');
    // Untagged flows say nothing of VLANs.
    expect(verifyFrames([{ data: q(), iface: 0 }, { data: q(), iface: 1 }]).summary.collisions[0]!.vlans).toBeUndefined();
    const late = verifyFrames([{ data: q(), iface: 0, time: 0 }, { data: q(), iface: 1, time: 200 }]);
    expect(late.summary.collisions).toEqual([]);
    const window = verifyFrames([{ data: q(), iface: 0, time: 0 }, { data: q(), iface: 1, time: 200 }], { collisionWindow: 300 });
    expect(window.summary.collisions).toHaveLength(1);
  });
  it('ICMP echo: the identifier stands for the ports', () => {
    const echo = (id: number, iface: number): Frame => ({ data: eth4(ipv4L4(A, ip4('8.8.8.8'), 1, icmpMsg(8, 0, (id << 16) | 1, hex('00')))), iface });
    const r = verifyFrames([echo(7, 0), echo(8, 1), echo(7, 1)]);
    expect(r.summary.collisions).toEqual([{ protocol: 'icmp', flow: '10.0.0.2 > 8.8.8.8 echo id 7', interfaces: [0, 1], frames: [1, 3], times: [0, 2], wrongReplies: [], wrongReplyCount: 0 }]);
  });
});

describe('bounded memory', () => {
  it('the reassembly table holds at most maxDatagrams; the excess is a verify.limit warning and unverifiable', () => {
    const frames: Frame[] = [];
    for (let i = 0; i < 20; i++) frames.push({ data: eth4(ipv4(A, B, 17, udp(1000 + i, 53, new Uint8Array(16)), { id: i, ff: 0x2000 })), time: 1 + i * 0.001 });
    const r = verifyFrames(frames, { maxDatagrams: 4 });
    expect(r.verifier.checksums.reassembler.size).toBeLessThanOrEqual(4);
    expect(only(r.findings, 'verify.limit')).toHaveLength(1);
    expect(only(r.findings, 'verify.limit')[0]!.frame).toBe(5);
    expect(r.summary.checksums.unverifiable).toBe(20);
  });
  it('timed-out datagrams free their place', () => {
    const frames: Frame[] = [];
    for (let i = 0; i < 20; i++) frames.push({ data: eth4(ipv4(A, B, 17, udp(1000 + i, 53, new Uint8Array(16)), { id: i, ff: 0x2000 })), time: i * 10 });
    const r = verifyFrames(frames, { maxDatagrams: 4, fragmentTimeout: 15 });
    expect(only(r.findings, 'verify.limit')).toEqual([]);
    expect(r.verifier.checksums.reassembler.size).toBeLessThanOrEqual(4);
  });
  it('more fragments than maxFragments: dropped with a warning', () => {
    const frames: Frame[] = [];
    for (let i = 0; i < 6; i++) frames.push({ data: eth4(ipv4(A, B, 17, new Uint8Array(8), { id: 9, ff: 0x2000 | (i + 1) })) });
    const r = verifyFrames(frames, { maxFragments: 4 });
    expect(only(r.findings, 'verify.limit')).toHaveLength(1);
  });
  it('the flow table holds at most maxFlows; the excess is one verify.limit warning', () => {
    const frames: Frame[] = [];
    for (let i = 0; i < 50; i++) frames.push({ data: eth4(ipv4L4(A, B, 17, udp(1000 + i, 53, dns))) });
    const r = verifyFrames(frames, { maxFlows: 8 });
    expect(r.verifier.flows.size).toBe(8);
    const lim = only(r.findings, 'verify.limit');
    expect(lim.map((f) => [f.frame, f.severity])).toEqual([[9, 'warning']]);
  });
  it('every live flow is found again after the table grows, reclaims idle flows and reuses their records', () => {
    // 20,000 flows at t=0..2 on tap0 (IPv4 UDP and TCP, IPv6 TCP, ICMP echo),
    // idle by t=100; 70,000 new ones at t=100..102 on tap0 (the probe array
    // grows past its 2^17 slots and the records past four pages, while the
    // clock hand deletes the idle flows, shifting their neighbours back by
    // their recomputed hashes); then every flow again on tap1 at t=120.
    // Exactly the second batch collides.
    const flow = (i: number): Uint8Array => {
      const src = ip4(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      switch (i % 4) {
        case 0:
          return eth4(ipv4L4(src, B, 17, udp(1024 + (i % 50000), 53, dns)));
        case 1:
          return eth4(ipv4L4(src, B, 6, tcp(40000, 443, new Uint8Array(0), 0x10)));
        case 2:
          return eth6(ipv6L4(ip6(`fd00::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`), ip6('fd00::1'), 6, tcp(40000, 443, new Uint8Array(0), 0x10)));
        default:
          return eth4(ipv4L4(src, B, 1, icmpMsg(8, 0, (i & 0xffff) << 16, hex('00'))));
      }
    };
    const first = Array.from({ length: 20_000 }, (_, i) => flow(i));
    const second = Array.from({ length: 70_000 }, (_, i) => flow(100_000 + i));
    const frames: Frame[] = [
      ...first.map((data, i) => ({ data, iface: 0, time: i / 10_000 })),
      ...second.map((data, i) => ({ data, iface: 0, time: 100 + i / 35_000 })),
      ...first.map((data) => ({ data, iface: 1, time: 120 })),
      ...second.map((data) => ({ data, iface: 1, time: 120 })),
    ];
    const r = verifyFrames(frames, { collisionWindow: 50 });
    expect(r.verifier.flows.capacity).toBe(1 << 18);
    const col = r.summary.collisions;
    expect(col).toHaveLength(70_000);
    expect(new Set(col.map((c) => c.frames[0]))).toEqual(new Set(second.map((_, i) => 20_001 + i)));
    expect(col.every((c) => c.interfaces.join() === '0,1' && c.frames[1]! > 110_000)).toBe(true);
    expect(only(r.findings, 'verify.limit')).toEqual([]);
  });
  it('idle flows are reclaimed, so a long capture does not fill the table', () => {
    const frames: Frame[] = [];
    for (let i = 0; i < 2000; i++) frames.push({ data: eth4(ipv4L4(A, B, 17, udp(1000 + i, 53, dns))), time: i });
    const r = verifyFrames(frames, { maxFlows: 300, collisionWindow: 10 });
    expect(only(r.findings, 'verify.limit')).toEqual([]);
    expect(r.verifier.flows.size).toBeLessThanOrEqual(300);
  });
});
