/**
 * Seeded mutations of capture files for the fuzz tests and `npm run fuzz`:
 * bit flips, length fields set to hostile values, truncation, duplicated and
 * zeroed regions. Deterministic for a given seed.
 */

/** mulberry32 */
export function prng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const HOSTILE_LENGTHS = [0, 1, 11, 0xffff, 0x7fffffff, 0xfffffff0] as const;

export interface Mutation {
  bytes: Buffer;
  what: string;
}

/**
 * One mutation of `input`. `boundaries` are record/block start offsets
 * (length fields sit at +4 for pcapng blocks, +8/+12 for pcap records).
 */
export function mutate(input: Buffer, boundaries: readonly number[], rand: () => number): Mutation {
  const b = Buffer.from(input);
  const at = (n: number): number => Math.floor(rand() * n);
  const kind = at(6);
  switch (kind) {
    case 0: {
      const flips = 1 + at(8);
      const where: number[] = [];
      for (let i = 0; i < flips; i++) {
        const o = at(b.length);
        b[o]! ^= 1 << at(8);
        where.push(o);
      }
      return { bytes: b, what: `bit flips at ${where.join(',')}` };
    }
    case 1: {
      const start = boundaries[at(boundaries.length)] ?? 0;
      const field = start + [4, 8, 12, 20, 24][at(5)]!;
      const value = HOSTILE_LENGTHS[at(HOSTILE_LENGTHS.length)]!;
      if (field + 4 <= b.length) {
        if (rand() < 0.5) b.writeUInt32LE(value >>> 0, field);
        else b.writeUInt32BE(value >>> 0, field);
      }
      return { bytes: b, what: `u32 at ${field} = 0x${value.toString(16)}` };
    }
    case 2: {
      const cut = at(b.length);
      return { bytes: b.subarray(0, cut), what: `truncated at ${cut}` };
    }
    case 3: {
      const from = at(b.length);
      const len = Math.min(1 + at(256), b.length - from);
      const to = at(b.length);
      const dup = Buffer.concat([b.subarray(0, to), b.subarray(from, from + len), b.subarray(to)]);
      return { bytes: dup, what: `duplicated ${len} bytes from ${from} at ${to}` };
    }
    case 4: {
      const from = at(b.length);
      const len = Math.min(1 + at(64), b.length - from);
      b.fill(0, from, from + len);
      return { bytes: b, what: `zeroed ${len} bytes at ${from}` };
    }
    default: {
      const o = at(b.length);
      b[o] = at(256);
      return { bytes: b, what: `byte at ${o} = random` };
    }
  }
}
