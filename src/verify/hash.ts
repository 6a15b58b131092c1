/**
 * The verifier's hash of int32 key words, for its open-addressing tables
 * (KeyTable: fragment reassembly and ARP; the flow table in collisions.ts):
 * each word mixed in by a multiply and an xor-shift, then a murmur3-style
 * finish. The result is never 0, so a table can keep 0 for "empty".
 *
 * Defined once here: `hashStep` and `hashFinish` are small enough that V8
 * inlines them, so the unrolled forms (hash3, the flow table's flowHash4)
 * cost what hand-inlined copies did.
 */
export const HASH_SEED = 0x2545f491;
const HASH_MUL = 0x9e3779b1 | 0;

/** Mixes one word into the running hash `h`. */
export function hashStep(h: number, w: number): number {
  return Math.imul(h ^ w, HASH_MUL) ^ (h >>> 15);
}

/** The final hash of a running hash (never 0). */
export function hashFinish(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  return x | 1;
}

/** The hash of the `n` words k[base .. base+n). */
export function hashWords(k: Int32Array, base: number, n: number): number {
  let h = HASH_SEED;
  for (let i = 0; i < n; i++) h = hashStep(h, k[base + i]!);
  return hashFinish(h);
}

/** hashWords of the three words (a, b, c), given as arguments. */
export function hash3(a: number, b: number, c: number): number {
  return hashFinish(hashStep(hashStep(hashStep(HASH_SEED, a), b), c));
}
