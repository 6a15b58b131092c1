/**
 * Transmit checksum offload and TSO/GSO: what a capture taken on the sending
 * host holds where the NIC has not yet done its part (docs/DESIGN.md part 2,
 * "Transmit checksum offload"). One definition, read by the translator (which
 * keeps a seed a seed of the new addresses) and the verifier (which calls it
 * `*.checksum-offloaded`, a warning), so that a rewrite never turns what the
 * verifier called offload into an error.
 *
 * The TCP/UDP checksum field of such a frame holds a seed, the folded
 * ones'-complement sum of part of the pseudo-header, not complemented, that
 * the NIC adds the segment to:
 * - SEED_FULL: source + destination + protocol + L4 length. Linux
 *   CHECKSUM_PARTIAL: `__tcp_v4_send_check` and `__tcp_v6_send_check`
 *   (`th->check = ~tcp_v4_check(skb->len, saddr, daddr, 0)`, the complement
 *   of csum_fold's complement), `udp4_hwcsum`, `udp6_hwcsum` (UDP GSO too);
 *   Windows checksum offload (NDIS "Offloading Checksum Tasks": the sum over
 *   the pseudo-header "including ... the TCP length"). TCP and UDP.
 * - SEED_NO_LENGTH: source + destination + protocol, the length left out:
 *   Linux `tcp_v4_gso_csum_prep` and `tcp_v6_gso_csum_prep`
 *   (`~tcp_v4_check(0, saddr, daddr, 0)`, drivers preparing a TSO frame) and
 *   Windows LSO (tcpdump's test capture ipv4_tcp_http_xml_tso.pcap). TCP only.
 * Nothing else: the complements of these sums (once accepted too) have no
 * known sender, and each of the ~1,100 offloaded frames of the test corpus
 * holds one of these two.
 * A folded sum is never 0 (the seed that folds to the ones'-complement zero
 * is written 0xFFFF), so a field of 0 is never a seed: for UDP it is "none"
 * (RFC 768; the kernel's NAT leaves it 0 even for CHECKSUM_PARTIAL,
 * nf_nat_proto.c `udp_manip_pkt`), for TCP a checksum like any other. Taking
 * 0 for 0xFFFF would also break the round trip: a seed moved by a rewrite
 * stays non-zero (F' = fold(F + delta)) and would come back as 0xFFFF.
 *
 * A TSO/GSO frame is one segment larger than the link's MTU, handed to the
 * NIC whole. Most say their length (Linux GSO below 64 KiB, Windows LSOv1);
 * some do not: an IPv4 total length of 0 (Windows LSOv2; Linux
 * `iph_set_totlen` above 64 KiB, BIG TCP), which Wireshark's
 * `ip.tso_support` (on by default) reads as the frame's length, or a length
 * past the end of the frame, which Wireshark reads as the frame too; over
 * IPv6 a payload length of 0 before TCP (`tcp_v6_gso_csum_prep` clears it;
 * Wireshark's `ipv6.tso_support`, off by default there). The datagram is
 * then what the frame holds.
 */
import { fold } from './checksum.js';
import { IPPROTO_TCP, IPPROTO_UDP, type IpInfo } from './ip.js';

/** Not an offload seed. */
export const SEED_NONE = 0;
/** The pseudo-header sum with the L4 length (checksum offload). */
export const SEED_FULL = 1;
/** The pseudo-header sum without the L4 length (TCP segmentation offload). */
export const SEED_NO_LENGTH = 2;

/**
 * Which seed the checksum field holds: `field` is the field's value, `addr`
 * the sum (folded or not) of the pseudo-header's addresses (source and final
 * destination), `len` the L4 length the pseudo-header carries (TCP: the
 * segment; UDP: the UDP length field). Only TCP and UDP have seeds. A field
 * that is also the right checksum (1 in 65536) is for the caller to rule
 * out: this looks at the field alone.
 */
export function seedForm(proto: number, field: number, addr: number, len: number): number {
  if (proto === IPPROTO_UDP) {
    if (field === 0) return SEED_NONE;
  } else if (proto !== IPPROTO_TCP) {
    return SEED_NONE;
  }
  const lengthless = addr + proto;
  const full = fold(lengthless + Math.floor(len / 0x10000) + (len & 0xffff));
  if (field === full) return SEED_FULL;
  if (proto !== IPPROTO_TCP) return SEED_NONE;
  return field === fold(lengthless) ? SEED_NO_LENGTH : SEED_NONE;
}

/** A TSO/GSO frame: IPv4 total length 0 (IPv6 payload length 0 before TCP), or an IP length past the end of the frame. */
export function isTsoFrame(ip: IpInfo): boolean {
  return ip.zeroLength || ip.lengthExceedsFrame;
}

/**
 * Where the datagram ends as the checks take it: its declared end, or the
 * frame's end (`frameEnd`, original length) when the declared end lies past
 * it, as Wireshark takes a TSO frame (a total length of 0 already ends at
 * the frame, see ipv4.ts).
 */
export function datagramEnd(ip: IpInfo, frameEnd: number): number {
  return ip.lengthExceedsFrame ? frameEnd : ip.end;
}
