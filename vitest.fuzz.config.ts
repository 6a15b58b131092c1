import { defineConfig } from 'vitest/config';

/** `npm run fuzz`: the long-running fuzzer (not part of `npm test`). */
export default defineConfig({
  test: {
    include: ['test/fuzz/forever.fuzz.ts'],
    testTimeout: 0,
    pool: 'forks',
  },
});
