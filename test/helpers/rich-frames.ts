/**
 * A handful of Ethernet frames that between them reach every address site
 * the translator knows (all K_* kinds) and the decoder's deeper branches:
 * QinQ tags, IPv6 extension headers (hop-by-hop, routing, fragment), ICMP
 * and ICMPv6 errors with a quoted packet, NDP NS and Redirect (with and
 * without a Redirected Header option), RARP, an ICMPv4 Redirect. Guest side:
 * 10.0.0.0/24 and fd00::/64.
 */
import { be16, be32, concat, ether, icmpMsg, ip4, ip6, ipv4L4, ipv6, ipv6L4, udp } from './wire-build.js';

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV6 = 0x86dd;
const dns = Uint8Array.of(0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0);

/** Ethernet, 802.1ad tag (VID 100), 802.1Q tag (VID 200), IPv4 UDP 10.0.0.2:2345 > 10.0.0.1:53. */
export function qinqUdp4(): Uint8Array {
  const ip = ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(2345, 53, dns));
  return ether(0x88a8, concat(be16(100), be16(0x8100), be16(200), be16(ETHERTYPE_IPV4), ip));
}

/** ARP request: who-has 10.0.0.1 tell 10.0.0.2. */
export function arpRequest(): Uint8Array {
  const body = concat(be16(1), be16(0x0800), Uint8Array.of(6, 4), be16(1), Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56), be32(ip4('10.0.0.2')), new Uint8Array(6), be32(ip4('10.0.0.1')));
  return ether(ETHERTYPE_ARP, body, Uint8Array.of(255, 255, 255, 255, 255, 255));
}

/** ICMP port unreachable 10.0.0.1 > 10.0.0.2 quoting UDP 10.0.0.2:2345 > 10.0.0.3:53. */
export function icmpError4(): Uint8Array {
  const quoted = ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.3'), 17, udp(2345, 53, dns));
  return ether(ETHERTYPE_IPV4, ipv4L4(ip4('10.0.0.1'), ip4('10.0.0.2'), 1, icmpMsg(3, 3, 0, quoted)));
}

/**
 * IPv6 fd00::2 > fd00::1 with a hop-by-hop header, a type 0 routing header
 * (one segment left: fd00::8) and a fragment header (first fragment, more
 * to come), then the start of a UDP datagram.
 */
export function ipv6ExtensionHeaders(): Uint8Array {
  const hop = Uint8Array.of(43, 0, 1, 4, 0, 0, 0, 0); // next: routing; PadN
  const routing = concat(Uint8Array.of(44, 2, 0, 1), be32(0), ip6('fd00::8')); // next: fragment; type 0, 1 segment left
  const frag = concat(Uint8Array.of(17, 0), be16(0x0001), be32(0x0badcafe)); // next: UDP; offset 0, M
  const l4 = udp(2345, 53, dns);
  return ether(ETHERTYPE_IPV6, ipv6(ip6('fd00::2'), ip6('fd00::1'), 0, concat(hop, routing, frag, l4)));
}

/** ICMPv6 destination unreachable fd00::1 > fd00::2 quoting UDP fd00::2:2345 > fd00::3:53. */
export function icmpError6(): Uint8Array {
  const quoted = ipv6L4(ip6('fd00::2'), ip6('fd00::3'), 17, udp(2345, 53, dns));
  return ether(ETHERTYPE_IPV6, ipv6L4(ip6('fd00::1'), ip6('fd00::2'), 58, icmpMsg(1, 4, 0, quoted)));
}

/** Neighbor solicitation fd00::2 > ff02::1:ff00:5 for target fd00::5. */
export function neighborSolicitation(): Uint8Array {
  return ether(ETHERTYPE_IPV6, ipv6L4(ip6('fd00::2'), ip6('ff02::1:ff00:5'), 58, icmpMsg(135, 0, 0, ip6('fd00::5'))));
}

/** Redirect fe80::1 > fd00::2: target fd00::9, destination fd00::7. */
export function ndpRedirect(): Uint8Array {
  return ether(ETHERTYPE_IPV6, ipv6L4(ip6('fe80::1'), ip6('fd00::2'), 58, concat(Uint8Array.of(137, 0, 0, 0), be32(0), ip6('fd00::9'), ip6('fd00::7'))));
}

/** All of the above, in this order. */
export function richFrames(): Uint8Array[] {
  return [qinqUdp4(), arpRequest(), icmpError4(), ipv6ExtensionHeaders(), icmpError6(), neighborSolicitation(), ndpRedirect(), redirectWithHeader(), rarpReply(), icmpRedirect4()];
}

/**
 * Redirect fe80::1 > fd00::2 (target fd00::9, destination fd00::7) with a
 * Redirected Header option quoting UDP fd00::2:2345 > fd00::3:53 (RFC 4861 4.6.3).
 */
export function redirectWithHeader(): Uint8Array {
  const quoted = ipv6L4(ip6('fd00::2'), ip6('fd00::3'), 17, udp(2345, 53, dns));
  const padded = concat(quoted, new Uint8Array((8 - (quoted.length % 8)) % 8));
  const option = concat(Uint8Array.of(4, padded.length / 8 + 1), new Uint8Array(6), padded);
  return ether(ETHERTYPE_IPV6, ipv6L4(ip6('fe80::1'), ip6('fd00::2'), 58, concat(Uint8Array.of(137, 0, 0, 0), be32(0), ip6('fd00::9'), ip6('fd00::7'), option)));
}

/** RARP reply (RFC 903): 10.0.0.1 tells 52:54:00:12:34:56 that it is 10.0.0.2. */
export function rarpReply(): Uint8Array {
  const body = concat(be16(1), be16(0x0800), Uint8Array.of(6, 4), be16(4), Uint8Array.of(0x52, 0x54, 0, 0xab, 0xcd, 0xef), be32(ip4('10.0.0.1')), Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56), be32(ip4('10.0.0.2')));
  return ether(0x8035, body, Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56));
}

/** ICMP Redirect 10.0.0.1 > 10.0.0.2: use gateway 10.0.0.254 for UDP 10.0.0.2:2345 > 8.8.8.8:53 (quoted). */
export function icmpRedirect4(): Uint8Array {
  const quoted = ipv4L4(ip4('10.0.0.2'), ip4('8.8.8.8'), 17, udp(2345, 53, dns));
  return ether(ETHERTYPE_IPV4, ipv4L4(ip4('10.0.0.1'), ip4('10.0.0.2'), 1, icmpMsg(5, 1, ip4('10.0.0.254'), quoted.subarray(0, 28))));
}
