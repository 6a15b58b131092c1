/**
 * KeyTable against a Map: any sequence of inserts and removals leaves the
 * same live keys, every live key is found by find() and by find3() at its
 * entry, and a removed key by neither.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hash3, hashWords } from '../../src/verify/hash.js';
import { KeyTable } from '../../src/verify/keytable.js';

type Op = { insert: boolean; key: [number, number, number] };

// Few distinct words, so that keys repeat, collide in their low bits and are removed again.
const word = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0x7fffffff, -0x80000000, 0x10000, 0x0a000002));
const op = fc.record({ insert: fc.boolean(), key: fc.tuple(word, word, word) });

describe('KeyTable', () => {
  it('matches a Map under inserts and removals; find3 agrees with find', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 600 }), fc.integer({ min: 1, max: 200 }), (ops: Op[], max) => {
        const t = new KeyTable(3, max, 16);
        const model = new Map<string, number>();
        for (const { insert, key } of ops) {
          t.key.set(key);
          const name = key.join();
          if (insert) {
            const e = t.insert();
            if (model.has(name)) expect(e).toBe(model.get(name));
            else if (model.size >= max) expect(e).toBe(-1);
            else {
              expect(t.created).toBe(true);
              model.set(name, e);
            }
          } else {
            const e = t.find();
            expect(e).toBe(model.get(name) ?? -1);
            if (e >= 0) {
              t.remove(e);
              model.delete(name);
            }
          }
          expect(t.count).toBe(model.size);
        }
        for (const [name, e] of model) {
          const key = name.split(',').map(Number) as [number, number, number];
          t.key.set(key);
          expect(t.find()).toBe(e);
          expect(t.find3(...key)).toBe(e);
        }
        for (const { key } of ops) if (!model.has(key.join())) expect(t.find3(...key)).toBe(-1);
      }),
      { numRuns: 300 },
    );
  });

  it('keys whose hashes are equal are told apart by their words', () => {
    // The table's hash, to find two keys that differ in their last word
    // only and share all 32 bits of hash: a birthday search.
    const seen = new Map<number, number>();
    let pair: [number, number] | null = null;
    for (let i = 0; pair === null && i < 1 << 20; i++) {
      const h = hashWords(Int32Array.of(1, 0, i), 0, 3);
      const j = seen.get(h);
      if (j !== undefined) pair = [j, i];
      else seen.set(h, i);
    }
    expect(pair).not.toBeNull();
    const [a, b] = pair!;
    expect(hash3(1, 0, a)).toBe(hash3(1, 0, b)); // find3's unrolled hash is the same hash
    const t = new KeyTable(3, 8, 16);
    t.key.set([1, 0, a]);
    const ea = t.insert();
    expect(t.find3(1, 0, b)).toBe(-1);
    t.key.set([1, 0, b]);
    expect(t.find()).toBe(-1);
    const eb = t.insert();
    expect(eb).not.toBe(ea);
    expect(t.find3(1, 0, a)).toBe(ea);
    expect(t.find3(1, 0, b)).toBe(eb);
  });
});
