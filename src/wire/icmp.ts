/**
 * ICMPv4 (RFC 792). The checksum covers the ICMP message only (no
 * pseudo-header), including the IP header + data quoted by error messages.
 */
export const TYPE = 0;
export const CODE = 1;
export const CHECKSUM = 2;
/** Redirect (RFC 792): the gateway the host should use instead, at offset 4. */
export const REDIRECT_GATEWAY = 4;
/** Echo request/reply (RFC 792): identifier and sequence number. */
export const ECHO_ID = 4;
export const ECHO_SEQ = 6;
/** RFC 4884: types 3, 11, 12 give the quoted original datagram's length (in 32-bit words) at offset 5; 0 when absent. */
export const LENGTH = 5;
/** Error messages quote the offending datagram from offset 8 (RFC 792, RFC 1812 4.3.2.3). */
export const QUOTE = 8;
export const HEADER_LEN = 8;
/** An error quotes at least the IP header and this many bytes of the datagram (RFC 792); of a Redirect's quote Wireshark reads no more. */
export const QUOTED_DATA = 8;

export const ECHO_REPLY = 0;
export const DEST_UNREACHABLE = 3;
export const SOURCE_QUENCH = 4;
export const REDIRECT = 5;
export const ECHO_REQUEST = 8;
export const TIME_EXCEEDED = 11;
export const PARAMETER_PROBLEM = 12;

/** True for the types that quote the offending IP header: 3, 4, 5, 11, 12. */
export function isIcmpError(type: number): boolean {
  return type === DEST_UNREACHABLE || type === SOURCE_QUENCH || type === REDIRECT || type === TIME_EXCEEDED || type === PARAMETER_PROBLEM;
}
