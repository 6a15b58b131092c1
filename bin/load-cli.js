// Loads the CLI bundle (dist/ssnat-rewrite.cjs, built by scripts/bundle-cli.mjs)
// with V8's code cache (dist/ssnat-rewrite.cache): the bytecode of every
// function a rewrite and a verify run, compiled at build time, so a run
// neither parses the bundle nor compiles its hot functions again. A cache
// made by another Node/V8 version (or missing) is rejected by V8 and the
// bundle is compiled as usual: same behaviour, a few tens of ms slower.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export const bundlePath = fileURLToPath(new URL('../dist/ssnat-rewrite.cjs', import.meta.url));
export const cachePath = fileURLToPath(new URL('../dist/ssnat-rewrite.cache', import.meta.url));

/** The bundle's exports ({ main }) and its compiled script (for making the cache). */
export function loadCli(useCache = true) {
  const source = readFileSync(bundlePath, 'utf8');
  let cachedData;
  if (useCache) {
    try {
      cachedData = readFileSync(cachePath);
    } catch {
      cachedData = undefined;
    }
  }
  // The same wrapper Node gives a CommonJS module.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundlePath, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundlePath), module, bundlePath, fileURLToPath(new URL('../dist/', import.meta.url)));
  return { cli: module.exports, script };
}
