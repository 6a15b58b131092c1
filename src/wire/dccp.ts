/**
 * DCCP (RFC 4340, IP protocol 33). The checksum covers the pseudo-header, the
 * header and, by the coverage CsCov (low nibble at offset 5), all the data
 * (0) or the first (CsCov - 1) * 4 bytes of it (RFC 4340 9.2).
 */
export const SRC_PORT = 0;
export const DST_PORT = 2;
export const DATA_OFF = 4; // header length in 32-bit words
export const CCVAL_CSCOV = 5; // CCVal high nibble, CsCov low nibble
export const CHECKSUM = 6;
export const MIN_HEADER_LEN = 12;

export const CSCOV_MASK = 0x0f;
