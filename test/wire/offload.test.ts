/**
 * src/wire/offload.ts: which seed a checksum field holds, computed here with
 * the byte-loop helpers of test/helpers/wire-build.ts.
 */
import { describe, expect, it } from 'vitest';
import { SEED_FULL, SEED_NO_LENGTH, SEED_NONE, seedForm } from '../../src/wire/offload.js';
import { be32, concat, fold16, ip4, ip6, sum } from '../helpers/wire-build.js';

const v4 = sum(concat(be32(ip4('10.0.0.2')), be32(ip4('10.0.0.1'))));
const v6 = sum(concat(ip6('fd00::2'), ip6('fd00::1')));

describe('seedForm', () => {
  it('the sum with the length (TCP, UDP) and without it (TCP only); their complements are no seed', () => {
    for (const addr of [v4, v6]) {
      const full = (p: number) => fold16(addr + p + 120);
      const nolen = (p: number) => fold16(addr + p);
      expect(seedForm(6, full(6), addr, 120)).toBe(SEED_FULL);
      expect(seedForm(17, full(17), addr, 120)).toBe(SEED_FULL);
      expect(seedForm(6, nolen(6), addr, 120)).toBe(SEED_NO_LENGTH);
      expect(seedForm(17, nolen(17), addr, 120)).toBe(SEED_NONE);
      expect(seedForm(6, ~full(6) & 0xffff, addr, 120)).toBe(SEED_NONE);
      expect(seedForm(6, ~nolen(6) & 0xffff, addr, 120)).toBe(SEED_NONE);
      // Only TCP and UDP have seeds (UDP-Lite, DCCP, ICMPv6 are computed by the stack).
      for (const p of [136, 33, 58]) expect(seedForm(p, full(p), addr, 120)).toBe(SEED_NONE);
    }
  });

  it('a length past 64 KiB (Linux BIG TCP) is carried as a 32-bit value, folded', () => {
    const len = 100_000; // 0x186a0
    expect(seedForm(6, fold16(v4 + 6 + 0x1 + 0x86a0), v4, len)).toBe(SEED_FULL);
    expect(seedForm(6, fold16(v4 + 6 + (len & 0xffff)), v4, len)).toBe(SEED_NONE);
  });

  it('a field of 0 is never a seed, even where the seed folds to 0xFFFF (Linux writes 0xFFFF)', () => {
    // An address sum that makes the TCP seed with the length fold to 0xFFFF.
    const len = 40;
    const addr = 0xffff - 6 - len;
    expect(fold16(addr + 6 + len)).toBe(0xffff);
    expect(seedForm(6, 0xffff, addr, len)).toBe(SEED_FULL);
    expect(seedForm(6, 0, addr, len)).toBe(SEED_NONE);
    expect(seedForm(17, 0, addr - 11, len)).toBe(SEED_NONE);
  });
});
