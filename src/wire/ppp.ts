/**
 * PPP (RFC 1661, RFC 1662), PPPoE (RFC 2516) and Cisco HDLC: the link
 * headers in front of IP on dial-up, DSL and router captures.
 *
 * - LINKTYPE_PPP (9): the PPP protocol field, preceded by the HDLC address
 *   and control bytes 0xFF 0x03 when present (libpcap's definition).
 * - LINKTYPE_PPP_HDLC (50): 0xFF 0x03 then the protocol, or Cisco HDLC
 *   (address 0x0F/0x8F, control 0x00, then an EtherType).
 * - LINKTYPE_PPP_ETHER (51) and the PPPoE session EtherType 0x8864: a 6-byte
 *   PPPoE header (version/type 0x11, code 0, session id, length), then the
 *   PPP protocol.
 * - LINKTYPE_C_HDLC (104): address, control, then an EtherType.
 *
 * A PPP protocol field whose first byte is odd is one byte long (protocol
 * field compression, RFC 1661 6.5). IPv4 is 0x0021, IPv6 0x0057.
 */
import * as eth from './ethernet.js';

export const LINKTYPE_PPP = 9;
export const LINKTYPE_PPP_HDLC = 50;
export const LINKTYPE_PPP_ETHER = 51;
export const LINKTYPE_C_HDLC = 104;
export const ETHERTYPE_PPPOE_SESSION = 0x8864;

export const HDLC_ADDRESS = 0xff;
export const HDLC_CONTROL = 0x03;
export const CISCO_HDLC_UNICAST = 0x0f;
export const CISCO_HDLC_MULTICAST = 0x8f;
export const CISCO_HDLC_HEADER_LEN = 4; // address, control, EtherType
export const PPPOE_HEADER_LEN = 6;
export const PPP_IPV4 = 0x0021;
export const PPP_IPV6 = 0x0057;

/**
 * Reads the PPP protocol field at `at`: returns the protocol in the low 16
 * bits and the field's length (1 or 2) above them, or -1 when the field is
 * not captured.
 */
export function readProtocol(v: DataView, at: number, capEnd: number): number {
  if (at >= capEnd) return -1;
  const first = v.getUint8(at);
  if ((first & 1) === 1) return first | (1 << 16);
  if (at + 2 > capEnd) return -1;
  return v.getUint16(at) | (2 << 16);
}

/** The EtherType of the packet a PPP protocol number announces (IPv4, IPv6); -1 for any other. */
export function etherTypeOf(protocol: number): number {
  if (protocol === PPP_IPV4) return eth.ETHERTYPE_IPV4;
  if (protocol === PPP_IPV6) return eth.ETHERTYPE_IPV6;
  return -1;
}
