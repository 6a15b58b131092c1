#!/usr/bin/env node
/**
 * Bundles the CLI (dist/cli/main.js and everything it imports, commander and
 * chalk included) into one CommonJS file, dist/ssnat-rewrite.cjs, and makes
 * its V8 code cache (scripts/code-cache.mjs); and the worker thread of a
 * parallel rewrite (dist/parallel/worker.js) into dist/ssnat-worker.cjs. The launcher (bin/load-cli.cjs)
 * compiles the bundle with that cache. Measured on the 1M-packet bench
 * file: loading ~45 ES modules one by one cost Node 20 about 100 ms of
 * start-up; one ES module bundle about 20 ms plus the lazy compilation of
 * each function on first call; the CommonJS bundle with its code cache
 * about 30 ms less again per run. The library (dist/index.js) stays
 * unbundled ES modules for importers.
 */
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * commander requires node:child_process at load time, for executable
 * subcommands, which this CLI does not have; loading it (and dgram, net,
 * streams with it) cost every run about 2 ms. It is loaded on first use
 * instead.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, () => ({ path: 'child_process', namespace: 'lazy-child-process' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('child_process')[key] });",
      loader: 'js',
    }));
  },
};
const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: true, logLevel: 'warning' };
await build({
  ...common,
  entryPoints: [`${root}dist/cli/main.js`],
  outfile: `${root}dist/ssnat-rewrite.cjs`,
  plugins: [lazyChildProcess],
  // The worker threads of a parallel rewrite run dist/ssnat-worker.cjs (src/parallel/pool.ts):
  // the bundle has no import.meta.url to find dist/parallel/worker.js by, and that one is the
  // library's, a tree of ES modules a worker would load one by one.
  banner: { js: 'var __ssnatWorkerBundle = require("node:path").join(__dirname, "ssnat-worker.cjs");' },
  define: { SSNAT_WORKER_BUNDLE: '__ssnatWorkerBundle' },
  logOverride: { 'empty-import-meta': 'silent' },
});
await build({
  ...common,
  entryPoints: [`${root}dist/parallel/worker.js`],
  outfile: `${root}dist/ssnat-worker.cjs`,
});
execFileSync(process.execPath, [`${root}scripts/code-cache.mjs`], { stdio: ['ignore', 'ignore', 'inherit'] });
