'use strict';
/**
 * The bench's Node I/O floor for a rewrite: copies a file the way the
 * pipeline moves its bytes (2 MB windows, the next one read ahead and the
 * last one written behind on the thread pool), and does nothing else. No
 * Node program that reads and writes the whole file is faster here.
 *   node bench/floor-copy.cjs IN OUT
 */
const fs = require('node:fs');

const [input, output] = process.argv.slice(2);
const WINDOW = 2 << 20;
const buffers = [0, 1, 2, 3].map(() => Buffer.allocUnsafe(WINDOW));
const fdIn = fs.openSync(input, 'r');
const fdOut = fs.openSync(output, 'w');
const read = (b) => new Promise((resolve, reject) => fs.read(fdIn, b, 0, WINDOW, null, (e, n) => (e ? reject(e) : resolve(n))));
const write = (b, n) => new Promise((resolve, reject) => fs.write(fdOut, b, 0, n, null, (e) => (e ? reject(e) : resolve())));

(async () => {
  let k = 0;
  let ahead = read(buffers[0]);
  let behind = Promise.resolve();
  for (;;) {
    const n = await ahead;
    if (n === 0) break;
    const b = buffers[k++ % buffers.length];
    ahead = read(buffers[k % buffers.length]);
    await behind;
    behind = write(b, n);
  }
  await behind;
  fs.closeSync(fdOut);
})();
