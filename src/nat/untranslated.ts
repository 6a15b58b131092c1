/**
 * The address sites the translator leaves alone on purpose (src/nat/
 * translate.ts says why for each), walked for the leak check: after the
 * translator has done its part on the leak check's scratch copy, `walk`
 * looks at each such site of the packet and records every address there
 * that a rule would translate. No rewrite will ever fix those, so `verify
 * --rule` reports them as `addr.untranslated` "(not translated by
 * ssnat-rewrite)" instead of passing the packet as clean.
 *
 * The sites:
 * - IPv4 options that carry addresses: loose and strict source route,
 *   record route, timestamp with addresses (RFC 791);
 * - IPv6 routing header addresses: type 0, type 2 (Mobile IPv6 home
 *   address), segment routing (RFC 8754) segment lists;
 * - a tunnel in the packet quoted by an ICMP error (the translator goes
 *   inside the tunnels of the packet, not of a quote): the addresses of the
 *   packet it carries, decoded by the one decoder (src/wire/decode.ts);
 * - an ICMP error quoted inside an ICMP error: its quoted header;
 * - 802.11: the packets in an A-MSDU's subframes and in the first fragment
 *   of a fragmented frame (the decoder leaves them undecoded).
 * The same walk covers the packet quoted by an ICMP error (its options,
 * routing header), and every packet a tunnel carries (its own options,
 * routing header, quotes), with the tunnel it is in said.
 *
 * Only whole addresses inside the captured (or quoted) bytes are judged.
 * At most MAX_SITES addresses are recorded per packet; `more` counts the
 * rest. Nothing is allocated per packet.
 */
import * as arp from '../wire/arp.js';
import { type DecodeResult, NET_ARP, NET_IPV4, NET_IPV6, PacketDecoder } from '../wire/decode.js';
import * as eth from '../wire/ethernet.js';
import * as icmp from '../wire/icmp.js';
import * as icmpv6 from '../wire/icmpv6.js';
import * as ieee from '../wire/ieee80211.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, type IpInfo } from '../wire/ip.js';
import * as ipv4 from '../wire/ipv4.js';
import * as ipv6 from '../wire/ipv6.js';
import * as llc from '../wire/llc.js';
import { findTunnel, TUN_NONE, TunnelInfo } from '../wire/tunnel.js';
import { formatIpv4, formatIpv6 } from '../wire/address.js';
import { type InterfaceMapper, mapperInside } from './mapper.js';

/** Where an untranslated address was found (index into PLACE_LABELS). */
export const P_LSRR = 0;
export const P_SSRR = 1;
export const P_RECORD_ROUTE = 2;
export const P_TIMESTAMP = 3;
export const P_ROUTING_HEADER = 4;
export const P_QUOTED_TUNNEL = 5;
export const P_NESTED_QUOTE = 6;
export const P_AMSDU = 7;
export const P_WLAN_FRAGMENT = 8;

export const PLACE_LABELS: readonly string[] = [
  'in an IPv4 loose source route option',
  'in an IPv4 strict source route option',
  'in an IPv4 record route option',
  'in an IPv4 timestamp option',
  'in an IPv6 routing header',
  'inside the tunnel',
  'in the ICMP error quoted by the ICMP error',
  'inside an 802.11 A-MSDU',
  'inside a fragmented 802.11 frame',
];

/** What the address is there (index into ROLE_LABELS). */
export const R_IPV4_ADDRESS = 0;
export const R_IPV4_SOURCE = 1;
export const R_IPV4_DESTINATION = 2;
export const R_IPV6_ADDRESS = 3;
export const R_IPV6_SOURCE = 4;
export const R_IPV6_DESTINATION = 5;
export const R_ARP_SENDER = 6;
export const R_ARP_TARGET = 7;

export const ROLE_LABELS: readonly string[] = ['IPv4 address', 'IPv4 source', 'IPv4 destination', 'IPv6 address', 'IPv6 source', 'IPv6 destination', 'ARP sender', 'ARP target'];

function isV6Role(role: number): boolean {
  return role >= R_IPV6_ADDRESS && role <= R_IPV6_DESTINATION;
}

/** Addresses recorded per packet, at most. */
export const MAX_SITES = 16;


export class UntranslatedSites {
  /** Number of valid records. */
  count = 0;
  /** Addresses found beyond MAX_SITES. */
  more = 0;
  readonly places = new Uint8Array(MAX_SITES);
  readonly roles = new Uint8Array(MAX_SITES);
  /** The record is in the packet an ICMP error quotes. */
  readonly quoted = new Uint8Array(MAX_SITES);
  /** The tunnel the record's packet is inside ("VXLAN VNI 42"), null in the frame's own packet. */
  readonly tunnels: Array<string | null> = new Array<string | null>(MAX_SITES).fill(null);
  readonly rules = new Int32Array(MAX_SITES);
  readonly old4 = new Uint32Array(MAX_SITES);
  readonly new4 = new Uint32Array(MAX_SITES);
  readonly old6 = new Uint8Array(MAX_SITES * 16);
  readonly new6 = new Uint8Array(MAX_SITES * 16);

  private v: DataView = new DataView(new ArrayBuffer(0));
  private buf: Uint8Array = new Uint8Array(0);
  private mapper: InterfaceMapper | null = null;
  private inQuote = 0;
  private inTunnel: string | null = null;
  private readonly scratch6 = new Uint8Array(16);
  /** A quoted packet's tunnel, and the decoder of what it carries. */
  private readonly quotedTunnel = new TunnelInfo();
  private quoteDecoder: PacketDecoder | null = null;
  /** The decoder's tunnel settings (the quote's tunnel is found as the packet's are). */
  private tunnelPorts: Uint8Array | null = null;

  reset(): void {
    for (let i = 0; i < this.count; i++) this.tunnels[i] = null;
    this.count = 0;
    this.more = 0;
  }

  /** Records the guest-side addresses at the sites of the decoded packet `d` (in `buf`, `v` a DataView over it) that `mapper` would translate. */
  walk(buf: Uint8Array, v: DataView, d: DecodeResult, mapper: InterfaceMapper, tunnelPorts: Uint8Array | null): void {
    this.v = v;
    this.buf = buf;
    this.tunnelPorts = tunnelPorts;
    this.inTunnel = null;
    // The frame's packet, then each packet its tunnels carry, with the mapper of the tunnel's scope.
    let m = mapper;
    for (let p: DecodeResult | null = d; p !== null; p = p.payload) {
      this.mapper = m;
      this.layer(p);
      if (p.payload === null) break;
      m = mapperInside(m, p.tunnel);
      this.inTunnel = p.tunnel.describe();
    }
    this.mapper = null;
  }

  /** One packet's sites: its IP header's, its quote's. */
  private layer(d: DecodeResult): void {
    if (d.net === NET_IPV4 || d.net === NET_IPV6) {
      this.inQuote = 0;
      this.ip(d.ip);
      if ((d.icmpError || d.redirectQuote) && d.inner.version !== 0) {
        this.inQuote = 1;
        this.ip(d.inner);
        this.quoteTunnel(d.inner, d.quoteEnd);
        this.inQuote = 0; // the place says it: "in the ICMP error quoted by the ICMP error"
        this.nestedQuote(d.inner);
      }
    } else if (d.wlanBody !== 0) {
      this.inQuote = 0;
      this.wlanBody(d);
    }
  }

  /** "IPv4 source 10.0.0.2 inside IP-in-IP": the record's address and place, for messages (allocates). */
  describe(i: number): string {
    const t = this.tunnels[i];
    return `${ROLE_LABELS[this.roles[i]!]} ${this.addressText(i)} ${PLACE_LABELS[this.places[i]!]}${this.quoted[i] === 1 ? ' of the quoted packet' : ''}${t === null ? '' : ` inside ${t}`}`;
  }

  /** What the rule would make of record i's address (allocates). */
  mappedText(i: number): string {
    return isV6Role(this.roles[i]!) ? formatIpv6(this.new6, i * 16) : formatIpv4(this.new4[i]!);
  }

  /** The address record i found (allocates). */
  addressText(i: number): string {
    return isV6Role(this.roles[i]!) ? formatIpv6(this.old6, i * 16) : formatIpv4(this.old4[i]!);
  }

  /** One IP header's own sites (options, routing header) and a tunnelled packet behind it. */
  private ip(ip: IpInfo): void {
    if (ip.version === 4) {
      if (ip.headerLen > ipv4.MIN_HEADER_LEN && ip.headerCaptured) this.ipv4Options(ip.off + ipv4.MIN_HEADER_LEN, ip.off + ip.headerLen);
    } else if (ip.routingOff >= 0) {
      this.routingHeader(ip.routingOff, ip.dataEnd);
    }
  }

  /** A tunnel in the packet an ICMP error quotes (bytes to `end`): the addresses of the packet it carries. */
  private quoteTunnel(q: IpInfo, end: number): void {
    const ports = this.tunnelPorts;
    if (ports === null || q.l4Off < 0 || q.isFragment) return;
    const t = this.quotedTunnel;
    t.reset();
    // A quote is cut where it is cut: its datagram's length is not a bound here.
    if (findTunnel(this.v, q.proto, q.l4Off, end, 0x7fffffff, ports, t) !== null || t.kind === TUN_NONE) return;
    if (t.payloadLink < 0 || t.payloadOff >= end) return;
    const dec = (this.quoteDecoder ??= new PacketDecoder());
    dec.tunnels = false;
    const r = dec.decode(this.buf, t.payloadOff, end - t.payloadOff, end - t.payloadOff, t.payloadLink);
    if (r.undecodable !== null) return;
    if (r.net === NET_IPV4 || r.net === NET_IPV6 || r.net === NET_ARP) this.packet(r.etherType, r.netOff, end, P_QUOTED_TUNNEL);
  }

  private ipv4Options(from: number, end: number): void {
    const v = this.v;
    for (let p = ipv4.nextOption(v, from, end); p >= 0; p = ipv4.nextOption(v, p + v.getUint8(p + 1), end)) {
      const t = v.getUint8(p);
      const len = v.getUint8(p + 1);
      if (t === ipv4.OPT_LSRR || t === ipv4.OPT_SSRR || t === ipv4.OPT_RR) {
        const place = t === ipv4.OPT_LSRR ? P_LSRR : t === ipv4.OPT_SSRR ? P_SSRR : P_RECORD_ROUTE;
        for (let a = p + ipv4.ROUTE_DATA; a + 4 <= p + len; a += 4) this.check4(a, place, R_IPV4_ADDRESS);
      } else if (t === ipv4.OPT_TS && len > ipv4.TS_DATA) {
        const flags = v.getUint8(p + ipv4.TS_FLAGS) & 0x0f;
        if (flags === ipv4.TS_FLAG_ADDRESSES || flags === ipv4.TS_FLAG_PRESPECIFIED) {
          for (let a = p + ipv4.TS_DATA; a + 8 <= p + len; a += 8) this.check4(a, P_TIMESTAMP, R_IPV4_ADDRESS);
        }
      }
    }
  }

  /** The addresses of a type 0, type 2 or segment routing header at `rh` (its bytes are captured: the decoder walked past it). */
  private routingHeader(rh: number, end: number): void {
    const v = this.v;
    const len = (v.getUint8(rh + ipv6.EXT_LEN) + 1) << 3;
    const stop = rh + len < end ? rh + len : end;
    const type = v.getUint8(rh + ipv6.RH_TYPE);
    let n: number;
    if (type === ipv6.RH_TYPE0) n = (len - ipv6.RH_DATA) >> 4;
    else if (type === ipv6.RH_TYPE2) n = 1;
    else if (type === ipv6.RH_SRH) n = v.getUint8(rh + ipv6.SRH_LAST_ENTRY) + 1;
    else return; // RPL (3) and others: compressed or unknown layouts
    for (let i = 0, a = rh + ipv6.RH_DATA; i < n && a + 16 <= stop; i++, a += 16) this.check6(a, P_ROUTING_HEADER, R_IPV6_ADDRESS);
  }

  /** The addresses of the IPv4, IPv6 or ARP/RARP packet of EtherType `et` at `at`. */
  private packet(et: number, at: number, end: number, place: number): void {
    const v = this.v;
    if (at >= end) return;
    if (et === eth.ETHERTYPE_IPV4) {
      if (v.getUint8(at) >> 4 !== 4) return;
      if (at + ipv4.SRC_ADDR + 4 <= end) this.check4(at + ipv4.SRC_ADDR, place, R_IPV4_SOURCE);
      if (at + ipv4.DST_ADDR + 4 <= end) this.check4(at + ipv4.DST_ADDR, place, R_IPV4_DESTINATION);
    } else if (et === eth.ETHERTYPE_IPV6) {
      if (v.getUint8(at) >> 4 !== 6) return;
      if (at + ipv6.SRC_ADDR + 16 <= end) this.check6(at + ipv6.SRC_ADDR, place, R_IPV6_SOURCE);
      if (at + ipv6.DST_ADDR + 16 <= end) this.check6(at + ipv6.DST_ADDR, place, R_IPV6_DESTINATION);
    } else if (et === eth.ETHERTYPE_ARP || et === eth.ETHERTYPE_RARP) {
      const hlen = arp.ipv4HardwareLen(v, at, end);
      if (hlen < 0) return;
      const spa = at + arp.senderProtocolOffset(hlen);
      const tpa = at + arp.targetProtocolOffset(hlen, arp.PLEN_IPV4);
      if (spa + 4 <= end) this.check4(spa, place, R_ARP_SENDER);
      if (tpa + 4 <= end) this.check4(tpa, place, R_ARP_TARGET);
    }
  }

  /** The quoted packet is itself an ICMP error: the header it quotes. */
  private nestedQuote(inner: IpInfo): void {
    const l4 = inner.l4Off;
    const end = inner.dataEnd;
    if (l4 < 0 || l4 + icmp.QUOTE >= end) return;
    const v = this.v;
    const type = v.getUint8(l4 + icmp.TYPE);
    const error = inner.version === 4 ? inner.proto === IPPROTO_ICMP && icmp.isIcmpError(type) : inner.proto === IPPROTO_ICMPV6 && icmpv6.isIcmpv6Error(type);
    if (!error) return;
    const q = l4 + icmp.QUOTE;
    const nib = v.getUint8(q) >> 4; // the quoted header's version (packet() checks it again)
    this.packet(nib === 6 ? eth.ETHERTYPE_IPV6 : eth.ETHERTYPE_IPV4, q, end, P_NESTED_QUOTE);
  }

  /** An 802.11 body the decoder did not decode: A-MSDU subframes, or the first fragment's start. */
  private wlanBody(d: DecodeResult): void {
    const v = this.v;
    const end = d.capEnd;
    if (d.wlanBody === ieee.WLAN_BODY_FIRST_FRAGMENT) {
      const pid = llc.readSnap(v, d.netOff, end);
      if (pid >= eth.ETHERTYPE_MIN) this.packet(pid, d.netOff + llc.SNAP_HEADER_LEN, end, P_WLAN_FRAGMENT);
      return;
    }
    const body = d.netOff;
    for (let p = body; p + ieee.AMSDU_HEADER_LEN <= end; ) {
      const len = v.getUint16(p + ieee.AMSDU_LENGTH);
      const sub = p + ieee.AMSDU_HEADER_LEN;
      const subEnd = sub + len < end ? sub + len : end;
      const pid = llc.readSnap(v, sub, subEnd);
      if (pid >= eth.ETHERTYPE_MIN) this.packet(pid, sub + llc.SNAP_HEADER_LEN, subEnd, P_AMSDU);
      // Each subframe but the last is padded to a multiple of 4 bytes from the body's start.
      p = body + ((sub + len - body + 3) & ~3);
    }
  }

  private check4(at: number, place: number, role: number): void {
    const old = this.v.getUint32(at);
    const mapped = this.mapper!.map4(old);
    if (mapped < 0 || mapped >>> 0 === old) return;
    const i = this.record(place, role);
    if (i < 0) return;
    this.old4[i] = old;
    this.new4[i] = mapped >>> 0;
  }

  private check6(at: number, place: number, role: number): void {
    const b = this.buf;
    const s = this.scratch6;
    if (!this.mapper!.map6(b, at, s, 0)) return;
    let same = true;
    for (let k = 0; k < 16; k++) {
      if (b[at + k] !== s[k]) {
        same = false;
        break;
      }
    }
    if (same) return;
    const i = this.record(place, role);
    if (i < 0) return;
    for (let k = 0; k < 16; k++) {
      this.old6[i * 16 + k] = b[at + k]!;
      this.new6[i * 16 + k] = s[k]!;
    }
  }

  private record(place: number, role: number): number {
    if (this.count >= MAX_SITES) {
      this.more++;
      return -1;
    }
    const i = this.count++;
    this.places[i] = place;
    this.roles[i] = role;
    this.quoted[i] = this.inQuote;
    this.tunnels[i] = this.inTunnel;
    this.rules[i] = this.mapper!.lastRule;
    return i;
  }
}
