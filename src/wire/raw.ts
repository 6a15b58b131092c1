/**
 * Raw IP link types: no link header, the IP version comes from the first
 * nibble. LINKTYPE_RAW is 101 in files; DLT_RAW appears as 12 (most
 * platforms) or 14 (OpenBSD) in pcap files written by old libpcaps.
 * LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229) fix the version.
 */
export const LINKTYPE_RAW = 101;
export const DLT_RAW_12 = 12;
export const DLT_RAW_14 = 14;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_ETHERNET = 1;
