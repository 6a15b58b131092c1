/**
 * merge-reports reads shards as untrusted input (report/consistency.ts):
 * whatever one edit does to a real report, the entry is either refused with
 * a reason, or every report format renders it without an exception. The
 * reports this version writes always pass.
 */
import fc from 'fast-check';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyFile } from '../../src/api.js';
import { renderMulti } from '../../src/cli/many.js';
import { inconsistency } from '../../src/report/consistency.js';
import type { Report } from '../../src/report/model.js';
import { combineReports } from '../../src/report/multi.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';

/** Every path to a leaf (or a whole array) of a JSON value. */
function paths(v: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (v === null || typeof v !== 'object') return [at];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return [at, ...entries.flatMap(([k, x]) => paths(x, [...at, k]))];
}

function set(root: unknown, path: ReadonlyArray<string | number>, value: unknown): void {
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  if (value === undefined) delete o[path[path.length - 1]!];
  else o[path[path.length - 1]!] = value;
}

const odd = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer({ min: -3, max: 1e6 }), fc.double(), fc.string(), fc.boolean(), fc.constant([]), fc.constant({}), fc.constant([1, 'x']), fc.constant({ toString: 1 }));

describe('merge-reports takes a shard as untrusted input', () => {
  const reports = ['fixtures/golden/collision/host.pcapng', 'fixtures/golden/ssnat/guest1.pcapng'].map((p) => verifyFile(join(ROOT, p), { rules: ['10.0.0.0/24=192.168.11.0/24'] }));

  it('what this version writes holds together', async () => {
    for (const r of await Promise.all(reports)) expect(inconsistency(JSON.parse(JSON.stringify(r)) as Report)).toBeNull();
  });

  it('what every mode of the CLI writes holds together: rewrite with and without --verify, findings past --max-findings, stdin, entries of files that failed', () => {
    const dir = tempDir();
    const guest1 = join(ROOT, 'fixtures/golden/ssnat/guest1.pcapng');
    const host = join(ROOT, 'fixtures/golden/collision/host.pcapng');
    writeFileSync(join(dir, 'cut.pcapng'), readFileSync(guest1).subarray(0, 100));
    mkdirSync(join(dir, 'full'));
    symlinkSync('/dev/full', join(dir, 'full/guest1.pcapng'));
    const rule = ['-r', '10.0.0.0/24=192.168.11.0/24'];
    const runs: string[][] = [
      [guest1, join(dir, 'a.pcapng'), ...rule, '--report', 'json', '-q'],
      [guest1, join(dir, 'b.pcapng'), ...rule, '--verify', '--report', 'json', '-q'],
      ['verify', host, '--max-findings', '1', '--report', 'json'],
      ['verify', '-', '--report', 'json'],
      ['verify', host, join(dir, 'cut.pcapng'), join(dir, 'missing.pcap'), '--report', 'json'],
      // Its output a link to /dev/full: written straight through, it fails with ENOSPC (exit 4).
      ['--out-dir', join(dir, 'full'), guest1, ...rule, '--force', '--report', 'json', '-q'],
    ];
    const entries: Report[] = [];
    for (const args of runs) {
      const r = cli(args, args.includes('-') ? readFileSync(host) : undefined);
      const doc = JSON.parse(r.stdout.toString()) as Report & { files?: Report[] };
      for (const f of doc.files ?? [doc]) {
        entries.push(f);
        expect([args.join(' '), inconsistency(f)]).toEqual([args.join(' '), null]);
      }
    }
    // Among them: findings counted but not listed, a rewrite that verified and one that did not, an unreadable entry, one not written.
    expect(entries.length).toBe(8);
    expect(entries.some((f) => f.omitted !== undefined)).toBe(true);
    expect(entries.filter((f) => f.command === 'rewrite').map((f) => f.summary.unchecked !== undefined)).toEqual([false, true, false]);
    // The three entries of the collision capture fail: its wrong-clone replies are errors.
    expect(entries.map((f) => f.verdict!.exitCode).sort()).toEqual([0, 0, 1, 1, 1, 3, 3, 4]);
  });

  it('a timeline lane on interface -1 (no interface) is refused, not drawn: CI found a shard edited so crashed the HTML report', async () => {
    const report = JSON.parse(JSON.stringify(await reports[0]!)) as Report;
    report.timeline!.lanes[0]!.interface = -1;
    expect(inconsistency(report)).toMatch(/its timeline/);
  });

  it('one edit anywhere: refused with a reason, or rendered in every format without an exception', async () => {
    const originals = (await Promise.all(reports)).map((r) => JSON.stringify(r));
    fc.assert(
      fc.property(fc.nat(), fc.nat(), odd, (which, where, value) => {
        const edited = JSON.parse(originals[which % originals.length]!) as Report;
        const all = paths(edited).filter((p) => p.length > 0);
        set(edited, all[where % all.length]!, value);
        // What a shard file can hold: JSON (a deleted array element is null there, a double may be NaN: null).
        const report = JSON.parse(JSON.stringify(edited)) as Report;
        const why = inconsistency(report);
        if (why !== null) {
          expect(typeof why).toBe('string');
          return;
        }
        const multi = combineReports('verify', [report], false);
        for (const kind of ['text', 'json', 'junit', 'html'] as const) expect(typeof renderMulti(multi, kind)).toBe('string');
      }),
      { numRuns: Number(process.env.SSNAT_FC_RUNS ?? 3000) },
    );
  });
});
