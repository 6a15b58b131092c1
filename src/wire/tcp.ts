/** TCP (RFC 9293). The checksum covers the pseudo-header; 0 is a valid value and 0xFFFF is never substituted. */
export const SRC_PORT = 0;
export const DST_PORT = 2;
export const SEQ = 4;
export const ACK = 8;
export const DATA_OFF = 12; // high nibble: header length in 32-bit words
export const FLAGS = 13;
export const WINDOW = 14;
export const CHECKSUM = 16;
export const URGENT = 18;
export const MIN_HEADER_LEN = 20;
