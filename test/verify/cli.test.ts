/**
 * verify and rewrite --verify through the real launcher: exit codes, the JSON
 * report against a schema written here (keys, types, key order, check names),
 * JUnit, --annotate read back by tshark, and the clones' collision before
 * and after per-interface rewriting.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECK_SEVERITY } from '../../src/report/model.js';
import { cli, tempDir } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { ether, hex, ip4, ipv4L4, udp } from '../helpers/wire-build.js';
import { pcapBytes, pcapngBytes } from './helpers.js';

const dns = hex('12340100000100000000000003777777076578616d706c6504746573740000010001');
const query = (): Uint8Array => ether(0x0800, ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(2345, 53, dns)));
const badUdp = (): Uint8Array => {
  const f = query();
  f[40] = f[40]! ^ 0xff;
  return f;
};

function write(dir: string, name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

// ---- a schema for the JSON report, written from docs/DESIGN.md part 1 ----
type Schema = { type: 'object'; keys: Array<[string, Schema, boolean?]> } | { type: 'array'; items: Schema } | { type: 'string' | 'number' | 'integer' | 'boolean'; enum?: readonly unknown[] };
const int: Schema = { type: 'integer' };
const str: Schema = { type: 'string' };
const num: Schema = { type: 'number' };
const FLOW_PACKET: Schema = { type: 'object', keys: [['frame', { type: 'integer' }], ['interface', { type: 'integer' }], ['vlan', { type: 'string' }, true], ['time', { type: 'number' }]] };
const REPORT: Schema = {
  type: 'object',
  keys: [
    ['tool', { type: 'string', enum: ['ssnat-rewrite'] }],
    ['version', str],
    ['command', { type: 'string', enum: ['rewrite', 'verify'] }],
    ['input', { type: 'object', keys: [['path', str], ['format', { type: 'string', enum: ['pcap', 'pcapng'] }], ['interfaces', { type: 'array', items: { type: 'object', keys: [['id', int], ['name', str, true], ['linkType', int], ['section', int, true]] } }]] }],
    ['output', { type: 'object', keys: [['path', str], ['format', { type: 'string', enum: ['pcap', 'pcapng'] }]] }, true],
    ['direction', { type: 'string', enum: ['guest-to-host', 'host-to-guest'] }],
    ['rules', { type: 'array', items: str }],
    ['ruleHits', { type: 'array', items: { type: 'object', keys: [['rule', str], ['addresses', int]] } }, true],
    ['severity', { type: 'object', keys: Object.keys(CHECK_SEVERITY).map((c): [string, Schema, boolean] => [c, { type: 'string', enum: ['error', 'off'] }, true]) }, true],
    [
      'summary',
      {
        type: 'object',
        keys: [
          ['packets', int],
          ['rewritten', int],
          ['undecodable', int],
          ['checksums', { type: 'object', keys: [['verified', int], ['bad', int], ['unverifiable', int]] }],
          ['unchecked', int, true],
          ['errors', int],
          ['warnings', int],
          ['collisions', int],
          ['inherited', { type: 'object', keys: [['errors', int], ['warnings', int]] }, true],
        ],
      },
    ],
    [
      'verdict',
      {
        type: 'object',
        keys: [
          ['result', { type: 'string', enum: ['ok', 'failed', 'unchecked', 'unreadable'] }],
          ['exitCode', { type: 'integer', enum: [0, 1, 3, 4] }],
          ['strict', { type: 'boolean' }],
          ['why', str],
        ],
      },
    ],
    [
      'findings',
      {
        type: 'array',
        items: {
          type: 'object',
          keys: [
            ['frame', int],
            ['interface', int],
            ['check', { type: 'string', enum: Object.keys(CHECK_SEVERITY) }],
            ['severity', { type: 'string', enum: ['error', 'warning'] }],
            ['message', str],
            ['expected', str, true],
            ['actual', str, true],
            ['offset', int, true],
            ['time', num, true],
            ['vlan', str, true],
            ['inherited', { type: 'boolean', enum: [true] }, true],
          ],
        },
      },
    ],
    ['omitted', { type: 'object', keys: Object.keys(CHECK_SEVERITY).map((c): [string, Schema, boolean] => [c, { type: 'integer' }, true]) }, true],
    ['ignored', { type: 'object', keys: Object.keys(CHECK_SEVERITY).map((c): [string, Schema, boolean] => [c, { type: 'integer' }, true]) }, true],
    [
      'collisions',
      {
        type: 'array',
        items: {
          type: 'object',
          keys: [
            ['protocol', str],
            ['flow', str],
            ['interfaces', { type: 'array', items: int }],
            ['frames', { type: 'array', items: int }],
            ['times', { type: 'array', items: num }],
            ['vlans', { type: 'array', items: str }, true],
            ['wrongReplies', { type: 'array', items: { type: 'object', keys: [['request', FLOW_PACKET], ['reply', FLOW_PACKET]] } }],
            ['wrongReplyCount', int],
          ],
        },
      },
    ],
    [
      'timeline',
      {
        type: 'object',
        keys: [
          ['start', num],
          ['bucketSeconds', num],
          ['lanes', { type: 'array', items: { type: 'object', keys: [['interface', int], ['name', str, true], ['vlan', str, true], ['packets', { type: 'array', items: int }]] } }],
          ['lanesOmitted', int],
        ],
      },
      true,
    ],
  ],
};

/** Validates types, required keys, no extra keys, and the key order of the schema. */
function validate(v: unknown, s: Schema, path = '$'): string[] {
  const errs: string[] = [];
  if (s.type === 'object') {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return [`${path}: not an object`];
    const o = v as Record<string, unknown>;
    const names = s.keys.map((k) => k[0]);
    for (const k of Object.keys(o)) if (!names.includes(k)) errs.push(`${path}.${k}: unexpected key`);
    const present = Object.keys(o).filter((k) => names.includes(k));
    const order = names.filter((k) => k in o);
    if (JSON.stringify(present) !== JSON.stringify(order)) errs.push(`${path}: key order ${present.join(',')} != ${order.join(',')}`);
    for (const [k, ks, optional] of s.keys) {
      if (!(k in o)) {
        if (!optional) errs.push(`${path}.${k}: missing`);
      } else errs.push(...validate(o[k], ks, `${path}.${k}`));
    }
  } else if (s.type === 'array') {
    if (!Array.isArray(v)) return [`${path}: not an array`];
    v.forEach((x, i) => errs.push(...validate(x, s.items, `${path}[${i}]`)));
  } else {
    const ok = s.type === 'string' ? typeof v === 'string' : s.type === 'integer' ? Number.isInteger(v) : s.type === 'boolean' ? typeof v === 'boolean' : typeof v === 'number';
    if (!ok) errs.push(`${path}: not ${s.type}`);
    else if (s.enum !== undefined && !s.enum.includes(v)) errs.push(`${path}: ${String(v)} not in ${s.enum.join('|')}`);
  }
  return errs;
}

/** A small well-formedness check for the JUnit XML (tags balanced, attributes quoted, entities valid). */
function wellFormed(xml: string): string[] {
  const errs: string[] = [];
  if (!xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')) errs.push('no XML declaration');
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^>]*\?>/, '');
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!amp;|lt;|gt;|quot;|apos;)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body)) !== null) {
    if (m[0] === '<' || m[0].startsWith('&')) {
      errs.push(`stray ${m[0]} at ${m.index}`);
      continue;
    }
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) {
      if (stack.pop() !== name) errs.push(`unbalanced </${name}>`);
    } else stack.push(name!);
  }
  if (stack.length > 0) errs.push(`unclosed ${stack.join(',')}`);
  return errs;
}

describe('verify: exit codes', () => {
  const dir = tempDir();
  const clean = write(dir, 'clean.pcap', pcapBytes(1, [{ data: query() }]));
  const bad = write(dir, 'bad.pcap', pcapBytes(1, [{ data: query() }, { data: badUdp() }]));
  const warn = write(dir, 'warn.pcapng', pcapngBytes(2, [{ data: query(), iface: 0 }, { data: query(), iface: 1 }]));
  it('0 clean, 1 errors, 0 warnings only, 1 warnings with --strict', () => {
    expect(cli(['verify', clean]).code).toBe(0);
    const r = cli(['verify', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toContain('frame 2 if 0: UDP checksum');
    expect(cli(['verify', warn, '--report', 'json']).code).toBe(0);
    expect(cli(['verify', warn, '--strict', '--report', 'json']).code).toBe(1);
  });
  it('2 for usage errors, 3 for unreadable input', () => {
    expect(cli(['verify', clean, '--collision-window', 'soon']).code).toBe(2);
    expect(cli(['verify', write(dir, 'junk.pcap', hex('00112233445566778899'))]).code).toBe(3);
    expect(cli(['verify', join(dir, 'missing.pcap')]).code).toBe(3);
  });
  it('packet.undecodable comes from the decoder in verify too', () => {
    const f = write(dir, 'raw.pcap', pcapBytes(101, [{ data: hex('5000001400000000400100000a0000020a000001') }]));
    const j = JSON.parse(cli(['verify', f, '--report', 'json']).stdout.toString());
    expect(j.summary.undecodable).toBe(1);
    expect(j.findings.map((x: { frame: number; check: string }) => [x.frame, x.check])).toEqual([[1, 'packet.undecodable']]);
  });
});

describe('reports', () => {
  const dir = tempDir();
  const bad = write(dir, 'bad.pcap', pcapBytes(1, [{ data: query() }, { data: badUdp() }]));
  it('--report json matches the docs/DESIGN.md schema, key order included', () => {
    const r = cli(['verify', bad, '--report', 'json', '--rule', '10.0.0.0/24=192.168.1.0/24']);
    const j = JSON.parse(r.stdout.toString());
    expect(validate(j, REPORT)).toEqual([]);
    expect(j.command).toBe('verify');
    expect(j.summary.checksums).toEqual({ verified: 3, bad: 1, unverifiable: 0 });
    expect(j.findings.filter((f: { check: string }) => f.check === 'udp.checksum')).toHaveLength(1);
    expect(j.findings.filter((f: { check: string }) => f.check === 'addr.untranslated').length).toBe(4);
  });
  it('rewrite --verify reports on the output, in the same schema', () => {
    const out = join(dir, 'out.pcap');
    const r = cli([bad, out, '-r', '10.0.0.0/24=192.168.1.0/24', '--verify', '--report', 'json']);
    // The bad UDP checksum stays bad after translation: damage the input had, which fails the rewrite only with --strict.
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout.toString());
    expect(validate(j, REPORT)).toEqual([]);
    expect(j.summary.rewritten).toBe(2);
    expect(j.summary.inherited).toEqual({ errors: 1, warnings: 0 });
    expect(j.findings.map((f: { frame: number; check: string; inherited?: boolean }) => [f.frame, f.check, f.inherited])).toEqual([[2, 'udp.checksum', true]]);
    const strict = cli([bad, join(dir, 'strict.pcap'), '-r', '10.0.0.0/24=192.168.1.0/24', '--verify', '--strict', '--report', 'json']);
    expect(strict.code).toBe(1);
    expect(validate(JSON.parse(strict.stdout.toString()), REPORT)).toEqual([]);
  });
  it('--report junit: well-formed, one testcase per check family, the failure carries the finding', () => {
    const file = join(dir, 'v.xml');
    expect(cli(['verify', bad, '--report', 'junit', '--report-file', file]).code).toBe(1);
    const xml = readFileSync(file, 'utf8');
    expect(wellFormed(xml)).toEqual([]);
    const families = [...new Set(Object.keys(CHECK_SEVERITY).map((c) => c.slice(0, c.indexOf('.'))))];
    expect([...xml.matchAll(/<testcase [^>]*name="([^"]+)"/g)].map((m) => m[1])).toEqual(families);
    expect(xml).toMatch(/<testcase [^>]*name="udp">\s*<failure message="1 error\(s\) in udp checks" type="udp">error: frame 2 \(interface 0\): udp.checksum: UDP checksum/);
  });
});

describe('verify --annotate', () => {
  it('writes a pcapng copy whose findings tshark shows as frame.comment', (ctx) => {
    needs(ctx, 'tshark');
    const dir = tempDir();
    const bad = write(dir, 'bad.pcap', pcapBytes(1, [{ data: query() }, { data: badUdp() }, { data: query() }]));
    const out = join(dir, 'annotated.pcapng');
    expect(cli(['verify', bad, '--annotate', out, '--report', 'json']).code).toBe(1);
    expect(readFileSync(out).readUInt32LE(0)).toBe(0x0a0d0d0a);
    const lines = execFileSync('tshark', ['-r', out, '-n', '-Y', 'frame.comment contains "ssnat"', '-T', 'fields', '-e', 'frame.number', '-e', 'frame.comment'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim()
      .split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^2\tssnat: udp\.checksum: UDP checksum 0x[0-9a-f]{4}, expected 0x[0-9a-f]{4}$/);
    // the copy keeps every packet byte for byte
    const count = execFileSync('tshark', ['-r', out, '-n', '-T', 'fields', '-e', 'frame.number'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().split('\n');
    expect(count).toHaveLength(3);
    expect(cli(['verify', bad, '--annotate', out]).code).toBe(2); // exists: needs --force
    expect(cli(['verify', bad, '--annotate', out, '--force']).code).toBe(1);
  });
});

describe('the clones collision', () => {
  it('the same UDP query on 3 interfaces is one collision; after per-interface rewriting there is none', () => {
    const dir = tempDir();
    const taps = write(dir, 'taps.pcapng', pcapngBytes(3, [{ data: query(), iface: 0 }, { data: query(), iface: 1 }, { data: query(), iface: 2 }, { data: query(), iface: 1 }]));
    const before = JSON.parse(cli(['verify', taps, '--report', 'json']).stdout.toString());
    expect(before.collisions).toEqual([
      { protocol: 'udp', flow: '10.0.0.2:2345 > 10.0.0.1:53', interfaces: [0, 1, 2], frames: [1, 2, 3], times: [1700000000, 1700000001, 1700000002], wrongReplies: [], wrongReplyCount: 0 },
    ]);
    expect(before.summary.collisions).toBe(1);
    expect(before.summary.warnings).toBe(2);
    const out = join(dir, 'host.pcapng');
    const rules = ['-r', '10.0.0.0/24=192.168.10.0/24@tap0', '-r', '10.0.0.0/24=192.168.11.0/24@tap1', '-r', '10.0.0.0/24=192.168.12.0/24@tap2'];
    const rw = cli([taps, out, ...rules, '--verify', '--report', 'json']);
    expect(rw.code).toBe(0);
    const during = JSON.parse(rw.stdout.toString());
    expect(during.collisions).toEqual([]);
    expect(during.findings).toEqual([]);
    const after = JSON.parse(cli(['verify', out, '--report', 'json', ...rules]).stdout.toString());
    expect(after.collisions).toEqual([]);
    expect(after.findings).toEqual([]); // no collision and no guest address left
  });
});
