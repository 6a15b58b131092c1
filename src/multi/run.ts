/**
 * Many captures in one run, on every core: each file is one pipeline run
 * (src/pipeline.ts), in this thread or, when `jobs` > 1, on one of `jobs - 1`
 * worker threads beside it. Results come back in the files' fixed order
 * whatever finished first, so the combined report is the same byte for byte
 * for any `jobs`.
 *
 * A file that fails (unreadable, damaged, an output that cannot be written,
 * a system call refused: EACCES, EIO) becomes an entry of its own (report/multi.ts failedReport); the other files
 * are still processed. Anything else that escapes a worker is a bug and ends
 * the run like one.
 */
import type { Worker } from 'node:worker_threads';
import { EXIT_INTERNAL, SsnatError, fromSystemError, type ErrorCode } from '../errors.js';
import { onTempFiles, trackTempFile } from '../capture/target.js';
import { runPipeline, type PipelineOptions } from '../pipeline.js';
import { failedReport } from '../report/multi.js';
import type { Report } from '../report/model.js';

/** Pipeline options that cross to a worker: no functions (progress and hooks stay here). */
export type FileJob = Omit<PipelineOptions, 'onProgress' | 'beforeCommit'>;

/** How a run goes: a file's input bytes read so far, and a file done. */
export interface FileProgress {
  read(index: number, bytesRead: number): void;
  done(index: number): void;
}

/** What a worker sends back for a job. */
type WorkerMessage =
  | { type: 'progress'; id: number; bytes: number; total: number | null }
  | { type: 'temp'; path: string; live: boolean }
  | { type: 'done'; id: number; report: Report; bytesIn: number }
  | { type: 'failed'; id: number; error: SerializedError }
  | { type: 'finished' };

interface SerializedError {
  ssnat: boolean;
  code: string;
  exitCode: number;
  message: string;
  file?: string | undefined;
  offset?: number | undefined;
  frame?: number | undefined;
  stack?: string | undefined;
}

/** A job's failure, to cross from a worker: a typed error (a system error no layer worded becomes one), or a bug with its stack. */
export function serializeError(thrown: unknown): SerializedError {
  const e = thrown instanceof SsnatError ? thrown : (fromSystemError(thrown) ?? thrown);
  if (e instanceof SsnatError) {
    return { ssnat: true, code: e.code, exitCode: e.exitCode, message: e.message, file: e.file, offset: e.offset, frame: e.frame };
  }
  const err = e as Error;
  return { ssnat: false, code: 'internal', exitCode: EXIT_INTERNAL, message: err?.message ?? String(e), stack: err?.stack };
}

/** A job's failure, as the entry of its file; anything that is not an SsnatError is rethrown (a bug). */
function entryFor(job: FileJob, error: SerializedError): Report {
  if (!error.ssnat) throw Object.assign(new Error(error.message), { stack: error.stack });
  return failedReport(job.command, job.input, { code: error.code as ErrorCode, message: error.message, exitCode: error.exitCode, offset: error.offset, frame: error.frame }, job.strict === true);
}

/**
 * Runs every job and resolves to their reports, in the jobs' order, on
 * `threads` threads: this one and `threads - 1` workers. Each thread takes
 * the next file from a counter they share (an atomic add, so no thread waits
 * for another to be handed work) until none is left. This thread works
 * too: a worker costs about 90 ms to start here (Node's own start-up in the
 * thread, then the bundle), a whole CI-size capture's worth of work.
 * `workerEntry`: the script a worker runs (it calls `workerMain`).
 */
export async function runFiles(jobs: readonly FileJob[], threads: number, workerEntry: string | URL, onProgress?: FileProgress): Promise<Report[]> {
  const n = Math.max(1, Math.min(threads, jobs.length));
  const results: Report[] = new Array<Report>(jobs.length);
  /** The next job to take, shared with the workers. */
  const next = new Int32Array(new SharedArrayBuffer(4));
  let failure: unknown = null;
  /** After a bug, nobody takes another file. */
  const stop = (e: unknown): void => {
    if (failure === null) failure = e;
    Atomics.store(next, 0, jobs.length);
  };
  const workers: Worker[] = [];
  /** This thread's lane. */
  const here = async (): Promise<void> => {
    for (let id = Atomics.add(next, 0, 1); id < jobs.length; id = Atomics.add(next, 0, 1)) {
      results[id] = await runJob(jobs[id]!, onProgress === undefined ? undefined : (b) => onProgress.read(id, b));
      onProgress?.done(id);
      // A turn of the event loop between files: the workers' messages, the progress bar and signals are served.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  if (n === 1) {
    await here();
    return results;
  }
  const { Worker: WorkerClass } = process.getBuiltinModule('node:worker_threads');
  const lane = (worker: Worker): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      let finished = false;
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'progress') {
          onProgress?.read(m.id, m.bytes);
          return;
        }
        if (m.type === 'temp') {
          // Here, so that a signal to this process removes the worker's temporary files too.
          trackTempFile(m.path, m.live);
          return;
        }
        if (m.type === 'finished') {
          finished = true;
          resolve();
          return;
        }
        try {
          results[m.id] = m.type === 'done' ? m.report : entryFor(jobs[m.id]!, m.error);
        } catch (e) {
          stop(e);
          reject(e);
          return;
        }
        onProgress?.done(m.id);
      });
      worker.on('error', (e) => {
        stop(e);
        reject(e);
      });
      worker.on('exit', (code) => {
        if (finished) return; // terminated at the end of the run
        const e = new Error(`a worker exited with code ${code}`);
        stop(e);
        reject(e);
      });
      worker.postMessage({ jobs, next, progress: onProgress !== undefined });
    });
  try {
    for (let i = 1; i < n; i++) workers.push(new WorkerClass(workerEntry, { stdout: true, stderr: false }));
    // Every lane ends (after a failure, each finishes the file it is in and takes no other) before the run does.
    await Promise.allSettled([...workers.map(lane), here().catch(stop)]);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  if (failure !== null) throw failure;
  return results;
}

/** One job in this thread: its report, or its failure as its entry (a bug is thrown). */
async function runJob(job: FileJob, onRead: ((bytes: number) => void) | undefined): Promise<Report> {
  try {
    return (await runPipeline({ ...job, ...(onRead === undefined ? {} : { onProgress: onRead }) })).report;
  } catch (e) {
    return entryFor(job, serializeError(e));
  }
}

/** The worker's side: takes files from the shared counter, one at a time, says how each went, then that it has finished. */
export function workerMain(): void {
  const { parentPort } = process.getBuiltinModule('node:worker_threads');
  if (parentPort === null) throw new Error('workerMain runs in a worker thread');
  const post = (msg: WorkerMessage): void => parentPort.postMessage(msg);
  onTempFiles((path, live) => post({ type: 'temp', path, live }));
  parentPort.once('message', (m: { jobs: FileJob[]; next: Int32Array; progress: boolean }) => {
    void (async () => {
      for (let id = Atomics.add(m.next, 0, 1); id < m.jobs.length; id = Atomics.add(m.next, 0, 1)) {
        // Progress only when a bar shows it: a message per read window is not free.
        const onProgress = m.progress ? (bytes: number, total: number | null): void => post({ type: 'progress', id, bytes, total }) : undefined;
        try {
          const r = await runPipeline({ ...m.jobs[id]!, ...(onProgress === undefined ? {} : { onProgress }) });
          post({ type: 'done', id, report: r.report, bytesIn: r.bytesIn });
        } catch (e) {
          post({ type: 'failed', id, error: serializeError(e) });
        }
      }
      post({ type: 'finished' });
    })();
  });
}
