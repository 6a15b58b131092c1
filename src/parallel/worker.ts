/**
 * A worker thread of a parallel rewrite (src/parallel/pool.ts): claims tasks
 * and translates them (src/parallel/tasks.ts) until the main thread says
 * stop. Run as dist/parallel/worker.js by the library and as
 * dist/ssnat-worker.cjs (a bundle of this file) by the CLI.
 *
 * What it needs besides the shared memory comes from the main thread as
 * messages on its own port, each announced by the MESSAGES counter before
 * any task needs it: an interface (its mapper is made here, by the same
 * RuleTable code) or a window buffer. They are taken with
 * receiveMessageOnPort, synchronously, between tasks: this thread never
 * returns to its event loop while the run lasts.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { InterfaceMapper } from '../nat/mapper.js';
import type { Rule } from '../nat/rules.js';
import { RuleTable, type Direction } from '../nat/table.js';
import { C, TaskArea, TaskRunner } from './tasks.js';
import type { TunnelSettings } from '../wire/tunnel.js';
import type { PoolMessage } from './pool.js';

export interface WorkerData {
  area: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  rules: Rule[];
  direction: Direction;
  tunnels: TunnelSettings;
  port: MessagePort;
}

/** Longest single wait (ms): the thread looks at STOP at least this often. */
const WAIT_MS = 200;

function work(data: WorkerData): void {
  const area = new TaskArea(data.area);
  const ctl = area.ctl;
  const table = new RuleTable(data.rules, data.direction);
  const mappers: Array<InterfaceMapper | undefined> = [];
  const linkTypes: number[] = [];
  const buffers = new Map<number, Uint8Array>();
  const runner = new TaskRunner(mappers, linkTypes, new Float64Array(data.stats), data.tunnels);
  let seen = 0;
  Atomics.add(ctl, C.READY, 1);

  const take = (m: PoolMessage): void => {
    if (m.kind === 'interface') {
      mappers[m.info.index] = table.mapperFor(m.info);
      linkTypes[m.info.index] = m.info.linkType;
    } else if (m.kind === 'buffer') {
      // A Buffer, as on the main thread: the translator's optimized code sees one type.
      buffers.set(m.id, Buffer.from(m.memory));
    } else {
      buffers.delete(m.id);
    }
  };
  /** Takes every message announced so far (they were posted before the counter moved). */
  const sync = (): void => {
    const posted = Atomics.load(ctl, C.MESSAGES);
    while (seen < posted) {
      const m = receiveMessageOnPort(data.port);
      if (m === undefined) throw new Error(`message ${seen + 1} of ${posted} announced but not received`);
      take(m.message as PoolMessage);
      seen++;
    }
  };

  while (Atomics.load(ctl, C.STOP) === 0) {
    const published = Atomics.load(ctl, C.PUBLISHED);
    const t = area.claim();
    if (t < 0) {
      Atomics.add(ctl, C.SLEEPERS, 1);
      Atomics.wait(ctl, C.PUBLISHED, published, WAIT_MS);
      Atomics.sub(ctl, C.SLEEPERS, 1);
      continue;
    }
    sync();
    area.run(t, buffers.get(area.bufferOf(t))!, runner);
  }
  data.port.close();
}

const data = workerData as WorkerData;
try {
  work(data);
} catch (e) {
  // The main thread waits on shared memory, not on events: tell it there.
  const ctl = new Int32Array(data.area, 0, C.WORDS);
  Atomics.store(ctl, C.FAILED, 1);
  Atomics.notify(ctl, C.COMPLETED);
  throw e;
}
