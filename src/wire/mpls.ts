/**
 * MPLS label stack (RFC 3032): 4-byte entries, label 20 bits, TC 3, S
 * (bottom of stack) 1, TTL 8. After the bottom of stack there is no payload
 * type: like Wireshark, the first nibble guesses IPv4 (4) or IPv6 (6).
 */
export const ENTRY_LEN = 4;
export const BOS_BIT = 0x100;
export const MAX_LABELS = 16;
export const ERR_MPLS_DEPTH = 'mpls: no bottom of stack within 16 labels';

export function label(entry: number): number {
  return entry >>> 12;
}
