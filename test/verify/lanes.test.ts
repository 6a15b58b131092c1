/**
 * Interfaces are lanes by identity, not by their per-section id: the three
 * taps of the collision capture as three single-interface pcapng files,
 * `cat tap0.pcapng tap1.pcapng tap2.pcapng`, are three lanes, as the same
 * packets with three interfaces in one section are. Reports keep
 * Wireshark's interface id and name the section where the id alone is
 * ambiguous (Wireshark's frame.section_number).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { readPackets } from '../helpers/capture.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { epb, idb, shb } from '../helpers/pcapng-build.js';
import { needs } from '../helpers/tools.js';
import { tsharkFields } from '../helpers/tshark.js';

const HOST = join(ROOT, 'fixtures/golden/collision/host.pcapng');

/** The collision capture's packets grouped by tap (tap0's, then tap1's, then tap2's): as one section with three interfaces, and as three sections of one each. */
async function layouts(): Promise<{ oneSection: string; catted: string }> {
  const packets = await readPackets(HOST);
  const t0 = packets[0]!.timestampNs;
  const at = (ns: bigint): number => Number((ns - t0) / 1000n);
  const byTap = [0, 1, 2].map((i) => packets.filter((p) => p.interfaceId === i));
  const dir = tempDir();
  const oneSection = join(dir, 'one-section.pcapng');
  writeFileSync(oneSection, Buffer.concat([shb(true), ...[0, 1, 2].map((i) => idb(`tap${i}`, true)), ...byTap.flatMap((ps, i) => ps.map((p) => epb(i, p.data, true, at(p.timestampNs))))]));
  const catted = join(dir, 'catted.pcapng');
  writeFileSync(catted, Buffer.concat(byTap.flatMap((ps, i) => [shb(true), idb(`tap${i}`, true), ...ps.map((p) => epb(0, p.data, true, at(p.timestampNs)))])));
  return { oneSection, catted };
}

function verify(file: string): Report {
  return JSON.parse(cli(['verify', file, '--report', 'json']).stdout.toString()) as Report;
}

describe('interfaces are lanes by identity', () => {
  it('cat tap0.pcapng tap1.pcapng tap2.pcapng: three lanes, the same collisions as one section with three interfaces', async () => {
    const { oneSection, catted } = await layouts();
    const one = verify(oneSection);
    const cat = verify(catted);
    expect(one.summary.collisions).toBe(5);
    expect(cat.summary.collisions).toBe(5);
    // The same findings on the same frames, each lane named by Wireshark's id and, where that is ambiguous, its section.
    const lane = (r: Report, f: { interface: number; section?: number }): string => `${r.input.interfaces.find((i) => i.id === f.interface && i.section === f.section)?.name}`;
    expect(cat.findings.map((f) => [f.frame, f.check, lane(cat, f)])).toEqual(one.findings.map((f) => [f.frame, f.check, lane(one, f)]));
    expect(cat.input.interfaces).toEqual([
      { id: 0, name: 'tap0', linkType: 1 },
      { id: 0, name: 'tap1', linkType: 1, section: 2 },
      { id: 0, name: 'tap2', linkType: 1, section: 3 },
    ]);
    expect(cat.collisions.map((c) => [c.interfaces, c.sections])).toEqual(cat.collisions.map(() => [[0, 0, 0], [1, 2, 3]]));
    expect(one.collisions.map((c) => c.sections)).toEqual(one.collisions.map(() => undefined));
    const first = cat.findings.find((f) => f.check === 'flow.collision')!;
    expect(first.section).toBe(2);
    expect(first.message).toBe('udp 10.0.0.2:33333 > 10.0.0.1:53 on interface 0 of section 2 is also on interface 0 (frame 3): a stateful NAT would take them for one connection');
    expect(cat.timeline!.lanes.map((l) => [l.interface, l.section, l.name])).toEqual([
      [0, undefined, 'tap0'],
      [0, 2, 'tap1'],
      [0, 3, 'tap2'],
    ]);
    // ARP is per lane too: each tap's own router MAC is no duplicate of another's.
    expect(cat.findings.filter((f) => f.check.startsWith('arp.'))).toEqual([]);
  });

  it('a capture whose sections describe one interface alike is one lane (a capture cut in pieces and put back together)', async () => {
    const packets = await readPackets(HOST);
    const tap0 = packets.filter((p) => p.interfaceId === 0);
    const half = Math.floor(tap0.length / 2);
    const file = join(tempDir(), 'pieces.pcapng');
    const section = (ps: typeof tap0): Buffer[] => [shb(true), idb('tap0', true), ...ps.map((p, i) => epb(0, p.data, true, i))];
    writeFileSync(file, Buffer.concat([...section(tap0.slice(0, half)), ...section(tap0.slice(half))]));
    const r = verify(file);
    expect(r.input.interfaces).toEqual([{ id: 0, name: 'tap0', linkType: 1 }]);
    expect(r.summary.collisions).toBe(0);
    expect(r.timeline!.lanes).toHaveLength(1);
  });

  it('the HTML report draws three lanes, and each lane\'s Wireshark filter names its section: tshark finds exactly its packets', async (ctx) => {
    const { catted } = await layouts();
    const html = renderHtmlReport(verify(catted));
    const lanes = [...html.matchAll(/<g data-kind="lane" data-lane="([^"]+)"[^>]*data-name="([^"]+)"/g)].map((m) => [m[1], m[2]]);
    expect(lanes).toEqual([
      ['0', 'tap0'],
      ['0s2', 'tap1'],
      ['0s3', 'tap2'],
    ]);
    expect(html).toContain('<code class="wf">frame.interface_id == 0 &amp;&amp; frame.section_number == 3</code>');
    needs(ctx, 'tshark');
    const rows = tsharkFields(catted, ['frame.number'], ['-Y', 'frame.interface_id == 0 && frame.section_number == 3']);
    const tap2 = (await readPackets(HOST)).filter((p) => p.interfaceId === 2).length;
    expect(rows).toHaveLength(tap2);
  });
});
