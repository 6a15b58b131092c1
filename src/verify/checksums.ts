/**
 * Checksum verification, judged the way Wireshark judges them (its
 * `*.checksum.status` fields: 0 bad, 1 good, 2 unverified are the reference,
 * compared frame by frame in test/verify/wireshark.test.ts).
 *
 * - IPv4 header: verified when the whole header (IHL*4) is captured.
 * - TCP, UDP, UDP-Lite, DCCP (pseudo-header), ICMP (none), ICMPv6
 *   (pseudo-header): verified when the datagram's L4 bytes are all captured;
 *   a snaplen cut makes them `unverifiable`, never bad. An IP length that
 *   lies past the end of the frame on the wire (not a snaplen cut) is taken,
 *   as Wireshark takes it, to end with the frame.
 *   UDP covers its length field's bytes (a length < 8 or past the IP payload:
 *   unverifiable); UDP checksum 0 is "none" over IPv4 and `udp.checksum-missing`
 *   over IPv6 (RFC 8200 8.1), as is UDP-Lite 0 (RFC 3828: mandatory). UDP-Lite
 *   covers its coverage field's bytes (0 = all) with the IP payload length in
 *   the pseudo-header. DCCP covers the header plus (CsCov-1)*4 data bytes
 *   (RFC 4340 9.2). TCP 0xFFFF where 0x0000 is right is bad, as in Wireshark
 *   ("should be 0x0000 (see RFC 1624)"): a TCP checksum is never 0xFFFF.
 * - Fragments: reassembled (src/verify/reassembly.ts) and checked on the
 *   frame that completes the datagram.
 * - ICMP errors: the quoted IPv4 header's checksum, when the quote holds the
 *   whole header -> `icmp.inner-ipv4.checksum` (warning). The quoted UDP
 *   or TCP checksum (of an ICMP/ICMPv6 error, or of the packet an NDP
 *   Redirect's Redirected Header option quotes) -> `icmp.inner-udp.checksum`,
 *   `icmp.inner-tcp.checksum` (warnings), judged as tshark 4.0 judges it
 *   and only when the quote holds everything it covers: UDP when its
 *   length field's bytes are quoted (not over IPv4 or IPv6 with checksum 0:
 *   Wireshark says "not present" in a quote), TCP when the quoted IP
 *   header's whole datagram is (Wireshark then agrees; it also calls a
 *   partly quoted TCP segment bad, computing over the quoted bytes, which
 *   we do not). Not: a quoted fragment, UDP-Lite, DCCP, ICMP (Wireshark
 *   judges none of them); in an ICMPv4 Redirect, beyond the quoted header
 *   and 8 bytes (Wireshark reads no further). A quote too short to judge is
 *   not counted as unverifiable: a quote need only hold 8 bytes of the
 *   datagram (RFC 792, RFC 4443). Nor are the verdicts counted in the
 *   summary's checksums: they are findings about the quoted packet, which
 *   is not in the capture (the quoted IPv4 header's check, older, is
 *   counted).
 * - Transmit checksum offload and TSO (src/wire/offload.ts): a wrong
 *   TCP/UDP checksum that holds an offload seed (the pseudo-header sum with
 *   or, TCP only, without the L4 length) is reported as
 *   `*.checksum-offloaded` (warning): captures taken on the sending host
 *   look like this (Wireshark: "maybe caused by 'TCP checksum offload'?").
 *   An IPv4 header checksum of 0x0000 that is wrong is
 *   `ipv4.checksum-offloaded` (warning) when the frame is a TSO frame (total
 *   length 0 or past the frame) or its TCP/UDP checksum holds a seed: IP
 *   checksum offload leaves the field 0 for the NIC (Windows).
 *
 * - Tunnels (src/wire/tunnel.ts): every packet a tunnel carries is checked
 *   as a packet of its own, at every depth (the Verifier calls `check` for
 *   each; findings say "inside VXLAN VNI 42"). A GRE checksum (C bit),
 *   over the GRE header and payload to the datagram's end, is judged as
 *   Wireshark always judges it -> `gre.checksum` (error). A UDP checksum of
 *   0 over IPv6 on a tunnel is `udp.checksum-zero-tunnel` (warning), not
 *   `udp.checksum-missing`: RFC 6935 and RFC 6936 allow it for tunnels
 *   (Linux's udp6zerocsumtx), though Wireshark calls it illegal unless
 *   udp.ignore_ipv6_zero_checksum is set.
 *
 * Counts (report summary.checksums): `verified` checksums found correct,
 * `bad` found wrong (offloaded and missing included), `unverifiable` ones
 * that could not be judged (cut by the capture, incomplete or abandoned
 * fragment trains). UDP/IPv4 checksum 0 ("none") is not counted.
 */
import { NET_IPV4, NET_IPV6, type DecodeResult } from '../wire/decode.js';
import {
  IPPROTO_AH,
  IPPROTO_DCCP,
  IPPROTO_DSTOPTS,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_ROUTING,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
  type IpInfo,
} from '../wire/ip.js';
import * as dccp from '../wire/dccp.js';
import * as icmp from '../wire/icmp.js';
import * as icmpv6 from '../wire/icmpv6.js';
import * as ipv4 from '../wire/ipv4.js';
import * as ipv6 from '../wire/ipv6.js';
import * as tcp from '../wire/tcp.js';
import * as udp from '../wire/udp.js';
import type { CheckName } from '../report/model.js';
import type { PacketContext } from './context.js';
import { ADD_COMPLETE, ADD_DROPPED, ADD_FULL, FLAG_FIRST, FLAG_LAST, Reassembler } from './reassembly.js';
import { fold, sumHeader, sumRange } from '../wire/checksum.js';
import { L4Coverage } from '../wire/coverage.js';
import { datagramEnd, isTsoFrame, SEED_NONE, seedForm } from '../wire/offload.js';
import { GRE_CHECKSUM } from '../wire/tunnel.js';

export interface ChecksumOptions {
  /** Incomplete datagrams held for reassembly (default 4096). */
  maxDatagrams: number;
  /** Fragments per datagram (default 64). */
  maxFragments: number;
  /** Seconds after a datagram's first fragment before it is given up (default 60). */
  fragmentTimeout: number;
}

export const DEFAULT_CHECKSUM_OPTIONS: ChecksumOptions = { maxDatagrams: 4096, maxFragments: 64, fragmentTimeout: 60 };

function checkedProto(p: number, v6: boolean): boolean {
  return p === IPPROTO_TCP || p === IPPROTO_UDP || p === IPPROTO_UDPLITE || p === IPPROTO_DCCP || (v6 ? p === IPPROTO_ICMPV6 : p === IPPROTO_ICMP);
}

function protoLabel(p: number): string {
  switch (p) {
    case IPPROTO_TCP:
      return 'TCP';
    case IPPROTO_UDP:
      return 'UDP';
    case IPPROTO_UDPLITE:
      return 'UDP-Lite';
    case IPPROTO_DCCP:
      return 'DCCP';
    case IPPROTO_ICMP:
      return 'ICMP';
    default:
      return 'ICMPv6';
  }
}

function checkOf(p: number): CheckName {
  switch (p) {
    case IPPROTO_TCP:
      return 'tcp.checksum';
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
      return 'udp.checksum';
    case IPPROTO_DCCP:
      return 'dccp.checksum';
    case IPPROTO_ICMP:
      return 'icmp.checksum';
    default:
      return 'icmpv6.checksum';
  }
}

/** An ICMP error quotes at least the IP header and this many bytes of the datagram (RFC 792); a Redirect's quote, as Wireshark reads it, no more. */
const QUOTED_DATA = 8;

/** "0x1234" as reports show checksums. */
function hex16(n: number): string {
  return '0x' + n.toString(16).padStart(4, '0');
}

/** Offset of the checksum field in the L4 header (of a checkedProto). */
function fieldOffset(p: number): number {
  switch (p) {
    case IPPROTO_TCP:
      return tcp.CHECKSUM;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
      return udp.CHECKSUM;
    case IPPROTO_DCCP:
      return dccp.CHECKSUM;
    case IPPROTO_ICMP:
      return icmp.CHECKSUM;
    default:
      return icmpv6.CHECKSUM;
  }
}

/**
 * An L4 checksum's verdict: -1 when it is right, else the value the field
 * should hold. `sum` covers the L4 bytes with the field in place, `pseudo`
 * is the pseudo-header sum (0 for ICMPv4).
 */
function expectedChecksum(p: number, sum: number, pseudo: number, field: number): number {
  const s = fold(sum + pseudo);
  // Good, unless TCP carries 0xFFFF: a sum that checks with 0xFFFF in the field checks with
  // 0x0000 too, which is the checksum a sender computes (Wireshark calls 0xFFFF bad).
  if (s === 0xffff && !(p === IPPROTO_TCP && field === 0xffff)) return -1;
  const expected = ~fold(s + (~field & 0xffff)) & 0xffff;
  return (p === IPPROTO_UDP || p === IPPROTO_UDPLITE) && expected === 0 ? 0xffff : expected;
}

export class ChecksumChecker {
  /** What the L4 checksum in hand covers (reused). */
  private readonly coverage = new L4Coverage();
  verified = 0;
  bad = 0;
  unverifiable = 0;
  readonly reassembler: Reassembler;
  private limitReported = false;
  /**
   * An IPv4 header checksum of 0x0000 found wrong, whose finding waits for
   * the L4 verdict of its packet: `ipv4.checksum-offloaded` when that holds
   * an offload seed, else `ipv4.checksum` (flushed before the L4 finding, so
   * findings keep the header's first). -1: none waits.
   */
  private zeroHeaderExpected = -1;

  constructor(opts: ChecksumOptions = DEFAULT_CHECKSUM_OPTIONS) {
    this.reassembler = new Reassembler(opts.maxDatagrams, opts.maxFragments, opts.fragmentTimeout);
  }

  /** Checks one decoded IPv4/IPv6 packet. */
  check(v: DataView, d: DecodeResult, ctx: PacketContext): void {
    const ip = d.ip;
    const capEnd = d.capEnd;
    let headerOk = true;
    if (d.net === NET_IPV4) headerOk = this.ipv4Header(v, ip, capEnd, ctx, false);
    else if (d.net !== NET_IPV6) return;
    if (ip.isFragment) {
      this.flushZeroHeader(ctx, false);
      this.fragment(v, ip, capEnd, headerOk, ctx);
    } else if (ip.l4Off >= 0) {
      this.l4(v, ip, capEnd, d.frameEnd, ctx, d.tunnel.udpOff === ip.l4Off);
    }
    if (d.tunnel.greChecksumOff >= 0) this.gre(v, d, ctx);
    this.flushZeroHeader(ctx, false);
    if ((d.icmpError || d.redirectQuote) && d.inner.version !== 0) this.quoted(v, d, ctx);
  }

  /** The packet quoted by an ICMP error or a Redirected Header option: its IPv4 header and its UDP/TCP checksum. */
  private quoted(v: DataView, d: DecodeResult, ctx: PacketContext): void {
    const q = d.inner;
    const avail = d.quoteEnd;
    if (d.icmpError && q.version === 4 && d.net === NET_IPV4) this.ipv4Header(v, q, avail, ctx, true);
    if (q.isFragment || q.l4Off < 0) return;
    const l4 = q.l4Off;
    let end = avail;
    if (d.net === NET_IPV4 && d.icmpType === icmp.REDIRECT && q.off + q.headerLen + QUOTED_DATA < end) end = q.off + q.headerLen + QUOTED_DATA;
    let len: number;
    let field: number;
    if (q.proto === IPPROTO_UDP) {
      if (l4 + udp.HEADER_LEN > end) return;
      field = v.getUint16(l4 + udp.CHECKSUM);
      len = v.getUint16(l4 + udp.LENGTH);
      if (field === 0 || len < udp.HEADER_LEN || l4 + len > end || l4 + len > q.end) return;
    } else if (q.proto === IPPROTO_TCP) {
      len = q.end - l4;
      if (q.end > end || len < tcp.MIN_HEADER_LEN) return;
      field = v.getUint16(l4 + tcp.CHECKSUM);
    } else {
      return;
    }
    const addr = this.pseudoAddr(v, q, end);
    if (addr < 0) return;
    const p = q.proto;
    const expected = expectedChecksum(p, sumRange(v, l4, len), addr + p + len, field);
    if (expected < 0) return;
    const where = d.redirectQuote ? "the NDP Redirect's Redirected Header option" : d.net === NET_IPV4 ? 'the ICMP error' : 'the ICMPv6 error';
    const what = p === IPPROTO_TCP ? 'TCP checksum of the segment' : 'UDP checksum of the datagram';
    ctx.add(
      p === IPPROTO_TCP ? 'icmp.inner-tcp.checksum' : 'icmp.inner-udp.checksum',
      `${what} quoted in ${where} is ${hex16(field)}, expected ${hex16(expected)}`,
      hex16(expected),
      hex16(field),
    );
  }

  /** The GRE checksum of the tunnel in `d` (its C bit is set): over the GRE header and payload, to the datagram's end. */
  private gre(v: DataView, d: DecodeResult, ctx: PacketContext): void {
    const g = d.tunnel.greChecksumOff;
    const end = d.ip.end;
    if (end > d.capEnd || d.ip.isFragment) {
      this.unverifiable++;
      return;
    }
    const s = sumRange(v, g, end - g);
    if (s === 0xffff) {
      this.verified++;
      return;
    }
    this.bad++;
    const actual = v.getUint16(g + GRE_CHECKSUM);
    const expected = ~fold(s + (~actual & 0xffff)) & 0xffff;
    ctx.add('gre.checksum', `GRE checksum ${hex16(actual)}, expected ${hex16(expected)}`, hex16(expected), hex16(actual));
  }

  /** Returns true when the header checksum is right (or cannot be judged). */
  private ipv4Header(v: DataView, ip: IpInfo, avail: number, ctx: PacketContext, inner: boolean): boolean {
    if (ip.version !== 4) return true;
    const hl = ip.headerLen;
    if (ip.off + hl > avail) {
      this.unverifiable++;
      return true;
    }
    const s = sumHeader(v, ip.off, hl);
    if (s === 0xffff) {
      this.verified++;
      return true;
    }
    this.bad++;
    const actual = v.getUint16(ip.off + ipv4.CHECKSUM);
    const expected = ~fold(s + (~actual & 0xffff)) & 0xffff;
    if (!inner && actual === 0) {
      // IP checksum offload: in a TSO frame, or (decided with the L4 verdict) beside an L4 offload seed.
      if (isTsoFrame(ip)) this.zeroHeader(ctx, expected, true);
      else this.zeroHeaderExpected = expected;
      return false;
    }
    if (inner) {
      ctx.add('icmp.inner-ipv4.checksum', `IPv4 header quoted in the ICMP error has checksum ${hex16(actual)}, expected ${hex16(expected)}`, hex16(expected), hex16(actual));
    } else {
      ctx.add('ipv4.checksum', `IPv4 header checksum ${hex16(actual)}, expected ${hex16(expected)}`, hex16(expected), hex16(actual));
    }
    return false;
  }

  /** The finding of a wrong IPv4 header checksum of 0x0000: offloaded, or an error like any other. */
  private zeroHeader(ctx: PacketContext, expected: number, offloaded: boolean): void {
    const e = hex16(expected);
    if (offloaded) {
      ctx.add('ipv4.checksum-offloaded', `IPv4 header checksum 0x0000 is left for IP checksum offload (captured on the sending host?), expected ${e}`, e, '0x0000');
    } else {
      ctx.add('ipv4.checksum', `IPv4 header checksum 0x0000, expected ${e}`, e, '0x0000');
    }
  }

  /** Reports the waiting 0x0000 header checksum, if any (see zeroHeaderExpected). */
  private flushZeroHeader(ctx: PacketContext, offloaded: boolean): void {
    if (this.zeroHeaderExpected < 0) return;
    const e = this.zeroHeaderExpected;
    this.zeroHeaderExpected = -1;
    this.zeroHeader(ctx, e, offloaded);
  }

  /** Unfolded sum of the pseudo-header addresses (source + final destination), or -1 when not captured. */
  private pseudoAddr(v: DataView, ip: IpInfo, capEnd: number): number {
    if (ip.version === 4) {
      if (ip.pseudoDstOff + 4 > capEnd || ip.srcOff + 4 > capEnd) return -1;
      const s = v.getUint32(ip.srcOff);
      const t = v.getUint32(ip.pseudoDstOff);
      return (s >>> 16) + (s & 0xffff) + (t >>> 16) + (t & 0xffff);
    }
    if (ip.pseudoDstOff + 16 > capEnd || ip.srcOff + 16 > capEnd) return -1;
    return sumRange(v, ip.srcOff, 16) + sumRange(v, ip.pseudoDstOff, 16);
  }

  /** An unfragmented datagram's L4 checksum. */
  private l4(v: DataView, ip: IpInfo, capEnd: number, frameEnd: number, ctx: PacketContext, tunnel: boolean): void {
    const p = ip.proto;
    const v6 = ip.version === 6;
    if (!checkedProto(p, v6)) return;
    const l4 = ip.l4Off;
    // A length field that lies past the frame (TSO): like Wireshark, the datagram is what the frame holds.
    const end = datagramEnd(ip, frameEnd);
    const len = end - l4; // L4 length per the IP header
    const fo = fieldOffset(p);
    if (len < fo + 2 || l4 + fo + 2 > capEnd) {
      // The checksum field itself is not there (a cut header or a runt): nothing to judge.
      if (l4 + fo + 2 > capEnd && len >= fo + 2) this.unverifiable++;
      return;
    }
    const field = v.getUint16(l4 + fo);
    if (field === 0 && p === IPPROTO_UDP) {
      if (v6 && tunnel) {
        ctx.add('udp.checksum-zero-tunnel', 'UDP checksum 0 over IPv6 on a tunnel: RFC 6935 allows it for tunnels (Wireshark calls it illegal unless udp.ignore_ipv6_zero_checksum is set)', '(non-zero, or 0 on a tunnel)', '0x0000');
      } else if (v6) {
        this.missing(ctx, 'UDP checksum 0 over IPv6, where it is mandatory (RFC 8200 8.1)');
      }
      return;
    }
    if (field === 0 && p === IPPROTO_UDPLITE) {
      this.missing(ctx, 'UDP-Lite checksum 0, where it is mandatory (RFC 3828 3.1)');
      return;
    }
    const c = this.coverage;
    if (!c.measure(v, p, l4, len, v6 && ip.jumbo)) {
      this.unverifiable++;
      return;
    }
    const cover = c.cover;
    const pseudoLen = c.pseudoLen;
    // Wireshark needs the whole datagram captured, not only the covered part.
    if (end > capEnd) {
      this.unverifiable++;
      // Not judged, but a field that holds a seed still says the sender offloads (as the translator reads it).
      if (this.zeroHeaderExpected >= 0) {
        const a = this.pseudoAddr(v, ip, capEnd);
        if (a >= 0 && seedForm(p, field, a, pseudoLen) !== SEED_NONE) this.flushZeroHeader(ctx, true);
      }
      return;
    }
    let pseudo = 0;
    let addr = -1;
    if (p !== IPPROTO_ICMP) {
      addr = this.pseudoAddr(v, ip, capEnd);
      if (addr < 0) {
        this.unverifiable++;
        return;
      }
      pseudo = addr + p + (pseudoLen >>> 16) + (pseudoLen & 0xffff);
    }
    this.judge(ctx, p, sumRange(v, l4, cover), pseudo, field, addr, pseudoLen);
  }

  private missing(ctx: PacketContext, message: string): void {
    this.bad++;
    ctx.add('udp.checksum-missing', message, '(mandatory, non-zero)', '0x0000');
  }

  /**
   * The verdict on an L4 checksum: `sum` covers the L4 bytes with the field
   * in place, `pseudo` is the pseudo-header sum (0 for ICMPv4). `addr` is
   * the pseudo-header's address sum (for the offload seeds), -1 when there
   * is no pseudo-header; `len` the L4 length the pseudo-header carries.
   */
  private judge(ctx: PacketContext, p: number, sum: number, pseudo: number, field: number, addr: number, len: number): void {
    const expected = expectedChecksum(p, sum, pseudo, field);
    if (expected < 0) {
      this.verified++;
      return;
    }
    this.bad++;
    const label = protoLabel(p);
    if (addr >= 0 && seedForm(p, field, addr, len) !== SEED_NONE) {
      this.flushZeroHeader(ctx, true);
      ctx.add(
        p === IPPROTO_TCP ? 'tcp.checksum-offloaded' : 'udp.checksum-offloaded',
        `${label} checksum ${hex16(field)} is the pseudo-header partial sum left by transmit checksum offload (captured on the sending host?), expected ${hex16(expected)}`,
        hex16(expected),
        hex16(field),
      );
      return;
    }
    this.flushZeroHeader(ctx, false);
    ctx.add(checkOf(p), `${label} checksum ${hex16(field)}, expected ${hex16(expected)}`, hex16(expected), hex16(field));
  }

  /** A fragment: into the reassembly table; the datagram is judged on the frame that completes it. */
  private fragment(v: DataView, ip: IpInfo, capEnd: number, headerOk: boolean, ctx: PacketContext): void {
    const v6 = ip.version === 6;
    // The key protocol: IPv4 protocol field; IPv6 the fragment header's next header (may be an extension header).
    const kp = v6 ? (ip.fragHeaderOff >= 0 && ip.fragHeaderOff < capEnd ? v.getUint8(ip.fragHeaderOff + ipv6.EXT_NEXT) : -1) : ip.proto;
    const extension = kp === IPPROTO_AH || (v6 && (kp === IPPROTO_DSTOPTS || kp === IPPROTO_ROUTING || kp === IPPROTO_HOPOPTS));
    if (!checkedProto(kp, v6) && !extension) return;
    const start = v6 ? ip.fragHeaderOff + ipv6.FRAG_HEADER_LEN : ip.off + ip.headerLen;
    // Wireshark: only whole fragments with a good header checksum join reassembly.
    if (!ip.headerCaptured || !headerOk || ip.end > capEnd || ip.lengthExceedsFrame || ip.end <= start || start < 0) return;
    const first = ip.fragOffset === 0;
    let sumFrom = start;
    if (first) {
      if (ip.l4Off < 0) return;
      sumFrom = ip.l4Off;
    }
    const r = this.reassembler;
    const k = r.key;
    k[0] = ctx.lane;
    k[1] = ctx.vlanKey;
    k[2] = (ip.version << 8) | (kp & 0xff);
    k[3] = ip.fragId | 0;
    if (v6) {
      for (let i = 0; i < 4; i++) {
        k[4 + i] = v.getInt32(ip.srcOff + 4 * i);
        k[8 + i] = v.getInt32(ip.dstOff + 4 * i);
      }
    } else {
      k[4] = v.getInt32(ip.srcOff);
      k[8] = v.getInt32(ip.dstOff);
      k[5] = k[6] = k[7] = k[9] = k[10] = k[11] = 0;
    }
    const res = r.add(ctx.time, ip.fragOffset, ip.end - start, sumRange(v, sumFrom, ip.end - sumFrom), !ip.moreFragments);
    if (res === ADD_FULL || res === ADD_DROPPED) {
      if (res === ADD_FULL && first) this.unverifiable++;
      this.reportLimit(ctx);
      return;
    }
    const e = r.lastEntry;
    if (first) {
      const p = ip.proto;
      r.flags[e]! |= FLAG_FIRST;
      r.l4Skip[e] = ip.l4Off - start;
      r.proto[e] = p;
      const fo = fieldOffset(p);
      if (checkedProto(p, v6) && ip.l4Off + fo + 2 <= ip.end) {
        r.field[e] = v.getUint16(ip.l4Off + fo);
        // aux: the UDP length / UDP-Lite coverage, or DCCP's data offset << 4 | CsCov.
        if (p === IPPROTO_UDP || p === IPPROTO_UDPLITE) r.aux[e] = v.getUint16(ip.l4Off + udp.LENGTH);
        else if (p === IPPROTO_DCCP) r.aux[e] = (v.getUint8(ip.l4Off + dccp.DATA_OFF) << 4) | (v.getUint8(ip.l4Off + dccp.CCVAL_CSCOV) & dccp.CSCOV_MASK);
      }
      r.pseudoAddr[e] = this.pseudoAddr(v, ip, capEnd);
      // The first fragment may have completed a datagram whose later fragments came first.
      if ((r.flags[e]! & FLAG_LAST) !== 0 && r.received[e] === r.total[e]) {
        this.complete(e, v6, ctx);
        return;
      }
    }
    if (res === ADD_COMPLETE) this.complete(e, v6, ctx);
  }

  private complete(e: number, v6: boolean, ctx: PacketContext): void {
    const r = this.reassembler;
    const p = r.proto[e]!;
    const field = r.field[e]!;
    const len = r.total[e]! - r.l4Skip[e]!;
    const sum = r.sum[e]!;
    const addr = r.pseudoAddr[e]!;
    const aux = r.aux[e]!;
    r.release(e);
    if (!checkedProto(p, v6) || field < 0) return;
    let pseudoLen = len;
    if (p === IPPROTO_UDP) {
      if (field === 0) {
        if (v6) this.missing(ctx, 'UDP checksum 0 over IPv6, where it is mandatory (RFC 8200 8.1)');
        return;
      }
      // The fragment sums cover the whole datagram: a UDP length other than the datagram's cannot be judged.
      if (aux !== len) {
        this.unverifiable++;
        return;
      }
      pseudoLen = len;
    } else if (p === IPPROTO_UDPLITE) {
      if (field === 0) {
        this.missing(ctx, 'UDP-Lite checksum 0, where it is mandatory (RFC 3828 3.1)');
        return;
      }
      if (aux !== 0 && aux !== len) {
        this.unverifiable++;
        return;
      }
    } else if (p === IPPROTO_DCCP && (aux & dccp.CSCOV_MASK) !== 0) {
      this.unverifiable++;
      return;
    }
    if (p !== IPPROTO_ICMP && addr < 0) {
      this.unverifiable++;
      return;
    }
    const pseudo = p === IPPROTO_ICMP ? 0 : addr + p + (pseudoLen >>> 16) + (pseudoLen & 0xffff);
    this.judge(ctx, p, sum, pseudo, field, p === IPPROTO_ICMP ? -1 : addr, pseudoLen);
  }

  private reportLimit(ctx: PacketContext): void {
    const r = this.reassembler;
    if (this.limitReported || r.limitHit === null) return;
    this.limitReported = true;
    ctx.add('verify.limit', r.limitHit);
  }

  /** End of capture: incomplete datagrams become unverifiable. */
  finish(): void {
    this.reassembler.finish();
    this.unverifiable += this.reassembler.abandoned;
    this.reassembler.abandoned = 0;
  }
}
