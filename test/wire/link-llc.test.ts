/**
 * The decoder's 802.11 link types (bare, radiotap, PPI, Prism, AVS), LLC/SNAP
 * (802.11 bodies, 802.3 length frames, SLL's 802.2 protocol), RARP, and the
 * ends of quotes (RFC 4884 lengths, the NDP Redirected Header option).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Translator } from '../../src/nat/translate.js';
import { NET_ARP, NET_IPV4, NET_IPV6, NET_NONE, NET_OTHER, PacketDecoder } from '../../src/wire/decode.js';
import { WLAN_BODY_AMSDU, WLAN_BODY_FIRST_FRAGMENT } from '../../src/wire/ieee80211.js';
import * as B from '../helpers/wire-build.js';
import { TestMapper } from '../helpers/wire-mapper.js';
import { BSSID, wlanFromEthernet, wlanLinkType, type WlanOptions } from '../helpers/wlan-build.js';

const { hex, ip4, ip6, concat, be16, be32 } = B;
const dec = new PacketDecoder();
const pl = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 3 + 1) & 255);
const udp4 = () => B.ether(0x0800, B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, B.udp(2345, 5000, pl(12))));
const IP_LEN = 20 + 8 + 12;

function decodeWlan(o: WlanOptions, eth = udp4()) {
  const f = wlanFromEthernet(eth, o);
  return { f, d: dec.decode(f, 0, f.length, f.length, wlanLinkType(o)) };
}

describe('802.11 data frames', () => {
  it('radiotap without flags: IP after the 24-byte header and LLC/SNAP; SA/DA by the DS bits (FromDS: SA is address 3)', () => {
    const { f, d } = decodeWlan({});
    // radiotap 8 + 802.11 24 + SNAP 8
    expect([d.net, d.netOff, d.etherType, d.linkHeaderLen, d.linkSubtype, d.fcsLen, d.fcsOff, d.ip.end]).toEqual([NET_IPV4, 40, 0x0800, 40, 0x20, 0, -1, 40 + IP_LEN]);
    expect([d.dstMacOff, d.srcMacOff]).toEqual([8 + 4, 8 + 16]);
    expect(B.toHex(f.subarray(d.srcMacOff, d.srcMacOff + 6))).toBe(B.toHex(B.MAC_A));
    expect(B.toHex(f.subarray(d.dstMacOff, d.dstMacOff + 6))).toBe(B.toHex(B.MAC_B));
  });

  it('every DS combination puts SA and DA where they are', () => {
    for (const [toDs, fromDs] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const { f, d } = decodeWlan({ toDs, fromDs });
      expect(d.net).toBe(NET_IPV4);
      expect(B.toHex(f.subarray(d.srcMacOff, d.srcMacOff + 6)), `${toDs}/${fromDs}`).toBe(B.toHex(B.MAC_A));
      expect(B.toHex(f.subarray(d.dstMacOff, d.dstMacOff + 6)), `${toDs}/${fromDs}`).toBe(B.toHex(B.MAC_B));
    }
  });

  it('QoS (+2), four addresses (+6), HT control with Order (+4), data padding to 4, TSFT and an extended bitmap before Flags', () => {
    // radiotap: 4 + 2 bitmaps (8) = 12, TSFT aligned to 16 (+8) = 24, Flags 1 = 25; 802.11: 24 + 6 + 2 + 4 = 36, padded 36.
    let r = decodeWlan({ qos: true, htc: true, toDs: true, fromDs: true, datapad: true, fcs: true, tsft: true, extBitmap: true });
    expect([r.d.net, r.d.netOff, r.d.fcsLen, r.d.fcsCoverOff, r.d.fcsPadLen, r.d.linkSubtype]).toEqual([NET_IPV4, 25 + 36 + 8, 4, 25, 0, 0x28]);
    expect(r.d.fcsOff).toBe(r.f.length - 4);
    expect(r.d.capEnd).toBe(r.f.length - 4);
    // QoS alone: 26-byte header padded to 28 (radiotap 9: flags only).
    r = decodeWlan({ qos: true, datapad: true, fcs: true });
    expect([r.d.net, r.d.netOff, r.d.fcsCoverOff, r.d.fcsPadOff, r.d.fcsPadLen]).toEqual([NET_IPV4, 9 + 28 + 8, 9, 9 + 26, 2]);
  });

  it('the FCS is never part of the network layer: not padding, not a lying length, not captured when the frame is cut', () => {
    const { f, d } = decodeWlan({ fcs: true });
    expect([d.padding, d.ip.lengthExceedsFrame, d.frameEnd, d.capEnd]).toEqual([0, false, f.length - 4, f.length - 4]);
    const cut = dec.decode(f, 0, f.length - 2, f.length, 127);
    expect([cut.net, cut.fcsLen, cut.fcsOff, cut.fcsCoverOff, cut.capEnd, cut.frameEnd]).toEqual([NET_IPV4, 4, -1, -1, f.length - 4, f.length - 4]);
  });

  it('bare 802.11, PPI (its FCS flag), Prism and AVS headers', () => {
    expect(decodeWlan({ radio: 'none' }).d.netOff).toBe(32);
    const ppi = decodeWlan({ radio: 'ppi', fcs: true });
    expect([ppi.d.net, ppi.d.netOff, ppi.d.fcsOff]).toEqual([NET_IPV4, 32 + 32, ppi.f.length - 4]);
    expect(decodeWlan({ radio: 'prism' }).d.netOff).toBe(144 + 32);
    expect(decodeWlan({ radio: 'avs' }).d.netOff).toBe(64 + 32);
    // PPI in front of Ethernet.
    const eth = udp4();
    const p = concat(hex('00000800'), hex('01000000'), eth);
    const d = dec.decode(p, 0, p.length, p.length, 192);
    expect([d.net, d.netOff, d.srcMacOff]).toEqual([NET_IPV4, 22, 14]);
  });

  it('IPv6 and ARP behind LLC/SNAP, and a VLAN tag', () => {
    const v6 = B.ether(0x86dd, B.ipv6L4(ip6('fd00::2'), ip6('fd00::1'), 17, B.udp(1, 2, pl(4))));
    expect(decodeWlan({}, v6).d.net).toBe(NET_IPV6);
    const arp = B.ether(0x0806, concat(hex('0001 0800 06 04 0001'), B.MAC_A, be32(ip4('10.0.0.2')), new Uint8Array(6), be32(ip4('10.0.0.1'))));
    expect(decodeWlan({}, arp).d.net).toBe(NET_ARP);
    const tagged = B.ether(0x8100, concat(be16(42), be16(0x0800), B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, B.udp(1, 2, pl(4)))));
    const d = decodeWlan({}, tagged).d;
    expect([d.net, d.vlanCount, d.vlanIds[0]]).toEqual([NET_IPV4, 1, 42]);
  });

  it('not decoded, as an unknown protocol: management and control frames, null data, protected, fragments, A-MSDU, other LLC', () => {
    const cases: Array<[WlanOptions, number]> = [
      [{ fc0: 0x80 }, 0], // beacon
      [{ fc0: 0xd4 }, 0], // ACK (a control frame: its header is shorter than a data header; still no IP)
      [{ fc0: 0x48 }, 0], // null data
      [{ protected: true }, 0],
      [{ moreFragments: true }, WLAN_BODY_FIRST_FRAGMENT],
      [{ fragment: 1 }, 0],
      [{ amsdu: true }, WLAN_BODY_AMSDU],
    ];
    for (const [o, body] of cases) {
      const { d } = decodeWlan(o);
      expect([d.net, d.unknownProtocol, d.undecodable, d.wlanBody], JSON.stringify(o)).toEqual([NET_OTHER, true, null, body]);
    }
    // STP over LLC (not SNAP), Cisco's SNAP OUI.
    for (const llc of [hex('424203000000'), hex('aaaa0300000c2000')]) {
      const f = concat(hex('000008000000000008020000'), B.MAC_B, BSSID, B.MAC_A, hex('1000'), llc, pl(20));
      expect(dec.decode(f, 0, f.length, f.length, 127).unknownProtocol).toBe(true);
    }
  });

  it('impossible radio headers are undecodable; cut ones are cut', () => {
    const { f } = decodeWlan({ fcs: true });
    const bad = f.slice();
    bad[0] = 1;
    expect(dec.decode(bad, 0, bad.length, bad.length, 127).undecodable).toMatch(/radiotap: version/);
    bad[0] = 0;
    bad[2] = 0xff;
    expect(dec.decode(bad, 0, bad.length, bad.length, 127).undecodable).toMatch(/runs past the frame/);
    bad[2] = 4;
    expect(dec.decode(bad, 0, bad.length, bad.length, 127).undecodable).toMatch(/radiotap: header length/);
    const d = dec.decode(f, 0, 20, f.length, 127);
    expect([d.headerCut, d.undecodable, d.net]).toEqual([true, null, NET_NONE]);
  });
});

describe('LLC/SNAP on Ethernet and SLL; RARP', () => {
  it('an 802.3 length frame with LLC/SNAP carries IP and ARP (RFC 1042, and 802.1H)', () => {
    const ip = B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, B.udp(1, 2, pl(4)));
    const f = concat(B.ether(8 + ip.length, concat(hex('aaaa03000000'), be16(0x0800), ip)), new Uint8Array(6));
    let d = dec.decode(f, 0, f.length, f.length, 1);
    expect([d.net, d.netOff, d.etherType, d.padding]).toEqual([NET_IPV4, 22, 0x0800, 6]);
    const h = concat(B.ether(8 + ip.length, concat(hex('aaaa030000f8'), be16(0x0800), ip)));
    expect(dec.decode(h, 0, h.length, h.length, 1).net).toBe(NET_IPV4);
    // SLL protocol 4 (ETH_P_802_2): LLC follows.
    const s = concat(be16(0), be16(1), be16(6), B.MAC_A, be16(0), be16(4), hex('aaaa03000000'), be16(0x0800), ip);
    d = dec.decode(s, 0, s.length, s.length, 113);
    expect([d.net, d.netOff]).toEqual([NET_IPV4, 24]);
  });

  it('RARP (0x8035) is NET_ARP, its EtherType kept', () => {
    const f = B.ether(0x8035, concat(hex('0001 0800 06 04 0003'), B.MAC_A, new Uint8Array(4), B.MAC_A, new Uint8Array(4)));
    const d = dec.decode(f, 0, f.length, f.length, 1);
    expect([d.net, d.etherType]).toEqual([NET_ARP, 0x8035]);
  });
});

describe('where a quote ends', () => {
  const quoted = B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.3'), 17, B.udp(2345, 5000, pl(200)));
  it('an ICMP error quotes to the end of the datagram, or to its RFC 4884 length when an extension follows', () => {
    let f = B.ether(0x0800, B.ipv4L4(ip4('10.0.0.1'), ip4('10.0.0.2'), 1, B.icmpMsg(3, 3, 0, quoted.subarray(0, 128))));
    let d = dec.decode(f, 0, f.length, f.length, 1);
    expect([d.icmpError, d.quoteEnd]).toEqual([true, f.length]);
    // Length 32 words (128 bytes) at offset 5, then an extension structure.
    f = B.ether(0x0800, B.ipv4L4(ip4('10.0.0.1'), ip4('10.0.0.2'), 1, B.icmpMsg(3, 3, 0x00200000, concat(quoted.subarray(0, 128), hex('2000000000080101 0a000001')))));
    d = dec.decode(f, 0, f.length, f.length, 1);
    expect(d.quoteEnd).toBe(14 + 20 + 8 + 128);
    expect(d.inner.dataEnd).toBe(d.quoteEnd);
  });

  it("an NDP Redirect's Redirected Header option is decoded as a quote, to the option's end", () => {
    const q6 = B.ipv6L4(ip6('fd00::2'), ip6('fd00::3'), 17, B.udp(2345, 5000, pl(12)));
    const padded = concat(q6, new Uint8Array((8 - (q6.length % 8)) % 8));
    const opt = concat(Uint8Array.of(4, (padded.length + 8) / 8), new Uint8Array(6), padded);
    const body = concat(Uint8Array.of(137, 0, 0, 0), be32(0), ip6('fd00::9'), ip6('fd00::7'), hex('0101525400abcdef'), opt);
    const f = B.ether(0x86dd, B.ipv6L4(ip6('fe80::1'), ip6('fd00::2'), 58, body));
    const d = dec.decode(f, 0, f.length, f.length, 1);
    expect([d.icmpError, d.redirectQuote, d.inner.version, d.inner.proto, d.quoteEnd]).toEqual([false, true, 6, 17, f.length]);
    expect(d.inner.off).toBe(14 + 40 + 40 + 8 + 8);
  });
});

describe('fuzz', () => {
  it('any bytes at the 802.11 link types decode and translate without throwing, lengths kept', () => {
    const tr = new Translator();
    const m = new TestMapper(['0.0.0.0/1=128.0.0.0/1', '::/1=8000::/1']);
    const base = wlanFromEthernet(udp4(), { qos: true, fcs: true, datapad: true });
    fc.assert(
      fc.property(fc.constantFrom(105, 119, 127, 163, 192), fc.uint8Array({ maxLength: 160 }), fc.nat(), fc.boolean(), (lt, bytes, cut, plausible) => {
        const b = plausible ? Uint8Array.from(base) : bytes.slice();
        if (plausible) for (let i = 0; i < bytes.length; i++) b[(i * 7) % b.length] = b[(i * 7) % b.length]! ^ (bytes[i]! & (i % 3 === 0 ? 0xff : 0x01));
        const cap = b.length === 0 ? 0 : cut % (b.length + 1);
        const copy = b.slice();
        dec.decode(b, 0, cap, b.length, lt);
        tr.translate(b, 0, cap, b.length, lt, m);
        expect(b.length).toBe(copy.length);
        for (let i = cap; i < b.length; i++) expect(b[i]).toBe(copy[i]);
      }),
      { numRuns: 5000 },
    );
  });
});
