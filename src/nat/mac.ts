/**
 * `--mac OLD=NEW[@IFACE]`: the clones of one snapshot share one MAC address
 * (QEMU's default 52:54:00:12:34:56), as they share one IP address; each
 * interface's can be given its own, as the rules give each its own network.
 * Guest-to-host rewrites OLD to NEW, host-to-guest NEW to OLD. A scope works
 * as a rule's (an if_name, or #N: Wireshark's frame.interface_id); without
 * one a mapping applies to every interface; the first that applies and
 * matches wins.
 *
 * Where the address is rewritten (every place that equals it):
 * - Ethernet source and destination (also behind PPI);
 * - 802.11 data frames: addresses 1-3, and 4 with ToDS and FromDS (the
 *   station's address is the transmitter or receiver as well as the source
 *   or destination), the FCS a radio header declares kept right
 *   (F' = F ^ crc(old) ^ crc(new), as the translator keeps it); protected
 *   frames too (their CCMP/GCMP MIC, which covers the addresses, then no
 *   longer checks: nothing here can recompute it). Management and control
 *   frames are not decoded and pass unchanged;
 * - Linux cooked captures SLL and SLL2: their one link-layer address (the
 *   sender's), when it is an Ethernet one (ARPHRD_ETHER, 6 bytes); SLL has no
 *   destination address;
 * - ARP and RARP with Ethernet hardware addresses and IPv4 protocol addresses
 *   (htype 1, hlen 6, ptype 0x0800, plen 4): sender and target hardware
 *   addresses [RFC 826, RFC 903];
 * - NDP (RS, RA, NS, NA, Redirect) Source and Target Link-Layer Address
 *   options of Ethernet length (8 bytes) [RFC 4861 4.6.1, RFC 2464 6], the
 *   ICMPv6 checksum updated incrementally (RFC 1624 eq. 3): a checksum that
 *   was wrong stays exactly as wrong. Not in fragments, nor beyond the
 *   captured bytes.
 * Not rewritten: addresses derived from a MAC (an EUI-64 IPv6 interface
 * identifier is an IP address: rules translate it), DHCP's chaddr and other
 * payload, the packet quoted in an ICMP error.
 *
 * `MacRewriter.apply` writes in place, never changes a length, and allocates
 * nothing per packet.
 */
import { RuleError } from '../errors.js';
import * as arp from '../wire/arp.js';
import { applyDelta, deltaBytes } from '../wire/checksum.js';
import { type DecodeResult, NET_ARP, NET_IPV6 } from '../wire/decode.js';
import * as eth from '../wire/ethernet.js';
import * as icmpv6 from '../wire/icmpv6.js';
import * as ieee from '../wire/ieee80211.js';
import { IPPROTO_ICMPV6 } from '../wire/ip.js';
import * as sll from '../wire/sll.js';
import * as sll2 from '../wire/sll2.js';
import type { CaptureInterface } from '../capture/interface.js';
import { describeScope, MAX_INTERFACE_ID, sameScope, SCOPE_ALL, type Scope } from './rules.js';
import type { Direction } from './table.js';
import { fcsCrc } from './translate.js';


export interface MacRule {
  /** The mapping as given, trimmed. */
  readonly text: string;
  /** The guest-side (OLD) and host-side (NEW) addresses, 6 bytes each. */
  readonly guest: Uint8Array;
  readonly host: Uint8Array;
  readonly scope: Scope;
}

/** Kinds of MAC address rewritten (bit index in `MacRewriter.apply`'s result). */
export const M_ETH_SRC = 0;
export const M_ETH_DST = 1;
export const M_WLAN_ADDR = 2;
export const M_SLL_ADDR = 3;
export const M_ARP_SENDER = 4;
export const M_ARP_TARGET = 5;
export const M_NDP_OPTION = 6;

/** The kinds' names, as the summary and --annotate show them. */
export const MAC_KIND_NAMES: readonly string[] = ['eth.src', 'eth.dst', 'wlan.addr', 'sll.addr', 'arp.sender-mac', 'arp.target-mac', 'ndp.lladdr'];

/** `52:54:00:12:34:56`. */
export function formatMac(b: Uint8Array, off = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < eth.MAC_LEN; i++) parts.push(b[off + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

function fail(text: string, column: number, what: string): never {
  throw new RuleError(`--mac ${JSON.stringify(text)}: ${what}`, text, column);
}

/** Six hex pairs joined by ':' (or '-'); null when `s` is not that. */
function parseMacText(s: string): Uint8Array | null {
  const m = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i.exec(s);
  if (m === null) return null;
  return Uint8Array.from([m[1], m[3], m[4], m[5], m[6], m[7]].map((h) => parseInt(h!, 16)));
}

/** One side of a mapping, at `col` in `text`: checked to be a station's own address. */
function macSide(text: string, part: string, col: number, which: string): Uint8Array {
  const trimmed = part.trim();
  const at = col + part.indexOf(trimmed.charAt(0) || ' ');
  if (trimmed === '') fail(text, col, `missing the ${which} MAC address (OLD=NEW, e.g. 52:54:00:12:34:56=52:54:00:00:00:01@tap1)`);
  const mac = parseMacText(trimmed);
  if (mac === null) fail(text, at, `${JSON.stringify(trimmed)} is not a MAC address (six hex pairs, e.g. 52:54:00:12:34:56)`);
  if ((mac[0]! & eth.GROUP_BIT) !== 0) fail(text, at, `${formatMac(mac)} is a group (multicast or broadcast) address: only a station's own address can be mapped`);
  if (mac.every((b) => b === 0)) fail(text, at, '00:00:00:00:00:00 is no station\'s address (it stands for "unknown" in ARP requests)');
  return mac;
}

/** Parses one `--mac OLD=NEW[@IFACE]` (surrounding whitespace ignored). Throws RuleError (exit 2) with the column of the bad part. */
export function parseMacRule(given: string): MacRule {
  const text = given.trim();
  if (text === '') fail(text, 0, 'empty mapping (OLD=NEW[@IFACE], e.g. 52:54:00:12:34:56=52:54:00:00:00:01@tap1)');
  const at = text.indexOf('@');
  const mapping = at >= 0 ? text.slice(0, at) : text;
  const eq = mapping.indexOf('=');
  if (eq < 0) fail(text, mapping.length, 'expected "=" between the guest MAC and the host MAC (OLD=NEW[@IFACE], e.g. 52:54:00:12:34:56=52:54:00:00:00:01@tap1)');
  if (mapping.indexOf('=', eq + 1) >= 0) fail(text, mapping.indexOf('=', eq + 1), 'more than one "="');
  const guest = macSide(text, mapping.slice(0, eq), 0, 'guest (OLD)');
  const host = macSide(text, mapping.slice(eq + 1), eq + 1, 'host (NEW)');
  if (guest.every((b, i) => b === host[i])) fail(text, eq + 1, `maps ${formatMac(guest)} to itself`);
  let scope: Scope = SCOPE_ALL;
  if (at >= 0) {
    const name = text.slice(at + 1).trim();
    if (name === '') fail(text, at, 'missing interface after "@" (a name, or #N for an interface id)');
    if (name.startsWith('#')) {
      const digits = name.slice(1);
      const id = Number(digits);
      if (!/^\d+$/.test(digits) || id > MAX_INTERFACE_ID) fail(text, at + 1, `interface id ${JSON.stringify(name)} is not a number from 0 to ${MAX_INTERFACE_ID} (e.g. @#0 for the first interface)`);
      scope = { kind: 'id', id };
    } else {
      scope = { kind: 'name', name };
    }
  }
  return { text, guest, host, scope };
}

function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < eth.MAC_LEN; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Checks a set of mappings as validateRuleSet checks rules, blaming the
 * later of two: one guest MAC twice in one scope (which would apply?), and
 * one host MAC in two mappings of any scope (the clones would share it
 * again, and host-to-guest could not tell them apart).
 */
export function validateMacRules(rules: readonly MacRule[]): void {
  rules.forEach((r, i) => {
    for (let j = 0; j < i; j++) {
      const e = rules[j]!;
      if (sameScope(r.scope, e.scope) && sameMac(r.guest, e.guest)) {
        fail(r.text, 0, `guest MAC ${formatMac(r.guest)} is mapped already by --mac ${JSON.stringify(e.text)} on ${describeScope(r.scope)}`);
      }
      if (sameMac(r.host, e.host)) {
        fail(r.text, r.text.indexOf('=') + 1, `host MAC ${formatMac(r.host)} is given already by --mac ${JSON.stringify(e.text)}; two clones must not share a host MAC`);
      }
    }
  });
}

/** Whether mapping `r` applies on `iface`. */
export function macApplies(r: MacRule, iface: Pick<CaptureInterface, 'id' | 'name'>): boolean {
  switch (r.scope.kind) {
    case 'all':
      return true;
    case 'name':
      return iface.name !== undefined && r.scope.name === iface.name;
    case 'id':
      return r.scope.id === iface.id;
  }
}

/** The mappings that apply on one interface, in the direction of the run: `from[6i..]` becomes `to[6i..]`, rule `rule[i]`. */
export class MacMap {
  readonly count: number;
  readonly from: Uint8Array;
  readonly to: Uint8Array;
  readonly rule: Int32Array;
  constructor(rules: readonly MacRule[], direction: Direction, iface: Pick<CaptureInterface, 'id' | 'name'>) {
    const idx: number[] = [];
    rules.forEach((r, i) => {
      if (macApplies(r, iface)) idx.push(i);
    });
    this.count = idx.length;
    this.from = new Uint8Array(idx.length * eth.MAC_LEN);
    this.to = new Uint8Array(idx.length * eth.MAC_LEN);
    this.rule = Int32Array.from(idx);
    idx.forEach((ri, k) => {
      const r = rules[ri]!;
      this.from.set(direction === 'guest-to-host' ? r.guest : r.host, k * eth.MAC_LEN);
      this.to.set(direction === 'guest-to-host' ? r.host : r.guest, k * eth.MAC_LEN);
    });
  }

  /** The entry whose `from` is the address at `buf[off..off+6)`, or -1. */
  find(buf: Uint8Array, off: number): number {
    const from = this.from;
    for (let k = 0; k < this.count; k++) {
      const f = k * eth.MAC_LEN;
      if (buf[off] === from[f] && buf[off + 1] === from[f + 1] && buf[off + 2] === from[f + 2] && buf[off + 3] === from[f + 3] && buf[off + 4] === from[f + 4] && buf[off + 5] === from[f + 5]) return k;
    }
    return -1;
  }
}

/** Most MAC rewrites recorded per packet for --annotate (4 802.11 addresses, 2 ARP, and NDP options). */
const MAX_RECORDS = 8;

export class MacRewriter {
  /** Addresses rewritten per kind (M_*). */
  readonly counts = new Float64Array(MAC_KIND_NAMES.length);
  /** Addresses rewritten per mapping, in the order given. */
  readonly hits: Float64Array;
  /** The last packet's rewrites, for describe(): kind and map entry. */
  private count = 0;
  private readonly kinds = new Uint8Array(MAX_RECORDS);
  private readonly entries = new Int32Array(MAX_RECORDS);
  private map: MacMap | null = null;
  private buf: Uint8Array = new Uint8Array(0);
  private d: DecodeResult | null = null;
  /** CRC-32 of what the link FCS covers, before the first write (-1: not taken yet). */
  private crcBefore = -1;

  constructor(readonly rules: readonly MacRule[]) {
    this.hits = new Float64Array(rules.length);
  }

  /**
   * Rewrites the MAC addresses of the decoded packet `d` in `buf` through
   * `map`; returns the bitmask of the kinds rewritten (1 << M_*; 0: none).
   */
  apply(buf: Uint8Array, v: DataView, d: DecodeResult, map: MacMap): number {
    this.count = 0;
    if (map.count === 0 || d.undecodable !== null) return 0;
    this.map = map;
    this.buf = buf;
    this.d = d;
    this.crcBefore = -1;
    let kinds = 0;
    const capEnd = d.capEnd;
    if (d.wlanOff >= 0) {
      const w = d.wlanOff;
      const both = (v.getUint8(w + ieee.FC_FLAGS) & (ieee.FLAG_TO_DS | ieee.FLAG_FROM_DS)) === (ieee.FLAG_TO_DS | ieee.FLAG_FROM_DS);
      kinds |= this.site(w + ieee.ADDR1, M_WLAN_ADDR) | this.site(w + ieee.ADDR2, M_WLAN_ADDR) | this.site(w + ieee.ADDR3, M_WLAN_ADDR);
      if (both) kinds |= this.site(w + ieee.ADDR4, M_WLAN_ADDR);
    } else if (d.srcMacOff >= 0) {
      kinds |= this.site(d.dstMacOff, M_ETH_DST) | this.site(d.srcMacOff, M_ETH_SRC);
    } else if (d.linkType === sll.LINKTYPE_LINUX_SLL) {
      const o = d.off;
      if (o + sll.HEADER_LEN <= capEnd && v.getUint16(o + sll.ARPHRD_TYPE) === sll.ARPHRD_ETHER && v.getUint16(o + sll.ADDR_LEN) === eth.MAC_LEN) kinds |= this.site(o + sll.ADDR, M_SLL_ADDR);
    } else if (d.linkType === sll2.LINKTYPE_LINUX_SLL2) {
      const o = d.off;
      if (o + sll2.HEADER_LEN <= capEnd && v.getUint16(o + sll2.ARPHRD_TYPE) === sll.ARPHRD_ETHER && v.getUint8(o + sll2.ADDR_LEN) === eth.MAC_LEN) kinds |= this.site(o + sll2.ADDR, M_SLL_ADDR);
    }
    if (d.net === NET_ARP) {
      const a = d.netOff;
      if (arp.ipv4HardwareLen(v, a, capEnd) === arp.HLEN_ETHERNET && v.getUint16(a + arp.HTYPE) === arp.HTYPE_ETHERNET) {
        if (a + arp.SHA + eth.MAC_LEN <= capEnd) kinds |= this.site(a + arp.SHA, M_ARP_SENDER);
        if (a + arp.THA + eth.MAC_LEN <= capEnd) kinds |= this.site(a + arp.THA, M_ARP_TARGET);
      }
    } else if (d.net === NET_IPV6) {
      kinds |= this.ndp(v, d);
    }
    if (this.crcBefore >= 0) {
      const old = v.getUint32(d.fcsOff, true);
      v.setUint32(d.fcsOff, (old ^ this.crcBefore ^ fcsCrc(buf, d)) >>> 0, true);
    }
    this.map = null;
    this.d = null;
    return kinds;
  }

  /** NDP link-layer address options, and the ICMPv6 checksum by the delta of what changed. */
  private ndp(v: DataView, d: DecodeResult): number {
    const ip = d.ip;
    const l4 = ip.l4Off;
    if (l4 < 0 || ip.isFragment || ip.proto !== IPPROTO_ICMPV6 || d.icmpType < 0) return 0;
    const first = icmpv6.ndpOptionsOffset(d.icmpType);
    if (first < 0) return 0;
    const end = ip.dataEnd < d.capEnd ? ip.dataEnd : d.capEnd;
    const buf = this.buf;
    const map = this.map!;
    let kinds = 0;
    let delta = 0;
    for (let p = l4 + first; p + icmpv6.OPT_HEADER_LEN <= end; ) {
      const len = v.getUint8(p + icmpv6.OPT_LEN) << 3;
      if (len === 0) break; // invalid (RFC 4861 4.6): nothing after it can be found
      const type = v.getUint8(p + icmpv6.OPT_TYPE);
      const at = p + icmpv6.OPT_LINK_ADDR;
      if ((type === icmpv6.OPT_SOURCE_LINK_ADDR || type === icmpv6.OPT_TARGET_LINK_ADDR) && len === 8 && p + len <= end) {
        const k = map.find(buf, at);
        if (k >= 0) {
          delta += deltaBytes(buf, at, map.to, k * eth.MAC_LEN, eth.MAC_LEN);
          this.write(at, k, M_NDP_OPTION);
          kinds |= 1 << M_NDP_OPTION;
        }
      }
      p += len;
    }
    const ck = l4 + icmpv6.CHECKSUM;
    if (delta !== 0 && ck + 2 <= end) {
      // Before the FCS is taken (write() took it already when an option changed).
      v.setUint16(ck, applyDelta(v.getUint16(ck), delta));
    }
    return kinds;
  }

  /** The address at `at`: rewritten when a mapping's `from` is there; its kind's bit, or 0. */
  private site(at: number, kind: number): number {
    const k = this.map!.find(this.buf, at);
    if (k < 0) return 0;
    this.write(at, k, kind);
    return 1 << kind;
  }

  private write(at: number, k: number, kind: number): void {
    const d = this.d!;
    if (this.crcBefore < 0 && d.fcsCoverOff >= 0) this.crcBefore = fcsCrc(this.buf, d);
    const map = this.map!;
    this.buf.set(map.to.subarray(k * eth.MAC_LEN, (k + 1) * eth.MAC_LEN), at);
    this.counts[kind]!++;
    this.hits[map.rule[k]!]!++;
    if (this.count < MAX_RECORDS) {
      this.kinds[this.count] = kind;
      this.entries[this.count] = k;
      this.count++;
    }
  }

  /** The last packet's rewrites for a pcapng comment, without the "ssnat: " prefix ("eth.src 52:54:00:12:34:56>52:54:00:00:00:01 (--mac ...)"); allocates. */
  describe(map: MacMap): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) {
      const k = this.entries[i]!;
      out.push(`${MAC_KIND_NAMES[this.kinds[i]!]} ${formatMac(map.from, k * eth.MAC_LEN)}>${formatMac(map.to, k * eth.MAC_LEN)} (--mac ${this.rules[map.rule[k]!]!.text})`);
    }
    return out;
  }
}
