/**
 * Where written bytes go. A file target writes to a temporary file beside the
 * destination and renames it into place on commit, so an interrupted or
 * failed run never leaves a partial output (and never touches an existing
 * file it was not allowed to replace). Descriptors and special files (a
 * FIFO, a character device, a socket) are written straight through
 * (outputs.ts decides which is which).
 */
import { closeSync, fstatSync, open, openSync, readdirSync, renameSync, unlinkSync, writev, writevSync } from 'node:fs';
import type * as net from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { OutputError, errnoWords } from '../errors.js';
import type { PlannedOutput } from './outputs.js';
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

/** Told of every temporary file made or done with (a worker thread tells the main thread, whose signal handler removes them). */
let tempListener: ((path: string, live: boolean) => void) | null = null;

/** Paths of temporary files still open (removed on commit/abort). */
export function pendingTempFiles(): ReadonlySet<string> {
  return liveTemps;
}

/** Directories where this process may be writing temporary files (see removeTempFiles). */
const tempDirs = new Set<string>();

/** Notes a directory outputs of this run go to, for removeTempFiles. */
export function noteOutputDirectory(dir: string): void {
  tempDirs.add(dir);
}

/**
 * Removes this process's temporary files: those recorded, and any in the
 * noted directories whose name carries this process id (a worker thread may
 * have made one just before a signal, without the news reaching this thread).
 */
export function removeTempFiles(): void {
  for (const t of liveTemps) removeQuietly(t);
  liveTemps.clear();
  const mine = new RegExp(`^\\..*\\.${process.pid}\\.[0-9a-f]{8}\\.tmp$`);
  for (const dir of tempDirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (mine.test(n)) removeQuietly(join(dir, n));
  }
}

/** In a worker thread: reports each temporary file made or done with to `listener`. */
export function onTempFiles(listener: (path: string, live: boolean) => void): void {
  tempListener = listener;
}

/** Records a temporary file of another thread (live) or its end, so that a signal removes it too. */
export function trackTempFile(path: string, live: boolean): void {
  if (live) liveTemps.add(path);
  else liveTemps.delete(path);
}

function tempMade(path: string): void {
  liveTemps.add(path);
  tempListener?.(path, true);
}

function tempDone(path: string): void {
  liveTemps.delete(path);
  tempListener?.(path, false);
}

export class AtomicFileTarget implements OutputTarget {
  private done = false;

  private constructor(
    private fd: number,
    readonly tempPath: string,
    readonly path: string,
    /** How messages name it ("output out.pcap"). */
    readonly name: string,
  ) {}

  /** `path`: where the file goes (links already resolved); `name`: how messages name it. */
  static async create(path: string, name = `output ${path}`): Promise<AtomicFileTarget> {
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
        throw new OutputError(`cannot write ${name}: cannot create a file in ${dirname(path)}: ${errnoWords(e)}`);
      }
    }
    tempMade(temp);
    noteOutputDirectory(dirname(path));
    return new AtomicFileTarget(fd, temp, path, name);
  }

  /** writev on the thread pool, so that the kernel's copy into the page cache overlaps our parsing of the next window. */
  async write(chunks: readonly Uint8Array[]): Promise<void> {
    try {
      await writevAll(this.fd, chunks);
    } catch (e) {
      throw new OutputError(`cannot write ${this.name}: ${errnoWords(e)}`);
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
      // close() reports the write-back errors some file systems (NFS, a full quota) only find then.
      this.closeFd();
      renameSync(this.tempPath, this.path);
      tempDone(this.tempPath);
    } catch (e) {
      removeQuietly(this.tempPath);
      tempDone(this.tempPath);
      throw new OutputError(`cannot write ${this.name}: ${errnoWords(e)}`);
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
    tempDone(this.tempPath);
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

/**
 * A descriptor written with writev: stdout redirected to a regular file, a
 * character device (/dev/null). Closed on commit when the target opened it.
 */
export class FdTarget implements OutputTarget {
  constructor(
    private readonly fd: number,
    /** How messages name it ("output stdout"). */
    private readonly name = 'output stdout',
    private readonly owned = false,
  ) {}

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    try {
      await writevAll(this.fd, chunks);
    } catch (e) {
      throw new OutputError(`cannot write ${this.name}: ${errnoWords(e)}`);
    }
  }

  async commit(): Promise<void> {
    if (!this.owned) return;
    try {
      closeSync(this.fd);
    } catch (e) {
      throw new OutputError(`cannot write ${this.name}: ${errnoWords(e)}`);
    }
  }

  async abort(): Promise<void> {
    if (this.owned) {
      try {
        closeSync(this.fd);
      } catch {
        // closed already
      }
    }
  }
}

/**
 * The target for a descriptor: '-' is stdout, as a file when it is one,
 * through a writing thread when it is a pipe or a socket (pipe.ts), else (a
 * character device) with writev. A descriptor the target opened itself (a
 * FIFO or a device named as the output) is written with writev and closed
 * on commit, which is the reader's end of file.
 */
export function fdTarget(fd: number, name: string, owned = false): OutputTarget {
  const st = fstatSync(fd);
  if (!owned && (st.isFIFO() || st.isSocket())) return new PipeTarget(new PipeSink(fd), name);
  return new FdTarget(fd, name, owned);
}

/**
 * Opens a planned output: a descriptor or a special file straight through,
 * a socket by connecting to it, anything else atomically.
 */
export async function openOutput(plan: PlannedOutput): Promise<OutputTarget> {
  const name = `${plan.role} ${plan.given === '-' ? 'stdout' : plan.given}`;
  if (plan.kind === 'fd') return fdTarget(plan.fd, name);
  if (plan.kind === 'file') return AtomicFileTarget.create(plan.target, name);
  if (plan.socket) return new StreamTarget(await connectSocket(plan.target, name), name, true);
  // A FIFO's open waits for its reader: on the thread pool, so that signals still end the run.
  const fd = await new Promise<number>((resolve, reject) =>
    open(plan.target, 'w', (err, fd) => (err ? reject(new OutputError(`cannot write ${name}: ${errnoWords(err)}`)) : resolve(fd))),
  );
  return fdTarget(fd, name, true);
}

async function connectSocket(path: string, name: string): Promise<net.Socket> {
  // Loaded only here: every other run leaves node:net unloaded (start-up time). Not a dynamic
  // import(): the CLI bundle runs in a vm.Script, which has no dynamic import.
  const { createConnection } = process.getBuiltinModule('node:net');
  return new Promise<net.Socket>((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => resolve(s));
    s.once('error', (e) => reject(new OutputError(`cannot write ${name}: ${errnoWords(e)}`)));
  });
}

function failed(name: string): (e: unknown) => never {
  return (e) => {
    if (e instanceof OutputClosed) throw e;
    throw new OutputError(`cannot write ${name}: ${errnoWords(e)}`);
  };
}

/** A pipe or socket: written by a thread of its own; a stream cannot be taken back on abort. */
export class PipeTarget implements OutputTarget {
  constructor(
    private readonly sink: PipeSink,
    private readonly name = 'output stdout',
  ) {}

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    await this.sink.write(chunks).catch(failed(this.name));
  }

  async commit(): Promise<void> {
    await this.sink.end().catch(failed(this.name));
  }

  async abort(): Promise<void> {}
}

/** Any Writable (a connected socket): honours backpressure; a stream cannot be taken back on abort. */
export class StreamTarget implements OutputTarget {
  constructor(
    private readonly stream: Writable,
    private readonly name = 'output stdout',
    /** The target ends the stream on commit (a socket it connected). */
    private readonly owned = false,
  ) {}

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    if (chunks.length === 0) return;
    const stream = this.stream;
    const name = this.name;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(new OutputError(`cannot write ${name}: ${errnoWords(e)}`));
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

  async commit(): Promise<void> {
    if (!this.owned) return;
    const stream = this.stream;
    await new Promise<void>((resolve, reject) => {
      stream.once('error', (e) => reject(new OutputError(`cannot write ${this.name}: ${errnoWords(e)}`)));
      stream.end(resolve);
    });
  }

  async abort(): Promise<void> {
    if (this.owned) this.stream.destroy();
  }
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

/**
 * A text output (a report): for a file, written now to a temporary file
 * beside its target and renamed into place by commit(); for a descriptor or
 * a special file, written at commit(), since such an output cannot be taken
 * back. Prepare every output of a run, then commit them together, so that a
 * failure in any leaves none behind.
 */
export class TextOutput {
  private constructor(
    private readonly plan: PlannedOutput,
    private readonly bytes: Buffer,
    private readonly file: AtomicFileTarget | null,
  ) {}

  static async prepare(plan: PlannedOutput, text: string): Promise<TextOutput> {
    const bytes = Buffer.from(text, 'utf8');
    if (plan.kind !== 'file') return new TextOutput(plan, bytes, null);
    const file = await AtomicFileTarget.create(plan.target, `${plan.role} ${plan.given}`);
    try {
      await file.write([bytes]);
    } catch (e) {
      await file.abort();
      throw e;
    }
    return new TextOutput(plan, bytes, file);
  }

  async commit(): Promise<void> {
    if (this.file !== null) return this.file.commit();
    const target = await openOutput(this.plan);
    try {
      await target.write([this.bytes]);
      await target.commit();
    } catch (e) {
      await target.abort();
      throw e;
    }
  }

  async abort(): Promise<void> {
    await this.file?.abort();
  }
}
