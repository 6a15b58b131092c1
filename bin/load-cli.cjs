'use strict';
// Loads the CLI bundle (dist/ssnat-rewrite.cjs, built by scripts/bundle-cli.mjs)
// with V8's code cache (dist/ssnat-rewrite.cache): the bytecode of every
// function a rewrite and a verify run, compiled at build time, so a run
// neither parses the bundle nor compiles its hot functions again. A cache
// made by another Node/V8 version (or missing) is rejected by V8 and the
// bundle is compiled as usual: same behaviour, a few tens of ms slower.
// CommonJS, like the launcher: Node starts a CommonJS entry ~5 ms sooner.
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const vm = require('node:vm');

const dist = join(__dirname, '..', 'dist');
const bundlePath = join(dist, 'ssnat-rewrite.cjs');
const cachePath = join(dist, 'ssnat-rewrite.cache');

/** The bundle's exports ({ main }) and its compiled script (for making the cache). */
function loadCli(useCache = true) {
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
  script.runInThisContext()(module.exports, createRequire(bundlePath), module, bundlePath, dist);
  return { cli: module.exports, script };
}

module.exports = { bundlePath, cachePath, loadCli };
