/**
 * Pipes and sockets on standard input and output, each moved by a thread of
 * its own: a worker with its own event loop reads (or writes) the
 * descriptor and hands the bytes over through a ring buffer it shares with
 * the main thread.
 *
 * Why: through process.stdin/stdout a pipe moves at most 64 KB (the pipe's
 * size) per turn of the event loop, and a run turns the loop only between
 * windows, so the other end waited while we parsed and we waited while it
 * ran: `cat in | ssnat-rewrite - - -r ... | cat > out` took 1.8x a
 * file-to-file run. A worker's loop keeps the pipe moving while we parse.
 * (A worker blocked in read(2) would do the same, but a thread blocked in a
 * system call keeps the process from exiting, even through process.exit:
 * a run stopped by a signal, or failing on bad input while the producer
 * still writes, would hang. An event loop waits in epoll, which a worker's
 * termination interrupts.)
 *
 * The ring: a few int32 control words, then `size` bytes. Each side owns
 * one position (one writes at the tail, the other reads at the head);
 * COUNT, the bytes in the ring, is shared. Each side bumps its own sequence
 * word after every change, and reads the other's before looking at COUNT
 * and STATE, so a change is never missed:
 * - the worker waits for the main thread with Atomics.wait (timed, so that
 *   it stays terminable), only when its socket has nothing in flight;
 * - the main thread must keep its event loop (signals, other I/O) running,
 *   and Node 20's Atomics.waitAsync does not reliably wake an idle loop, so
 *   it raises WAKE and waits for a message; the worker, after each bump,
 *   posts one when it finds WAKE raised.
 */
import { getSystemErrorName } from 'node:util';
import { Worker, type MessagePort } from 'node:worker_threads';
import type * as net from 'node:net';

/** Control words (int32 indices before the ring bytes) and states, passed to the worker as they are. */
const C = {
  COUNT: 0,
  STATE: 1,
  ERRNO: 2,
  SEQ_WORKER: 3,
  SEQ_MAIN: 4,
  CLOSE: 5,
  WAKE: 6,
  WORDS: 8,
  RUNNING: 0,
  DONE: 1,
  FAILED: 2,
  /** The worker's longest single wait (ms): a terminated worker notices within it. */
  WAIT_MS: 200,
} as const;
type Layout = typeof C;

export const PIPE_RING_SIZE = 4 << 20;

/**
 * The worker's signals to the main thread: `bump` after every change (and
 * a message when the main thread asked for one), `finish` with a final
 * state. Runs in the worker from its source text, like the pumps.
 */
function workerSignals(ctrl: Int32Array, c: Layout, port: MessagePort): { bump: () => void; finish: (state: number, errno: number) => void } {
  const bump = (): void => {
    Atomics.add(ctrl, c.SEQ_WORKER, 1);
    Atomics.notify(ctrl, c.SEQ_WORKER);
    if (Atomics.exchange(ctrl, c.WAKE, 0) === 1) port.postMessage(0);
  };
  const finish = (state: number, errno: number): void => {
    Atomics.store(ctrl, c.ERRNO, errno);
    Atomics.store(ctrl, c.STATE, state);
    bump();
  };
  return { bump, finish };
}
type Signals = typeof workerSignals;

/**
 * The worker's side for a descriptor we read: the socket reads straight
 * into the ring's free space (no buffer per read, no copy); while the ring
 * is full the worker waits before the next read (the socket has nothing
 * else to do). Self-contained (it runs from its source text in the
 * worker): only its parameters and globals.
 */
function pumpIn(sab: SharedArrayBuffer, size: number, fd: number, c: Layout, netModule: typeof net, port: MessagePort, signals: Signals): void {
  const ctrl = new Int32Array(sab, 0, c.WORDS);
  const ring = new Uint8Array(sab, c.WORDS * 4, size);
  const { bump, finish } = signals(ctrl, c, port);
  let at = 0;
  /** The free space at `at`, once there is some. */
  const free = (): Uint8Array => {
    for (;;) {
      const seen = Atomics.load(ctrl, c.SEQ_MAIN);
      const n = Math.min(size - Atomics.load(ctrl, c.COUNT), size - at);
      if (n > 0) return ring.subarray(at, at + n);
      Atomics.wait(ctrl, c.SEQ_MAIN, seen, c.WAIT_MS);
    }
  };
  // `onread` is a documented option of the constructor that @types/node lists only for connect().
  const socket = new netModule.Socket({
    fd,
    readable: true,
    writable: false,
    onread: {
      buffer: free,
      callback: (n: number): boolean => {
        at = at + n === size ? 0 : at + n;
        Atomics.add(ctrl, c.COUNT, n);
        bump();
        return true;
      },
    },
  } as net.SocketConstructorOpts);
  socket.on('end', () => finish(c.DONE, 0));
  socket.on('error', (e: NodeJS.ErrnoException) => finish(c.FAILED, e.errno ?? -5));
}

/**
 * The worker's side for a descriptor we write: writes the ring's bytes
 * straight from the shared memory, freeing them once the kernel has them,
 * until the main thread closes the ring.
 */
function pumpOut(sab: SharedArrayBuffer, size: number, fd: number, c: Layout, netModule: typeof net, port: MessagePort, signals: Signals): void {
  const ctrl = new Int32Array(sab, 0, c.WORDS);
  const { bump, finish } = signals(ctrl, c, port);
  const socket = new netModule.Socket({ fd, readable: false, writable: true });
  socket.on('error', () => undefined); // reported through the write callback
  const write = (bytes: Uint8Array): Promise<void> => new Promise((resolve, reject) => socket.write(bytes, (e) => (e ? reject(e) : resolve())));
  void (async () => {
    let at = 0;
    try {
      for (;;) {
        const seen = Atomics.load(ctrl, c.SEQ_MAIN);
        const used = Atomics.load(ctrl, c.COUNT);
        if (used === 0) {
          if (Atomics.load(ctrl, c.CLOSE) !== 0) break;
          // Nothing in flight on the socket: the loop may stop while we wait.
          Atomics.wait(ctrl, c.SEQ_MAIN, seen, c.WAIT_MS);
          continue;
        }
        const n = Math.min(used, size - at);
        await write(new Uint8Array(sab, c.WORDS * 4 + at, n));
        at = at + n === size ? 0 : at + n;
        Atomics.sub(ctrl, c.COUNT, n);
        bump();
      }
      finish(c.DONE, 0);
    } catch (e) {
      finish(c.FAILED, (e as NodeJS.ErrnoException).errno ?? -5);
    }
  })();
}

/** The main thread's side of a ring: waiting for the worker without blocking the event loop. */
class Ring {
  readonly ctrl: Int32Array;
  readonly bytes: Uint8Array;
  /** The main thread's position in the ring (head for reading, tail for writing). */
  at = 0;
  private readonly worker: Worker;
  private waiter: (() => void) | null = null;

  constructor(
    readonly size: number,
    fd: number,
    pump: typeof pumpIn | typeof pumpOut,
  ) {
    const sab = new SharedArrayBuffer(C.WORDS * 4 + size);
    this.ctrl = new Int32Array(sab, 0, C.WORDS);
    this.bytes = new Uint8Array(sab, C.WORDS * 4, size);
    const source = `const { workerData: d, parentPort } = require('node:worker_threads');\n(${pump.toString()})(d.sab, d.size, d.fd, d.layout, require('node:net'), parentPort, ${workerSignals.toString()});`;
    // stdout/stderr true: the worker's own streams are not piped into ours, which would make process.stdout
    // (and so turn a pipe on fd 1 non-blocking); the loop prints nothing.
    this.worker = new Worker(source, { eval: true, workerData: { sab, size, fd, layout: C }, stdout: true, stderr: true });
    this.worker.on('message', () => this.wake());
    // A worker that dies (it should not: every error ends its loop) must not leave us waiting.
    this.worker.on('error', () => this.finish(C.FAILED, -5));
    this.worker.on('exit', () => {
      if (Atomics.load(this.ctrl, C.STATE) === C.RUNNING) this.finish(C.FAILED, -5);
    });
    // Unref'd except while we wait for it: a pipe that never ends, or a run that fails before its first
    // write, must not keep the process alive. After the listeners: a 'message' listener refs the port again.
    this.worker.unref();
  }

  get state(): number {
    return Atomics.load(this.ctrl, C.STATE);
  }

  get count(): number {
    return Atomics.load(this.ctrl, C.COUNT);
  }

  /** The system error name of a failure ("EIO", "EPIPE"). */
  get errorName(): string {
    const errno = Atomics.load(this.ctrl, C.ERRNO);
    try {
      return getSystemErrorName(errno);
    } catch {
      return `errno ${errno}`;
    }
  }

  /** Tells the worker that COUNT (or CLOSE) changed. */
  poke(): void {
    Atomics.add(this.ctrl, C.SEQ_MAIN, 1);
    Atomics.notify(this.ctrl, C.SEQ_MAIN);
  }

  /** A sequence number to wait on: take it before looking at COUNT and STATE. */
  seen(): number {
    return Atomics.load(this.ctrl, C.SEQ_WORKER);
  }

  /** Waits until the worker did something after `seen` (or a spurious wake-up: callers look again). */
  async wait(seen: number): Promise<void> {
    Atomics.store(this.ctrl, C.WAKE, 1);
    // Raised before this second look: a bump after it finds WAKE and posts.
    if (Atomics.load(this.ctrl, C.SEQ_WORKER) !== seen) {
      Atomics.store(this.ctrl, C.WAKE, 0);
      return;
    }
    this.worker.ref();
    try {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    } finally {
      this.worker.unref();
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private finish(state: number, errno: number): void {
    Atomics.store(this.ctrl, C.ERRNO, errno);
    Atomics.store(this.ctrl, C.STATE, state);
    Atomics.add(this.ctrl, C.SEQ_WORKER, 1);
    this.wake();
  }
}

/** Reads a pipe or socket (stdin) through a reading thread; see the module comment. */
export class PipeSource {
  private readonly ring: Ring;

  /** `path`: the path `fd` was opened from, which messages name (null: stdin). */
  constructor(
    fd: number,
    size = PIPE_RING_SIZE,
    private readonly path: string | null = null,
  ) {
    this.ring = new Ring(size, fd, pumpIn);
  }

  async read(buf: Buffer, off: number, len: number): Promise<number> {
    const ring = this.ring;
    for (;;) {
      const seen = ring.seen();
      // STATE before COUNT: the worker counts its last bytes before it sets a final state.
      const state = ring.state;
      const used = ring.count;
      if (used > 0) {
        const n = Math.min(used, len, ring.size - ring.at);
        buf.set(ring.bytes.subarray(ring.at, ring.at + n), off);
        ring.at = ring.at + n === ring.size ? 0 : ring.at + n;
        Atomics.sub(ring.ctrl, C.COUNT, n);
        ring.poke();
        return n;
      }
      if (state === C.DONE) return 0;
      if (state === C.FAILED) throw Object.assign(new Error(`cannot read ${this.path ?? 'stdin'}: ${ring.errorName}`), { code: ring.errorName, syscall: 'read', path: this.path ?? undefined });
      await ring.wait(seen);
    }
  }

  async close(): Promise<void> {
    // The reading thread is unref'd: it ends with the process. The descriptor is its stream's, which closes
    // it (closing it here too made libuv abort on EBADF).
  }
}

/** Thrown when the reader of our stdout went away (EPIPE): the CLI ends quietly, as `| head` expects. */
export class OutputClosed extends Error {
  constructor() {
    super('the reader of stdout went away');
  }
}

/** Writes a pipe or socket (stdout) through a writing thread; see the module comment. */
export class PipeSink {
  private readonly ring: Ring;

  constructor(fd: number, size = PIPE_RING_SIZE) {
    this.ring = new Ring(size, fd, pumpOut);
  }

  /** Copies the chunks into the ring (waiting for room); resolves when they may be reused. */
  async write(chunks: readonly Uint8Array[]): Promise<void> {
    const ring = this.ring;
    for (const chunk of chunks) {
      let done = 0;
      while (done < chunk.length) {
        const seen = ring.seen();
        this.check();
        const room = ring.size - ring.count;
        if (room === 0) {
          await ring.wait(seen);
          continue;
        }
        const n = Math.min(room, chunk.length - done, ring.size - ring.at);
        ring.bytes.set(chunk.subarray(done, done + n), ring.at);
        ring.at = ring.at + n === ring.size ? 0 : ring.at + n;
        Atomics.add(ring.ctrl, C.COUNT, n);
        ring.poke();
        done += n;
      }
    }
  }

  /** Waits until every byte is written. */
  async end(): Promise<void> {
    const ring = this.ring;
    Atomics.store(ring.ctrl, C.CLOSE, 1);
    ring.poke();
    for (;;) {
      const seen = ring.seen();
      this.check();
      if (ring.state === C.DONE) return;
      await ring.wait(seen);
    }
  }

  /** Throws the writing thread's failure. */
  private check(): void {
    const ring = this.ring;
    if (ring.state !== C.FAILED) return;
    if (ring.errorName === 'EPIPE') throw new OutputClosed();
    throw Object.assign(new Error(`cannot write stdout: ${ring.errorName}`), { code: ring.errorName, syscall: 'write' });
  }
}
