/**
 * One capture rewritten on every core: the main thread reads, walks and
 * writes; packets are translated by it and by worker threads together.
 *
 * Who does what:
 * - The main thread reads the input into read windows in shared memory
 *   (SharedArrayBuffers: the workers see the same bytes, nobody copies them),
 *   and walks the records in order (CaptureReader: the only way to find
 *   record boundaries in pcap and pcapng, which are not self-synchronizing).
 *   Runs of packet records become tasks of up to TASK_PACKETS packets
 *   (src/parallel/tasks.ts); every other record it handles itself, as a
 *   single-thread run does, and it throws the reader's errors, the same ones
 *   at the same place.
 * - Every thread claims tasks in turn and translates them in place with the
 *   same code as a single-thread run (Translator.rewriteBatch); translation
 *   is per packet, without state, so the order does not matter. The main
 *   thread claims tasks too: until the workers have started (tens of
 *   milliseconds) it does them all, so a run never waits for a worker.
 * - At the end of each window the main thread runs what is left, waits for
 *   the tasks the workers hold, and only then writes the window, in file
 *   order, through the one writer and target (atomic file, rename at the end).
 *
 * Memory: the read windows (three 2 MB buffers, shared) and SLOTS task slots
 * (under 1 MB) are the only shared memory; each worker adds its own V8 heap.
 * Nothing holds more than a window of the file.
 */
import { MessageChannel, SHARE_ENV, Worker, type MessagePort } from 'node:worker_threads';
import type { PacketBatch } from '../capture/batch.js';
import type { CaptureInterface } from '../capture/interface.js';
import type { InterfaceMapper } from '../nat/mapper.js';
import type { Rule } from '../nat/rules.js';
import type { Direction } from '../nat/table.js';
import { C, SLOTS, TaskArea, TaskRunner, addStats, statsLength, tasksRun } from './tasks.js';
import type { WorkerData } from './worker.js';
import type { TunnelSettings } from '../wire/tunnel.js';

/** What a worker is told, in order, on its port. */
export type PoolMessage =
  | { kind: 'interface'; info: CaptureInterface }
  | { kind: 'buffer'; id: number; memory: SharedArrayBuffer }
  | { kind: 'forget'; id: number };

/** Set by the CLI bundle (scripts/bundle-cli.mjs): the path of its worker bundle, dist/ssnat-worker.cjs. */
declare const SSNAT_WORKER_BUNDLE: string | undefined;

let script: string | URL | null = null;

/** The worker's script: the CLI bundle's own, else (the library, ES modules) worker.js beside this file. */
function workerScript(): string | URL {
  return script ?? (typeof SSNAT_WORKER_BUNDLE === 'string' ? SSNAT_WORKER_BUNDLE : new URL('./worker.js', import.meta.url));
}

/**
 * Runs the workers from another script: for tests, which run the sources
 * (TypeScript, that a worker thread cannot load) and point here at the
 * build of the same sources, dist/parallel/worker.js.
 */
export function useWorkerScript(file: string | URL): void {
  script = file;
}

/** Window buffers the workers know at most at once (the reader rotates three). */
const KNOWN_BUFFERS = 6;
/** The longest the main thread waits for a task without news before it gives up (a worker that died hard). */
const STALL_MS = 30_000;

export interface PoolOptions {
  /** Worker threads to start (the main thread translates too). */
  workers: number;
  rules: readonly Rule[];
  direction: Direction;
  /** --tunnels, --vxlan-port. */
  tunnels: TunnelSettings;
  /** The main thread's mappers and link types by interface index (RecordLoop's own arrays). */
  mappers: ReadonlyArray<InterfaceMapper | undefined>;
  linkTypes: readonly number[];
  /** Called, in file order, for each packet a task could not decode (left as it is; BatchContext.onNotDecoded). */
  onNotDecoded: (buf: Uint8Array, batch: PacketBatch, index: number) => void;
}

export class TranslatorPool {
  private readonly area = new TaskArea();
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly workerStats: Float64Array[] = [];
  private readonly runner: TaskRunner;
  private readonly buffers = new Map<ArrayBufferLike, { id: number; lastTask: number; buf: Uint8Array }>();
  private readonly byId = new Map<number, Uint8Array>();
  private nextBufferId = 0;
  /** Tasks published (the next task's id). */
  private published = 0;
  /** Tasks whose packets not decoded were handed to onNotDecoded. */
  private collected = 0;
  private closed = false;
  /** Why a worker failed (ready() reports it). */
  private startFailure: unknown = null;

  private constructor(private readonly opts: PoolOptions) {
    this.runner = new TaskRunner(opts.mappers, opts.linkTypes, new Float64Array(statsLength(opts.rules.length)), opts.tunnels);
  }

  /** Starts the workers; they boot while the main thread gets on with the run. */
  static start(opts: PoolOptions): TranslatorPool {
    const pool = new TranslatorPool(opts);
    for (let i = 0; i < opts.workers; i++) {
      const stats = new SharedArrayBuffer(statsLength(opts.rules.length) * 8);
      const { port1, port2 } = new MessageChannel();
      const data: WorkerData = { area: pool.area.memory, stats, rules: [...opts.rules], direction: opts.direction, tunnels: opts.tunnels, port: port2 };
      // stdout/stderr: true keeps the parent's process.stdout untouched (capture/pipe.ts).
      const w = new Worker(workerScript(), { workerData: data, transferList: [port2], env: SHARE_ENV, stdout: true, stderr: true });
      // A worker only ever stops when told to, or by failing: while translating, FAILED in shared
      // memory says so; a worker that could not even start takes no task, and the main thread does them all.
      w.on('error', (e) => {
        pool.startFailure ??= e;
      });
      w.unref();
      pool.workers.push(w);
      pool.ports.push(port1);
      pool.workerStats.push(new Float64Array(stats));
    }
    return pool;
  }

  /** A new interface: the workers make its mapper before any task of theirs needs it. */
  addInterface(info: CaptureInterface): void {
    const { id, index, name, linkType, snapLength, ipv4, ipv6 } = info;
    this.post({ kind: 'interface', info: { id, index, name, linkType, snapLength, ipv4, ipv6 } });
  }

  /**
   * The batch the walk fills next: the slot of the next task, free once the
   * task SLOTS before it is done and collected (the main thread runs tasks
   * meanwhile).
   */
  nextBatch(): PacketBatch {
    const t = this.published;
    if (t >= SLOTS) this.collectUntil(t - SLOTS + 1);
    return this.area.batches[t % SLOTS]!;
  }

  /** Publishes the batch `nextBatch()` returned, whose packets are in `buf`. */
  publish(buf: Uint8Array, batch: PacketBatch): void {
    const t = this.published++;
    this.area.setTask(t, this.bufferId(buf, t), batch.count);
    const ctl = this.area.ctl;
    Atomics.store(ctl, C.PUBLISHED, t + 1);
    if (Atomics.load(ctl, C.SLEEPERS) > 0) Atomics.notify(ctl, C.PUBLISHED);
  }

  /** Runs and waits for every published task; their packets not decoded go to onNotDecoded, in order. */
  settle(): void {
    this.collectUntil(this.published);
  }

  /** Adds the counters of every thread to `maskCounts` and `ruleHits`; returns the packets they rewrote. */
  addCounts(maskCounts: Float64Array, ruleHits: Float64Array): number {
    let rewritten = addStats(this.runner.stats, maskCounts, ruleHits);
    for (const s of this.workerStats) rewritten += addStats(s, maskCounts, ruleHits);
    return rewritten;
  }

  /**
   * Resolves once every worker has started (tests use it to make the workers
   * take part on small captures; a run never waits for them).
   */
  async ready(): Promise<void> {
    const ctl = this.area.ctl;
    for (let waited = 0; Atomics.load(ctl, C.READY) < this.workers.length; waited += 2) {
      if (this.startFailure !== null) throw this.startFailure;
      if (Atomics.load(ctl, C.FAILED) !== 0 || waited > STALL_MS) throw new Error('the worker threads of the parallel rewrite did not start');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** The tasks each thread ran, the main thread's first. */
  get tasksByThread(): number[] {
    return [this.runner.stats, ...this.workerStats].map(tasksRun);
  }

  /** Tells the workers to stop (they return within their wait); they never keep the process alive. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const ctl = this.area.ctl;
    Atomics.store(ctl, C.STOP, 1);
    Atomics.notify(ctl, C.PUBLISHED);
    for (const p of this.ports) p.close();
  }

  /** Collects tasks [collected, upTo): runs what nobody has claimed, waits for the rest. */
  private collectUntil(upTo: number): void {
    const area = this.area;
    while (this.collected < upTo) {
      const t = this.collected;
      if (!area.isDone(t)) {
        this.runAvailable();
        if (!area.isDone(t)) this.waitFor(t);
      }
      const list = area.notDecodedOf(t);
      if (list.length > 0) {
        const buf = this.byId.get(area.bufferOf(t))!;
        const batch = area.batches[t % SLOTS]!;
        for (const i of list) this.opts.onNotDecoded(buf, batch, i);
      }
      this.collected++;
    }
  }

  /** The main thread's share: every task nobody has claimed yet. */
  private runAvailable(): void {
    const area = this.area;
    for (let t = area.claim(); t >= 0; t = area.claim()) area.run(t, this.byId.get(area.bufferOf(t))!, this.runner);
  }

  /** Waits until a worker has done task t. */
  private waitFor(t: number): void {
    const ctl = this.area.ctl;
    let stalled = 0;
    Atomics.store(ctl, C.MAIN_WAITING, 1);
    try {
      while (!this.area.isDone(t)) {
        if (Atomics.load(ctl, C.FAILED) !== 0) throw new Error('a worker thread of the parallel rewrite failed');
        const done = Atomics.load(ctl, C.COMPLETED);
        if (Atomics.wait(ctl, C.COMPLETED, done, 100) === 'timed-out' && (stalled += 100) >= STALL_MS) {
          throw new Error(`a worker thread of the parallel rewrite has held task ${t} for ${STALL_MS / 1000} s`);
        }
      }
    } finally {
      Atomics.store(ctl, C.MAIN_WAITING, 0);
    }
  }

  /** The id the workers know `buf` by, telling them of a new one (and forgetting buffers no pending task uses). */
  private bufferId(buf: Uint8Array, task: number): number {
    const known = this.buffers.get(buf.buffer);
    if (known !== undefined) {
      known.lastTask = task;
      return known.id;
    }
    if (!(buf.buffer instanceof SharedArrayBuffer) || buf.byteOffset !== 0) throw new Error('parallel rewrite: a read window is not a whole SharedArrayBuffer');
    const id = this.nextBufferId++;
    this.buffers.set(buf.buffer, { id, lastTask: task, buf });
    this.byId.set(id, buf);
    this.post({ kind: 'buffer', id, memory: buf.buffer });
    if (this.buffers.size > KNOWN_BUFFERS) {
      // Buffers whose tasks are all collected are nobody's any more, oldest first.
      const old = [...this.buffers].filter(([, b]) => b.lastTask < this.collected).sort((a, b) => a[1].lastTask - b[1].lastTask);
      for (const [key, b] of old.slice(0, this.buffers.size - KNOWN_BUFFERS)) {
        this.buffers.delete(key);
        this.byId.delete(b.id);
        this.post({ kind: 'forget', id: b.id });
      }
    }
    return id;
  }

  /** Posts a message to every worker, then announces it (a worker takes it before its next task). */
  private post(m: PoolMessage): void {
    for (const p of this.ports) p.postMessage(m);
    Atomics.add(this.area.ctl, C.MESSAGES, 1);
  }
}
