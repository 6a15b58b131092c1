/**
 * The packet translator: rewrites IPv4/IPv6/ARP/NDP addresses in place through
 * an `InterfaceMapper` and adjusts every checksum that covers them by the
 * RFC 1624 eq. 3 incremental rule. Lengths never change; bytes outside the
 * decoded headers (payload, Ethernet padding, hardware addresses, options)
 * are never written.
 *
 * Rules (docs/DESIGN.md part 2) and the choices made where it is silent:
 * - Incremental only: snaplen-cut packets and fragments come out right and a
 *   checksum that was wrong stays wrong by exactly the same amount. A checksum
 *   field is updated only when it lies in the captured bytes and inside the
 *   datagram's declared length (so link padding is never touched).
 * - Transmit checksum offload seeds (a capture on the sending host) in TCP/UDP
 *   stay seeds of the new addresses, as the kernel's NAT keeps them.
 * - IPv4: header checksum adjusted; TCP/UDP/UDP-Lite/DCCP pseudo-header
 *   checksum adjusted in the first fragment only. UDP checksum 0 stays 0
 *   (IPv4: "none"; IPv6 and UDP-Lite: invalid, left for the verifier); a
 *   result of 0 is written 0xFFFF. TCP/DCCP/ICMPv6 never get 0xFFFF
 *   substituted. ICMPv4/IGMP/GRE/SCTP/ESP: nothing (no pseudo-header).
 *   An unexhausted LSRR/SSRR option moves the pseudo-header destination to the
 *   route's last address (RFC 9293 3.1); option addresses are not translated.
 * - ICMPv4 Redirect: the gateway address (offset 4), folded into the ICMP
 *   checksum like the quote.
 * - ICMP errors (v4 3/4/5/11/12, v6 1-4) and the NDP Redirected Header
 *   option (RFC 4861 4.6.3): the quoted header's addresses, its header
 *   checksum and its L4 checksum (when quoted) are translated, and every
 *   changed quoted word is folded into the outer ICMP checksum. One level
 *   only. The quote ends where the decoder says (`quoteEnd`: the option's
 *   end, an RFC 4884 length).
 * - IPv6: only the header's src/dst are translated. Addresses inside a routing
 *   header (type 0/2/SRH segment lists) are not: a stateless NAT rewrites what
 *   the forwarding path looks at, and a segment list names hops beyond this
 *   NAT. The L4 checksum is adjusted only for translated addresses that are in
 *   the pseudo-header: the source always, the header destination only when it
 *   is the final destination (no routing header with segments left > 0).
 * - NDP: NS/NA target and Redirect target/destination, ICMPv6 checksum adjusted;
 *   link-layer address options untouched.
 * - ARP and RARP (0x8035) with IPv4 protocol addresses (ptype 0x0800,
 *   plen 4) of any hardware type and length (RFC 826 places them by hlen):
 *   sender/target protocol addresses, never hardware addresses.
 * - An FCS the link header says the frame ends with (802.11 behind radiotap
 *   or PPI) is updated as the checksums are: F' = F ^ crc(old) ^ crc(new),
 *   right if it was right, exactly as wrong if it was wrong
 *   (src/wire/crc32.ts), as a NIC would compute it on transmit.
 * - Undecodable packets (an impossible header) pass unchanged; so do unknown
 *   link types and protocols.
 * - Tunnels (src/wire/tunnel.ts): the packet a tunnel carries is translated
 *   as a packet of its own, at every depth, with the mapper of the tunnel's
 *   scope (`inTunnel`: rules scoped to its VNI, key or TEID), first; then
 *   every checksum that covers its bytes takes the delta of the words it
 *   changed: the GRE checksum (C bit) and the UDP checksum the tunnel rides
 *   in (0 stays 0, over IPv4 and over IPv6 as RFC 6935 allows tunnels).
 *   The delta is byte-swapped where the packet starts at an odd offset from
 *   the checksum's start (PPP's one-byte protocol field). An inner IPv4
 *   header's change cancels out (its checksum moves the other way); an
 *   inner L4 checksum's pseudo-header change does not. An inner TCP/UDP
 *   offload seed (a GSO frame's, inside Geneve) stays a seed, as outside.
 *   A packet whose tunnel header is impossible, or nested past the depth
 *   limit (--max-tunnel-depth), is undecodable and passes unchanged.
 * - Left alone on purpose (src/nat/untranslated.ts lists them for the leak
 *   check, which reports a guest-side address there): IPv4 route and
 *   timestamp option addresses, IPv6 routing header addresses, a tunnel
 *   inside the packet an ICMP error quotes, an ICMP error quoted inside an
 *   ICMP error, the packets in an 802.11 A-MSDU or first fragment.
 *
 * The leak check (src/verify/leaks.ts) finds untranslated addresses by
 * running this translator on a copy of each packet and reporting its
 * records: an address site added here is checked there too.
 */
import { formatIpv4, formatIpv6 } from '../wire/address.js';
import { applyDelta, delta16, delta32, deltaBytes, fold, onesSum, sumHeader } from '../wire/checksum.js';
import { crc32 } from '../wire/crc32.js';
import * as arp from '../wire/arp.js';
import { type DecodeResult, NET_ARP, NET_IPV4, NET_IPV6, PacketDecoder } from '../wire/decode.js';
import * as eth from '../wire/ethernet.js';
import { LINKTYPE_ETHERNET } from '../wire/raw.js';
import * as icmp from '../wire/icmp.js';
import * as icmpv6 from '../wire/icmpv6.js';
import { IPPROTO_DCCP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, type IpInfo } from '../wire/ip.js';
import * as ipv4 from '../wire/ipv4.js';
import { datagramEnd, isTsoFrame, SEED_NONE, seedForm } from '../wire/offload.js';
import * as tcp from '../wire/tcp.js';
import * as udp from '../wire/udp.js';
import * as dccp from '../wire/dccp.js';
import { GRE_CHECKSUM, TUN_VXLAN, udpTunnel, VXLAN_HEADER, VXLAN_VNI } from '../wire/tunnel.js';
import { type InterfaceMapper, mapperInside, SCOPE_VNI } from './mapper.js';
import type { PacketBatch } from '../capture/batch.js';
import type { UntranslatedSites } from './untranslated.js';

/** Kinds of rewritten address (bit index in `TranslateResult.rewrites`). */
export const K_IPV4_SRC = 0;
export const K_IPV4_DST = 1;
export const K_ARP_SENDER = 2;
export const K_ARP_TARGET = 3;
export const K_INNER_IPV4_SRC = 4;
export const K_INNER_IPV4_DST = 5;
export const K_IPV6_SRC = 6;
export const K_IPV6_DST = 7;
export const K_INNER_IPV6_SRC = 8;
export const K_INNER_IPV6_DST = 9;
export const K_NDP_TARGET = 10;
export const K_NDP_REDIRECT_DST = 11;
export const K_RARP_SENDER = 12;
export const K_RARP_TARGET = 13;
export const K_ICMP_REDIRECT_GATEWAY = 14;
/**
 * Not a record's kind: the bit `rewrites` has when an address inside a
 * tunnel was rewritten (records there keep the kind of the address, and
 * `tunnels` names the tunnel).
 */
export const K_TUNNELLED = 15;

/** Names of the kinds, as used in annotations. */
export const KIND_NAMES: readonly string[] = [
  'ipv4.src',
  'ipv4.dst',
  'arp.sender',
  'arp.target',
  'icmp.inner-ipv4.src',
  'icmp.inner-ipv4.dst',
  'ipv6.src',
  'ipv6.dst',
  'icmp.inner-ipv6.src',
  'icmp.inner-ipv6.dst',
  'ndp.target',
  'ndp.redirect-destination',
  'rarp.sender',
  'rarp.target',
  'icmp.redirect-gateway',
  'tunnel.inner',
];

/** The kinds in words, as the leak check's `addr.untranslated` messages name them. */
export const KIND_LABELS: readonly string[] = [
  'IPv4 source',
  'IPv4 destination',
  'ARP sender',
  'ARP target',
  'quoted IPv4 source',
  'quoted IPv4 destination',
  'IPv6 source',
  'IPv6 destination',
  'quoted IPv6 source',
  'quoted IPv6 destination',
  'NDP target',
  'NDP redirect destination',
  'RARP sender',
  'RARP target',
  'ICMP redirect gateway',
  'address inside a tunnel',
];

/** True for the kinds of IPv6 address (their records are in old6/new6; the others in old4/new4). */
export function isIpv6Kind(k: number): boolean {
  return k === K_IPV6_SRC || k === K_IPV6_DST || k === K_INNER_IPV6_SRC || k === K_INNER_IPV6_DST || k === K_NDP_TARGET || k === K_NDP_REDIRECT_DST;
}

/** Bits of `TranslateResult.checksums`: which checksum fields were written. */
export const C_IPV4 = 1;
export const C_L4 = 2;
export const C_INNER_IPV4 = 4;
export const C_INNER_L4 = 8;
/** The link FCS (802.11). */
export const C_FCS = 16;
/** A checksum inside a tunnel (IP, L4, quoted), or one that covers a tunnel's payload (GRE with its C bit, the UDP a tunnel rides in). */
export const C_TUNNEL = 32;

/** Bytes after the Ethernet header that `rewrite`'s direct path needs at least: IPv4 header and UDP header (an Ethernet ARP message too). */
const FAST_MIN = ipv4.MIN_HEADER_LEN + udp.HEADER_LEN;

/** Where the direct path's packets have their IPv4 header (or ARP message): after the Ethernet header. */
const DIRECT_IP = eth.HEADER_LEN;
/** The first bytes of a frame the direct path may write: up to a TCP checksum. */
const DIRECT_SPAN = DIRECT_IP + ipv4.MIN_HEADER_LEN + tcp.CHECKSUM + 2;
/** The addresses the direct path may rewrite: kind and offset in the frame. */
const DIRECT_ADDRESSES: ReadonlyArray<readonly [number, number]> = [
  [K_IPV4_SRC, DIRECT_IP + ipv4.SRC_ADDR],
  [K_IPV4_DST, DIRECT_IP + ipv4.DST_ADDR],
  [K_ARP_SENDER, DIRECT_IP + arp.SPA],
  [K_ARP_TARGET, DIRECT_IP + arp.TPA],
];

/**
 * Most address rewrites recorded per packet: 2 outer + 2 NDP + 2 quoted (or
 * 2 outer + a redirect gateway + 2 quoted) per packet, and as many for each
 * packet a tunnel carries; past this they are counted, not recorded.
 */
export const MAX_RECORDS = 32;

/** A delta computed at one parity, for a checksum whose words start at the other: its bytes swapped (RFC 1071 2.(B)). */
function swapped(delta: number): number {
  const f = fold(delta);
  return ((f & 0xff) << 8) | (f >>> 8);
}

/** `delta` of words aligned at offset `from`, for a checksum whose words are aligned at `to`. */
function aligned(delta: number, from: number, to: number): number {
  return ((from ^ to) & 1) === 0 ? delta : swapped(delta);
}

/** The reused result of `Translator.translate`. Valid until the next call. */
export class TranslateResult {
  /** Some byte of the packet was written. */
  changed = false;
  /** Bitmask of `1 << K_*`: which addresses were rewritten. */
  rewrites = 0;
  /** Bitmask of C_*: which checksum fields were written. */
  checksums = 0;
  /** Index of the first rule used, -1 when none. */
  rule = -1;
  /** The packet has an impossible header and was left unchanged (static reason). */
  undecodable: string | null = null;
  /** The link type is not handled: unchanged. */
  unknownLink = false;
  /** The network payload is not one we handle (EtherType/AF/MPLS payload): unchanged. */
  unknownProtocol = false;
  /** The capture cut the frame (capLen < origLen). */
  truncated = false;
  /** Number of valid records below. */
  count = 0;
  /** Per record: K_* kind, rule index, old/new IPv4 address or old/new IPv6 bytes at [i*16, i*16+16). */
  readonly kinds = new Uint8Array(MAX_RECORDS);
  /** Per record: the tunnel the address was inside ("VXLAN VNI 42", for describe and the leak check), null in the frame's own packet. */
  readonly tunnels: Array<string | null> = new Array<string | null>(MAX_RECORDS).fill(null);
  readonly rules = new Int32Array(MAX_RECORDS);
  readonly old4 = new Uint32Array(MAX_RECORDS);
  readonly new4 = new Uint32Array(MAX_RECORDS);
  readonly old6 = new Uint8Array(MAX_RECORDS * 16);
  readonly new6 = new Uint8Array(MAX_RECORDS * 16);
  /** old6/new6 as 32-bit words, for reset(). */
  private readonly old6Words = new Int32Array(this.old6.buffer);
  private readonly new6Words = new Int32Array(this.new6.buffer);

  reset(): void {
    this.changed = false;
    this.rewrites = 0;
    this.checksums = 0;
    this.rule = -1;
    this.undecodable = null;
    this.unknownLink = false;
    this.unknownProtocol = false;
    this.truncated = false;
    // Only the records the last packet wrote (none when `details` is off).
    for (let i = 0; i < this.count; i++) {
      if (isIpv6Kind(this.kinds[i]!)) {
        const o = this.old6Words;
        const n = this.new6Words;
        const w = i * 4;
        o[w] = o[w + 1] = o[w + 2] = o[w + 3] = 0;
        n[w] = n[w + 1] = n[w + 2] = n[w + 3] = 0;
      } else {
        this.old4[i] = 0;
        this.new4[i] = 0;
      }
      this.kinds[i] = 0;
      this.tunnels[i] = null;
      this.rules[i] = 0;
    }
    this.count = 0;
  }

  /**
   * A one-line description for a pcapng packet comment, prefixed "ssnat:".
   * Allocates; call only when annotating.
   * e.g. `ssnat: ipv4.src 10.0.0.2>192.168.1.2 (rule 10.0.0.0/24=192.168.1.0/24@tap1); ipv4.dst ...`
   */
  describe(mapper: InterfaceMapper): string {
    if (this.undecodable !== null) return `ssnat: undecodable (${this.undecodable}), passed unchanged`;
    if (this.unknownLink) return 'ssnat: link type not handled, passed unchanged';
    const parts: string[] = [];
    for (let i = 0; i < this.count; i++) {
      const where = this.tunnels[i] === null ? '' : ` inside ${this.tunnels[i]}`;
      parts.push(`${KIND_NAMES[this.kinds[i]!] ?? 'addr'} ${this.oldText(i)}>${this.newText(i)}${where} (rule ${mapper.ruleText(this.rules[i]!)})`);
    }
    if (parts.length === 0) return this.unknownProtocol ? 'ssnat: protocol not handled, passed unchanged' : 'ssnat: no address translated';
    return `ssnat: ${parts.join('; ')}`;
  }

  /** The address record i replaced, as text (allocates). */
  oldText(i: number): string {
    return isIpv6Kind(this.kinds[i]!) ? formatIpv6(this.old6, i * 16) : formatIpv4(this.old4[i]!);
  }

  /** The address record i wrote, as text (allocates). */
  newText(i: number): string {
    return isIpv6Kind(this.kinds[i]!) ? formatIpv6(this.new6, i * 16) : formatIpv4(this.new4[i]!);
  }
}

/** CRC-32 of the bytes a link FCS covers (DecodeResult.fcsCoverOff .. fcsOff, without the 802.11 data padding). */
export function fcsCrc(buf: Uint8Array, d: DecodeResult): number {
  if (d.fcsPadLen === 0) return crc32(buf, d.fcsCoverOff, d.fcsOff - d.fcsCoverOff);
  const head = crc32(buf, d.fcsCoverOff, d.fcsPadOff - d.fcsCoverOff);
  const rest = d.fcsPadOff + d.fcsPadLen;
  return crc32(buf, rest, d.fcsOff - rest, head);
}

/** What `Translator.rewriteBatch` needs besides the batch. */
export interface BatchContext {
  /** Per interface index: its compiled rules (undefined: none) and link type. */
  readonly mappers: ReadonlyArray<InterfaceMapper | undefined>;
  readonly linkTypes: readonly number[];
  /** Packets rewritten, per bitmask of K_*. */
  readonly maskCounts: Float64Array;
  /**
   * Called, in order, for each packet left as it is because the decoder could
   * not read it: undecodable (an impossible header), or a link inside PPI
   * that it does not decode (`unreadPpiLink`; an interface whose own link
   * type is not decoded is counted whole, by the caller). With its decode
   * result (valid only then).
   */
  readonly onNotDecoded: (index: number, d: DecodeResult) => void;
}

export class Translator {
  /** The decoder used by `translate`; its `result` describes the last packet (valid after translation too). */
  readonly decoder: PacketDecoder;
  readonly result = new TranslateResult();
  private v: DataView;
  private buf: Uint8Array = new Uint8Array(0);
  private mapper: InterfaceMapper | null = null;
  /** The packet being translated: the frame's, or one a tunnel carries (its `depth` the tunnels around it). */
  private d: DecodeResult;
  /** The packet whose tunnel carries `d`, when it is deeper than 0 (its tunnel names the records'). */
  private carrier: DecodeResult | null = null;
  private readonly scratch6 = new Uint8Array(16);
  /** rewriteBatch: the packets left to `translate`. */
  private others = new Int32Array(0);
  /** rewriteBatch takes VXLAN's commonest packets on the direct path (`vxlan`); `inTunnel` while it translates one's inner frame. */
  private directVxlan = false;
  private inTunnel = false;
  /** The last VTEP address pair `vxlan` found no rule for, and the mapper asked. */
  private vtepSrc = 0;
  private vtepDst = 0;
  private vtepMapper: InterfaceMapper | null = null;
  /** rewrite: the first bytes of the frame as they were before the direct path. */
  private readonly before = new Uint8Array(DIRECT_SPAN);
  private readonly beforeView = new DataView(this.before.buffer);

  /**
   * Keep each rewrite's old and new address for `describe()`. A run that
   * does not annotate turns it off and saves the bookkeeping per address;
   * `changed`, `rewrites` and `rule` are kept either way.
   */
  details = true;

  /**
   * Addresses rewritten per rule (indexed as the rules were given), for the
   * report's ruleHits; sized by `countRuleHits`. An increment per rewritten
   * address, nothing per packet.
   */
  ruleHits: Float64Array = new Float64Array(0);

  /** Keep a link FCS right after a change (off for the leak check's scratch copies, which are thrown away). */
  fcs = true;

  /**
   * The leak check's walker of the address sites left alone on purpose:
   * after `translate`, it has been shown the packet (it is reset by its
   * owner, not here: `rewrite`'s direct path never reaches such a site).
   */
  untranslated: UntranslatedSites | null = null;

  constructor(decoder: PacketDecoder = new PacketDecoder()) {
    this.decoder = decoder;
    this.v = decoder.view;
    this.d = decoder.result;
  }

  /** The decode result of the last packet given to `translate`. */
  get decoded(): DecodeResult {
    return this.decoder.result;
  }

  /**
   * Translates one packet in place in buf[off .. off+capLen). Never changes
   * lengths. Returns the reused result object.
   */
  translate(buf: Uint8Array, off: number, capLen: number, origLen: number, linkType: number, mapper: InterfaceMapper): TranslateResult {
    const r = this.result;
    r.reset();
    const d = this.decoder.decode(buf, off, capLen, origLen, linkType);
    r.truncated = d.truncated;
    r.unknownLink = d.unknownLink;
    r.unknownProtocol = d.unknownProtocol;
    r.undecodable = d.undecodable;
    if (d.undecodable !== null || !mapper.active) return r;
    this.v = this.decoder.view;
    this.buf = buf;
    this.mapper = mapper;
    const crcBefore = d.fcsCoverOff >= 0 && this.fcs ? fcsCrc(buf, d) : -1;
    this.carrier = null;
    this.packet(d);
    if (crcBefore >= 0 && r.changed) this.fixFcs(d, crcBefore);
    if (this.untranslated !== null) this.untranslated.walk(buf, this.v, d, mapper, this.decoder.tunnels ? this.decoder.tunnelPorts : null);
    this.mapper = null;
    return r;
  }

  /**
   * `translate` for a caller that does not look at the decode result (the
   * rewrite loop; `decoded` describes this packet only when the result says
   * the decoder ran and stopped: `undecodable` set, or `unknownLink`, and
   * then `unreadPpiLink` says which; after the direct path it still describes
   * an earlier packet). The commonest packet by far, Ethernet + IPv4
   * without options + an unfragmented TCP or UDP segment captured whole, is
   * translated straight from its bytes (`direct`), skipping the general
   * decoder; every other packet goes through `translate`. Both write the same
   * bytes and return the same result (test/nat/fast-path.test.ts).
   */
  rewrite(buf: Uint8Array, off: number, capLen: number, origLen: number, linkType: number, mapper: InterfaceMapper): TranslateResult {
    if (linkType !== LINKTYPE_ETHERNET || !mapper.active) return this.translate(buf, off, capLen, origLen, linkType, mapper);
    // The bytes the direct path may change, to describe what it did afterwards.
    this.before.set(buf.subarray(off, off + Math.min(capLen, DIRECT_SPAN)));
    const v = this.decoder.viewOf(buf);
    const kinds = this.direct(v, off, capLen, mapper);
    if (kinds < 0) return this.translate(buf, off, capLen, origLen, linkType, mapper);
    const r = this.result;
    r.reset();
    r.truncated = capLen < origLen;
    if (kinds === 0) return r;
    const was = this.beforeView;
    for (const [kind, at] of DIRECT_ADDRESSES) {
      if ((kinds & (1 << kind)) === 0) continue;
      const old = was.getUint32(at);
      mapper.map4(old); // for its lastRule
      const i = this.record(kind, mapper.lastRule);
      if (i >= 0) {
        r.old4[i] = old;
        r.new4[i] = v.getUint32(off + at);
      }
    }
    if ((kinds & ((1 << K_IPV4_SRC) | (1 << K_IPV4_DST))) !== 0) {
      const ck = DIRECT_IP + ipv4.MIN_HEADER_LEN + (was.getUint8(DIRECT_IP + ipv4.PROTOCOL) === IPPROTO_TCP ? tcp.CHECKSUM : udp.CHECKSUM);
      if (v.getUint16(off + DIRECT_IP + ipv4.CHECKSUM) !== was.getUint16(DIRECT_IP + ipv4.CHECKSUM)) r.checksums |= C_IPV4;
      if (v.getUint16(off + ck) !== was.getUint16(ck)) r.checksums |= C_L4;
    }
    return r;
  }

  /**
   * Rewrites the packets of a batch in place, `batch.data[from..to)`: each
   * as `rewrite` would (the direct path, then `translate` for the packets it
   * does not take, in a second loop: translation is per packet, so the order
   * changes nothing, and the hot loop stays small for the JIT), with the
   * mapper and link type of its interface (a packet whose interface has no
   * active mapper is left as it is). Counts into `ctx.maskCounts` and returns
   * how many packets were rewritten.
   */
  rewriteBatch(buf: Uint8Array, batch: PacketBatch, from: number, to: number, ctx: BatchContext): number {
    const { mappers, linkTypes, maskCounts } = ctx;
    const v = this.decoder.viewOf(buf);
    const { data, capLen, iface } = batch;
    const others = this.others.length >= to - from ? this.others : (this.others = new Int32Array(to - from));
    let n = 0;
    let rewritten = 0;
    this.directVxlan = true;
    for (let i = from; i < to; i++) {
      const mapper = mappers[iface[i]!];
      if (mapper === undefined || !mapper.active) continue;
      const kinds = linkTypes[iface[i]!] === LINKTYPE_ETHERNET ? this.direct(v, data[i]!, capLen[i]!, mapper) : -1;
      if (kinds < 0) {
        others[n++] = i;
      } else if (kinds !== 0) {
        rewritten++;
        maskCounts[kinds]!++;
      }
    }
    this.directVxlan = false;
    return n === 0 ? rewritten : rewritten + this.translateOthers(buf, batch, others, n, ctx);
  }

  /** Packets of a batch the direct path did not take (`others[0..n)`): `translate` for each. */
  private translateOthers(buf: Uint8Array, batch: PacketBatch, others: Int32Array, n: number, ctx: BatchContext): number {
    const { mappers, linkTypes, maskCounts } = ctx;
    const { data, capLen, origLen, iface } = batch;
    let rewritten = 0;
    for (let k = 0; k < n; k++) {
      const i = others[k]!;
      const r = this.translate(buf, data[i]!, capLen[i]!, origLen[i]!, linkTypes[iface[i]!]!, mappers[iface[i]!]!);
      if (r.undecodable !== null || this.decoder.result.unreadPpiLink >= 0) ctx.onNotDecoded(i, this.decoder.result);
      else if (r.changed) {
        rewritten++;
        maskCounts[r.rewrites]!++;
      }
    }
    return rewritten;
  }

  /**
   * The direct path: the commonest packets, translated in place straight
   * from their bytes by the rules `translate` follows: Ethernet + IPv4
   * without options + an unfragmented TCP or UDP segment captured whole
   * whose checksum field is not the pseudo-header seed that transmit offload
   * leaves (those go to `translate`, which tells a seed from a checksum),
   * and Ethernet ARP. Returns -1 for any other packet (nothing is written),
   * else the bitmask of the addresses rewritten (1 << K_*; 0 for none).
   * Addresses are handled as int32 and every helper is small enough to be
   * inlined: the batch loop runs it without allocating, and no branch calls
   * a function the common packets never reach (V8 would deoptimize it).
   */
  private direct(v: DataView, off: number, capLen: number, mapper: InterfaceMapper): number {
    const ip = off + eth.HEADER_LEN;
    const capEnd = off + capLen;
    if (ip + FAST_MIN > capEnd) return -1;
    const etherType = v.getUint16(off + eth.ETHERTYPE);
    if (etherType === eth.ETHERTYPE_ARP) return this.directArp(v, ip, capEnd, mapper);
    const total = v.getUint16(ip + ipv4.TOTAL_LEN);
    const proto = v.getUint8(ip + ipv4.PROTOCOL);
    const l4 = ip + ipv4.MIN_HEADER_LEN;
    const ck = proto === IPPROTO_TCP ? l4 + tcp.CHECKSUM : proto === IPPROTO_UDP ? l4 + udp.CHECKSUM : -1;
    if (
      etherType !== eth.ETHERTYPE_IPV4 ||
      v.getUint8(ip + ipv4.VER_IHL) !== ipv4.VER_IHL_NO_OPTIONS ||
      (v.getUint16(ip + ipv4.FLAGS_FRAG) & (ipv4.FLAG_MF | ipv4.FRAG_OFFSET_MASK)) !== 0 ||
      ck < 0 ||
      ck + 2 > ip + total || // also a total length below the headers
      ip + total > capEnd
    ) {
      return -1;
    }
    // A UDP tunnel's packet: `translate` goes inside it (rewriteBatch takes VXLAN's commonest form itself).
    if (proto === IPPROTO_UDP && this.decoder.tunnels) {
      const ports = this.decoder.tunnelPorts;
      const sp = v.getUint16(l4 + udp.SRC_PORT);
      const dp = v.getUint16(l4 + udp.DST_PORT);
      if ((ports[sp]! | ports[dp]!) !== 0) return this.directVxlan ? this.vxlan(v, ip, l4, total, mapper, udpTunnel(ports, sp, dp)) : -1;
    }
    const oldSrc = v.getInt32(ip + ipv4.SRC_ADDR);
    const oldDst = v.getInt32(ip + ipv4.DST_ADDR);
    const field = v.getUint16(ck);
    const addrSum = (oldSrc >>> 16) + (oldSrc & 0xffff) + (oldDst >>> 16) + (oldDst & 0xffff);
    const l4Len = proto === IPPROTO_UDP ? v.getUint16(l4 + udp.LENGTH) : total - ipv4.MIN_HEADER_LEN;
    if (seedForm(proto, field, addrSum, l4Len) !== SEED_NONE) return -1;
    const newSrc = mapper.map4(oldSrc >>> 0); // -1: no rule
    const srcRule = mapper.lastRule;
    const newDst = mapper.map4(oldDst >>> 0);
    let kinds = 0;
    let delta = 0;
    if (newSrc >= 0 && (newSrc | 0) !== oldSrc) {
      v.setInt32(ip + ipv4.SRC_ADDR, newSrc | 0);
      delta += delta32(oldSrc, newSrc | 0);
      kinds = 1 << K_IPV4_SRC;
      this.hit(srcRule);
    }
    if (newDst >= 0 && (newDst | 0) !== oldDst) {
      v.setInt32(ip + ipv4.DST_ADDR, newDst | 0);
      delta += delta32(oldDst, newDst | 0);
      kinds |= 1 << K_IPV4_DST;
      this.hit(mapper.lastRule);
    }
    if (kinds === 0) return 0;
    v.setUint16(ip + ipv4.CHECKSUM, applyDelta(v.getUint16(ip + ipv4.CHECKSUM), delta));
    if (proto !== IPPROTO_UDP) {
      v.setUint16(ck, applyDelta(field, delta));
    } else if (field !== 0) {
      const n = applyDelta(field, delta);
      v.setUint16(ck, n === 0 ? 0xffff : n);
    }
    return kinds;
  }

  /**
   * The direct path for VXLAN's commonest packet (rewriteBatch only): an
   * IPv4/UDP datagram (checked by `direct`) whose addresses no rule maps,
   * carrying VXLAN whose frame the direct path takes (not a tunnel again).
   * The inner frame is translated by `direct` with the VNI's mapper, and the
   * outer UDP checksum (0 stays 0) takes the delta of the words it changed.
   * That delta is the inner TCP/UDP checksum's change alone (the inner IPv4
   * header's words sum as before: its checksum moves against its addresses),
   * or an ARP message's address changes. Returns -1 for any other packet
   * (nothing written), else the kinds (1 << K_TUNNELLED, or 0).
   */
  private vxlan(v: DataView, ip: number, l4: number, total: number, mapper: InterfaceMapper, kind: number): number {
    const inner = l4 + udp.HEADER_LEN + VXLAN_HEADER;
    const end = ip + total;
    if (kind !== TUN_VXLAN || this.inTunnel || v.getUint16(l4 + udp.LENGTH) !== end - l4) return -1;
    // The VTEPs' addresses: no rule may map them (one pair remembered: a capture has few VTEPs).
    const src = v.getInt32(ip + ipv4.SRC_ADDR);
    const dst = v.getInt32(ip + ipv4.DST_ADDR);
    if (src !== this.vtepSrc || dst !== this.vtepDst || mapper !== this.vtepMapper) {
      if (mapper.map4(src >>> 0) >= 0 || mapper.map4(dst >>> 0) >= 0) return -1;
      this.vtepSrc = src;
      this.vtepDst = dst;
      this.vtepMapper = mapper;
    }
    // The words whose change the outer checksum takes, where `direct` would write them (else it is left to `translate`).
    const a = inner + DIRECT_IP;
    const isArp = inner + eth.HEADER_LEN <= end && v.getUint16(inner + eth.ETHERTYPE) === eth.ETHERTYPE_ARP;
    if (isArp ? a + arp.TPA + 4 > end : inner + DIRECT_SPAN > end) return -1;
    const ck = isArp ? -1 : a + ipv4.MIN_HEADER_LEN + (v.getUint8(a + ipv4.PROTOCOL) === IPPROTO_TCP ? tcp.CHECKSUM : udp.CHECKSUM);
    const o1 = isArp ? v.getInt32(a + arp.SPA) : v.getUint16(ck);
    const o2 = isArp ? v.getInt32(a + arp.TPA) : 0;
    this.inTunnel = true;
    const kinds = this.direct(v, inner, end - inner, mapper.inTunnel(SCOPE_VNI, v.getUint32(l4 + udp.HEADER_LEN + VXLAN_VNI) >>> 8));
    this.inTunnel = false;
    if (kinds <= 0) return kinds;
    const field = v.getUint16(l4 + udp.CHECKSUM);
    if (field !== 0) {
      const delta = isArp ? delta32(o1, v.getInt32(a + arp.SPA)) + delta32(o2, v.getInt32(a + arp.TPA)) : delta16(o1, v.getUint16(ck));
      const c = applyDelta(field, delta);
      v.setUint16(l4 + udp.CHECKSUM, c === 0 ? 0xffff : c);
    }
    return 1 << K_TUNNELLED;
  }

  /** The direct path for an ARP message at `a` (after an Ethernet header): what `translateArp` does. */
  private directArp(v: DataView, a: number, capEnd: number, mapper: InterfaceMapper): number {
    if (arp.ipv4HardwareLen(v, a, capEnd) !== arp.HLEN_ETHERNET) return -1; // other layouts: translate
    let kinds = 0;
    if (a + arp.SPA + 4 <= capEnd) {
      const old = v.getInt32(a + arp.SPA);
      const n = mapper.map4(old >>> 0);
      if (n >= 0 && (n | 0) !== old) {
        v.setInt32(a + arp.SPA, n | 0);
        kinds = 1 << K_ARP_SENDER;
        this.hit(mapper.lastRule);
      }
    }
    if (a + arp.TPA + 4 <= capEnd) {
      const old = v.getInt32(a + arp.TPA);
      const n = mapper.map4(old >>> 0);
      if (n >= 0 && (n | 0) !== old) {
        v.setInt32(a + arp.TPA, n | 0);
        kinds |= 1 << K_ARP_TARGET;
        this.hit(mapper.lastRule);
      }
    }
    return kinds;
  }

  /**
   * One decoded packet (the frame's, or one a tunnel carries) with the
   * mapper in hand: its addresses and checksums, the packets inside its
   * tunnels first. Returns the delta of every word written in it, aligned
   * as `d.netOff`.
   */
  private packet(d: DecodeResult): number {
    this.d = d;
    if (d.net === NET_IPV4 || d.net === NET_IPV6) return this.translateIp(d.ip, d.capEnd, 0);
    if (d.net === NET_ARP) return this.translateArp(d);
    return 0;
  }

  /**
   * The packet inside the tunnel of `d` (the packet in hand), with the
   * mapper of that tunnel's scope, then the GRE checksum that covers it.
   * Returns the delta of every word written from the tunnel header on,
   * aligned as even offsets of the buffer.
   */
  private tunnelled(d: DecodeResult): number {
    const inner = d.payload!;
    const t = d.tunnel;
    const outer = this.mapper!;
    const carrier = this.carrier;
    this.mapper = mapperInside(outer, t);
    this.carrier = d;
    let delta = aligned(this.packet(inner), inner.netOff, 0);
    this.mapper = outer;
    this.carrier = carrier;
    this.d = d;
    const g = t.greChecksumOff;
    if (delta !== 0 && g >= 0 && g + GRE_CHECKSUM + 2 <= d.ip.dataEnd) {
      delta += aligned(this.fixChecksum(g + GRE_CHECKSUM, aligned(delta, 0, g), false, C_TUNNEL), g, 0);
    }
    return delta;
  }

  /** ARP or RARP with IPv4 protocol addresses, of any hardware address length; returns the delta of its words, aligned as the message. */
  private translateArp(d: DecodeResult): number {
    const v = this.v;
    const off = d.netOff;
    const capEnd = d.capEnd;
    const hlen = arp.ipv4HardwareLen(v, off, capEnd);
    if (hlen < 0) return 0;
    const spa = off + arp.senderProtocolOffset(hlen);
    const tpa = off + arp.targetProtocolOffset(hlen, arp.PLEN_IPV4);
    const rarp = d.etherType === eth.ETHERTYPE_RARP;
    let delta = 0;
    if (spa + 4 <= capEnd) delta += aligned(this.map4At(spa, rarp ? K_RARP_SENDER : K_ARP_SENDER), spa, off);
    if (tpa + 4 <= capEnd) delta += aligned(this.map4At(tpa, rarp ? K_RARP_TARGET : K_ARP_TARGET), tpa, off);
    return delta;
  }

  /** The FCS after a change: F' = F ^ crc(before) ^ crc(after) (src/wire/crc32.ts). */
  private fixFcs(d: DecodeResult, crcBefore: number): void {
    const v = this.v;
    const old = v.getUint32(d.fcsOff, true);
    const n = (old ^ crcBefore ^ fcsCrc(this.buf, d)) >>> 0;
    if (n === old) return;
    v.setUint32(d.fcsOff, n, true);
    this.result.checksums |= C_FCS;
  }

  /**
   * Translates one IP header (depth 0: the packet; depth 1: the packet quoted
   * by an ICMP error, whose bytes end at `avail`) and its L4 checksum.
   * Returns the delta of every 16-bit word written inside [ip.off, avail), for
   * the checksum of an enclosing ICMP message.
   */
  private translateIp(ip: IpInfo, avail: number, depth: number): number {
    let addr = 0; // delta of the address words (header)
    let pseudo = 0; // delta of the L4 pseudo-header
    // A wrong IPv4 header checksum of 0x0000 in the packet: IP checksum offload, when the frame is TSO or its L4
    // checksum holds an offload seed (decided below, as the verifier's ipv4.checksum-offloaded): it stays 0x0000.
    let zeroHeader = false;
    if (ip.version === 4) {
      const hc = ip.off + ipv4.CHECKSUM;
      zeroHeader = depth === 0 && this.d.depth === 0 && ip.headerCaptured && this.v.getUint16(hc) === 0 && sumHeader(this.v, ip.off, ip.headerLen) !== 0xffff;
      if (ip.srcOff + 4 <= avail) {
        const dd = this.map4At(ip.srcOff, depth === 0 ? K_IPV4_SRC : K_INNER_IPV4_SRC);
        addr += dd;
        pseudo += dd;
      }
      if (ip.dstOff + 4 <= avail) {
        const dd = this.map4At(ip.dstOff, depth === 0 ? K_IPV4_DST : K_INNER_IPV4_DST);
        addr += dd;
        if (ip.pseudoDstOff === ip.dstOff) pseudo += dd;
      }
      if (addr !== 0 && hc + 2 <= avail && !zeroHeader) {
        addr += this.fixChecksum(hc, addr, false, this.d.depth !== 0 ? C_TUNNEL : depth === 0 ? C_IPV4 : C_INNER_IPV4);
      }
    } else if (ip.version === 6) {
      if (ip.srcOff + 16 <= avail) {
        const dd = this.map6At(ip.srcOff, depth === 0 ? K_IPV6_SRC : K_INNER_IPV6_SRC);
        addr += dd;
        pseudo += dd;
      }
      if (ip.dstOff + 16 <= avail) {
        const dd = this.map6At(ip.dstOff, depth === 0 ? K_IPV6_DST : K_INNER_IPV6_DST);
        addr += dd;
        if (ip.pseudoDstOff === ip.dstOff) pseudo += dd;
      }
    } else {
      return 0;
    }
    const l4 = ip.l4Off;
    const header = addr; // the header's words: all a zero header checksum left as it is would cover
    if (l4 < 0) return addr + this.fixZeroHeader(ip, zeroHeader, header, false);
    const end = ip.dataEnd;
    const l4c = this.d.depth !== 0 ? C_TUNNEL : depth === 0 ? C_L4 : C_INNER_L4;
    // A tunnel in the payload: the packet it carries first (its delta, aligned as even offsets).
    const d = this.d;
    const inner = depth === 0 && d.payload !== null ? this.tunnelled(d) : 0;
    if (inner !== 0) addr += aligned(inner, 0, ip.off);
    let seeded = false;
    switch (ip.proto) {
      case IPPROTO_TCP:
      case IPPROTO_UDP: {
        // A UDP checksum of 0 is never a seed (src/wire/offload.ts): it is "none" over IPv4 and invalid over IPv6,
        // and stays 0 (fixChecksum), as the kernel's NAT keeps it even for CHECKSUM_PARTIAL. It stays 0 over
        // a tunnel too (RFC 6935, RFC 6936 allow it over IPv6).
        const at = l4 + (ip.proto === IPPROTO_TCP ? tcp.CHECKSUM : udp.CHECKSUM);
        if (at + 2 > end) break;
        seeded = depth === 0 && (pseudo !== 0 || (zeroHeader && addr !== 0)) && this.isOffloadSeed(ip, at, pseudo);
        // The payload's words count too: the checksum covers them (an offload seed does not).
        const sum = seeded || inner === 0 ? pseudo : pseudo + aligned(inner, 0, l4);
        if (sum !== 0) addr += seeded ? this.fixOffloadSeed(at, pseudo, l4c) : this.fixChecksum(at, sum, ip.proto === IPPROTO_UDP, inner !== 0 ? C_TUNNEL : l4c);
        break;
      }
      case IPPROTO_UDPLITE:
        if (pseudo !== 0 && l4 + udp.CHECKSUM + 2 <= end) addr += this.fixChecksum(l4 + udp.CHECKSUM, pseudo, true, l4c);
        break;
      case IPPROTO_DCCP:
        if (pseudo !== 0 && l4 + dccp.CHECKSUM + 2 <= end) addr += this.fixChecksum(l4 + dccp.CHECKSUM, pseudo, false, l4c);
        break;
      case IPPROTO_ICMP: {
        if (depth !== 0 || ip.version !== 4) break;
        let body = 0;
        // A Redirect names the gateway to use instead: an address on the guest's network.
        if (d.icmpType === icmp.REDIRECT && l4 + icmp.REDIRECT_GATEWAY + 4 <= end) body += this.map4At(l4 + icmp.REDIRECT_GATEWAY, K_ICMP_REDIRECT_GATEWAY);
        if (d.icmpError && d.inner.version !== 0) body += this.translateIp(d.inner, d.quoteEnd, 1);
        // The words changed inside the message count for a checksum around the packet (a tunnel's UDP or GRE), as its checksum's do.
        addr += body;
        if (body !== 0 && l4 + icmp.CHECKSUM + 2 <= end) addr += this.fixChecksum(l4 + icmp.CHECKSUM, body, false, l4c);
        break;
      }
      case IPPROTO_ICMPV6: {
        if (ip.version !== 6) break;
        // NDP targets and a quoted packet are words of the message: they count for a checksum around the packet too (the pseudo-header does not).
        const words = depth === 0 ? this.translateIcmpv6Body(l4, end) : 0;
        addr += words;
        const body = pseudo + words;
        if (body !== 0 && l4 + icmpv6.CHECKSUM + 2 <= end) addr += this.fixChecksum(l4 + icmpv6.CHECKSUM, body, false, l4c);
        break;
      }
      default:
        break;
    }
    return addr + this.fixZeroHeader(ip, zeroHeader, header, seeded);
  }

  /**
   * A wrong IPv4 header checksum of 0x0000 (`zero`) whose addresses changed
   * (`delta`): left 0x0000 in a TSO frame or beside an L4 offload seed
   * (`seeded`), as IP checksum offload leaves it for the NIC; else updated
   * as any wrong checksum is (it stays exactly as wrong). Returns the delta
   * of the checksum word.
   */
  private fixZeroHeader(ip: IpInfo, zero: boolean, delta: number, seeded: boolean): number {
    if (!zero || delta === 0 || seeded || isTsoFrame(ip)) return 0;
    return this.fixChecksum(ip.off + ipv4.CHECKSUM, delta, false, C_IPV4);
  }

  /** NDP targets, and the quoted packet of an ICMPv6 error or of a Redirect's Redirected Header option; returns the delta of the words changed. */
  private translateIcmpv6Body(l4: number, end: number): number {
    const d = this.d;
    if (d.icmpError) return d.inner.version === 0 ? 0 : this.translateIp(d.inner, d.quoteEnd, 1);
    const t = d.icmpType;
    let body = 0;
    if (t === icmpv6.NEIGHBOR_SOLICITATION || t === icmpv6.NEIGHBOR_ADVERTISEMENT || t === icmpv6.REDIRECT) {
      if (l4 + icmpv6.NDP_TARGET + 16 <= end) body += this.map6At(l4 + icmpv6.NDP_TARGET, K_NDP_TARGET);
      if (t === icmpv6.REDIRECT && l4 + icmpv6.NDP_REDIRECT_DEST + 16 <= end) body += this.map6At(l4 + icmpv6.NDP_REDIRECT_DEST, K_NDP_REDIRECT_DST);
      if (d.redirectQuote && d.inner.version !== 0) body += this.translateIp(d.inner, d.quoteEnd, 1);
    }
    return body;
  }

  /**
   * Transmit checksum offload: the TCP/UDP checksum field holds an offload
   * seed (src/wire/offload.ts) of the addresses as they were before this
   * packet's translation (the bytes already hold the new ones: old = new -
   * `delta`), over the L4 length the verifier takes (the frame's, for a TSO
   * frame; UDP's length field), and is not also a valid checksum (checked
   * when the datagram is captured whole, as the verifier judges it).
   * Unfragmented datagrams only: a first fragment does not know the
   * datagram's length.
   */
  private isOffloadSeed(ip: IpInfo, at: number, delta: number): boolean {
    if (ip.isFragment || ip.pseudoDstOff < 0) return false;
    const v = this.v;
    const d = this.d;
    const capEnd = d.capEnd;
    const l4 = ip.l4Off;
    const end = datagramEnd(ip, d.frameEnd);
    let len = end - l4;
    if (ip.proto === IPPROTO_UDP) {
      if (l4 + udp.LENGTH + 2 > capEnd) return false;
      const ulen = v.getUint16(l4 + udp.LENGTH);
      if (!(ulen === 0 && ip.jumbo)) {
        if (ulen < udp.HEADER_LEN || ulen > len) return false;
        len = ulen;
      }
    }
    let addr: number;
    if (ip.version === 4) {
      if (ip.pseudoDstOff + 4 > capEnd) return false;
      const s = v.getUint32(ip.srcOff);
      const t = v.getUint32(ip.pseudoDstOff);
      addr = (s >>> 16) + (s & 0xffff) + (t >>> 16) + (t & 0xffff);
    } else {
      if (ip.pseudoDstOff + 16 > capEnd) return false;
      addr = onesSum(this.buf, ip.pseudoDstOff, 16, onesSum(this.buf, ip.srcOff, 16, 0));
    }
    const old = fold(fold(addr) + (~fold(delta) & 0xffff));
    const field = v.getUint16(at);
    if (seedForm(ip.proto, field, old, len) === SEED_NONE) return false;
    if (l4 + len > capEnd) return true;
    // A right checksum that happens to equal a seed stays a checksum (TCP 0xFFFF is never right, as the verifier says).
    const sum = fold(onesSum(this.buf, l4, len, old + ip.proto + Math.floor(len / 0x10000) + (len & 0xffff)));
    return sum !== 0xffff || (ip.proto === IPPROTO_TCP && field === 0xffff);
  }

  /**
   * Keeps an offload seed a seed of the translated addresses, as the kernel's
   * NAT does for CHECKSUM_PARTIAL (inet_proto_csum_replace4): F' = F + delta.
   * Updating it as a checksum would move it the other way, and the verifier
   * would call a `*.checksum-offloaded` warning a checksum error.
   */
  private fixOffloadSeed(at: number, delta: number, bit: number): number {
    const v = this.v;
    const old = v.getUint16(at);
    const n = fold(old + fold(delta));
    if (n === old) return 0;
    v.setUint16(at, n);
    this.result.checksums |= bit;
    this.result.changed = true;
    return delta16(old, n);
  }

  /**
   * Applies `delta` to the 16-bit checksum at `at` (RFC 1624 eq. 3). With
   * `udp`: a 0 stays 0 and a 0 result is written 0xFFFF. Returns the delta of
   * the checksum word itself (0 when unchanged).
   */
  private fixChecksum(at: number, delta: number, udpRule: boolean, bit: number): number {
    const v = this.v;
    const old = v.getUint16(at);
    if (udpRule && old === 0) return 0;
    let n = applyDelta(old, delta);
    if (udpRule && n === 0) n = 0xffff;
    if (n === old) return 0;
    v.setUint16(at, n);
    this.result.checksums |= bit;
    this.result.changed = true;
    return delta16(old, n);
  }

  /** Maps the IPv4 address at `at` in place; returns its checksum delta (0 when unchanged). */
  private map4At(at: number, kind: number): number {
    const v = this.v;
    const m = this.mapper!;
    const old = v.getUint32(at);
    const mapped = m.map4(old);
    if (mapped < 0) return 0;
    const n = mapped >>> 0;
    if (n === old) return 0;
    v.setUint32(at, n);
    this.hit(m.lastRule);
    const r = this.result;
    const i = this.record(kind, m.lastRule);
    if (i >= 0) {
      r.old4[i] = old;
      r.new4[i] = n;
    }
    return delta32(old, n);
  }

  /** Maps the IPv6 address at `at` in place; returns its checksum delta (0 when unchanged). */
  private map6At(at: number, kind: number): number {
    const m = this.mapper!;
    const b = this.buf;
    const s = this.scratch6;
    if (!m.map6(b, at, s, 0)) return 0;
    let same = true;
    for (let k = 0; k < 16; k++) {
      if (b[at + k] !== s[k]) {
        same = false;
        break;
      }
    }
    if (same) return 0;
    const dd = deltaBytes(b, at, s, 0, 16);
    this.hit(m.lastRule);
    const r = this.result;
    const i = this.record(kind, m.lastRule);
    if (i >= 0) {
      const o = i * 16;
      for (let k = 0; k < 16; k++) {
        r.old6[o + k] = b[at + k]!;
        r.new6[o + k] = s[k]!;
      }
    }
    b.set(s, at);
    return dd;
  }

  /** Counts the addresses each of `rules` rules rewrites from now on (ruleHits). */
  countRuleHits(rules: number): void {
    this.ruleHits = new Float64Array(rules);
  }

  /** One more address rewritten by `rule`, when counting (ruleHits). */
  private hit(rule: number): void {
    if (rule < this.ruleHits.length) this.ruleHits[rule]!++;
  }

  private record(kind: number, rule: number): number {
    const r = this.result;
    r.changed = true;
    r.rewrites |= 1 << (this.d.depth === 0 ? kind : K_TUNNELLED);
    if (r.rule < 0) r.rule = rule;
    if (!this.details || r.count >= MAX_RECORDS) return -1;
    const i = r.count++;
    r.kinds[i] = kind;
    r.rules[i] = rule;
    if (this.d.depth !== 0) r.tunnels[i] = this.carrier!.tunnel.describe();
    return i;
  }
}
