/**
 * Many captures in one run, on every core: each file is one pipeline run
 * (src/pipeline.ts), on a worker thread when `jobs` > 1, in this thread
 * otherwise. Results come back in the files' fixed order whatever finished
 * first, so the combined report is the same byte for byte for any `jobs`.
 *
 * A file that fails (unreadable, damaged, an output that cannot be written)
 * becomes an entry of its own (report/multi.ts failedReport); the other files
 * are still processed. Anything else that escapes a worker is a bug and ends
 * the run like one.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { SsnatError, type ErrorCode } from '../errors.js';
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
  | { type: 'failed'; id: number; error: SerializedError };

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

export function serializeError(e: unknown): SerializedError {
  if (e instanceof SsnatError) {
    return { ssnat: true, code: e.code, exitCode: e.exitCode, message: e.message, file: e.file, offset: e.offset, frame: e.frame };
  }
  const err = e as Error;
  return { ssnat: false, code: 'internal', exitCode: 70, message: err?.message ?? String(e), stack: err?.stack };
}

/** A job's failure, as the entry of its file; anything that is not an SsnatError is rethrown (a bug). */
function entryFor(job: FileJob, error: SerializedError): Report {
  if (!error.ssnat) throw Object.assign(new Error(error.message), { stack: error.stack });
  return failedReport(job.command, job.input, { code: error.code as ErrorCode, message: error.message, exitCode: error.exitCode, offset: error.offset, frame: error.frame }, job.strict === true);
}

/** The number of workers `--jobs` means by default: the cores this process may use. */
export function defaultJobs(): number {
  return availableParallelism();
}

/**
 * Runs every job and resolves to their reports, in the jobs' order.
 * `workerEntry`: the script a worker runs (it calls `workerMain`).
 */
export async function runFiles(jobs: readonly FileJob[], threads: number, workerEntry: string | URL, onProgress?: FileProgress): Promise<Report[]> {
  const n = Math.max(1, Math.min(threads, jobs.length));
  if (n === 1) return runHere(jobs, onProgress);
  const { Worker: WorkerClass } = process.getBuiltinModule('node:worker_threads');
  const results: Report[] = new Array<Report>(jobs.length);
  let next = 0;
  let failure: unknown = null;
  const workers: Worker[] = [];
  const lane = (worker: Worker): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const give = (): void => {
        if (next >= jobs.length || failure !== null) {
          resolve();
          return;
        }
        const id = next++;
        worker.postMessage({ id, job: jobs[id] });
      };
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
        try {
          results[m.id] = m.type === 'done' ? m.report : entryFor(jobs[m.id]!, m.error);
        } catch (e) {
          failure = e;
          reject(e);
          return;
        }
        onProgress?.done(m.id);
        give();
      });
      worker.on('error', (e) => {
        failure = e;
        reject(e);
      });
      worker.on('exit', (code) => {
        if (failure === null && next < jobs.length) reject(new Error(`a worker exited with code ${code}`));
      });
      give();
    });
  try {
    for (let i = 0; i < n; i++) workers.push(new WorkerClass(workerEntry, { stdout: true, stderr: false }));
    await Promise.all(workers.map(lane));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}

/** jobs = 1: one file after the other, in this thread. */
async function runHere(jobs: readonly FileJob[], onProgress?: FileProgress): Promise<Report[]> {
  const results: Report[] = [];
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    try {
      const r = await runPipeline({ ...job, ...(onProgress === undefined ? {} : { onProgress: (b) => onProgress.read(i, b) }) });
      results.push(r.report);
    } catch (e) {
      results.push(entryFor(job, serializeError(e)));
    }
    onProgress?.done(i);
  }
  return results;
}

/** The worker's side: runs the jobs it is given, one at a time, and says how each went. */
export function workerMain(): void {
  const { parentPort } = process.getBuiltinModule('node:worker_threads');
  if (parentPort === null) throw new Error('workerMain runs in a worker thread');
  const post = (msg: WorkerMessage): void => parentPort.postMessage(msg);
  onTempFiles((path, live) => post({ type: 'temp', path, live }));
  parentPort.on('message', (m: { id: number; job: FileJob }) => {
    void runPipeline({ ...m.job, onProgress: (bytes, total) => post({ type: 'progress', id: m.id, bytes, total }) }).then(
      (r) => post({ type: 'done', id: m.id, report: r.report, bytesIn: r.bytesIn }),
      (e: unknown) => post({ type: 'failed', id: m.id, error: serializeError(e) }),
    );
  });
}
