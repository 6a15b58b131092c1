/**
 * The leak check (`addr.untranslated`) and the translator agree on where
 * addresses are, over every readable corpus capture, the golden fixtures and
 * a synthetic capture that reaches every address site (test/helpers/
 * rich-frames.ts), with rules matching each capture's busiest IPv4 /24 and
 * IPv6 /64 (test/helpers/survey.ts; their host networks are ones the capture
 * does not use, so no host prefix overlaps a guest prefix):
 *
 * (a) verify with the rules on the input reports exactly the addresses a
 *     guest-to-host rewrite rewrites: the same (frame, kind, old, new, rule),
 *     in the same order;
 * (b) verify with the same rules on the rewritten output reports no
 *     `addr.untranslated` but those in places ssnat-rewrite does not
 *     translate (src/nat/untranslated.ts), which are the input's, the same.
 *
 * Between them the inputs must rewrite every kind of address site at least
 * once, or (a) proves nothing about the missing kind.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTranslator, openCapture, RecordWriter, verifyFile } from '../../src/index.js';
import { KIND_LABELS, KIND_NAMES } from '../../src/nat/translate.js';
import type { Finding } from '../../src/report/model.js';
import { readPackets } from '../helpers/capture.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { corpusPath, manifest } from '../helpers/corpus.js';
import { richFrames } from '../helpers/rich-frames.js';
import { rulesForCapture } from '../helpers/survey.js';
import { pcapBytes } from '../helpers/wire-build.js';

const dir = tempDir();
const synthetic = join(dir, 'rich.pcap');
writeFileSync(synthetic, pcapBytes(1, richFrames()));

const inputs = [
  ...manifest()
    .filter((e) => !e.damaged && e.packets > 0)
    .map((e) => corpusPath(e.path)),
  ...['collision', 'ssnat'].flatMap((d) => {
    const golden = join(ROOT, 'fixtures/golden', d);
    return readdirSync(golden).map((f) => join(golden, f));
  }),
  synthetic,
];

/** "frame kind old>new (rule)" of every address the translator rewrites, in order; and the rewritten capture. */
async function rewrite(input: string, rules: string[]): Promise<{ rewrites: string[]; output: Buffer }> {
  const reader = await openCapture(input);
  const translate = createTranslator(rules);
  const writer = await RecordWriter.create(null, reader.format);
  const rewrites: string[] = [];
  for await (const rec of reader) {
    const r = translate(rec);
    if (r !== null) {
      for (let i = 0; i < r.count; i++) {
        const t = r.tunnels[i];
        rewrites.push(`${rec.frame} ${KIND_NAMES[r.kinds[i]!]} ${r.oldText(i)}>${r.newText(i)}${t === null ? '' : ` inside ${t}`} (${rules[r.rules[i]!]})`);
      }
    }
    await writer.write(rec);
  }
  return { rewrites, output: (await writer.close())! };
}

const MESSAGE = /^(.+?) (\S+)( inside .+)? is a guest-side address: rule (.+) maps it to (\S+)$/;
const NOT_TRANSLATED = '(not translated by ssnat-rewrite)';

/** The `addr.untranslated` findings about places no rewrite translates: "frame message". */
function untranslatable(findings: readonly Finding[]): string[] {
  return findings.filter((f) => f.check === 'addr.untranslated' && f.message.includes(NOT_TRANSLATED)).map((f) => `${f.frame} ${f.message}`);
}

/** The same form as `rewrite` gives, for the other `addr.untranslated` findings of a report. */
function leaks(findings: readonly Finding[]): string[] {
  return findings
    .filter((f) => f.check === 'addr.untranslated' && !f.message.includes(NOT_TRANSLATED))
    .map((f) => {
      const m = MESSAGE.exec(f.message);
      if (m === null) return `${f.frame} unparsed message: ${f.message}`;
      const [, what, from, inside, rule, to] = m as unknown as [string, string, string, string | undefined, string, string];
      const kind = KIND_LABELS.indexOf(what);
      expect([f.severity, f.actual, f.expected], f.message).toEqual(['error', from, to]);
      return `${f.frame} ${KIND_NAMES[kind] ?? `unknown kind "${what}"`} ${from}>${to}${inside ?? ''} (${rule})`;
    });
}

describe('the leak check finds exactly what the translator rewrites', () => {
  const kindsSeen = new Set<string>();
  let compared = 0;
  let withUntranslatable = 0;

  it.for(inputs)('%s', async (input) => {
    let rules: string[];
    try {
      rules = rulesForCapture(await readPackets(input));
    } catch {
      return; // unreadable: the reader's business
    }
    if (rules.length === 0) return;
    compared++;
    const { rewrites, output } = await rewrite(input, rules);
    for (const r of rewrites) kindsSeen.add(r.split(' ')[1]!);
    // (a)
    const before = await verifyFile(input, { rules });
    expect(leaks(before.findings)).toEqual(rewrites);
    // (b)
    const out = join(dir, 'out');
    writeFileSync(out, output);
    const after = await verifyFile(out, { rules });
    expect(leaks(after.findings)).toEqual([]);
    expect(untranslatable(after.findings)).toEqual(untranslatable(before.findings));
    if (untranslatable(before.findings).length > 0) withUntranslatable++;
  });

  afterAll(() => {
    expect(compared).toBeGreaterThan(150);
    expect(withUntranslatable).toBeGreaterThan(0);
    // Every kind of address (tunnel.inner is not one: it counts packets whose rewrites were inside a tunnel).
    expect([...kindsSeen].sort()).toEqual(KIND_NAMES.filter((k) => k !== 'tunnel.inner').sort());
  });
});
