/**
 * Linux cooked capture v1 (LINKTYPE_LINUX_SLL = 113): 16-byte header.
 * The protocol field is an EtherType unless the ARPHRD type says otherwise.
 */
export const LINKTYPE_LINUX_SLL = 113;
export const PACKET_TYPE = 0;
export const ARPHRD_TYPE = 2;
export const ADDR_LEN = 4;
export const ADDR = 6; // 8 bytes
export const PROTOCOL = 14;
export const HEADER_LEN = 16;

/** ARPHRD_ETHER: the link-layer address is an Ethernet MAC. */
export const ARPHRD_ETHER = 1;
/** ARPHRD types whose protocol field is not an EtherType. */
export const ARPHRD_NETLINK = 824;
export const ARPHRD_IEEE80211_RADIOTAP = 803;
export const ARPHRD_FRAD = 770;

/** SLL/SLL2 ARPHRD types whose protocol field is not an EtherType (the payload is then not decoded). */
export function protocolIsNotEtherType(arphrd: number): boolean {
  return arphrd === ARPHRD_NETLINK || arphrd === ARPHRD_IEEE80211_RADIOTAP || arphrd === ARPHRD_FRAD;
}
