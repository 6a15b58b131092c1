/**
 * rewrite --verify tells inherited damage from new: a finding of the output
 * at the same frame and check as one of the input is "also in the input" and
 * does not fail the rewrite (unless --strict); anything the rewrite
 * introduced or left behind fails it.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { inconsistency } from '../../src/report/consistency.js';
import { cli, tempDir } from '../helpers/cli.js';
import { be32, concat, ether, hex, ip4, ipv4L4, udp, writePcap } from '../helpers/wire-build.js';

const dnsQuery = hex('12340100000100000000000003777777076578616d706c6504746573740000010001');

const RULE = ['-r', '10.0.0.0/24=192.168.1.0/24'];
const A = ip4('10.0.0.2');
const S = ip4('8.8.8.8');

/** A query whose UDP checksum is off by one: damage the capture came with. */
function badChecksum(): Uint8Array {
  const f = ether(0x0800, ipv4L4(A, S, 17, udp(2345, 53, dnsQuery)));
  const ck = 14 + 20 + 6;
  f[ck + 1] = (f[ck + 1]! + 1) & 0xff;
  return f;
}
const good = (): Uint8Array => ether(0x0800, ipv4L4(A, S, 17, udp(2345, 53, dnsQuery)));
/** A guest address in a loose source route option, the route done (pointer past it): ssnat-rewrite does not translate it, so the output still holds it. */
const lsrr = (): Uint8Array => ether(0x0800, ipv4L4(A, S, 17, udp(2345, 53, dnsQuery), { options: concat(Uint8Array.of(131, 7, 8), be32(ip4('10.0.0.9')), Uint8Array.of(0)) }));

function rewrite(frames: Uint8Array[], ...args: string[]): { code: number | null; report: Report; stderr: string } {
  const dir = tempDir();
  const input = join(dir, 'in.pcap');
  writePcap(input, 1, frames);
  const r = cli([input, join(dir, 'out.pcap'), ...RULE, '--verify', '--report', 'json', ...args]);
  return { code: r.code, report: JSON.parse(r.stdout.toString()) as Report, stderr: r.stderr.toString() };
}

describe('rewrite --verify: inherited damage is told from new', () => {
  it('a bad checksum the input already had is marked "also in the input" and does not fail the rewrite', () => {
    const { code, report } = rewrite([good(), badChecksum(), good()]);
    expect(code).toBe(0);
    expect(report.findings.map((f) => [f.frame, f.check, f.severity, f.inherited])).toEqual([[2, 'udp.checksum', 'error', true]]);
    expect(report.summary).toMatchObject({ errors: 1, warnings: 0, inherited: { errors: 1, warnings: 0 } });
    expect(report.verdict).toEqual({
      result: 'ok',
      exitCode: 0,
      strict: false,
      why: '3 packets checked, no new errors: the 1 error in the output is also in the input (--strict fails on them)',
    });
    expect(inconsistency(report)).toBeNull();
  });

  it('--strict fails on inherited findings too', () => {
    const { code, report } = rewrite([good(), badChecksum()], '--strict');
    expect(code).toBe(1);
    expect(report.verdict!.why).toBe('1 error (1 also in the input), which fail the run with --strict');
  });

  it('what the rewrite introduced or left behind fails it, beside what it inherited', () => {
    const { code, report } = rewrite([badChecksum(), lsrr()]);
    expect(code).toBe(1);
    expect(report.findings.map((f) => [f.frame, f.check, f.inherited ?? false])).toEqual([
      [1, 'udp.checksum', true],
      [2, 'addr.untranslated', false],
    ]);
    expect(report.verdict!.why).toBe('2 errors (1 also in the input)');
    expect(inconsistency(report)).toBeNull();
  });

  it('text, JUnit and HTML say it too; JUnit fails no family for inherited errors alone', () => {
    const dir = tempDir();
    const input = join(dir, 'in.pcap');
    writePcap(input, 1, [good(), badChecksum()]);
    const text = cli([input, join(dir, 'a.pcap'), ...RULE, '--verify', '--report', 'text']);
    expect(text.code).toBe(0);
    expect(text.stdout.toString()).toContain('\n  also in the input        1 error(s), 0 warning(s)\n');
    expect(text.stdout.toString()).toMatch(/\n {2}frame 2 if 0: UDP checksum 0x[0-9a-f]{4}, expected 0x[0-9a-f]{4} \(also in the input\)\n/);
    const junit = cli([input, join(dir, 'b.pcap'), ...RULE, '--verify', '--report', 'junit']);
    expect(junit.code).toBe(0);
    expect(junit.stdout.toString()).toMatch(/<testsuites [^>]*failures="0"/);
    expect(junit.stdout.toString()).toMatch(/<system-out>error: frame 2 \(interface 0\): udp\.checksum: UDP checksum .* \(also in the input\)<\/system-out>/);
    const html = cli([input, join(dir, 'c.pcap'), ...RULE, '--verify', '--report', 'html']);
    expect(html.code).toBe(0);
    expect(html.stdout.toString()).toContain('<span class="inherited">(also in the input)</span>');
  });

  it('a verify of the same capture calls the damage an error as before (only a rewrite has an input to compare with)', () => {
    const dir = tempDir();
    const input = join(dir, 'in.pcap');
    writePcap(input, 1, [badChecksum()]);
    const r = cli(['verify', input, '--report', 'json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout.toString()) as Report;
    expect(report.summary.inherited).toBeUndefined();
    expect(report.findings[0]!.inherited).toBeUndefined();
  });
});
