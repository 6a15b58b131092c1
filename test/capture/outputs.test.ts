/**
 * checkDistinct indexes the outputs instead of comparing every pair: it must
 * refuse exactly what the plain double loop refused, naming the same pair,
 * for any mix of identities, paths, descriptors and the null device.
 */
import { linkSync, mkdtempSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDistinct, type PlannedOutput } from '../../src/capture/outputs.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'ssnat-outputs-')));
const a = join(dir, 'a.pcap');
const b = join(dir, 'b.pcap');
writeFileSync(a, 'a');
writeFileSync(b, 'b');
const hard = join(dir, 'hard.pcap');
linkSync(a, hard);
const soft = join(dir, 'soft.pcap');
symlinkSync(b, soft);
const ident = (p: string): string => `${statSync(p).dev}:${statSync(p).ino}`;
const nul = statSync('/dev/null');

/** The inputs a case draws from: files, a hard link, a symbolic link, a name not there. */
const INPUTS = [a, b, hard, soft, join(dir, 'missing.pcap')];
/** What an output can be: [id, target, kind]. */
const OUTPUTS: ReadonlyArray<[string | null, string, PlannedOutput['kind']]> = [
  [ident(a), a, 'file'],
  [ident(b), b, 'file'],
  [null, join(dir, 'new1.pcap'), 'file'],
  [null, join(dir, 'new2.pcap'), 'file'],
  [null, join(dir, 'missing.pcap'), 'file'],
  ['7:7', '-', 'fd'],
  [`${nul.dev}:${nul.ino}`, '/dev/null', 'special'],
];

function planned(k: number, n: number): PlannedOutput {
  const [id, target, kind] = OUTPUTS[k]!;
  return { role: n % 2 === 0 ? 'output' : '--report-file', given: `${target}#${n}`, kind, target, fd: kind === 'fd' ? 1 : -1, socket: false, id, replaces: false, force: false };
}

/** The check as it was written before it was indexed: every input against every output, then every pair. */
function reference(inputs: readonly string[], outputs: readonly PlannedOutput[]): void {
  const isNul = (o: PlannedOutput): boolean => o.kind === 'special' && o.target === '/dev/null';
  for (const input of inputs) {
    const st = (() => {
      try {
        return statSync(input);
      } catch {
        return null;
      }
    })();
    const id = st === null ? null : `${st.dev}:${st.ino}`;
    let real: string;
    try {
      real = realpathSync(input);
    } catch {
      real = resolve(input);
    }
    for (const o of outputs) {
      if (isNul(o)) continue;
      const sameId = id !== null && o.id !== null && id === o.id;
      const samePath = o.kind !== 'fd' && real === o.target;
      if (sameId || samePath) {
        const via = samePath && resolve(o.given) === resolve(input) ? '' : ' (through a link or another name)';
        throw new Error(`${o.role} ${o.given} is the input ${input}${via}: refusing to overwrite what is being read; choose another path`);
      }
    }
  }
  for (let i = 0; i < outputs.length; i++) {
    for (let j = i + 1; j < outputs.length; j++) {
      const x = outputs[i]!;
      const y = outputs[j]!;
      if (isNul(x) || isNul(y)) continue;
      if ((x.id !== null && x.id === y.id) || (x.kind !== 'fd' && y.kind !== 'fd' && x.target === y.target)) {
        throw new Error(`${y.role} ${y.given} and ${x.role} ${x.given} are the same file: give each output its own path`);
      }
    }
  }
}

function outcome(f: () => void): string {
  try {
    f();
    return 'accepted';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('checkDistinct', () => {
  it('refuses what the double loop refused, naming the same pair', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...INPUTS), { maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: OUTPUTS.length - 1 }), { maxLength: 8 }),
        (inputs, picks) => {
          const outputs = picks.map((k, n) => planned(k, n));
          expect(outcome(() => checkDistinct(inputs, outputs))).toBe(outcome(() => reference(inputs, outputs)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('names the pair with the lowest first output, not the first pair found from the end', () => {
    // Outputs 1 and 2 are one file, and so are 0 and 3: the double loop names 0 and 3.
    const outputs = [planned(2, 0), planned(3, 1), planned(3, 2), planned(2, 3)];
    expect(outcome(() => checkDistinct([], outputs))).toBe(`--report-file ${join(dir, 'new1.pcap')}#3 and output ${join(dir, 'new1.pcap')}#0 are the same file: give each output its own path`);
  });

  it('lets the null device be written twice, and an input be read beside it', () => {
    expect(outcome(() => checkDistinct([a], [planned(6, 0), planned(6, 1), planned(2, 2)]))).toBe('accepted');
  });

  it('finds an input among ten thousand outputs by its hard link', () => {
    const outputs = Array.from({ length: 10_000 }, (_, n) => ({ ...planned(2, n), target: join(dir, `out${n}.pcap`) }));
    outputs[9_999] = planned(0, 9_999);
    expect(outcome(() => checkDistinct([b, hard], outputs))).toBe(`--report-file ${a}#9999 is the input ${hard} (through a link or another name): refusing to overwrite what is being read; choose another path`);
  });
});
