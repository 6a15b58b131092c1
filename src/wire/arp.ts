/**
 * ARP (RFC 826) and RARP (RFC 903, the same packet under EtherType 0x8035,
 * operations 3 and 4). RFC 826 is generic over the address lengths: after
 * the 8 fixed bytes come the sender hardware address (hlen bytes), sender
 * protocol address (plen), target hardware address (hlen), target protocol
 * address (plen). Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen
 * 4) has the fixed layout below; `senderProtocolOffset` and
 * `targetProtocolOffset` place the IPv4 addresses of any hardware type
 * (IEEE 802, InfiniBand's 20-byte addresses, ...). The translator rewrites
 * only those two protocol addresses, never hardware addresses.
 */
export const HTYPE = 0;
export const PTYPE = 2;
export const HLEN = 4;
export const PLEN = 5;
export const OPER = 6;
/** Fixed header before the variable addresses. */
export const FIXED_LEN = 8;
// The layout with 6-byte hardware and 4-byte protocol addresses (Ethernet/IPv4, and IEEE 802)
export const SHA = 8;
export const SPA = 14;
export const THA = 18;
export const TPA = 24;

export const HTYPE_ETHERNET = 1;
export const PTYPE_IPV4 = 0x0800;
export const HLEN_ETHERNET = 6;
export const PLEN_IPV4 = 4;
export const OP_REQUEST = 1;
export const OP_REPLY = 2;
/** RARP (RFC 903). */
export const OP_REVERSE_REQUEST = 3;
export const OP_REVERSE_REPLY = 4;

/**
 * The hardware address length of the ARP or RARP packet at `off` when its
 * protocol addresses are IPv4 and its fixed bytes are captured before `end`;
 * -1 for any other. HLEN_ETHERNET: the fixed layout above, of any hardware type.
 */
export function ipv4HardwareLen(v: DataView, off: number, end: number): number {
  if (off + FIXED_LEN > end || v.getUint16(off + PTYPE) !== PTYPE_IPV4 || v.getUint8(off + PLEN) !== PLEN_IPV4) return -1;
  return v.getUint8(off + HLEN);
}

/** Offset of the sender protocol address for hardware addresses of `hlen` bytes. */
export function senderProtocolOffset(hlen: number): number {
  return FIXED_LEN + hlen;
}

/** Offset of the target protocol address for hardware addresses of `hlen` bytes and protocol addresses of `plen`. */
export function targetProtocolOffset(hlen: number, plen: number): number {
  return FIXED_LEN + 2 * hlen + plen;
}

/** The packet's whole length by its own lengths: the fixed bytes and the four addresses. */
export function packetLength(hlen: number, plen: number): number {
  return FIXED_LEN + 2 * (hlen + plen);
}
