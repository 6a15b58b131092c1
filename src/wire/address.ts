/**
 * Text forms of addresses, for annotations, reports and rule messages. They
 * allocate (strings): call them only when a message is being built, never
 * per packet.
 */
import ipaddr from 'ipaddr.js';

/** Dotted quad of an IPv4 address given as an unsigned 32-bit number. */
export function formatIpv4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** RFC 5952 text form of the 16 bytes at b[off..]. */
export function formatIpv6(b: Uint8Array, off: number): string {
  return formatAddress(b.subarray(off, off + 16));
}

/** An address of either family by its length: 4 bytes dotted quad, 16 bytes RFC 5952. */
export function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  return ipaddr.fromByteArray(Array.from(bytes)).toString();
}

/** "52:54:00:12:34:56" of a MAC address given as its high 16 and low 32 bits. */
export function formatMac(hi: number, lo: number): string {
  const b = [(hi >>> 8) & 255, hi & 255, (lo >>> 24) & 255, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
