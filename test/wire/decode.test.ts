import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyFile } from '../../src/api.js';
import { Translator } from '../../src/nat/translate.js';
import { NET_ARP, NET_IPV4, NET_IPV6, NET_NONE, NET_OTHER, PacketDecoder, decodesLinkType } from '../../src/wire/decode.js';
import { epb, idb, shb } from '../helpers/pcapng-build.js';
import * as B from '../helpers/wire-build.js';
import { TestMapper } from '../helpers/wire-mapper.js';

const { hex, ip4, ip6, concat, be16, be32 } = B;
const dec = new PacketDecoder();
const pl = (n: number) => Uint8Array.from({ length: n }, (_, i) => i & 255);

describe('PacketDecoder', () => {
  it('Ethernet/IPv4/UDP with padding: offsets, lengths, padding', () => {
    const f = concat(B.ether(0x800, B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, B.udp(1, 2, pl(4)))), new Uint8Array(14));
    const d = dec.decode(f, 0, f.length, f.length, 1);
    expect([d.net, d.netOff, d.etherType, d.linkHeaderLen, d.padding, d.truncated, d.headerCut]).toEqual([NET_IPV4, 14, 0x800, 14, 14, false, false]);
    expect([d.ip.version, d.ip.headerLen, d.ip.end, d.ip.dataEnd, d.ip.proto, d.ip.l4Off, d.ip.srcOff, d.ip.dstOff, d.ip.pseudoDstOff]).toEqual([4, 20, 46, 46, 17, 34, 26, 30, 30]);
  });

  it('works at a non-zero offset inside a larger buffer and caches its DataView', () => {
    const f = B.ether(0x800, B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 6, B.tcp(1, 2, pl(3))));
    const big = concat(pl(100), f, pl(7));
    const d = dec.decode(big, 100, f.length, f.length, 1);
    expect(d.ip.l4Off).toBe(134);
    const v1 = dec.view;
    dec.decode(big, 100, f.length, f.length, 1);
    expect(dec.view).toBe(v1);
  });

  it('snaplen cut: truncated flag, no error; header cut flagged', () => {
    const f = B.ether(0x86dd, B.ipv6L4(ip6('fd00::1'), ip6('fd00::2'), 17, B.udp(1, 2, pl(40))));
    let d = dec.decode(f, 0, 60, f.length, 1);
    expect([d.truncated, d.headerCut, d.undecodable, d.net, d.ip.headerCaptured]).toEqual([true, false, null, NET_IPV6, true]);
    d = dec.decode(f, 0, 30, f.length, 1);
    expect([d.truncated, d.headerCut, d.net, d.ip.headerCaptured]).toEqual([true, true, NET_IPV6, false]);
  });

  it('IPv4 total length 0 (TSO) uses the frame length; a length past the frame is flagged', () => {
    const p = B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 6, B.tcp(1, 2, pl(10)), { totalLen: 0 });
    let d = dec.decode(p, 0, p.length, p.length, 101);
    expect([d.ip.zeroLength, d.ip.end, d.ip.l4Off]).toEqual([true, p.length, 20]);
    const q = B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 6, B.tcp(1, 2, pl(10)), { totalLen: 500 });
    d = dec.decode(q, 0, q.length, q.length, 101);
    expect([d.ip.lengthExceedsFrame, d.ip.dataEnd, d.undecodable]).toEqual([true, q.length, null]);
  });

  it('IPv6 extension headers: hop-by-hop, destination options, fragment, AH', () => {
    const u = B.udp(1, 2, pl(8));
    const ext = concat(hex('3c00010400000000'), hex('2c00010400000000'), hex('3300000100000007'), hex('1101000000000100000000010000000000000000').subarray(0, 12));
    const f = B.ether(0x86dd, B.ipv6(ip6('fd00::1'), ip6('fd00::2'), 0, concat(ext, u)));
    const d = dec.decode(f, 0, f.length, f.length, 1);
    expect([d.ip.extCount, d.ip.fragHeaderOff, d.ip.ahOff, d.ip.fragId, d.ip.isFragment, d.ip.proto, d.ip.l4Off]).toEqual([4, 70, 78, 7, true, 17, 90]);
  });

  it('ICMPv4 error: the quoted header is decoded (one level)', () => {
    const inner = B.ipv4L4(ip4('8.8.8.8'), ip4('10.0.0.2'), 6, B.tcp(443, 1000, pl(0)));
    const f = B.ether(0x800, B.ipv4L4(ip4('10.0.0.1'), ip4('8.8.8.8'), 1, B.icmpMsg(3, 4, 1400, inner.subarray(0, 28))));
    const d = dec.decode(f, 0, f.length, f.length, 1);
    expect([d.icmpError, d.icmpType, d.icmpCode, d.inner.version, d.inner.off, d.inner.proto, d.inner.l4Off, d.inner.dataEnd, d.inner.end]).toEqual([true, 3, 4, 4, 42, 6, 62, 70, 82]);
  });

  it('link headers: SLL subtype, SLL2, NULL AF, LOOP, unknown ones', () => {
    const ip = B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, B.udp(1, 2, pl(1)));
    let d = dec.decode(concat(be16(4), be16(772), be16(0), new Uint8Array(8), be16(0x800), ip), 0, 16 + ip.length, 16 + ip.length, 113);
    expect([d.linkSubtype, d.net, d.netOff]).toEqual([772, NET_IPV4, 16]);
    const s2 = concat(be16(0x806), be16(0), be32(1), be16(1), Uint8Array.of(0, 6), new Uint8Array(8), pl(28));
    d = dec.decode(s2, 0, s2.length, s2.length, 276);
    expect([d.net, d.netOff, d.linkHeaderLen]).toEqual([NET_ARP, 20, 20]);
    const n = concat(hex('07000000'), pl(20));
    d = dec.decode(n, 0, n.length, n.length, 0);
    expect([d.net, d.linkSubtype, d.unknownProtocol]).toEqual([NET_OTHER, 7, true]);
    d = dec.decode(ip, 0, ip.length, ip.length, 147);
    expect([d.net, d.unknownLink]).toEqual([NET_NONE, true]);
    const llc = B.ether(0x0026, pl(38));
    d = dec.decode(llc, 0, llc.length, llc.length, 1);
    expect([d.net, d.etherType, d.unknownProtocol]).toEqual([NET_OTHER, 0x26, true]);
  });

  it('fuzz: any bytes at any handled link type decode and translate without throwing, lengths kept', () => {
    const tr = new Translator();
    const m = new TestMapper(['0.0.0.0/1=128.0.0.0/1', '::/1=8000::/1']);
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9), fc.uint8Array({ maxLength: 200 }), fc.nat(), (lt, bytes, cut) => {
        // bias towards plausible headers
        const b = bytes.slice();
        if (b.length > 20 && (lt === 101 || lt === 228)) b[0] = 0x45;
        const cap = bytes.length === 0 ? 0 : cut % (bytes.length + 1);
        const len = b.length;
        dec.decode(b, 0, cap, len, lt);
        tr.translate(b, 0, cap, len, lt, m);
        expect(b.length).toBe(len);
        for (let i = cap; i < len; i++) expect(b[i]).toBe(bytes[i]);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('the link types decoded: one list, the cases of decode()', () => {
  // Every link type the README and docs/DESIGN.md say is decoded, by number.
  const decoded: Record<number, string> = {
    0: 'NULL (BSD loopback)',
    1: 'Ethernet',
    9: 'PPP',
    12: 'raw IP',
    14: 'raw IP',
    50: 'PPP in HDLC framing',
    51: 'PPPoE',
    101: 'raw IP',
    104: 'Cisco HDLC',
    105: 'IEEE 802.11',
    108: 'LOOP (OpenBSD loopback)',
    113: 'Linux cooked (SLL)',
    119: 'IEEE 802.11 Prism',
    127: 'IEEE 802.11 radiotap',
    163: 'IEEE 802.11 AVS',
    192: 'PPI',
    228: 'raw IPv4',
    229: 'raw IPv6',
    276: 'Linux cooked v2 (SLL2)',
  };
  const numbers = Object.keys(decoded).map(Number);

  it('decodesLinkType is true for exactly these, of all 65,536 link types', () => {
    const yes: number[] = [];
    for (let lt = 0; lt < 65536; lt++) if (decodesLinkType(lt)) yes.push(lt);
    expect(yes).toEqual(numbers);
  });

  it('verify: an interface of each gets no capture.unsupported-link; USER0 (147) gets one, with its count', async () => {
    const types = [...numbers, 147];
    const frame = new Uint8Array(64);
    const capture = Buffer.concat([
      shb(true),
      ...types.map((lt) => idb(`if${lt}`, true, lt)),
      ...types.flatMap((_, i) => [epb(i, frame, true, i), epb(i, frame, true, i)]),
    ]);
    const file = join(mkdtempSync(join(tmpdir(), 'ssnat-links-')), 'links.pcapng');
    writeFileSync(file, capture);
    const report = await verifyFile(file);
    const user0 = types.length - 1;
    expect(report.findings.filter((f) => f.check === 'capture.unsupported-link')).toEqual([
      {
        frame: 2 * user0 + 1,
        interface: user0,
        check: 'capture.unsupported-link',
        severity: 'warning',
        message: `2 packet(s) on interface ${user0} (if147) have link type 147 (USER0), which ssnat-rewrite does not decode: nothing in them was checked; they pass unchanged`,
      },
    ]);
  });
});
