/**
 * Pipes moved by a thread of their own (src/capture/pipe.ts): bytes come
 * through exactly, with a ring far smaller than the stream (wrap-around,
 * a full ring, an empty one), whatever the pace of the other end; a reader
 * that goes away is OutputClosed. Through the CLI: stdin and stdout pipes
 * give the file-to-file bytes, `| head` ends quietly with 0, and bad input
 * on a pipe that stays open ends the run at once (a thread blocked in
 * read(2) would keep the process alive).
 */
import { execFileSync, spawn } from 'node:child_process';
import { constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OutputClosed, PipeSink, PipeSource } from '../../src/capture/pipe.js';
import { prng } from '../helpers/mutate.js';
import { BIN, ROOT } from '../helpers/cli.js';
import { corpusPath } from '../helpers/corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'ssnat-pipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fifoCount = 0;
function fifo(): string {
  const path = join(dir, `fifo${fifoCount++}`);
  execFileSync('mkfifo', [path]);
  return path;
}

function randomBytes(n: number, seed: number): Buffer {
  const rnd = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (rnd() * 256) | 0;
  return b;
}

/** A child that writes `file` to `path` in pieces of random size with pauses. */
const PRODUCER = `
const fs = require('fs'); const [file, path] = process.argv.slice(1);
const data = fs.readFileSync(file); const fd = fs.openSync(path, 'w');
let at = 0, s = 7;
const rnd = () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s / 0x80000000; };
(function step() {
  if (at >= data.length) { fs.closeSync(fd); return; }
  const n = Math.min(data.length - at, 1 + Math.floor(rnd() * 50000));
  fs.writeSync(fd, data, at, n); at += n;
  if (rnd() < 0.2) setTimeout(step, 2); else step();
})();`;

/** A child that copies `path` to `out` reading slowly, or stops after `limit` bytes. */
const CONSUMER = `
const fs = require('fs'); const [path, out, limit] = process.argv.slice(1);
const fd = fs.openSync(path, 'r'); const parts = []; let n = 0; const buf = Buffer.alloc(7000);
(function step() {
  const k = fs.readSync(fd, buf, 0, buf.length, null);
  if (k === 0 || (limit && n >= Number(limit))) { fs.writeFileSync(out, Buffer.concat(parts)); process.exit(0); }
  parts.push(Buffer.from(buf.subarray(0, k))); n += k;
  if (n % 5 === 0) setTimeout(step, 1); else step();
})();`;

/** The child's exit code; call it right after spawning, before the child can have closed. */
function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => child.on('close', (code) => resolve(code)));
}

describe('PipeSource', () => {
  it('reads a pipe exactly through a ring far smaller than the stream', async () => {
    const data = randomBytes(3_000_000, 1);
    const file = join(dir, 'in.bin');
    writeFileSync(file, data);
    const path = fifo();
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const producer = spawn(process.execPath, ['-e', PRODUCER, file, path], { stdio: 'ignore' });
    const producerExit = exited(producer);
    const source = new PipeSource(fd, 4093);
    const rnd = prng(2);
    const out = Buffer.alloc(data.length + 10);
    let end = 0;
    for (;;) {
      const n = await source.read(out, end, Math.min(out.length - end, 1 + Math.floor(rnd() * 9000)));
      if (n === 0) break;
      end += n;
    }
    expect(await producerExit).toBe(0);
    expect(end).toBe(data.length);
    expect(Buffer.compare(out.subarray(0, end), data)).toBe(0);
  });
});

describe('PipeSink', () => {
  it('writes a pipe exactly through a ring far smaller than the stream, to a slow reader', async () => {
    const data = randomBytes(2_000_000, 3);
    const path = fifo();
    const out = join(dir, 'out.bin');
    const consumer = spawn(process.execPath, ['-e', CONSUMER, path, out], { stdio: 'ignore' });
    const consumerExit = exited(consumer);
    const fd = openSync(path, 'w');
    const sink = new PipeSink(fd, 5003);
    const rnd = prng(4);
    for (let at = 0; at < data.length; ) {
      const chunks: Uint8Array[] = [];
      for (let k = 0; k < 3 && at < data.length; k++) {
        const n = Math.min(data.length - at, 1 + Math.floor(rnd() * 20000));
        // Copies: the sink must be done with the bytes when write() resolves.
        chunks.push(Buffer.from(data.subarray(at, at + n)));
        at += n;
      }
      await sink.write(chunks);
      for (const c of chunks) c.fill(0);
    }
    await sink.end();
    expect(await consumerExit).toBe(0);
    expect(Buffer.compare(readFileSync(out), data)).toBe(0);
  });

  it('a reader that goes away is OutputClosed', async () => {
    const path = fifo();
    const consumer = spawn(process.execPath, ['-e', CONSUMER, path, join(dir, 'short.bin'), '10'], { stdio: 'ignore' });
    const consumerExit = exited(consumer);
    const fd = openSync(path, 'w');
    const sink = new PipeSink(fd, 4096);
    const chunk = randomBytes(100_000, 5);
    const err = await (async () => {
      for (let i = 0; i < 1000; i++) await sink.write([chunk]);
      await sink.end();
      return null;
    })().catch((e: unknown) => e);
    expect(await consumerExit).toBe(0);
    expect(err).toBeInstanceOf(OutputClosed);
  });
});

describe('the CLI on pipes', () => {
  const input = join(dir, 'bench.pcap');
  // A capture twice the ring (8 MB): 120,000 generated packets, 17 MB.
  execFileSync(process.execPath, [join(ROOT, 'bench/generate.mjs'), input, '--packets', '120000'], { stdio: 'ignore' });
  const rule = '10.0.0.0/24=192.168.0.0/24';

  it('stdin and stdout pipes give the bytes of a file-to-file run', async () => {
    const expected = join(dir, 'expected.pcap');
    execFileSync(process.execPath, [BIN, input, expected, '-r', rule, '-q']);
    const child = spawn(process.execPath, [BIN, '-', '-', '-r', rule, '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const childExit = exited(child);
    const parts: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => {
      parts.push(d);
      // A slow reader now and then: the writing side must wait, not drop or reorder.
      if (parts.length % 50 === 0) {
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 5);
      }
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const bytes = readFileSync(input);
    for (let at = 0; at < bytes.length; at += 300_000) {
      if (!child.stdin.write(bytes.subarray(at, at + 300_000))) await new Promise((r) => child.stdin.once('drain', r));
    }
    child.stdin.end();
    expect(await childExit).toBe(0);
    expect(stderr).toBe('');
    expect(Buffer.compare(Buffer.concat(parts), readFileSync(expected))).toBe(0);
  });

  it('a reader that stops early (| head) ends the run quietly with 0', async () => {
    const child = spawn(process.execPath, [BIN, input, '-', '-r', rule], { stdio: ['ignore', 'pipe', 'pipe'] });
    const childExit = exited(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    expect(await childExit).toBe(0);
    expect(stderr).toBe('');
  });

  it('a run that fails before its first write to a stdout pipe ends at once with 3', async () => {
    const bad = corpusPath('libpcap/shb-option-too-long.pcapng');
    const child = spawn(process.execPath, [BIN, bad, '-', '-r', rule], { stdio: ['ignore', 'pipe', 'pipe'] });
    const childExit = exited(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    expect(await childExit).toBe(3); // a hang fails the test by its timeout
    expect(stderr).toContain('trailing block length 808464432 differs from the leading length 52');
  }, 20_000);

  it('bad input on a pipe that stays open ends the run at once with 3', async () => {
    const bytes = Buffer.from(readFileSync(input).subarray(0, 100_000));
    bytes.writeUInt32LE(0x7fffffff, 24 + 8); // the first record's captured length
    const child = spawn(process.execPath, [BIN, '-', join(dir, 'never.pcap'), '-r', rule], { stdio: ['pipe', 'ignore', 'pipe'] });
    const childExit = exited(child);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.write(bytes); // and the pipe stays open: a hang fails the test by its timeout
    const code = await childExit;
    child.stdin.destroy();
    expect(code).toBe(3);
    expect(stderr).toContain('pcap record claims 2147483647 captured bytes');
  }, 20_000);
});
