/**
 * KeyTable: an allocation-free hash index from fixed-width integer keys
 * (`words` int32 words) to dense entry numbers 0..maxEntries-1, over typed
 * arrays. The verifier's fragment reassembly and ARP tables (bindings and
 * outstanding requests) keep their per-entry data in their own typed arrays
 * indexed by the entry number, so nothing is built per packet: the caller writes the key into
 * `key` and calls `find` / `insert`.
 *
 * Open addressing with linear probing over a power-of-two slot array (load
 * factor <= 1/2); deletion by backward shift, so there are no tombstones.
 * Storage starts small and doubles up to `maxEntries`: memory follows the
 * live entry count, and `insert` returns -1 once `maxEntries` are live (the
 * caller decides what a full table means: evict, or warn and stop).
 */
import { hash3, hashWords } from './hash.js';

export class KeyTable {
  readonly words: number;
  readonly maxEntries: number;
  /** Scratch key: fill `words` words, then call find/insert. */
  readonly key: Int32Array;
  /** Live entries. */
  count = 0;
  /** Entries' keys: entry e's key at [e*words, (e+1)*words). */
  keys: Int32Array;
  /** Entry capacity of the current storage. */
  capacity: number;
  /** Slot pairs: [hash, entry + 1] (0 = empty): a probe compares hashes before touching a key. */
  private slots: Int32Array;
  private mask: number;
  private freeList: Int32Array;
  private freeTop = 0;
  private next = 0; // next never-used entry
  /** Called after the storage grew, so owners can grow their per-entry arrays. */
  onGrow: ((capacity: number) => void) | null = null;

  constructor(words: number, maxEntries: number, initial = 1024) {
    this.words = words;
    this.maxEntries = Math.max(1, maxEntries);
    this.key = new Int32Array(words);
    this.capacity = Math.min(this.maxEntries, Math.max(16, initial));
    this.keys = new Int32Array(this.capacity * words);
    this.freeList = new Int32Array(this.capacity);
    let slotCount = 16;
    while (slotCount < this.capacity * 2) slotCount <<= 1;
    this.slots = new Int32Array(slotCount * 2);
    this.mask = slotCount - 1;
  }

  /** Full 32-bit hash of a key (never 0, so it can mark nothing). */
  private hashOf(k: Int32Array, base: number): number {
    return hashWords(k, base, this.words);
  }

  private lastHash = 0;

  private sameKey(e: number): boolean {
    const k = this.key;
    const ks = this.keys;
    const b = e * this.words;
    for (let i = 0; i < this.words; i++) if (ks[b + i] !== k[i]) return false;
    return true;
  }

  /** The entry holding `key`, or -1. */
  find(): number {
    const slots = this.slots;
    const h = this.hashOf(this.key, 0);
    this.lastHash = h;
    let s = h & this.mask;
    for (;;) {
      const e = slots[2 * s + 1]! - 1;
      if (e < 0) return -1;
      if (slots[2 * s] === h && this.sameKey(e)) return e;
      s = (s + 1) & this.mask;
    }
  }

  /**
   * find() for a table of 3-word keys, the key given as arguments: the ARP
   * check looks up every IPv4 packet's source, and the unrolled hash and
   * compare take it from 23 to 11 ms per million packets. Leaves `key` and
   * what `add` needs alone.
   */
  find3(k0: number, k1: number, k2: number): number {
    const h = hash3(k0, k1, k2);
    const slots = this.slots;
    const mask = this.mask;
    const ks = this.keys;
    let s = h & mask;
    for (;;) {
      const e = slots[2 * s + 1]! - 1;
      if (e < 0) return -1;
      if (slots[2 * s] === h && ks[3 * e] === k0 && ks[3 * e + 1] === k1 && ks[3 * e + 2] === k2) return e;
      s = (s + 1) & mask;
    }
  }

  /** True when the last `insert` created the entry. */
  created = false;

  /** The entry holding `key`, creating it when absent; -1 when the table is full. */
  insert(): number {
    this.created = false;
    const found = this.find();
    if (found >= 0) return found;
    return this.add();
  }

  /**
   * Creates an entry for `key`, which the caller's last `find()` (same key,
   * no insert since) showed absent; -1 when the table is full. Saves the
   * second hash and probe of `insert`.
   */
  add(): number {
    this.created = false;
    if (this.count >= this.maxEntries) return -1;
    let e: number;
    if (this.freeTop > 0) e = this.freeList[--this.freeTop]!;
    else {
      if (this.next >= this.capacity) this.grow();
      e = this.next++;
    }
    this.keys.set(this.key, e * this.words);
    this.place(e, this.lastHash);
    this.count++;
    this.created = true;
    return e;
  }

  private place(e: number, h: number): void {
    let s = h & this.mask;
    while (this.slots[2 * s + 1] !== 0) s = (s + 1) & this.mask;
    this.slots[2 * s] = h;
    this.slots[2 * s + 1] = e + 1;
  }

  /** Removes entry `e` (its number may be handed out again by a later insert). */
  remove(e: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let s = this.hashOf(this.keys, e * this.words) & mask;
    while (slots[2 * s + 1] !== e + 1) {
      if (slots[2 * s + 1] === 0) return; // not live
      s = (s + 1) & mask;
    }
    // Backward-shift deletion (Knuth 6.4 algorithm R).
    let hole = s;
    let j = s;
    for (;;) {
      j = (j + 1) & mask;
      const o = slots[2 * j + 1]! - 1;
      if (o < 0) break;
      const home = slots[2 * j]! & mask;
      // Move o into the hole unless its home lies cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        slots[2 * hole] = slots[2 * j]!;
        slots[2 * hole + 1] = o + 1;
        hole = j;
      }
    }
    slots[2 * hole] = 0;
    slots[2 * hole + 1] = 0;
    this.freeList[this.freeTop++] = e;
    this.count--;
  }

  /** Entries ever handed out (live or free): iterate 0..used-1 and skip dead ones with `isLive`. */
  get used(): number {
    return this.next;
  }

  /** True when entry e is live (O(probe length)). */
  isLive(e: number): boolean {
    if (e < 0 || e >= this.next) return false;
    let s = this.hashOf(this.keys, e * this.words) & this.mask;
    for (;;) {
      const x = this.slots[2 * s + 1]!;
      if (x === 0) return false;
      if (x === e + 1) return true;
      s = (s + 1) & this.mask;
    }
  }

  private grow(): void {
    const cap = Math.min(this.maxEntries, this.capacity * 2);
    const keys = new Int32Array(cap * this.words);
    keys.set(this.keys);
    this.keys = keys;
    const fl = new Int32Array(cap);
    fl.set(this.freeList.subarray(0, this.freeTop));
    this.freeList = fl;
    this.capacity = cap;
    let slotCount = this.slots.length >> 1;
    while (slotCount < cap * 2) slotCount <<= 1;
    if (slotCount !== this.slots.length >> 1) {
      const old = this.slots;
      this.slots = new Int32Array(slotCount * 2);
      this.mask = slotCount - 1;
      for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i + 1]! - 1, old[i]!);
    }
    this.onGrow?.(cap);
  }
}

/** Grows a typed array to `n` elements, keeping its contents. */
export function grown<T extends Int32Array | Uint32Array | Float64Array | Uint8Array>(a: T, n: number): T {
  if (a.length >= n) return a;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
