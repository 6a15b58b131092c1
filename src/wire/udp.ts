/**
 * UDP (RFC 768) and UDP-Lite (RFC 3828, IP protocol 136): same 8-byte header;
 * in UDP-Lite the length field is the checksum coverage (0 = whole datagram).
 * Checksum rules the translator follows: UDP/IPv4 checksum 0 means "none" and
 * stays 0; UDP/IPv6 (mandatory, RFC 8200 8.1) and UDP-Lite (mandatory) keep a
 * 0 as it is for the verifier to report; a computed 0 is sent as 0xFFFF.
 */
export const SRC_PORT = 0;
export const DST_PORT = 2;
export const LENGTH = 4;
/** UDP-Lite: the length field's place holds the checksum coverage (0 = the whole datagram). */
export const COVERAGE = LENGTH;
export const CHECKSUM = 6;
export const HEADER_LEN = 8;
