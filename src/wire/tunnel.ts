/**
 * Tunnel headers: where a packet carries another packet, and how to read it.
 * The decoder (decode.ts) finds a tunnel after an IP header (`findTunnel`),
 * reads its header here (`readTunnel`) and decodes the payload as a frame of
 * the link type the header names. Protocol facts only; no policy.
 *
 * - VXLAN (RFC 7348), UDP 4789 (and ports given with --vxlan-port, e.g.
 *   Linux's default 8472): 8 bytes (flags, VNI in bytes 4-6), Ethernet.
 * - VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe), UDP 4790: 8 bytes, the next
 *   protocol in byte 3 (1 IPv4, 2 IPv6, 3 Ethernet; NSH, MPLS not read).
 * - Geneve (RFC 8926), UDP 6081: 8 bytes + options (6-bit length in 4-byte
 *   words), the protocol an EtherType (0x6558 Ethernet, IPv4, IPv6), VNI in
 *   bytes 4-6. Each option's length (5 bits, 4-byte words) must end inside
 *   the options; version 0 only.
 * - GRE (RFC 2784, RFC 2890), IP protocol 47 or UDP 4754 (GRE-in-UDP, RFC
 *   8086): flags C (checksum + reserved word), K (key), S (sequence); the
 *   protocol an EtherType: IPv4, IPv6, 0x6558 Ethernet (NVGRE, RFC 7637,
 *   when keyed: VSID = key >> 8), 0x88BE ERSPAN type II (with S; type I
 *   without: the mirrored frame follows the GRE header), 0x22EB ERSPAN type
 *   III (12 bytes, + 8 with its O bit). Version 1 is PPTP's enhanced GRE
 *   (RFC 2637): key word (payload length, call id), S, A (acknowledgment),
 *   then a PPP frame. R (RFC 1701 routing) and any other protocol: the
 *   payload is not read. Another version: not known.
 * - IP-in-IP: IP protocol 4 (IPv4) and 41 (IPv6), under IPv4 or IPv6.
 * - GTP-U (3GPP TS 29.281), UDP 2152: version 1; a G-PDU (type 255) carries
 *   an IP packet after 8 bytes, 12 when E, S or PN is set, then the
 *   extension headers E announces (each: a length in 4-byte words, its
 *   next type in its last byte). Its length field counts the bytes after
 *   the first 8. Other message types carry no packet.
 *
 * UDP: the lower port is tried first, then the higher one when the lower is
 * not a well-known port (below 1024), as Wireshark tries the lower port's
 * dissector first.
 */
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_UDP } from './ip.js';
import { LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_RAW } from './raw.js';
import { LINKTYPE_PPP } from './ppp.js';
import * as udp from './udp.js';

/** Tunnel kinds (`TunnelInfo.kind`). */
export const TUN_NONE = 0;
export const TUN_VXLAN = 1;
export const TUN_VXLAN_GPE = 2;
export const TUN_GENEVE = 3;
export const TUN_GRE = 4;
export const TUN_NVGRE = 5;
export const TUN_ERSPAN1 = 6;
export const TUN_ERSPAN2 = 7;
export const TUN_ERSPAN3 = 8;
export const TUN_PPTP = 9;
export const TUN_GRE_UDP = 10;
export const TUN_IPIP = 11;
export const TUN_GTPU = 12;

/** Names for messages, by kind. */
export const TUNNEL_NAMES: readonly string[] = ['', 'VXLAN', 'VXLAN-GPE', 'Geneve', 'GRE', 'NVGRE', 'ERSPAN type I', 'ERSPAN type II', 'ERSPAN type III', 'PPTP GRE', 'GRE-in-UDP', 'IP-in-IP', 'GTP-U'];

/** The widths of the identifiers a rule can be scoped to (src/nat/rules.ts TUNNEL_KINDS). 24 bits: the VXLAN VNI [RFC 7348 5], the VXLAN-GPE VNI [draft-ietf-nvo3-vxlan-gpe 3], the Geneve VNI [RFC 8926 3.4], the NVGRE VSID [RFC 7637 3.2]. */
export const VNI_BITS = 24;
/** 32 bits: the GRE Key field [RFC 2890 2.1]. */
export const GRE_KEY_BITS = 32;
/** 32 bits: the GTP-U Tunnel Endpoint Identifier [3GPP TS 29.281 5.1]. */
export const TEID_BITS = 32;

/** The largest unsigned value of `bits` bits (up to 32). */
export function maxOfBits(bits: number): number {
  return 2 ** bits - 1;
}

/** Tunnels nested deeper than this (by default; --max-tunnel-depth) make the packet undecodable (it passes unchanged). */
export const MAX_TUNNEL_DEPTH = 8;
/** The most --max-tunnel-depth takes. */
export const MAX_TUNNEL_DEPTH_LIMIT = 64;

export const PORT_VXLAN = 4789;
export const PORT_VXLAN_LINUX = 8472;
export const PORT_VXLAN_GPE = 4790;
export const PORT_GENEVE = 6081;
export const PORT_GRE_UDP = 4754;
export const PORT_GTPU = 2152;
/** Ports below this are well known: a tunnel on the higher port is not looked for behind one. */
const WELL_KNOWN_PORTS = 1024;

const VXLAN_HEADER_LEN = 8;
/** VXLAN's header length, and where its VNI is (the top 24 bits of the word there). */
export const VXLAN_HEADER = VXLAN_HEADER_LEN;
export const VXLAN_VNI = 4;
const GPE_NEXT = 3;
const GPE_IPV4 = 1;
const GPE_IPV6 = 2;
const GPE_ETHERNET = 3;

const GENEVE_HEADER_LEN = 8;
const GENEVE_VER_OPTLEN = 0;
const GENEVE_PROTOCOL = 2;
const GENEVE_VNI = 4;
const GENEVE_OPT_HEADER_LEN = 4;
const GENEVE_OPT_LEN = 3;
const GENEVE_OPT_LEN_MASK = 0x1f;

export const GRE_FLAGS = 0;
export const GRE_PROTOCOL = 2;
export const GRE_HEADER_LEN = 4;
/** The checksum word (with C), right after the flags and protocol. */
export const GRE_CHECKSUM = 4;
export const GRE_C = 0x8000;
export const GRE_R = 0x4000;
export const GRE_K = 0x2000;
export const GRE_S = 0x1000;
/** Enhanced GRE (version 1): an acknowledgment number is present. */
export const GRE_A = 0x0080;
export const GRE_VERSION_MASK = 0x0007;
const GRE_PPP = 0x880b;
const GRE_TEB = 0x6558; // transparent Ethernet bridging
const GRE_ERSPAN2 = 0x88be;
const GRE_ERSPAN3 = 0x22eb;
const GRE_IPV4 = 0x0800;
const GRE_IPV6 = 0x86dd;
const ERSPAN2_HEADER_LEN = 8;
const ERSPAN3_HEADER_LEN = 12;
const ERSPAN3_PLATFORM_LEN = 8;
const ERSPAN3_FT_O = 10; // byte 10: P, FT (5 bits), HW ID; byte 11: ..., O in its low bit

const GTP_HEADER_LEN = 8;
const GTP_FLAGS = 0;
const GTP_TYPE = 1;
const GTP_LENGTH = 2;
const GTP_TEID = 4;
const GTP_OPTIONAL_LEN = 4;
const GTP_NEXT_EXT = 11;
const GTP_E = 0x04;
const GTP_S = 0x02;
const GTP_PN = 0x01;
const GTP_G_PDU = 255;

export const ERR_TUNNEL_DEPTH = `tunnel: nested deeper than the limit (--max-tunnel-depth, ${MAX_TUNNEL_DEPTH} unless given)`;
export const ERR_VXLAN_SHORT = 'vxlan: header runs past the datagram';
export const ERR_GPE_SHORT = 'vxlan-gpe: header runs past the datagram';
export const ERR_GENEVE_SHORT = 'geneve: header runs past the datagram';
export const ERR_GENEVE_VERSION = 'geneve: version is not 0';
export const ERR_GENEVE_OPTIONS = 'geneve: options run past the datagram';
export const ERR_GENEVE_OPTION = 'geneve: an option runs past the options';
export const ERR_GRE_SHORT = 'gre: header runs past the datagram';
export const ERR_GRE_VERSION = 'gre: version is neither 0 nor 1';
export const ERR_ERSPAN_SHORT = 'erspan: header runs past the datagram';
export const ERR_GTP_SHORT = 'gtp-u: header runs past the datagram';
export const ERR_GTP_VERSION = 'gtp-u: version is not 1';
export const ERR_GTP_LENGTH = 'gtp-u: length runs past the datagram';
export const ERR_GTP_EXTENSION = 'gtp-u: an extension header runs past the packet';

/** UDP port -> tunnel kind (0: none). The default table; `tunnelPorts` makes one with more VXLAN ports. */
export const DEFAULT_TUNNEL_PORTS: Uint8Array = tunnelPorts([]);

/** Whether, and on which extra UDP ports, a run looks into tunnels (--tunnels, --vxlan-port). */
export interface TunnelSettings {
  readonly on: boolean;
  /** UDP ports decoded as VXLAN besides 4789 (Linux's default 8472, say). */
  readonly vxlanPorts: readonly number[];
  /** Tunnels read inside one another, at most (default MAX_TUNNEL_DEPTH); a packet nested deeper is undecodable. */
  readonly maxDepth?: number;
}

export const DEFAULT_TUNNEL_SETTINGS: TunnelSettings = Object.freeze({ on: true, vxlanPorts: [] });

const portTables = new Map<string, Uint8Array>();

/** The port table of `s` (made once per set of ports). */
export function portsOf(s: TunnelSettings): Uint8Array {
  if (s.vxlanPorts.length === 0) return DEFAULT_TUNNEL_PORTS;
  const key = s.vxlanPorts.join(',');
  let t = portTables.get(key);
  if (t === undefined) portTables.set(key, (t = tunnelPorts(s.vxlanPorts)));
  return t;
}

/** The port table with `vxlanPorts` decoded as VXLAN too. */
export function tunnelPorts(vxlanPorts: readonly number[]): Uint8Array {
  const t = new Uint8Array(65536);
  t[PORT_VXLAN] = TUN_VXLAN;
  t[PORT_VXLAN_GPE] = TUN_VXLAN_GPE;
  t[PORT_GENEVE] = TUN_GENEVE;
  t[PORT_GRE_UDP] = TUN_GRE_UDP;
  t[PORT_GTPU] = TUN_GTPU;
  for (const p of vxlanPorts) t[p] = TUN_VXLAN;
  return t;
}

/** The tunnel a UDP datagram between ports `a` and `b` carries (TUN_*), by `ports`. */
export function udpTunnel(ports: Uint8Array, a: number, b: number): number {
  const lo = a < b ? a : b;
  const k = ports[lo]!;
  if (k !== TUN_NONE || lo < WELL_KNOWN_PORTS) return k;
  return ports[a < b ? b : a]!;
}

/**
 * One tunnel header, as `readTunnel` found it. Offsets are absolute in the
 * decoded buffer; identifiers are -1 when the header has none.
 */
export class TunnelInfo {
  kind = TUN_NONE;
  /** First byte of the tunnel header (of the inner IP header, for IP-in-IP). */
  off = -1;
  /** First byte of the payload. */
  payloadOff = -1;
  /** Where the payload ends by the headers' lengths (the datagram's, or GTP-U's own). */
  payloadEnd = 0;
  /** The link type to decode the payload as (Ethernet, PPP, raw IP, IPv4, IPv6), or -1: a payload not read. */
  payloadLink = -1;
  /** VXLAN / VXLAN-GPE / Geneve VNI, NVGRE VSID (24 bits). */
  vni = -1;
  /** GRE key (32 bits, unsigned). */
  key = -1;
  /** GTP-U TEID (32 bits, unsigned). */
  teid = -1;
  /** The UDP header the tunnel rides in, -1 when it is carried by IP directly. */
  udpOff = -1;
  /** The GRE header when its C bit is set (its checksum covers it and the payload to the datagram's end), -1 otherwise. */
  greChecksumOff = -1;

  reset(): void {
    this.kind = TUN_NONE;
    this.off = -1;
    this.payloadOff = -1;
    this.payloadEnd = 0;
    this.payloadLink = -1;
    this.vni = -1;
    this.key = -1;
    this.teid = -1;
    this.udpOff = -1;
    this.greChecksumOff = -1;
  }

  /** "VXLAN VNI 42", "GRE key 7", "GTP-U TEID 1", "IP-in-IP": the tunnel in words (allocates). */
  describe(): string {
    const name = TUNNEL_NAMES[this.kind]!;
    if (this.teid >= 0) return `${name} TEID ${this.teid}`;
    if (this.kind === TUN_NVGRE) return `${name} VSID ${this.vni}`;
    if (this.vni >= 0) return `${name} VNI ${this.vni}`;
    if (this.key >= 0) return `${name} key ${this.key}`;
    return name;
  }
}

/**
 * The tunnel in an IP payload: protocol `proto` at `l4` (UDP on a tunnel
 * port of `ports`, GRE, IP-in-IP), read as `readTunnel` reads it into `t`,
 * with the UDP header's place (`t.udpOff`) and IP-in-IP's payload link set.
 * `avail` ends the bytes that may be read; `end` is the datagram's declared
 * end (0x7fffffff when none is known: a first fragment, a quote), which a
 * UDP length within it narrows. `t` comes reset (a DecodeResult's is), so
 * that a packet without a tunnel costs nothing more. Returns readTunnel's
 * reason for an impossible header (`t.off` is where it starts), else null,
 * `t.kind` TUN_NONE when there is no tunnel.
 */
export function findTunnel(v: DataView, proto: number, l4: number, avail: number, end: number, ports: Uint8Array, t: TunnelInfo): string | null {
  let at = l4;
  let kind = TUN_NONE;
  if (proto === IPPROTO_UDP) {
    if (l4 + udp.HEADER_LEN <= avail) kind = udpTunnel(ports, v.getUint16(l4 + udp.SRC_PORT), v.getUint16(l4 + udp.DST_PORT));
    if (kind !== TUN_NONE) {
      const len = v.getUint16(l4 + udp.LENGTH);
      if (len >= udp.HEADER_LEN && l4 + len <= end) end = l4 + len;
      at = l4 + udp.HEADER_LEN;
    }
  } else if (proto === IPPROTO_GRE) {
    kind = TUN_GRE;
  } else if (proto === IPPROTO_IPIP || proto === IPPROTO_IPV6) {
    kind = TUN_IPIP;
  }
  if (kind === TUN_NONE) return null;
  const err = readTunnel(v, kind, at, avail < end ? avail : end, end, t);
  if (err !== null || t.kind === TUN_NONE) return err;
  if (at !== l4) t.udpOff = l4;
  if (kind === TUN_IPIP) t.payloadLink = proto === IPPROTO_IPIP ? LINKTYPE_IPV4 : LINKTYPE_IPV6;
  return null;
}

/**
 * Reads the tunnel header of kind `kind` (TUN_*: from `udpTunnel`, or
 * TUN_GRE / TUN_IPIP for IP protocols 47, 4 and 41) at `at` into `t`.
 * `avail` ends the bytes that may be read (the capture's, within the
 * datagram); `end` is the datagram's declared end. Returns null, with
 * `t.kind` TUN_NONE when the header carries no packet (a GTP-U message
 * other than a G-PDU; a header the capture cut) or the payload's link
 * type in `t.payloadLink` (-1: a payload not read); or a static reason when
 * the header is impossible: it runs past the datagram, or its version is
 * not known.
 */
export function readTunnel(v: DataView, kind: number, at: number, avail: number, end: number, t: TunnelInfo): string | null {
  t.reset();
  t.off = at;
  t.payloadEnd = end;
  switch (kind) {
    case TUN_VXLAN:
    case TUN_VXLAN_GPE: {
      if (at + VXLAN_HEADER_LEN > end) return kind === TUN_VXLAN ? ERR_VXLAN_SHORT : ERR_GPE_SHORT;
      if (at + VXLAN_HEADER_LEN > avail) return null;
      t.vni = v.getUint32(at + VXLAN_VNI) >>> 8;
      if (kind === TUN_VXLAN) t.payloadLink = LINKTYPE_ETHERNET;
      else {
        const next = v.getUint8(at + GPE_NEXT);
        t.payloadLink = next === GPE_IPV4 ? LINKTYPE_IPV4 : next === GPE_IPV6 ? LINKTYPE_IPV6 : next === GPE_ETHERNET ? LINKTYPE_ETHERNET : -1;
      }
      return found(t, kind, at + VXLAN_HEADER_LEN);
    }
    case TUN_GENEVE: {
      if (at + GENEVE_HEADER_LEN > end) return ERR_GENEVE_SHORT;
      if (at + GENEVE_HEADER_LEN > avail) return null;
      const vo = v.getUint8(at + GENEVE_VER_OPTLEN);
      if (vo >> 6 !== 0) return ERR_GENEVE_VERSION;
      const payload = at + GENEVE_HEADER_LEN + ((vo & 0x3f) << 2);
      if (payload > end) return ERR_GENEVE_OPTIONS;
      // Each option inside the options (those the capture holds).
      for (let p = at + GENEVE_HEADER_LEN; p < payload && p + GENEVE_OPT_HEADER_LEN <= avail; ) {
        p += GENEVE_OPT_HEADER_LEN + ((v.getUint8(p + GENEVE_OPT_LEN) & GENEVE_OPT_LEN_MASK) << 2);
        if (p > payload) return ERR_GENEVE_OPTION;
      }
      if (payload > avail) return null;
      t.vni = v.getUint32(at + GENEVE_VNI) >>> 8;
      t.payloadLink = etherTypeLink(v.getUint16(at + GENEVE_PROTOCOL));
      return found(t, kind, payload);
    }
    case TUN_GRE:
    case TUN_GRE_UDP:
      return gre(v, kind, at, avail, end, t);
    case TUN_GTPU:
      return gtpu(v, at, avail, end, t);
    case TUN_IPIP:
      // findTunnel names the inner version through payloadLink afterwards; the header is the inner packet's.
      return found(t, kind, at);
    default:
      return null;
  }
}

function found(t: TunnelInfo, kind: number, payload: number): null {
  t.kind = kind;
  t.payloadOff = payload;
  return null;
}

/** The link type of a payload an EtherType names (Geneve, GRE), -1 for others. */
function etherTypeLink(et: number): number {
  return et === GRE_TEB ? LINKTYPE_ETHERNET : et === GRE_IPV4 ? LINKTYPE_IPV4 : et === GRE_IPV6 ? LINKTYPE_IPV6 : -1;
}

function gre(v: DataView, kind: number, at: number, avail: number, end: number, t: TunnelInfo): string | null {
  if (at + GRE_HEADER_LEN > end) return ERR_GRE_SHORT;
  if (at + GRE_HEADER_LEN > avail) return null;
  const flags = v.getUint16(at + GRE_FLAGS);
  const proto = v.getUint16(at + GRE_PROTOCOL);
  const version = flags & GRE_VERSION_MASK;
  if (version > 1) return ERR_GRE_VERSION;
  let p = at + GRE_HEADER_LEN;
  const c = (flags & (GRE_C | GRE_R)) !== 0;
  if (c) p += 4;
  const keyAt = (flags & GRE_K) !== 0 ? p : -1;
  if (keyAt >= 0) p += 4;
  if ((flags & GRE_S) !== 0) p += 4;
  if (version === 1 && (flags & GRE_A) !== 0) p += 4;
  if (p > end) return ERR_GRE_SHORT;
  if (p > avail) return null;
  if (version === 1) {
    // PPTP: the key word is the payload length and call id, not a key.
    t.payloadLink = proto === GRE_PPP && keyAt >= 0 && v.getUint16(keyAt) !== 0 ? LINKTYPE_PPP : -1;
    return found(t, TUN_PPTP, p);
  }
  if ((flags & GRE_C) !== 0) t.greChecksumOff = at;
  if (keyAt >= 0) t.key = v.getUint32(keyAt);
  let k = kind;
  if ((flags & GRE_R) !== 0) {
    t.payloadLink = -1; // RFC 1701 source routing entries: not read
  } else if (proto === GRE_ERSPAN2) {
    if ((flags & GRE_S) === 0) {
      k = TUN_ERSPAN1;
    } else {
      k = TUN_ERSPAN2;
      if (p + ERSPAN2_HEADER_LEN > end) return ERR_ERSPAN_SHORT;
      p += ERSPAN2_HEADER_LEN;
      if (p > avail) return null;
    }
    t.payloadLink = LINKTYPE_ETHERNET;
  } else if (proto === GRE_ERSPAN3) {
    k = TUN_ERSPAN3;
    if (p + ERSPAN3_HEADER_LEN > end) return ERR_ERSPAN_SHORT;
    if (p + ERSPAN3_HEADER_LEN > avail) return null;
    const ft = (v.getUint8(p + ERSPAN3_FT_O) >> 2) & 0x1f;
    const o = v.getUint8(p + ERSPAN3_FT_O + 1) & 1;
    p += ERSPAN3_HEADER_LEN + (o !== 0 ? ERSPAN3_PLATFORM_LEN : 0);
    if (p > end) return ERR_ERSPAN_SHORT;
    if (p > avail) return null;
    t.payloadLink = ft === 0 ? LINKTYPE_ETHERNET : -1;
  } else {
    t.payloadLink = etherTypeLink(proto);
    if (proto === GRE_TEB && t.key >= 0 && kind === TUN_GRE) {
      k = TUN_NVGRE;
      t.vni = t.key >>> 8;
    }
  }
  return found(t, k, p);
}

function gtpu(v: DataView, at: number, avail: number, end: number, t: TunnelInfo): string | null {
  if (at + GTP_HEADER_LEN > end) return ERR_GTP_SHORT;
  if (at + GTP_HEADER_LEN > avail) return null;
  const flags = v.getUint8(at + GTP_FLAGS);
  if (flags >> 5 !== 1) return ERR_GTP_VERSION;
  const stop = at + GTP_HEADER_LEN + v.getUint16(at + GTP_LENGTH);
  if (stop > end) return ERR_GTP_LENGTH;
  if (v.getUint8(at + GTP_TYPE) !== GTP_G_PDU) return null;
  let p = at + GTP_HEADER_LEN;
  if ((flags & (GTP_E | GTP_S | GTP_PN)) !== 0) {
    p += GTP_OPTIONAL_LEN;
    if (p > stop) return ERR_GTP_SHORT;
    if (p > avail) return null;
    let next = (flags & GTP_E) !== 0 ? v.getUint8(at + GTP_NEXT_EXT) : 0;
    while (next !== 0) {
      if (p >= stop) return ERR_GTP_EXTENSION;
      if (p >= avail) return null;
      const len = v.getUint8(p) << 2;
      if (len === 0 || p + len > stop) return ERR_GTP_EXTENSION;
      if (p + len > avail) return null;
      next = v.getUint8(p + len - 1);
      p += len;
    }
  }
  t.teid = v.getUint32(at + GTP_TEID);
  t.payloadEnd = stop;
  // An IP packet by its first byte, as Wireshark's GTP dissector takes it (0x45-0x4F: IPv4 with a header length it can
  // hold; 0x6_: IPv6); anything else (an Ethernet PDU session's frames) is not read.
  const b0 = p < stop && p < avail ? v.getUint8(p) : 0;
  t.payloadLink = (b0 >= 0x45 && b0 <= 0x4f) || b0 >> 4 === 6 ? LINKTYPE_RAW : -1;
  return found(t, TUN_GTPU, p);
}
