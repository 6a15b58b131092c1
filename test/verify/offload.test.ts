/**
 * Transmit checksum offload and TSO frames (src/wire/offload.ts), built by
 * hand: verify calls them offload warnings, a rewrite writes the seeds of
 * the new addresses and keeps an offloaded IPv4 header checksum 0x0000, its
 * output verifies with the same warnings, and the reverse rewrite gives the
 * input back byte for byte. Seeds and checksums here come from
 * test/helpers/wire-build.ts (a byte loop independent of src/wire/).
 *
 * Each frame is made by one recipe from its addresses, so the expected
 * output is the same recipe over the translated addresses: a seed is the
 * seed of the addresses it sits beside, and a wrong checksum is wrong by the
 * same amount (`wrongBy`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Translator } from '../../src/nat/translate.js';
import { TestMapper } from '../helpers/wire-mapper.js';
import { verifyFrames } from './helpers.js';
import { parseRule } from '../../src/nat/rules.js';
import { runPipeline } from '../../src/pipeline.js';
import type { Finding } from '../../src/report/model.js';
import { tempDir } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { tsharkChecksums } from '../helpers/tshark.js';
import { ether, fold16, ip4, ip6, ipv4, ipv6, pcapBytes, pseudo4, pseudo6, sum, tcp, udp } from '../helpers/wire-build.js';

const RULES = ['10.0.0.0/24=192.168.1.0/24', 'fd00::/64=fd00:1::/64'];
const h16 = (n: number): string => '0x' + n.toString(16).padStart(4, '0');
const setU16 = (b: Uint8Array, o: number, v: number): void => {
  b[o] = (v >> 8) & 255;
  b[o + 1] = v & 255;
};
const getU16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const payload = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) & 255);

/** A checksum field that is wrong by `k`: the ones'-complement sum over what it covers (field included) is 0xFFFF - k. */
const wrongBy = (sumWithoutField: number, k: number): number => ~fold16(sumWithoutField + k) & 0xffff;
/** The k that makes `field` wrong by it over `sumWithoutField` (the inverse of wrongBy). */
const wrongness = (sumWithoutField: number, field: number): number => fold16((~field & 0xffff) + (~fold16(sumWithoutField) & 0xffff));

interface Addrs {
  a: number; // the guest 10.0.0.2 or its host-side 192.168.1.2
  b: number; // 10.0.0.1 or 192.168.1.1
  a6: Uint8Array;
  b6: Uint8Array;
}
const GUEST: Addrs = { a: ip4('10.0.0.2'), b: ip4('10.0.0.1'), a6: ip6('fd00::2'), b6: ip6('fd00::1') };
const HOST: Addrs = { a: ip4('192.168.1.2'), b: ip4('192.168.1.1'), a6: ip6('fd00:1::2'), b6: ip6('fd00:1::1') };

const concat4 = (a: number, b: number): Uint8Array => Uint8Array.of(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255, b >>> 24, (b >>> 16) & 255, (b >>> 8) & 255, b & 255);

/** The IPv4 header checksum offset in an Ethernet frame, and the L4 offset behind a 20-byte header. */
const IPCK = 14 + 10;
const L4 = 34;

/** Sets the IPv4 header checksum to 0x0000 (IP checksum offload). */
function zeroIpChecksum(f: Uint8Array): Uint8Array {
  setU16(f, IPCK, 0);
  return f;
}

/** The IPv4 header's sum without its checksum field. */
const headerSum = (f: Uint8Array): number => sum(f, 14, 10) + sum(f, 26, 8);

/** IPv4 + TCP whose checksum field holds `field(addresses, segment)`; `totalLen` overrides the IP length. */
function tcp4(x: Addrs, seg: Uint8Array, field: (seg: Uint8Array) => number, totalLen?: number): Uint8Array {
  const s = Uint8Array.from(seg);
  setU16(s, 16, field(s));
  return ether(0x0800, ipv4(x.a, x.b, 6, s, totalLen === undefined ? {} : { totalLen }));
}

/** The frames, from their addresses; the IPv4 header's and frame 6's wrongness are given (the same in both views). */
function frames(x: Addrs, k: { header7: number; tcp5: number }): Uint8Array[] {
  const seg = tcp(49152, 443, payload(100));
  const bigSeg = tcp(49153, 443, payload(2900)); // a TSO segment: two MTUs' worth in one frame
  const full4 = (p: number, len: number) => fold16(pseudo4(x.a, x.b, p, len));
  const nolen4 = (p: number) => fold16(pseudo4(x.a, x.b, p, 0));
  const out: Uint8Array[] = [];
  // 1: the pseudo-header sum without the length (Windows LSO, Linux tcp_v4_gso_csum_prep), total length given.
  out.push(tcp4(x, seg, () => nolen4(6)));
  // 2: IP and TCP checksum offload (Windows): header 0x0000, TCP the full seed.
  out.push(zeroIpChecksum(tcp4(x, seg, (s) => full4(6, s.length))));
  // 3: the same for UDP.
  const u = udp(5353, 53, payload(40));
  setU16(u, 6, full4(17, u.length));
  out.push(zeroIpChecksum(ether(0x0800, ipv4(x.a, x.b, 17, u))));
  // 4: a TSO frame, Windows LSOv2: total length 0, header 0x0000, TCP without the length.
  out.push(zeroIpChecksum(tcp4(x, bigSeg, () => nolen4(6), 0)));
  // 5: a TSO frame whose total length lies past the frame, header 0x0000, and a TCP checksum that is no seed:
  //    the header is offload's (the frame is TSO), the TCP checksum an error (wrong by k.tcp5).
  const f5 = zeroIpChecksum(tcp4(x, bigSeg, () => 0, 20 + bigSeg.length + 1448));
  setU16(f5, L4 + 16, wrongBy(sum(f5, L4) + pseudo4(x.a, x.b, 6, bigSeg.length), k.tcp5));
  out.push(f5);
  // 6: TCP over IPv6 without the length (tcp_v6_gso_csum_prep).
  const s6 = Uint8Array.from(seg);
  setU16(s6, 16, fold16(pseudo6(x.a6, x.b6, 6, 0)));
  out.push(ether(0x86dd, ipv6(x.a6, x.b6, 6, s6)));
  // 7: a header checksum of 0x0000 beside a right TCP checksum, in a frame of its length: an error, and it stays as wrong.
  const s7 = Uint8Array.from(seg);
  setU16(s7, 16, ~fold16(sum(s7) + pseudo4(x.a, x.b, 6, s7.length)) & 0xffff);
  const f7 = ether(0x0800, ipv4(x.a, x.b, 6, s7));
  setU16(f7, IPCK, wrongBy(headerSum(f7), k.header7));
  out.push(f7);
  // 8: a TSO frame over IPv6 as tcp_v6_gso_csum_prep leaves it: payload length 0, TCP without the length.
  const s8 = Uint8Array.from(bigSeg);
  setU16(s8, 16, fold16(pseudo6(x.a6, x.b6, 6, 0)));
  const f8 = ether(0x86dd, ipv6(x.a6, x.b6, 6, s8));
  setU16(f8, 14 + 4, 0);
  out.push(f8);
  return out;
}

/** The wrongness of the guest view's frame 7 header (0x0000) and frame 5's TCP checksum. */
function guestWrongness(): { header7: number; tcp5: number } {
  const probe = frames(GUEST, { header7: 0, tcp5: 0x1234 });
  const f7 = probe[6]!;
  return { header7: wrongness(headerSum(f7), 0), tcp5: 0x1234 };
}

function finding(frame: number, check: Finding['check'], message: string, expected: number, actual: number): Partial<Finding> {
  const severity = check.endsWith('-offloaded') ? 'warning' : 'error';
  return { frame, interface: 0, check, severity, message, expected: h16(expected), actual: h16(actual) };
}

/** What verify finds in the frames of one view (the expected values computed here, independently). */
function expectedFindings(fs: Uint8Array[], x: Addrs): Array<Partial<Finding>> {
  const offl = (label: string, field: number, expected: number) =>
    `${label} checksum ${h16(field)} is the pseudo-header partial sum left by transmit checksum offload (captured on the sending host?), expected ${h16(expected)}`;
  const ipOffl = (expected: number) => `IPv4 header checksum 0x0000 is left for IP checksum offload (captured on the sending host?), expected ${h16(expected)}`;
  const hdr = (f: Uint8Array) => ~fold16(headerSum(f)) & 0xffff;
  const tcpRight = (f: Uint8Array, l4: number, pseudo: number) => {
    const s = Uint8Array.from(f.subarray(l4));
    setU16(s, 16, 0);
    return ~fold16(sum(s) + pseudo) & 0xffff;
  };
  const [f1, f2, f3, f4, f5, f6, f7, f8] = fs as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const len = (f: Uint8Array, l4: number) => f.length - l4;
  const t1 = tcpRight(f1, L4, pseudo4(x.a, x.b, 6, len(f1, L4)));
  const t2 = tcpRight(f2, L4, pseudo4(x.a, x.b, 6, len(f2, L4)));
  const u3 = Uint8Array.from(f3.subarray(L4));
  setU16(u3, 6, 0);
  const u3right = ~fold16(sum(u3) + pseudo4(x.a, x.b, 17, u3.length)) & 0xffff;
  const t4 = tcpRight(f4, L4, pseudo4(x.a, x.b, 6, len(f4, L4)));
  const t5 = tcpRight(f5, L4, pseudo4(x.a, x.b, 6, len(f5, L4)));
  const t6 = tcpRight(f6, 54, pseudo6(x.a6, x.b6, 6, len(f6, 54)));
  const t8 = tcpRight(f8, 54, pseudo6(x.a6, x.b6, 6, len(f8, 54)));
  const ck = (f: Uint8Array, at: number) => getU16(f, at);
  return [
    finding(1, 'tcp.checksum-offloaded', offl('TCP', ck(f1, L4 + 16), t1), t1, ck(f1, L4 + 16)),
    finding(2, 'ipv4.checksum-offloaded', ipOffl(hdr(f2)), hdr(f2), 0),
    finding(2, 'tcp.checksum-offloaded', offl('TCP', ck(f2, L4 + 16), t2), t2, ck(f2, L4 + 16)),
    finding(3, 'ipv4.checksum-offloaded', ipOffl(hdr(f3)), hdr(f3), 0),
    finding(3, 'udp.checksum-offloaded', offl('UDP', ck(f3, L4 + 6), u3right), u3right, ck(f3, L4 + 6)),
    finding(4, 'ipv4.checksum-offloaded', ipOffl(hdr(f4)), hdr(f4), 0),
    finding(4, 'tcp.checksum-offloaded', offl('TCP', ck(f4, L4 + 16), t4), t4, ck(f4, L4 + 16)),
    finding(5, 'ipv4.checksum-offloaded', ipOffl(hdr(f5)), hdr(f5), 0),
    finding(5, 'tcp.checksum', `TCP checksum ${h16(ck(f5, L4 + 16))}, expected ${h16(t5)}`, t5, ck(f5, L4 + 16)),
    finding(6, 'tcp.checksum-offloaded', offl('TCP', ck(f6, 54 + 16), t6), t6, ck(f6, 54 + 16)),
    finding(7, 'ipv4.checksum', `IPv4 header checksum ${h16(ck(f7, IPCK))}, expected ${h16(hdr(f7))}`, hdr(f7), ck(f7, IPCK)),
    finding(8, 'tcp.checksum-offloaded', offl('TCP', ck(f8, 54 + 16), t8), t8, ck(f8, 54 + 16)),
  ];
}

/** The frames of a classic pcap (24-byte header, 16-byte record headers), as hex: a diff then names the frame. */
function framesOf(pcap: Uint8Array): string[] {
  const v = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  const out: string[] = [];
  for (let o = 24; o < pcap.length; ) {
    const n = v.getUint32(o + 8, true);
    out.push(Buffer.from(pcap.subarray(o + 16, o + 16 + n)).toString('hex'));
    o += 16 + n;
  }
  return out;
}

const strip = (fs: readonly Finding[]) => fs.map(({ frame, interface: i, check, severity, message, expected, actual }) => ({ frame, interface: i, check, severity, message, expected, actual }));

describe('offload and TSO frames: verify warns, rewrite keeps them offload, reverse rewrite gives the input back', () => {
  const k = guestWrongness();
  const guest = frames(GUEST, k);
  const host = frames(HOST, k);

  it('the recipe builds what it says (the frames are the cases the file names)', () => {
    expect(getU16(guest[6]!, IPCK)).toBe(0); // frame 7's header is 0x0000 in the guest view
    expect(getU16(guest[3]!, 14 + 2)).toBe(0); // frame 4: total length 0
    expect(getU16(guest[4]!, 14 + 2)).toBe(guest[4]!.length - 14 + 1448); // frame 5: past the frame
    expect(guest.map((f) => f.length)).toEqual([154, 154, 82, 2954, 2954, 174, 154, 2974]);
  });

  it('verify: offload warnings, and errors only where a checksum is wrong in another way', async () => {
    const dir = tempDir();
    const input = join(dir, 'offload.pcap');
    writeFileSync(input, pcapBytes(1, guest));
    const run = await runPipeline({ command: 'verify', input, output: null, rules: [], direction: 'guest-to-host', format: 'same', annotate: false, force: false });
    expect(strip(run.report.findings)).toEqual(expectedFindings(guest, GUEST));
    expect(run.report.summary.errors).toBe(2);
    expect(run.report.summary.warnings).toBe(10);
  });

  it('rewrite writes the seeds of the new addresses and keeps 0x0000 headers; its output verifies alike; the reverse gives the input back', async () => {
    const dir = tempDir();
    const input = join(dir, 'guest.pcap');
    const output = join(dir, 'host.pcap');
    const back = join(dir, 'back.pcap');
    const bytes = pcapBytes(1, guest);
    writeFileSync(input, bytes);
    const rules = RULES.map((r) => parseRule(r));
    const run = await runPipeline({ command: 'rewrite', input, output, rules, direction: 'guest-to-host', format: 'same', annotate: false, force: false, verify: true });
    const written = new Uint8Array(readFileSync(output));
    expect(framesOf(written)).toEqual(host.map((f) => Buffer.from(f).toString('hex')));
    expect(Buffer.from(written).equals(Buffer.from(pcapBytes(1, host)))).toBe(true);
    expect(strip(run.report.findings)).toEqual(expectedFindings(host, HOST));
    await runPipeline({ command: 'rewrite', input: output, output: back, rules, direction: 'host-to-guest', format: 'same', annotate: false, force: false });
    expect(Buffer.from(readFileSync(back)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('frame 7 stays exactly as wrong, and frame 5\'s TCP checksum too: no offload hides damage', () => {
    expect(wrongness(headerSum(host[6]!), getU16(host[6]!, IPCK))).toBe(k.header7);
    expect(getU16(host[6]!, IPCK)).not.toBe(0);
    expect([1, 2, 3, 4].map((i) => getU16(host[i]!, IPCK))).toEqual([0, 0, 0, 0]);
  });

  it('tshark calls bad exactly what verify finds, offloaded or not: only the severity is offload\'s', async (ctx) => {
    needs(ctx, 'tshark');
    const dir = tempDir();
    const input = join(dir, 'offload.pcap');
    writeFileSync(input, pcapBytes(1, guest));
    const protos = ['ip', 'udp', 'tcp', 'icmp', 'icmpv6'];
    // Wireshark reads an IPv6 payload length of 0 before TCP as TSO with ipv6.tso_support (off by default; ip.tso_support is on).
    const bad = (await tsharkChecksums(input, ['-o', 'ipv6.tso_support:TRUE'])).flatMap((l) => {
      const [frame, ...st] = l.split('\t');
      return protos.filter((_, i) => (st[i] ?? '').split(',').includes('0')).map((p) => `${frame}:${p}`);
    });
    const proto = (check: string) => (check.startsWith('ipv4.') ? 'ip' : check.slice(0, check.indexOf('.')));
    const ours = expectedFindings(guest, GUEST).map((f) => `${f.frame}:${proto(f.check!)}`);
    expect(bad).toEqual(ours);
  });
});

describe('cut by the snaplen', () => {
  it('a 0x0000 header beside a seed is offload\'s even when the segment is not captured whole (the seed is in the captured part), and stays 0x0000', () => {
    const whole = frames(GUEST, guestWrongness())[1]!; // frame 2: header 0x0000, TCP the full seed
    const cut = whole.slice(0, 80);
    const r = verifyFrames([{ data: cut, orig: whole.length }]);
    expect(r.findings.map((f) => [f.check, f.severity])).toEqual([['ipv4.checksum-offloaded', 'warning']]);
    expect(r.summary.checksums).toEqual({ verified: 0, bad: 1, unverifiable: 1 });
    const tr = new Translator();
    tr.translate(cut, 0, cut.length, whole.length, 1, new TestMapper(RULES, 'g2h'));
    expect(Buffer.from(cut).toString('hex')).toBe(Buffer.from(frames(HOST, guestWrongness())[1]!.subarray(0, 80)).toString('hex'));
  });
});

describe('a rewrite keeps every checksum verdict (property)', () => {
  const g2h = new TestMapper(RULES, 'g2h');
  const h2g = new TestMapper(RULES, 'h2g');
  const tr = new Translator();
  const v4 = fc.constantFrom('10.0.0.2', '10.0.0.1', '10.0.0.77', '8.8.8.8').map(ip4);
  const v6 = fc.constantFrom('fd00::2', 'fd00::1', 'fd00::4:5', '2001:db8::1').map(ip6);
  const packet = fc.record({
    family: fc.constantFrom(4, 4, 6),
    src: v4,
    dst: v4,
    src6: v6,
    dst6: v6,
    proto: fc.constantFrom(6, 17),
    payload: fc.integer({ min: 0, max: 1600 }),
    ck: fc.constantFrom('valid', 'full', 'nolen', 'random', 'zero'),
    // not 0xFFFF: a TCP field of 0xFFFF comes back from a round trip as 0x0000 (RFC 1624 arithmetic, any checksum)
    random: fc.integer({ min: 0, max: 0xfffe }),
    zeroHeader: fc.boolean(),
    length: fc.constantFrom('right', 'right', 'zero', 'past'),
    cut: fc.constantFrom(0, 0, 0, 1, 40, 200), // bytes cut by the snaplen
  });

  /** The frame a record describes: checksum field and IP length as it says. */
  function build(p: { family: number; src: number; dst: number; src6: Uint8Array; dst6: Uint8Array; proto: number; payload: number; ck: string; random: number; zeroHeader: boolean; length: string }): Uint8Array {
    const l4 = p.proto === 6 ? tcp(1234, 80, payload(p.payload)) : udp(5353, 53, payload(p.payload));
    const at = p.proto === 6 ? 16 : 6;
    const addr = p.family === 4 ? sum(concat4(p.src, p.dst)) : sum(p.src6) + sum(p.dst6);
    const ph = addr + p.proto + l4.length;
    let ck = 0;
    if (p.ck === 'valid') ck = ~fold16(sum(l4) + ph) & 0xffff;
    else if (p.ck === 'full') ck = fold16(ph);
    else if (p.ck === 'nolen') ck = fold16(addr + p.proto);
    else if (p.ck === 'random') ck = p.random;
    setU16(l4, at, ck);
    if (p.family === 6) {
      const f = ether(0x86dd, ipv6(p.src6, p.dst6, p.proto, l4));
      if (p.length === 'past') setU16(f, 14 + 4, l4.length + 1000);
      if (p.length === 'zero') setU16(f, 14 + 4, 0); // TSO before TCP (tcp_v6_gso_csum_prep); an empty datagram before UDP
      return f;
    }
    const total = p.length === 'zero' ? 0 : p.length === 'past' ? 20 + l4.length + 1000 : undefined;
    const f = ether(0x0800, ipv4(p.src, p.dst, p.proto, l4, total === undefined ? {} : { totalLen: total }));
    if (p.zeroHeader) setU16(f, IPCK, 0);
    return f;
  }

  it('verify(rewrite(frame)) finds what verify(frame) found, check for check, whole or cut by the snaplen; the reverse gives the frame back', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const whole = build(p);
        const frame = whole.subarray(0, Math.max(14, whole.length - p.cut));
        const orig = whole.length;
        const before = verifyFrames([{ data: frame, orig }]).findings.map((f) => `${f.check}/${f.severity}`);
        const buf = Uint8Array.from(frame);
        tr.translate(buf, 0, buf.length, orig, 1, g2h);
        const after = verifyFrames([{ data: buf, orig }]).findings.map((f) => `${f.check}/${f.severity}`);
        expect(after).toEqual(before);
        tr.translate(buf, 0, buf.length, orig, 1, h2g);
        expect(Buffer.from(buf).equals(Buffer.from(frame))).toBe(true);
      }),
      { numRuns: 3000, seed: 0x0ff10ad },
    );
  });
});
