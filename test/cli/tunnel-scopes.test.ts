/**
 * Tunnel scopes on the command line and in a rules file (issue 23): a rule
 * scoped to a tunnel never touches the outer headers (a capture without
 * tunnels comes out byte for byte, the rule is named as matching nothing,
 * verify finds no address left behind), an interface named with a tunnel is
 * checked as any interface scope, and a bad scope is exit 2 with its line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, cli, tempDir } from '../helpers/cli.js';
import * as B from '../helpers/wire-build.js';

/** One clone's guest view (interface eth0, 10.0.0.0/24 and fd00::/64, no tunnels). */
const GUEST = join(ROOT, 'fixtures/golden/ssnat/guest1.pcapng');
const V4 = '10.0.0.0/24=192.168.11.0/24';
const V6 = 'fd00::/64=fd00:11::/64';

function rulesFile(dir: string, lines: string[]): string {
  const path = join(dir, 'rules.txt');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('tunnel-scoped rules from a rules file', () => {
  it('leave a capture without tunnels byte for byte, and are each named as matching nothing', () => {
    const dir = tempDir();
    const rules = rulesFile(dir, ['# the clones behind their VNIs', `${V4}@vni:5001`, `${V6}@eth0+vni:5001,5002`, '10.0.0.0/24=192.168.12.0/24@#0+teid:*']);
    const out = join(dir, 'out.pcapng');
    const r = cli([GUEST, out, '--rules-file', rules]);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n').slice(0, 3)).toEqual([
      `ssnat-rewrite: warning: rule "${V4}@vni:5001" matched no address`,
      `ssnat-rewrite: warning: rule "${V6}@eth0+vni:5001,5002" matched no address`,
      'ssnat-rewrite: warning: rule "10.0.0.0/24=192.168.12.0/24@#0+teid:*" matched no address',
    ]);
    expect(Buffer.compare(readFileSync(out), readFileSync(GUEST))).toBe(0);
    // The same rules without their tunnel scopes rewrite the capture: the scope is what kept it.
    const plain = rulesFile(dir, [V4, `${V6}@eth0`]);
    const p = cli([GUEST, join(dir, 'plain.pcapng'), '--rules-file', plain, '-q']);
    expect([p.code, p.stderr]).toEqual([0, '']);
    expect(Buffer.compare(readFileSync(join(dir, 'plain.pcapng')), readFileSync(GUEST))).not.toBe(0);
  });

  it('verify: the outer addresses a tunnel-scoped rule does not cover are not "left behind"', () => {
    const scoped = cli(['verify', GUEST, '-r', `${V4}@vni:5001`, '--report', 'json']);
    expect(scoped.code).toBe(0);
    const findings = (JSON.parse(scoped.stdout.toString()) as { findings: Array<{ check: string }> }).findings;
    expect(findings.filter((f) => f.check === 'addr.untranslated')).toEqual([]);
    const plain = cli(['verify', GUEST, '-r', V4, '--report', 'json']);
    const left = (JSON.parse(plain.stdout.toString()) as { findings: Array<{ check: string }> }).findings;
    expect(left.filter((f) => f.check === 'addr.untranslated').length).toBeGreaterThan(0);
  });

  it('an interface the capture lacks, named with a tunnel, is refused as any interface scope', () => {
    const dir = tempDir();
    const rules = rulesFile(dir, [`${V4}@tap9+vni:5001`]);
    const out = join(dir, 'out.pcapng');
    const r = cli([GUEST, out, '--rules-file', rules]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ssnat-rewrite: ${rules}:1: rule "${V4}@tap9+vni:5001" names an interface the capture does not have (it has: eth0 (#0))\n`);
  });

  it('a bad tunnel scope is exit 2: the file, the line, the message and a caret under the bad part', () => {
    const dir = tempDir();
    const rules = rulesFile(dir, [V4, `${V6}@eth0+vni:16777216`]);
    const out = join(dir, 'out.pcapng');
    const r = cli([GUEST, out, '--rules-file', rules]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      [
        `ssnat-rewrite: ${rules}:2: rule "${V6}@eth0+vni:16777216": VNI 16777216 is out of range: a VNI is 24 bits, 0 to 16777215`,
        `  ${V6}@eth0+vni:16777216`,
        `  ${' '.repeat(`${V6}@eth0+vni:`.length)}^`,
        '',
      ].join('\n'),
    );
    const twice = cli([GUEST, out, '-r', `${V4}@vni:5001`, '-r', '10.0.0.0/16=172.16.0.0/16@vni:5002,5001']);
    expect(twice.code).toBe(2);
    expect(twice.stderr.split('\n')[0]).toBe(
      `ssnat-rewrite: rule "10.0.0.0/16=172.16.0.0/16@vni:5002,5001": guest prefix 10.0.0.0/16 overlaps 10.0.0.0/24 of rule "${V4}@vni:5001" on all interfaces inside VNI 5001`,
    );
  });
});

describe('clones behind VNIs, end to end', () => {
  const dns = B.hex('12340100000100000000000003777777076578616d706c6503636f6d0000010001');
  /** VXLAN `vni` over IPv4 UDP 4789 between two underlay hosts, carrying the clone's DNS query 10.0.0.2 > 10.0.0.1. */
  const frame = (vni: number): Uint8Array =>
    B.ether(0x0800, B.ipv4L4(B.ip4('172.16.0.1'), B.ip4('172.16.0.2'), 17, B.udp(49152, 4789, B.concat(B.hex('08000000'), B.be32(vni << 8), B.ether(0x0800, B.ipv4L4(B.ip4('10.0.0.2'), B.ip4('10.0.0.1'), 17, B.udp(33000, 53, dns)))))));
  /** The inner IPv4 source of each of the three frames of a pcap of `frame`s. */
  const innerSources = (path: string): string[] => {
    const bytes = readFileSync(path);
    // pcap: 24-byte header, 16-byte record headers; each frame has the same length here.
    const len = frame(0).length;
    return [0, 1, 2].map((i) => {
      const ip = 24 + i * (16 + len) + 16 + 14 + 20 + 8 + 8 + 14;
      return Array.from(bytes.subarray(ip + 12, ip + 16)).join('.');
    });
  };

  it('a rules file maps one guest network behind VNIs 5001 and 5002 onto two host networks, and back byte for byte', () => {
    const dir = tempDir();
    const input = join(dir, 'underlay.pcap');
    B.writePcap(input, 1, [frame(5001), frame(5002), frame(5003)]);
    const rules = rulesFile(dir, ['10.0.0.0/24=192.168.1.0/24@vni:5001', '10.0.0.0/24=192.168.2.0/24@vni:5002']);
    const out = join(dir, 'host.pcap');
    const r = cli([input, out, '--rules-file', rules, '-q']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(innerSources(out)).toEqual(['192.168.1.2', '192.168.2.2', '10.0.0.2']);
    // verify with the same rules: the input's guest addresses inside VNIs 5001 and 5002 (not 5003) are left behind; the output's are not.
    const findings = (path: string): { code: number | null; findings: string[] } => {
      const v = cli(['verify', path, '--rules-file', rules, '--report', 'json']);
      return { code: v.code, findings: (JSON.parse(v.stdout.toString()) as { findings: Array<{ frame: number; check: string; message: string }> }).findings.map((f) => `${f.frame} ${f.check}: ${f.message}`) };
    };
    expect(findings(input)).toEqual({
      code: 1,
      findings: [
        '1 addr.untranslated: IPv4 source 10.0.0.2 inside VXLAN VNI 5001 is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24@vni:5001 maps it to 192.168.1.2',
        '1 addr.untranslated: IPv4 destination 10.0.0.1 inside VXLAN VNI 5001 is a guest-side address: rule 10.0.0.0/24=192.168.1.0/24@vni:5001 maps it to 192.168.1.1',
        '2 addr.untranslated: IPv4 source 10.0.0.2 inside VXLAN VNI 5002 is a guest-side address: rule 10.0.0.0/24=192.168.2.0/24@vni:5002 maps it to 192.168.2.2',
        '2 addr.untranslated: IPv4 destination 10.0.0.1 inside VXLAN VNI 5002 is a guest-side address: rule 10.0.0.0/24=192.168.2.0/24@vni:5002 maps it to 192.168.2.1',
      ],
    });
    expect(findings(out)).toEqual({ code: 0, findings: [] });
    const back = join(dir, 'back.pcap');
    expect(cli([out, back, '--rules-file', rules, '-d', 'host-to-guest', '-q']).code).toBe(0);
    expect(Buffer.compare(readFileSync(back), readFileSync(input))).toBe(0);
  });
});

describe('--help', () => {
  it('describes the tunnel scopes, and rewrite/verify --help the --rule grammar', () => {
    const flat = cli(['--help']).stdout.toString().replace(/\s+/g, ' ');
    expect(flat).toContain(
      'Tunnel scopes: @vni:ID (VXLAN, VXLAN-GPE, Geneve VNI, NVGRE VSID; 0-16777215), @key:ID (GRE key) or @teid:ID (GTP-U TEID; both 0-4294967295), IDs decimal or 0x hex, a list (@teid:1,2,3) or * for any, also after an interface (@tap1+vni:5001): the rule applies only inside matching tunnels; without one a rule applies outside and inside every tunnel. An interface named like vni:5 or holding a + is @#N.',
    );
    for (const command of ['rewrite', 'verify']) {
      expect(cli([command, '--help']).stdout.toString().replace(/\s+/g, ' ')).toContain(
        '-r, --rule <rule> translation rule GUEST=HOST[@SCOPE] (repeatable); SCOPE: IFACE, a tunnel (vni|key|teid:ID) or IFACE+TUNNEL',
      );
    }
    expect(cli(['export', '--help']).stdout.toString().replace(/\s+/g, ' ')).toContain('and no tunnel scope (nft rewrites outer headers only: hook the device where the tunnel ends)');
  });
});
