/** DCCP (RFC 4340, IP protocol 33). Checksum covers the pseudo-header (coverage CsCov at offset 5, low nibble). */
export const SRC_PORT = 0;
export const DST_PORT = 2;
export const DATA_OFF = 4;
export const CCVAL_CSCOV = 5;
export const CHECKSUM = 6;
export const MIN_HEADER_LEN = 12;
