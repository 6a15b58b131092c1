/**
 * Flow collisions: the clones' bug. One flow (protocol, address:port pairs;
 * the ICMP/ICMPv6 echo identifier stands for the ports) seen on two or more
 * broadcast domains (interface + VLAN tags) within `window` seconds of its
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
 * `flow.collision` warning; `collisions` lists each colliding flow once with
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
 * a 28-byte IPv4 record (52 for IPv6), the records in 1 MB pages that are
 * never copied: at the default 2^20 flows, 8 MB and 32 MB. No strings per packet; strings are built only for a
 * collision. At most `maxFlows` live flows; idle ones are reclaimed by a
 * clock hand as new flows arrive; when the table is full of live flows,
 * new flows are not tracked and one `verify.limit` warning is raised.
 *
 * Single-domain log. A collision needs two domains, and a classic pcap
 * (one interface, often no VLANs) has one domain from start to end. While
 * only one domain has been seen, a packet does not probe the table: its
 * flow entry (time, protocol/family/direction, frame step, key words) is
 * appended to a sequential log instead. The log is replayed in order
 * through `track` (the hash recomputed from the key, the PacketContext's
 * frame/interface/VLAN/time set from each entry and restored after, the key
 * scratch saved and restored) when a packet of a second domain arrives,
 * when the log is full, when a frame number does not fit an entry, or when
 * `size`/`capacity` are read; from the second domain on, the table is used
 * directly and the log is no longer written. The log saves the table's random probes
 * for the packets it never replays, so a capture of up to LOG_MAX packets
 * in one domain (most regression captures) never probes the table. A longer
 * one fills it once, and its later packets go through the log in batches of
 * LOG_BATCH: replayed in a tight loop, a batch costs less than probing
 * packet by packet between decoding and checksumming. Replay is exactly what `track` would have done for
 * those packets, in the same order, with the same times, so the table
 * (slots, records, clock hand, growth, idle reclaim) ends in the same state
 * as without the log. In one domain nothing but `verify.limit` can be
 * reported (a collision needs another interface or VLAN than the flow's
 * record holds; a domain whose VLAN key or interface does not fit the
 * record's fields is not logged at all), and the log's capacity rules
 * `verify.limit` out during a replay: when the log starts (empty) with S
 * live flows and the limit not yet reported, it takes at most
 * maxFlows - S entries; each entry adds at most one flow, so before entry i
 * the table holds at most S + i < maxFlows flows and the table-full branch
 * is never taken while replaying (once the limit has been reported, that
 * branch emits nothing anyway). A packet that does not fit replays the log
 * first and is then logged or, when no room is left (S = maxFlows), tracked
 * directly with its own context, so the `verify.limit` warning is raised on
 * the very packet that overflows, in frame order, as before. A replay
 * reports nothing, so findings keep their order. report() needs no replay:
 * with one domain there are no collisions.
 *
 * Memory bound of the log: at most LOG_MAX = 2^20 entries (and at most
 * maxFlows - S), 24 bytes per IPv4 entry and 48 per IPv6 entry, in 1 MB
 * chunks of the BlockPool (no allocation per packet): 24 MB for 2^20 IPv4
 * packets, 48 MB at most (plus under 48 bytes of slack per chunk), and
 * 4 MB once the log has been full. Replayed chunks go back to the pool,
 * where the record pages take them: the log and the table share one bound
 * rather than adding theirs.
 */
import type { DecodeResult } from '../wire/decode.js';
import * as eth from '../wire/ethernet.js';
import * as icmp from '../wire/icmp.js';
import * as icmpv6 from '../wire/icmpv6.js';
import { LINKTYPE_ETHERNET } from '../wire/raw.js';
import * as tcp from '../wire/tcp.js';
import { IPPROTO_DCCP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE } from '../wire/ip.js';
import { formatIpv4, formatIpv6 } from '../wire/address.js';
import type { Collision } from '../report/model.js';
import type { PacketContext } from './context.js';

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
const O_IFACE = 1;
const O_TIME = 2;
const PROTO_SHIFT = 26;
const REVERSED = 1 << 30;
const HAS_COLL = 1 << 31;
const VLAN_BITS = (1 << PROTO_SHIFT) - 1;
const HASH_MUL = 0x9e3779b1 | 0;
const MIN_SLOTS = 1 << 17;
/** Entries of the single-domain log, at most. */
const LOG_MAX = 1 << 20;
/** Entries of the log once it has been full (module comment). */
const LOG_BATCH = 1 << 16;
/** Log header word: protocol | reversed << 8 | IPv6 << 9. */
const LOG_REV = 1 << 8;
const LOG_V6 = 1 << 9;
// Log entry (int32 words, 8-byte aligned): time (float64), header (protocol
// | reversed << 8 | IPv6 << 9 | frame - previous entry's frame << 10), the
// key words from the ports on (3 for IPv4, 9 for IPv6). The hash is
// recomputed on replay.
const L_HDR = 2;
const L_KEY = 3;
const LOG_V4_WORDS = 6;
const LOG_V6_WORDS = 12;
const FRAME_SHIFT = 10;
const FRAME_DELTA_MAX = (1 << (31 - FRAME_SHIFT)) - 1;
/** Log chunk: 1 MB. */
const LOG_CHUNK_WORDS = 1 << 18;

/** Memory block of the log's chunks and the record pages: 1 MB. */
const BLOCK_BYTES = LOG_CHUNK_WORDS * 4;

/**
 * 1 MB blocks shared by the log and the record pages. The log takes its
 * chunks here and gives each back as soon as it has been replayed, so the
 * pages a replay adds are made of the log it empties: the first replay of a
 * long capture turns 24 MB of log into record pages instead of adding them
 * on top. (Chunks dropped instead stayed resident until V8's next full
 * collection, which a run that allocates almost nothing may not see for
 * seconds: verify of the 2 GB bench peaked 20 MB higher.)
 */
class BlockPool {
  private readonly free: ArrayBuffer[] = [];
  take(): ArrayBuffer {
    return this.free.pop() ?? new ArrayBuffer(BLOCK_BYTES);
  }
  give(block: ArrayBuffer): void {
    this.free.push(block);
  }
}

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
  /** Hot words of each page, the same bytes as float32 (the times), and each record's first frame. */
  readonly hot: Int32Array[] = [];
  readonly hotF32: Float32Array[] = [];
  readonly frames: Int32Array[] = [];
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
    while ((1 << bits) * (this.stride + 1) * 4 > BLOCK_BYTES) bits--;
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
    }
    return this.next++;
  }

  release(e: number): void {
    this.hot[e >>> this.pageBits]![(e & this.pageMask) * this.stride] = this.freeHead;
    this.freeHead = e;
  }
}

/** The flow hash of a key (KEY_WORDS words); never 0. packet() inlines it for IPv4 keys. */
function hashWords(k: Int32Array): number {
  let h = 0x2545f491;
  for (let i = 0; i < KEY_WORDS; i++) h = Math.imul(h ^ k[i]!, HASH_MUL) ^ (h >>> 15);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 1;
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

interface CollisionState extends Collision {
  /** Domains as iface * 2^26 + vlanKey. */
  locs: number[];
  /** Domain and frame of the flow's latest packet in its first direction (the request); -1 unknown. */
  askLoc: number;
  askFrame: number;
  askIface: number;
}

/**
 * A destination that is a group, not a peer: an Ethernet group MAC (the I/G
 * bit: broadcast and multicast frames), IPv4 multicast or limited broadcast,
 * IPv6 multicast. (An IPv4 subnet broadcast shows as such in its MAC.)
 */
function isGroupDestination(v: DataView, d: DecodeResult): boolean {
  if (d.linkType === LINKTYPE_ETHERNET && d.off + eth.DST_MAC + eth.MAC_LEN <= d.capEnd && (v.getUint8(d.off + eth.DST_MAC) & eth.GROUP_BIT) !== 0) return true;
  const ip = d.ip;
  if (ip.version === 4) {
    if (ip.dstOff + 4 > d.capEnd) return false;
    const dst = v.getUint32(ip.dstOff);
    return dst >>> 28 === 0xe || dst === 0xffffffff;
  }
  return ip.dstOff < d.capEnd && v.getUint8(ip.dstOff) === 0xff;
}

export class CollisionTracker {
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
  private readonly key = new Int32Array(KEY_WORDS);
  /** Scratch key of recordHash (which runs inside track, while `key` holds the packet's). */
  private readonly rehashKey = new Int32Array(KEY_WORDS);
  /** Collision index of each record whose flow collides (HAS_COLL), by (record << 1 | family). */
  private readonly collisionOf = new Map<number, number>();
  /** Blocks of the log and the record pages. */
  private readonly pool = new BlockPool();
  private readonly a = new Int32Array(5); // scratch: side A words + port
  private readonly b = new Int32Array(5);
  /** Single-domain log (see the module comment): true until a second domain is seen. */
  private single = true;
  private logDomain = false;
  private logIface = 0;
  private logVlan = 0;
  /** Entries in the log, and the entries allowed before a replay (0: to be computed). */
  private logN = 0;
  private logCap = 0;
  /** Entries the log may hold before a replay: log.max until its first fill, then log.batch. */
  private logMax: number;
  private readonly logBatch: number;
  /** Chunks (from the pool, back to it when replayed), the words used in each full one, the current one and the next word in it. */
  private readonly logChunks: ArrayBuffer[] = [];
  private readonly logUsed: number[] = [];
  private logChunk = -1;
  private logPos = LOG_CHUNK_WORDS;
  private logI32 = new Int32Array(0);
  private logF64 = new Float64Array(0);
  private logCtx: PacketContext | null = null;
  /** Frame of the first entry, and of the latest. */
  private logBase = 0;
  private logFrame = 0;
  private readonly keySave = new Int32Array(KEY_WORDS);

  /**
   * `log` sizes the single-domain log (entries before its first replay, and
   * per batch after it); tests shrink it, and `max` 0 turns it off.
   */
  constructor(window = 120, maxFlows = 1 << 20, log: { max: number; batch: number } = { max: LOG_MAX, batch: LOG_BATCH }) {
    this.window = window;
    this.maxFlows = Math.max(1, maxFlows);
    this.logMax = log.max;
    this.logBatch = Math.max(1, log.batch);
    this.single = log.max > 0;
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
  }

  /** Slots allocated. */
  get capacity(): number {
    this.replay();
    return this.mask + 1;
  }

  /** Live flows. */
  get size(): number {
    this.replay();
    return this.live;
  }

  /** logSlot's common case (a packet of the domain, room in the log and in its chunk). */
  private logNext(ctx: PacketContext): number {
    const w = this.logPos;
    const frame = ctx.frame;
    const fd = frame - this.logFrame;
    if (
      this.logN < this.logCap &&
      ctx.iface === this.logIface &&
      ctx.vlanKey === this.logVlan &&
      w + LOG_V6_WORDS <= LOG_CHUNK_WORDS &&
      (fd & FRAME_DELTA_MAX) === fd &&
      ctx === this.logCtx
    ) {
      this.logF64[w >>> 1] = ctx.time;
      this.logI32[w + L_HDR] = fd << FRAME_SHIFT;
      this.logFrame = frame;
      this.logN++;
      return w;
    }
    return this.logSlot(ctx);
  }

  /**
   * The int32 word where the packet's log entry goes (its time and frame
   * already written), when only one domain has been seen and there is room;
   * -1 when the packet is to be tracked in the table.
   */
  private logSlot(ctx: PacketContext): number {
    if (!this.logDomain) {
      this.logDomain = true;
      this.logIface = ctx.iface;
      this.logVlan = ctx.vlanKey;
      if ((ctx.vlanKey & VLAN_BITS) !== ctx.vlanKey || (ctx.iface | 0) !== ctx.iface) {
        // Not a domain the records hold exactly: no log.
        this.stopLogging();
        return -1;
      }
    } else if (ctx.iface !== this.logIface || ctx.vlanKey !== this.logVlan) {
      this.replay();
      this.stopLogging();
      return -1;
    }
    const frame = ctx.frame;
    let fd = frame - this.logFrame;
    if (this.logN === 0) {
      fd = 0;
      if (!(Number.isSafeInteger(frame) && frame >= 0 && frame < 2 ** 52)) return -1;
      this.logBase = frame;
    } else if ((fd & FRAME_DELTA_MAX) !== fd) {
      // Frame not a small step from the last one: tracked directly (the log first, to keep the order).
      this.replay();
      return -1;
    }
    if (this.logN >= this.logCap) {
      if (this.logN > 0) {
        this.replay();
        // Full once: from now on the log takes batches (module comment).
        this.logMax = this.logBatch;
      }
      // Room such that a replay can never fill the table (module comment).
      let cap = this.limitReported ? this.logMax : this.maxFlows - this.live;
      if (!(cap <= this.logMax)) cap = this.logMax;
      if (!(cap > 0)) return -1;
      this.logCap = cap;
      if (this.logN === 0) {
        fd = 0;
        this.logBase = frame;
      }
    }
    let w = this.logPos;
    if (w + LOG_V6_WORDS > LOG_CHUNK_WORDS) {
      if (this.logChunk >= 0) this.logUsed[this.logChunk] = w;
      const c = ++this.logChunk;
      if (c === this.logChunks.length) this.logChunks.push(this.pool.take());
      const buf = this.logChunks[c]!;
      this.logI32 = new Int32Array(buf);
      this.logF64 = new Float64Array(buf);
      w = 0;
    }
    this.logF64[w >>> 1] = ctx.time;
    this.logI32[w + L_HDR] = fd << FRAME_SHIFT;
    this.logFrame = frame;
    this.logN++;
    this.logCtx = ctx;
    return w;
  }

  /** No more logging: every later packet is tracked in the table (the log must be empty). */
  private stopLogging(): void {
    this.single = false;
    this.logI32 = new Int32Array(0);
    this.logF64 = new Float64Array(0);
    this.logCtx = null;
  }

  /** Tracks the logged packets in order, as `track` would have on their arrival; empties the log. */
  private replay(): void {
    const n = this.logN;
    const last = this.logChunk;
    const lastUsed = this.logPos;
    this.logN = 0;
    this.logCap = 0;
    this.logChunk = -1;
    this.logPos = LOG_CHUNK_WORDS;
    if (n === 0) return;
    const ctx = this.logCtx!;
    const frame = ctx.frame;
    const iface = ctx.iface;
    const vlanKey = ctx.vlanKey;
    const time = ctx.time;
    const k = this.key;
    this.keySave.set(k);
    ctx.iface = this.logIface;
    ctx.vlanKey = this.logVlan;
    let f = this.logBase;
    for (let c = 0; c <= last; c++) {
      const buf = this.logChunks[c]!;
      const W = new Int32Array(buf);
      const F = new Float64Array(buf);
      const end = c === last ? lastUsed : this.logUsed[c]!;
      let w = 0;
      while (w < end) {
        const hd = W[w + L_HDR]!;
        const v6 = (hd & LOG_V6) !== 0;
        const p = hd & 0xff;
        // The key as packet() builds it (IPv4: zeros in the IPv6-only words), for its hash.
        k[0] = (v6 ? 0x600 : 0x400) | p;
        for (let j = 1; j < KEY_WORDS; j++) k[j] = 0;
        k[1] = W[w + L_KEY]!;
        if (v6) {
          for (let j = 2; j < KEY_WORDS; j++) k[j] = W[w + L_KEY - 1 + j]!;
        } else {
          k[2] = W[w + L_KEY + 1]!;
          k[6] = W[w + L_KEY + 2]!;
        }
        f += hd >>> FRAME_SHIFT;
        ctx.time = F[w >>> 1]!;
        ctx.frame = f;
        this.track(ctx, v6, p, (hd & LOG_REV) !== 0 ? 1 : 0, this.hashKey());
        w += v6 ? LOG_V6_WORDS : LOG_V4_WORDS;
      }
      // Replayed: the chunk goes back to the pool, where the pages the rest of the replay adds take it.
      this.pool.give(buf);
    }
    this.logChunks.length = 0;
    k.set(this.keySave);
    ctx.frame = frame;
    ctx.iface = iface;
    ctx.vlanKey = vlanKey;
    ctx.time = time;
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
      if (v6 ? t !== icmpv6.ECHO_REQUEST && t !== icmpv6.ECHO_REPLY : t !== icmp.ECHO_REQUEST && t !== icmp.ECHO_REPLY) return;
      sport = dport = v.getUint16(l4 + icmp.ECHO_ID);
    } else {
      return;
    }
    if (isGroupDestination(v, d)) return;
    if (!v6) {
      // IPv4 (the common case): the key and its hash from locals (hashKey()
      // over the key with its six zero words).
      const ip4 = d.ip;
      if (ip4.dstOff + 4 > d.capEnd) return;
      const src = v.getInt32(ip4.srcOff);
      const dst = v.getInt32(ip4.dstOff);
      // Canonical order: the smaller (address, port) side first.
      const rev4 = src !== dst ? (src >>> 0 > dst >>> 0 ? 1 : 0) : sport > dport ? 1 : 0;
      const x = rev4 ? dst : src;
      const y = rev4 ? src : dst;
      const k0 = 0x400 | p;
      const k1 = rev4 ? (dport << 16) | sport : (sport << 16) | dport;
      if (this.single) {
        const w = this.logNext(ctx);
        if (w >= 0) {
          const W = this.logI32;
          W[w + L_HDR] = W[w + L_HDR]! | p | (rev4 ? LOG_REV : 0);
          W[w + L_KEY] = k1;
          W[w + L_KEY + 1] = x;
          W[w + L_KEY + 2] = y;
          this.logPos = w + LOG_V4_WORDS;
          return;
        }
      }
      const k = this.key;
      k[0] = k0;
      k[1] = k1;
      k[2] = x;
      k[6] = y;
      let h = 0x2545f491;
      h = Math.imul(h ^ k0, HASH_MUL) ^ (h >>> 15);
      h = Math.imul(h ^ k1, HASH_MUL) ^ (h >>> 15);
      h = Math.imul(h ^ x, HASH_MUL) ^ (h >>> 15);
      h = Math.imul(h, HASH_MUL) ^ (h >>> 15);
      h = Math.imul(h, HASH_MUL) ^ (h >>> 15);
      h = Math.imul(h, HASH_MUL) ^ (h >>> 15);
      h = Math.imul(h ^ y, HASH_MUL) ^ (h >>> 15);
      h = Math.imul(h, HASH_MUL) ^ (h >>> 15);
      h = Math.imul(h, HASH_MUL) ^ (h >>> 15);
      h = Math.imul(h, HASH_MUL) ^ (h >>> 15);
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      this.track(ctx, false, p, rev4, h | 1);
      return;
    }
    const rev = this.fill(v, d, v6, p, sport, dport);
    if (rev < 0) return;
    if (this.single) {
      const w = this.logNext(ctx);
      if (w >= 0) {
        const W = this.logI32;
        const k = this.key;
        W[w + L_HDR] = W[w + L_HDR]! | p | (rev ? LOG_REV : 0) | LOG_V6;
        for (let i = 1; i < KEY_WORDS; i++) W[w + L_KEY - 1 + i] = k[i]!;
        this.logPos = w + LOG_V6_WORDS;
        return;
      }
    }
    this.track(ctx, v6, p, rev, this.hashKey());
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
    return hashWords(this.key);
  }

  /** The hash of the flow in record e of family fam, recomputed from the record as packet() computes it. */
  private recordHash(fam: number, e: number): number {
    const st = fam === 0 ? this.v4 : this.v6;
    const r = st.hot[e >>> st.pageBits]!;
    const b = (e & st.pageMask) * st.stride;
    const k = this.rehashKey;
    k.fill(0);
    const v6 = fam === 1;
    k[0] = (v6 ? 0x600 : 0x400) | protoOfIndex((r[b + st.kw + O_VLAN]! >>> PROTO_SHIFT) & 7, v6);
    k[1] = r[b]!;
    if (v6) {
      for (let i = 2; i < KEY_WORDS; i++) k[i] = r[b + i - 1]!;
    } else {
      k[2] = r[b + 1]!;
      k[6] = r[b + 2]!;
    }
    return hashWords(k);
  }

  /** The flow whose key is in `key` (for IPv4, words 0, 1, 2 and 6) and hash h. */
  private track(ctx: PacketContext, v6: boolean, p: number, rev: number, h: number): void {
    if (this.baseTime !== this.baseTime) this.baseTime = ctx.time;
    const now = ctx.time - this.baseTime;
    const k = this.key;
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
          if (
            (v6
              ? r[b] === k[1] && r[b + 1] === k[2] && r[b + 2] === k[3] && r[b + 3] === k[4] && r[b + 4] === k[5] &&
                r[b + 5] === k[6] && r[b + 6] === k[7] && r[b + 7] === k[8] && r[b + 8] === k[9]
              : r[b] === k[1] && r[b + 1] === k[2] && r[b + 2] === k[6]) &&
            (r[m + O_VLAN]! & (7 << PROTO_SHIFT)) === pbits
          ) {
            const f32 = st.hotF32[e >>> st.pageBits]!;
            if (now - f32[m + O_TIME]! <= this.window) {
              f32[m + O_TIME] = now;
              const t = f32[m + O_TIME]!;
              if (t < this.minTime) this.minTime = t;
              // A set HAS_COLL bit fails the VLAN test: a known collision goes on.
              if (r[m + O_IFACE] === ctx.iface && (r[m + O_VLAN]! & ~REVERSED) === (ctx.vlanKey | pbits)) return;
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
    r[m + O_IFACE] = ctx.iface;
    const f32 = st.hotF32[pg]!;
    f32[m + O_TIME] = now;
    const t = f32[m + O_TIME]!;
    if (t < this.minTime) this.minTime = t;
    st.frames[pg]![e & st.pageMask] = ctx.frame | 0;
  }

  /**
   * Flow of record e (within the window) seen on another domain, or a packet
   * of a flow already known to collide: a new collision, one more domain for
   * it, or a reply that went to the wrong clone. The latter is a packet in
   * the flow's reverse direction on another domain than the latest packet in
   * its first direction: the request came from one clone, the answer went to
   * another (what conntrack in front of identical clones does).
   */
  private seenElsewhere(st: RecordStore, e: number, ctx: PacketContext, v6: boolean, p: number, rev: number): void {
    const pg = e >>> st.pageBits;
    const r = st.hot[pg]!;
    const b = (e & st.pageMask) * st.stride;
    const m = b + st.kw;
    const loc = ctx.iface * 0x4000000 + ctx.vlanKey;
    const ref = (e << 1) | (v6 ? 1 : 0);
    const vw = r[m + O_VLAN]!;
    const forward = rev === ((vw & REVERSED) !== 0 ? 1 : 0);
    let c: number;
    if ((vw & HAS_COLL) !== 0) {
      c = this.collisionOf.get(ref)!;
    } else {
      c = this.collisions.length;
      this.collisionOf.set(ref, c);
      r[m + O_VLAN] = vw | HAS_COLL;
      const iface = r[m + O_IFACE]!;
      this.collisions.push({
        protocol: protoName(p, v6),
        flow: this.flowText(r, b, v6, p),
        interfaces: [iface],
        frames: [st.frames[pg]![e & st.pageMask]! >>> 0],
        locs: [iface * 0x4000000 + (vw & VLAN_BITS)],
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

  /** The report's collisions, in order of detection. */
  report(): Collision[] {
    return this.collisions.map((c) => ({ protocol: c.protocol, flow: c.flow, interfaces: c.interfaces, frames: c.frames }));
  }
}
