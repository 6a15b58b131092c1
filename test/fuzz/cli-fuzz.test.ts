/**
 * Damaged input through the CLI (issue 7): exit codes only 0, 1 or 3; a
 * failure is one clear line naming file and byte offset, never a stack
 * trace; no partial output; the input untouched.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CaptureReader } from '../../src/capture/reader.js';
import { cli, tempDir } from '../helpers/cli.js';
import { corpusPath } from '../helpers/corpus.js';
import { mutate, prng } from '../helpers/mutate.js';

const SOURCES = ['tcpdump/pcap/icmpv6.pcap', 'pcapng-test-generator/output_le/difficult/test202.pcapng', 'pcapplusplus/PcapExamples/sll.pcap', 'dpkt/nb6-http.pcap'];

describe('the CLI on mutated captures', () => {
  const rand = prng(20261125);
  const cases: Array<[string, number]> = [];
  for (const s of SOURCES) for (let i = 0; i < 6; i++) cases.push([s, i]);

  it.each(cases)('%s #%i', async (src, i) => {
    const input = readFileSync(corpusPath(src));
    const offsets: number[] = [];
    for await (const rec of await CaptureReader.fromBytes(input)) offsets.push(rec.fileOffset);
    const m = mutate(input, offsets, rand);
    const dir = tempDir();
    const file = join(dir, `in-${i}`);
    writeFileSync(file, m.bytes);
    const out = join(dir, 'out');
    for (const args of [[file, out, '-r', '10.0.0.0/8=11.0.0.0/8', '-r', 'fd00::/8=fc00::/8'], ['verify', file]]) {
      const r = cli(args);
      const what = `${src} (${m.what}): ${args[0]} exited ${r.code}: ${r.stderr}`;
      expect([0, 1, 3], what).toContain(r.code);
      expect(r.stderr, what).not.toMatch(/\n\s+at |internal error/);
      if (r.code === 3) {
        const lines = r.stderr.trim().split('\n');
        expect(lines, what).toHaveLength(1);
        expect(lines[0], what).toMatch(new RegExp(`^ssnat-rewrite: ${file}: (byte offset \\d+(, frame \\d+)?: )?\\S`));
        expect(readdirSync(dir).sort(), what).toEqual([`in-${i}`]);
      }
      expect(Buffer.compare(readFileSync(file), m.bytes)).toBe(0);
    }
  });
});
