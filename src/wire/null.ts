/**
 * BSD loopback encapsulations: LINKTYPE_NULL (0), a 4-byte address family in
 * the capturing host's byte order (both orders accepted, like Wireshark: a
 * value with high bits set is byte-swapped), and LINKTYPE_LOOP (108), the
 * same in network byte order (OpenBSD).
 */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_LOOP = 108;
export const HEADER_LEN = 4;
export const AF_INET = 2;
/** AF_INET6 differs by OS: 24 (NetBSD/OpenBSD/BSD/OS), 28 (FreeBSD), 30 (macOS/Darwin); 10 is Linux. */
export const AF_INET6_BSD = 24;
export const AF_INET6_FREEBSD = 28;
export const AF_INET6_DARWIN = 30;
export const AF_INET6_LINUX = 10;

export function isAfInet6(af: number): boolean {
  return af === AF_INET6_BSD || af === AF_INET6_FREEBSD || af === AF_INET6_DARWIN;
}
