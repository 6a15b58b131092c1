/**
 * Internet checksum helpers (RFC 1071, RFC 1624). Pure functions over
 * Uint8Array, DataView and numbers; no allocation.
 *
 * Conventions: a "sum" is an unfolded ones-complement accumulator (a plain
 * non-negative number, exact up to 2^53); `fold` reduces it to 16 bits with
 * end-around carry. A "delta" is the sum `~m + m'` over every changed 16-bit
 * word (RFC 1624 eq. 3), ready to be applied to any checksum that covers those
 * words (header checksum, L4 checksum through the pseudo-header, an outer ICMP
 * checksum covering a quoted packet).
 */

/**
 * Ones-complement sum of `bytes[off .. off+len)` read as big-endian 16-bit
 * words, added to `seed`. An odd trailing byte is padded with a zero byte.
 * The caller guarantees the range is inside `bytes`.
 */
export function onesSum(bytes: Uint8Array, off: number, len: number, seed = 0): number {
  let s = seed;
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (len & 1) s += bytes[end]! << 8;
  return s;
}

/**
 * Folds an accumulator (any non-negative integer below 2^53) to 16 bits with
 * end-around carry: the result is congruent to `sum` modulo 0xFFFF, and 0
 * only when `sum` is 0. Folded sums add like unfolded ones:
 * fold(fold(a) + b) === fold(a + b).
 */
export function fold(sum: number): number {
  let s = sum;
  if (s > 0xffffffff) {
    // Above 32 bits the bit operators would cut it: split at bit 16 with exact
    // float arithmetic (dividing by 2^16 is exact; no fmod). Twice: 2^53 -> 2^37 -> 2^21.
    let hi = Math.floor(s / 0x10000);
    s = s - hi * 0x10000 + hi;
    if (s > 0xffffffff) {
      hi = Math.floor(s / 0x10000);
      s = s - hi * 0x10000 + hi;
    }
  }
  s = (s >>> 16) + (s & 0xffff);
  s = (s >>> 16) + (s & 0xffff);
  return s;
}

/** Delta for one 16-bit word changing from `oldWord` to `newWord`. */
export function delta16(oldWord: number, newWord: number): number {
  return (~oldWord & 0xffff) + (newWord & 0xffff);
}

/** Delta for a 32-bit value (two words, e.g. an IPv4 address) changing from `oldValue` to `newValue`. */
export function delta32(oldValue: number, newValue: number): number {
  const o = ~oldValue;
  return ((o >>> 16) & 0xffff) + (o & 0xffff) + (newValue >>> 16) + (newValue & 0xffff);
}

/**
 * Delta for `len` bytes (even) changing from `oldBytes[oldOff..]` to
 * `newBytes[newOff..]`, e.g. a 16-byte IPv6 address. Both ranges must be
 * aligned on a 16-bit boundary relative to the checksummed data.
 */
export function deltaBytes(oldBytes: Uint8Array, oldOff: number, newBytes: Uint8Array, newOff: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) {
    s += (~((oldBytes[oldOff + i]! << 8) | oldBytes[oldOff + i + 1]!) & 0xffff) + ((newBytes[newOff + i]! << 8) | newBytes[newOff + i + 1]!);
  }
  return s;
}

/**
 * RFC 1624 eq. 3 with an accumulated delta: `HC' = ~(~HC + delta)`.
 * A neutral delta returns `hc` unchanged (so a checksum is never flipped
 * between its two ones-complement zeros by a change that changes nothing).
 * A non-neutral delta never yields 0xFFFF. The result is 0 when the true
 * checksum is 0: UDP callers substitute 0xFFFF themselves (RFC 768).
 */
export function applyDelta(hc: number, delta: number): number {
  const f = fold(delta);
  if (f === 0 || f === 0xffff) return hc;
  return ~fold((~hc & 0xffff) + f) & 0xffff;
}

/** Unfolded sum of the IPv4 pseudo-header (RFC 768 / RFC 9293): src, dst, zero+protocol, L4 length. */
export function pseudoSum4(src: number, dst: number, protocol: number, l4Length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + l4Length;
}

/**
 * Unfolded sum of the IPv6 pseudo-header (RFC 8200 8.1): source address,
 * final destination address, 32-bit upper-layer length, next header.
 */
export function pseudoSum6(bytes: Uint8Array, srcOff: number, dstOff: number, nextHeader: number, l4Length: number): number {
  return onesSum(bytes, dstOff, 16, onesSum(bytes, srcOff, 16, 0)) + Math.floor(l4Length / 0x10000) + (l4Length & 0xffff) + nextHeader;
}

/*
 * The verifier's hot loop: the ones'-complement sum of a byte range read
 * through a DataView as big-endian 32-bit words into a float accumulator,
 * folded once at the end. A 32-bit word is two 16-bit words, and
 * 2^16 = 1 (mod 0xFFFF), so summing 32-bit words and folding is the same
 * ones'-complement sum as summing 16-bit words (RFC 1071 "deferred carries").
 * The accumulator stays exact (< 2^53) for ranges up to 2^21 words (8 MB).
 *
 * The range must start on an even offset *relative to the checksummed data*
 * (where the parity of the data starts); its absolute alignment in the buffer
 * does not matter. An odd trailing byte is padded with a zero byte.
 *
 * The sum is returned folded: a 16-bit integer is a small integer to V8,
 * where a float return value above 2^31 is a heap allocation per call
 * (16 MB of garbage per million packets, before this).
 */

/** Ones'-complement sum of `len` bytes at `off`, folded to 16 bits (0 only when they are all zero); the caller guarantees the range is inside the view. */
export function sumRange(v: DataView, off: number, len: number): number {
  let s = 0;
  let i = off;
  const end16 = off + (len & ~15);
  // Four words per iteration: fewer loop checks, same exact float sum.
  for (; i < end16; i += 16) s += v.getUint32(i) + v.getUint32(i + 4) + v.getUint32(i + 8) + v.getUint32(i + 12);
  const end4 = off + (len & ~3);
  for (; i < end4; i += 4) s += v.getUint32(i);
  if (len & 2) {
    s += v.getUint16(i);
    i += 2;
  }
  if (len & 1) s += v.getUint8(i) << 8;
  return fold(s);
}

/**
 * sumRange for an IPv4 header (len a multiple of 4, at most 60): each
 * 32-bit word split into its two 16-bit halves, so the sum stays a small
 * integer and folds without the float steps (every IPv4 packet's header is
 * summed).
 */
export function sumHeader(v: DataView, off: number, len: number): number {
  let s = 0;
  for (let i = off, end = off + len; i < end; i += 4) {
    const w = v.getUint32(i);
    s += (w >>> 16) + (w & 0xffff);
  }
  s = (s >>> 16) + (s & 0xffff);
  return (s >>> 16) + (s & 0xffff);
}
