/** Every input the fuzzer ever caught (fixtures/fuzz-regressions/*.bin) stays handled: typed errors only. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SsnatError } from '../../src/errors.js';
import { runBytes } from '../helpers/run-bytes.js';

const DIR = fileURLToPath(new URL('../../fixtures/fuzz-regressions/', import.meta.url));
const cases = readdirSync(DIR).filter((f) => f.endsWith('.bin')).sort();

describe('fuzz regressions', () => {
  it('the folder holds its seed cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(3);
  });
  it.each(cases)('%s', async (name) => {
    const bytes = readFileSync(`${DIR}${name}`);
    const err = await runBytes(bytes, { annotate: true }).then(
      () => null,
      (e: unknown) => e,
    );
    if (err !== null) expect(err).toBeInstanceOf(SsnatError);
  });
});
