/**
 * `npm run fuzz`: mutates corpus captures until interrupted (or for
 * FUZZ_SECONDS), and saves every input that lets anything but a typed error
 * escape to fixtures/fuzz-regressions/, where test/fuzz/regressions.test.ts
 * replays it in every CI run from then on.
 *   npm run fuzz                    # until Ctrl-C
 *   FUZZ_SECONDS=600 FUZZ_SEED=7 npm run fuzz
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';
import { CaptureReader } from '../../src/capture/reader.js';
import { SsnatError } from '../../src/errors.js';
import { corpusPath, manifest } from '../helpers/corpus.js';
import { mutate, prng } from '../helpers/mutate.js';
import { runBytes } from '../helpers/run-bytes.js';

const OUT = fileURLToPath(new URL('../../fixtures/fuzz-regressions/', import.meta.url));

it('fuzzes until interrupted', async () => {
  const seconds = Number(process.env.FUZZ_SECONDS ?? 'Infinity');
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  const rand = prng(seed);
  const files = manifest().filter((e) => !e.damaged && e.packets > 0).map((e) => e.path);
  const inputs = await Promise.all(
    files.map(async (p) => {
      const bytes = readFileSync(corpusPath(p));
      const offsets: number[] = [];
      for await (const rec of await CaptureReader.fromBytes(bytes)) offsets.push(rec.fileOffset);
      return { path: p, bytes, offsets };
    }),
  );
  const until = Date.now() + seconds * 1000;
  let runs = 0;
  let found = 0;
  console.log(`fuzzing ${inputs.length} captures, seed ${seed}${Number.isFinite(seconds) ? `, ${seconds} s` : ', until interrupted'}`);
  while (Date.now() < until) {
    const input = inputs[Math.floor(rand() * inputs.length)]!;
    // Stack a few mutations now and then.
    let m = mutate(input.bytes, input.offsets, rand);
    if (rand() < 0.3) m = { ...mutate(m.bytes, input.offsets, rand), what: `${m.what}; then more` };
    runs++;
    try {
      await runBytes(m.bytes, { annotate: rand() < 0.5 });
    } catch (e) {
      if (e instanceof SsnatError) continue;
      found++;
      const name = createHash('sha256').update(m.bytes).digest('hex').slice(0, 16);
      writeFileSync(`${OUT}${name}.bin`, m.bytes);
      writeFileSync(`${OUT}${name}.txt`, `from ${input.path}: ${m.what}\n${(e as Error).stack ?? String(e)}\n`);
      console.log(`FOUND ${name}: ${input.path}: ${m.what}: ${(e as Error).message}`);
    }
    if (runs % 10000 === 0) console.log(`${runs} runs, ${found} found`);
  }
  console.log(`${runs} runs, ${found} found`);
});
