/**
 * ICMPv6 (RFC 4443) and Neighbor Discovery (RFC 4861). The checksum covers the
 * IPv6 pseudo-header. Link-layer address options are never touched.
 */
export const TYPE = 0;
export const CODE = 1;
export const CHECKSUM = 2;
/** Echo request/reply (RFC 4443 4.1): identifier and sequence number. */
export const ECHO_ID = 4;
export const ECHO_SEQ = 6;
/** RFC 4884: types 1 and 3 give the quoted original packet's length (in 64-bit words) at offset 4; 0 when absent. */
export const LENGTH = 4;
/** Error messages (types 1-4) quote the offending packet from offset 8. */
export const QUOTE = 8;
export const HEADER_LEN = 8;

export const DEST_UNREACHABLE = 1;
export const PACKET_TOO_BIG = 2;
export const TIME_EXCEEDED = 3;
export const PARAMETER_PROBLEM = 4;
export const ECHO_REQUEST = 128;
export const ECHO_REPLY = 129;
export const ROUTER_SOLICITATION = 133;
export const ROUTER_ADVERTISEMENT = 134;
export const NEIGHBOR_SOLICITATION = 135;
export const NEIGHBOR_ADVERTISEMENT = 136;
export const REDIRECT = 137;

/** NS / NA / Redirect: target address at offset 8. */
export const NDP_TARGET = 8;
/** Redirect: destination address at offset 24. */
export const NDP_REDIRECT_DEST = 24;
/** Redirect: options from offset 40. */
export const REDIRECT_OPTIONS = 40;
/** NDP option (RFC 4861 4.6): type, length in 8-byte units (0 is invalid), data. */
export const OPT_TYPE = 0;
export const OPT_LEN = 1;
export const OPT_HEADER_LEN = 2;
/** Redirected Header option (type 4): 6 reserved bytes, then as much of the redirected packet as fits (RFC 4861 4.6.3). */
export const OPT_REDIRECTED_HEADER = 4;
export const REDIRECTED_HEADER_DATA = 8;

export function isIcmpv6Error(type: number): boolean {
  return type >= DEST_UNREACHABLE && type <= PARAMETER_PROBLEM;
}
