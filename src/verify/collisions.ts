/**
 * Flow collisions: the clones' bug. One flow (protocol, address:port pairs;
 * the ICMP/ICMPv6 echo identifier stands for the ports) seen on two or more
 * broadcast domains (lane + VLAN tags: an interface, or a tunnel lane for
 * the packets tunnels carry, context.ts Lanes) within `window` seconds of its
 * last packet is what a stateful NAT in front of identical clones
 * (conntrack) takes for one connection, handing every reply to one clone.
 *
 * Broadcast and multicast are left out (isGroupDestination): one sender,
 * any number of receivers, heard on every interface of the segment; that is
 * no conversation a NAT would hand to the wrong clone, and a capture taken
 * on two interfaces of one LAN would otherwise call every announcement a
 * collision.
 *
 * Flows are keyed both ways: a query and its reply are one flow (conntrack's
 * view); the flow is named in the direction of its first packet,
 * "10.0.0.2:2345 > 10.0.0.1:53". A flow idle for longer than the window
 * starts afresh. The first packet on each additional domain raises a
 * `flow.collision` warning (except an answer between two directional lanes:
 * GTP-U names each direction of a bearer by its own TEID, TS 29.281, so its
 * requests and answers are always on two TEID lanes; there the flow's first
 * direction is compared, and a wrong clone cannot be told); `collisions` lists each colliding flow once with
 * its interfaces and the first frame on each (interfaces repeat when the
 * same interface carries the flow on several VLANs).
 *
 * The flow table is an open-addressing hash table (linear probing,
 * backward-shift deletion) over a compact probe array, one int32 per slot
 * (hash bits + record number), with the flows' records stored densely
 * elsewhere and read only on a hash match: at hundreds of thousands of
 * flows a lookup is one probe line (a 2 MB array at 2^19 slots) plus one
 * 24-byte IPv4 record, where 64-byte records per slot meant a 32 MB table
 * and a main-memory miss per packet. The probe array grows at a load of
 * 2/3 (linear probing stays short in 4-byte slots, 16 to a cache line; at
 * 1/2, verify of the 2 GB bench grew it to 8 MB at its end, 7 MB over
 * the 100 MB mark). Memory per live flow: 6 to 12 bytes of probe array and
 * a 36-byte IPv4 record (60 for IPv6: the 24 hot bytes, and cold the first
 * frame and its float64 time, which a collision reports), the records in
 * 1 MB pages that are never copied: at the default 2^20 flows, 8 MB and
 * 36 MB. No strings per packet; strings are built only for a collision. At most `maxFlows` live flows; idle ones are reclaimed by a
 * clock hand as new flows arrive; when the table is full of live flows,
 * new flows are not tracked and one `verify.limit` warning is raised.
 *
 * Single-domain log (flowlog.ts): while only one domain has been seen, a
 * packet's flow entry is appended to a sequential log instead of probing
 * the table, and replayed through `track` when that has to end; the table
 * ends in the same state and the findings in the same order as without the
 * log (the invariants are in flowlog.ts). This module is the log's sink.
 * The log's chunks and the record pages share one BlockPool
 * (blockpool.ts).
 *
 * The flow hash is hash.ts's hash of the 10-word key; `flowHash4` computes
 * it for an IPv4 key from its four non-zero words, for packet() and
 * everything else that hashes an IPv4 flow.
 */
import type { DecodeResult } from '../wire/decode.js';
import type { IpInfo } from '../wire/ip.js';
import * as eth from '../wire/ethernet.js';
import * as icmp from '../wire/icmp.js';
import * as icmpv6 from '../wire/icmpv6.js';
import * as tcp from '../wire/tcp.js';
import { IPPROTO_DCCP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE } from '../wire/ip.js';
import { formatIpv4, formatIpv6 } from '../wire/address.js';
import type { Collision, FlowPacket } from '../report/model.js';
import { BLOCK_BYTES, BlockPool } from './blockpool.js';
import { describeLocation, Lanes, reportTime, vlanText, type PacketContext } from './context.js';
import { FlowLog, V6_KEY_WORDS, type FlowSink } from './flowlog.js';
import { HASH_SEED, hashFinish, hashStep, hashWords } from './hash.js';

// Probe array: one int32 word per slot, 0 when empty, else the flow's hash
// in the bits above refMask and ref = (record << 1 | family) + 1 in refMask.
// Records live densely in two stores (IPv4, IPv6), touched only when the
// hash bits match. Hot record layout (int32 words): the key without its
// proto/family word (ports, address x, address y: 3 words for IPv4, 9 for
// IPv6), then the vlan word (vlanKey | proto index << 26 | reversed << 30 |
// has collision << 31), the interface and the last time (float32, relative
// to the first packet): 24 bytes for an IPv4 flow. Cold, in arrays of their
// own: the first frame (4 bytes), and the collision index of the few flows
// that collide (a Map). The hash is not stored: rehashing and deletion
// recompute it from the record's key and protocol.
const KEY_WORDS = 10;
const O_VLAN = 0; // offsets after the key
const O_LANE = 1;
const O_TIME = 2;
const PROTO_SHIFT = 26;
const REVERSED = 1 << 30;
const HAS_COLL = 1 << 31;
const VLAN_BITS = (1 << PROTO_SHIFT) - 1;
const MIN_SLOTS = 1 << 12;
/** Key word 0: protocol | family (IPv6 sets FAMILY_V6). */
const FAMILY_V4 = 0x400;
const FAMILY_V6 = 0x600;

/**
 * The records of one address family, numbered densely, in pages of one
 * block each, added as the number of live flows grows: 2^15 IPv4 records
 * (768 KB, then their first frames) or 2^14 IPv6 ones per page. Pages are
 * never copied or given back, so growing leaves no garbage behind and
 * memory follows the live flows within a page. Dead records form a free
 * list through their first word. Record e is at word (e & pageMask) *
 * stride of page e >>> pageBits.
 */
class RecordStore {
  /** Hot words of each page, the same bytes as float32 (the times), and each record's first frame and its time. */
  readonly hot: Int32Array[] = [];
  readonly hotF32: Float32Array[] = [];
  readonly frames: Int32Array[] = [];
  readonly firstTimes: Float64Array[] = [];
  readonly stride: number;
  readonly pageBits: number;
  readonly pageMask: number;
  private freeHead = -1;
  private next = 0;
  constructor(
    readonly kw: number,
    private readonly pool: BlockPool,
  ) {
    this.stride = kw + 3;
    let bits = 16;
    // Per record: the hot words, then (cold) the first frame (1 word) and its time (a float64, 2 words).
    while ((1 << bits) * (this.stride + 3) * 4 > BLOCK_BYTES) bits--;
    this.pageBits = bits;
    this.pageMask = (1 << bits) - 1;
  }

  alloc(): number {
    const e = this.freeHead;
    if (e >= 0) {
      this.freeHead = this.hot[e >>> this.pageBits]![(e & this.pageMask) * this.stride]!;
      return e;
    }
    if ((this.next & this.pageMask) === 0) {
      const block = this.pool.take();
      const records = this.pageMask + 1;
      this.hot.push(new Int32Array(block, 0, records * this.stride));
      this.hotF32.push(new Float32Array(block, 0, records * this.stride));
      this.frames.push(new Int32Array(block, records * this.stride * 4, records));
      // 8-byte aligned: records is a power of two, at least 2.
      this.firstTimes.push(new Float64Array(block, records * (this.stride + 1) * 4, records));
    }
    return this.next++;
  }

  release(e: number): void {
    this.hot[e >>> this.pageBits]![(e & this.pageMask) * this.stride] = this.freeHead;
    this.freeHead = e;
  }
}

/**
 * The flow hash of an IPv4 key: hashWords of its KEY_WORDS words
 * [k0, ports, x, 0, 0, 0, y, 0, 0, 0], from the four that are not 0. The
 * only definition of the IPv4 flow hash: packet() (which never builds the
 * whole key), replay and rehashing all call it.
 */
export function flowHash4(k0: number, ports: number, x: number, y: number): number {
  let h = hashStep(hashStep(hashStep(HASH_SEED, k0), ports), x);
  h = hashStep(hashStep(hashStep(h, 0), 0), 0);
  h = hashStep(h, y);
  h = hashStep(hashStep(hashStep(h, 0), 0), 0);
  return hashFinish(h);
}

/** Record words from b (the key from its ports on) hold key k (for IPv4, words 1, 2 and 6). */
function sameKey(r: Int32Array, b: number, k: Int32Array, v6: boolean): boolean {
  return v6
    ? r[b] === k[1] && r[b + 1] === k[2] && r[b + 2] === k[3] && r[b + 3] === k[4] && r[b + 4] === k[5] &&
        r[b + 5] === k[6] && r[b + 6] === k[7] && r[b + 7] === k[8] && r[b + 8] === k[9]
    : r[b] === k[1] && r[b + 1] === k[2] && r[b + 2] === k[6];
}

/** The flow hash of an IPv6 key (all KEY_WORDS words). */
function flowHash6(k: Int32Array): number {
  return hashWords(k, 0, KEY_WORDS);
}

/** Small index of an L4 protocol the tracker follows. */
function protoIndex(p: number): number {
  switch (p) {
    case IPPROTO_TCP:
      return 0;
    case IPPROTO_UDP:
      return 1;
    case IPPROTO_UDPLITE:
      return 2;
    case IPPROTO_SCTP:
      return 3;
    case IPPROTO_DCCP:
      return 4;
    default:
      return 5;
  }
}

/** The protocol of a protoIndex (index 5: the family's ICMP). */
function protoOfIndex(i: number, v6: boolean): number {
  switch (i) {
    case 0:
      return IPPROTO_TCP;
    case 1:
      return IPPROTO_UDP;
    case 2:
      return IPPROTO_UDPLITE;
    case 3:
      return IPPROTO_SCTP;
    case 4:
      return IPPROTO_DCCP;
    default:
      return v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
  }
}

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

interface CollisionState {
  protocol: string;
  flow: string;
  interfaces: number[];
  /** The lanes (context.ts Lanes) of those interfaces. */
  lanes: number[];
  frames: number[];
  /** Times (seconds) and VLAN keys of the first frame on each domain, and its lane's tunnel label (Lanes.tunnel). */
  times: number[];
  vlanKeys: number[];
  tunnels: string[];
  /** Domains as lane * 2^26 + vlanKey. */
  locs: number[];
  /** Domain, frame, interface, VLAN key and time of the flow's latest packet in its first direction (the request); askLoc -1 unknown. */
  askLoc: number;
  askFrame: number;
  askIface: number;
  askSection: number;
  askVlanKey: number;
  askTunnel: string;
  askTime: number;
  /** Every domain the flow was asked from (a packet in its first direction). */
  askLocs: number[];
  /** Domain of the flow's latest reply (or ICMP error answering it); -1 none seen since the collision began. */
  replyLoc: number;
  /** Replies that reached another domain than their request's: the first MAX_WRONG_REPLIES, and how many in all. */
  wrong: Array<{ request: FlowPacket; reply: FlowPacket }>;
  wrongCount: number;
}

/** Wrong-clone replies listed per colliding flow, at most (all are counted). */
export const MAX_WRONG_REPLIES = 100;

function flowPacket(frame: number, iface: number, section: number, vlanKey: number, tunnel: string, time: number): FlowPacket {
  const vlan = vlanText(vlanKey);
  return { frame, interface: iface, ...(section < 0 ? {} : { section }), ...(vlan === '' ? {} : { vlan }), ...(tunnel === '' ? {} : { tunnel }), time: reportTime(time) };
}

/**
 * A destination that is a group, not a peer: a group MAC (the I/G bit:
 * broadcast and multicast frames; Ethernet's destination, an 802.11 data
 * frame's DA), IPv4 multicast or limited broadcast,
 * IPv6 multicast. (An IPv4 subnet broadcast shows as such in its MAC.)
 */
function isGroupDestination(v: DataView, d: DecodeResult): boolean {
  if (d.dstMacOff >= 0 && (v.getUint8(d.dstMacOff) & eth.GROUP_BIT) !== 0) return true;
  const ip = d.ip;
  if (ip.version === 4) {
    if (ip.dstOff + 4 > d.capEnd) return false;
    const dst = v.getUint32(ip.dstOff);
    return dst >>> 28 === 0xe || dst === 0xffffffff;
  }
  return ip.dstOff < d.capEnd && v.getUint8(ip.dstOff) === 0xff;
}

export class CollisionTracker implements FlowSink {
  readonly window: number;
  readonly maxFlows: number;
  readonly collisions: CollisionState[] = [];
  /** Live flows in the table (the log not counted). */
  private live = 0;
  /** Probe slots: hash bits | ref (0 = empty). */
  private probe: Int32Array;
  private mask: number;
  private readonly refMask: number;
  private readonly v4: RecordStore;
  private readonly v6: RecordStore;
  private baseTime = NaN;
  /** Lower bound of every stored time (float32): no flow is idle while now - minTime <= window. */
  private minTime = Infinity;
  private hand = 0;
  private limitReported = false;
  /** The key of the packet in hand (for IPv4, words 0, 1, 2 and 6). */
  private readonly key = new Int32Array(KEY_WORDS);
  /** The key of a replayed log entry (a replay can run while `key` holds the packet's). */
  private readonly replayKey = new Int32Array(KEY_WORDS);
  /** Scratch key of recordHash (which runs inside track). */
  private readonly rehashKey = new Int32Array(KEY_WORDS);
  /** Collision index of each record whose flow collides (HAS_COLL), by (record << 1 | family). */
  private readonly collisionIndex = new Map<number, number>();
  /** Blocks of the log and the record pages. */
  private readonly pool = new BlockPool();
  private readonly a = new Int32Array(5); // scratch: side A words + port
  private readonly b = new Int32Array(5);
  /** Single-domain log (flowlog.ts). */
  private readonly log: FlowLog;

  /**
   * `log` sizes the single-domain log (entries before its first replay, and
   * per batch after it; default flowlog.ts LOG_MAX and LOG_BATCH); tests
   * shrink it, and `max` 0 turns it off.
   */
  constructor(
    window = 120,
    maxFlows = 1 << 20,
    log?: { max: number; batch: number },
    private readonly lanes: Lanes = new Lanes(),
  ) {
    this.window = window;
    this.maxFlows = Math.max(1, maxFlows);
    let n = 16;
    while (n < MIN_SLOTS && n < 2 * this.maxFlows) n <<= 1;
    this.probe = new Int32Array(n);
    this.mask = n - 1;
    // ref = (record << 1 | family) + 1 <= 2 * maxFlows.
    let refBits = 1;
    while (refBits < 31 && 2 ** refBits <= 2 * this.maxFlows) refBits++;
    this.refMask = 2 ** refBits - 1;
    this.v4 = new RecordStore(3, this.pool);
    this.v6 = new RecordStore(KEY_WORDS - 1, this.pool);
    this.log = new FlowLog(this.pool, this, log);
  }

  /** Slots allocated. */
  get capacity(): number {
    this.log.replay();
    return this.mask + 1;
  }

  /** Live flows. */
  get size(): number {
    this.log.replay();
    return this.live;
  }

  /** FlowSink: a domain whose VLAN key and interface the records hold exactly. */
  holds(iface: number, vlanKey: number): boolean {
    return (vlanKey & VLAN_BITS) === vlanKey && (iface | 0) === iface;
  }

  /** FlowSink: new flows before the table is full (unlimited once that has been reported). */
  room(): number {
    return this.limitReported ? Infinity : this.maxFlows - this.live;
  }

  /** FlowSink: a logged packet, tracked now as it would have been on arrival. */
  replayed(ctx: PacketContext, v6: boolean, p: number, rev: number, words: Int32Array, off: number): void {
    const k = this.replayKey;
    if (v6) {
      k[0] = FAMILY_V6 | p;
      for (let i = 0; i < V6_KEY_WORDS; i++) k[1 + i] = words[off + i]!;
      this.track(ctx, k, true, p, rev, flowHash6(k));
    } else {
      this.track4(ctx, k, p, rev, words[off]!, words[off + 1]!, words[off + 2]!);
    }
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
      // The ports lead all five headers, at the same offsets.
      if (l4 + tcp.DST_PORT + 2 > avail) return;
      sport = v.getUint16(l4 + tcp.SRC_PORT);
      dport = v.getUint16(l4 + tcp.DST_PORT);
    } else if ((p === IPPROTO_ICMP && !v6) || (p === IPPROTO_ICMPV6 && v6)) {
      // ICMP and ICMPv6 echo share their layout too.
      if (l4 + icmp.ECHO_ID + 2 > avail) return;
      const t = v.getUint8(l4 + icmp.TYPE);
      if (v6 ? t !== icmpv6.ECHO_REQUEST && t !== icmpv6.ECHO_REPLY : t !== icmp.ECHO_REQUEST && t !== icmp.ECHO_REPLY) {
        if (d.icmpError) this.error(v, d, ctx);
        return;
      }
      sport = dport = v.getUint16(l4 + icmp.ECHO_ID);
    } else {
      return;
    }
    if (isGroupDestination(v, d)) return;
    if (!v6) {
      // IPv4 (the common case): the key and its hash from locals (flowHash4).
      const ip4 = d.ip;
      if (ip4.dstOff + 4 > d.capEnd) return;
      const src = v.getInt32(ip4.srcOff);
      const dst = v.getInt32(ip4.dstOff);
      // Canonical order: the smaller (address, port) side first.
      const rev4 = src !== dst ? (src >>> 0 > dst >>> 0 ? 1 : 0) : sport > dport ? 1 : 0;
      const x = rev4 ? dst : src;
      const y = rev4 ? src : dst;
      const ports = rev4 ? (dport << 16) | sport : (sport << 16) | dport;
      if (this.log.active && this.log.appendV4(ctx, p, rev4, ports, x, y)) return;
      this.track4(ctx, this.key, p, rev4, ports, x, y);
      return;
    }
    const rev = this.fill(v, d.ip, d.capEnd, v6, p, sport, dport);
    if (rev < 0) return;
    const k = this.key;
    if (this.log.active && this.log.appendV6(ctx, p, rev, k, 1)) return;
    this.track(ctx, k, v6, p, rev, flowHash6(k));
  }

  /**
   * An ICMP or ICMPv6 error: conntrack takes it for part of the connection
   * whose packet it quotes and delivers it where that connection's replies
   * go. An error quoting a request of a known flow answers that request, as
   * a reply does (`reply`); one quoting a reply (the clone refusing an
   * answer it did not ask for) travels toward the server and delivers
   * nothing to a clone. Errors about flows not tracked, or gone idle, are
   * nobody's reply; the error does not keep its flow alive.
   */
  private error(v: DataView, d: DecodeResult, ctx: PacketContext): void {
    const q = d.inner;
    const p = q.proto;
    const v6 = q.version === 6;
    if (q.version === 0 || q.l4Off < 0 || v6 !== (d.ip.version === 6)) return;
    if (p !== IPPROTO_TCP && p !== IPPROTO_UDP && p !== IPPROTO_UDPLITE && p !== IPPROTO_SCTP && p !== IPPROTO_DCCP) return;
    if (q.l4Off + tcp.DST_PORT + 2 > d.quoteEnd) return;
    const rev = this.fill(v, q, d.quoteEnd, v6, p, v.getUint16(q.l4Off + tcp.SRC_PORT), v.getUint16(q.l4Off + tcp.DST_PORT));
    if (rev < 0) return;
    // The error's domain must be compared with the flow's: the log's entries go to the table first.
    if (this.log.active) this.log.replay();
    const k = this.key;
    const st = v6 ? this.v6 : this.v4;
    const e = this.find(k, v6, p, v6 ? flowHash6(k) : flowHash4(k[0]!, k[1]!, k[2]!, k[6]!));
    if (e < 0) return;
    const m = (e & st.pageMask) * st.stride + st.kw;
    const r = st.hot[e >>> st.pageBits]!;
    const vw = r[m + O_VLAN]!;
    if (this.baseTime !== this.baseTime || ctx.time - this.baseTime - st.hotF32[e >>> st.pageBits]![m + O_TIME]! > this.window) return;
    // The quote is the packet as its sender sent it: a request when it goes the flow's first way.
    if (rev !== ((vw & REVERSED) !== 0 ? 1 : 0)) return;
    if ((vw & HAS_COLL) === 0 && r[m + O_LANE] === ctx.lane && (vw & VLAN_BITS) === ctx.vlanKey) return;
    if (this.answersDirectional(ctx, r, m, vw, v6, e)) return;
    const col = this.collisionOf(st, e, v6, p);
    const loc = ctx.lane * 0x4000000 + ctx.vlanKey;
    this.reply(col, ctx, loc, v6 ? 'ICMPv6 error' : 'ICMP error');
    this.addLane(col, ctx, loc);
  }

  /** The record of the flow whose key is in `k` (for IPv4, words 0, 1, 2 and 6), protocol p and hash h; -1 when not in the table. */
  private find(k: Int32Array, v6: boolean, p: number, h: number): number {
    const fam = v6 ? 1 : 0;
    const st = v6 ? this.v6 : this.v4;
    const pbits = protoIndex(p) << PROTO_SHIFT;
    const refMask = this.refMask;
    const tag = h & ~refMask;
    const probe = this.probe;
    const mask = this.mask;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const w = probe[s]!;
      if (w === 0) return -1;
      if ((w & ~refMask) !== tag) continue;
      const ref = (w & refMask) - 1;
      if ((ref & 1) !== fam) continue;
      const e = ref >>> 1;
      const r = st.hot[e >>> st.pageBits]!;
      const b = (e & st.pageMask) * st.stride;
      if (sameKey(r, b, k, v6) && (r[b + st.kw + O_VLAN]! & (7 << PROTO_SHIFT)) === pbits) return e;
    }
  }

  /** Tracks an IPv4 flow (key words from the ports on), building its key in `k`. */
  private track4(ctx: PacketContext, k: Int32Array, p: number, rev: number, ports: number, x: number, y: number): void {
    const k0 = FAMILY_V4 | p;
    k[0] = k0;
    k[1] = ports;
    k[2] = x;
    k[6] = y;
    this.track(ctx, k, false, p, rev, flowHash4(k0, ports, x, y));
  }

  /** Fills the canonical key; returns -1 (addresses not captured), 0 (as seen) or 1 (reversed). */
  private fill(v: DataView, ip: IpInfo, end: number, v6: boolean, p: number, sport: number, dport: number): number {
    const a = this.a;
    const b = this.b;
    if (v6) {
      if (ip.dstOff + 16 > end) return -1;
      for (let i = 0; i < 4; i++) {
        a[i] = v.getInt32(ip.srcOff + 4 * i);
        b[i] = v.getInt32(ip.dstOff + 4 * i);
      }
    } else {
      if (ip.dstOff + 4 > end) return -1;
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
    k[0] = (v6 ? FAMILY_V6 : FAMILY_V4) | p;
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

  /** The hash of the flow in record e of family fam, recomputed from the record as packet() computes it. */
  private recordHash(fam: number, e: number): number {
    const st = fam === 0 ? this.v4 : this.v6;
    const r = st.hot[e >>> st.pageBits]!;
    const b = (e & st.pageMask) * st.stride;
    const v6 = fam === 1;
    const p = protoOfIndex((r[b + st.kw + O_VLAN]! >>> PROTO_SHIFT) & 7, v6);
    if (!v6) return flowHash4(FAMILY_V4 | p, r[b]!, r[b + 1]!, r[b + 2]!);
    const k = this.rehashKey;
    k[0] = FAMILY_V6 | p;
    for (let i = 1; i < KEY_WORDS; i++) k[i] = r[b + i - 1]!;
    return flowHash6(k);
  }

  /** The flow whose key is in `k` (for IPv4, words 0, 1, 2 and 6) and hash h. */
  private track(ctx: PacketContext, k: Int32Array, v6: boolean, p: number, rev: number, h: number): void {
    if (this.baseTime !== this.baseTime) this.baseTime = ctx.time;
    const now = ctx.time - this.baseTime;
    const fam = v6 ? 1 : 0;
    const st = v6 ? this.v6 : this.v4;
    const pbits = protoIndex(p) << PROTO_SHIFT;
    const refMask = this.refMask;
    const tag = h & ~refMask;
    let probe = this.probe;
    let mask = this.mask;
    let s = h & mask;
    for (;;) {
      const w = probe[s]!;
      if (w === 0) break;
      if ((w & ~refMask) === tag) {
        const ref = (w & refMask) - 1;
        if ((ref & 1) === fam) {
          const e = ref >>> 1;
          const r = st.hot[e >>> st.pageBits]!;
          const b = (e & st.pageMask) * st.stride;
          const m = b + st.kw;
          if (sameKey(r, b, k, v6) && (r[m + O_VLAN]! & (7 << PROTO_SHIFT)) === pbits) {
            const f32 = st.hotF32[e >>> st.pageBits]!;
            if (now - f32[m + O_TIME]! <= this.window) {
              f32[m + O_TIME] = now;
              const t = f32[m + O_TIME]!;
              if (t < this.minTime) this.minTime = t;
              // A set HAS_COLL bit fails the VLAN test: a known collision goes on.
              if (r[m + O_LANE] === ctx.lane && (r[m + O_VLAN]! & ~REVERSED) === (ctx.vlanKey | pbits)) return;
              this.seenElsewhere(st, e, ctx, v6, p, rev);
              return;
            }
            // Idle past the window: the flow starts afresh here.
            this.init(st, e, ctx, now, rev, pbits);
            return;
          }
        }
      }
      s = (s + 1) & mask;
    }
    // A new flow.
    if (this.live >= this.maxFlows) {
      this.sweep(now, 512);
      if (this.live >= this.maxFlows) {
        if (!this.limitReported) {
          this.limitReported = true;
          ctx.add('verify.limit', `flow table full (${this.maxFlows} flows active within ${this.window} s): later flows are not checked for collisions`);
        }
        return;
      }
    } else {
      this.sweep(now, 2);
    }
    if (3 * (this.live + 1) > 2 * (mask + 1)) this.grow(); // load <= 2/3
    probe = this.probe;
    mask = this.mask;
    s = h & mask;
    while (probe[s] !== 0) s = (s + 1) & mask;
    const e = st.alloc();
    probe[s] = tag | (((e << 1) | fam) + 1);
    const r = st.hot[e >>> st.pageBits]!;
    const b = (e & st.pageMask) * st.stride;
    r[b] = k[1]!;
    r[b + 1] = k[2]!;
    if (v6) {
      for (let i = 2; i < KEY_WORDS - 1; i++) r[b + i] = k[i + 1]!;
    } else {
      r[b + 2] = k[6]!;
    }
    this.init(st, e, ctx, now, rev, pbits);
    this.live++;
  }

  /** (Re)starts the flow of record e. */
  private init(st: RecordStore, e: number, ctx: PacketContext, now: number, rev: number, pbits: number): void {
    const pg = e >>> st.pageBits;
    const r = st.hot[pg]!;
    const m = (e & st.pageMask) * st.stride + st.kw;
    r[m + O_VLAN] = ctx.vlanKey | pbits | (rev ? REVERSED : 0);
    r[m + O_LANE] = ctx.lane;
    const f32 = st.hotF32[pg]!;
    f32[m + O_TIME] = now;
    const t = f32[m + O_TIME]!;
    if (t < this.minTime) this.minTime = t;
    st.frames[pg]![e & st.pageMask] = ctx.frame | 0;
    st.firstTimes[pg]![e & st.pageMask] = ctx.time;
  }

  /**
   * Flow of record e (within the window) seen on another domain, or a packet
   * of a flow already known to collide: a new collision, one more domain for
   * it, or a reply that went to the wrong clone (`reply`).
   */
  private seenElsewhere(st: RecordStore, e: number, ctx: PacketContext, v6: boolean, p: number, rev: number): void {
    const hot = st.hot[e >>> st.pageBits]!;
    const m = (e & st.pageMask) * st.stride + st.kw;
    const vw = hot[m + O_VLAN]!;
    if (rev !== ((vw & REVERSED) !== 0 ? 1 : 0) && this.answersDirectional(ctx, hot, m, vw, v6, e)) return;
    const col = this.collisionOf(st, e, v6, p);
    const loc = ctx.lane * 0x4000000 + ctx.vlanKey;
    if (rev === ((vw & REVERSED) !== 0 ? 1 : 0)) {
      col.askLoc = loc;
      col.askFrame = ctx.frame;
      col.askIface = ctx.interfaceId;
      col.askSection = ctx.section;
      col.askVlanKey = ctx.vlanKey;
      col.askTunnel = ctx.laneTunnel;
      col.askTime = ctx.time;
      if (!col.askLocs.includes(loc)) col.askLocs.push(loc);
    } else {
      this.reply(col, ctx, loc, 'reply');
    }
    this.addLane(col, ctx, loc);
  }

  /**
   * Whether a packet answering the flow of record e (its hot words `r` from
   * `m` on, its vlan word `vw`) goes from one directional lane to another
   * (a tunnel's identifier may name one direction: GTP-U's TEID always does,
   * a VNI or key may: Lanes.directional): the lane of the request it answers
   * (the latest one, or the record's when the flow has no collision yet) is
   * directional, and so is its own, and its own domain never asked this
   * flow. Such an answer is where answers go: no new lane, no wrong clone.
   * An answer in a domain that asked the flow too went to another asker: the
   * clones' bug, judged as on interfaces.
   */
  private answersDirectional(ctx: PacketContext, r: Int32Array, m: number, vw: number, v6: boolean, e: number): boolean {
    if (!this.lanes.directional(ctx.lane)) return false;
    let ask: number;
    if ((vw & HAS_COLL) !== 0) {
      const col = this.collisions[this.collisionIndex.get((e << 1) | (v6 ? 1 : 0))!]!;
      if (col.askLocs.includes(ctx.lane * 0x4000000 + ctx.vlanKey)) return false;
      ask = Math.floor(col.askLoc / 0x4000000);
    } else {
      ask = r[m + O_LANE]!;
    }
    return this.lanes.directional(ask);
  }

  /**
   * The collision of record e, made when its flow first leaves its domain.
   * All its packets so far were on the record's domain, the first of them
   * in the flow's first direction: that is the request a reply elsewhere
   * would have been meant for, until a later request says otherwise.
   */
  private collisionOf(st: RecordStore, e: number, v6: boolean, p: number): CollisionState {
    const pg = e >>> st.pageBits;
    const r = st.hot[pg]!;
    const b = (e & st.pageMask) * st.stride;
    const m = b + st.kw;
    const ref = (e << 1) | (v6 ? 1 : 0);
    const vw = r[m + O_VLAN]!;
    if ((vw & HAS_COLL) !== 0) return this.collisions[this.collisionIndex.get(ref)!]!;
    this.collisionIndex.set(ref, this.collisions.length);
    r[m + O_VLAN] = vw | HAS_COLL;
    const lane = r[m + O_LANE]!;
    const iface = this.lanes.id(lane);
    const section = this.lanes.shownSection(lane);
    const vlanKey = vw & VLAN_BITS;
    const frame = st.frames[pg]![e & st.pageMask]! >>> 0;
    const time = st.firstTimes[pg]![e & st.pageMask]!;
    const loc = lane * 0x4000000 + vlanKey;
    const tunnel = this.lanes.tunnel(lane);
    const col: CollisionState = {
      protocol: protoName(p, v6),
      flow: this.flowText(r, b, v6, p),
      interfaces: [iface],
      lanes: [lane],
      frames: [frame],
      times: [time],
      vlanKeys: [vlanKey],
      tunnels: [tunnel],
      locs: [loc],
      askLoc: loc,
      askFrame: frame,
      askIface: iface,
      askSection: section,
      askVlanKey: vlanKey,
      askTunnel: tunnel,
      askTime: time,
      askLocs: [loc],
      replyLoc: -1,
      wrong: [],
      wrongCount: 0,
    };
    this.collisions.push(col);
    return col;
  }

  /**
   * A packet answering the flow's requests (a reply, or an ICMP error that
   * quotes a request) on domain `loc`. It reached the wrong clone when it is
   * on another domain than the latest request, unless the reply before it
   * reached that request's domain: then this one is a copy of a delivered
   * reply (one flow captured on both sides of a bridge or a router, where
   * every packet shows on two interfaces), not a second delivery.
   */
  private reply(col: CollisionState, ctx: PacketContext, loc: number, what: string): void {
    const copy = col.replyLoc === col.askLoc;
    col.replyLoc = loc;
    if (loc === col.askLoc || copy) return;
    if (col.wrongCount++ < MAX_WRONG_REPLIES) {
      col.wrong.push({
        request: flowPacket(col.askFrame, col.askIface, col.askSection, col.askVlanKey, col.askTunnel, col.askTime),
        reply: flowPacket(ctx.frame, ctx.interfaceId, ctx.section, ctx.vlanKey, ctx.laneTunnel, ctx.time),
      });
    }
    ctx.add(
      'flow.wrong-clone',
      `${col.protocol} ${col.flow}: ${what} on ${ctx.where()} to the request of frame ${col.askFrame} on ${describeLocation(col.askIface, col.askVlanKey, col.askSection, col.askTunnel)}: the answer went to another clone than the one that asked`,
    );
  }

  /** The flow seen on domain `loc`: a new lane of its collision (a `flow.collision` warning), unless known. */
  private addLane(col: CollisionState, ctx: PacketContext, loc: number): void {
    if (col.locs.includes(loc)) return;
    col.locs.push(loc);
    col.interfaces.push(ctx.interfaceId);
    col.lanes.push(ctx.lane);
    col.frames.push(ctx.frame);
    col.times.push(ctx.time);
    col.vlanKeys.push(ctx.vlanKey);
    col.tunnels.push(ctx.laneTunnel);
    ctx.add(
      'flow.collision',
      `${col.protocol} ${col.flow} on ${ctx.where()} is also on ${describeLocation(col.interfaces[0]!, 0, this.lanes.shownSection(col.lanes[0]!), col.tunnels[0])} (frame ${col.frames[0]}): a stateful NAT would take them for one connection`,
    );
  }

  /** The flow's name; its hot record (key from ports on) is at b. */
  private flowText(k: Int32Array, b: number, v6: boolean, p: number): string {
    const addr = (w: number): string => {
      if (!v6) return formatIpv4(k[b + w]! >>> 0);
      const bytes = new Uint8Array(16);
      const dv = new DataView(bytes.buffer);
      for (let i = 0; i < 4; i++) dv.setInt32(4 * i, k[b + w + i]!);
      return formatIpv6(bytes, 0);
    };
    const ports = k[b]!;
    const px = ports >>> 16;
    const py = ports & 0xffff;
    let src = addr(1);
    let dst = addr(v6 ? 5 : 2);
    let sp = px;
    let dp = py;
    if ((k[b + (v6 ? KEY_WORDS - 1 : 3) + O_VLAN]! & REVERSED) !== 0) [src, dst, sp, dp] = [dst, src, py, px];
    if (p === IPPROTO_ICMP || p === IPPROTO_ICMPV6) return `${src} > ${dst} echo id ${sp}`;
    return v6 ? `[${src}]:${sp} > [${dst}]:${dp}` : `${src}:${sp} > ${dst}:${dp}`;
  }

  /** The full hash of the flow in a probe slot word. */
  private hashOf(w: number): number {
    const ref = (w & this.refMask) - 1;
    return this.recordHash(ref & 1, ref >>> 1);
  }

  /** Removes the flow at slot s (backward-shift deletion, Knuth 6.4 algorithm R). */
  private removeAt(s: number): void {
    const probe = this.probe;
    const mask = this.mask;
    const ref = (probe[s]! & this.refMask) - 1;
    ((ref & 1) === 0 ? this.v4 : this.v6).release(ref >>> 1);
    let hole = s;
    let j = s;
    for (;;) {
      j = (j + 1) & mask;
      const w = probe[j]!;
      if (w === 0) break;
      const home = this.hashOf(w) & mask;
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        probe[hole] = w;
        hole = j;
      }
    }
    probe[hole] = 0;
    this.live--;
  }

  /** Expires up to `steps` slots' idle flows with a clock hand (amortised O(1) per new flow). */
  private sweep(now: number, steps: number): void {
    const n = this.mask + 1;
    if (now - this.minTime <= this.window) {
      // No flow can be idle yet: only the hand moves.
      let hand = this.hand;
      for (let i = 0; i < steps; i++) hand = (hand >= n ? 0 : hand) + 1;
      this.hand = hand;
      return;
    }
    const probe = this.probe;
    const refMask = this.refMask;
    const v4 = this.v4;
    const v6 = this.v6;
    for (let i = 0; i < steps; i++) {
      if (this.hand >= n) this.hand = 0;
      const s = this.hand;
      const w = probe[s]!;
      if (w !== 0) {
        const ref = (w & refMask) - 1;
        const e = ref >>> 1;
        const st = (ref & 1) === 0 ? v4 : v6;
        const t = st.hotF32[e >>> st.pageBits]![(e & st.pageMask) * st.stride + st.kw + O_TIME]!;
        if (now - t > this.window) {
          this.removeAt(s);
          continue;
        }
      }
      this.hand++;
    }
  }

  private grow(): void {
    const old = this.probe;
    const n = (this.mask + 1) * 2;
    const probe = new Int32Array(n);
    const mask = n - 1;
    for (let i = 0; i < old.length; i++) {
      const w = old[i]!;
      if (w === 0) continue;
      let s = this.hashOf(w) & mask;
      while (probe[s] !== 0) s = (s + 1) & mask;
      probe[s] = w;
    }
    this.probe = probe;
    this.mask = mask;
    this.hand = 0;
  }

  /**
   * Done with the table: its memory goes to the next tracker of this thread
   * (blockpool.ts). Nothing of it may be used afterwards; `report` gives
   * plain values, so call it first.
   */
  dispose(): void {
    this.pool.release();
  }

  /** The colliding flows, in order of detection, with the first frame and time on each lane and the wrong-clone replies. */
  report(): Collision[] {
    return this.collisions.map((c) => ({
      protocol: c.protocol,
      flow: c.flow,
      interfaces: c.interfaces,
      frames: c.frames,
      times: c.times.map(reportTime),
      ...(c.vlanKeys.some((k) => k !== 0) ? { vlans: c.vlanKeys.map(vlanText) } : {}),
      ...(c.lanes.some((l) => this.lanes.shownSection(l) >= 0) ? { sections: c.lanes.map((l) => this.lanes.sections[l] ?? 0) } : {}),
      ...(c.tunnels.some((t) => t !== '') ? { tunnels: c.tunnels } : {}),
      wrongReplies: c.wrong,
      wrongReplyCount: c.wrongCount,
    }));
  }
}
