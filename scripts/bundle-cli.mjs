#!/usr/bin/env node
/**
 * Bundles the CLI (dist/cli/main.js and everything it imports, commander and
 * chalk included) into one file, dist/ssnat-rewrite.mjs, which the launcher
 * loads: resolving and loading ~45 ES modules one by one cost Node 20 about
 * 100 ms of start-up; one file costs a few. The library (dist/index.js) stays
 * unbundled for importers.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  entryPoints: [`${root}dist/cli/main.js`],
  outfile: `${root}dist/ssnat-rewrite.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // Bundled CommonJS dependencies (commander, ipaddr.js, cli-progress) call require().
  banner: { js: "import { createRequire as __ssnatCreateRequire } from 'node:module'; const require = __ssnatCreateRequire(import.meta.url);" },
});
