/**
 * A TSO/GSO capture from a real Linux sender (fixtures/tso/, made by
 * fixtures/capture/tso.sh: a veth with tx, tso and gso on, one 12000-byte
 * write over IPv4 and one over IPv6, captured with tcpdump -w on the
 * sender). The kernel hands the "NIC" TCP segments larger than the MTU in
 * one frame, their IP length the frame's, and every TCP checksum (the
 * receiver's too: veth passes CHECKSUM_PARTIAL on) is the pseudo-header
 * seed with the length (src/wire/offload.ts). verify calls exactly those
 * offload warnings; the rewrite (fixtures/tso/linux-gso-host.pcap, reviewed:
 * each seed recomputed below from the new addresses) keeps them seeds of the
 * new addresses; the reverse rewrite gives the capture back byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPackets, type TestPacket } from '../helpers/capture.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { corpusPath } from '../helpers/corpus.js';
import { needs } from '../helpers/tools.js';
import { tsharkChecksums } from '../helpers/tshark.js';
import { fold16, sum } from '../helpers/wire-build.js';

const TSO = join(ROOT, 'fixtures/tso');
const INPUT = join(TSO, 'linux-gso.pcap');
const GOLDEN = join(TSO, 'linux-gso-host.pcap');
const RULES = ['-r', '10.0.0.0/24=192.168.10.0/24', '-r', 'fd00::/64=fd00:10::/64'];
/** Frames 1-2 ARP, 3-12 TCP over IPv4, 13-14 NDP, 15-24 TCP over IPv6. */
const TCP_FRAMES = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24];
/** The GSO frames: one segment of several MTUs (1514 bytes on this link) each. */
const GSO_FRAMES = [6, 8, 18, 20];

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;

/** The TCP checksum field and the seed (with the length) of the addresses beside it, computed here. */
function seedOf(p: TestPacket): { field: number; seed: number } | null {
  const f = p.data;
  const et = u16(f, 12);
  if (et === 0x0800 && f[23] === 6) {
    const ihl = (f[14]! & 15) * 4;
    const len = u16(f, 16) - ihl;
    return { field: u16(f, 14 + ihl + 16), seed: fold16(sum(f, 26, 8) + 6 + len) };
  }
  if (et === 0x86dd && f[20] === 6) return { field: u16(f, 54 + 16), seed: fold16(sum(f, 22, 32) + 6 + u16(f, 18)) };
  return null;
}

describe('TSO/GSO from a real Linux sender (fixtures/tso)', () => {
  it('the capture is what the rig says: GSO frames past the MTU, their IP length the frame\'s, every TCP checksum the seed', async () => {
    const pkts = await readPackets(INPUT);
    expect(pkts.length).toBe(24);
    expect(pkts.filter((p) => p.data.length > 1514).map((p) => p.frame)).toEqual(GSO_FRAMES);
    for (const p of pkts) expect(p.originalLength, `frame ${p.frame}`).toBe(p.data.length);
    const seeds = pkts.map((p) => [p.frame, seedOf(p)] as const).filter(([, s]) => s !== null);
    expect(seeds.map(([f]) => f)).toEqual(TCP_FRAMES);
    for (const [f, s] of seeds) expect(s!.field, `frame ${f}`).toBe(s!.seed);
  });

  it('verify: 20 tcp.checksum-offloaded warnings, one on each TCP frame, no error, exit 0', () => {
    const r = cli(['verify', INPUT, '--report', 'json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.toString());
    expect(report.summary).toMatchObject({ packets: 24, errors: 0, warnings: 20, checksums: { verified: 12, bad: 20, unverifiable: 0 } }); // verified: 10 IPv4 headers, 2 NDP checksums
    expect(report.findings.map((f: { frame: number; check: string; severity: string }) => [f.frame, f.check, f.severity])).toEqual(
      TCP_FRAMES.map((f) => [f, 'tcp.checksum-offloaded', 'warning']),
    );
  });

  it('rewrite: the reviewed golden byte for byte, every seed the seed of the new addresses, verified alike; the reverse gives the input back', async () => {
    const dir = tempDir();
    const out = join(dir, 'host.pcap');
    const back = join(dir, 'back.pcap');
    const r = cli([INPUT, out, ...RULES, '--verify', '--report', 'json', '--report-file', join(dir, 'r.json')]);
    expect(r.code).toBe(0);
    expect(Buffer.compare(readFileSync(out), readFileSync(GOLDEN))).toBe(0);
    const host = await readPackets(GOLDEN);
    const input = await readPackets(INPUT);
    for (const p of host) {
      const s = seedOf(p);
      if (s === null) continue;
      expect(s.field, `frame ${p.frame}`).toBe(s.seed);
      expect(s.field, `frame ${p.frame} changed with its addresses`).not.toBe(seedOf(input[p.frame - 1]!)!.field);
    }
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(report.summary).toMatchObject({ packets: 24, rewritten: 24, errors: 0, warnings: 20 });
    expect(report.findings.map((f: { frame: number; check: string }) => [f.frame, f.check])).toEqual(TCP_FRAMES.map((f) => [f, 'tcp.checksum-offloaded']));
    expect(cli([out, back, ...RULES, '-d', 'host-to-guest', '-q']).code).toBe(0);
    expect(Buffer.compare(readFileSync(back), readFileSync(INPUT))).toBe(0);
  });

  it('tshark calls the same 20 TCP checksums bad in the capture and in the rewrite (only the severity is offload\'s)', async (ctx) => {
    needs(ctx, 'tshark');
    const [before, after] = await Promise.all([tsharkChecksums(INPUT), tsharkChecksums(GOLDEN)]);
    const badTcp = (lines: string[]) => lines.filter((l) => l.split('\t')[3] === '0').map((l) => Number(l.split('\t')[0]));
    expect(badTcp(before)).toEqual(TCP_FRAMES);
    expect(after).toEqual(before);
  });
});

describe('a real capture from a sender with LSO and IP checksum offload (tcpdump\'s ipv4_tcp_http_xml_tso.pcap)', () => {
  // One 2030-byte TCP segment on Ethernet, IP length given (LSOv1), IPv4 header checksum 0x0000, the TCP
  // checksum the pseudo-header sum without the length: an ipv4.checksum error before issue 22, FAILED.
  const FILE = corpusPath('tcpdump/pcap/ipv4_tcp_http_xml_tso.pcap');

  it('verify: two offload warnings, OK, exit 0', () => {
    const r = cli(['verify', FILE]);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    expect(out).toContain(
      [
        'warning ipv4.checksum-offloaded (1)',
        '  frame 1 if 0: IPv4 header checksum 0x0000 is left for IP checksum offload (captured on the sending host?), expected 0xd8df',
        '',
        'warning tcp.checksum-offloaded (1)',
        '  frame 1 if 0: TCP checksum 0xdf55 is the pseudo-header partial sum left by transmit checksum offload (captured on the sending host?), expected 0x9cf2',
        '',
        'OK: 1 packet checked, no errors, 2 warnings',
      ].join('\n'),
    );
  });

  it('rewrite: the header stays 0x0000 and the TCP checksum becomes the seed (without the length) of the new source; the reverse gives it back', async () => {
    const dir = tempDir();
    const out = join(dir, 'out.pcap');
    const back = join(dir, 'back.pcap');
    const rule = ['-r', '30.7.181.0/24=10.9.9.0/24'];
    expect(cli([FILE, out, ...rule, '--verify', '-q']).code).toBe(0);
    const [p] = await readPackets(out);
    const f = p!.data;
    expect([...f.subarray(26, 30)]).toEqual([10, 9, 9, 121]);
    expect(u16(f, 24)).toBe(0);
    expect(u16(f, 34 + 16)).toBe(fold16(sum(f, 26, 8) + 6));
    expect(cli([out, back, ...rule, '-d', 'host-to-guest', '-q']).code).toBe(0);
    expect(Buffer.compare(readFileSync(back), readFileSync(FILE))).toBe(0);
  });
});
