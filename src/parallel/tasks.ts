/**
 * The memory the threads of a parallel rewrite share, and the code every one
 * of them runs on it (src/parallel/pool.ts starts the threads; docs in its
 * module comment).
 *
 * A task is one batch of packets of the main thread's walk (PacketBatch: where
 * each packet is in a read window, its lengths, its interface). Tasks are
 * numbered 0, 1, 2, ... in file order and live in SLOTS slots (task t in slot
 * t % SLOTS). Every thread, the main one included, claims the next task with a
 * compare-and-swap on CLAIMED, translates its packets in place in the window
 * (Translator.rewriteBatch: the same code as a single-thread run, so the same
 * bytes) and marks it done. A packet the translator could not decode (an
 * impossible header, or a link inside PPI it does not read) is left as it is
 * and its index noted in the slot: the main thread makes its finding or
 * counts it (as a single-thread run does) when it collects the task.
 *
 * The counters only grow, so a claim can never take a task that is not
 * published (no ABA). Plain writes (a slot's batch, the packets' bytes) are
 * published by the atomic store that follows them and seen by whoever reads
 * that atomic first (the memory model's synchronizes-with).
 */
import { PacketBatch, batchBytes } from '../capture/batch.js';
import type { InterfaceMapper } from '../nat/mapper.js';
import { KIND_NAMES, Translator, type BatchContext } from '../nat/translate.js';
import { DEFAULT_TUNNEL_SETTINGS, type TunnelSettings } from '../wire/tunnel.js';

/** Int32 words of the control area. */
export const C = {
  /** Tasks published by the main thread: tasks [0, PUBLISHED) exist. */
  PUBLISHED: 0,
  /** The next task to claim. */
  CLAIMED: 1,
  /** Tasks done, in any order. */
  COMPLETED: 2,
  /** Messages the main thread has posted to the workers (interfaces, window buffers). */
  MESSAGES: 3,
  /** Workers waiting for a task (the main thread wakes them only then). */
  SLEEPERS: 4,
  /** 1 while the main thread waits for a task to be done. */
  MAIN_WAITING: 5,
  /** 1: the workers return. */
  STOP: 6,
  /** Set by a worker that failed (the main thread then fails the run). */
  FAILED: 7,
  /** Workers started and ready for tasks. */
  READY: 8,
  WORDS: 12,
} as const;

/** Slots for tasks in flight. */
export const SLOTS = 32;
/** Packets per task. */
export const TASK_PACKETS = 1024;

/** Int32 words per slot: the task id + 1 once done, the window buffer id, the packet count, the count of packets not decoded. */
const META = 4;
const M_DONE = 0,
  M_BUFFER = 1,
  M_COUNT = 2,
  M_NOT_DECODED = 3;

/**
 * Per thread: packets rewritten per bitmask of kinds (as RecordLoop.maskCounts),
 * then the count rewritten, then the tasks run, then the addresses each rule
 * rewrote (the translator's ruleHits): statsLength(rules) doubles.
 */
const S_REWRITTEN = 1 << KIND_NAMES.length;
const S_TASKS = S_REWRITTEN + 1;
const S_RULE_HITS = S_TASKS + 1;

/** The counters of a thread for `rules` rules, in doubles. */
export function statsLength(rules: number): number {
  return S_RULE_HITS + rules;
}

/** The shared memory of a pool: control words, slot metadata, each slot's batch and the indices of its packets not decoded. */
export class TaskArea {
  readonly ctl: Int32Array;
  readonly batches: PacketBatch[] = [];
  private readonly meta: Int32Array;
  private readonly notDecoded: Int32Array[] = [];

  constructor(readonly memory: SharedArrayBuffer = new SharedArrayBuffer(TaskArea.bytes())) {
    this.ctl = new Int32Array(memory, 0, C.WORDS);
    this.meta = new Int32Array(memory, C.WORDS * 4, SLOTS * META);
    let at = (C.WORDS + SLOTS * META) * 4;
    for (let s = 0; s < SLOTS; s++) {
      this.batches.push(new PacketBatch(TASK_PACKETS, memory, at));
      at += batchBytes(TASK_PACKETS);
      this.notDecoded.push(new Int32Array(memory, at, TASK_PACKETS));
      at += TASK_PACKETS * 4;
    }
  }

  static bytes(): number {
    return (C.WORDS + SLOTS * META) * 4 + SLOTS * (batchBytes(TASK_PACKETS) + TASK_PACKETS * 4);
  }

  /** The next published task nobody has claimed, now claimed by the caller; -1 when there is none. */
  claim(): number {
    const ctl = this.ctl;
    for (;;) {
      const t = Atomics.load(ctl, C.CLAIMED);
      if (t >= Atomics.load(ctl, C.PUBLISHED)) return -1;
      if (Atomics.compareExchange(ctl, C.CLAIMED, t, t + 1) === t) return t;
    }
  }

  /** Task `t` is done (its slot may be reused once the main thread has collected it). */
  isDone(t: number): boolean {
    return Atomics.load(this.meta, (t % SLOTS) * META + M_DONE) === t + 1;
  }

  /** Main thread: fills slot `t % SLOTS` for task t (its batch is filled by the walk already). */
  setTask(t: number, bufferId: number, count: number): void {
    const m = (t % SLOTS) * META;
    this.meta[m + M_DONE] = 0;
    this.meta[m + M_BUFFER] = bufferId;
    this.meta[m + M_COUNT] = count;
    this.meta[m + M_NOT_DECODED] = 0;
  }

  bufferOf(t: number): number {
    return this.meta[(t % SLOTS) * META + M_BUFFER]!;
  }

  /** The indices (into the task's batch) of the packets not decoded (BatchContext.onNotDecoded). */
  notDecodedOf(t: number): Int32Array {
    const s = t % SLOTS;
    return this.notDecoded[s]!.subarray(0, this.meta[s * META + M_NOT_DECODED]!);
  }

  /** Runs task t: translates its packets, notes those not decoded, marks it done. */
  run(t: number, buf: Uint8Array, runner: TaskRunner): void {
    const s = t % SLOTS;
    const m = s * META;
    const list = this.notDecoded[s]!;
    let n = 0;
    runner.translate(buf, this.batches[s]!, this.meta[m + M_COUNT]!, (i) => {
      list[n++] = i;
    });
    this.meta[m + M_NOT_DECODED] = n;
    Atomics.store(this.meta, m + M_DONE, t + 1);
    const ctl = this.ctl;
    Atomics.add(ctl, C.COMPLETED, 1);
    if (Atomics.load(ctl, C.MAIN_WAITING) !== 0) Atomics.notify(ctl, C.COMPLETED);
  }
}

/** What a thread needs to translate tasks: its translator, the mappers and link types by interface index, its counters. */
export class TaskRunner {
  private readonly translator = new Translator();
  private readonly context: BatchContext;
  /** Where the task being run notes its packets not decoded. */
  private notDecoded: (i: number) => void = () => undefined;

  constructor(
    mappers: ReadonlyArray<InterfaceMapper | undefined>,
    linkTypes: readonly number[],
    /** STATS_LENGTH doubles (shared memory for a worker: the main thread adds them up at the end). */
    readonly stats: Float64Array,
    tunnels: TunnelSettings = DEFAULT_TUNNEL_SETTINGS,
  ) {
    this.translator.details = false;
    this.translator.decoder.setTunnels(tunnels);
    // The translator counts each rule's addresses straight into the thread's counters.
    this.translator.ruleHits = stats.subarray(S_RULE_HITS);
    // The first 1 << KIND_NAMES.length counters are rewriteBatch's maskCounts.
    this.context = { mappers, linkTypes, maskCounts: stats, onNotDecoded: (i) => this.notDecoded(i) };
  }

  translate(buf: Uint8Array, batch: PacketBatch, count: number, notDecoded: (i: number) => void): void {
    this.notDecoded = notDecoded;
    const rewritten = this.translator.rewriteBatch(buf, batch, 0, count, this.context);
    this.stats[S_REWRITTEN] = this.stats[S_REWRITTEN]! + rewritten;
    this.stats[S_TASKS] = this.stats[S_TASKS]! + 1;
  }
}

/** The tasks a thread ran. */
export function tasksRun(stats: Float64Array): number {
  return stats[S_TASKS]!;
}

/** Adds a thread's counters to the run's: packets per kind bitmask, addresses per rule; returns the packets it rewrote. */
export function addStats(stats: Float64Array, maskCounts: Float64Array, ruleHits: Float64Array): number {
  for (let k = 0; k < S_REWRITTEN; k++) maskCounts[k]! += stats[k]!;
  for (let r = 0; r < ruleHits.length; r++) ruleHits[r]! += stats[S_RULE_HITS + r] ?? 0;
  return stats[S_REWRITTEN]!;
}
