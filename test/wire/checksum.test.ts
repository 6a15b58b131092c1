import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyDelta, delta32, fold, onesSum, pseudoSum4, pseudoSum6, sumHeader, sumRange } from '../../src/wire/checksum.js';
import { adjust16, adjust32, adjust128, checksum, isNeutral } from '../helpers/checksum.js';
import { be32, concat, fold16, hex, ip6, sum } from '../helpers/wire-build.js';

describe('checksum helpers', () => {
  it('RFC 1071 4.1 example: sum of 0001 f203 f4f5 f6f7 is 0xddf2', () => {
    const b = hex('0001f203f4f5f6f7');
    expect(fold(onesSum(b, 0, b.length))).toBe(0xddf2);
    expect(checksum(b, 0, b.length)).toBe(0x220d);
  });

  it('odd length is padded with a zero byte', () => {
    expect(onesSum(hex('0102ff'), 0, 3)).toBe(0x0102 + 0xff00);
  });

  it('fold handles sums past 32 bits', () => {
    expect(fold(0x1_0000_0000)).toBe(1);
    expect(fold(0xffff * 70000)).toBe(0xffff);
  });

  it('fold is right over its whole range (below 2^53), where a 32-bit step would cut the high bits', () => {
    // 2^16 = 1 (mod 0xFFFF): 2^50 folds to 2^2, 2^53 - 1 to 2^5 - 1.
    expect(fold(2 ** 50)).toBe(4);
    expect(fold(2 ** 53 - 1)).toBe(31);
    expect(fold(0)).toBe(0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 53 - 1 - 0xffff }), fc.nat({ max: 0xffff }), (n, m) => {
        const f = fold(n);
        expect(f).toBe(n === 0 ? 0 : ((n - 1) % 0xffff) + 1);
        expect(fold(f + m)).toBe(fold(n + m));
      }),
    );
  });

  it('RFC 1624 section 4 example: HC 0xDD2F, m 0x5555 -> 0x3285 gives 0x0000 (eq. 3)', () => {
    expect(adjust16(0xdd2f, 0x5555, 0x3285)).toBe(0x0000);
  });

  it('a neutral change leaves the checksum alone (no flip between 0x0000 and 0xFFFF)', () => {
    expect(isNeutral(delta32(0x12345678, 0x56781234))).toBe(true);
    expect(adjust32(0xffff, 0x12345678, 0x56781234)).toBe(0xffff);
    expect(applyDelta(0x0000, 0)).toBe(0x0000);
  });

  it('IPv4 header example: changing the source address equals recomputation', () => {
    const h = hex('450000730000400040110000c0a80001c0a800c7');
    const c = checksum(h, 0, 20);
    expect(c).toBe(0xb861); // Wikipedia's worked IPv4 header example
    h[10] = c >> 8;
    h[11] = c & 255;
    const n = adjust32(c, 0xc0a80001, 0x0a000001);
    h.set(be32(0x0a000001), 12);
    h[10] = 0;
    h[11] = 0;
    expect(n).toBe(checksum(h, 0, 20));
  });

  it('property: eq. 3 update of a 32-bit word equals full recomputation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 64 }), fc.nat(), fc.integer({ min: 0, max: 0xffffffff }), (data, at, nv) => {
        const b = data.length % 2 ? concat(data, Uint8Array.of(0)) : data.slice();
        const pos = (at % (b.length / 2 - 1)) * 2;
        const before = checksum(b, 0, b.length);
        const old = ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) >>> 0;
        b.set(be32(nv), pos);
        const full = checksum(b, 0, b.length);
        const inc = adjust32(before, old, nv);
        // equal as ones-complement values; identical unless the data is all zero
        expect(inc % 0xffff).toBe(full % 0xffff);
        if (full !== 0xffff) expect(inc).toBe(full);
      }),
    );
  });

  it('property: 16-byte address update equals full recomputation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 2, maxLength: 40 }), (a, n, rest) => {
        const b = concat(a, rest, rest.length % 2 ? Uint8Array.of(1) : new Uint8Array(0));
        const before = checksum(b, 0, b.length);
        const after = adjust128(before, b, 0, n, 0);
        b.set(n, 0);
        expect(after % 0xffff).toBe(checksum(b, 0, b.length) % 0xffff);
      }),
    );
  });

  it('pseudo-header sums', () => {
    expect(pseudoSum4(0x0a000002, 0x0a000001, 17, 37)).toBe(0x0a00 + 0x0002 + 0x0a00 + 0x0001 + 17 + 37);
    const b = concat(ip6('fd00::2'), ip6('fd00::1'));
    expect(pseudoSum6(b, 0, 16, 17, 0x12345)).toBe(0xfd00 + 2 + 0xfd00 + 1 + 1 + 0x2345 + 17);
  });
});

describe('sums over a DataView', () => {
  it('sumRange over 32-bit words equals the 16-bit byte loop at any alignment and length', () => {
    const buf = new Uint8Array(300).map((_, i) => (i * 131 + 7) & 255);
    const v = new DataView(buf.buffer);
    for (let off = 0; off < 5; off++) for (let len = 0; len < 280; len += 7) expect(sumRange(v, off, len)).toBe(fold16(sum(buf, off, len)));
    // 64 KB of 0xFF: the 32-bit word sum passes 2^32 before it is folded; all-zero bytes sum to 0, not 0xFFFF.
    const ones = new DataView(new Uint8Array(65536).fill(0xff).buffer);
    expect(sumRange(ones, 0, 65536)).toBe(0xffff);
    expect(sumRange(ones, 1, 65533)).toBe(fold16(0xffff * 32766 + 0xff00));
    expect(sumRange(new DataView(new ArrayBuffer(64)), 0, 64)).toBe(0);
  });
  it('sumHeader equals sumRange on every IPv4 header length, at any alignment, all-ones included', () => {
    const buf = new Uint8Array(80).map((_, i) => (i * 97 + 13) & 255);
    const ones = new DataView(new Uint8Array(80).fill(0xff).buffer);
    const v = new DataView(buf.buffer);
    for (let off = 0; off < 5; off++) {
      for (let len = 20; len <= 60; len += 4) {
        expect(sumHeader(v, off, len)).toBe(sumRange(v, off, len));
        expect(sumHeader(ones, off, len)).toBe(0xffff);
      }
    }
    expect(sumHeader(new DataView(new ArrayBuffer(60)), 0, 60)).toBe(0);
  });
});
