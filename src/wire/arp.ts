/**
 * ARP (RFC 826). Only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4)
 * has the fixed layout below; the translator rewrites only the two protocol
 * addresses of that form and never the hardware addresses.
 */
export const HTYPE = 0;
export const PTYPE = 2;
export const HLEN = 4;
export const PLEN = 5;
export const OPER = 6;
/** Fixed header before the variable addresses. */
export const FIXED_LEN = 8;
// Ethernet/IPv4 layout
export const SHA = 8;
export const SPA = 14;
export const THA = 18;
export const TPA = 24;
export const ETH_IPV4_LEN = 28;

export const HTYPE_ETHERNET = 1;
export const PTYPE_IPV4 = 0x0800;
export const HLEN_ETHERNET = 6;
export const PLEN_IPV4 = 4;
export const OP_REQUEST = 1;
export const OP_REPLY = 2;

/** True when the 6 fixed bytes at `off` (caller checked they are captured) say Ethernet/IPv4. */
export function isEthernetIpv4(v: DataView, off: number): boolean {
  return v.getUint16(off + HTYPE) === HTYPE_ETHERNET && v.getUint16(off + PTYPE) === PTYPE_IPV4 && v.getUint8(off + HLEN) === HLEN_ETHERNET && v.getUint8(off + PLEN) === PLEN_IPV4;
}
