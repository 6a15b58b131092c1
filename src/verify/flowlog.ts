/**
 * The collision tracker's single-domain log (collisions.ts is its sink).
 *
 * A collision needs two domains (interface + VLAN tags), and a classic pcap
 * (one interface, often no VLANs) has one domain from start to end. While
 * only one domain has been seen, a packet does not probe the flow table:
 * its flow entry (time, protocol/family/direction, frame step, key words)
 * is appended to this sequential log instead. The log is replayed in order
 * through the sink (`FlowSink.replayed`: the PacketContext's frame,
 * interface, VLAN key and time set from each entry and restored after)
 * when a packet of a second domain arrives, when the log is full, when a
 * frame number does not fit an entry, or when the tracker's
 * `size`/`capacity` are read; from the second domain on, the table is used
 * directly and the log is no longer written (`active` turns false). The
 * log saves the table's random probes for the packets it never replays, so
 * a capture of up to LOG_MAX packets in one domain (most regression
 * captures) never probes the table. A longer one fills it once, and its
 * later packets go through the log in batches of LOG_BATCH: replayed in a
 * tight loop, a batch costs less than probing packet by packet between
 * decoding and checksumming.
 *
 * Exact replay. Replay is exactly what tracking would have done for those
 * packets, in the same order, with the same times, so the table (slots,
 * records, clock hand, growth, idle reclaim) ends in the same state as
 * without the log. The invariants that make it so:
 *
 * - In one domain nothing but `verify.limit` can be reported (a collision
 *   needs another interface or VLAN than the flow's record holds); a domain
 *   whose VLAN key or interface does not fit the record's fields
 *   (`FlowSink.holds`) is not logged at all.
 * - `verify.limit` never fires during a replay: the log's capacity rules it
 *   out. When the log starts (empty) with room for R more flows in the
 *   table (`FlowSink.room`: maxFlows - S with S live flows, the limit not
 *   yet reported), it takes at most R entries; each entry adds at most one
 *   flow, so before entry i the table holds at most S + i < maxFlows flows
 *   and the table-full branch is never taken while replaying (once the
 *   limit has been reported, that branch emits nothing anyway and room is
 *   unlimited).
 * - Findings keep their order: a packet that does not fit replays the log
 *   first and is then logged or, when no room is left (R = 0), tracked
 *   directly with its own context, so the `verify.limit` warning is raised
 *   on the very packet that overflows, in frame order, as before. A replay
 *   reports nothing, so no finding moves. The tracker's report() needs no
 *   replay: with one domain there are no collisions.
 * - Context: the replay sets the PacketContext (the one the entries were
 *   logged with) from each entry and restores its frame, interface, VLAN
 *   key and time afterwards, so the packet in hand keeps its own. The sink
 *   tracks replayed entries through a key scratch of its own, not the one
 *   holding the packet in hand's key (a replay can run inside `append*`).
 *
 * Memory bound: at most LOG_MAX = 2^20 entries (and at most R), 24 bytes
 * per IPv4 entry and 48 per IPv6 entry, in 1 MB chunks of the BlockPool (no
 * allocation per packet): 24 MB for 2^20 IPv4 packets, 48 MB at most (plus
 * under 48 bytes of slack per chunk), and 4 MB once the log has been full.
 * Replayed chunks go back to the pool, where the table's record pages take
 * them: the log and the table share one bound rather than adding theirs.
 */
import { BLOCK_BYTES, type BlockPool } from './blockpool.js';
import type { PacketContext } from './context.js';

/** Entries of the single-domain log, at most. */
export const LOG_MAX = 1 << 20;
/** Entries of the log once it has been full (module comment). */
export const LOG_BATCH = 1 << 16;
/** Key words of an entry: ports, then the two addresses (IPv4: 1 word each, IPv6: 4). */
export const V4_KEY_WORDS = 3;
export const V6_KEY_WORDS = 9;

// Entry (int32 words, 8-byte aligned): time (float64), header (protocol |
// reversed << 8 | IPv6 << 9 | frame - previous entry's frame << 10), the
// key words.
const L_HDR = 2;
const L_KEY = 3;
const V4_WORDS = L_KEY + V4_KEY_WORDS;
const V6_WORDS = L_KEY + V6_KEY_WORDS;
const REV = 1 << 8;
const V6 = 1 << 9;
const FRAME_SHIFT = 10;
const FRAME_DELTA_MAX = (1 << (31 - FRAME_SHIFT)) - 1;
/** A chunk is one block of the pool. */
const CHUNK_WORDS = BLOCK_BYTES >> 2;

/** What the log needs from the flow table it stands in front of. */
export interface FlowSink {
  /** False for a domain the table's records cannot hold exactly: it is never logged. */
  holds(iface: number, vlanKey: number): boolean;
  /** New flows the table can take before it is full; Infinity once the full table has been reported. */
  room(): number;
  /**
   * One logged packet, replayed: `ctx` holds its frame, interface, VLAN key
   * and time; its key words (V4_KEY_WORDS or V6_KEY_WORDS) are at
   * words[off ..]. Must not touch the key the packet in hand was logged from.
   */
  replayed(ctx: PacketContext, v6: boolean, proto: number, rev: number, words: Int32Array, off: number): void;
}

export class FlowLog {
  /** Packets may be appended: true until a second domain is seen (false from the start when sized 0). */
  active: boolean;
  private domainSeen = false;
  private lane = 0;
  private vlan = 0;
  /** Entries in the log, and the entries allowed before a replay (0: to be computed). */
  private n = 0;
  private cap = 0;
  /** Entries the log may hold before a replay: sizes.max until its first fill, then sizes.batch. */
  private max: number;
  private readonly batch: number;
  /** Chunks (from the pool, back to it when replayed), the words used in each full one, the current one and the next word in it. */
  private readonly chunks: ArrayBuffer[] = [];
  private readonly used: number[] = [];
  private chunk = -1;
  private pos = CHUNK_WORDS;
  private i32 = new Int32Array(0);
  private f64 = new Float64Array(0);
  /** The context the entries were logged with; replay sets and restores it. */
  private ctx: PacketContext | null = null;
  /** Frame of the first entry, and of the latest. */
  private base = 0;
  private frame = 0;

  /** `sizes`: entries before the first replay, and per batch after it; tests shrink them, and `max` 0 turns the log off. */
  constructor(
    private readonly pool: BlockPool,
    private readonly sink: FlowSink,
    sizes: { max: number; batch: number } = { max: LOG_MAX, batch: LOG_BATCH },
  ) {
    this.max = sizes.max;
    this.batch = Math.max(1, sizes.batch);
    this.active = sizes.max > 0;
  }

  /** Logs an IPv4 packet; false when it is to be tracked in the table instead (the log may have been replayed first). */
  appendV4(ctx: PacketContext, proto: number, rev: number, ports: number, x: number, y: number): boolean {
    const w = this.slot(ctx);
    if (w < 0) return false;
    const W = this.i32;
    W[w + L_HDR] = W[w + L_HDR]! | proto | (rev ? REV : 0);
    W[w + L_KEY] = ports;
    W[w + L_KEY + 1] = x;
    W[w + L_KEY + 2] = y;
    this.pos = w + V4_WORDS;
    return true;
  }

  /** Logs an IPv6 packet whose key words are words[off .. off+V6_KEY_WORDS); false as appendV4. */
  appendV6(ctx: PacketContext, proto: number, rev: number, words: Int32Array, off: number): boolean {
    const w = this.slot(ctx);
    if (w < 0) return false;
    const W = this.i32;
    W[w + L_HDR] = W[w + L_HDR]! | proto | (rev ? REV : 0) | V6;
    for (let i = 0; i < V6_KEY_WORDS; i++) W[w + L_KEY + i] = words[off + i]!;
    this.pos = w + V6_WORDS;
    return true;
  }

  /** slotSlow's common case (a packet of the domain, room in the log and in its chunk). */
  private slot(ctx: PacketContext): number {
    const w = this.pos;
    const frame = ctx.frame;
    const fd = frame - this.frame;
    if (this.n < this.cap && ctx.lane === this.lane && ctx.vlanKey === this.vlan && w + V6_WORDS <= CHUNK_WORDS && (fd & FRAME_DELTA_MAX) === fd && ctx === this.ctx) {
      this.f64[w >>> 1] = ctx.time;
      this.i32[w + L_HDR] = fd << FRAME_SHIFT;
      this.frame = frame;
      this.n++;
      return w;
    }
    return this.slotSlow(ctx);
  }

  /**
   * The int32 word where the packet's entry goes (its time and frame already
   * written), when only one domain has been seen and there is room; -1 when
   * the packet is to be tracked in the table.
   */
  private slotSlow(ctx: PacketContext): number {
    if (!this.domainSeen) {
      this.domainSeen = true;
      this.lane = ctx.lane;
      this.vlan = ctx.vlanKey;
      if (!this.sink.holds(ctx.lane, ctx.vlanKey)) {
        this.stop();
        return -1;
      }
    } else if (ctx.lane !== this.lane || ctx.vlanKey !== this.vlan) {
      this.replay();
      this.stop();
      return -1;
    }
    const frame = ctx.frame;
    let fd = frame - this.frame;
    if (this.n === 0) {
      fd = 0;
      if (!(Number.isSafeInteger(frame) && frame >= 0 && frame < 2 ** 52)) return -1;
      this.base = frame;
    } else if ((fd & FRAME_DELTA_MAX) !== fd) {
      // Frame not a small step from the last one: tracked directly (the log first, to keep the order).
      this.replay();
      return -1;
    }
    if (this.n >= this.cap) {
      if (this.n > 0) {
        this.replay();
        // Full once: from now on the log takes batches (module comment).
        this.max = this.batch;
      }
      // Room such that a replay can never fill the table (module comment).
      let cap = this.sink.room();
      if (!(cap <= this.max)) cap = this.max;
      if (!(cap > 0)) return -1;
      this.cap = cap;
      if (this.n === 0) {
        fd = 0;
        this.base = frame;
      }
    }
    let w = this.pos;
    if (w + V6_WORDS > CHUNK_WORDS) {
      if (this.chunk >= 0) this.used[this.chunk] = w;
      const c = ++this.chunk;
      if (c === this.chunks.length) this.chunks.push(this.pool.take());
      const buf = this.chunks[c]!;
      this.i32 = new Int32Array(buf);
      this.f64 = new Float64Array(buf);
      w = 0;
    }
    this.f64[w >>> 1] = ctx.time;
    this.i32[w + L_HDR] = fd << FRAME_SHIFT;
    this.frame = frame;
    this.n++;
    this.ctx = ctx;
    return w;
  }

  /** No more logging: every later packet is tracked in the table (the log must be empty). */
  private stop(): void {
    this.active = false;
    this.i32 = new Int32Array(0);
    this.f64 = new Float64Array(0);
    this.ctx = null;
  }

  /** Hands the logged packets to the sink in order, as tracking would have taken them on arrival; empties the log. */
  replay(): void {
    const n = this.n;
    const last = this.chunk;
    const lastUsed = this.pos;
    this.n = 0;
    this.cap = 0;
    this.chunk = -1;
    this.pos = CHUNK_WORDS;
    if (n === 0) return;
    const ctx = this.ctx!;
    const frame = ctx.frame;
    const lane = ctx.lane;
    const vlanKey = ctx.vlanKey;
    const time = ctx.time;
    const sink = this.sink;
    ctx.lane = this.lane;
    ctx.vlanKey = this.vlan;
    let f = this.base;
    for (let c = 0; c <= last; c++) {
      const buf = this.chunks[c]!;
      const W = new Int32Array(buf);
      const F = new Float64Array(buf);
      const end = c === last ? lastUsed : this.used[c]!;
      let w = 0;
      while (w < end) {
        const hd = W[w + L_HDR]!;
        const v6 = (hd & V6) !== 0;
        f += hd >>> FRAME_SHIFT;
        ctx.time = F[w >>> 1]!;
        ctx.frame = f;
        sink.replayed(ctx, v6, hd & 0xff, (hd & REV) !== 0 ? 1 : 0, W, w + L_KEY);
        w += v6 ? V6_WORDS : V4_WORDS;
      }
      // Replayed: the chunk goes back to the pool, where the pages the rest of the replay adds take it.
      this.pool.give(buf);
    }
    this.chunks.length = 0;
    ctx.frame = frame;
    ctx.lane = lane;
    ctx.vlanKey = vlanKey;
    ctx.time = time;
  }
}
