/**
 * Memory reused from one capture to the next in a thread (a run over many
 * captures): read windows (capture/source.ts recycledWindows) and the flow
 * table's blocks (verify/blockpool.ts) come back holding another capture's
 * bytes. No report may depend on that: each is compared with the report a
 * fresh process gives, after the reused memory was filled with junk.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../../src/capture/reader.js';
import { RecordKind } from '../../src/capture/record.js';
import { DEFAULT_WINDOW, recycledWindows } from '../../src/capture/source.js';
import { runPipeline } from '../../src/pipeline.js';
import { renderJson } from '../../src/report/json.js';
import { BLOCK_BYTES, BlockPool } from '../../src/verify/blockpool.js';
import { cli, ROOT } from '../helpers/cli.js';
import { corpusPath } from '../helpers/corpus.js';

const CAPTURES = [
  join(ROOT, 'fixtures/golden/collision/host.pcapng'),
  corpusPath('pcapplusplus/ExamplesTest/many-protocols.pcap'),
  corpusPath('pcapplusplus/ExamplesTest/ip-frag.pcap'),
  corpusPath('tcpdump/pcap/afs.pcap'),
  corpusPath('pcap-parser/wireshark_samples-test.pcapng'),
];

/** Fills the thread's spare blocks with junk: a pool takes 16 (fresh or spare), scribbles on them and releases them. */
function poisonBlocks(): void {
  const pool = new BlockPool();
  for (let i = 0; i < 16; i++) new Uint8Array(pool.take()).fill(0xa5);
  pool.release();
}

describe('memory reused across captures', () => {
  it('a released pool hands its blocks to the next pool of the thread, as they were', () => {
    const a = new BlockPool();
    const block = a.take();
    expect(block.byteLength).toBe(BLOCK_BYTES);
    new Uint8Array(block).fill(7);
    a.release();
    expect(() => a.take()).toThrow('BlockPool used after release');
    const b = new BlockPool();
    const again = b.take();
    expect(again).toBe(block);
    expect(new Uint8Array(again)[12345]).toBe(7); // not zeroed: users write before they read
    b.release();
  });

  it('a closed reader gives its window buffers to the next one, and its window is empty', async () => {
    const file = CAPTURES[4]!;
    const seen = new Set<ArrayBufferLike>();
    const a = await CaptureReader.open(file, { allocate: recycledWindows });
    let packets = 0;
    for await (const rec of a) {
      seen.add(rec.buf.buffer);
      if (rec.kind === RecordKind.Packet) packets++;
    }
    await a.close();
    expect(packets).toBeGreaterThan(0);
    // The window the records were in is among the spare buffers (with the one read ahead into).
    const spares = [0, 1, 2, 3].map(() => recycledWindows(DEFAULT_WINDOW));
    const next = spares.find((b) => seen.has(b.buffer));
    if (next === undefined) throw new Error('the closed reader gave back none of its windows');
    // The bytes read through a recycled window are the file's.
    next.fill(0xa5);
    const reread = await CaptureReader.open(file, { allocate: (n) => (n === DEFAULT_WINDOW ? next : Buffer.allocUnsafe(n)) });
    const whole = await new Promise<Buffer>((resolve, reject) => {
      const parts: Buffer[] = [];
      createReadStream(file).on('data', (c) => parts.push(c as Buffer)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject);
    });
    for await (const rec of reread) {
      if (rec.kind !== RecordKind.Packet) continue;
      const at = rec.fileOffset + (rec.dataOffset - rec.start);
      expect(Buffer.from(rec.buf.subarray(rec.dataOffset, rec.dataOffset + rec.capturedLength)).equals(whole.subarray(at, at + rec.capturedLength))).toBe(true);
    }
    await reread.close();
  });

  it('verify in one thread, capture after capture over junk-filled memory, reports what a fresh process reports', async () => {
    for (let round = 0; round < 2; round++) {
      for (const file of CAPTURES) {
        poisonBlocks();
        const run = await runPipeline({ command: 'verify', input: file, output: null, rules: [], direction: 'guest-to-host', format: 'same', annotate: false, force: false });
        const fresh = cli(['verify', file, '--report', 'json']);
        expect(renderJson(run.report), file).toBe(fresh.stdout.toString());
      }
    }
  });
});
