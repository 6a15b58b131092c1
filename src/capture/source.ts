/**
 * Byte sources and the reusable read window the capture readers parse from.
 *
 * Parsers look at the window's `buf[start..end)`, consume whole records by
 * advancing `start`, and call `fill()` when a record does not fit. `fill()`
 * carries the unconsumed tail into the next of the window's buffers (so
 * every byte seen before is invalid afterwards for parsing; the buffers'
 * rotation is described at ReadWindow) and reads more. A buffer grows only
 * when one record is larger than it, up to the reader's record limit, so
 * memory stays constant whatever the file size.
 */
import { closeSync, fstatSync, open, openSync, read, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { PipeSource } from './pipe.js';

/** Reads up to `len` bytes into buf at `off`; resolves 0 at end of input. */
export interface ByteSource {
  read(buf: Buffer, off: number, len: number): Promise<number>;
  /**
   * The same read done in the background (on the thread pool), so that it
   * overlaps parsing; only for sources where that is cheaper than waiting.
   * At most one is in flight, and no `read` runs while it is.
   */
  readAhead?(buf: Buffer, off: number, len: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * A regular file. The window reads the next chunk ahead on the thread pool
 * while the current one is parsed (the kernel's copy from the page cache
 * then costs the run nothing on a second core); a read that is needed at
 * once is done synchronously, since waiting for a thread-pool round trip
 * costs more than the read itself.
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

  /** The file's first bytes, read without moving the read position (for sniffing the format). */
  peek(len: number): Buffer {
    const b = Buffer.alloc(len);
    return b.subarray(0, readSync(this.fd, b, 0, len, 0));
  }

  readAhead(buf: Buffer, off: number, len: number): Promise<number> {
    return new Promise((resolve, reject) => read(this.fd, buf, off, len, null, (err, n) => (err ? reject(err) : resolve(n))));
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
 * A path that is a pipe (a FIFO, `<(zcat x.pcap.gz)`'s /dev/fd/N) or a
 * socket, opened and read as stdin is: by a thread of its own, so that the
 * main thread never waits in open() for a writer or in read() for bytes,
 * and Ctrl-C still ends the run. A pipe cannot be peeked at nor read at an
 * offset, which a file source does. Null for anything else (a regular file,
 * read in place with read-ahead; a character device such as /dev/null).
 */
export async function openStream(path: string): Promise<ByteSource | null> {
  const st = statSync(path);
  if (!st.isFIFO() && !st.isSocket()) return null;
  const fd = await new Promise<number>((resolve, reject) => open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
  return new PipeSource(fd, undefined, path);
}

/**
 * Standard input: a redirected regular file is read like any file; a pipe
 * or a socket by a reading thread (pipe.ts); anything else (a terminal)
 * through process.stdin.
 */
export function stdinSource(): ByteSource {
  const st = fstatSync(0);
  if (st.isFile()) return FileSource.fromFd(0);
  if (st.isFIFO() || st.isSocket()) return new PipeSource(0);
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

export const DEFAULT_WINDOW = 1 << 21;

/** Allocates a window buffer of `size` bytes (not zeroed). */
export type WindowAllocator = (size: number) => Buffer;

/**
 * Window buffers in shared memory, whole SharedArrayBuffers (byteOffset 0),
 * for a reader whose records worker threads translate (src/parallel/).
 */
export const sharedWindows: WindowAllocator = (size) => Buffer.from(new SharedArrayBuffer(size));

const privateWindows: WindowAllocator = (size) => Buffer.allocUnsafe(size);

/** Window buffers of DEFAULT_WINDOW bytes given back by closed readers, for the next reader of this thread. */
const spareWindows: Buffer[] = [];
/** A reader uses three at most (the window, the previous one, the one read ahead into) and a fourth for a joined tail. */
const MAX_SPARE_WINDOWS = 4;

/**
 * Window buffers reused from one capture to the next in this thread: a
 * reader made with it gives its buffers back when it is closed, so its
 * owner must be done with every byte of them by then (the pipeline is: its
 * writes have finished when it closes the reader). A fresh 2 MB buffer is
 * memory the kernel faults in page by page while `read` fills it, and
 * under --jobs both threads take the process's memory lock to do so: over
 * 200 CI-size captures, reads into fresh buffers took 340 ms, into reused
 * ones 45 ms.
 */
export const recycledWindows: WindowAllocator = (size) => (size === DEFAULT_WINDOW ? spareWindows.pop() : undefined) ?? Buffer.allocUnsafe(size);

/** Keeps the recyclable ones of a closed reader's buffers. */
function recycle(buffers: ReadonlyArray<Buffer | null>): void {
  for (const b of new Set(buffers)) {
    if (b !== null && b.length === DEFAULT_WINDOW && b.byteOffset === 0 && b.buffer.byteLength === DEFAULT_WINDOW && spareWindows.length < MAX_SPARE_WINDOWS) spareWindows.push(b);
  }
}

const NO_BYTES = Buffer.alloc(0);

/**
 * Room left at the front of a buffer that is read ahead into: the unconsumed
 * tail of the window (a record cut by the end of the previous read) is copied
 * there, just before the new bytes. A longer tail costs one copy of the bytes
 * read ahead.
 */
export const READ_AHEAD_HEADROOM = 1 << 17;

/**
 * Up to three buffers take turns: the one being parsed (`buf`), the previous
 * one, whose bytes stay intact until the next `fill()` while they are being
 * written out (the writer's spans point into them), and, for sources that can
 * read on the thread pool (regular files), a third that is read into while
 * the current one is parsed. A caller may therefore keep one write of the
 * previous window in flight while it parses the next, but must wait for it
 * before the fill after that.
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
  /** The buffer before `buf`: intact until the next fill. */
  private previous: Buffer | null = null;
  /** A buffer nobody looks at any more, to be read into next. */
  private free: Buffer | null = null;
  /** The read ahead in flight: bytes land at `buf[READ_AHEAD_HEADROOM..]`. */
  private ahead: { buf: Buffer; bytes: Promise<number> } | null = null;

  constructor(
    private readonly source: ByteSource,
    private readonly capacity = DEFAULT_WINDOW,
    private readonly allocate: WindowAllocator = privateWindows,
  ) {
    this.buf = allocate(capacity);
    this.view = viewOf(this.buf);
  }

  get available(): number {
    return this.end - this.start;
  }

  /** Absolute file offset of buf[i]. */
  offsetOf(i: number): number {
    return this.base + i;
  }

  /**
   * Moves to the next buffer, carrying the unconsumed bytes over, and reads
   * at least once (unless at end) until `want` unconsumed bytes are there in
   * one piece; the buffer grows to hold them. Every view into the window is
   * invalid afterwards for reading new data; the previous buffer's bytes stay
   * as they were until the next fill.
   */
  async fill(want: number): Promise<void> {
    if (this.eof) return;
    const ahead = this.ahead;
    let haveRead = false;
    if (ahead !== null) {
      this.ahead = null;
      const n = await ahead.bytes;
      this.switchTo(ahead.buf, n);
      if (n === 0) this.eof = true;
      haveRead = true;
    } else {
      let next = this.free;
      if (next === null || next.length < this.available) next = this.allocate(Math.max(this.capacity, this.available));
      this.switchTo(next, -1);
    }
    // Read until `want` bytes are there (one short read from a pipe must not
    // make a large record look truncated) or the buffer is full. The buffer
    // grows by doubling only while bytes keep arriving, so a hostile length
    // field costs at most twice the bytes really present, never `want` up front.
    while (!this.eof && !(haveRead && this.end - this.start >= want)) {
      if (this.end === this.buf.length) {
        if (this.end - this.start >= want) break;
        this.compact(Math.max(this.buf.length, Math.min(want, this.buf.length * 2)));
      }
      const n = await this.source.read(this.buf, this.end, this.buf.length - this.end);
      haveRead = true;
      if (n === 0) this.eof = true;
      else this.end += n;
    }
    this.readAhead();
  }

  /**
   * Makes `next` the window, with the unconsumed bytes of the current one in
   * front of its first `read` bytes at READ_AHEAD_HEADROOM (or, with `read`
   * -1, at 0 and nothing after them).
   */
  private switchTo(next: Buffer, read: number): void {
    const tail = this.end - this.start;
    const oldBase = this.base + this.start;
    let at = read < 0 ? 0 : READ_AHEAD_HEADROOM - tail;
    let dataEnd = read < 0 ? tail : READ_AHEAD_HEADROOM + read;
    if (at < 0) {
      // The tail does not fit in front of the bytes read ahead: one copy of both.
      const joined = this.allocate(Math.max(this.capacity, tail + read));
      next.copy(joined, tail, READ_AHEAD_HEADROOM, READ_AHEAD_HEADROOM + read);
      this.free = next;
      next = joined;
      at = 0;
      dataEnd = tail + read;
    } else {
      this.free = null;
    }
    this.buf.copy(next, at, this.start, this.end);
    // The buffer two fills back is nobody's any more (the caller waited for its write).
    if (this.free === null) this.free = this.previous;
    this.previous = this.buf;
    this.buf = next;
    this.view = viewOf(next);
    this.base = oldBase - at;
    this.start = at;
    this.end = dataEnd;
  }

  /** Moves the unconsumed bytes to the front of a new buffer of `capacity` bytes. */
  private compact(capacity: number): void {
    const moved = this.allocate(capacity);
    this.buf.copy(moved, 0, this.start, this.end);
    this.base += this.start;
    this.end -= this.start;
    this.start = 0;
    this.buf = moved;
    this.view = viewOf(moved);
  }

  /** Starts reading the next bytes into the free buffer, when the source can do that in the background. */
  private readAhead(): void {
    if (this.eof || this.source.readAhead === undefined) return;
    let next = this.free;
    if (next === null || next.length !== this.capacity) next = this.allocate(this.capacity);
    this.free = null;
    const bytes = this.source.readAhead(next, READ_AHEAD_HEADROOM, next.length - READ_AHEAD_HEADROOM);
    // A failure is thrown by the fill that waits for it; until then it must not count as unhandled.
    bytes.catch(() => undefined);
    this.ahead = { buf: next, bytes };
  }

  /**
   * Shrinks the window back to its normal size after a huge record has been
   * consumed, so one big block does not pin its memory for the rest of the
   * run. The old buffer stays valid for whoever still holds it.
   */
  shrink(): void {
    if (this.buf.length <= this.capacity * 4 || this.available > this.capacity) return;
    this.compact(this.capacity);
    if (this.previous !== null && this.previous.length > this.capacity) this.previous = null;
    if (this.free !== null && this.free.length > this.capacity) this.free = null;
  }

  async close(): Promise<void> {
    // The fd must outlive a read the thread pool is still doing into it.
    const ahead = this.ahead;
    if (ahead !== null) await ahead.bytes.catch(() => undefined);
    this.ahead = null;
    if (this.allocate === recycledWindows && this.buf !== NO_BYTES) {
      recycle([this.buf, this.previous, this.free, ahead?.buf ?? null]);
      // Nothing reads a closed window: an empty one makes a read that did fail loudly instead of seeing another capture's bytes.
      this.buf = NO_BYTES;
      this.view = viewOf(NO_BYTES);
      this.previous = null;
      this.free = null;
    }
    return this.source.close();
  }
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.length);
}
