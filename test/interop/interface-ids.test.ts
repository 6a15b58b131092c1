/**
 * Interface ids are Wireshark's (issue 14): on every frame of a
 * multi-section pcapng, the interface a report names is tshark's
 * frame.interface_id, which tshark 4.0 counts within each section (the id
 * the packet block carries). Sections with identical interface blocks and
 * with different ones; rule scopes (@#N) follow the same numbering.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { readPackets } from '../helpers/capture.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { corpusPath } from '../helpers/corpus.js';
import { needs } from '../helpers/tools.js';
import { tsharkFields } from '../helpers/tshark.js';

const GOLDEN = join(ROOT, 'fixtures/golden/ssnat');

/** Files made by concatenating captures, as `cat a.pcapng b.pcapng > c.pcapng` makes them. */
function concatenated(name: string, parts: string[]): string {
  const out = join(tempDir(), name);
  writeFileSync(out, Buffer.concat(parts.map((p) => readFileSync(p))));
  return out;
}

const CASES: Array<[string, () => string]> = [
  ['identical sections (cat f f, three interfaces each)', () => concatenated('twice.pcapng', [join(GOLDEN, 'host.pcapng'), join(GOLDEN, 'host.pcapng')])],
  ['different sections (three, one, one and three interfaces)', () => concatenated('mixed.pcapng', ['host', 'guest0', 'guest1', 'host'].map((f) => join(GOLDEN, `${f}.pcapng`)))],
  ['the corpus file with three sections of different byte orders', () => corpusPath('pcapng-test-generator/output_le/difficult/test202.pcapng')],
];

describe('frame.interface_id, frame by frame', () => {
  beforeEach((ctx) => needs(ctx, 'tshark'));

  it.each(CASES)('%s', async (_what, make) => {
    const file = make();
    const theirs = tsharkFields(file, ['frame.number', 'frame.interface_id'], ['-Y', 'frame.interface_id >= 0']).map((l) => l.split('\t').map(Number) as [number, number]);
    const ours = (await readPackets(file)).map((p) => [p.frame, p.interfaceId] as [number, number]);
    expect(theirs.length).toBeGreaterThan(0);
    expect(ours).toEqual(theirs);
  });

  it('a scope @#1 translates exactly the frames tshark shows on interface 1, in every section', () => {
    const file = CASES[1]![1]();
    const out = join(tempDir(), 'out.pcapng');
    expect(cli([file, out, '-d', 'host-to-guest', '-r', '10.0.0.0/24=192.168.11.0/24@#1', '-r', 'fd00::/64=fd00:11::/64@#1', '--annotate', '-q']).code).toBe(0);
    const annotated = tsharkFields(out, ['frame.number'], ['-Y', 'frame.comment contains "ssnat"']).map(Number);
    const onOne = tsharkFields(file, ['frame.number'], ['-Y', 'frame.interface_id == 1']).map(Number);
    expect(annotated.length).toBeGreaterThan(20);
    expect(annotated.every((f) => onOne.includes(f))).toBe(true);
    // Every frame of tap1 whose addresses are tap1's host network was translated: all of them, both sections.
    const tap1 = tsharkFields(file, ['frame.number'], ['-Y', 'frame.interface_id == 1 && (ip.addr == 192.168.11.0/24 || arp || ipv6.addr == fd00:11::/64)']).map(Number);
    expect(annotated).toEqual(tap1);
  });
});
