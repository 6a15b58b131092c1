/**
 * `--fix-checksums`: every IP and L4 checksum of the output recomputed from
 * the bytes, for replaying a capture whose checksums the sending host left
 * to its NIC (transmit offload) or that were damaged. Off by default: it
 * erases the evidence `verify` exists to find (a bad checksum in the input
 * is good in the output), where the translator's incremental updates keep
 * every checksum exactly as right or as wrong as it was (docs/DESIGN.md
 * part 2). It runs after translation, on the translated bytes.
 *
 * What is recomputed, judged as the verifier judges (src/verify/checksums.ts),
 * so that `verify` of the output calls each one good:
 * - the IPv4 header checksum, whenever the whole header is captured
 *   (fragments and snaplen-cut packets included: the header is whole);
 * - the L4 checksum of TCP, UDP, UDP-Lite, DCCP (over its CsCov coverage),
 *   ICMP and ICMPv6, with its pseudo-header (the final destination of a
 *   routing header or source route), only where the whole datagram is in
 *   the frame. Not fixable, counted as such and left as they are: a datagram
 *   cut by the capture's snaplen, a fragment (the checksum covers the whole
 *   datagram, which no one frame holds), an IPv4 header cut short, a length
 *   field past the frame or 0 (TSO/GSO super-frames: not what goes on the
 *   wire), and a UDP length or UDP-Lite coverage that contradicts the IP
 *   length.
 * - UDP over IPv4 with checksum 0 ("no checksum", RFC 768) stays 0: the
 *   sender chose to send none and a receiver accepts it (Linux
 *   `udp4_csum_init`); tcprewrite --fixcsum keeps a UDP 0 as well (tcpreplay
 *   src/tcpedit/checksum.c `do_checksum`: "No need to recalculate UDP
 *   checksums if already 0"). UDP over IPv6 and UDP-Lite, where 0 is invalid
 *   (RFC 8200 8.1, RFC 3828 3.1) and a receiver drops the datagram, get their
 *   checksum (tcprewrite leaves them 0). A computed UDP or UDP-Lite 0 is
 *   written 0xFFFF (RFC 768); TCP, DCCP, ICMP and ICMPv6 never get 0xFFFF
 *   (Wireshark calls a TCP 0xFFFF bad where 0x0000 is right).
 * - The packet quoted inside an ICMP error or an NDP Redirected Header
 *   option: its IPv4 header checksum when the quote holds the whole header,
 *   and its UDP or TCP checksum when the quote holds everything it covers,
 *   exactly where the verifier (and Wireshark) judges them; then the outer
 *   ICMP or ICMPv6 checksum over the quote as it now is. A quote too short
 *   to judge is the normal case (RFC 792: the header and 8 bytes), not
 *   counted as not fixable.
 * - A link FCS a radio header declares is kept right after a change
 *   (F' = F ^ crc(old) ^ crc(new)), as the translator keeps it.
 */
import { fold, sumHeader, sumRange } from '../wire/checksum.js';
import { L4Coverage } from '../wire/coverage.js';
import { type DecodeResult, NET_IPV4, NET_IPV6 } from '../wire/decode.js';
import * as dccp from '../wire/dccp.js';
import * as icmp from '../wire/icmp.js';
import * as icmpv6 from '../wire/icmpv6.js';
import { IPPROTO_DCCP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, type IpInfo } from '../wire/ip.js';
import * as ipv4 from '../wire/ipv4.js';
import * as tcp from '../wire/tcp.js';
import * as udp from '../wire/udp.js';
import { fcsCrc } from './translate.js';

/** Kinds of checksum fixed (index in `ChecksumFixer.fixed`), as the report names them. */
export const F_IPV4 = 0;
export const F_TCP = 1;
export const F_UDP = 2;
export const F_UDPLITE = 3;
export const F_DCCP = 4;
export const F_ICMP = 5;
export const F_ICMPV6 = 6;
export const FIX_KINDS = ['ipv4', 'tcp', 'udp', 'udplite', 'dccp', 'icmp', 'icmpv6'] as const;
export type FixKind = (typeof FIX_KINDS)[number];

/** The report's `summary.checksumsFixed`. */
export interface ChecksumsFixed {
  /** Checksum fields whose value changed. */
  fixed: number;
  /** Checksums that could not be recomputed (a snaplen cut, a fragment, a length past the frame), left as they were. */
  notFixable: number;
  /** `fixed` per protocol, every protocol listed. */
  byProtocol: Record<FixKind, number>;
}

/** "0x1234". */
function hex16(n: number): string {
  return '0x' + n.toString(16).padStart(4, '0');
}

export class ChecksumFixer {
  /** What the L4 checksum in hand covers (reused). */
  private readonly coverage = new L4Coverage();
  /** Checksum fields changed, per kind (F_*). */
  readonly fixed = new Float64Array(FIX_KINDS.length);
  notFixable = 0;
  /** The last packet's fixes, for describe(): kind, old and new value (the IPv4 header and one L4 at most). */
  private count = 0;
  private readonly kinds = new Uint8Array(4);
  private readonly olds = new Uint16Array(4);
  private readonly news = new Uint16Array(4);
  private buf: Uint8Array = new Uint8Array(0);
  private d: DecodeResult | null = null;
  private crcBefore = -1;

  /** Recomputes the decoded packet's checksums in place; returns whether a byte changed. */
  fix(buf: Uint8Array, v: DataView, d: DecodeResult): boolean {
    this.count = 0;
    if (d.undecodable !== null || (d.net !== NET_IPV4 && d.net !== NET_IPV6)) return false;
    this.buf = buf;
    this.d = d;
    this.crcBefore = -1;
    const ip = d.ip;
    if (d.net === NET_IPV4) this.ipv4Header(v, ip, d.capEnd);
    // The quote first: the outer ICMP checksum covers it.
    if ((d.icmpError || d.redirectQuote) && d.inner.version !== 0 && !ip.isFragment) this.quoted(v, d);
    this.l4(v, ip, d.capEnd);
    if (this.crcBefore >= 0) {
      const old = v.getUint32(d.fcsOff, true);
      v.setUint32(d.fcsOff, (old ^ this.crcBefore ^ fcsCrc(buf, d)) >>> 0, true);
    }
    this.d = null;
    return this.count > 0;
  }

  /** The report's summary.checksumsFixed. */
  summary(): ChecksumsFixed {
    const byProtocol = Object.fromEntries(FIX_KINDS.map((k, i) => [k, this.fixed[i]!])) as Record<FixKind, number>;
    return { fixed: this.fixed.reduce((a, b) => a + b, 0), notFixable: this.notFixable, byProtocol };
  }

  /** The last packet's fixes for a pcapng comment ("tcp.checksum 0x1234>0xabcd"), so the old value stays on record; allocates. */
  describe(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) out.push(`${FIX_KINDS[this.kinds[i]!]}.checksum ${hex16(this.olds[i]!)}>${hex16(this.news[i]!)}`);
    return out;
  }

  private ipv4Header(v: DataView, ip: IpInfo, capEnd: number): void {
    const hl = ip.headerLen;
    if (ip.off + hl > capEnd || hl < ipv4.MIN_HEADER_LEN) {
      this.notFixable++;
      return;
    }
    const at = ip.off + ipv4.CHECKSUM;
    const old = v.getUint16(at);
    // The header's sum without its checksum field, complemented.
    this.write(v, at, ~fold(sumHeader(v, ip.off, hl) + (~old & 0xffff)) & 0xffff, F_IPV4);
  }

  /** The quoted packet's IPv4 header and UDP/TCP checksums, where the verifier judges them (src/verify/checksums.ts `quoted`). */
  private quoted(v: DataView, d: DecodeResult): void {
    const q = d.inner;
    const avail = d.quoteEnd;
    if (d.icmpError && q.version === 4 && d.net === NET_IPV4 && q.off + q.headerLen <= avail && q.headerLen >= ipv4.MIN_HEADER_LEN) {
      const at = q.off + ipv4.CHECKSUM;
      this.write(v, at, ~fold(sumHeader(v, q.off, q.headerLen) + (~v.getUint16(at) & 0xffff)) & 0xffff, F_IPV4);
    }
    if (q.isFragment || q.l4Off < 0) return;
    const l4 = q.l4Off;
    let end = avail;
    if (d.net === NET_IPV4 && d.icmpType === icmp.REDIRECT && q.off + q.headerLen + icmp.QUOTED_DATA < end) end = q.off + q.headerLen + icmp.QUOTED_DATA;
    let len: number;
    let kind: number;
    let at: number;
    if (q.proto === IPPROTO_UDP) {
      if (l4 + udp.HEADER_LEN > end) return;
      len = v.getUint16(l4 + udp.LENGTH);
      at = l4 + udp.CHECKSUM;
      if (v.getUint16(at) === 0 || len < udp.HEADER_LEN || l4 + len > end || l4 + len > q.end) return;
      kind = F_UDP;
    } else if (q.proto === IPPROTO_TCP) {
      len = q.end - l4;
      if (q.end > end || len < tcp.MIN_HEADER_LEN) return;
      at = l4 + tcp.CHECKSUM;
      kind = F_TCP;
    } else {
      return;
    }
    const pseudo = this.pseudo(v, q, end, q.proto, len);
    if (pseudo >= 0) this.sum(v, l4, len, at, pseudo, q.proto, kind);
  }

  /** The pseudo-header's sum for `len` bytes of protocol `p` over `ip`'s addresses, -1 when they are not all in the bytes before `avail`. */
  private pseudo(v: DataView, ip: IpInfo, avail: number, p: number, len: number): number {
    const addrLen = ip.version === 6 ? 16 : 4;
    if (ip.srcOff + addrLen > avail || ip.pseudoDstOff < 0 || ip.pseudoDstOff + addrLen > avail) return -1;
    return sumRange(v, ip.srcOff, addrLen) + sumRange(v, ip.pseudoDstOff, addrLen) + p + (len >>> 16) + (len & 0xffff);
  }

  /** Writes at `at` the checksum of `cover` bytes from `l4` (the field among them) plus `pseudo`; a UDP or UDP-Lite 0 as 0xFFFF. */
  private sum(v: DataView, l4: number, cover: number, at: number, pseudo: number, p: number, kind: number): void {
    // The covered bytes' sum without the field (adding its complement takes it out), then the pseudo-header.
    let n = ~fold(sumRange(v, l4, cover) + (~v.getUint16(at) & 0xffff) + pseudo) & 0xffff;
    if (n === 0 && (p === IPPROTO_UDP || p === IPPROTO_UDPLITE)) n = 0xffff;
    this.write(v, at, n, kind);
  }

  private l4(v: DataView, ip: IpInfo, capEnd: number): void {
    const p = ip.proto;
    const v6 = ip.version === 6;
    let kind: number;
    let fo: number;
    switch (p) {
      case IPPROTO_TCP:
        kind = F_TCP;
        fo = tcp.CHECKSUM;
        break;
      case IPPROTO_UDP:
        kind = F_UDP;
        fo = udp.CHECKSUM;
        break;
      case IPPROTO_UDPLITE:
        kind = F_UDPLITE;
        fo = udp.CHECKSUM;
        break;
      case IPPROTO_DCCP:
        kind = F_DCCP;
        fo = dccp.CHECKSUM;
        break;
      case IPPROTO_ICMP:
        if (v6) return;
        kind = F_ICMP;
        fo = icmp.CHECKSUM;
        break;
      case IPPROTO_ICMPV6:
        if (!v6) return;
        kind = F_ICMPV6;
        fo = icmpv6.CHECKSUM;
        break;
      default:
        return;
    }
    const l4 = ip.l4Off;
    // A later fragment carries no L4 header: nothing to count. The first holds the field but not the datagram.
    if (l4 < 0) return;
    if (ip.isFragment || ip.lengthExceedsFrame || ip.zeroLength || ip.end > capEnd) {
      this.notFixable++;
      return;
    }
    const len = ip.end - l4;
    if (len < fo + 2) return; // a runt: no checksum field to fix
    const at = l4 + fo;
    if (p === IPPROTO_UDP && v.getUint16(at) === 0 && !v6) return; // "no checksum" (RFC 768): kept
    const c = this.coverage;
    if (!c.measure(v, p, l4, len, v6 && ip.jumbo)) {
      this.notFixable++;
      return;
    }
    const cover = c.cover;
    const pseudoLen = c.pseudoLen;
    let pseudo = 0;
    if (p !== IPPROTO_ICMP) {
      pseudo = this.pseudo(v, ip, capEnd, p, pseudoLen);
      if (pseudo < 0) {
        this.notFixable++;
        return;
      }
    }
    this.sum(v, l4, cover, at, pseudo, p, kind);
  }

  private write(v: DataView, at: number, n: number, kind: number): void {
    const old = v.getUint16(at);
    if (n === old) return;
    const d = this.d!;
    if (this.crcBefore < 0 && d.fcsCoverOff >= 0) this.crcBefore = fcsCrc(this.buf, d);
    v.setUint16(at, n);
    this.fixed[kind]!++;
    const i = this.count++;
    this.kinds[i] = kind;
    this.olds[i] = old;
    this.news[i] = n;
  }
}
