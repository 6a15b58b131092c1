/** Memory block of the flow log's chunks and the flow table's record pages: 1 MB. */
export const BLOCK_BYTES = 1 << 20;

/**
 * Blocks of finished pools, for the next capture verified in this thread
 * (a run over many captures): at most this many are kept (16 MB).
 */
const MAX_SPARE_BLOCKS = 16;
const spareBlocks: ArrayBuffer[] = [];

/**
 * 1 MB blocks shared by the single-domain log (flowlog.ts) and the flow
 * table's record pages (collisions.ts). The log takes its chunks here and
 * gives each back as soon as it has been replayed, so the pages a replay
 * adds are made of the log it empties: the first replay of a long capture
 * turns 24 MB of log into record pages instead of adding them on top.
 * (Chunks dropped instead stayed resident until V8's next full collection,
 * which a run that allocates almost nothing may not see for seconds: verify
 * of the 2 GB bench peaked 20 MB higher.) A block taken may therefore hold
 * old bytes: its users write before they read.
 *
 * `release` hands every block back for the next pool of this thread: over
 * 200 CI-size captures, zeroing fresh blocks for each cost 100 ms (more with
 * two threads faulting pages in at once).
 */
export class BlockPool {
  private readonly free: ArrayBuffer[] = [];
  /** Every block this pool has handed out, to give them all back on release. */
  private readonly owned: ArrayBuffer[] = [];
  private released = false;

  take(): ArrayBuffer {
    if (this.released) throw new Error('BlockPool used after release');
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    const block = spareBlocks.pop() ?? new ArrayBuffer(BLOCK_BYTES);
    this.owned.push(block);
    return block;
  }

  give(block: ArrayBuffer): void {
    this.free.push(block);
  }

  /** The owner is done with every block (no view into them is read again): they go to the next pool of this thread. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const b of this.owned) if (spareBlocks.length < MAX_SPARE_BLOCKS) spareBlocks.push(b);
    this.owned.length = 0;
    this.free.length = 0;
  }
}
