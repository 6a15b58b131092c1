/**
 * What a transport checksum covers, from the headers' own length fields:
 * UDP its length (RFC 768; an IPv6 jumbogram's UDP length 0 means the whole
 * payload, RFC 2675 4), UDP-Lite its checksum coverage (RFC 3828 3.1: 0 is
 * the whole datagram), DCCP its CsCov (RFC 4340 9.2: the header and CsCov - 1
 * words of data, at most the datagram), TCP, ICMP and ICMPv6 the whole L4
 * length. The pseudo-header's length is UDP's length field for UDP, the L4
 * length otherwise. One definition for the verifier, which judges the
 * checksum, and --fix-checksums, which recomputes it.
 */
import * as dccp from './dccp.js';
import { IPPROTO_DCCP, IPPROTO_UDP, IPPROTO_UDPLITE } from './ip.js';
import * as udp from './udp.js';

export class L4Coverage {
  /** Bytes from the L4 header the checksum covers. */
  cover = 0;
  /** The length the pseudo-header carries. */
  pseudoLen = 0;

  /**
   * Measures protocol `p`'s header at `l4`, `len` bytes long per the IP
   * header (the header's fixed part must be there); false when a length
   * field is impossible (a UDP length or UDP-Lite coverage below the header
   * or past the datagram): the checksum can then be neither judged nor
   * fixed.
   */
  measure(v: DataView, p: number, l4: number, len: number, jumbo: boolean): boolean {
    this.cover = len;
    this.pseudoLen = len;
    if (p === IPPROTO_UDP) {
      let ulen = v.getUint16(l4 + udp.LENGTH);
      if (ulen === 0 && jumbo) ulen = len;
      if (ulen < udp.HEADER_LEN || ulen > len) return false;
      this.cover = ulen;
      this.pseudoLen = ulen;
    } else if (p === IPPROTO_UDPLITE) {
      const cov = v.getUint16(l4 + udp.COVERAGE);
      if (cov !== 0) {
        if (cov < udp.HEADER_LEN || cov > len) return false;
        this.cover = cov;
      }
    } else if (p === IPPROTO_DCCP) {
      const cscov = v.getUint8(l4 + dccp.CCVAL_CSCOV) & dccp.CSCOV_MASK;
      if (cscov !== 0) {
        const c = (v.getUint8(l4 + dccp.DATA_OFF) << 2) + (cscov - 1) * 4;
        if (c < this.cover) this.cover = c;
      }
    }
    return true;
  }
}
