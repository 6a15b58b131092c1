/**
 * RFC 1071 / RFC 1624 compositions of the src/wire/checksum.ts helpers that
 * only tests need: a whole checksum, and eq. 3 for one changed word, IPv4
 * address or IPv6 address. The translator applies accumulated deltas
 * (delta16/delta32/deltaBytes + applyDelta) directly.
 */
import { applyDelta, delta16, delta32, deltaBytes, fold, onesSum } from '../../src/wire/checksum.js';

/** The Internet checksum (`~fold(sum)`) of a range, seeded e.g. with a pseudo-header sum. */
export function checksum(bytes: Uint8Array, off: number, len: number, seed = 0): number {
  return ~fold(onesSum(bytes, off, len, seed)) & 0xffff;
}

/** True when a delta changes nothing (it folds to +0 or -0). */
export function isNeutral(delta: number): boolean {
  const f = fold(delta);
  return f === 0 || f === 0xffff;
}

/** RFC 1624 eq. 3 for one changed 16-bit word. */
export function adjust16(hc: number, oldWord: number, newWord: number): number {
  return applyDelta(hc, delta16(oldWord, newWord));
}

/** RFC 1624 eq. 3 for a changed 32-bit value (an IPv4 address: two words). */
export function adjust32(hc: number, oldValue: number, newValue: number): number {
  return applyDelta(hc, delta32(oldValue, newValue));
}

/** RFC 1624 eq. 3 for a changed 16-byte IPv6 address. */
export function adjust128(hc: number, oldBytes: Uint8Array, oldOff: number, newBytes: Uint8Array, newOff: number): number {
  return applyDelta(hc, deltaBytes(oldBytes, oldOff, newBytes, newOff, 16));
}
