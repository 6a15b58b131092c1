/**
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
 * (16 MB of garbage per million packets, before this). Folded sums add like
 * unfolded ones: fold16(fold16(a) + b) === fold16(a + b).
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
  return fold16(s);
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

/** Folds an unfolded sum (any non-negative integer below 2^53) to 16 bits with end-around carry. 0 stays 0. */
export function fold16(sum: number): number {
  let s = sum;
  // Above 32 bits: split at bit 16 with exact float arithmetic (dividing by 2^16 is exact; no fmod).
  if (s > 0xffffffff) {
    const hi = Math.floor(s / 0x10000);
    s = s - hi * 0x10000 + hi; // < 2^37 + 2^16 now
  }
  if (s > 0xffffffff) {
    const hi = Math.floor(s / 0x10000);
    s = s - hi * 0x10000 + hi;
  }
  s = (s >>> 16) + (s & 0xffff);
  s = (s >>> 16) + (s & 0xffff);
  return s;
}

/** "0x1234" as reports show checksums. */
export function hex16(n: number): string {
  return '0x' + n.toString(16).padStart(4, '0');
}
