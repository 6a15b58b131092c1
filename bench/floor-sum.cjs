'use strict';
/**
 * The bench's floor for a suite: reads each capture a list names (one path
 * a line) into one reused buffer and adds up its 16-bit words, as a
 * checksum pass over every byte would, and does nothing else. Run once over
 * every file and as two processes over half each, it says what two cores
 * give any Node program that reads the suite here.
 *   node bench/floor-sum.cjs LIST
 */
const fs = require('node:fs');

const files = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l !== '');
const buf = Buffer.allocUnsafe(8 << 20);
let total = 0;
for (const f of files) {
  const fd = fs.openSync(f, 'r');
  for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) {
    let s = 0;
    for (let i = 0; i + 1 < n; i += 2) s += (buf[i] << 8) | buf[i + 1];
    total = (total + s) % 65535;
  }
  fs.closeSync(fd);
}
process.stdout.write(`${total}\n`);
