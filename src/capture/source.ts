/**
 * Byte sources and the reusable read window the capture readers parse from.
 *
 * The window owns one Buffer. Parsers look at `buf[start..end)`, consume
 * whole records by advancing `start`, and call `fill()` when a record does
 * not fit. `fill()` moves the unconsumed tail to the front (so every byte
 * seen before is invalid afterwards: views into the buffer live until the
 * next fill) and reads more. The buffer grows only when one record is larger
 * than it, up to the reader's record limit, so memory stays constant
 * whatever the file size.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';

/** Reads up to `len` bytes into buf at `off`; resolves 0 at end of input. */
export interface ByteSource {
  read(buf: Buffer, off: number, len: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * A regular file, read synchronously: the run has nothing else to do while
 * it waits, and a thread-pool round trip per chunk cost more than the read
 * itself (measured: ~25% of a rewrite's wall time was idle).
 */
export class FileSource implements ByteSource {
  private fd: number;

  private constructor(fd: number) {
    this.fd = fd;
  }

  static async open(path: string): Promise<FileSource> {
    return new FileSource(openSync(path, 'r'));
  }

  /** A file descriptor that is already open (stdin redirected from a file). */
  static fromFd(fd: number): FileSource {
    return new FileSource(fd);
  }

  async read(buf: Buffer, off: number, len: number): Promise<number> {
    return readSync(this.fd, buf, off, len, null);
  }

  async close(): Promise<void> {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** A Readable (stdin, a pipe) pulled chunk by chunk: only as fast as we parse (backpressure). */
export class StreamSource implements ByteSource {
  private readonly it: AsyncIterator<Buffer | string>;
  private pending: Buffer | null = null;
  private pendingOff = 0;

  constructor(private readonly stream: Readable) {
    this.it = stream[Symbol.asyncIterator]();
  }

  async read(buf: Buffer, off: number, len: number): Promise<number> {
    if (this.pending === null) {
      const r = await this.it.next();
      if (r.done) return 0;
      const chunk = r.value;
      this.pending = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      this.pendingOff = 0;
    }
    const n = Math.min(len, this.pending.length - this.pendingOff);
    this.pending.copy(buf, off, this.pendingOff, this.pendingOff + n);
    this.pendingOff += n;
    if (this.pendingOff >= this.pending.length) this.pending = null;
    return n;
  }

  async close(): Promise<void> {
    await this.it.return?.();
    this.stream.destroy();
  }
}

/**
 * Standard input: a redirected regular file is read like any file; anything
 * else (a pipe, a socket) through process.stdin, which copes with
 * non-blocking descriptors (plain reads on them fail with EAGAIN).
 */
export function stdinSource(): ByteSource {
  if (fstatSync(0).isFile()) return FileSource.fromFd(0);
  return new StreamSource(process.stdin);
}

/** A source over bytes already in memory (tests, the library API). */
export class BytesSource implements ByteSource {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  async read(buf: Buffer, off: number, len: number): Promise<number> {
    const n = Math.min(len, this.bytes.length - this.pos);
    buf.set(this.bytes.subarray(this.pos, this.pos + n), off);
    this.pos += n;
    return n;
  }

  async close(): Promise<void> {}
}

export const DEFAULT_WINDOW = 1 << 20;

/**
 * Two buffers take turns: each `fill()` moves the unconsumed tail into the
 * other one and reads there, so the bytes of the previous window stay intact
 * while they are being written out (the writer's spans point into them).
 * A caller may therefore keep one write of the previous window in flight
 * while it parses the next, but must wait for it before the fill after that.
 */
export class ReadWindow {
  buf: Buffer;
  view: DataView;
  /** First unconsumed byte. */
  start = 0;
  /** One past the last valid byte. */
  end = 0;
  /** Absolute file offset of buf[0]. */
  base = 0;
  /** The source has no more bytes. */
  eof = false;
  private spare: Buffer | null = null;
  private spareView: DataView | null = null;

  constructor(
    private readonly source: ByteSource,
    capacity = DEFAULT_WINDOW,
  ) {
    this.buf = Buffer.allocUnsafe(capacity);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  get available(): number {
    return this.end - this.start;
  }

  /** Absolute file offset of buf[i]. */
  offsetOf(i: number): number {
    return this.base + i;
  }

  /**
   * Switches to the other buffer, carrying the unconsumed bytes over, and
   * reads at least once (unless at end). `want` is the number of unconsumed
   * bytes the caller needs in one piece; the buffer grows to hold it.
   * Every view into the window is invalid afterwards for reading new data;
   * the previous buffer's bytes stay as they were until the next fill.
   */
  async fill(want: number): Promise<void> {
    if (this.eof) return;
    this.swap();
    // Read until `want` bytes are there (one short read from a pipe must not
    // make a large record look truncated) or the buffer is full. The buffer
    // grows by doubling only while bytes keep arriving, so a hostile length
    // field costs at most twice the bytes really present, never `want` up front.
    for (;;) {
      if (this.end === this.buf.length) {
        if (this.end >= want) return;
        this.grow(Math.min(want, this.buf.length * 2));
      }
      const n = await this.source.read(this.buf, this.end, this.buf.length - this.end);
      if (n === 0) {
        this.eof = true;
        return;
      }
      this.end += n;
      if (this.end >= want) return;
    }
  }

  private swap(): void {
    let next = this.spare;
    let nextView = this.spareView;
    if (next === null || nextView === null || next.length !== this.buf.length) {
      next = Buffer.allocUnsafe(this.buf.length);
      nextView = new DataView(next.buffer, next.byteOffset, next.length);
    }
    this.buf.copy(next, 0, this.start, this.end);
    this.spare = this.buf;
    this.spareView = this.view;
    this.buf = next;
    this.view = nextView;
    this.base += this.start;
    this.end -= this.start;
    this.start = 0;
  }

  private grow(capacity: number): void {
    const grown = Buffer.allocUnsafe(capacity);
    this.buf.copy(grown, 0, 0, this.end);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
  }

  /**
   * Shrinks the buffers back to `capacity` after a huge record has been
   * consumed, so one big block does not pin its memory for the rest of the
   * run. The old buffer stays valid for whoever still holds it.
   */
  shrink(capacity = DEFAULT_WINDOW): void {
    if (this.buf.length <= capacity * 4 || this.available > capacity) return;
    const small = Buffer.allocUnsafe(capacity);
    this.buf.copy(small, 0, this.start, this.end);
    this.base += this.start;
    this.end -= this.start;
    this.start = 0;
    this.buf = small;
    this.view = new DataView(small.buffer, small.byteOffset, small.length);
    this.spare = null;
    this.spareView = null;
  }

  close(): Promise<void> {
    return this.source.close();
  }
}
