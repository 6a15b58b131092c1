/**
 * The exported nft ruleset, live, equals the offline rewrite (issue 24):
 * three clones with one IP and one MAC behind tap0..tap2 of a host running
 * dnsmasq, in network namespaces, `export nft`'s script loaded on the taps;
 * every clone gets its A answer over IPv4, its AAAA answer over IPv6 (static
 * neighbours), its ICMP echo reply and its RST. Every frame tap0 carries is
 * duplicated (translated) to a monitor veth. The offline guest-to-host
 * rewrite of tap0's guest-side capture is the monitor's capture frame for
 * frame, and the host-to-guest rewrite of the monitor's capture is the guest
 * side's, except exactly the frames `verify` names (the ICMP error whose
 * quoted header the kernel leaves untranslated). Root only (namespaces);
 * about 8 s (test/interop/nft-live.sh).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { readPackets } from '../helpers/capture.js';
import { needs } from '../helpers/tools.js';

const RULES = ['10.0.0.0/24=192.168.11.0/24', 'fd00::/64=fd00:11::/64'];
const OFFLINE = RULES.flatMap((r) => ['-r', r]);

const hex = (d: Uint8Array): string => Buffer.from(d).toString('hex');

/** The frames `verify` names in a capture (its JSON report), sorted, once each. */
function namedFrames(capture: string, direction: string): number[] {
  const r = cli(['verify', capture, '-d', direction, ...OFFLINE, '--report', 'json']);
  expect(r.code === 0 || r.code === 1, r.stderr).toBe(true);
  const report = JSON.parse(r.stdout.toString()) as { findings: Array<{ frame: number; check: string }> };
  return [...new Set(report.findings.map((f) => f.frame))].sort((a, b) => a - b);
}

function rewrite(input: string, output: string, direction: string): void {
  const r = cli([input, output, '-d', direction, ...OFFLINE, '-q']);
  expect([r.code, r.stderr]).toEqual([0, '']);
}

/** Frames of `ours` that differ from `theirs` (same count required), 1-based. */
async function differing(ours: string, theirs: string): Promise<number[]> {
  const a = await readPackets(ours);
  const b = await readPackets(theirs);
  expect(a.map((p) => p.data.length)).toEqual(b.map((p) => p.data.length));
  return a.flatMap((p, i) => (hex(p.data) === hex(b[i]!.data) ? [] : [i + 1]));
}

describe('export nft, live in namespaces', () => {
  it('the kernel translates tap0 as the offline rewrite does, except the frames verify names', { timeout: 60_000 }, async (ctx) => {
    needs(ctx, 'nft', 'ip', 'tcpdump', 'ethtool', 'python3', 'dnsmasq');
    if (process.getuid?.() !== 0) ctx.skip('needs root (network namespaces)');
    if (spawnSync('ip', ['netns', 'list']).status !== 0) ctx.skip('ip netns does not work here');
    const dir = tempDir();
    const script = join(dir, 'ssnat.nft');
    const taps = [0, 1, 2].flatMap((i) => ['-r', `10.0.0.0/24=192.168.1${i + 1}.0/24@tap${i}`, '-r', `fd00::/64=fd00:1${i + 1}::/64@tap${i}`]);
    const exported = cli(['export', 'nft', '-q', '-o', script, ...taps]);
    expect([exported.code, exported.stderr]).toEqual([0, '']);

    const run = spawnSync(join(ROOT, 'test/interop/nft-live.sh'), [script, dir], { encoding: 'utf8', timeout: 50_000 });
    expect([run.status, run.stderr]).toEqual([0, '']);
    // Every exchange of every clone worked through the translation: A and AAAA answers, echo, RST.
    expect(run.stdout).toBe('udp answer 50\necho reply\ntcp refused\nudp6 answer 62\n'.repeat(3));

    const guest = join(dir, 'guest.pcap');
    const mon = join(dir, 'mon.pcap');
    const frames = await readPackets(guest);
    // tap0 (clone 0): ARP request/reply, A query/answer, closed port/ICMP error, echo/reply, SYN/RST, AAAA query/answer
    expect(frames.map((p) => hex(p.data.subarray(12, 14)))).toEqual([...Array(2).fill('0806'), ...Array(8).fill('0800'), '86dd', '86dd']);
    expect(hex(frames[5]!.data.subarray(34, 36))).toBe('0303'); // ICMP port unreachable

    rewrite(guest, join(dir, 'g2h.pcap'), 'guest-to-host');
    rewrite(mon, join(dir, 'h2g.pcap'), 'host-to-guest');

    // Host side: verify names nothing, and the offline rewrite is the kernel's, byte for byte.
    expect(namedFrames(mon, 'guest-to-host')).toEqual([]);
    expect(await differing(join(dir, 'g2h.pcap'), mon)).toEqual([]);
    // Guest side: verify names the ICMP error, whose quoted header (RFC 5508) the kernel left as
    // the host's; the offline rewrite translates it: that frame, and only it, differs.
    expect(namedFrames(guest, 'host-to-guest')).toEqual([6]);
    expect(await differing(join(dir, 'h2g.pcap'), guest)).toEqual([6]);
  });
});
