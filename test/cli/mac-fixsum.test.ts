/**
 * `--mac OLD=NEW[@IFACE]` and `--fix-checksums` from the command line, on
 * real captures (fixtures/golden: clones of one VM, all with QEMU's default
 * MAC 52:54:00:12:34:56; offload-guest0 captured on the sending guest, its
 * TCP/UDP checksums left to the NIC): exit codes, messages, bytes.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { rewriteFile } from '../../src/index.js';

const GUEST1 = join(ROOT, 'fixtures/golden/ssnat/guest1.pcapng');
const OFFLOAD = join(ROOT, 'fixtures/golden/ssnat/offload-guest0.pcapng');
const MAC = '52:54:00:12:34:56=52:54:00:00:00:11';

describe('--mac', () => {
  it('refuses bad syntax with exit 2, one line quoting the argument and a caret under the bad part, and writes nothing', () => {
    const dir = tempDir();
    const out = join(dir, 'out.pcapng');
    const r = cli([GUEST1, out, '--mac', '52:54:00:12:34:56=52:54:00:00:00:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'ssnat-rewrite: --mac "52:54:00:12:34:56=52:54:00:00:00:1": "52:54:00:00:00:1" is not a MAC address (six hex pairs, e.g. 52:54:00:12:34:56)\n' +
        '  52:54:00:12:34:56=52:54:00:00:00:1\n' +
        '                    ^\n',
    );
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a scope naming an interface the capture does not have (exit 2)', () => {
    const r = cli([GUEST1, join(tempDir(), 'o.pcapng'), '--mac', `${MAC}@tap9`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`ssnat-rewrite: --mac "${MAC}@tap9" names an interface the capture does not have (it has: eth0 (#0))\n`);
  });

  it('rewrites every place of the clone MAC without a --rule, and the reverse run gives the input back byte for byte', () => {
    const dir = tempDir();
    const host = join(dir, 'host.pcapng');
    const back = join(dir, 'back.pcapng');
    const r = cli([GUEST1, host, '--mac', `${MAC}@eth0`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^ssnat-rewrite: 28 packets, 28 rewritten \(eth\.src 14, eth\.dst 14, arp\.sender-mac 1, arp\.target-mac 1, ndp\.lladdr 1\); /);
    const hostBytes = readFileSync(host);
    expect(hostBytes.includes(Buffer.from('525400123456', 'hex'))).toBe(false);
    expect(hostBytes.equals(readFileSync(GUEST1))).toBe(false);
    const b = cli([host, back, '-d', 'host-to-guest', '--mac', `${MAC}@#0`]);
    expect(b.code).toBe(0);
    expect(readFileSync(back).equals(readFileSync(GUEST1))).toBe(true);
  });

  it('goes with rules: the output is the rules-only output with the MACs changed, and verify finds nothing new', () => {
    const dir = tempDir();
    const both = join(dir, 'both.pcapng');
    const rulesOnly = join(dir, 'rules.pcapng');
    const rule = ['-r', '10.0.0.0/24=192.168.11.0/24', '-r', 'fd00::/64=fd00:11::/64'];
    expect(cli([GUEST1, rulesOnly, ...rule]).code).toBe(0);
    expect(cli([GUEST1, both, ...rule, '--mac', MAC, '--verify']).code).toBe(0);
    // Mapped back, the MACs are the rules-only output's again.
    const back = join(dir, 'back.pcapng');
    expect(cli([both, back, '-d', 'host-to-guest', '--mac', MAC]).code).toBe(0);
    expect(readFileSync(back).equals(readFileSync(rulesOnly))).toBe(true);
  });

  it('says so when a mapping matched no address', () => {
    const r = cli([GUEST1, join(tempDir(), 'o.pcapng'), '--mac', '52:54:00:aa:bb:cc=52:54:00:00:00:11']);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n')[0]).toBe('ssnat-rewrite: note: --mac "52:54:00:aa:bb:cc=52:54:00:00:00:11" matched no address');
  });

  it('is listed in --help', () => {
    const r = cli(['rewrite', '--help']);
    expect(r.stdout.toString()).toContain('--mac <mapping>');
  });
});

describe('--fix-checksums', () => {
  it('recomputes the offloaded checksums without a --rule and counts them, per protocol, in JSON, text and the summary line', () => {
    const dir = tempDir();
    const out = join(dir, 'fixed.pcapng');
    const r = cli([OFFLOAD, out, '--fix-checksums', '--report', 'json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.toString());
    expect(report.summary.checksumsFixed).toEqual({ fixed: 22, notFixable: 2, byProtocol: { ipv4: 0, tcp: 10, udp: 10, udplite: 0, dccp: 0, icmp: 1, icmpv6: 1 } });
    expect(r.stderr).toMatch(/^ssnat-rewrite: 28 packets, 0 rewritten, checksums fixed 22 \(tcp 10, udp 10, icmp 1, icmpv6 1\), 2 not fixable; /);
    const html = cli([OFFLOAD, join(dir, 'fixed3.pcapng'), '--fix-checksums', '--report', 'html']).stdout.toString();
    expect(html).toContain('<li><b>22</b><span>checksums fixed (--fix-checksums)</span></li><li><b>2</b><span>checksums not fixable</span></li>');
    const text = cli([OFFLOAD, join(dir, 'fixed2.pcapng'), '--fix-checksums', '--report', 'text']);
    expect(text.stdout.toString()).toContain('  checksums fixed          22 (tcp 10, udp 10, icmp 1, icmpv6 1), 2 not fixable\n');
    // The input's checksum findings are gone from the output.
    const before = JSON.parse(cli(['verify', OFFLOAD, '--report', 'json']).stdout.toString());
    expect(before.summary.checksums.bad).toBeGreaterThan(0);
    const after = JSON.parse(cli(['verify', out, '--report', 'json']).stdout.toString());
    expect(after.summary.checksums.bad).toBe(0);
    expect(after.findings.filter((f: { check: string }) => f.check.includes('checksum'))).toEqual([]);
  });

  it('is off by default: a rewrite keeps the offload seeds and the report has no checksumsFixed', () => {
    const r = cli([OFFLOAD, join(tempDir(), 'o.pcapng'), '-r', '10.0.0.0/24=192.168.10.0/24', '--report', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.toString()).summary.checksumsFixed).toBeUndefined();
  });

  it('says in --help that it erases evidence', () => {
    const help = cli(['rewrite', '--help']).stdout.toString().replace(/\s+/g, ' ');
    expect(help).toContain('--fix-checksums recompute every IPv4 header and TCP/UDP/UDP-Lite/DCCP/ICMP/ICMPv6 checksum of the output');
    expect(help).toContain('off by default because it erases the evidence of bad checksums');
  });

  it('adds up in --out-dir and merge-reports, and a shard whose count was edited is refused', () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const r = cli(['--out-dir', out, OFFLOAD, GUEST1, '--fix-checksums', '--mac', MAC, '--jobs', '2', '--report', 'json', '--report-file', join(dir, 'all.json')]);
    expect(r.code).toBe(0);
    const all = JSON.parse(readFileSync(join(dir, 'all.json'), 'utf8'));
    expect(all.summary.checksumsFixed.fixed).toBe(all.files.reduce((n: number, f: { summary: { checksumsFixed: { fixed: number } } }) => n + f.summary.checksumsFixed.fixed, 0));
    expect(all.summary.checksumsFixed.byProtocol.tcp).toBe(10);
    const shard = JSON.parse(cli([OFFLOAD, join(dir, 'one.pcapng'), '--fix-checksums', '--report', 'json']).stdout.toString());
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(shard));
    const merged = cli(['merge-reports', good, '--report', 'json']);
    expect(merged.code).toBe(0);
    expect(JSON.parse(merged.stdout.toString()).summary.checksumsFixed).toEqual(shard.summary.checksumsFixed);
    shard.summary.checksumsFixed.fixed = 0;
    const edited = join(dir, 'edited.json');
    writeFileSync(edited, JSON.stringify(shard));
    const m2 = cli(['merge-reports', edited]);
    expect(m2.code).toBe(3);
    expect(m2.stderr).toContain('its summary says 0 checksum(s) fixed, and its count per protocol adds up to another number');
  });
});

describe('the library', () => {
  it('rewriteFile takes mac and fixChecksums, and writes what the command line writes', async () => {
    const dir = tempDir();
    const viaCli = join(dir, 'cli.pcapng');
    const viaLib = join(dir, 'lib.pcapng');
    expect(cli([OFFLOAD, viaCli, '--mac', MAC, '--fix-checksums']).code).toBe(0);
    const report = await rewriteFile(OFFLOAD, viaLib, { rules: [], mac: [MAC], fixChecksums: true });
    expect(readFileSync(viaLib).equals(readFileSync(viaCli))).toBe(true);
    expect(report.summary.checksumsFixed?.fixed).toBe(22);
    await expect(rewriteFile(OFFLOAD, join(dir, 'x.pcapng'), { rules: [], mac: ['52:54:00:12:34:56'] })).rejects.toMatchObject({ code: 'rule', exitCode: 2, column: 17 });
  });
});
