/**
 * SCTP (RFC 9260, IP protocol 132). Its CRC32c checksum has no pseudo-header,
 * so address translation needs no change in SCTP.
 */
export const SRC_PORT = 0;
export const DST_PORT = 2;
export const VERIFICATION_TAG = 4;
export const CHECKSUM = 8; // CRC32c, 32 bits
export const HEADER_LEN = 12;
