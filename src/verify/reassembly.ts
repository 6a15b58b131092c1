/**
 * Bounded IPv4/IPv6 fragment reassembly for checksum verification.
 *
 * Nothing is copied: a fragment's payload starts at a multiple of 8 bytes of
 * the datagram, so its ones'-complement sum can be taken on its own and the
 * datagram's sum is the sum of its fragments' sums. The table keeps, per
 * incomplete datagram, the (offset, length, sum) of each fragment plus what
 * the first fragment says about the L4 header (checksum field, UDP length,
 * coverage, pseudo-header address sum); memory is O(datagrams x fragments)
 * whatever the datagram sizes.
 *
 * What Wireshark does, and so do we: a fragment joins reassembly only when
 * its payload is entirely captured and (IPv4) its header checksum is right;
 * the L4 checksum is verified on the frame whose fragment completes the
 * datagram. Differences, on purpose: the key includes the capture interface
 * and VLAN (Wireshark's does not: identical fragments from cloned guests on
 * several taps would be merged), and incomplete datagrams time out.
 *
 * Limits (VerifierOptions): `maxDatagrams` in flight, `maxFragments` per
 * datagram, `timeout` seconds since a datagram's first fragment. A datagram
 * that hits a limit, times out, overlaps itself with different lengths or
 * is still incomplete at the end of the capture counts as `unverifiable`;
 * the first limit hit of a run raises one `verify.limit` warning.
 */
import { KeyTable, grown } from './keytable.js';

/** Key: iface, vlanKey, version<<8|proto, id, src (4 words), dst (4 words). */
const KEY_WORDS = 12;

export const FLAG_FIRST = 1; // the first fragment (offset 0) is in
export const FLAG_LAST = 2; // the last fragment (MF clear) is in: `total` is known
export const FLAG_CONFLICT = 4; // overlapping fragments: the sum cannot be trusted

/** What `add` returns. */
export const ADD_PENDING = 0;
export const ADD_COMPLETE = 1;
/** The datagram cannot be verified (conflict, too many fragments): it was dropped. */
export const ADD_DROPPED = 2;
/** The table is full of live datagrams: this fragment was not tracked. */
export const ADD_FULL = 3;

export class Reassembler {
  readonly table: KeyTable;
  readonly maxFragments: number;
  readonly timeout: number;
  /** Datagrams given up (timeout, limits, conflicts, end of capture) whose L4 checksum we would have checked. */
  abandoned = 0;
  /** Set when a limit was hit, with the reason (for the one warning). */
  limitHit: string | null = null;

  // Per datagram (entry number).
  firstTime: Float64Array;
  total: Int32Array;
  received: Int32Array;
  flags: Uint8Array;
  sum: Float64Array;
  /** Bytes between the fragmentable part's start and the L4 header (IPv6 extension headers after the fragment header, IPv4 AH). */
  l4Skip: Int32Array;
  /** From the first fragment: L4 protocol, checksum field, and a second header field (UDP length / UDP-Lite coverage / DCCP offset<<4|CsCov). */
  proto: Int32Array;
  field: Int32Array;
  aux: Int32Array;
  /** Pseudo-header address sum (source + final destination), unfolded. */
  pseudoAddr: Float64Array;
  fragCount: Int32Array;
  // Fragment pool: datagram e's fragments at [e*maxFragments, ...).
  fragOff: Int32Array;
  fragLen: Int32Array;
  fragSum: Float64Array;
  private hand = 0;

  constructor(maxDatagrams: number, maxFragments: number, timeout: number) {
    this.table = new KeyTable(KEY_WORDS, maxDatagrams, 64);
    this.maxFragments = Math.max(2, maxFragments);
    this.timeout = timeout;
    const c = this.table.capacity;
    this.firstTime = new Float64Array(c);
    this.total = new Int32Array(c);
    this.received = new Int32Array(c);
    this.flags = new Uint8Array(c);
    this.sum = new Float64Array(c);
    this.l4Skip = new Int32Array(c);
    this.proto = new Int32Array(c);
    this.field = new Int32Array(c);
    this.aux = new Int32Array(c);
    this.pseudoAddr = new Float64Array(c);
    this.fragCount = new Int32Array(c);
    this.fragOff = new Int32Array(c * this.maxFragments);
    this.fragLen = new Int32Array(c * this.maxFragments);
    this.fragSum = new Float64Array(c * this.maxFragments);
    this.table.onGrow = (n) => {
      this.firstTime = grown(this.firstTime, n);
      this.total = grown(this.total, n);
      this.received = grown(this.received, n);
      this.flags = grown(this.flags, n);
      this.sum = grown(this.sum, n);
      this.l4Skip = grown(this.l4Skip, n);
      this.proto = grown(this.proto, n);
      this.field = grown(this.field, n);
      this.aux = grown(this.aux, n);
      this.pseudoAddr = grown(this.pseudoAddr, n);
      this.fragCount = grown(this.fragCount, n);
      this.fragOff = grown(this.fragOff, n * this.maxFragments);
      this.fragLen = grown(this.fragLen, n * this.maxFragments);
      this.fragSum = grown(this.fragSum, n * this.maxFragments);
    };
  }

  /** Datagrams in flight. */
  get size(): number {
    return this.table.count;
  }

  /** The scratch key to fill before `add` (see KEY_WORDS). */
  get key(): Int32Array {
    return this.table.key;
  }

  /**
   * Adds one fragment (key already in `key`): payload bytes [offset,
   * offset+len) of the datagram, with unfolded sum `sum` of its L4 part.
   * `last` when more-fragments is clear. Returns ADD_*; with ADD_COMPLETE
   * the datagram is `lastEntry` and the caller must `release` it.
   */
  add(now: number, offset: number, len: number, sum: number, last: boolean): number {
    const t = this.table;
    let e = t.find();
    if (e >= 0 && now - this.firstTime[e]! > this.timeout) {
      this.drop(e);
      e = -1;
    }
    if (e < 0) {
      this.sweep(now, 2);
      e = t.insert();
      if (e < 0) {
        this.sweep(now, 64);
        e = t.insert();
      }
      if (e < 0) {
        this.limitHit ??= `fragment reassembly table full (${t.maxEntries} incomplete datagrams in flight): further datagrams are not reassembled and their L4 checksums count as unverifiable`;
        return ADD_FULL;
      }
      this.firstTime[e] = now;
      this.total[e] = -1;
      this.received[e] = 0;
      this.flags[e] = 0;
      this.sum[e] = 0;
      this.l4Skip[e] = 0;
      this.proto[e] = -1;
      this.field[e] = -1;
      this.aux[e] = 0;
      this.pseudoAddr[e] = 0;
      this.fragCount[e] = 0;
    }
    this.lastEntry = e;
    // Overlap check against the fragments already in.
    const base = e * this.maxFragments;
    const n = this.fragCount[e]!;
    const end = offset + len;
    for (let i = 0; i < n; i++) {
      const o = this.fragOff[base + i]!;
      const l = this.fragLen[base + i]!;
      if (end <= o || offset >= o + l) continue;
      if (o === offset && l === len && this.fragSum[base + i] === sum) return ADD_PENDING; // exact duplicate (retransmission)
      this.flags[e]! |= FLAG_CONFLICT;
    }
    if (n >= this.maxFragments) {
      this.limitHit ??= `datagram with more than ${this.maxFragments} fragments: not reassembled, its L4 checksum counts as unverifiable`;
      this.drop(e);
      return ADD_DROPPED;
    }
    this.fragOff[base + n] = offset;
    this.fragLen[base + n] = len;
    this.fragSum[base + n] = sum;
    this.fragCount[e] = n + 1;
    this.received[e]! += len;
    this.sum[e]! += sum;
    if (last) {
      if ((this.flags[e]! & FLAG_LAST) !== 0 && this.total[e] !== end) this.flags[e]! |= FLAG_CONFLICT;
      this.flags[e]! |= FLAG_LAST;
      this.total[e] = end;
    }
    if ((this.flags[e]! & FLAG_LAST) !== 0 && end > this.total[e]!) this.flags[e]! |= FLAG_CONFLICT;
    if ((this.flags[e]! & FLAG_CONFLICT) !== 0) {
      this.drop(e);
      return ADD_DROPPED;
    }
    if ((this.flags[e]! & (FLAG_FIRST | FLAG_LAST)) === (FLAG_FIRST | FLAG_LAST) && this.received[e] === this.total[e]) return ADD_COMPLETE;
    return ADD_PENDING;
  }

  /** The entry of the last `add`. */
  lastEntry = -1;

  /** Forgets a completed datagram. */
  release(e: number): void {
    this.table.remove(e);
  }

  /** Gives up on datagram e: counted as abandoned (unverifiable). */
  drop(e: number): void {
    this.abandoned++;
    this.table.remove(e);
  }

  /** Expires up to `steps` timed-out datagrams with a clock hand (amortised O(1) per fragment). */
  private sweep(now: number, steps: number): void {
    const t = this.table;
    const used = t.used;
    if (used === 0) return;
    for (let i = 0; i < steps; i++) {
      if (this.hand >= used) this.hand = 0;
      const e = this.hand++;
      if (now - this.firstTime[e]! > this.timeout && t.isLive(e)) this.drop(e);
    }
  }

  /** End of capture: every datagram still incomplete is abandoned. Returns how many. */
  finish(): number {
    const n = this.table.count;
    this.abandoned += n;
    return n;
  }
}
