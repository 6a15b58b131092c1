/**
 * The clones' bug, captured for real (fixtures/golden/collision: three clones
 * of 10.0.0.2 behind tap0..tap2, no translation; the kernel routes every
 * reply out of tap0). verify must name the colliding flows (warnings) and
 * the replies that reached the wrong clone (errors: the capture fails the
 * gate); after a per-tap rewrite there must be none, no errors, and every
 * checksum good in tshark.
 */
import { join } from 'node:path';
import type { Report } from '../../src/report/model.js';
import { describe, expect, it } from 'vitest';
import { readPackets } from '../helpers/capture.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { badVerdicts, tsharkChecksums } from '../helpers/tshark.js';

const HOST = join(ROOT, 'fixtures/golden/collision/host.pcapng');

const TAP_RULES = [0, 1, 2].flatMap((i) => ['-r', `10.0.0.0/24=192.168.${10 + i}.0/24@tap${i}`, '-r', `fd00::/64=fd00:${10 + i}::/64@tap${i}`]);

function verify(file: string, ...args: string[]): { code: number | null; report: Report } {
  const r = cli(['verify', file, '--report', 'json', ...args]);
  return { code: r.code, report: JSON.parse(r.stdout.toString()) as Report };
}

describe('golden: the collision capture', () => {
  it('verify names every colliding flow with its interfaces and first frames (each a warning: the risk)', () => {
    const { report } = verify(HOST);
    expect(report.collisions.map(({ protocol, flow, interfaces, frames }) => ({ protocol, flow, interfaces, frames }))).toEqual([
      { protocol: 'udp', flow: '10.0.0.2:33333 > 10.0.0.1:53', interfaces: [0, 1, 2], frames: [3, 31, 65] },
      { protocol: 'udp', flow: '10.0.0.2:33333 > 10.0.0.1:5300', interfaces: [0, 1, 2], frames: [5, 34, 68] },
      { protocol: 'tcp', flow: '10.0.0.2:33334 > 10.0.0.1:53', interfaces: [0, 1, 2], frames: [10, 40, 74] },
      { protocol: 'udp', flow: '[fd00::2]:33333 > [fd00::1]:53', interfaces: [0, 1, 2], frames: [22, 54, 85] },
      { protocol: 'udp', flow: '[fd00::2]:33333 > [fd00::1]:5300', interfaces: [0, 1, 2], frames: [24, 56, 87] },
    ]);
    expect(report.summary.collisions).toBe(5);
    const collisions = report.findings.filter((f) => f.check === 'flow.collision');
    expect(collisions.map((f) => [f.frame, f.severity])).toEqual(
      [31, 34, 40, 54, 56, 65, 68, 74, 85, 87].map((frame) => [frame, 'warning']),
    );
    expect(report.summary.warnings).toBe(10);
  });

  it('verify names the replies and ICMP errors that reached the wrong clone, each an error (all on tap0: the kernel routes them there)', () => {
    const { report } = verify(HOST);
    const wrong = report.findings.filter((f) => f.check === 'flow.wrong-clone');
    expect(wrong.map((f) => [f.frame, f.interface, f.severity])).toEqual(
      [32, 35, 37, 41, 47, 50, 59, 66, 69, 71, 75, 78, 81, 88].map((frame) => [frame, 0, 'error']),
    );
    expect(wrong[0]!.message).toBe(
      'udp 10.0.0.2:33333 > 10.0.0.1:53: reply on interface 0 to the request of frame 31 on interface 1: the answer went to another clone than the one that asked',
    );
    // Port unreachables the kernel sent out of tap0 for the 5300 queries tap1 and tap2 asked (IPv4 and IPv6).
    expect(wrong[1]!.message).toBe(
      'udp 10.0.0.2:33333 > 10.0.0.1:5300: ICMP error on interface 0 to the request of frame 34 on interface 1: the answer went to another clone than the one that asked',
    );
    expect(wrong[6]!.message).toBe(
      'udp [fd00::2]:33333 > [fd00::1]:5300: ICMPv6 error on interface 0 to the request of frame 56 on interface 1: the answer went to another clone than the one that asked',
    );
    // The port unreachables tap0's clone sent for answers it never asked for (frames 33, 39, 67, 73) go to the server: no delivery to a clone.
    expect(report.summary.errors).toBe(14);
  });

  it('the capture of the clones\' bug fails the gate in every format: exit 1, FAILED, JUnit failures', () => {
    const text = cli(['verify', HOST]);
    expect(text.code).toBe(1);
    expect(text.stdout.toString().trimEnd().split('\n').at(-1)).toBe('FAILED: 14 errors and 10 warnings');
    const { code, report } = verify(HOST);
    expect(code).toBe(1);
    expect(report.verdict).toEqual({ result: 'failed', exitCode: 1, strict: false, why: '14 errors and 10 warnings' });
    const junit = cli(['verify', HOST, '--report', 'junit']);
    expect(junit.code).toBe(1);
    const xml = junit.stdout.toString();
    expect(xml).toMatch(/<testsuites [^>]*failures="1"/);
    expect(xml).toMatch(/<testcase [^>]*name="flow">\s*<failure /);
    const html = cli(['verify', HOST, '--report', 'html']);
    expect(html.code).toBe(1);
    expect(html.stdout.toString()).toContain('data-verdict="failed" data-exit-code="1"');
    expect(html.stdout.toString()).not.toContain('data-verdict="ok"');
  });

  it('each colliding flow carries its lanes\' first times and its wrong-clone replies as data, the same facts as the messages', async () => {
    const { report } = verify(HOST);
    const time = new Map((await readPackets(HOST)).map((p) => [p.frame, Number(p.timestampNs / 1000n) / 1e6]));
    for (const c of report.collisions) expect(c.times).toEqual(c.frames.map((f) => time.get(f)));
    const fromMessages = report.findings
      .filter((f) => f.check === 'flow.wrong-clone')
      .map((f) => {
        const m = / on interface (\d+) to the request of frame (\d+) on interface (\d+):/.exec(f.message)!;
        return [Number(m[2]), Number(m[3]), f.frame, Number(m[1])];
      });
    const asData = report.collisions.flatMap((c) => c.wrongReplies!.map((w) => [w.request.frame, w.request.interface, w.reply.frame, w.reply.interface]));
    expect(asData.sort((a, b) => a[2]! - b[2]!)).toEqual(fromMessages);
    expect(report.collisions.map((c) => c.wrongReplyCount)).toEqual([4, 2, 6, 0, 2]);
    for (const c of report.collisions) {
      for (const w of c.wrongReplies!) {
        expect(w.request.time).toBe(time.get(w.request.frame));
        expect(w.reply.time).toBe(time.get(w.reply.frame));
      }
    }
  });

  it('after a per-tap rewrite there are no collisions and no errors', () => {
    const out = join(tempDir(), 'taps.pcapng');
    const r = cli([HOST, out, ...TAP_RULES, '--verify', '--report', 'json']);
    expect(r.code).toBe(0);
    const inline = JSON.parse(r.stdout.toString()) as Report;
    expect(inline.collisions).toEqual([]);
    const { code, report } = verify(out, ...TAP_RULES);
    expect(code).toBe(0);
    expect(report.collisions).toEqual([]);
    expect(report.summary).toMatchObject({ errors: 0, warnings: 0, collisions: 0 });
  });

  it('after a per-tap rewrite tshark finds every checksum good', async (ctx) => {
    needs(ctx, 'tshark');
    const out = join(tempDir(), 'taps.pcapng');
    expect(cli([HOST, out, ...TAP_RULES, '-q']).code).toBe(0);
    expect(badVerdicts(await tsharkChecksums(out))).toEqual([]);
  });
});
