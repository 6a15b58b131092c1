/**
 * Golden tests against the kernel (issue 5): fixtures/golden/ssnat holds the
 * guest and host views of three cloned VMs whose traffic the kernel's own
 * stateless NAT (nftables netdev payload mangling) translated. Our rewrite
 * of each guest view must give the kernel's host-view frames byte for byte,
 * and our host-to-guest rewrite of the multi-tap capture each guest's frames,
 * except where the kernel is wrong: it leaves the header quoted inside ICMP
 * errors untranslated (RFC 5508 REQ-4 / RFC 3022 4.3 say translate it). The
 * errors in this traffic go host -> guest, so the kernel's mistake shows in
 * the guest view (a quote naming 192.168.10.x inside a 10.0.0.x packet).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPackets, type TestPacket } from '../helpers/capture.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { badVerdicts, tsharkChecksums } from '../helpers/tshark.js';

const GOLDEN = join(ROOT, 'fixtures/golden/ssnat');
const CLONES = [0, 1, 2];
const rulesFor = (i: number, scoped: boolean): string[] => {
  const at = scoped ? `@tap${i}` : '';
  return ['-r', `10.0.0.0/24=192.168.${10 + i}.0/24${at}`, '-r', `fd00::/64=fd00:${10 + i}::/64${at}`];
};

/** Guest frames 6 and 25 are ICMP / ICMPv6 errors: the kernel left their quoted header as it was. */
const KERNEL_LEAVES_QUOTE = [6, 25];

const hex = (p: TestPacket): string => Buffer.from(p.data).toString('hex');

/** Byte ranges where two frames differ. */
function diffRanges(a: Uint8Array, b: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    const last = out[out.length - 1];
    if (last && last[1] === i) last[1] = i + 1;
    else out.push([i, i + 1]);
  }
  return out;
}

describe('golden: the kernel\'s stateless NAT as the reference', () => {
  it.each(CLONES)('guest%i -> host: every frame equals the kernel\'s on its tap', async (i) => {
    const out = join(tempDir(), `host${i}.pcapng`);
    const r = cli([join(GOLDEN, `guest${i}.pcapng`), out, ...rulesFor(i, false), '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ours = await readPackets(out);
    const kernel = (await readPackets(join(GOLDEN, 'host.pcapng'))).filter((p) => p.interfaceId === i);
    expect(ours.length).toBe(28);
    expect(kernel.length).toBe(28);
    for (let f = 0; f < 28; f++) expect(hex(ours[f]!), `guest${i} frame ${f + 1}`).toBe(hex(kernel[f]!));
  });

  it.for(CLONES)('guest%i -> host: tshark finds every checksum good', async (i, ctx) => {
    needs(ctx, 'tshark');
    const out = join(tempDir(), `host${i}.pcapng`);
    expect(cli([join(GOLDEN, `guest${i}.pcapng`), out, ...rulesFor(i, false), '-q']).code).toBe(0);
    expect(badVerdicts(await tsharkChecksums(out))).toEqual([]);
  });

  it('where we differ from the kernel (host -> guest ICMP errors) only the quote and the checksums covering it differ, and we are right', async () => {
    const out = join(tempDir(), 'guests.pcapng');
    expect(cli([join(GOLDEN, 'host.pcapng'), out, '-d', 'host-to-guest', ...CLONES.flatMap((i) => rulesFor(i, true)), '-q']).code).toBe(0);
    const ours = (await readPackets(out)).filter((p) => p.interfaceId === 0);
    const kernel = await readPackets(join(GOLDEN, 'guest0.pcapng'));
    // Frame 6: Ethernet 14 + IPv4 20 + ICMP 8 (checksum at 36), then the quoted IPv4 header
    // (checksum at 52, src at 54, dst at 58) and the quoted UDP header (checksum at 68).
    const v4 = diffRanges(ours[5]!.data, kernel[5]!.data);
    expect(v4.length).toBeGreaterThan(0);
    expect(v4.every(([a, b]) => (a >= 36 && b <= 38) || (a >= 52 && b <= 62) || (a >= 68 && b <= 70))).toBe(true);
    expect(Buffer.from(ours[5]!.data.subarray(54, 62)).toString('hex')).toBe('0a0000020a000001'); // ours: 10.0.0.2 > 10.0.0.1
    expect(Buffer.from(kernel[5]!.data.subarray(54, 62)).toString('hex')).toBe('c0a80a02c0a80a01'); // kernel: 192.168.10.x left in
    // Frame 25: Ethernet 14 + IPv6 40 + ICMPv6 8 (checksum at 56), then the quoted IPv6 header
    // (src at 70, dst at 86) and the quoted UDP header (checksum at 108).
    const v6 = diffRanges(ours[24]!.data, kernel[24]!.data);
    expect(v6.length).toBeGreaterThan(0);
    expect(v6.every(([a, b]) => (a >= 56 && b <= 58) || (a >= 70 && b <= 102) || (a >= 108 && b <= 110))).toBe(true);
    expect(Buffer.from(ours[24]!.data.subarray(70, 72)).toString('hex')).toBe('fd00');
    expect(Buffer.from(ours[24]!.data.subarray(72, 86)).toString('hex')).toBe('0000000000000000000000000002'); // fd00::2
  });

  it('host -> guests: tshark finds every checksum good, the quoted ones included', async (ctx) => {
    needs(ctx, 'tshark');
    const out = join(tempDir(), 'guests.pcapng');
    expect(cli([join(GOLDEN, 'host.pcapng'), out, '-d', 'host-to-guest', ...CLONES.flatMap((i) => rulesFor(i, true)), '-q']).code).toBe(0);
    const verdicts = await tsharkChecksums(out);
    expect(verdicts.some((l) => l.split('\t')[1]!.includes(','))).toBe(true); // tshark did check a quoted header
    expect(badVerdicts(verdicts)).toEqual([]);
  });

  it('host (3 taps) -> guests with @tapI rules: each tap\'s frames are its guest\'s, but for the ICMP quotes', async () => {
    const out = join(tempDir(), 'guests.pcapng');
    const rules = CLONES.flatMap((i) => rulesFor(i, true));
    const r = cli([join(GOLDEN, 'host.pcapng'), out, '-d', 'host-to-guest', ...rules, '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ours = await readPackets(out);
    for (const i of CLONES) {
      const mine = ours.filter((p) => p.interfaceId === i);
      const guest = await readPackets(join(GOLDEN, `guest${i}.pcapng`));
      expect(mine.length).toBe(guest.length);
      mine.forEach((p, f) => {
        if (KERNEL_LEAVES_QUOTE.includes(f + 1)) expect(hex(p)).not.toBe(hex(guest[f]!));
        else expect(hex(p), `tap${i} frame ${f + 1}`).toBe(hex(guest[f]!));
      });
    }
  });

  it('with transmit checksum offload on, the partial checksums (pseudo-header seeds) come out exactly as the kernel keeps them', async () => {
    const dir = tempDir();
    const host = join(dir, 'offload-host.pcapng');
    const guest = join(dir, 'offload-guest.pcapng');
    expect(cli([join(GOLDEN, 'offload-guest0.pcapng'), host, ...rulesFor(0, false), '-q']).code).toBe(0);
    const ours = await readPackets(host);
    const kernel = await readPackets(join(GOLDEN, 'offload-host.pcapng'));
    expect(ours.map(hex)).toEqual(kernel.map(hex));
    expect(cli([join(GOLDEN, 'offload-host.pcapng'), guest, '-d', 'host-to-guest', ...rulesFor(0, true), '-q']).code).toBe(0);
    const back = await readPackets(guest);
    const original = await readPackets(join(GOLDEN, 'offload-guest0.pcapng'));
    back.forEach((p, f) => {
      if (KERNEL_LEAVES_QUOTE.includes(f + 1)) expect(hex(p)).not.toBe(hex(original[f]!));
      else expect(hex(p), `frame ${f + 1}`).toBe(hex(original[f]!));
    });
  });

  it('with transmit checksum offload on, tshark calls the seeds bad checksums, in the kernel\'s file and in ours alike', async (ctx) => {
    needs(ctx, 'tshark');
    const host = join(tempDir(), 'offload-host.pcapng');
    expect(cli([join(GOLDEN, 'offload-guest0.pcapng'), host, ...rulesFor(0, false), '-q']).code).toBe(0);
    const [ours, kernel] = await Promise.all([tsharkChecksums(host), tsharkChecksums(join(GOLDEN, 'offload-host.pcapng'))]);
    expect(badVerdicts(ours).length).toBeGreaterThan(10);
    expect(ours).toEqual(kernel);
  });
});
