/**
 * IP protocol numbers and `IpInfo`, the preallocated description of one IP
 * header (outer packet or the packet quoted in an ICMP error) that the IPv4
 * and IPv6 decoders fill. All offsets are absolute indexes into the buffer
 * given to `PacketDecoder.decode`; -1 means "absent / not known".
 */

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IGMP = 2;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_DCCP = 33;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_GRE = 47;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_SCTP = 132;
export const IPPROTO_UDPLITE = 136;

/** Most extension headers (IPv6) / AH headers (IPv4) walked before the packet is called undecodable. */
export const MAX_EXTENSION_HEADERS = 16;

export class IpInfo {
  /** 4 or 6 once a header was recognised; 0 otherwise. */
  version = 0;
  /** First byte of the IP header. */
  off = -1;
  /** True when the fixed header (20 bytes IPv4 incl. options / 40 bytes IPv6) is inside the captured bytes. */
  headerCaptured = false;
  /** IPv4: IHL*4. IPv6: 40. */
  headerLen = 0;
  /** Source address offset (4 or 16 bytes); may extend past the captured bytes when `headerCaptured` is false. */
  srcOff = -1;
  /** Destination address offset in the IP header. */
  dstOff = -1;
  /**
   * Offset of the destination address used in the L4 pseudo-header: `dstOff`,
   * or the final destination in an IPv6 routing header with segments left > 0
   * (RFC 8200 8.1) or an unexhausted IPv4 LSRR/SSRR option (RFC 9293 3.1).
   * It may lie past the captured bytes.
   */
  pseudoDstOff = -1;
  /**
   * Declared end of the datagram: off + total length (IPv4) or off + 40 +
   * payload length (IPv6). For an IPv4 total length of 0 (TSO) or an IPv6
   * jumbogram it is the end of the frame (original length). May exceed the
   * captured bytes (snaplen, or a quote inside an ICMP error).
   */
  end = 0;
  /** min(end, end of available bytes): bytes past it are link padding (or not captured) and are never touched. */
  dataEnd = 0;
  /** The declared end lies past the frame's original length (a lying length field; only set for the outer packet). */
  lengthExceedsFrame = false;
  /** IPv4 total length was 0, or IPv6 payload length 0 before TCP (TSO/GSO capture): `end` is the frame's end. */
  zeroLength = false;
  /** IPv6 payload length 0 with a hop-by-hop header: jumbogram; `end` is the frame's end. */
  jumbo = false;
  /**
   * Upper-layer protocol: IPv4 protocol field, or the next header after the
   * IPv4 AH / IPv6 extension headers. When the IPv6 walk stopped early (an
   * extension header not captured) it is the type of that extension header.
   */
  proto = -1;
  /** First byte after the IP header and the extension headers walked; -1 when not reached. */
  payloadOff = -1;
  /**
   * Offset of the upper-layer header when this packet carries it: first (or
   * only) fragment and every extension header walked. -1 otherwise (later
   * fragment, walk stopped by the capture end, ESP).
   */
  l4Off = -1;
  /** Fragment: true when offset > 0 or more-fragments is set (IPv4 flags or an IPv6 fragment header). */
  isFragment = false;
  /** Fragment offset in bytes. */
  fragOffset = 0;
  moreFragments = false;
  dontFragment = false;
  /** IPv4 identification (16 bits) or IPv6 fragment header identification (32 bits). */
  fragId = 0;
  /** IPv6 fragment header offset, -1 if none. */
  fragHeaderOff = -1;
  /** IPv6 routing header offset, -1 if none; its type and segments left. */
  routingOff = -1;
  routingType = -1;
  segmentsLeft = 0;
  /** AH header offset, -1 if none. */
  ahOff = -1;
  /** Number of IPv6 extension headers walked. */
  extCount = 0;

  reset(): void {
    this.version = 0;
    this.off = -1;
    this.headerCaptured = false;
    this.headerLen = 0;
    this.srcOff = -1;
    this.dstOff = -1;
    this.pseudoDstOff = -1;
    this.end = 0;
    this.dataEnd = 0;
    this.lengthExceedsFrame = false;
    this.zeroLength = false;
    this.jumbo = false;
    this.proto = -1;
    this.payloadOff = -1;
    this.l4Off = -1;
    this.isFragment = false;
    this.fragOffset = 0;
    this.moreFragments = false;
    this.dontFragment = false;
    this.fragId = 0;
    this.fragHeaderOff = -1;
    this.routingOff = -1;
    this.routingType = -1;
    this.segmentsLeft = 0;
    this.ahOff = -1;
    this.extCount = 0;
  }
}
