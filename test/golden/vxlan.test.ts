/**
 * Golden tests against the kernel's own VXLAN (issue 23): fixtures/golden/vxlan holds, for four
 * underlays (IPv4 with and without the outer UDP checksum, IPv6 with it and with a zero one),
 * the underlay of a Linux VXLAN (VNI 42) captured twice with the same inner frames replayed from
 * both ends (fixtures/capture/vxlan.sh, vxlan.py): NAT off, and NAT on, where nftables netdev
 * stateless NAT (`ssnat-rewrite export nft`, plus nft_ndp.py's NDP target rules) translates
 * 10.0.0.0/24 -> 192.168.11.0/24 and fd00::/64 -> fd00:11::/64 in front of each VTEP. Whatever
 * the kernel did to the inner frames and to the outer UDP checksum is the reference.
 *
 * Our rewrite of the NAT-off capture with the same rules must be the NAT-on capture byte for
 * byte, with two exceptions by design: on an IPv4 underlay the outer IPv4 ID and header checksum
 * are masked (the kernel picks a new ID for every packet it sends; our rewrite keeps the NAT-off
 * capture's outer header, which is checked), and frame 18, an ICMP port unreachable quoting the
 * guest's datagram, whose quoted header nft leaves untranslated (RFC 5508 says translate it, and
 * we do): that frame is judged by tshark and by exactly which fields differ. The reverse rewrite
 * of the NAT-on capture gives the NAT-off one under the same masks. Packet bytes and lengths are
 * compared, not pcapng timestamps (the two runs happen at different times).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPackets, type TestPacket } from '../helpers/capture.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { badVerdicts, tsharkChecksums } from '../helpers/tshark.js';
import {
  expectedIcmpError,
  FRAMES,
  forwardProblems,
  ICMP_ERROR_FRAME,
  icmpErrorFields,
  outer,
  reverseProblems,
  RULES,
  UNDERLAYS,
  type Underlay,
} from '../helpers/vxlan-oracle.js';

const GOLDEN = join(ROOT, 'fixtures/golden/vxlan');
const off = (u: Underlay): string => join(GOLDEN, `${u.name}-nat-off.pcapng`);
const on = (u: Underlay): string => join(GOLDEN, `${u.name}-nat-on.pcapng`);

const u16 = (d: Uint8Array, o: number): number => (d[o]! << 8) | d[o + 1]!;
const hexOf = (d: Uint8Array): string => Buffer.from(d).toString('hex');
const inner = (p: TestPacket): string => hexOf(p.data.subarray(outer(p.data).inner));

function rewrite(input: string, output: string, ...more: string[]): void {
  const r = cli([input, output, ...RULES, '-q', ...more]);
  expect([r.code, r.stderr]).toEqual([0, '']);
}

/** vxlan.py's frames: who sends each (g guest, f far end) and what it is, in order. */
const SENDERS = 'gfgfgfgfggfgfggfgfggffgfgfgfgfggfggg';

describe.each(UNDERLAYS)('the kernel\'s VXLAN over $name as the reference', (u) => {
  it('the captures are what the rig says: 36 VXLAN frames (VNI 42, 49152 -> 4789), the inner frames replayed alike, every one translated in the NAT-on run', async () => {
    const [nOff, nOn, reference] = await Promise.all([readPackets(off(u)), readPackets(on(u)), readPackets(off(UNDERLAYS[0]!))]);
    expect([nOff.length, nOn.length]).toEqual([FRAMES, FRAMES]);
    for (const [run, pkts] of [['off', nOff], ['on', nOn]] as const) {
      pkts.forEach((p, i) => {
        const d = p.data;
        const at = `nat-${run} frame ${i + 1}`;
        const o = outer(d);
        const guestSent = SENDERS[i] === 'g';
        expect(p.originalLength, at).toBe(d.length);
        expect(o.ip, at).toBe(u.ip);
        // u0 (02:00:00:00:0a:01) sends the guest's frames to u1 (02:00:00:00:0a:02) and receives the far end's
        expect(hexOf(d.subarray(0, 12)), at).toBe(guestSent ? '020000000a02020000000a01' : '020000000a01020000000a02');
        expect(d[u.ip === 4 ? 23 : 20], at).toBe(17);
        expect([u16(d, o.udp), u16(d, o.udp + 2), u16(d, o.udp + 4)], at).toEqual([49152, 4789, d.length - o.udp]);
        expect(u16(d, o.udp + 6) !== 0, at).toBe(u.outerChecksum);
        expect(hexOf(d.subarray(o.vxlan, o.inner)), at).toBe('0800000000002a00');
      });
    }
    // The same inner frames in every underlay (replayed bytes); the kernel translated every one of them.
    expect(nOff.map(inner)).toEqual(reference.map(inner));
    nOff.forEach((p, i) => expect(inner(p), `frame ${i + 1}`).not.toBe(inner(nOn[i]!)));
  });

  it('tshark finds every checksum good, at every depth, in both captures (but a zero outer UDP checksum)', async (ctx) => {
    needs(ctx, 'tshark');
    for (const file of [off(u), on(u)]) {
      const verdicts = await tsharkChecksums(file);
      expect(verdicts.length).toBe(FRAMES);
      expect(badVerdicts(verdicts)).toEqual([]);
    }
  });

  it('our rewrite of the NAT-off capture is the NAT-on capture, byte for byte (outer IPv4 ID and header checksum masked), but the quote in the ICMP error', async () => {
    expect(await forwardProblems(off(u), on(u), tempDir())).toEqual([]);
  });

  it('the ICMP error: ours quotes the translated datagram, the kernel\'s the guest\'s', async () => {
    const out = join(tempDir(), 'ours.pcapng');
    rewrite(off(u), out);
    const ours = (await readPackets(out))[ICMP_ERROR_FRAME - 1]!;
    const kernel = (await readPackets(on(u)))[ICMP_ERROR_FRAME - 1]!;
    const q = outer(ours.data).inner + 14 + 20 + 8; // inner Ethernet, IPv4, ICMP: the quoted IPv4 header
    expect(hexOf(ours.data.subarray(q + 12, q + 20))).toBe('c0a80b02c0a80b01'); // ours: 192.168.11.2 > 192.168.11.1
    expect(hexOf(kernel.data.subarray(q + 12, q + 20))).toBe('0a0000020a000001'); // the kernel's: 10.0.0.2 > 10.0.0.1 left in
  });

  it('the ICMP error: tshark reads the quote translated and judges every checksum good, at every depth', async (ctx) => {
    needs(ctx, 'tshark');
    const out = join(tempDir(), 'ours.pcapng');
    rewrite(off(u), out);
    expect(icmpErrorFields(out)).toEqual(expectedIcmpError(u, ['192.168.11.2', '192.168.11.1']));
    // The kernel's: the quote left with the guest's addresses (its checksums good: nothing in it was touched).
    expect(icmpErrorFields(on(u))).toEqual(expectedIcmpError(u, ['10.0.0.2', '10.0.0.1']));
  });

  it('tshark finds no bad checksum at any depth in our rewrite', async (ctx) => {
    needs(ctx, 'tshark');
    const out = join(tempDir(), 'ours.pcapng');
    rewrite(off(u), out);
    const verdicts = await tsharkChecksums(out);
    expect(verdicts.length).toBe(FRAMES);
    expect(badVerdicts(verdicts)).toEqual([]);
  });

  it('the reverse rewrite of the NAT-on capture is the NAT-off capture (same masks, every frame), and the reverse of ours gives the input file back byte for byte', async () => {
    const dir = tempDir();
    expect(await reverseProblems(off(u), on(u), dir)).toEqual([]);
    const ours = join(dir, 'ours.pcapng');
    const again = join(dir, 'again.pcapng');
    rewrite(off(u), ours);
    rewrite(ours, again, '-d', 'host-to-guest');
    expect(Buffer.compare(readFileSync(again), readFileSync(off(u)))).toBe(0);
  });
});
