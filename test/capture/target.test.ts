/**
 * AtomicFileTarget: bytes reach the destination only on commit, by a
 * rename from a hidden temporary file beside it, which is never one that
 * already exists.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AtomicFileTarget, pendingTempFiles } from '../../src/capture/target.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('AtomicFileTarget', () => {
  it('writes to a temporary file and renames it into place on commit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssnat-target-'));
    const out = join(dir, 'out.pcap');
    const t = await AtomicFileTarget.create(out);
    expect(t.tempPath).toMatch(/\/\.out\.pcap\.\d+\.[0-9a-f]{8}\.tmp$/);
    await t.write([Uint8Array.of(1, 2), Uint8Array.of(3)]);
    expect(readdirSync(dir)).toEqual([t.tempPath.slice(dir.length + 1)]);
    await t.commit();
    expect(readdirSync(dir)).toEqual(['out.pcap']);
    expect([...readFileSync(out)]).toEqual([1, 2, 3]);
    expect(pendingTempFiles().has(t.tempPath)).toBe(false);
  });

  it('takes another name when the temporary name exists, and leaves that file alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssnat-target-'));
    const out = join(dir, 'out.pcap');
    const taken = join(dir, `.out.pcap.${process.pid}.80000000.tmp`);
    writeFileSync(taken, 'not ours');
    vi.spyOn(Math, 'random').mockReturnValueOnce(0.5).mockReturnValueOnce(0.25);
    const t = await AtomicFileTarget.create(out);
    expect(t.tempPath).toBe(join(dir, `.out.pcap.${process.pid}.40000000.tmp`));
    await t.abort();
    expect(readdirSync(dir)).toEqual([taken.slice(dir.length + 1)]);
    expect(readFileSync(taken, 'utf8')).toBe('not ours');
  });
});
