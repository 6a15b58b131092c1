/**
 * IPv4 header (RFC 791). Field map as byte offsets from the start of the header.
 */
import { IPPROTO_AH, MAX_EXTENSION_HEADERS, type IpInfo } from './ip.js';

export const VER_IHL = 0;
export const TOS = 1;
export const TOTAL_LEN = 2;
export const IDENT = 4;
export const FLAGS_FRAG = 6;
export const TTL = 8;
export const PROTOCOL = 9;
export const CHECKSUM = 10;
export const SRC_ADDR = 12;
export const DST_ADDR = 16;
export const MIN_HEADER_LEN = 20;

/** VER_IHL of a header without options: version 4, IHL 5. */
export const VER_IHL_NO_OPTIONS = 0x45;

export const FLAG_DF = 0x4000;
export const FLAG_MF = 0x2000;
export const FRAG_OFFSET_MASK = 0x1fff;

export const OPT_EOL = 0;
export const OPT_NOP = 1;
export const OPT_LSRR = 131;
export const OPT_SSRR = 137;
/** Record route (RFC 791): like the source routes, a pointer at 2 and addresses from ROUTE_DATA. */
export const OPT_RR = 7;
export const ROUTE_DATA = 3;
/** Timestamp (RFC 791): flags in the low nibble of byte 3; flags 1 and 3 hold (address, timestamp) pairs from TS_DATA. */
export const OPT_TS = 68;
export const TS_FLAGS = 3;
export const TS_DATA = 4;
export const TS_FLAG_ADDRESSES = 1;
export const TS_FLAG_PRESPECIFIED = 3;

/** AH (RFC 4302): next header at 0, payload length (in 4-byte units, minus 2) at 1. */
export const AH_NEXT = 0;
export const AH_LEN = 1;

export const ERR_V4_VERSION = 'ipv4: version is not 4';
export const ERR_V4_IHL = 'ipv4: header length (IHL) < 5';
export const ERR_V4_TOTAL_LEN = 'ipv4: total length < header length';
export const ERR_AH_LEN = 'ipsec-ah: header runs past the datagram';
export const ERR_AH_DEPTH = 'ipsec-ah: too many nested headers';

/**
 * Decodes the IPv4 header at `off` into `ip`. `capEnd` is the end of the
 * available bytes (captured, or the quote of an ICMP error), `frameEnd` the
 * end of the original frame (for a TSO zero length). Returns null, or a
 * static reason string when the header is impossible (the caller then leaves
 * the packet alone). A header cut by `capEnd` is not an error: the fields that
 * are available are set and `headerCaptured` stays false.
 */
export function decodeIpv4(v: DataView, off: number, capEnd: number, frameEnd: number, ip: IpInfo): string | null {
  ip.off = off;
  ip.srcOff = off + SRC_ADDR;
  ip.dstOff = off + DST_ADDR;
  ip.pseudoDstOff = ip.dstOff;
  if (off >= capEnd) return null;
  const vihl = v.getUint8(off);
  if (vihl >> 4 !== 4) return ERR_V4_VERSION;
  const hl = (vihl & 0x0f) << 2;
  if (hl < MIN_HEADER_LEN) return ERR_V4_IHL;
  ip.version = 4;
  ip.headerLen = hl;
  if (off + TOTAL_LEN + 2 > capEnd) return null;
  const total = v.getUint16(off + TOTAL_LEN);
  if (total === 0) {
    ip.zeroLength = true;
    ip.end = frameEnd;
  } else {
    if (total < hl) return ERR_V4_TOTAL_LEN;
    ip.end = off + total;
    if (ip.end > frameEnd) ip.lengthExceedsFrame = true;
  }
  ip.dataEnd = ip.end < capEnd ? ip.end : capEnd;
  if (off + FLAGS_FRAG + 2 > capEnd) return null;
  ip.fragId = v.getUint16(off + IDENT);
  const ff = v.getUint16(off + FLAGS_FRAG);
  ip.fragOffset = (ff & FRAG_OFFSET_MASK) << 3;
  ip.moreFragments = (ff & FLAG_MF) !== 0;
  ip.dontFragment = (ff & FLAG_DF) !== 0;
  ip.isFragment = ip.moreFragments || ip.fragOffset !== 0;
  if (off + hl > capEnd) return null;
  ip.headerCaptured = true;
  if (hl > MIN_HEADER_LEN) findSourceRoute(v, off, hl, ip);
  let proto = v.getUint8(off + PROTOCOL);
  let cur = off + hl;
  ip.payloadOff = cur;
  if (ip.fragOffset !== 0) {
    ip.proto = proto;
    return null;
  }
  // AH in IPv4 (RFC 4302): walk it so the transport checksum is found.
  for (let n = 0; proto === IPPROTO_AH; n++) {
    if (n >= MAX_EXTENSION_HEADERS) return ERR_AH_DEPTH;
    if (cur + 2 > ip.dataEnd) {
      ip.proto = proto;
      return null;
    }
    const len = (v.getUint8(cur + AH_LEN) + 2) << 2;
    if (cur + len > ip.end) return ERR_AH_LEN;
    if (ip.ahOff < 0) ip.ahOff = cur;
    proto = v.getUint8(cur + AH_NEXT);
    cur += len;
  }
  ip.proto = proto;
  ip.payloadOff = cur;
  ip.l4Off = cur;
  return null;
}

/**
 * The option iterator: the first option at or after `p` of the options that
 * end at `end` (NOPs skipped), as its offset (its type there, its length
 * at +1, within `end`), or -1 at the end of the list: an EOL, the end, or a
 * malformed length (nothing after it can be found). The next one is
 * `nextOption(v, p + length, end)`. No allocation.
 */
export function nextOption(v: DataView, p: number, end: number): number {
  while (p < end) {
    const t = v.getUint8(p);
    if (t === OPT_EOL) return -1;
    if (t === OPT_NOP) {
      p++;
      continue;
    }
    if (p + 2 > end) return -1;
    const len = v.getUint8(p + 1);
    return len < 2 || p + len > end ? -1 : p;
  }
  return -1;
}

/**
 * Walks the options for an unexhausted loose/strict source route: the TCP/UDP
 * pseudo-header then uses the route's last address (the final destination).
 * Malformed options stop the walk silently (they do not move addresses).
 */
function findSourceRoute(v: DataView, off: number, hl: number, ip: IpInfo): void {
  const end = off + hl;
  for (let p = nextOption(v, off + MIN_HEADER_LEN, end); p >= 0; p = nextOption(v, p + v.getUint8(p + 1), end)) {
    const t = v.getUint8(p);
    const len = v.getUint8(p + 1);
    if ((t === OPT_LSRR || t === OPT_SSRR) && len >= 7) {
      const ptr = v.getUint8(p + 2);
      // pointer is 1-based from the option start; routes exhausted when ptr > len
      if (ptr <= len) {
        const n = (len - 3) >> 2;
        if (n > 0) ip.pseudoDstOff = p + 3 + (n - 1) * 4;
      }
      return;
    }
  }
}
