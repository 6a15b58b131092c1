/**
 * Ethernet II / 802.3 (LINKTYPE_ETHERNET = 1) and 802.1Q / 802.1ad / QinQ tags.
 * EtherType values are plain numbers; unknown ones pass through as data.
 */
export const DST_MAC = 0;
export const SRC_MAC = 6;
export const ETHERTYPE = 12;
export const HEADER_LEN = 14;
export const MAC_LEN = 6;
/** The I/G bit of a MAC's first byte: set for group (multicast and broadcast) addresses. */
export const GROUP_BIT = 0x01;

/** A 802.1Q tag: TCI at 0 (PCP 3 bits, DEI 1, VID 12), then the inner EtherType at 2. */
export const VLAN_TCI = 0;
export const VLAN_ETHERTYPE = 2;
export const VLAN_TAG_LEN = 4;
export const VLAN_VID_MASK = 0x0fff;
/** Most VLAN tags walked before the frame is called undecodable. */
export const MAX_VLAN_TAGS = 8;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_RARP = 0x8035;
export const ETHERTYPE_VLAN = 0x8100; // 802.1Q
export const ETHERTYPE_QINQ = 0x88a8; // 802.1ad
export const ETHERTYPE_QINQ_OLD = 0x9100; // pre-standard QinQ
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_MPLS = 0x8847;
export const ETHERTYPE_MPLS_MC = 0x8848;
/** Values below this are an 802.3 length, not an EtherType. */
export const ETHERTYPE_MIN = 0x0600;

export const ERR_VLAN_DEPTH = 'vlan: too many stacked tags';

export function isVlanTpid(t: number): boolean {
  return t === ETHERTYPE_VLAN || t === ETHERTYPE_QINQ || t === ETHERTYPE_QINQ_OLD;
}

/**
 * A first-hop redundancy protocol's virtual router MAC, which a router
 * answers ARP with for a shared address while its own traffic (the
 * protocol's advertisements included) leaves from its own MAC, or the other
 * way round: VRRP for IPv4 00:00:5e:00:01:VRID and for IPv6
 * 00:00:5e:00:02:VRID [RFC 5798 7.3], HSRP 00:00:0c:07:ac:GROUP and HSRPv2
 * 00:00:0c:9f:f0:00 to 00:00:0c:9f:ff:ff [RFC 2281 5.3; Cisco]. `hi` is the
 * MAC's first two bytes, `lo` its last four.
 */
export function isVirtualRouterMac(hi: number, lo: number): boolean {
  if (hi !== 0) return false;
  const top = lo >>> 8;
  return top === 0x5e0001 || top === 0x5e0002 || top === 0x0c07ac || lo >>> 12 === 0x0c9ff;
}
