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
/** Source / Target Link-Layer Address options (types 1, 2): the address follows the option header; on Ethernet the option is 8 bytes (length 1) [RFC 4861 4.6.1, RFC 2464 6]. */
export const OPT_SOURCE_LINK_ADDR = 1;
export const OPT_TARGET_LINK_ADDR = 2;
export const OPT_LINK_ADDR = OPT_HEADER_LEN;

/** Where an NDP message's options begin (RS 8, RA 16, NS and NA 24, Redirect 40) [RFC 4861 4.1-4.5]; -1 for other types. */
export function ndpOptionsOffset(type: number): number {
  switch (type) {
    case ROUTER_SOLICITATION:
      return 8;
    case ROUTER_ADVERTISEMENT:
      return 16;
    case NEIGHBOR_SOLICITATION:
    case NEIGHBOR_ADVERTISEMENT:
      return 24;
    case REDIRECT:
      return REDIRECT_OPTIONS;
    default:
      return -1;
  }
}

export function isIcmpv6Error(type: number): boolean {
  return type >= DEST_UNREACHABLE && type <= PARAMETER_PROBLEM;
}
