/**
 * PacketDecoder: one pass over a frame, from the link header to the L4 header
 * (and the packet quoted by an ICMP error), filling a preallocated
 * `DecodeResult` with byte offsets. Nothing is copied or allocated per packet.
 *
 * Validity: the result describes the bytes given to the last `decode` call and
 * stays valid until the next call, as long as the bytes' lengths are not
 * changed. The translator only rewrites addresses and checksums in place, so
 * the verifier can reuse the same result after translation.
 *
 * Truncation (a snaplen cut) is a flag, not an error: every field that lies in
 * the captured bytes is decoded. `undecodable` is set only for an impossible
 * header, where we could not know where the addresses are; such a packet must
 * pass through unchanged. L4 anomalies (a TCP data offset < 5, a UDP length
 * that disagrees with IP) do not make a packet undecodable: the checksum
 * field's place does not depend on them.
 */
import * as arp from './arp.js';
import * as eth from './ethernet.js';
import * as icmp from './icmp.js';
import * as icmpv6 from './icmpv6.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IpInfo } from './ip.js';
import { decodeIpv4 } from './ipv4.js';
import { decodeIpv6 } from './ipv6.js';
import * as mpls from './mpls.js';
import * as nul from './null.js';
import * as ppp from './ppp.js';
import * as raw from './raw.js';
import * as sll from './sll.js';
import * as sll2 from './sll2.js';
import { ViewCache } from './view.js';

/** What the network layer is. */
export const NET_NONE = 0; // not reached (truncated, unknown link, undecodable link header)
export const NET_IPV4 = 4;
export const NET_IPV6 = 6;
export const NET_ARP = 1; // ARP (EtherType 0x0806) of any hardware/protocol type
export const NET_OTHER = 2; // unknown EtherType / address family / MPLS payload: `etherType` says which

export const ERR_RAW_VERSION = 'raw: first nibble is neither 4 nor 6';
export const ERR_QUOTE_VERSION = 'icmp: quoted header is neither IPv4 nor IPv6';

export class DecodeResult {
  /** Arguments of the last decode call. */
  linkType = -1;
  off = 0;
  capLen = 0;
  origLen = 0;
  /** off + capLen: no byte at or past it may be read. */
  capEnd = 0;
  /** off + max(origLen, capLen): the end of the frame on the wire. */
  frameEnd = 0;
  /** capLen < origLen: the capture's snaplen cut the frame (not an error). */
  truncated = false;
  /** A header the decoder needed (link, VLAN, IP, extension header) was cut by the capture: decoding stopped there. */
  headerCut = false;
  /** Link type not handled (not Ethernet, SLL, SLL2, raw, IPv4/IPv6, NULL, LOOP, PPP, PPPoE, Cisco HDLC): nothing else is decoded. */
  unknownLink = false;
  /** The payload type is not one we handle (unknown EtherType / AF / MPLS payload / 802.3 length frame). */
  unknownProtocol = false;
  /** Static reason when a header is impossible; the packet must pass through unchanged. */
  undecodable: string | null = null;
  /** Offset of the header that was impossible, -1 otherwise. */
  undecodableOff = -1;

  /** Link header length (bytes before the first network / VLAN / MPLS byte). */
  linkHeaderLen = 0;
  /**
   * EtherType (or SLL protocol, or the EtherType equivalent of the NULL/LOOP
   * AF or raw version) of the network layer after VLAN/MPLS; -1 when none.
   * Below 0x0600 it is an 802.3 length field.
   */
  etherType = -1;
  /** SLL/SLL2 ARPHRD type, NULL/LOOP address family (as read, after byte-order fix), PPP protocol; -1 otherwise. */
  linkSubtype = -1;
  /** VLAN tags in wire order (outermost first): `vlanCount` valid entries. */
  vlanCount = 0;
  readonly vlanIds = new Uint16Array(eth.MAX_VLAN_TAGS);
  readonly vlanTpids = new Uint16Array(eth.MAX_VLAN_TAGS);
  /** MPLS labels in wire order: `mplsCount` valid entries. */
  mplsCount = 0;
  readonly mplsLabels = new Uint32Array(mpls.MAX_LABELS);

  /** NET_* constant. */
  net = NET_NONE;
  /** Offset of the network header (IP or ARP or unknown payload); -1 when not reached. */
  netOff = -1;
  /** Outer IP header (valid when net is NET_IPV4 / NET_IPV6). */
  readonly ip = new IpInfo();
  /**
   * Link padding: captured bytes after the IP datagram's declared end
   * (Ethernet minimum-size padding, trailers, FCS). Never part of any length.
   */
  padding = 0;

  /** The L4 header is ICMPv4 types 3/4/5/11/12 or ICMPv6 types 1-4 and its quote was decoded into `inner`. */
  icmpError = false;
  /** ICMP / ICMPv6 type and code (-1 when not ICMP or not captured). */
  icmpType = -1;
  icmpCode = -1;
  /**
   * The quoted IP header of an ICMP error (one level only; an error quoting an
   * error is not looked into further). Offsets are into the same buffer; its
   * available bytes end at the outer datagram's `dataEnd`. Meaningful only
   * when `icmpError` is set; fresh (version 0) otherwise.
   */
  readonly inner = new IpInfo();
  /** Static reason when the quoted header is impossible (the outer packet is still fine); null otherwise. */
  innerUndecodable: string | null = null;

  reset(linkType: number, off: number, capLen: number, origLen: number): void {
    this.linkType = linkType;
    this.off = off;
    this.capLen = capLen;
    this.origLen = origLen;
    this.capEnd = off + capLen;
    this.frameEnd = off + (origLen > capLen ? origLen : capLen);
    this.truncated = capLen < origLen;
    this.headerCut = false;
    this.unknownLink = false;
    this.unknownProtocol = false;
    this.undecodable = null;
    this.undecodableOff = -1;
    this.linkHeaderLen = 0;
    this.etherType = -1;
    this.linkSubtype = -1;
    // Only the entries the last packet used: no cost for the untagged, unlabelled common case.
    for (let i = 0; i < this.vlanCount; i++) {
      this.vlanIds[i] = 0;
      this.vlanTpids[i] = 0;
    }
    this.vlanCount = 0;
    for (let i = 0; i < this.mplsCount; i++) this.mplsLabels[i] = 0;
    this.mplsCount = 0;
    this.net = NET_NONE;
    this.netOff = -1;
    this.ip.reset();
    this.padding = 0;
    this.icmpError = false;
    this.icmpType = -1;
    this.icmpCode = -1;
    // `inner` is touched only when a quote is decoded, which sets its `off` first.
    if (this.inner.off !== -1) this.inner.reset();
    this.innerUndecodable = null;
  }
}

/** Link types the decoder reads (the cases of `PacketDecoder.decode`'s switch); packets of any other pass unchanged, unchecked. */
export const DECODED_LINK_TYPES: ReadonlySet<number> = new Set([
  raw.LINKTYPE_ETHERNET,
  sll.LINKTYPE_LINUX_SLL,
  sll2.LINKTYPE_LINUX_SLL2,
  nul.LINKTYPE_NULL,
  nul.LINKTYPE_LOOP,
  raw.LINKTYPE_RAW,
  raw.DLT_RAW_12,
  raw.DLT_RAW_14,
  ppp.LINKTYPE_PPP,
  ppp.LINKTYPE_PPP_HDLC,
  ppp.LINKTYPE_C_HDLC,
  ppp.LINKTYPE_PPP_ETHER,
  raw.LINKTYPE_IPV4,
  raw.LINKTYPE_IPV6,
]);

/** Names of common link types, for messages ("IEEE 802.11 radiotap"); numbers not listed are shown as numbers. */
const LINK_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'BSD loopback',
  1: 'Ethernet',
  9: 'PPP',
  12: 'raw IP',
  14: 'raw IP',
  50: 'PPP in HDLC framing',
  51: 'PPPoE',
  101: 'raw IP',
  104: 'Cisco HDLC',
  105: 'IEEE 802.11',
  108: 'OpenBSD loopback',
  113: 'Linux cooked (SLL)',
  119: 'IEEE 802.11 Prism',
  127: 'IEEE 802.11 radiotap',
  163: 'IEEE 802.11 AVS',
  192: 'PPI',
  195: 'IEEE 802.15.4',
  201: 'Bluetooth HCI',
  220: 'USB Linux',
  228: 'raw IPv4',
  229: 'raw IPv6',
  239: 'Linux netfilter log',
  249: 'USB',
  276: 'Linux cooked v2 (SLL2)',
};

/** "link type 127 (IEEE 802.11 radiotap)", "link type 147 (USER0)". */
export function describeLinkType(linkType: number): string {
  const name = LINK_TYPE_NAMES[linkType] ?? (linkType >= 147 && linkType <= 162 ? `USER${linkType - 147}` : undefined);
  return `link type ${linkType}${name === undefined ? '' : ` (${name})`}`;
}

/** The EtherType equivalent of a PPP protocol (IPv4, IPv6), or -1. */
function pppEtherType(protocol: number): number {
  if (protocol === ppp.PPP_IPV4) return eth.ETHERTYPE_IPV4;
  if (protocol === ppp.PPP_IPV6) return eth.ETHERTYPE_IPV6;
  return -1;
}

export class PacketDecoder {
  /** The reused result of `decode`. */
  readonly result = new DecodeResult();
  private readonly views = new ViewCache();

  /** The DataView over the last decoded buffer (index 0 = buf[0]). */
  get view(): DataView {
    return this.views.view;
  }

  /** Returns the cached DataView for `buf`, creating one only when the underlying memory changed. */
  viewOf(buf: Uint8Array): DataView {
    return this.views.of(buf);
  }

  /**
   * Decodes the frame in `buf[off .. off+capLen)` (origLen bytes on the wire)
   * of link type `linkType` into `this.result` and returns it. Never throws
   * for any content; the caller guarantees `off + capLen <= buf.length`.
   */
  decode(buf: Uint8Array, off: number, capLen: number, origLen: number, linkType: number): DecodeResult {
    const r = this.result;
    r.reset(linkType, off, capLen, origLen);
    const v = this.viewOf(buf);
    const capEnd = r.capEnd;
    let cur = off;
    let et = -1;
    switch (linkType) {
      case raw.LINKTYPE_ETHERNET:
        if (cur + eth.HEADER_LEN > capEnd) return this.cut();
        et = v.getUint16(cur + eth.ETHERTYPE);
        cur += eth.HEADER_LEN;
        break;
      case sll.LINKTYPE_LINUX_SLL: {
        if (cur + sll.HEADER_LEN > capEnd) return this.cut();
        r.linkSubtype = v.getUint16(cur + sll.ARPHRD_TYPE);
        et = v.getUint16(cur + sll.PROTOCOL);
        cur += sll.HEADER_LEN;
        if (sll.protocolIsNotEtherType(r.linkSubtype)) return this.other(et, cur);
        break;
      }
      case sll2.LINKTYPE_LINUX_SLL2:
        if (cur + sll2.HEADER_LEN > capEnd) return this.cut();
        r.linkSubtype = v.getUint16(cur + sll2.ARPHRD_TYPE);
        et = v.getUint16(cur + sll2.PROTOCOL);
        cur += sll2.HEADER_LEN;
        if (sll.protocolIsNotEtherType(r.linkSubtype)) return this.other(et, cur);
        break;
      case nul.LINKTYPE_NULL:
      case nul.LINKTYPE_LOOP: {
        if (cur + nul.HEADER_LEN > capEnd) return this.cut();
        let af = v.getUint32(cur, linkType === nul.LINKTYPE_NULL);
        if (linkType === nul.LINKTYPE_NULL && (af & 0xffff0000) !== 0) af = v.getUint32(cur, false);
        r.linkSubtype = af;
        cur += nul.HEADER_LEN;
        if (af === nul.AF_INET) et = eth.ETHERTYPE_IPV4;
        else if (nul.isAfInet6(af)) et = eth.ETHERTYPE_IPV6;
        else {
          r.linkHeaderLen = cur - off;
          return this.other(-1, cur);
        }
        break;
      }
      case raw.LINKTYPE_RAW:
      case raw.DLT_RAW_12:
      case raw.DLT_RAW_14: {
        if (cur >= capEnd) return this.cut();
        const nib = v.getUint8(cur) >> 4;
        if (nib === 4) et = eth.ETHERTYPE_IPV4;
        else if (nib === 6) et = eth.ETHERTYPE_IPV6;
        else return this.bad(ERR_RAW_VERSION, cur);
        break;
      }
      case ppp.LINKTYPE_PPP:
      case ppp.LINKTYPE_PPP_HDLC: {
        if (cur + 2 > capEnd) return this.cut();
        const b0 = v.getUint8(cur);
        if (linkType === ppp.LINKTYPE_PPP_HDLC && (b0 === ppp.CISCO_HDLC_UNICAST || b0 === ppp.CISCO_HDLC_MULTICAST)) {
          if (cur + ppp.CISCO_HDLC_HEADER_LEN > capEnd) return this.cut();
          et = v.getUint16(cur + 2);
          cur += ppp.CISCO_HDLC_HEADER_LEN;
          break;
        }
        if (b0 === ppp.HDLC_ADDRESS && v.getUint8(cur + 1) === ppp.HDLC_CONTROL) cur += 2;
        const pr = ppp.readProtocol(v, cur, capEnd);
        if (pr < 0) return this.cut();
        r.linkSubtype = pr & 0xffff;
        cur += pr >>> 16;
        et = pppEtherType(pr & 0xffff);
        if (et < 0) {
          r.linkHeaderLen = cur - off;
          return this.other(-1, cur);
        }
        break;
      }
      case ppp.LINKTYPE_C_HDLC:
        if (cur + ppp.CISCO_HDLC_HEADER_LEN > capEnd) return this.cut();
        et = v.getUint16(cur + 2);
        cur += ppp.CISCO_HDLC_HEADER_LEN;
        break;
      case ppp.LINKTYPE_PPP_ETHER:
        et = ppp.ETHERTYPE_PPPOE_SESSION; // the PPPoE header is read below, as after an Ethernet header
        break;
      case raw.LINKTYPE_IPV4:
        et = eth.ETHERTYPE_IPV4;
        break;
      case raw.LINKTYPE_IPV6:
        et = eth.ETHERTYPE_IPV6;
        break;
      default:
        r.unknownLink = true;
        return r;
    }
    r.linkHeaderLen = cur - off;

    // VLAN tags (any TPID order), then MPLS.
    while (eth.isVlanTpid(et)) {
      if (r.vlanCount >= eth.MAX_VLAN_TAGS) return this.bad(eth.ERR_VLAN_DEPTH, cur);
      if (cur + eth.VLAN_TAG_LEN > capEnd) return this.cut();
      r.vlanTpids[r.vlanCount] = et;
      r.vlanIds[r.vlanCount] = v.getUint16(cur + eth.VLAN_TCI) & eth.VLAN_VID_MASK;
      r.vlanCount++;
      et = v.getUint16(cur + eth.VLAN_ETHERTYPE);
      cur += eth.VLAN_TAG_LEN;
    }
    if (et === ppp.ETHERTYPE_PPPOE_SESSION) {
      // PPPoE session stage: 6-byte header, then PPP.
      if (cur + ppp.PPPOE_HEADER_LEN > capEnd) return this.cut();
      const pr = ppp.readProtocol(v, cur + ppp.PPPOE_HEADER_LEN, capEnd);
      if (pr < 0) return this.cut();
      const next = pppEtherType(pr & 0xffff);
      if (next < 0) return this.other(et, cur);
      cur += ppp.PPPOE_HEADER_LEN + (pr >>> 16);
      et = next;
    }
    if (et === eth.ETHERTYPE_MPLS || et === eth.ETHERTYPE_MPLS_MC) {
      for (;;) {
        if (r.mplsCount >= mpls.MAX_LABELS) return this.bad(mpls.ERR_MPLS_DEPTH, cur);
        if (cur + mpls.ENTRY_LEN > capEnd) return this.cut();
        const e = v.getUint32(cur);
        r.mplsLabels[r.mplsCount++] = mpls.label(e);
        cur += mpls.ENTRY_LEN;
        if ((e & mpls.BOS_BIT) !== 0) break;
      }
      r.etherType = et;
      if (cur >= capEnd) return this.cut();
      const nib = v.getUint8(cur) >> 4;
      if (nib === 4) et = eth.ETHERTYPE_IPV4;
      else if (nib === 6) et = eth.ETHERTYPE_IPV6;
      else return this.other(et, cur);
    }

    r.etherType = et;
    r.netOff = cur;
    if (et === eth.ETHERTYPE_IPV4 || et === eth.ETHERTYPE_IPV6) return this.decodeIp(v, et === eth.ETHERTYPE_IPV4, cur);
    if (et === eth.ETHERTYPE_ARP) {
      r.net = NET_ARP;
      if (cur + arp.FIXED_LEN > capEnd) r.headerCut = true;
      return r;
    }
    return this.other(et, cur);
  }

  private decodeIp(v: DataView, isV4: boolean, cur: number): DecodeResult {
    const r = this.result;
    const ip = r.ip;
    const err = isV4 ? decodeIpv4(v, cur, r.capEnd, r.frameEnd, ip) : decodeIpv6(v, cur, r.capEnd, r.frameEnd, ip);
    if (err !== null) return this.bad(err, cur);
    r.net = isV4 ? NET_IPV4 : NET_IPV6;
    if (ip.end > 0 && ip.end < r.capEnd) r.padding = r.capEnd - ip.end;
    // l4Off < 0 without being a later fragment: the header/extension walk was cut by the capture.
    if (!ip.headerCaptured || (ip.l4Off < 0 && ip.fragOffset === 0)) r.headerCut = true;
    if (ip.l4Off < 0) return r;
    // ICMP: type/code, and the quoted packet of an error message.
    const l4 = ip.l4Off;
    const isIcmp4 = ip.proto === IPPROTO_ICMP && isV4;
    const isIcmp6 = ip.proto === IPPROTO_ICMPV6 && !isV4;
    if ((isIcmp4 || isIcmp6) && l4 + 2 <= ip.dataEnd) {
      // TYPE and CODE are at the same offsets in ICMPv4 and ICMPv6.
      const type = v.getUint8(l4 + icmp.TYPE);
      r.icmpType = type;
      r.icmpCode = v.getUint8(l4 + icmp.CODE);
      if (isIcmp4 ? icmp.isIcmpError(type) : icmpv6.isIcmpv6Error(type)) {
        const q = l4 + icmp.QUOTE;
        if (q < ip.dataEnd) {
          r.icmpError = true;
          const nib = v.getUint8(q) >> 4;
          const inner = r.inner; // fresh: decode() began with reset()
          let e: string | null;
          if (nib === 4) e = decodeIpv4(v, q, ip.dataEnd, ip.dataEnd, inner);
          else if (nib === 6) e = decodeIpv6(v, q, ip.dataEnd, ip.dataEnd, inner);
          else e = ERR_QUOTE_VERSION;
          // A quoted datagram is longer than its quote: that is normal, not a lying length.
          inner.lengthExceedsFrame = false;
          if (e !== null) {
            r.innerUndecodable = e;
            inner.version = 0;
          }
        }
      }
    }
    return r;
  }

  private cut(): DecodeResult {
    this.result.headerCut = true;
    return this.result;
  }

  private bad(reason: string, at: number): DecodeResult {
    const r = this.result;
    r.undecodable = reason;
    r.undecodableOff = at;
    r.net = NET_NONE;
    return r;
  }

  private other(et: number, cur: number): DecodeResult {
    const r = this.result;
    r.unknownProtocol = true;
    r.etherType = et;
    r.net = NET_OTHER;
    r.netOff = cur;
    if (r.linkHeaderLen === 0) r.linkHeaderLen = cur - r.off;
    return r;
  }
}
