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

export function isIcmpv6Error(type: number): boolean {
  return type >= DEST_UNREACHABLE && type <= PARAMETER_PROBLEM;
}
