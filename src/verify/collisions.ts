/**
 * Flow collisions: the clones' bug. One flow (protocol, address:port pairs;
 * the ICMP/ICMPv6 echo identifier stands for the ports) seen on two or more
 * broadcast domains (interface + VLAN tags) within `window` seconds of its
 * last packet is what a stateful NAT in front of identical clones
 * (conntrack) takes for one connection, handing every reply to one clone.
 *
 * Flows are keyed both ways: a query and its reply are one flow (conntrack's
 * view); the flow is named in the direction of its first packet,
 * "10.0.0.2:2345 > 10.0.0.1:53". A flow idle for longer than the window
 * starts afresh. The first packet on each additional domain raises a
 * `flow.collision` warning; `collisions` lists each colliding flow once with
 * its interfaces and the first frame on each (interfaces repeat when the
 * same interface carries the flow on several VLANs).
 *
 * The flow table is an open-addressing hash table (linear probing,
 * backward-shift deletion) laid out as one 64-byte record per slot in an
 * Int32Array: hash, the 10-word key, domain, collision index, first frame
 * and the last time (float32, relative to the first packet). A lookup
 * touches one cache line in the common case, which is what matters at
 * hundreds of thousands of flows. No strings per packet; strings are built
 * only for a collision. At most `maxFlows` live flows; idle ones are
 * reclaimed by a clock hand as new flows arrive; when the table is full of
 * live flows, new flows are not tracked and one `verify.limit` warning is
 * raised.
 */
import type { DecodeResult } from '../wire/decode.js';
import { IPPROTO_DCCP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE } from '../wire/ip.js';
import { formatIpv4, formatIpv6 } from '../nat/translate.js';
import type { Collision } from '../report/model.js';
import type { PacketContext } from './context.js';

// Slot record layout (int32 words).
const REC = 16;
const W_HASH = 0; // 0 = empty slot
const W_KEY = 1; // 10 words: proto/family, ports, address x (4), address y (4)
const KEY_WORDS = 10;
const W_IFACE = 11;
const W_VLAN = 12; // vlanKey | reversed << 30
const W_COLL = 13; // collision index, -1 none
const W_FRAME = 14; // first frame (uint32)
const W_TIME = 15; // float32: last time - base time
const REVERSED = 1 << 30;
const HASH_MUL = 0x9e3779b1 | 0;
const MIN_SLOTS = 1 << 17;

function protoName(p: number, v6: boolean): string {
  switch (p) {
    case IPPROTO_TCP:
      return 'tcp';
    case IPPROTO_UDP:
      return 'udp';
    case IPPROTO_UDPLITE:
      return 'udplite';
    case IPPROTO_SCTP:
      return 'sctp';
    case IPPROTO_DCCP:
      return 'dccp';
    default:
      return v6 ? 'icmpv6' : 'icmp';
  }
}

interface CollisionState extends Collision {
  /** Domains as iface * 2^26 + vlanKey. */
  locs: number[];
  /** Domain and frame of the flow's latest packet in its first direction (the request); -1 unknown. */
  askLoc: number;
  askFrame: number;
  askIface: number;
}

export class CollisionTracker {
  readonly window: number;
  readonly maxFlows: number;
  readonly collisions: CollisionState[] = [];
  /** Live flows. */
  size = 0;
  private slots: Int32Array;
  private times: Float32Array;
  private mask: number;
  private baseTime = NaN;
  private hand = 0;
  private limitReported = false;
  private readonly key = new Int32Array(KEY_WORDS);
  private readonly a = new Int32Array(5); // scratch: side A words + port
  private readonly b = new Int32Array(5);

  constructor(window = 120, maxFlows = 1 << 20) {
    this.window = window;
    this.maxFlows = Math.max(1, maxFlows);
    let n = 16;
    while (n < MIN_SLOTS && n < 2 * this.maxFlows) n <<= 1;
    this.slots = new Int32Array(n * REC);
    this.times = new Float32Array(this.slots.buffer);
    this.mask = n - 1;
  }

  /** Slots allocated (memory is slots * 64 bytes). */
  get capacity(): number {
    return this.mask + 1;
  }

  /** A decoded IPv4/IPv6 packet whose L4 header is known. */
  packet(v: DataView, d: DecodeResult, ctx: PacketContext): void {
    const ip = d.ip;
    const l4 = ip.l4Off;
    if (l4 < 0) return;
    const p = ip.proto;
    const v6 = ip.version === 6;
    const avail = ip.dataEnd;
    let sport: number;
    let dport: number;
    if (p === IPPROTO_TCP || p === IPPROTO_UDP || p === IPPROTO_UDPLITE || p === IPPROTO_SCTP || p === IPPROTO_DCCP) {
      if (l4 + 4 > avail) return;
      sport = v.getUint16(l4);
      dport = v.getUint16(l4 + 2);
    } else if ((p === IPPROTO_ICMP && !v6) || (p === IPPROTO_ICMPV6 && v6)) {
      if (l4 + 6 > avail) return;
      const t = v.getUint8(l4);
      if (v6 ? t !== 128 && t !== 129 : t !== 8 && t !== 0) return;
      sport = dport = v.getUint16(l4 + 4);
    } else {
      return;
    }
    const rev = this.fill(v, d, v6, p, sport, dport);
    if (rev < 0) return;
    this.track(ctx, v6, p, rev);
  }

  /** Fills the canonical key; returns -1 (addresses not captured), 0 (as seen) or 1 (reversed). */
  private fill(v: DataView, d: DecodeResult, v6: boolean, p: number, sport: number, dport: number): number {
    const ip = d.ip;
    const a = this.a;
    const b = this.b;
    if (v6) {
      if (ip.dstOff + 16 > d.capEnd) return -1;
      for (let i = 0; i < 4; i++) {
        a[i] = v.getInt32(ip.srcOff + 4 * i);
        b[i] = v.getInt32(ip.dstOff + 4 * i);
      }
    } else {
      if (ip.dstOff + 4 > d.capEnd) return -1;
      a[0] = v.getInt32(ip.srcOff);
      b[0] = v.getInt32(ip.dstOff);
      a[1] = a[2] = a[3] = b[1] = b[2] = b[3] = 0;
    }
    a[4] = sport;
    b[4] = dport;
    // Canonical order: the smaller (address, port) side first.
    let rev = 0;
    for (let i = 0; i < 5; i++) {
      if (a[i] === b[i]) continue;
      rev = a[i]! >>> 0 > b[i]! >>> 0 ? 1 : 0;
      break;
    }
    const x = rev ? b : a;
    const y = rev ? a : b;
    const k = this.key;
    k[0] = (v6 ? 0x600 : 0x400) | p;
    k[1] = (x[4]! << 16) | y[4]!;
    k[2] = x[0]!;
    k[3] = x[1]!;
    k[4] = x[2]!;
    k[5] = x[3]!;
    k[6] = y[0]!;
    k[7] = y[1]!;
    k[8] = y[2]!;
    k[9] = y[3]!;
    return rev;
  }

  private hashKey(): number {
    const k = this.key;
    let h = 0x2545f491;
    for (let i = 0; i < KEY_WORDS; i++) h = Math.imul(h ^ k[i]!, HASH_MUL) ^ (h >>> 15);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    return h | 1;
  }

  private track(ctx: PacketContext, v6: boolean, p: number, rev: number): void {
    if (this.baseTime !== this.baseTime) this.baseTime = ctx.time;
    const now = ctx.time - this.baseTime;
    const h = this.hashKey();
    const k = this.key;
    let slots = this.slots;
    let mask = this.mask;
    let s = h & mask;
    for (;;) {
      const b = s * REC;
      const sh = slots[b + W_HASH]!;
      if (sh === 0) break;
      if (
        sh === h &&
        slots[b + 1] === k[0] && slots[b + 2] === k[1] && slots[b + 3] === k[2] && slots[b + 4] === k[3] && slots[b + 5] === k[4] &&
        slots[b + 6] === k[5] && slots[b + 7] === k[6] && slots[b + 8] === k[7] && slots[b + 9] === k[8] && slots[b + 10] === k[9]
      ) {
        if (now - this.times[b + W_TIME]! <= this.window) {
          this.times[b + W_TIME] = now;
          if (slots[b + W_IFACE] === ctx.iface && (slots[b + W_VLAN]! & ~REVERSED) === ctx.vlanKey && slots[b + W_COLL]! < 0) return;
          this.seenElsewhere(b, ctx, v6, p, rev);
          return;
        }
        // Idle past the window: the flow starts afresh here.
        this.init(b, h, ctx, now, rev);
        return;
      }
      s = (s + 1) & mask;
    }
    // A new flow.
    if (this.size >= this.maxFlows) {
      this.sweep(now, 512);
      if (this.size >= this.maxFlows) {
        if (!this.limitReported) {
          this.limitReported = true;
          ctx.add('verify.limit', `flow table full (${this.maxFlows} flows active within ${this.window} s): later flows are not checked for collisions`);
        }
        return;
      }
    } else {
      this.sweep(now, 2);
    }
    if (2 * (this.size + 1) > mask + 1) this.grow();
    slots = this.slots;
    mask = this.mask;
    s = h & mask;
    while (slots[s * REC + W_HASH] !== 0) s = (s + 1) & mask;
    const b = s * REC;
    slots.set(k, b + W_KEY);
    this.init(b, h, ctx, now, rev);
    this.size++;
  }

  private init(b: number, h: number, ctx: PacketContext, now: number, rev: number): void {
    const slots = this.slots;
    slots[b + W_HASH] = h;
    slots[b + W_IFACE] = ctx.iface;
    slots[b + W_VLAN] = ctx.vlanKey | (rev ? REVERSED : 0);
    slots[b + W_COLL] = -1;
    slots[b + W_FRAME] = ctx.frame | 0;
    this.times[b + W_TIME] = now;
  }

  /**
   * Flow at record b (within the window) seen on another domain, or a packet
   * of a flow already known to collide: a new collision, one more domain for
   * it, or a reply that went to the wrong clone. The latter is a packet in
   * the flow's reverse direction on another domain than the latest packet in
   * its first direction: the request came from one clone, the answer went to
   * another (what conntrack in front of identical clones does).
   */
  private seenElsewhere(b: number, ctx: PacketContext, v6: boolean, p: number, rev: number): void {
    const slots = this.slots;
    const loc = ctx.iface * 0x4000000 + ctx.vlanKey;
    const forward = rev === ((slots[b + W_VLAN]! & REVERSED) !== 0 ? 1 : 0);
    let c = slots[b + W_COLL]!;
    if (c < 0) {
      c = this.collisions.length;
      slots[b + W_COLL] = c;
      const iface = slots[b + W_IFACE]!;
      this.collisions.push({
        protocol: protoName(p, v6),
        flow: this.flowText(b, v6, p),
        interfaces: [iface],
        frames: [slots[b + W_FRAME]! >>> 0],
        locs: [iface * 0x4000000 + (slots[b + W_VLAN]! & ~REVERSED)],
        askLoc: -1,
        askFrame: 0,
        askIface: -1,
      });
    }
    const col = this.collisions[c]!;
    if (forward) {
      col.askLoc = loc;
      col.askFrame = ctx.frame;
      col.askIface = ctx.iface;
    } else if (col.askLoc >= 0 && col.askLoc !== loc) {
      ctx.add(
        'flow.collision',
        `${col.protocol} ${col.flow}: reply on ${ctx.where()} to the request of frame ${col.askFrame} on interface ${col.askIface}: the answer went to another clone than the one that asked`,
      );
    }
    if (col.locs.includes(loc)) return;
    col.locs.push(loc);
    col.interfaces.push(ctx.iface);
    col.frames.push(ctx.frame);
    ctx.add(
      'flow.collision',
      `${col.protocol} ${col.flow} on ${ctx.where()} is also on interface ${col.interfaces[0]} (frame ${col.frames[0]}): a stateful NAT would take them for one connection`,
    );
  }

  private flowText(b: number, v6: boolean, p: number): string {
    const k = this.slots;
    const addr = (w: number): string => {
      if (!v6) return formatIpv4(k[b + W_KEY + w]! >>> 0);
      const bytes = new Uint8Array(16);
      const dv = new DataView(bytes.buffer);
      for (let i = 0; i < 4; i++) dv.setInt32(4 * i, k[b + W_KEY + w + i]!);
      return formatIpv6(bytes, 0);
    };
    const ports = k[b + W_KEY + 1]!;
    const px = ports >>> 16;
    const py = ports & 0xffff;
    let src = addr(2);
    let dst = addr(6);
    let sp = px;
    let dp = py;
    if ((k[b + W_VLAN]! & REVERSED) !== 0) [src, dst, sp, dp] = [dst, src, py, px];
    if (p === IPPROTO_ICMP || p === IPPROTO_ICMPV6) return `${src} > ${dst} echo id ${sp}`;
    return v6 ? `[${src}]:${sp} > [${dst}]:${dp}` : `${src}:${sp} > ${dst}:${dp}`;
  }

  /** Removes the record at slot s (backward-shift deletion, Knuth 6.4 algorithm R). */
  private removeAt(s: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let hole = s;
    let j = s;
    for (;;) {
      j = (j + 1) & mask;
      const h = slots[j * REC + W_HASH]!;
      if (h === 0) break;
      const home = h & mask;
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        slots.copyWithin(hole * REC, j * REC, j * REC + REC);
        hole = j;
      }
    }
    slots.fill(0, hole * REC, hole * REC + REC);
    this.size--;
  }

  /** Expires up to `steps` slots' idle flows with a clock hand (amortised O(1) per new flow). */
  private sweep(now: number, steps: number): void {
    const n = this.mask + 1;
    for (let i = 0; i < steps; i++) {
      if (this.hand >= n) this.hand = 0;
      const b = this.hand * REC;
      if (this.slots[b + W_HASH] !== 0 && now - this.times[b + W_TIME]! > this.window) this.removeAt(this.hand);
      else this.hand++;
    }
  }

  private grow(): void {
    const old = this.slots;
    const n = (this.mask + 1) * 2;
    this.slots = new Int32Array(n * REC);
    this.times = new Float32Array(this.slots.buffer);
    this.mask = n - 1;
    for (let b = 0; b < old.length; b += REC) {
      const h = old[b + W_HASH]!;
      if (h === 0) continue;
      let s = h & this.mask;
      while (this.slots[s * REC + W_HASH] !== 0) s = (s + 1) & this.mask;
      this.slots.set(old.subarray(b, b + REC), s * REC);
    }
    this.hand = 0;
  }

  /** The report's collisions, in order of detection. */
  report(): Collision[] {
    return this.collisions.map((c) => ({ protocol: c.protocol, flow: c.flow, interfaces: c.interfaces, frames: c.frames }));
  }
}
