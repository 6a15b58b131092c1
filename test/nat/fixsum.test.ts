/**
 * --fix-checksums (src/nat/fixsum.ts) on whole packets, compared byte for
 * byte with the same packets built with every checksum computed in full by
 * the test builders (test/helpers/wire-build.ts, independent of
 * src/wire/checksum.ts).
 */
import { describe, expect, it } from 'vitest';
import { ChecksumFixer } from '../../src/nat/fixsum.js';
import { PacketDecoder } from '../../src/wire/decode.js';
import { LINKTYPE_ETHERNET } from '../../src/wire/raw.js';
import { be16, cksum, concat, ether, fold16, hex, icmpMsg, ip4, ip6, ipv4, ipv4L4, ipv6L4, pseudo4, sum, tcp, toHex, udp } from '../helpers/wire-build.js';
import { wlanFromEthernet, wlanLinkType } from '../helpers/wlan-build.js';

const A = ip4('10.0.0.2');
const B = ip4('10.0.0.1');
const A6 = ip6('fd00::2');
const B6 = ip6('fd00::1');

/** A copy of `frame` with the 16-bit word at `at` set to `value`. */
function withWord(frame: Uint8Array, at: number, value: number): Uint8Array {
  const f = frame.slice();
  f[at] = value >> 8;
  f[at + 1] = value & 255;
  return f;
}

/** Runs the fixer over a copy of `frame` (captured `cap` of `orig` bytes); the bytes after, and the fixer. */
function fix(frame: Uint8Array, orig = frame.length, linkType = LINKTYPE_ETHERNET): { out: Uint8Array; fixer: ChecksumFixer; changed: boolean } {
  const out = frame.slice();
  const dec = new PacketDecoder();
  const d = dec.decode(out, 0, out.length, orig, linkType);
  const fixer = new ChecksumFixer();
  const changed = fixer.fix(out, dec.view, d);
  return { out, fixer, changed };
}

/** Ethernet + IPv4 header at 14: the IP checksum at 24, the L4 header at 34. */
const IP_CK = 14 + 10;
const L4 = 34;

describe('--fix-checksums on whole packets', () => {
  it('recomputes a bad IPv4 header checksum and a bad TCP checksum, byte for byte', () => {
    const good = ether(0x0800, ipv4L4(A, B, 6, tcp(40000, 80, hex('48454c4c4f'))));
    const bad = withWord(withWord(good, IP_CK, 0x0000), L4 + 16, 0x1234);
    const { out, fixer, changed } = fix(bad);
    expect(changed).toBe(true);
    expect(toHex(out)).toBe(toHex(good));
    expect(fixer.summary()).toEqual({ fixed: 2, notFixable: 0, byProtocol: { ipv4: 1, tcp: 1, udp: 0, udplite: 0, dccp: 0, icmp: 0, icmpv6: 0 } });
    expect(fixer.describe()).toEqual([`ipv4.checksum 0x0000>0x${toHex(good.subarray(IP_CK, IP_CK + 2))}`, `tcp.checksum 0x1234>0x${toHex(good.subarray(L4 + 16, L4 + 18))}`]);
  });

  it('leaves right checksums as they are and counts nothing', () => {
    const good = ether(0x0800, ipv4L4(A, B, 17, udp(5353, 53, hex('0102030405'))));
    const { out, fixer, changed } = fix(good);
    expect(changed).toBe(false);
    expect(toHex(out)).toBe(toHex(good));
    expect(fixer.summary().fixed).toBe(0);
  });

  it('keeps UDP over IPv4 with checksum 0 ("no checksum", RFC 768) at 0', () => {
    const zero = ether(0x0800, ipv4L4(A, B, 17, udp(5353, 53, hex('0102030405')), {}, true));
    expect(toHex(zero.subarray(L4 + 6, L4 + 8))).toBe('0000');
    const { out, fixer } = fix(zero);
    expect(toHex(out)).toBe(toHex(zero));
    expect(fixer.summary()).toMatchObject({ fixed: 0, notFixable: 0 });
  });

  it('gives UDP over IPv6 with checksum 0 (mandatory there, RFC 8200 8.1) its checksum', () => {
    const good = ether(0x86dd, ipv6L4(A6, B6, 17, udp(5353, 53, hex('0102030405'))));
    const L6 = 14 + 40;
    const zero = withWord(good, L6 + 6, 0);
    const { out, fixer } = fix(zero);
    expect(toHex(out)).toBe(toHex(good));
    expect(fixer.summary().byProtocol.udp).toBe(1);
  });

  it('writes a computed UDP 0 as 0xFFFF, and a TCP 0 as 0x0000 (never 0xFFFF)', () => {
    // A payload word chosen so that the whole sum is 0xFFFF: the checksum comes out 0.
    const u = udp(1000, 2000, hex('0000'));
    const s = fold16(sum(u) + pseudo4(A, B, 17, u.length));
    u.set(be16(0xffff - s), 8);
    const frame = ether(0x0800, ipv4(A, B, 17, u));
    const { out } = fix(withWord(frame, L4 + 6, 0x4321));
    expect(toHex(out.subarray(L4 + 6, L4 + 8))).toBe('ffff');
    expect(cksum(out.subarray(L4), pseudo4(A, B, 17, u.length))).toBe(0); // it checks

    const t = tcp(1000, 2000, hex('0000'));
    const st = fold16(sum(t) + pseudo4(A, B, 6, t.length));
    t.set(be16(0xffff - st), 20);
    const tf = ether(0x0800, ipv4(A, B, 6, t));
    const fixed = fix(withWord(tf, L4 + 16, 0xffff));
    expect(toHex(fixed.out.subarray(L4 + 16, L4 + 18))).toBe('0000');
    expect(fixed.fixer.summary().byProtocol.tcp).toBe(1);
  });

  it('fixes ICMP, ICMPv6, UDP-Lite and DCCP', () => {
    const icmpGood = ether(0x0800, ipv4L4(A, B, 1, icmpMsg(8, 0, 0x00010002, hex('6162636465'))));
    expect(toHex(fix(withWord(icmpGood, L4 + 2, 0xbeef)).out)).toBe(toHex(icmpGood));

    const L6 = 14 + 40;
    const icmp6Good = ether(0x86dd, ipv6L4(A6, B6, 58, icmpMsg(128, 0, 0x00010002, hex('6162636465'))));
    const r6 = fix(withWord(icmp6Good, L6 + 2, 0xbeef));
    expect(toHex(r6.out)).toBe(toHex(icmp6Good));
    expect(r6.fixer.summary().byProtocol.icmpv6).toBe(1);

    // UDP-Lite, coverage 8 (the header only): the checksum covers the header and the pseudo-header (IP payload length).
    const lite = concat(be16(1000), be16(2000), be16(8), be16(0), hex('aabbccddee'));
    const c = cksum(lite.subarray(0, 8), pseudo4(A, B, 136, lite.length));
    const liteGood = ether(0x0800, ipv4(A, B, 136, concat(lite.subarray(0, 6), be16(c), lite.subarray(8))));
    const rl = fix(withWord(liteGood, L4 + 6, 0));
    expect(toHex(rl.out)).toBe(toHex(liteGood));
    expect(rl.fixer.summary().byProtocol.udplite).toBe(1);

    // DCCP: data offset 4 words, CsCov 0 (all), a 16-byte generic header (X=1).
    const dccp = concat(be16(1000), be16(2000), Uint8Array.of(4, 0), be16(0), Uint8Array.of(0x13, 0, 0, 1), hex('0000000000000002'), hex('01020304'));
    const dccpGood = ether(0x0800, ipv4L4(A, B, 33, dccp));
    const rd = fix(withWord(dccpGood, L4 + 6, 0x0001));
    expect(toHex(rd.out)).toBe(toHex(dccpGood));
    expect(rd.fixer.summary().byProtocol.dccp).toBe(1);
  });

  it('counts a snaplen-cut datagram and a fragment as not fixable and leaves their L4 checksum alone', () => {
    const good = ether(0x0800, ipv4L4(A, B, 6, tcp(40000, 80, new Uint8Array(100))));
    const bad = withWord(withWord(good, IP_CK, 0x0000), L4 + 16, 0x1234);
    const cut = bad.subarray(0, 60);
    const r = fix(cut, bad.length);
    // The header is whole: fixed; the segment is not: left as it was.
    expect(toHex(r.out)).toBe(toHex(concat(good.subarray(0, L4), bad.subarray(L4, 60))));
    expect(r.fixer.summary()).toEqual({ fixed: 1, notFixable: 1, byProtocol: { ipv4: 1, tcp: 0, udp: 0, udplite: 0, dccp: 0, icmp: 0, icmpv6: 0 } });

    // A first fragment (MF): the checksum covers the whole datagram, which this frame does not hold.
    const frag = ether(0x0800, ipv4(A, B, 17, concat(be16(1), be16(2), be16(108), be16(0x1234), new Uint8Array(24)), { ff: 0x2000 }));
    const rf = fix(frag);
    expect(toHex(rf.out)).toBe(toHex(frag));
    expect(rf.fixer.summary()).toMatchObject({ fixed: 0, notFixable: 1 });
  });

  it('fixes the packet quoted in an ICMP error where the verifier judges it, then the ICMP checksum over it', () => {
    const quotedGood = ipv4L4(B, A, 17, udp(53, 5353, hex('0102')));
    const errGood = ether(0x0800, ipv4L4(A, B, 1, icmpMsg(3, 3, 0, quotedGood)));
    // The quoted UDP checksum damaged, and the outer ICMP checksum computed over the damage.
    const q = L4 + 8;
    const damaged = withWord(errGood, q + 20 + 6, 0x1111);
    const icmpLen = damaged.length - L4;
    const outer = cksum(withWord(damaged, L4 + 2, 0).subarray(L4, L4 + icmpLen));
    const input = withWord(damaged, L4 + 2, outer);
    const r = fix(input);
    expect(toHex(r.out)).toBe(toHex(errGood));
    expect(r.fixer.summary().byProtocol).toMatchObject({ udp: 1, icmp: 1 });
  });

  it('keeps an 802.11 FCS right after a fix', () => {
    const good = ether(0x0800, ipv4L4(A, B, 6, tcp(40000, 80, hex('48454c4c4f'))));
    const bad = withWord(good, L4 + 16, 0x1234);
    const o = { fcs: true };
    const r = fix(wlanFromEthernet(bad, o), undefined, wlanLinkType(o));
    expect(toHex(r.out)).toBe(toHex(wlanFromEthernet(good, o)));
  });

  it('counts a TSO super-frame (IPv4 total length past the frame) as not fixable, and fixes its header', () => {
    const seg = tcp(40000, 80, new Uint8Array(40));
    const frame = ether(0x0800, ipv4(A, B, 6, withWord(seg, 16, 0x1234), { totalLen: 20 + seg.length + 3000 }));
    const bad = withWord(frame, IP_CK, 0);
    const r = fix(bad);
    expect(toHex(r.out)).toBe(toHex(frame));
    expect(r.fixer.summary()).toMatchObject({ fixed: 1, notFixable: 1 });
  });
});
