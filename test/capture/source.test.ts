/**
 * The read window with read-ahead: records come out the same whatever the
 * read sizes, records longer than the headroom and than the window survive
 * the buffer rotation, the previous window's bytes stay intact until the
 * next fill (the writer's spans rely on it), and a failed read-ahead fails
 * the run with the source's error.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaptureReader } from '../../src/capture/reader.js';
import { RecordKind } from '../../src/capture/record.js';
import { DEFAULT_WINDOW, READ_AHEAD_HEADROOM, type ByteSource } from '../../src/capture/source.js';
import { parseRule } from '../../src/nat/rules.js';
import { runPipeline } from '../../src/pipeline.js';
import { prng } from '../helpers/mutate.js';
import { pcapBytes } from '../helpers/wire-build.js';

/** A pcap (Ethernet, EtherType 0x88b5: nothing to translate) whose records have the given payload sizes; each record's bytes are distinct. */
function capture(sizes: readonly number[]): Buffer {
  const frames = sizes.map((n, i) => {
    const data = new Uint8Array(n);
    for (let k = 0; k < n; k++) data[k] = (i * 31 + k) & 0xff;
    data[12] = 0x88;
    data[13] = 0xb5;
    return data;
  });
  return Buffer.from(pcapBytes(1, frames));
}

/** Sizes that put records across every kind of boundary: many small ones, some longer than the headroom, some longer than the window. */
function sizes(seed: number): number[] {
  const rnd = prng(seed);
  const out: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const r = rnd();
    if (r < 0.004) out.push(DEFAULT_WINDOW + 1 + Math.floor(rnd() * DEFAULT_WINDOW));
    else if (r < 0.02) out.push(READ_AHEAD_HEADROOM + Math.floor(rnd() * READ_AHEAD_HEADROOM));
    else out.push(60 + Math.floor(rnd() * 1500));
  }
  return out;
}

/**
 * Serves bytes from memory in short reads of random size; read-ahead
 * completes a turn of the event loop later. Fails the test if a read runs
 * while a read-ahead is in flight, or two read-aheads overlap.
 */
class ChunkySource implements ByteSource {
  private pos = 0;
  private inFlight = false;
  readonly rnd: () => number;
  readAheads = 0;
  failAt = -1;

  constructor(
    private readonly bytes: Uint8Array,
    seed: number,
  ) {
    this.rnd = prng(seed);
  }

  private take(buf: Buffer, off: number, len: number): number {
    const n = Math.min(len, this.bytes.length - this.pos, 1 + Math.floor(this.rnd() * 300_000));
    buf.set(this.bytes.subarray(this.pos, this.pos + n), off);
    this.pos += n;
    return n;
  }

  async read(buf: Buffer, off: number, len: number): Promise<number> {
    if (this.inFlight) throw new Error('read while a read-ahead is in flight');
    return this.take(buf, off, len);
  }

  readAhead(buf: Buffer, off: number, len: number): Promise<number> {
    if (this.inFlight) throw new Error('two read-aheads in flight');
    this.inFlight = true;
    this.readAheads++;
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        this.inFlight = false;
        if (this.failAt >= 0 && this.pos >= this.failAt) reject(Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }));
        else resolve(this.take(buf, off, len));
      }),
    );
  }

  async close(): Promise<void> {
    if (this.inFlight) throw new Error('closed with a read-ahead in flight');
  }
}

describe('read window with read-ahead', () => {
  for (const seed of [1, 2, 3]) {
    it(`hands out every record intact, and keeps each window intact until the fill after next (seed ${seed})`, async () => {
      const sz = sizes(seed);
      const bytes = capture(sz);
      const source = new ChunkySource(bytes, seed);
      const reader = await CaptureReader.fromSource(source, { maxRecord: 4 * DEFAULT_WINDOW });
      let packets = 0;
      let fileOffset = 24;
      // Views (not copies) of the records handed out since the last fill, and of the window before.
      let current: { view: Uint8Array; at: number }[] = [];
      let previous: typeof current = [];
      const intact = (list: typeof current): boolean => list.every(({ view, at }) => Buffer.compare(view, bytes.subarray(at, at + view.length)) === 0);
      for (;;) {
        const rec = reader.next();
        if (rec === null) {
          if (reader.done) break;
          // Where the writer waits for the write of the window before this one:
          // its bytes must have stayed intact while this window was parsed (and read ahead of).
          await new Promise(setImmediate);
          expect(intact(previous)).toBe(true);
          await reader.fill();
          previous = current;
          current = [];
          continue;
        }
        if (rec.kind !== RecordKind.Packet) continue;
        expect(rec.fileOffset).toBe(fileOffset);
        expect(rec.capturedLength).toBe(sz[packets]);
        const view = rec.buf.subarray(rec.start, rec.start + rec.length);
        expect(Buffer.compare(view, bytes.subarray(fileOffset, fileOffset + rec.length))).toBe(0);
        current.push({ view, at: fileOffset });
        fileOffset += rec.length;
        packets++;
      }
      expect(intact(previous) && intact(current)).toBe(true);
      expect(packets).toBe(sz.length);
      expect(fileOffset).toBe(bytes.length);
      expect(reader.truncatedTail).toBeNull();
      expect(source.readAheads).toBeGreaterThan(10);
      await reader.close();
    });
  }

  it('a read-ahead that fails fails the fill with the source error, and close waits for nothing left in flight', async () => {
    const bytes = capture(sizes(4));
    const source = new ChunkySource(bytes, 4);
    source.failAt = 3 * DEFAULT_WINDOW;
    const reader = await CaptureReader.fromSource(source, { maxRecord: 4 * DEFAULT_WINDOW });
    const err = await (async () => {
      for (;;) {
        if (reader.next() === null) {
          if (reader.done) return null;
          await reader.fill();
        }
      }
    })().catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('EIO');
    await reader.close();
  });
});

describe('rewrite of a regular file through the read-ahead', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssnat-source-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes back every byte of a capture with records longer than the headroom and the window', async () => {
    const input = join(dir, 'in.pcap');
    const output = join(dir, 'out.pcap');
    const bytes = capture(sizes(5));
    writeFileSync(input, bytes);
    const run = await runPipeline({
      command: 'rewrite',
      input,
      output,
      rules: [parseRule('10.0.0.0/24=192.168.1.0/24')],
      direction: 'guest-to-host',
      format: 'same',
      annotate: false,
      force: false,
      maxRecord: 4 * DEFAULT_WINDOW,
    });
    expect(run.report.summary.packets).toBe(3000);
    expect(run.bytesOut).toBe(bytes.length);
    expect(Buffer.compare(readFileSync(output), bytes)).toBe(0);
  });
});
