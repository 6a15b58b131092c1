/**
 * Wireshark's word on --fix-checksums and --mac: after --fix-checksums every
 * checksum status tshark reports is good (1), on captures whose input tshark
 * calls bad (the offloaded golden capture, and one built here with a bad
 * checksum of every kind); --mac's NDP option rewrite keeps the ICMPv6
 * checksum good; --annotate names the MAC rewrites and the fixed values.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { badVerdicts, tsharkChecksums, tsharkFields } from '../helpers/tshark.js';
import { ether, hex, icmpMsg, ip4, ip6, ipv4, ipv4L4, ipv6L4, pcapBytes, tcp, udp } from '../helpers/wire-build.js';

const OFFLOAD = join(ROOT, 'fixtures/golden/ssnat/offload-guest0.pcapng');
const GUEST1 = join(ROOT, 'fixtures/golden/ssnat/guest1.pcapng');

/** A copy of `frame` with its 16-bit word at `at` changed (so that the checksum there is wrong). */
function damage(frame: Uint8Array, at: number): Uint8Array {
  const f = frame.slice();
  f[at] = f[at]! ^ 0x5a;
  return f;
}

describe('--fix-checksums, as Wireshark judges the output', () => {
  beforeEach((ctx) => needs(ctx, 'tshark'));

  it('leaves no bad checksum in the offloaded golden capture, which tshark calls bad before', async () => {
    const out = join(tempDir(), 'fixed.pcapng');
    expect(cli([OFFLOAD, out, '--fix-checksums', '-q']).code).toBe(0);
    expect(badVerdicts(await tsharkChecksums(OFFLOAD)).length).toBeGreaterThan(10);
    expect(badVerdicts(await tsharkChecksums(out))).toEqual([]);
  });

  it('leaves no bad checksum in a capture with a bad one of every kind, quoted ones included', async () => {
    const A = ip4('10.0.0.2');
    const B = ip4('10.0.0.1');
    const L4 = 34;
    const L6 = 54;
    const frames = [
      damage(ether(0x0800, ipv4L4(A, B, 6, tcp(40000, 80, hex('48454c4c4f')))), 24), // IPv4 header
      damage(ether(0x0800, ipv4L4(A, B, 6, tcp(40000, 80, hex('48454c4c4f')))), L4 + 16), // TCP
      damage(ether(0x0800, ipv4L4(A, B, 17, udp(5353, 53, hex('0102030405')))), L4 + 6), // UDP
      damage(ether(0x0800, ipv4L4(A, B, 1, icmpMsg(8, 0, 0x00010001, hex('6162')))), L4 + 2), // ICMP
      damage(ether(0x86dd, ipv6L4(ip6('fd00::2'), ip6('fd00::1'), 6, tcp(40000, 80, hex('00')))), L6 + 16), // TCP over IPv6
      damage(ether(0x86dd, ipv6L4(ip6('fd00::2'), ip6('fd00::1'), 17, udp(1, 2, hex('00')))), L6 + 6), // UDP over IPv6
      damage(ether(0x86dd, ipv6L4(ip6('fd00::2'), ip6('fd00::1'), 58, icmpMsg(128, 0, 1, hex('00')))), L6 + 2), // ICMPv6
      // An ICMP error quoting a UDP datagram whose checksum is wrong (and the quoted IPv4 header's too).
      ether(0x0800, ipv4L4(B, A, 1, icmpMsg(3, 3, 0, damage(damage(ipv4L4(A, B, 17, udp(5353, 53, hex('0102'))), 10), 26)))),
      // IPv4 header checksum 0, as Windows IP checksum offload leaves it.
      ((): Uint8Array => {
        const f = ether(0x0800, ipv4(A, B, 17, udp(1, 2, hex('00'))));
        f[24] = 0;
        f[25] = 0;
        return f;
      })(),
    ];
    const dir = tempDir();
    const input = join(dir, 'bad.pcap');
    writeFileSync(input, pcapBytes(1, frames));
    const before = badVerdicts(await tsharkChecksums(input));
    expect(before.map((l) => l.split('\t')[0])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const out = join(dir, 'fixed.pcap');
    const r = cli([input, out, '--fix-checksums', '--report', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.toString()).summary.checksumsFixed).toEqual({ fixed: 11, notFixable: 0, byProtocol: { ipv4: 3, tcp: 2, udp: 3, udplite: 0, dccp: 0, icmp: 2, icmpv6: 1 } });
    expect(badVerdicts(await tsharkChecksums(out))).toEqual([]);
  });

  it('names the old and new values in the --annotate comment, so the evidence stays on record', () => {
    const out = join(tempDir(), 'fixed.pcapng');
    expect(cli([OFFLOAD, out, '--fix-checksums', '--annotate', '-q']).code).toBe(0);
    const comments = tsharkFields(out, ['frame.comment'], ['-Y', 'frame.comment contains "ssnat: fixed"']);
    expect(comments.length).toBe(22 - 2); // two frames had two checksums fixed (an ICMP error and its quote)
    for (const c of comments) expect(c).toMatch(/^ssnat: fixed (tcp|udp|icmp|icmpv6)\.checksum 0x[0-9a-f]{4}>0x[0-9a-f]{4}(, (udp|tcp|icmp|icmpv6)\.checksum 0x[0-9a-f]{4}>0x[0-9a-f]{4})?$/);
  });
});

describe('--mac, as Wireshark reads the output', () => {
  beforeEach((ctx) => needs(ctx, 'tshark'));

  it('rewrites Ethernet, ARP and NDP addresses, keeps every checksum good, and --annotate names each', async () => {
    const out = join(tempDir(), 'mac.pcapng');
    const mac = '52:54:00:12:34:56=52:54:00:00:00:11';
    expect(cli([GUEST1, out, '--mac', mac, '--annotate', '-q']).code).toBe(0);
    const fields = tsharkFields(out, ['eth.addr', 'arp.src.hw_mac', 'arp.dst.hw_mac', 'icmpv6.opt.linkaddr']).join('\n');
    expect(fields).not.toContain('52:54:00:12:34:56');
    expect(fields).toContain('52:54:00:00:00:11');
    expect(badVerdicts(await tsharkChecksums(out))).toEqual([]);
    const ns = tsharkFields(out, ['icmpv6.opt.linkaddr', 'icmpv6.checksum.status', 'frame.comment'], ['-Y', 'icmpv6.type == 135']);
    expect(ns).toEqual([`52:54:00:00:00:11\t1\tssnat: eth.src 52:54:00:12:34:56>52:54:00:00:00:11 (--mac ${mac}); ndp.lladdr 52:54:00:12:34:56>52:54:00:00:00:11 (--mac ${mac})`]);
  });
});
