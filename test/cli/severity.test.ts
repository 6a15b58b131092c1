/**
 * Choosing what fails (--fail-on, --ignore), as ESLint and ruff let people
 * set rule severities, on the real collision capture: 10 flow.collision
 * warnings and 14 flow.wrong-clone errors.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MultiReport, Report } from '../../src/report/model.js';
import { inconsistency } from '../../src/report/consistency.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';

const HOST = join(ROOT, 'fixtures/golden/collision/host.pcapng');
const GUEST1 = join(ROOT, 'fixtures/golden/ssnat/guest1.pcapng');

function json(args: string[]): { code: number | null; report: Report } {
  const r = cli(['verify', ...args, '--report', 'json']);
  return { code: r.code, report: JSON.parse(r.stdout.toString()) as Report };
}

describe('--fail-on and --ignore', () => {
  it('--ignore turns a check off: its findings are counted in `ignored`, never listed, never failing', () => {
    const { code, report } = json([HOST, '--ignore', 'flow.wrong-clone']);
    expect(code).toBe(0);
    expect(report.severity).toEqual({ 'flow.wrong-clone': 'off' });
    expect(report.ignored).toEqual({ 'flow.wrong-clone': 14 });
    expect(report.findings.some((f) => f.check === 'flow.wrong-clone')).toBe(false);
    expect(report.summary).toMatchObject({ errors: 0, warnings: 10, collisions: 5 });
    expect(report.verdict).toMatchObject({ result: 'ok', exitCode: 0 });
    expect(inconsistency(report)).toBeNull();
    const text = cli(['verify', HOST, '--ignore', 'flow.wrong-clone']);
    expect(text.code).toBe(0);
    expect(text.stdout.toString()).toContain('\nignored flow.wrong-clone (14): turned off with --ignore, not listed\n');
    expect(text.stdout.toString()).toMatch(/\nOK: 91 packets checked, no errors, 10 warnings\n$/);
    const html = cli(['verify', HOST, '--ignore', 'flow.wrong-clone', '--report', 'html']);
    expect(html.code).toBe(0);
    expect(html.stdout.toString()).toContain('<p class="note" data-ignored="">Turned off with <code>--ignore</code>, counted only: <code>flow.wrong-clone</code> 14.</p>');
  });

  it('--fail-on makes a warning check an error; a family glob names every check of the family', () => {
    const { code, report } = json([HOST, '--fail-on', 'flow.*']);
    expect(code).toBe(1);
    // flow.wrong-clone is an error already: only flow.collision changes.
    expect(report.severity).toEqual({ 'flow.collision': 'error' });
    expect(report.summary).toMatchObject({ errors: 24, warnings: 0 });
    expect(report.findings.filter((f) => f.check === 'flow.collision').every((f) => f.severity === 'error')).toBe(true);
    expect(inconsistency(report)).toBeNull();
    const text = cli(['verify', HOST, '--fail-on', 'flow.collision']).stdout.toString();
    expect(text).toContain('\nerror flow.collision (--fail-on) (10)\n');
    expect(text).toMatch(/\nFAILED: 24 errors\n$/);
  });

  it('a collision fails alone with --fail-on flow.collision once no reply reached the wrong clone', () => {
    expect(cli(['verify', HOST, '--ignore', 'flow.wrong-clone', '--fail-on', 'flow.collision', '-q']).code).toBe(1);
  });

  it('lists and repeats combine; the report names the checks in the table\'s order whatever the order given', () => {
    const { report } = json([HOST, '--ignore', 'flow.wrong-clone,arp.*', '--ignore', 'packet.undecodable', '--fail-on', 'verify.limit']);
    expect(report.severity).toEqual({
      'arp.duplicate-ip': 'off',
      'arp.reply-mismatch': 'off',
      'arp.ip-mac-mismatch': 'off',
      'arp.malformed': 'off',
      'flow.wrong-clone': 'off',
      'packet.undecodable': 'off',
      'verify.limit': 'error',
    });
  });

  it('--strict stays "every warning fails"; a check turned off fails nothing even then', () => {
    expect(cli(['verify', HOST, '--ignore', 'flow.wrong-clone', '--strict', '-q']).code).toBe(1);
    expect(cli(['verify', HOST, '--ignore', 'flow.*', '--strict', '-q']).code).toBe(0);
  });

  it('an unknown name is exit 2 with one line and the closest name', () => {
    const typo = cli(['verify', HOST, '--fail-on', 'flow.colision']);
    expect(typo.code).toBe(2);
    expect(typo.stdout.toString()).toBe('');
    expect(typo.stderr.toString()).toBe('ssnat-rewrite: --fail-on: unknown check "flow.colision"; did you mean flow.collision? (ssnat-rewrite verify --help lists the checks)\n');
    const family = cli(['verify', HOST, '--ignore', 'flw.*']);
    expect(family.code).toBe(2);
    expect(family.stderr.toString()).toBe(
      'ssnat-rewrite: --ignore: no check family "flw"; did you mean flow.*? (families: ipv4, tcp, udp, icmp, icmpv6, dccp, gre, arp, flow, addr, rule, packet, capture, verify)\n',
    );
    const far = cli(['verify', HOST, '--ignore', 'nonsense']);
    expect(far.stderr.toString()).toBe('ssnat-rewrite: --ignore: unknown check "nonsense" (ssnat-rewrite verify --help lists the checks)\n');
    const both = cli(['verify', HOST, '--ignore', 'flow.*', '--fail-on', 'flow.collision']);
    expect(both.code).toBe(2);
    expect(both.stderr.toString()).toBe('ssnat-rewrite: check flow.collision is named by both --fail-on and --ignore: choose one\n');
    const empty = cli(['verify', HOST, '--ignore', 'arp.*,']);
    expect(empty.code).toBe(2);
    expect(empty.stderr.toString()).toBe('ssnat-rewrite: --ignore "arp.*,": an empty check name (give names separated by commas, e.g. --ignore flow.collision,arp.*)\n');
  });

  it('rewrite --verify and runs over many captures take them too, and merge-reports keeps each file\'s choice', () => {
    const dir = tempDir();
    const rw = cli([HOST, join(dir, 'out.pcapng'), '-r', '10.9.0.0/24=192.168.9.0/24', '--verify', '--ignore', 'flow.wrong-clone', '--report', 'json']);
    expect(rw.code).toBe(0);
    expect((JSON.parse(rw.stdout.toString()) as Report).ignored).toEqual({ 'flow.wrong-clone': 14 });
    const shard = join(dir, 'shard.json');
    const many = cli(['verify', HOST, GUEST1, '--jobs', '2', '--ignore', 'flow.wrong-clone', '--report', 'json', '--report-file', shard]);
    expect(many.code).toBe(0);
    const merged = cli(['merge-reports', shard, '--report', 'json']);
    expect(merged.code).toBe(0);
    const m = JSON.parse(merged.stdout.toString()) as MultiReport;
    expect(m.files.map((f) => [f.input.path, f.ignored])).toEqual([
      [HOST, { 'flow.wrong-clone': 14 }],
      [GUEST1, undefined],
    ]);
  });

  it('merge-reports refuses an entry whose severities do not hold together', () => {
    const { report } = json([HOST, '--ignore', 'flow.wrong-clone']);
    const edited = (edit: (r: Report) => void): string | null => {
      const r = structuredClone(report);
      edit(r);
      return inconsistency(r);
    };
    // The choice removed by hand: its ignored count no longer belongs to a check turned off.
    expect(edited((r) => delete r.severity)).toBe('its count of findings ignored for "flow.wrong-clone" is not one this version makes');
    expect(edited((r) => (r.severity = { 'flow.wrong-clone': 'error' }))).toBe('its severity for "flow.wrong-clone" is not one this version sets');
    expect(edited((r) => (r.severity = { ...r.severity, 'flow.collision': 'error' }))).toBe(
      'finding 1 is not one this version makes (its check "flow.collision" with severity "warning")',
    );
    const file = join(tempDir(), 'edited.json');
    writeFileSync(file, JSON.stringify({ ...report, severity: { 'flow.wrong-clone': 'warning' } }));
    const r = cli(['merge-reports', file]);
    expect(r.code).toBe(3);
    expect(r.stderr.toString()).toContain('its severity for "flow.wrong-clone" is not one this version sets');
  });
});
