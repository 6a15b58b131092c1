/**
 * ARP consistency, per broadcast domain (capture interface + VLAN tags):
 *
 * - `arp.malformed` (warning): an ARP or RARP packet whose lengths
 *   contradict its types (hardware type 1, Ethernet, with a hardware length
 *   other than 6; protocol type 0x0800, IPv4, with a protocol length other
 *   than 4), that has a zero length, or whose frame on the wire is too short
 *   for the fixed header and the four addresses its own lengths give (RFC
 *   826 is generic over them: IEEE 802, InfiniBand's 20-byte or any other
 *   hardware addresses are not malformed). A snaplen cut is not malformed
 *   (the capture's choice, not the sender's): such packets are skipped.
 *   The checks below look at ARP with 6-byte hardware and IPv4 protocol
 *   addresses (any hardware type), and not at RARP (RFC 903): a RARP
 *   exchange asks a server for the asker's own address, which binds nothing
 *   a request/reply or duplicate check could hold against it.
 * - `arp.duplicate-ip` (warning): a sender protocol address claimed with two
 *   different sender hardware addresses. Bindings are learnt from the sender
 *   fields of every request and reply (gratuitous ARP and announcements
 *   included), never from probes (sender 0.0.0.0, RFC 5227) and never from
 *   target fields. One finding per address and domain; the first binding is
 *   kept. A host that changes its MAC (failover) is reported too: that is
 *   what the check is for. Proxy ARP (one MAC answering for many addresses)
 *   is fine: only one address with several MACs is flagged.
 * - `arp.reply-mismatch` (error): a reply that does not answer the request
 *   it follows. A request "who-has T tell S" (from MAC M, not gratuitous:
 *   S != T) is outstanding for 30 s. A reply with sender T must name S as its
 *   target (the proper answer); a reply with sender T addressed to M that
 *   names another target is an error (one side of the exchange translated,
 *   the other not). A reply that repeats the request's sender S and target T
 *   from another MAC than M is an error too (sender/target not swapped).
 *   Unsolicited and gratuitous replies (sender == target) are fine, as are
 *   answers to probes.
 * - `arp.ip-mac-mismatch` (warning): an IPv4 packet from an address ARP has
 *   bound to one MAC, sent from another MAC: the Ethernet source, or an
 *   802.11 data frame's source address (SA: address 2, 3 or 4 by its
 *   ToDS/FromDS bits, the station that sent the packet, which is the MAC
 *   its ARP names; not the transmitter, an access point relaying it). Links
 *   without a source MAC (raw IP, PPP) are not checked, nor Linux cooked
 *   captures, whose one interface "any" merges the host's links: a routed
 *   packet leaves with the router's MAC on another link. Off-link
 *   addresses never appear as ARP senders, so traffic routed in through a
 *   router's MAC is not flagged; with proxy ARP the router's MAC is the
 *   binding and matches. A virtual router MAC (VRRP, HSRP) on either side
 *   is no mismatch: a router of such a group uses its own MAC and the
 *   group's for one address by design (eth.isVirtualRouterMac). One
 *   finding per address and domain; addresses already reported as
 *   duplicates are not reported again here.
 *
 * Tables are typed-array hash tables (no per-packet allocation) bounded by
 * `maxEntries` each; when full, new addresses are not learnt and one
 * `verify.limit` warning is raised.
 */
import * as arp from '../wire/arp.js';
import type { DecodeResult } from '../wire/decode.js';
import * as eth from '../wire/ethernet.js';
import { formatIpv4, formatMac } from '../wire/address.js';
import type { PacketContext } from './context.js';
import { KeyTable, grown } from './keytable.js';

const PENDING_SECONDS = 30;

/** Why an ARP packet's address lengths are malformed (for the message). */
function lengthProblem(htype: number, ptype: number, hlen: number, plen: number): string {
  if (htype === arp.HTYPE_ETHERNET && hlen !== arp.HLEN_ETHERNET) return `Ethernet addresses are ${arp.HLEN_ETHERNET} bytes`;
  if (ptype === arp.PTYPE_IPV4 && plen !== arp.PLEN_IPV4) return `IPv4 addresses are ${arp.PLEN_IPV4} bytes`;
  return 'an address length of 0';
}
/** " (inside VXLAN VNI 5001)" in a tunnel lane, for messages that do not name their location. */
function inside(ctx: PacketContext): string {
  return ctx.laneTunnel === '' ? '' : ` (inside ${ctx.laneTunnel})`;
}
const F_DUP = 1;
const F_MISMATCH = 2;

export class ArpChecker {
  readonly bindings: KeyTable;
  readonly pending: KeyTable;
  private bMacHi = new Int32Array(0);
  private bMacLo = new Int32Array(0);
  private bFrame = new Float64Array(0);
  private bFlags = new Uint8Array(0);
  private qSpa = new Int32Array(0);
  private qMacHi = new Int32Array(0);
  private qMacLo = new Int32Array(0);
  private qFrame = new Float64Array(0);
  private qTime = new Float64Array(0);
  private limitReported = false;

  constructor(maxEntries = 65536) {
    this.bindings = new KeyTable(3, maxEntries, 256);
    this.pending = new KeyTable(3, maxEntries, 256);
    const growB = (n: number): void => {
      this.bMacHi = grown(this.bMacHi, n);
      this.bMacLo = grown(this.bMacLo, n);
      this.bFrame = grown(this.bFrame, n);
      this.bFlags = grown(this.bFlags, n);
    };
    const growQ = (n: number): void => {
      this.qSpa = grown(this.qSpa, n);
      this.qMacHi = grown(this.qMacHi, n);
      this.qMacLo = grown(this.qMacLo, n);
      this.qFrame = grown(this.qFrame, n);
      this.qTime = grown(this.qTime, n);
    };
    growB(this.bindings.capacity);
    growQ(this.pending.capacity);
    this.bindings.onGrow = growB;
    this.pending.onGrow = growQ;
  }

  private limit(ctx: PacketContext, what: string): void {
    if (this.limitReported) return;
    this.limitReported = true;
    ctx.add('verify.limit', `ARP ${what} table full (${this.bindings.maxEntries} entries): later addresses are not checked`);
  }

  /** An ARP or RARP packet (d.net === NET_ARP). */
  arp(v: DataView, d: DecodeResult, ctx: PacketContext): void {
    const off = d.netOff;
    const capEnd = d.capEnd;
    const what = d.etherType === eth.ETHERTYPE_RARP ? 'RARP' : 'ARP';
    if (off + arp.FIXED_LEN > capEnd) {
      if (off + arp.FIXED_LEN > d.frameEnd) ctx.add('arp.malformed', `${what} packet cut short: ${d.frameEnd - off} bytes, the fixed header needs ${arp.FIXED_LEN}`);
      return;
    }
    const htype = v.getUint16(off + arp.HTYPE);
    const ptype = v.getUint16(off + arp.PTYPE);
    const hlen = v.getUint8(off + arp.HLEN);
    const plen = v.getUint8(off + arp.PLEN);
    if ((htype === arp.HTYPE_ETHERNET && hlen !== arp.HLEN_ETHERNET) || (ptype === arp.PTYPE_IPV4 && plen !== arp.PLEN_IPV4) || hlen === 0 || plen === 0) {
      ctx.add('arp.malformed', `${what} for hardware type ${htype}, protocol 0x${ptype.toString(16).padStart(4, '0')} with address lengths ${hlen}/${plen}: ${lengthProblem(htype, ptype, hlen, plen)}${inside(ctx)}`);
      return;
    }
    const need = arp.packetLength(hlen, plen);
    if (off + need > capEnd) {
      if (off + need > d.frameEnd) ctx.add('arp.malformed', `${what} packet cut short: ${d.frameEnd - off} bytes, its address lengths ${hlen}/${plen} need ${need}${inside(ctx)}`);
      return;
    }
    if (what === 'RARP' || hlen !== arp.HLEN_ETHERNET || ptype !== arp.PTYPE_IPV4) return;
    const op = v.getUint16(off + arp.OPER);
    const shaHi = v.getUint16(off + arp.SHA);
    const shaLo = v.getInt32(off + arp.SHA + 2);
    const spa = v.getInt32(off + arp.SPA);
    const thaHi = v.getUint16(off + arp.THA);
    const thaLo = v.getInt32(off + arp.THA + 2);
    const tpa = v.getInt32(off + arp.TPA);
    if (spa !== 0) this.bind(ctx, spa, shaHi, shaLo);
    if (op === arp.OP_REQUEST) {
      if (spa === tpa) return; // gratuitous: not a question
      const q = this.pending;
      q.key[0] = ctx.lane;
      q.key[1] = ctx.vlanKey;
      q.key[2] = tpa;
      const e = q.insert();
      if (e < 0) {
        this.limit(ctx, 'request');
        return;
      }
      this.qSpa[e] = spa;
      this.qMacHi[e] = shaHi;
      this.qMacLo[e] = shaLo;
      this.qFrame[e] = ctx.frame;
      this.qTime[e] = ctx.time;
    } else if (op === arp.OP_REPLY) {
      if (spa === tpa) return; // gratuitous reply
      const q = this.pending;
      q.key[0] = ctx.lane;
      q.key[1] = ctx.vlanKey;
      q.key[2] = spa;
      let e = q.find();
      if (e >= 0 && ctx.time - this.qTime[e]! <= PENDING_SECONDS) {
        const asker = this.qSpa[e]!;
        if (tpa !== asker && asker !== 0 && thaHi === this.qMacHi[e] && thaLo === this.qMacLo[e]) {
          ctx.add(
            'arp.reply-mismatch',
            `ARP reply "${formatIpv4(spa >>> 0)} is-at ${formatMac(shaHi, shaLo)}" to ${formatIpv4(tpa >>> 0)} answers frame ${this.qFrame[e]}'s "who-has ${formatIpv4(spa >>> 0)} tell ${formatIpv4(asker >>> 0)}" with the wrong target address on ${ctx.where()}`,
            formatIpv4(asker >>> 0),
            formatIpv4(tpa >>> 0),
          );
        }
        q.remove(e);
        return;
      }
      // Not an answer to a question about its sender: does it echo a question unswapped?
      q.key[2] = tpa;
      e = q.find();
      if (e >= 0 && ctx.time - this.qTime[e]! <= PENDING_SECONDS && this.qSpa[e] === spa && spa !== 0 && (shaHi !== this.qMacHi[e] || shaLo !== this.qMacLo[e])) {
        ctx.add(
          'arp.reply-mismatch',
          `ARP reply "${formatIpv4(spa >>> 0)} is-at ${formatMac(shaHi, shaLo)}" to ${formatIpv4(tpa >>> 0)} repeats frame ${this.qFrame[e]}'s request "who-has ${formatIpv4(tpa >>> 0)} tell ${formatIpv4(spa >>> 0)}" with sender and target not swapped on ${ctx.where()}`,
          `${formatIpv4(tpa >>> 0)} > ${formatIpv4(spa >>> 0)}`,
          `${formatIpv4(spa >>> 0)} > ${formatIpv4(tpa >>> 0)}`,
        );
        q.remove(e);
      }
    }
  }

  private bind(ctx: PacketContext, ip: number, hi: number, lo: number): void {
    const b = this.bindings;
    b.key[0] = ctx.lane;
    b.key[1] = ctx.vlanKey;
    b.key[2] = ip;
    const e = b.insert();
    if (e < 0) {
      this.limit(ctx, 'binding');
      return;
    }
    if (b.created) {
      this.bMacHi[e] = hi;
      this.bMacLo[e] = lo;
      this.bFrame[e] = ctx.frame;
      this.bFlags[e] = 0;
      return;
    }
    if ((this.bMacHi[e] !== hi || this.bMacLo[e] !== lo) && (this.bFlags[e]! & F_DUP) === 0) {
      this.bFlags[e]! |= F_DUP;
      const was = formatMac(this.bMacHi[e]!, this.bMacLo[e]!);
      const now = formatMac(hi, lo);
      ctx.add('arp.duplicate-ip', `${formatIpv4(ip >>> 0)} is claimed by ${was} (frame ${this.bFrame[e]}) and by ${now} on ${ctx.where()}`, was, now);
    }
  }

  /** An IPv4 packet: its source MAC against the ARP binding of its source address. */
  ipv4(v: DataView, d: DecodeResult, ctx: PacketContext): void {
    const b = this.bindings;
    if (b.count === 0 || d.srcMacOff < 0 || d.ip.srcOff + 4 > d.capEnd) return;
    const src = v.getInt32(d.ip.srcOff);
    const e = b.find3(ctx.lane, ctx.vlanKey, src);
    if (e < 0) return;
    const hi = v.getUint16(d.srcMacOff);
    const lo = v.getInt32(d.srcMacOff + 2);
    if ((hi === this.bMacHi[e] && lo === this.bMacLo[e]) || this.bFlags[e] !== 0) return;
    // A router of a VRRP/HSRP group: one address, its own MAC and the group's virtual MAC, by design.
    if (eth.isVirtualRouterMac(hi, lo) || eth.isVirtualRouterMac(this.bMacHi[e]!, this.bMacLo[e]!)) return;
    this.bFlags[e]! |= F_MISMATCH;
    const bound = formatMac(this.bMacHi[e]!, this.bMacLo[e]!);
    const used = formatMac(hi, lo);
    ctx.add(
      'arp.ip-mac-mismatch',
      `IPv4 from ${formatIpv4(src >>> 0)} sent by ${used}, but ARP binds ${formatIpv4(src >>> 0)} to ${bound} (frame ${this.bFrame[e]}) on ${ctx.where()}`,
      bound,
      used,
    );
  }
}
