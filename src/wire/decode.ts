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
import * as ieee from './ieee80211.js';
import { IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_UDP, IpInfo } from './ip.js';
import * as ipv4 from './ipv4.js';
import { decodeIpv4 } from './ipv4.js';
import * as ipv6 from './ipv6.js';
import { decodeIpv6 } from './ipv6.js';
import * as llc from './llc.js';
import * as mpls from './mpls.js';
import * as nul from './null.js';
import * as ppp from './ppp.js';
import * as raw from './raw.js';
import * as sll from './sll.js';
import * as sll2 from './sll2.js';
import { DEFAULT_TUNNEL_PORTS, ERR_TUNNEL_DEPTH, findTunnel, MAX_TUNNEL_DEPTH, portsOf, TUN_NONE, TunnelInfo, type TunnelSettings } from './tunnel.js';
import { ViewCache } from './view.js';

/** What the network layer is. */
export const NET_NONE = 0; // not reached (truncated, unknown link, undecodable link header)
export const NET_IPV4 = 4;
export const NET_IPV6 = 6;
export const NET_ARP = 1; // ARP (EtherType 0x0806) or RARP (0x8035, RFC 903) of any hardware/protocol type: `etherType` says which
export const NET_OTHER = 2; // unknown EtherType / address family / MPLS payload: `etherType` says which

/** The 802.11 FCS: a CRC-32 (src/wire/crc32.ts). */
const ieee80211FcsLen = 4;

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
  /**
   * Link type not handled (none of the cases of `PacketDecoder.decode`'s
   * switch, which `decodesLinkType` asks; or a PPI header for another link
   * type): nothing else is decoded.
   */
  unknownLink = false;
  /**
   * The link type a PPI header names when the decoder does not read it
   * (neither 802.11 nor Ethernet; `unknownLink` is set too); -1 otherwise.
   * Such packets are counted per interface for capture.unsupported-link, as
   * the packets of an interface whose own link type is not decoded are.
   */
  unreadPpiLink = -1;
  /**
   * The payload type is not one we handle (unknown EtherType / AF / MPLS
   * payload, an 802.3 frame whose LLC is not SNAP with an EtherType, an
   * 802.11 frame that is not a data frame with an LLC/SNAP body).
   */
  unknownProtocol = false;
  /** Static reason when a header is impossible; the packet must pass through unchanged. */
  undecodable: string | null = null;
  /** Offset of the header that was impossible, -1 otherwise. */
  undecodableOff = -1;

  /**
   * The link header's source and destination MAC addresses: Ethernet's, or
   * an 802.11 data frame's SA and DA (which of its addresses they are
   * depends on the ToDS/FromDS bits); -1 when the link has none.
   */
  srcMacOff = -1;
  dstMacOff = -1;
  /** The 802.11 MAC header's first byte (a data frame's: its addresses 1-4 are at ieee80211.ADDR1..ADDR4), -1 otherwise. */
  wlanOff = -1;
  /**
   * A frame check sequence the link header says the frame ends with (802.11
   * behind radiotap or PPI): 4, else 0. `capEnd` and `frameEnd` then end
   * before it, so nothing above the link layer reads, sums or writes it.
   */
  fcsLen = 0;
  /** Offset of that FCS when it is captured (the frame is not cut), -1 otherwise. */
  fcsOff = -1;
  /**
   * What the FCS covers: the bytes from `fcsCoverOff` (the 802.11 header) to
   * `fcsOff`, except `fcsPadLen` bytes at `fcsPadOff` (radiotap's data
   * padding between the 802.11 header and its body, which the sender never
   * saw). -1 / 0 when there is no captured FCS.
   */
  fcsCoverOff = -1;
  fcsPadOff = -1;
  fcsPadLen = 0;
  /**
   * An 802.11 data frame whose body holds packets that are not decoded:
   * ieee80211.WLAN_BODY_AMSDU (several, in A-MSDU subframes) or
   * WLAN_BODY_FIRST_FRAGMENT (the start of one, continued in the next
   * frame). `netOff` is the body's first byte; the packet is an unknown
   * protocol. 0 otherwise.
   */
  wlanBody = 0;

  /** Link header length (bytes before the first network / VLAN / MPLS byte). */
  linkHeaderLen = 0;
  /**
   * EtherType (or SLL protocol, or the EtherType equivalent of the NULL/LOOP
   * AF or raw version) of the network layer after VLAN/MPLS; -1 when none.
   * Below 0x0600 it is an 802.3 length field.
   */
  etherType = -1;
  /**
   * SLL/SLL2 ARPHRD type, NULL/LOOP address family (as read, after
   * byte-order fix), PPP protocol, 802.11 type and subtype (type << 4 |
   * subtype, Wireshark's wlan.fc.type_subtype); -1 otherwise.
   */
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
  /**
   * The L4 header is an ICMPv6 Redirect (NDP) with a Redirected Header
   * option (RFC 4861 4.6.3), whose quoted packet was decoded into `inner`.
   */
  redirectQuote = false;
  /**
   * Where the quoted bytes end (when `icmpError` or `redirectQuote`): the
   * outer datagram's `dataEnd`, or sooner: at the end of the Redirected
   * Header option, or at the original datagram length an RFC 4884 error
   * gives before its extension structure.
   */
  quoteEnd = 0;
  /** ICMP / ICMPv6 type and code (-1 when not ICMP or not captured). */
  icmpType = -1;
  icmpCode = -1;
  /**
   * The quoted IP header of an ICMP error or of an NDP Redirected Header
   * option (one level only; an error quoting an error is not looked into
   * further). Offsets are into the same buffer; its available bytes end at
   * `quoteEnd`. Meaningful only when `icmpError` or `redirectQuote` is set;
   * fresh (version 0) otherwise.
   */
  readonly inner = new IpInfo();
  /** Static reason when the quoted header is impossible (the outer packet is still fine); null otherwise. */
  innerUndecodable: string | null = null;

  /**
   * How many tunnels enclose this packet: 0 for the frame, 1 for the packet
   * a tunnel in it carries (its `payload`), and so on.
   */
  depth = 0;
  /**
   * The tunnel this packet's IP payload is (src/wire/tunnel.ts): kind
   * TUN_NONE when it is none, or tunnels are not looked into.
   */
  readonly tunnel = new TunnelInfo();
  /**
   * The packet the tunnel carries, decoded as a frame of the tunnel's
   * payload link type (its offsets in the same buffer, its `capEnd` the
   * tunnel's captured end), or null: no tunnel, a payload not read
   * (`tunnel.payloadLink` -1), or none captured. An impossible header or
   * tunnel inside it makes this packet `undecodable` too (the reason and
   * offset are the inner one's): the whole frame passes unchanged.
   */
  payload: DecodeResult | null = null;

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
    this.unreadPpiLink = -1;
    this.unknownProtocol = false;
    this.undecodable = null;
    this.undecodableOff = -1;
    this.srcMacOff = -1;
    this.dstMacOff = -1;
    this.wlanOff = -1;
    if (this.fcsLen !== 0) {
      this.fcsLen = 0;
      this.fcsOff = -1;
      this.fcsCoverOff = -1;
      this.fcsPadOff = -1;
      this.fcsPadLen = 0;
    }
    this.wlanBody = 0;
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
    this.redirectQuote = false;
    this.quoteEnd = 0;
    this.icmpType = -1;
    this.icmpCode = -1;
    // `inner` is touched only when a quote is decoded, which sets its `off` first.
    if (this.inner.off !== -1) this.inner.reset();
    this.innerUndecodable = null;
    if (this.tunnel.off !== -1) this.tunnel.reset();
    this.payload = null;
  }

  /** The innermost packet: this one, or its tunnel's payload's innermost. */
  innermost(): DecodeResult {
    let d: DecodeResult = this;
    while (d.payload !== null) d = d.payload;
    return d;
  }
}

/** The decoder `decodesLinkType` asks, made at its first question. */
let linkProbe: PacketDecoder | null = null;
const NO_BYTES = new Uint8Array(0);

/**
 * Whether the decoder reads packets of `linkType` (packets of any other pass
 * unchanged, unchecked: capture.unsupported-link). Asked of `decode`'s own
 * switch, the one list of the link types decoded: a frame of no bytes stops
 * at its first header, cut (`headerCut`), unless the switch has no case for
 * the link type (`unknownLink`).
 */
export function decodesLinkType(linkType: number): boolean {
  linkProbe ??= new PacketDecoder();
  return !linkProbe.decode(NO_BYTES, 0, 0, 0, linkType).unknownLink;
}

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

export class PacketDecoder {
  /** The reused result of `decode`. */
  readonly result = new DecodeResult();
  private readonly views = new ViewCache();
  /** The EtherType `wlan` found in the LLC/SNAP header. */
  private wlanEtherType = -1;
  /** Look into tunnels (--tunnels on): on unless a caller turns it off. */
  tunnels = true;
  /** UDP port -> tunnel kind (src/wire/tunnel.ts; `tunnelPorts` adds VXLAN ports). */
  tunnelPorts: Uint8Array = DEFAULT_TUNNEL_PORTS;
  /** Looks into tunnels as `s` says (--tunnels, --vxlan-port). */
  setTunnels(s: TunnelSettings): void {
    this.tunnels = s.on;
    this.tunnelPorts = portsOf(s);
    this.maxTunnelDepth = s.maxDepth ?? MAX_TUNNEL_DEPTH;
  }

  /** Tunnels read inside one another, at most (--max-tunnel-depth). */
  maxTunnelDepth = MAX_TUNNEL_DEPTH;

  /** The decoder of the packet a tunnel carries, made at the first tunnel. */
  private sub: PacketDecoder | null = null;
  /** The buffer of the frame being decoded (for the sub-decoder). */
  private bytes: Uint8Array = NO_BYTES;

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
  decode(buf: Uint8Array, off: number, capLen: number, origLen: number, linkType: number, depth = 0): DecodeResult {
    const r = this.result;
    r.reset(linkType, off, capLen, origLen);
    r.depth = depth;
    this.bytes = buf;
    const v = this.viewOf(buf);
    let capEnd = r.capEnd;
    let cur = off;
    let et = -1;
    // An 802.11 frame behind its radio header: where it starts, and radiotap's flags (FCS, data padding).
    let wlanAt = -1;
    let wlanFlags = 0;
    switch (linkType) {
      case raw.LINKTYPE_ETHERNET:
        et = this.ethernet(v, cur);
        if (et < 0) return r;
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
        et = ppp.etherTypeOf(pr & 0xffff);
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
      case ieee.LINKTYPE_IEEE802_11:
        wlanAt = cur;
        break;
      case ieee.LINKTYPE_IEEE802_11_RADIOTAP: {
        const len = this.versionedRadioHeader(v, cur, ieee.ERR_RADIOTAP_VERSION, ieee.ERR_RADIOTAP_LEN);
        if (len < 0) return r;
        wlanFlags = ieee.radiotapFlags(v, cur, len);
        if (wlanFlags < 0) return this.bad(ieee.ERR_RADIOTAP_LEN, cur);
        wlanAt = cur + len;
        break;
      }
      case ieee.LINKTYPE_PPI: {
        const len = this.versionedRadioHeader(v, cur, ieee.ERR_PPI_VERSION, ieee.ERR_PPI_LEN);
        if (len < 0) return r;
        const dlt = v.getUint32(cur + ieee.PPI_DLT, true);
        if (dlt === ieee.LINKTYPE_IEEE802_11) {
          if ((ieee.ppiCommonFlags(v, cur, len) & ieee.PPI_COMMON_FLAG_FCS) !== 0) wlanFlags = ieee.RT_FLAG_FCS;
          wlanAt = cur + len;
          break;
        }
        if (dlt !== raw.LINKTYPE_ETHERNET) {
          r.unknownLink = true;
          r.unreadPpiLink = dlt;
          return r;
        }
        et = this.ethernet(v, cur + len);
        if (et < 0) return r;
        cur += len + eth.HEADER_LEN;
        break;
      }
      case ieee.LINKTYPE_PRISM:
      case ieee.LINKTYPE_IEEE802_11_AVS: {
        if (cur + 4 > capEnd) return this.cut();
        let len: number;
        if (linkType === ieee.LINKTYPE_IEEE802_11_AVS || ((v.getUint32(cur + ieee.AVS_VERSION) & ieee.AVS_COOKIE_MASK) >>> 0) === ieee.AVS_COOKIE_BASE) {
          if (cur + ieee.AVS_MIN_LEN > capEnd) return this.cut();
          len = this.radioHeader(cur, v.getUint32(cur + ieee.AVS_LEN), ieee.AVS_MIN_LEN, ieee.ERR_AVS_LEN);
        } else {
          const code = v.getUint32(cur, true);
          // Neither Prism nor AVS: a bare 802.11 frame (as Wireshark takes it).
          len = code === ieee.PRISM_MSGCODE_1 || code === ieee.PRISM_MSGCODE_2 ? this.radioHeader(cur, ieee.PRISM_HEADER_LEN, 0, ieee.ERR_AVS_LEN) : 0;
        }
        if (len < 0) return r;
        wlanAt = cur + len;
        break;
      }
      default:
        r.unknownLink = true;
        return r;
    }
    if (wlanAt >= 0) {
      cur = this.wlan(v, wlanAt, wlanFlags);
      if (cur < 0) return r;
      et = this.wlanEtherType;
    }
    r.linkHeaderLen = cur - off;
    capEnd = r.capEnd; // an FCS (802.11) ends the network layer's bytes before it

    // VLAN tags (any TPID order) and LLC/SNAP headers (802.3 length frames, SLL's 802.2 protocol), then MPLS.
    for (;;) {
      if (eth.isVlanTpid(et)) {
        if (r.vlanCount >= eth.MAX_VLAN_TAGS) return this.bad(eth.ERR_VLAN_DEPTH, cur);
        if (cur + eth.VLAN_TAG_LEN > capEnd) return this.cut();
        r.vlanTpids[r.vlanCount] = et;
        r.vlanIds[r.vlanCount] = v.getUint16(cur + eth.VLAN_TCI) & eth.VLAN_VID_MASK;
        r.vlanCount++;
        et = v.getUint16(cur + eth.VLAN_ETHERTYPE);
        cur += eth.VLAN_TAG_LEN;
      } else if (et >= 0 && et < eth.ETHERTYPE_MIN) {
        // An 802.3 length (or SLL's ETH_P_802_2): an LLC header follows.
        const pid = llc.readSnap(v, cur, capEnd);
        if (pid === llc.SNAP_CUT && cur + llc.SNAP_HEADER_LEN <= r.frameEnd) return this.cut();
        if (pid < eth.ETHERTYPE_MIN) return this.other(et, cur);
        et = pid;
        cur += llc.SNAP_HEADER_LEN;
      } else {
        break;
      }
    }
    if (et === ppp.ETHERTYPE_PPPOE_SESSION) {
      // PPPoE session stage: 6-byte header, then PPP.
      if (cur + ppp.PPPOE_HEADER_LEN > capEnd) return this.cut();
      const pr = ppp.readProtocol(v, cur + ppp.PPPOE_HEADER_LEN, capEnd);
      if (pr < 0) return this.cut();
      const next = ppp.etherTypeOf(pr & 0xffff);
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
    if (et === eth.ETHERTYPE_ARP || et === eth.ETHERTYPE_RARP) {
      r.net = NET_ARP;
      if (cur + arp.FIXED_LEN > capEnd) r.headerCut = true;
      return r;
    }
    return this.other(et, cur);
  }

  /**
   * The 802.11 frame at `at` (after its radio header; `flags` as radiotap's:
   * RT_FLAG_FCS the frame ends with an FCS, RT_FLAG_DATAPAD its body is
   * padded to 4 bytes): sets the MAC address offsets, the FCS and the body, and
   * returns the offset after the LLC/SNAP header, its EtherType in
   * `wlanEtherType`. Returns -1 when the result is final (not a data frame
   * we read, cut, or impossible).
   */
  private wlan(v: DataView, at: number, flags: number): number {
    const r = this.result;
    if ((flags & ieee.RT_FLAG_FCS) !== 0) {
      const fe = r.frameEnd - ieee80211FcsLen;
      if (fe < at) return this.fail(this.bad(ieee.ERR_WLAN_SHORT, at));
      r.fcsLen = ieee80211FcsLen;
      if (r.capEnd >= r.frameEnd) {
        r.fcsOff = fe;
        r.fcsCoverOff = at;
      }
      r.frameEnd = fe;
      if (r.capEnd > fe) r.capEnd = fe;
    }
    const capEnd = r.capEnd;
    if (at + 2 > capEnd) return this.fail(at + 2 > r.frameEnd ? this.bad(ieee.ERR_WLAN_SHORT, at) : this.cut());
    const fc = v.getUint8(at + ieee.FC);
    const fcFlags = v.getUint8(at + ieee.FC_FLAGS);
    const type = (fc >> 2) & 3;
    const subtype = fc >> 4;
    r.linkSubtype = (type << 4) | subtype;
    if ((fc & ieee.FC_VERSION_MASK) !== 0 || type !== ieee.TYPE_DATA) return this.fail(this.other(-1, at));
    const ds = fcFlags & (ieee.FLAG_TO_DS | ieee.FLAG_FROM_DS);
    const qos = (subtype & ieee.SUBTYPE_QOS) !== 0;
    const qosOff = at + ieee.DATA_HEADER_LEN + (ds === (ieee.FLAG_TO_DS | ieee.FLAG_FROM_DS) ? ieee.ADDR4_LEN : 0);
    let hl = qosOff - at;
    if (qos) hl += (fcFlags & ieee.FLAG_ORDER) !== 0 ? ieee.QOS_LEN + ieee.HTC_LEN : ieee.QOS_LEN;
    if (at + hl > capEnd) return this.fail(at + hl > r.frameEnd ? this.bad(ieee.ERR_WLAN_SHORT, at) : this.cut());
    // DA is address 1 unless the frame goes to the DS (then 3); SA is address 2 unless it comes from the DS (then 3, or 4 with both bits).
    r.wlanOff = at;
    r.dstMacOff = at + ((ds & ieee.FLAG_TO_DS) === 0 ? ieee.ADDR1 : ieee.ADDR3);
    r.srcMacOff = at + ((ds & ieee.FLAG_FROM_DS) === 0 ? ieee.ADDR2 : ds === ieee.FLAG_FROM_DS ? ieee.ADDR3 : ieee.ADDR4);
    const body = (flags & ieee.RT_FLAG_DATAPAD) !== 0 ? at + ((hl + 3) & ~3) : at + hl;
    if (body !== at + hl && r.fcsOff >= 0) {
      r.fcsPadOff = at + hl;
      r.fcsPadLen = body - (at + hl);
    }
    r.linkHeaderLen = body - r.off;
    if ((subtype & ieee.SUBTYPE_NO_DATA) !== 0 || (fcFlags & ieee.FLAG_PROTECTED) !== 0) return this.fail(this.other(-1, body));
    const fragment = v.getUint16(at + ieee.SEQ_CTL, true) & ieee.SEQ_FRAGMENT_MASK;
    if ((fcFlags & ieee.FLAG_MORE_FRAGMENTS) !== 0 || fragment !== 0) {
      if (fragment === 0) r.wlanBody = ieee.WLAN_BODY_FIRST_FRAGMENT;
      return this.fail(this.other(-1, body));
    }
    if (qos && (v.getUint8(qosOff) & ieee.QOS_AMSDU) !== 0) {
      r.wlanBody = ieee.WLAN_BODY_AMSDU;
      return this.fail(this.other(-1, body));
    }
    const pid = llc.readSnap(v, body, capEnd);
    if (pid === llc.SNAP_CUT && body + llc.SNAP_HEADER_LEN <= r.frameEnd) return this.fail(this.cut());
    if (pid < eth.ETHERTYPE_MIN) return this.fail(this.other(-1, body));
    this.wlanEtherType = pid;
    return body + llc.SNAP_HEADER_LEN;
  }

  /** The Ethernet header at `cur`: its MAC offsets, and its EtherType; -1 with the result final when it is cut. */
  private ethernet(v: DataView, cur: number): number {
    const r = this.result;
    if (cur + eth.HEADER_LEN > r.capEnd) return this.fail(this.cut());
    r.dstMacOff = cur + eth.DST_MAC;
    r.srcMacOff = cur + eth.SRC_MAC;
    return v.getUint16(cur + eth.ETHERTYPE);
  }

  /**
   * A radio header of `len` bytes at `cur` (at least `min`; the caller read
   * its length field): returns `len`, or -1 with the result final when the
   * length is impossible (too short, past the frame) or cut by the capture.
   */
  private radioHeader(cur: number, len: number, min: number, errLen: string): number {
    const r = this.result;
    if (len < min) this.bad(errLen, cur);
    else if (cur + len > r.frameEnd) this.bad(ieee.ERR_RADIO_HEADER_PAST_FRAME, cur);
    else if (cur + len > r.capEnd) this.cut();
    else return len;
    return -1;
  }

  /** A radiotap or PPI header at `cur` (they begin alike: ieee80211.RADIO_*): its length, or -1 with the result final. */
  private versionedRadioHeader(v: DataView, cur: number, errVersion: string, errLen: string): number {
    if (cur + ieee.RADIO_MIN_LEN > this.result.capEnd) return this.fail(this.cut());
    if (v.getUint8(cur + ieee.RADIO_VERSION) !== 0) return this.fail(this.bad(errVersion, cur));
    return this.radioHeader(cur, v.getUint16(cur + ieee.RADIO_LEN, true), ieee.RADIO_MIN_LEN, errLen);
  }

  /** For `wlan`: the result is final. */
  private fail(_: DecodeResult): number {
    return -1;
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
    if (this.tunnels) {
      const p = ip.proto;
      if (p === IPPROTO_UDP || p === IPPROTO_GRE || p === IPPROTO_IPIP || p === IPPROTO_IPV6) this.tunnel(v, ip);
      if (r.tunnel.kind !== TUN_NONE) return r;
    }
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
          this.quote(v, q, this.rfc4884End(v, isIcmp4, type, l4, q, ip.dataEnd));
        }
      } else if (isIcmp6 && type === icmpv6.REDIRECT) {
        this.redirectedHeader(v, l4, ip.dataEnd);
      }
    }
    return r;
  }

  /**
   * A tunnel in the IP payload of `ip` (UDP on a tunnel port, GRE, IP-in-IP):
   * its header into `tunnel`, its payload decoded by the sub-decoder into
   * `payload`. An impossible tunnel header, one nested past
   * MAX_TUNNEL_DEPTH, or an impossible header inside makes the packet
   * undecodable.
   */
  private tunnel(v: DataView, ip: IpInfo): void {
    const r = this.result;
    const t = r.tunnel;
    // A first fragment: its datagram goes on in other frames, so no length is known to be short.
    const err = findTunnel(v, ip.proto, ip.l4Off, ip.dataEnd, ip.isFragment ? 0x7fffffff : ip.end, this.tunnelPorts, t);
    if (err !== null) {
      this.badTunnel(err, t.off);
      return;
    }
    // The payload's captured end (payloadEnd is within the datagram).
    const stop = t.payloadEnd < ip.dataEnd ? t.payloadEnd : ip.dataEnd;
    if (t.kind === TUN_NONE || t.payloadLink < 0 || t.payloadOff >= stop) return;
    if (r.depth >= this.maxTunnelDepth) {
      this.badTunnel(ERR_TUNNEL_DEPTH, t.off);
      return;
    }
    const sub = (this.sub ??= new PacketDecoder());
    sub.tunnels = true;
    sub.tunnelPorts = this.tunnelPorts;
    sub.maxTunnelDepth = this.maxTunnelDepth;
    const p = sub.decode(this.bytes, t.payloadOff, stop - t.payloadOff, t.payloadEnd - t.payloadOff, t.payloadLink, r.depth + 1);
    r.payload = p;
    if (p.undecodable !== null) this.badTunnel(p.undecodable, p.undecodableOff);
  }

  /** An impossible tunnel (or a header inside one): the packet is undecodable, its outer headers still decoded. */
  private badTunnel(reason: string, at: number): void {
    const r = this.result;
    r.undecodable = reason;
    r.undecodableOff = at;
  }

  /**
   * The end of an ICMP error's quote. RFC 4884: in ICMPv4 types 3, 11, 12
   * (length in 32-bit words at offset 5) and ICMPv6 types 1 and 3 (in 64-bit
   * words at offset 4), a non-zero length is where the original datagram,
   * cut or zero-padded, ends and an extension structure begins. Taken, as
   * Wireshark takes it, when the message is longer than that and the quoted
   * datagram's own length is too.
   */
  private rfc4884End(v: DataView, isV4: boolean, type: number, l4: number, q: number, end: number): number {
    let n = 0;
    if (isV4) {
      if (type === icmp.DEST_UNREACHABLE || type === icmp.TIME_EXCEEDED || type === icmp.PARAMETER_PROBLEM) n = v.getUint8(l4 + icmp.LENGTH) << 2;
    } else if (type === icmpv6.DEST_UNREACHABLE || type === icmpv6.TIME_EXCEEDED) {
      n = v.getUint8(l4 + icmpv6.LENGTH) << 3;
    }
    if (n === 0 || q + n >= end || q + 8 > end) return end;
    const quoted = isV4 ? v.getUint16(q + ipv4.TOTAL_LEN) : v.getUint16(q + ipv6.PAYLOAD_LEN) + ipv6.HEADER_LEN;
    return quoted > n ? q + n : end;
  }

  /** Decodes the packet quoted at `q` (its bytes end at `end`) into `inner`. */
  private quote(v: DataView, q: number, end: number): void {
    const r = this.result;
    r.quoteEnd = end;
    const nib = v.getUint8(q) >> 4;
    const inner = r.inner; // fresh: decode() began with reset()
    let e: string | null;
    if (nib === 4) e = decodeIpv4(v, q, end, end, inner);
    else if (nib === 6) e = decodeIpv6(v, q, end, end, inner);
    else e = ERR_QUOTE_VERSION;
    // A quoted datagram is longer than its quote: that is normal, not a lying length.
    inner.lengthExceedsFrame = false;
    if (e !== null) {
      r.innerUndecodable = e;
      inner.version = 0;
    }
  }

  /** An NDP Redirect's options: the first Redirected Header option's quote, if any, into `inner`. */
  private redirectedHeader(v: DataView, l4: number, end: number): void {
    let p = l4 + icmpv6.REDIRECT_OPTIONS;
    while (p + icmpv6.OPT_HEADER_LEN <= end) {
      const len = v.getUint8(p + icmpv6.OPT_LEN) << 3;
      if (len === 0) return; // invalid (RFC 4861 4.6): nothing after it can be found
      if (v.getUint8(p + icmpv6.OPT_TYPE) === icmpv6.OPT_REDIRECTED_HEADER) {
        const q = p + icmpv6.REDIRECTED_HEADER_DATA;
        const qe = p + len < end ? p + len : end;
        if (q < qe) {
          this.result.redirectQuote = true;
          this.quote(v, q, qe);
        }
        return;
      }
      p += len;
    }
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
