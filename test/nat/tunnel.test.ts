/**
 * The translator inside tunnels (src/wire/tunnel.ts, src/nat/translate.ts):
 * every address of the rule's prefix at every depth, every checksum that
 * covers it right afterwards (inner IP and L4, the GRE checksum, the UDP the
 * tunnel rides in, also where the inner packet starts at an odd offset), a
 * zero UDP checksum kept zero, the reverse giving the bytes back, and bad
 * tunnel headers left as they are with the reason. tshark judges captures
 * of every encapsulation in test/interop/.
 */
import { describe, expect, it } from 'vitest';
import { C_TUNNEL, K_IPV4_SRC, K_TUNNELLED, Translator } from '../../src/nat/translate.js';
import { PacketDecoder } from '../../src/wire/decode.js';
import { ERR_GENEVE_OPTION, ERR_GRE_VERSION, ERR_TUNNEL_DEPTH, ERR_VXLAN_SHORT, MAX_TUNNEL_DEPTH, TUN_GENEVE, TUN_GTPU, TUN_NVGRE, TUN_PPTP, TUN_VXLAN } from '../../src/wire/tunnel.js';
import * as B from '../helpers/wire-build.js';
import { TestMapper } from '../helpers/wire-mapper.js';

const { hex, toHex, ip4, concat, be16, be32 } = B;
const g2h = new TestMapper(['10.0.0.0/24=192.168.1.0/24', 'fd00::/64=fd00:1::/64'], 'g2h');
const h2g = new TestMapper(['10.0.0.0/24=192.168.1.0/24', 'fd00::/64=fd00:1::/64'], 'h2g');
const tr = new Translator();
const A = ip4('10.0.0.2');
const S = ip4('10.0.0.1');
const U1 = ip4('172.16.0.1');
const U2 = ip4('172.16.0.2');
const dns = hex('12340100000100000000000003777777076578616d706c6503636f6d0000010001');

function xlate(buf: Uint8Array, mapper = g2h) {
  return tr.translate(buf, 0, buf.length, buf.length, 1, mapper);
}
function u16(b: Uint8Array, o: number) {
  return (b[o]! << 8) | b[o + 1]!;
}
/** The ones'-complement sum over a range with a pseudo-header seed: 0xFFFF when the checksum in it is right. */
function residual(b: Uint8Array, off: number, len: number, seed = 0): number {
  return B.fold16(B.sum(b, off, len) + seed);
}
const vxlan = (vni: number) => concat(hex('08000000'), be32(vni << 8));
/** An Ethernet frame of IPv4 over UDP to `dport` from 49152 (checksum filled, or 0), carrying `payload`. */
function overUdp(dport: number, payload: Uint8Array, zero = false, src = U1, dst = U2) {
  return B.ether(0x0800, B.ipv4L4(src, dst, 17, B.udp(49152, dport, payload), {}, zero));
}
const innerUdp = () => B.ether(0x0800, B.ipv4L4(A, S, 17, B.udp(33000, 53, dns)));

describe('VXLAN', () => {
  it('the inner packet is translated and every checksum over it, the outer UDP one included, stays right; the reverse gives the bytes back', () => {
    const buf = overUdp(4789, concat(vxlan(42), innerUdp()));
    const input = buf.slice();
    const r = xlate(buf);
    expect(r.rewrites).toBe(1 << K_TUNNELLED);
    expect(r.checksums & C_TUNNEL).toBe(C_TUNNEL);
    expect(r.describe(g2h)).toBe(
      'ssnat: ipv4.src 10.0.0.2>192.168.1.2 inside VXLAN VNI 42 (rule 10.0.0.0/24=192.168.1.0/24); ipv4.dst 10.0.0.1>192.168.1.1 inside VXLAN VNI 42 (rule 10.0.0.0/24=192.168.1.0/24)',
    );
    const inner = 14 + 20 + 8 + 8 + 14;
    expect(toHex(buf.subarray(inner + 12, inner + 20))).toBe(toHex(concat(be32(ip4('192.168.1.2')), be32(ip4('192.168.1.1')))));
    // Inner IPv4 header, inner UDP, outer UDP: each sums to 0xFFFF.
    expect(residual(buf, inner, 20)).toBe(0xffff);
    expect(residual(buf, inner + 20, 8 + dns.length, B.pseudo4(ip4('192.168.1.2'), ip4('192.168.1.1'), 17, 8 + dns.length))).toBe(0xffff);
    const outerLen = buf.length - 34;
    expect(residual(buf, 34, outerLen, B.pseudo4(U1, U2, 17, outerLen))).toBe(0xffff);
    // Outer headers are not the rule's: untouched.
    expect(toHex(buf.subarray(0, 34))).toBe(toHex(input.subarray(0, 34)));
    tr.translate(buf, 0, buf.length, buf.length, 1, h2g);
    expect(toHex(buf)).toBe(toHex(input));
  });

  it('an outer UDP checksum of 0 stays 0 (over IPv4 "none"; RFC 6935 allows it over IPv6 for tunnels)', () => {
    const buf = overUdp(4789, concat(vxlan(42), innerUdp()), true);
    xlate(buf);
    expect(u16(buf, 40)).toBe(0);
    const six = B.ether(0x86dd, B.ipv6L4(B.ip6('2001:db8::1'), B.ip6('2001:db8::2'), 17, B.udp(49152, 4789, concat(vxlan(7), innerUdp())), true));
    xlate(six);
    expect(u16(six, 14 + 40 + 6)).toBe(0);
    expect(toHex(six.subarray(14 + 40 + 16 + 14 + 12, 14 + 40 + 16 + 14 + 16))).toBe(toHex(be32(ip4('192.168.1.2'))));
  });

  it('outer addresses of the rule change too: one rule, every place, and the outer UDP checksum takes both deltas', () => {
    const buf = overUdp(4789, concat(vxlan(42), innerUdp()), false, ip4('10.0.0.7'), U2);
    const r = xlate(buf);
    expect(r.rewrites).toBe((1 << K_IPV4_SRC) | (1 << K_TUNNELLED));
    const outerLen = buf.length - 34;
    expect(residual(buf, 34, outerLen, B.pseudo4(ip4('192.168.1.7'), U2, 17, outerLen))).toBe(0xffff);
    expect(residual(buf, 14, 20)).toBe(0xffff);
  });

  it('a wrong inner checksum stays exactly as wrong, and so does a wrong outer one', () => {
    const buf = overUdp(4789, concat(vxlan(42), innerUdp()));
    const inner = 14 + 20 + 8 + 8 + 14;
    buf[inner + 20 + 6]! ^= 0x10; // inner UDP checksum off
    buf[40]! ^= 0x01; // outer UDP checksum off
    const before = [residual(buf, inner + 20, 8 + dns.length, B.pseudo4(A, S, 17, 8 + dns.length)), residual(buf, 34, buf.length - 34, B.pseudo4(U1, U2, 17, buf.length - 34))];
    xlate(buf);
    expect([residual(buf, inner + 20, 8 + dns.length, B.pseudo4(ip4('192.168.1.2'), ip4('192.168.1.1'), 17, 8 + dns.length)), residual(buf, 34, buf.length - 34, B.pseudo4(U1, U2, 17, buf.length - 34))]).toEqual(before);
  });

  it('a port given with --vxlan-port is VXLAN; with tunnels off nothing inside is looked at', () => {
    const buf = overUdp(8472, concat(vxlan(42), innerUdp()));
    const input = buf.slice();
    expect(xlate(buf).changed).toBe(false);
    const t = new Translator();
    t.decoder.setTunnels({ on: true, vxlanPorts: [8472] });
    expect(t.translate(buf, 0, buf.length, buf.length, 1, g2h).rewrites).toBe(1 << K_TUNNELLED);
    const off = new Translator();
    off.decoder.setTunnels({ on: false, vxlanPorts: [] });
    const b2 = overUdp(4789, concat(vxlan(42), innerUdp()));
    expect(off.translate(b2, 0, b2.length, b2.length, 1, g2h).changed).toBe(false);
    // rewrite's direct path does not take a tunnel's packet
    const b3 = overUdp(4789, concat(vxlan(42), innerUdp()));
    expect(tr.rewrite(b3, 0, b3.length, b3.length, 1, g2h).rewrites).toBe(1 << K_TUNNELLED);
    expect(input.length).toBe(buf.length);
  });
});

describe('GRE, PPTP, Geneve, GTP-U, nesting', () => {
  it('GRE with C, K and S: the GRE checksum (over its header and payload) stays right; the key scopes', () => {
    const inner = B.ipv4L4(A, S, 17, B.udp(33000, 53, dns));
    const gre = concat(be16(0xb000), be16(0x0800), be16(0), be16(0), be32(7), be32(1), inner);
    const c = B.cksum(gre);
    gre[4] = c >> 8;
    gre[5] = c & 255;
    const buf = B.ether(0x0800, B.ipv4(U1, U2, 47, gre));
    const d = new PacketDecoder().decode(buf, 0, buf.length, buf.length, 1);
    expect([d.tunnel.kind, d.tunnel.key, d.tunnel.greChecksumOff]).toEqual([4, 7, 34]);
    xlate(buf);
    expect(residual(buf, 34, buf.length - 34)).toBe(0xffff);
    expect(residual(buf, 34 + 16, 20)).toBe(0xffff);
  });

  it('NVGRE: a keyed GRE of Ethernet has its VSID (key >> 8) as its VNI', () => {
    const gre = concat(be16(0x2000), be16(0x6558), be32((5001 << 8) | 3), innerUdp());
    const buf = B.ether(0x0800, B.ipv4(U1, U2, 47, gre));
    const d = new PacketDecoder().decode(buf, 0, buf.length, buf.length, 1);
    expect([d.tunnel.kind, d.tunnel.vni, d.tunnel.key, d.tunnel.describe()]).toEqual([TUN_NVGRE, 5001, (5001 << 8) | 3, 'NVGRE VSID 5001']);
  });

  it('PPTP in GRE-in-UDP with a one-byte PPP protocol: the inner packet starts at an odd offset, and the outer UDP checksum still comes out right', () => {
    const inner = B.ipv4L4(A, S, 17, B.udp(33000, 53, dns));
    const gre = concat(be16(0x3001), be16(0x880b), be16(inner.length + 1), be16(9), be32(1), Uint8Array.of(0x21), inner);
    const buf = overUdp(4754, gre);
    const d = new PacketDecoder().decode(buf, 0, buf.length, buf.length, 1);
    expect(d.tunnel.kind).toBe(TUN_PPTP);
    expect(d.payload!.netOff % 2).toBe(1);
    xlate(buf);
    const outerLen = buf.length - 34;
    expect(residual(buf, 34, outerLen, B.pseudo4(U1, U2, 17, outerLen))).toBe(0xffff);
    expect(toHex(buf.subarray(d.payload!.netOff + 12, d.payload!.netOff + 16))).toBe(toHex(be32(ip4('192.168.1.2'))));
  });

  it('Geneve with options, GTP-U with an extension header: their identifiers, and the packet inside translated', () => {
    const geneve = concat(hex('02000800'), be32(9 << 8), hex('0102030100000001'), B.ipv4L4(A, S, 17, B.udp(1, 2, dns)));
    const g = overUdp(6081, geneve);
    const d = new PacketDecoder().decode(g, 0, g.length, g.length, 1);
    expect([d.tunnel.kind, d.tunnel.vni, d.payload!.netOff]).toEqual([TUN_GENEVE, 9, 14 + 20 + 8 + 16]);
    const ip = B.ipv4L4(A, ip4('8.8.8.8'), 17, B.udp(5000, 53, dns));
    const gtp = concat(hex('34ff'), be16(4 + 4 + ip.length), be32(0x1234), hex('00000085'), hex('01000100'), ip);
    const t = overUdp(2152, gtp);
    const dt = new PacketDecoder().decode(t, 0, t.length, t.length, 1);
    expect([dt.tunnel.kind, dt.tunnel.teid, dt.payload!.netOff]).toEqual([TUN_GTPU, 0x1234, 14 + 20 + 8 + 16]);
    xlate(t);
    expect(toHex(t.subarray(dt.payload!.netOff + 12, dt.payload!.netOff + 16))).toBe(toHex(be32(ip4('192.168.1.2'))));
  });

  it(`VXLAN in VXLAN: every depth translated; ${MAX_TUNNEL_DEPTH} deep is read, one more is not`, () => {
    let frame = innerUdp();
    for (let i = 0; i < MAX_TUNNEL_DEPTH; i++) frame = overUdp(4789, concat(vxlan(100 + i), frame));
    const buf = frame.slice();
    const r = xlate(buf);
    expect(r.undecodable).toBeNull();
    expect(r.describe(g2h)).toContain('inside VXLAN VNI 100 (rule');
    const outerLen = buf.length - 34;
    expect(residual(buf, 34, outerLen, B.pseudo4(U1, U2, 17, outerLen))).toBe(0xffff);
    const deeper = overUdp(4789, concat(vxlan(99), frame));
    const input = deeper.slice();
    expect(xlate(deeper).undecodable).toBe(ERR_TUNNEL_DEPTH);
    expect(toHex(deeper)).toBe(toHex(input));
  });
});

describe('bad tunnel headers: the packet passes unchanged, with the reason and where', () => {
  const cases: Array<[string, Uint8Array, string, number]> = [
    ['a VXLAN header the datagram cuts', overUdp(4789, hex('08000000')), ERR_VXLAN_SHORT, 42],
    ['a Geneve option longer than the options', overUdp(6081, concat(hex('01006558'), be32(1 << 8), hex('0102031f'), innerUdp())), ERR_GENEVE_OPTION, 42],
    ['GRE version 5', B.ether(0x0800, B.ipv4(ip4('10.0.0.5'), U2, 47, concat(be16(0x0005), be16(0x0800), B.ipv4L4(A, S, 17, B.udp(1, 2, dns))))), ERR_GRE_VERSION, 34],
  ];
  for (const [what, frame, reason, at] of cases) {
    it(what, () => {
      const buf = frame.slice();
      const r = xlate(buf);
      expect([r.undecodable, tr.decoded.undecodableOff, r.changed]).toEqual([reason, at, false]);
      expect(toHex(buf)).toBe(toHex(frame));
    });
  }
  it('a VXLAN header cut by the capture (snaplen) is not an error: the outer packet is translated', () => {
    const buf = overUdp(4789, concat(vxlan(42), innerUdp()), true, ip4('10.0.0.7'), U2);
    const r = tr.translate(buf, 0, 14 + 20 + 8 + 4, buf.length, 1, g2h);
    expect([r.undecodable, r.rewrites]).toEqual([null, 1 << K_IPV4_SRC]);
    expect(tr.decoded.tunnel.kind).toBe(0);
    expect(TUN_VXLAN).toBe(1);
  });
});

describe('verify inside tunnels', () => {
  it('a bad inner TCP checksum inside VXLAN or Geneve is an error naming the tunnel; a bad GRE checksum is an error; UDP 0 over IPv6 on a tunnel a warning', async () => {
    const { verifyFile } = await import('../../src/api.js');
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const h16 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
    let right = 0;
    const tcpBad = () => {
      const seg = B.tcp(1234, 80, hex('78'));
      const ip = B.ipv4L4(A, ip4('10.0.0.9'), 6, seg);
      right = u16(ip, 20 + 16); // the checksum the helper computed
      ip[20 + 16] = 0x12;
      ip[20 + 17] = 0x34;
      return B.ether(0x0800, ip);
    };
    const gre = concat(be16(0x8000), be16(0x0800), be16(0), be16(0), B.ipv4L4(A, S, 17, B.udp(1, 2, dns)));
    const greRight = B.cksum(gre);
    gre[4] = 0x43;
    gre[5] = 0x21;
    const frames = [
      overUdp(4789, concat(vxlan(42), tcpBad())),
      overUdp(6081, concat(hex('00006558'), be32(9 << 8), tcpBad())),
      B.ether(0x0800, B.ipv4(U1, U2, 47, gre)),
      B.ether(0x86dd, B.ipv6L4(B.ip6('2001:db8::1'), B.ip6('2001:db8::2'), 17, B.udp(49152, 4789, concat(vxlan(7), innerUdp())), true)),
    ];
    const dir = mkdtempSync(join(tmpdir(), 'ssnat-tun-'));
    const path = join(dir, 'bad.pcap');
    writeFileSync(path, B.pcapBytes(1, frames));
    const r = await verifyFile(path);
    expect(r.findings.map((f) => [f.frame, f.check, f.severity, f.message])).toEqual([
      [1, 'tcp.checksum', 'error', `TCP checksum 0x1234, expected ${h16(right)} (inside VXLAN VNI 42)`],
      [2, 'tcp.checksum', 'error', `TCP checksum 0x1234, expected ${h16(right)} (inside Geneve VNI 9)`],
      // The same inner flow in VXLAN VNI 42 and Geneve VNI 9: two tunnel lanes (test/verify/tunnel-lanes.test.ts).
      [2, 'flow.collision', 'warning', 'tcp 10.0.0.2:1234 > 10.0.0.9:80 on interface 0 inside Geneve VNI 9 is also on interface 0 inside VXLAN VNI 42 (frame 1): a stateful NAT would take them for one connection'],
      [3, 'gre.checksum', 'error', `GRE checksum 0x4321, expected ${h16(greRight)}`],
      [4, 'udp.checksum-zero-tunnel', 'warning', 'UDP checksum 0 over IPv6 on a tunnel: RFC 6935 allows it for tunnels (Wireshark calls it illegal unless udp.ignore_ipv6_zero_checksum is set)'],
    ]);
    expect(r.verdict!.exitCode).toBe(1);
  });
});

describe('the library', () => {
  it('verifyFile and createVerifier take tunnels: off, a bad inner checksum is not seen; --vxlan-port\'s ports as vxlanPorts', async () => {
    const { verifyFile, createVerifier, openCapture } = await import('../../src/api.js');
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const frame = innerUdp();
    frame[14 + 20 + 6]! ^= 0x40; // inner UDP checksum off
    const path = join(mkdtempSync(join(tmpdir(), 'ssnat-tun-')), 'in.pcap');
    writeFileSync(path, B.pcapBytes(1, [overUdp(8472, concat(vxlan(3), frame))]));
    expect((await verifyFile(path)).summary.errors).toBe(0);
    expect((await verifyFile(path, { tunnels: { on: true, vxlanPorts: [8472] } })).findings.map((f) => f.check)).toEqual(['udp.checksum']);
    expect((await verifyFile(path, { tunnels: { on: false, vxlanPorts: [8472] } })).summary.errors).toBe(0);
    const v = createVerifier({ tunnels: { on: true, vxlanPorts: [8472] } });
    for await (const rec of await openCapture(path)) v.check(rec);
    expect(v.finish().errors).toBe(1);
  });
});
