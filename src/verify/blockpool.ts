/** Memory block of the flow log's chunks and the flow table's record pages: 1 MB. */
export const BLOCK_BYTES = 1 << 20;

/**
 * 1 MB blocks shared by the single-domain log (flowlog.ts) and the flow
 * table's record pages (collisions.ts). The log takes its chunks here and
 * gives each back as soon as it has been replayed, so the pages a replay
 * adds are made of the log it empties: the first replay of a long capture
 * turns 24 MB of log into record pages instead of adding them on top.
 * (Chunks dropped instead stayed resident until V8's next full collection,
 * which a run that allocates almost nothing may not see for seconds: verify
 * of the 2 GB bench peaked 20 MB higher.)
 */
export class BlockPool {
  private readonly free: ArrayBuffer[] = [];
  take(): ArrayBuffer {
    return this.free.pop() ?? new ArrayBuffer(BLOCK_BYTES);
  }
  give(block: ArrayBuffer): void {
    this.free.push(block);
  }
}
