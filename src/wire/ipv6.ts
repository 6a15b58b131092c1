/**
 * IPv6 header (RFC 8200) and the extension-header walk. Field map as byte
 * offsets from the start of the header.
 */
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ROUTING,
  IPPROTO_TCP,
  MAX_EXTENSION_HEADERS,
  type IpInfo,
} from './ip.js';
import * as tcp from './tcp.js';

export const VER_TC_FLOW = 0;
export const PAYLOAD_LEN = 4;
export const NEXT_HEADER = 6;
export const HOP_LIMIT = 7;
export const SRC_ADDR = 8;
export const DST_ADDR = 24;
export const HEADER_LEN = 40;

/** Generic extension header: next header at 0, length in 8-byte units (minus 1) at 1. */
export const EXT_NEXT = 0;
export const EXT_LEN = 1;
/** Routing header (RFC 8200 4.4): type at 2, segments left at 3, type-specific data at 8. */
export const RH_TYPE = 2;
export const RH_SEGMENTS_LEFT = 3;
export const RH_DATA = 8;
export const RH_TYPE0 = 0; // deprecated source route (RFC 5095): addresses[n], final = last
export const RH_TYPE2 = 2; // Mobile IPv6 (RFC 6275): one home address
export const RH_SRH = 4; // Segment Routing (RFC 8754): segment list reversed, final = list[0]
/** Segment routing header (RFC 8754): its last entry's index at byte 4. */
export const SRH_LAST_ENTRY = 4;
/** Fragment header (RFC 8200 4.5): 8 bytes; offset+flags at 2, identification at 4. */
export const FRAG_OFF_FLAGS = 2;
export const FRAG_IDENT = 4;
export const FRAG_HEADER_LEN = 8;

export const ERR_V6_VERSION = 'ipv6: version is not 6';
export const ERR_V6_EXT_LEN = 'ipv6: extension header runs past the payload length';
export const ERR_V6_EXT_DEPTH = 'ipv6: too many extension headers';

/**
 * Decodes the IPv6 header at `off` and walks its extension headers (hop-by-hop,
 * routing, fragment, destination options, AH; at most MAX_EXTENSION_HEADERS).
 * Same contract as `decodeIpv4`: a header cut by `capEnd` is not an error;
 * an extension header past the declared payload length is.
 */
export function decodeIpv6(v: DataView, off: number, capEnd: number, frameEnd: number, ip: IpInfo): string | null {
  ip.off = off;
  ip.srcOff = off + SRC_ADDR;
  ip.dstOff = off + DST_ADDR;
  ip.pseudoDstOff = ip.dstOff;
  if (off >= capEnd) return null;
  if (v.getUint8(off) >> 4 !== 6) return ERR_V6_VERSION;
  ip.version = 6;
  ip.headerLen = HEADER_LEN;
  if (off + HEADER_LEN > capEnd) {
    if (off + NEXT_HEADER + 1 <= capEnd) {
      const pl = v.getUint16(off + PAYLOAD_LEN);
      ip.end = off + HEADER_LEN + pl;
      ip.dataEnd = ip.end < capEnd ? ip.end : capEnd;
      ip.proto = v.getUint8(off + NEXT_HEADER);
    }
    return null;
  }
  ip.headerCaptured = true;
  const pl = v.getUint16(off + PAYLOAD_LEN);
  let next = v.getUint8(off + NEXT_HEADER);
  if (pl === 0 && next === IPPROTO_HOPOPTS) {
    ip.jumbo = true;
    ip.end = frameEnd > off + HEADER_LEN ? frameEnd : off + HEADER_LEN;
  } else if (pl === 0 && next === IPPROTO_TCP && frameEnd >= off + HEADER_LEN + tcp.MIN_HEADER_LEN) {
    // TSO: Linux's tcp_v6_gso_csum_prep clears the payload length (as Windows LSOv2 does); the segment is the
    // frame's (Wireshark's ipv6.tso_support, off by default there). Only TCP, which cannot be empty.
    ip.zeroLength = true;
    ip.end = frameEnd;
  } else {
    ip.end = off + HEADER_LEN + pl;
    if (ip.end > frameEnd) ip.lengthExceedsFrame = true;
  }
  ip.dataEnd = ip.end < capEnd ? ip.end : capEnd;
  let cur = off + HEADER_LEN;
  for (;;) {
    if (next !== IPPROTO_HOPOPTS && next !== IPPROTO_ROUTING && next !== IPPROTO_FRAGMENT && next !== IPPROTO_DSTOPTS && next !== IPPROTO_AH) break;
    if (ip.extCount >= MAX_EXTENSION_HEADERS) return ERR_V6_EXT_DEPTH;
    ip.extCount++;
    if (cur + 2 > ip.dataEnd) {
      // cut by the capture (or the quote): stop, the L4 header is not reached
      if (cur + 2 > ip.end) return ERR_V6_EXT_LEN;
      ip.proto = next;
      return null;
    }
    let len: number;
    if (next === IPPROTO_FRAGMENT) len = FRAG_HEADER_LEN;
    else if (next === IPPROTO_AH) len = (v.getUint8(cur + EXT_LEN) + 2) << 2;
    else len = (v.getUint8(cur + EXT_LEN) + 1) << 3;
    if (cur + len > ip.end) return ERR_V6_EXT_LEN;
    if (cur + len > capEnd) {
      ip.proto = next;
      return null;
    }
    if (next === IPPROTO_ROUTING) {
      if (ip.routingOff < 0) {
        ip.routingOff = cur;
        ip.routingType = v.getUint8(cur + RH_TYPE);
        ip.segmentsLeft = v.getUint8(cur + RH_SEGMENTS_LEFT);
        if (ip.segmentsLeft > 0) {
          const dataLen = len - RH_DATA;
          if (ip.routingType === RH_TYPE0 && dataLen >= 16) ip.pseudoDstOff = cur + RH_DATA + (((dataLen >> 4) - 1) << 4);
          else if ((ip.routingType === RH_TYPE2 || ip.routingType === RH_SRH) && dataLen >= 16) ip.pseudoDstOff = cur + RH_DATA;
          // other types (RPL 3, compressed): the final destination cannot be read; keep dstOff
        }
      }
    } else if (next === IPPROTO_FRAGMENT) {
      if (ip.fragHeaderOff < 0) {
        ip.fragHeaderOff = cur;
        const fo = v.getUint16(cur + FRAG_OFF_FLAGS);
        ip.fragOffset = fo & 0xfff8;
        ip.moreFragments = (fo & 1) !== 0;
        ip.fragId = v.getUint32(cur + FRAG_IDENT);
        ip.isFragment = true;
      }
    } else if (next === IPPROTO_AH) {
      if (ip.ahOff < 0) ip.ahOff = cur;
    }
    next = v.getUint8(cur + EXT_NEXT);
    cur += len;
    if (ip.fragOffset !== 0) {
      // a later fragment: what follows is payload, not headers
      ip.proto = next;
      ip.payloadOff = cur;
      return null;
    }
  }
  ip.proto = next;
  ip.payloadOff = cur;
  ip.l4Off = cur;
  return null;
}
