/**
 * Where written bytes go. A file target writes to a temporary file beside the
 * destination and renames it into place on commit, so an interrupted or
 * failed run never leaves a partial output (and never touches an existing
 * file it was not allowed to replace).
 */
import { closeSync, fstatSync, openSync, renameSync, unlinkSync, writev, writevSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { OutputError } from '../errors.js';
import { OutputClosed, PipeSink } from './pipe.js';

export interface OutputTarget {
  /** Writes the chunks in order; resolves when the bytes may be reused. */
  write(chunks: readonly Uint8Array[]): Promise<void>;
  /** Makes the output final (rename into place / end of stream). */
  commit(): Promise<void>;
  /** Throws the output away; safe to call more than once and after commit. */
  abort(): Promise<void>;
}

/** Temporary files of targets not yet committed, for the signal handlers. */
const liveTemps = new Set<string>();

/** Paths of temporary files still open (removed on commit/abort). */
export function pendingTempFiles(): ReadonlySet<string> {
  return liveTemps;
}

export class AtomicFileTarget implements OutputTarget {
  private done = false;

  private constructor(
    private fd: number,
    readonly tempPath: string,
    readonly path: string,
  ) {}

  static async create(path: string): Promise<AtomicFileTarget> {
    // O_EXCL makes the name ours; the random part only avoids a retry. (Not
    // node:crypto: loading it costs start-up time, and nothing here is secret.)
    let temp = '';
    let fd = -1;
    for (let attempt = 0; fd < 0; attempt++) {
      temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0')}.tmp`);
      try {
        fd = openSync(temp, 'wx', 0o644);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 8) continue;
        throw new OutputError(`cannot create a temporary file beside the output: ${(e as Error).message}`, { file: path });
      }
    }
    liveTemps.add(temp);
    return new AtomicFileTarget(fd, temp, path);
  }

  /** writev on the thread pool, so that the kernel's copy into the page cache overlaps our parsing of the next window. */
  async write(chunks: readonly Uint8Array[]): Promise<void> {
    try {
      await writevAll(this.fd, chunks);
    } catch (e) {
      throw new OutputError(`cannot write: ${(e as Error).message}`, { file: this.path });
    }
  }

  private closeFd(): void {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      closeSync(fd);
    }
  }

  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      this.closeFd();
      renameSync(this.tempPath, this.path);
      liveTemps.delete(this.tempPath);
    } catch (e) {
      removeQuietly(this.tempPath);
      liveTemps.delete(this.tempPath);
      throw new OutputError(`cannot move the finished output into place: ${(e as Error).message}`, { file: this.path });
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      this.closeFd();
    } catch {
      // already closed
    }
    removeQuietly(this.tempPath);
    liveTemps.delete(this.tempPath);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

/** Writes the chunks with writev on the thread pool, finishing short writes; throws the system error. */
async function writevAll(fd: number, chunks: readonly Uint8Array[]): Promise<void> {
  // writev takes at most IOV_MAX (1024) buffers at a time on Linux; it may also write less than asked.
  for (let i = 0; i < chunks.length; i += 1024) {
    const batch = chunks.slice(i, i + 1024) as Uint8Array[];
    let want = 0;
    for (const c of batch) want += c.length;
    const done = await new Promise<number>((resolve, reject) => writev(fd, batch, (err, n) => (err ? reject(err) : resolve(n))));
    if (done < want) writeRest(fd, batch, done);
  }
}

/** Finishes a short writev: the rest of the batch, from byte `done` on. */
function writeRest(fd: number, batch: readonly Uint8Array[], done: number): void {
  for (const c of batch) {
    if (done >= c.length) {
      done -= c.length;
      continue;
    }
    let rest = c.subarray(done);
    done = 0;
    while (rest.length > 0) rest = rest.subarray(writevSync(fd, [rest]));
  }
}

/** stdout redirected to a regular file: written like a file, with writev. */
export class FdTarget implements OutputTarget {
  constructor(private readonly fd: number) {}

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    try {
      await writevAll(this.fd, chunks);
    } catch (e) {
      throw new OutputError(`cannot write: ${(e as Error).message}`, { file: 'stdout' });
    }
  }

  async commit(): Promise<void> {}

  async abort(): Promise<void> {}
}

/**
 * The target for '-': stdout, as a file when it is one, through a writing
 * thread when it is a pipe or a socket (pipe.ts), else as a stream.
 */
export function stdoutTarget(): OutputTarget {
  const st = fstatSync(1);
  if (st.isFile()) return new FdTarget(1);
  if (st.isFIFO() || st.isSocket()) return new PipeTarget(new PipeSink(1));
  return new StreamTarget(process.stdout);
}

function failed(e: unknown): never {
  if (e instanceof OutputClosed) throw e;
  throw new OutputError(`cannot write: ${(e as Error).message}`, { file: 'stdout' });
}

/** stdout as a pipe or socket: written by a thread of its own; a stream cannot be taken back on abort. */
export class PipeTarget implements OutputTarget {
  constructor(private readonly sink: PipeSink) {}

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    await this.sink.write(chunks).catch(failed);
  }

  async commit(): Promise<void> {
    await this.sink.end().catch(failed);
  }

  async abort(): Promise<void> {}
}

/** stdout or any Writable: honours backpressure; a stream cannot be taken back on abort. */
export class StreamTarget implements OutputTarget {
  constructor(private readonly stream: Writable) {}

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    if (chunks.length === 0) return;
    const stream = this.stream;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(new OutputError(`cannot write: ${e.message}`, { file: 'stdout' }));
      stream.once('error', onError);
      for (let i = 0; i < chunks.length - 1; i++) stream.write(chunks[i]!);
      // The callback of the last write fires once it (and so every earlier one)
      // has been handed to the OS: only then may the caller reuse the bytes.
      stream.write(chunks[chunks.length - 1]!, (err) => {
        stream.off('error', onError);
        if (err) onError(err);
        else resolve();
      });
    });
  }

  async commit(): Promise<void> {}

  async abort(): Promise<void> {}
}

/** Collects the output in memory (tests, the library API). */
export class MemoryTarget implements OutputTarget {
  private readonly parts: Buffer[] = [];

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    for (const c of chunks) this.parts.push(Buffer.from(c));
  }

  async commit(): Promise<void> {}

  async abort(): Promise<void> {
    this.parts.length = 0;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}
