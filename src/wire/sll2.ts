/**
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2 = 276): 20-byte header with the
 * protocol (EtherType) first.
 */
export const LINKTYPE_LINUX_SLL2 = 276;
export const PROTOCOL = 0;
export const RESERVED = 2;
export const INTERFACE_INDEX = 4;
export const ARPHRD_TYPE = 8;
export const PACKET_TYPE = 10;
export const ADDR_LEN = 11;
export const ADDR = 12; // 8 bytes
export const HEADER_LEN = 20;
