/**
 * The kernel's VXLAN as the oracle (issue 23): what test/golden/vxlan.test.ts and
 * test/interop/vxlan-live.test.ts share. fixtures/capture/vxlan.sh captures the underlay of a
 * Linux VXLAN (VNI 42, 4789, source port pinned to 49152) twice with the same replayed inner
 * frames (fixtures/capture/vxlan.py): NAT off, and NAT on (nftables netdev stateless NAT from
 * `ssnat-rewrite export nft` in front of each VTEP). Our rewrite of the NAT-off capture must be
 * the NAT-on one, byte for byte but the outer IPv4 ID and header checksum (the kernel picks the
 * ID) and the ICMP error, whose quoted header nft leaves alone and we translate.
 *
 * Differences are named by field (`frame 3 bytes 82-83 (inner UDP checksum): kernel 0x..., ours
 * 0x...`) by a walk of the headers written here, independently of src/wire.
 */
import { join } from 'node:path';
import { readPackets, type TestPacket } from './capture.js';
import { cli } from './cli.js';
import { tsharkFields } from './tshark.js';

export const RULES = ['--rule', '10.0.0.0/24=192.168.11.0/24', '--rule', 'fd00::/64=fd00:11::/64'];

export interface Underlay {
  /** The rig's name, the prefix of its two captures: NAME-nat-off.pcapng, NAME-nat-on.pcapng. */
  readonly name: string;
  readonly ip: 4 | 6;
  /** Whether the VTEPs put an outer UDP checksum (udpcsum, the IPv6 default) or 0 (noudpcsum, udp6zerocsumtx). */
  readonly outerChecksum: boolean;
}

export const UNDERLAYS: readonly Underlay[] = [
  { name: 'ip4-udpcsum', ip: 4, outerChecksum: true },
  { name: 'ip4-noudpcsum', ip: 4, outerChecksum: false },
  { name: 'ip6-udpcsum', ip: 6, outerChecksum: true },
  { name: 'ip6-zerocsum', ip: 6, outerChecksum: false },
];

/** Frames per capture (vxlan.py's list), and the far end's ICMP port unreachable quoting the guest's datagram 17. */
export const FRAMES = 36;
export const ICMP_ERROR_FRAME = 18;

/** The outer IPv4 header's ID and header checksum, the bytes the comparison masks on an IPv4 underlay. */
const OUTER_IPV4_ID = 18;
const OUTER_IPV4_CHECKSUM = 24;

const u16 = (d: Uint8Array, o: number): number => (d[o]! << 8) | d[o + 1]!;

/** Offsets of the outer headers: Ethernet, IP, UDP, VXLAN, then the inner Ethernet frame. */
export function outer(d: Uint8Array): { ip: 4 | 6; udp: number; vxlan: number; inner: number } {
  const ip = u16(d, 12) === 0x0800 ? 4 : 6;
  const udp = ip === 4 ? 14 + (d[14]! & 15) * 4 : 54;
  return { ip, udp, vxlan: udp + 8, inner: udp + 16 };
}

/** A copy with the outer IPv4 ID and header checksum zeroed (an IPv6 underlay: unchanged). */
export function masked(d: Uint8Array): Uint8Array {
  const m = Uint8Array.from(d);
  if (u16(d, 12) === 0x0800) m.fill(0, OUTER_IPV4_ID, OUTER_IPV4_ID + 2).fill(0, OUTER_IPV4_CHECKSUM, OUTER_IPV4_CHECKSUM + 2);
  return m;
}

type Segment = [start: number, end: number, name: string];

const IPV4_FIELDS: Array<[number, number, string]> = [
  [0, 1, 'version/IHL'], [1, 1, 'DSCP/ECN'], [2, 2, 'total length'], [4, 2, 'ID'], [6, 2, 'flags/fragment offset'],
  [8, 1, 'TTL'], [9, 1, 'protocol'], [10, 2, 'header checksum'], [12, 4, 'source'], [16, 4, 'destination'],
];
const IPV6_FIELDS: Array<[number, number, string]> = [
  [0, 4, 'version/class/flow label'], [4, 2, 'payload length'], [6, 1, 'next header'], [7, 1, 'hop limit'], [8, 16, 'source'], [24, 16, 'destination'],
];
const UDP_FIELDS: Array<[number, number, string]> = [[0, 2, 'source port'], [2, 2, 'destination port'], [4, 2, 'length'], [6, 2, 'checksum']];
const TCP_FIELDS: Array<[number, number, string]> = [
  [0, 2, 'source port'], [2, 2, 'destination port'], [4, 4, 'sequence number'], [8, 4, 'acknowledgment number'], [12, 1, 'data offset'],
  [13, 1, 'flags'], [14, 2, 'window'], [16, 2, 'checksum'], [18, 2, 'urgent pointer'],
];
const ARP_FIELDS: Array<[number, number, string]> = [
  [0, 2, 'hardware type'], [2, 2, 'protocol type'], [4, 1, 'hardware size'], [5, 1, 'protocol size'], [6, 2, 'opcode'],
  [8, 6, 'sender MAC'], [14, 4, 'sender IPv4'], [18, 6, 'target MAC'], [24, 4, 'target IPv4'],
];

/** Every header field of a frame as [start, end, name], outer to inner (quoted headers too). */
export function segments(d: Uint8Array): Segment[] {
  const out: Segment[] = [];
  const put = (base: number, fields: Array<[number, number, string]>, prefix: string): void => {
    for (const [o, n, name] of fields) if (base + o + n <= d.length) out.push([base + o, base + o + n, `${prefix} ${name}`]);
  };
  const rest = (start: number, name: string): void => {
    if (start < d.length) out.push([start, d.length, name]);
  };
  const ethernet = (o: number, depth: 'outer' | 'inner'): void => {
    put(o, [[0, 6, 'destination'], [6, 6, 'source'], [12, 2, 'type']], `${depth} Ethernet`);
    const type = u16(d, o + 12);
    if (type === 0x0806) {
      put(o + 14, ARP_FIELDS, `${depth} ARP`);
      rest(o + 42, `${depth} Ethernet padding`);
    } else if (type === 0x0800) ipv4(o + 14, depth);
    else if (type === 0x86dd) ipv6(o + 14, depth);
    else rest(o + 14, `${depth} Ethernet payload`);
  };
  const ipv4 = (o: number, depth: string): void => {
    put(o, IPV4_FIELDS, `${depth} IPv4`);
    const ihl = (d[o]! & 15) * 4;
    if (ihl > 20) out.push([o + 20, o + ihl, `${depth} IPv4 options`]);
    const fragment = u16(d, o + 6) & 0x1fff;
    if (fragment !== 0) rest(o + ihl, `${depth} IPv4 fragment payload`);
    else transport(o + ihl, d[o + 9]!, depth);
  };
  const ipv6 = (o: number, depth: string): void => {
    put(o, IPV6_FIELDS, `${depth} IPv6`);
    let nh = d[o + 6]!;
    let p = o + 40;
    if (nh === 44) {
      put(p, [[0, 1, 'next header'], [1, 1, 'reserved'], [2, 2, 'offset/M'], [4, 4, 'identification']], `${depth} IPv6 fragment header`);
      const offset = u16(d, p + 2) >> 3;
      nh = d[p]!;
      p += 8;
      if (offset !== 0) return rest(p, `${depth} IPv6 fragment payload`);
    }
    transport(p, nh, depth);
  };
  const transport = (o: number, proto: number, depth: string): void => {
    if (proto === 17) {
      put(o, UDP_FIELDS, `${depth} UDP`);
      if (depth === 'outer' && u16(d, o + 2) === 4789) {
        put(o + 8, [[0, 4, 'flags'], [4, 3, 'VNI'], [7, 1, 'reserved']], 'VXLAN');
        ethernet(o + 16, 'inner');
      } else rest(o + 8, `${depth} UDP payload`);
    } else if (proto === 6) {
      put(o, TCP_FIELDS, `${depth} TCP`);
      const off = (d[o + 12]! >> 4) * 4;
      if (off > 20) out.push([o + 20, o + off, `${depth} TCP options`]);
      rest(o + off, `${depth} TCP payload`);
    } else if (proto === 1) {
      put(o, [[0, 1, 'type'], [1, 1, 'code'], [2, 2, 'checksum'], [4, 4, 'rest of header']], `${depth} ICMP`);
      if ([3, 4, 5, 11, 12].includes(d[o]!) && depth !== 'quoted') ipv4(o + 8, 'quoted');
      else rest(o + 8, `${depth} ICMP data`);
    } else if (proto === 58) {
      put(o, [[0, 1, 'type'], [1, 1, 'code'], [2, 2, 'checksum'], [4, 4, 'rest of header']], `${depth} ICMPv6`);
      if (d[o] === 135 || d[o] === 136) {
        out.push([o + 8, o + 24, `${depth} ICMPv6 ND target`]);
        rest(o + 24, `${depth} ICMPv6 ND options`);
      } else if (d[o]! < 128 && depth !== 'quoted') ipv6(o + 8, 'quoted');
      else rest(o + 8, `${depth} ICMPv6 data`);
    } else rest(o, `${depth} IP payload (protocol ${proto})`);
  };
  ethernet(0, 'outer');
  return out;
}

/** The name of the field at a byte offset. */
export function fieldAt(d: Uint8Array, offset: number): string {
  let name = 'beyond the decoded headers';
  for (const [s, e, n] of segments(d)) if (offset >= s && offset < e) name = n; // the innermost (last) wins
  return name;
}

/** Differing bytes of two frames, grouped by field: [start, end, field]. */
export function differingFields(ours: Uint8Array, kernel: Uint8Array): Segment[] {
  const out: Segment[] = [];
  for (let i = 0; i < Math.min(ours.length, kernel.length); i++) {
    if (ours[i] === kernel[i]) continue;
    const name = fieldAt(kernel, i);
    const last = out[out.length - 1];
    if (last && last[1] === i && last[2] === name) last[1] = i + 1;
    else out.push([i, i + 1, name]);
  }
  return out;
}

const hex = (d: Uint8Array, s: number, e: number): string => `0x${Buffer.from(d.subarray(s, e)).toString('hex')}`;

/**
 * Every difference between two captures frame for frame, after `masked` on both (IPv4 underlay:
 * outer ID and header checksum), except the frames in `skip`; one line each, naming frame,
 * bytes, field and both values (`names`: what to call the two). Empty when they are equal.
 */
export function differences(
  ours: readonly TestPacket[],
  kernel: readonly TestPacket[],
  skip: readonly number[] = [],
  names: readonly [string, string] = ['ours', 'kernel'],
): string[] {
  const [A, B] = names;
  const out: string[] = [];
  if (ours.length !== kernel.length) out.push(`frame count: ${B} ${kernel.length}, ${A} ${ours.length}`);
  for (let i = 0; i < Math.min(ours.length, kernel.length); i++) {
    const frame = i + 1;
    if (skip.includes(frame)) continue;
    const a = ours[i]!;
    const b = kernel[i]!;
    if (a.data.length !== b.data.length || a.originalLength !== b.originalLength) {
      out.push(`frame ${frame}: length ${B} ${b.data.length}/${b.originalLength}, ${A} ${a.data.length}/${a.originalLength}`);
      continue;
    }
    const ma = masked(a.data);
    const mb = masked(b.data);
    for (const [s, e, name] of differingFields(ma, mb)) out.push(`frame ${frame} bytes ${s}-${e - 1} (${name}): ${B} ${hex(mb, s, e)}, ${A} ${hex(ma, s, e)}`);
  }
  return out;
}

/** Runs the rewrite with RULES (and `more`); a problem line unless it exits 0 and says nothing. */
function rewrite(input: string, output: string, more: readonly string[] = []): string[] {
  const r = cli([input, output, ...RULES, '-q', ...more]);
  return r.code === 0 && r.stderr === '' ? [] : [`ssnat-rewrite ${[input, ...more].join(' ')}: exit ${r.code}: ${r.stderr.trim()}`];
}

/** The fields that differ in the ICMP error by design: the quote we translate and nft does not. */
export const ICMP_ERROR_FIELDS = ['inner ICMP checksum', 'quoted IPv4 header checksum', 'quoted IPv4 source', 'quoted IPv4 destination', 'quoted UDP checksum'];

/**
 * The forward claim, as problem lines (none when it holds): our guest-to-host rewrite of the
 * NAT-off capture (written to `work`/ours.pcapng) is the NAT-on capture with the masks, but the
 * ICMP error, where exactly ICMP_ERROR_FIELDS differ; and the outer headers up to the UDP header
 * are the NAT-off capture's, unmasked (the rewrite leaves the underlay alone).
 */
export async function forwardProblems(off: string, on: string, work: string): Promise<string[]> {
  const out = join(work, 'ours.pcapng');
  const failed = rewrite(off, out);
  if (failed.length > 0) return failed;
  const [ours, kernel, input] = await Promise.all([readPackets(out), readPackets(on), readPackets(off)]);
  const problems = differences(ours, kernel, [ICMP_ERROR_FRAME]);
  ours.forEach((p, i) => {
    const end = outer(p.data).udp;
    const a = input[i]?.data.subarray(0, end);
    if (a === undefined || !Buffer.from(a).equals(p.data.subarray(0, end))) problems.push(`frame ${i + 1}: the outer headers are not the input's`);
  });
  const e = ICMP_ERROR_FRAME - 1;
  if (ours[e] && kernel[e]) {
    const a = masked(ours[e].data);
    const b = masked(kernel[e].data);
    const found = differingFields(a, b);
    if (found.map(([, , f]) => f).join('|') !== ICMP_ERROR_FIELDS.join('|')) {
      const seen = found.map(([s, end, f]) => `${f} bytes ${s}-${end - 1} kernel ${hex(b, s, end)} ours ${hex(a, s, end)}`);
      problems.push(`frame ${ICMP_ERROR_FRAME} (ICMP error) differs from the kernel's in [${seen.join('; ')}], expected exactly [${ICMP_ERROR_FIELDS.join(', ')}]`);
    }
  }
  return problems;
}

/** The reverse claim: host-to-guest of the NAT-on capture is the NAT-off capture with the masks, every frame. */
export async function reverseProblems(off: string, on: string, work: string): Promise<string[]> {
  const back = join(work, 'back.pcapng');
  const failed = rewrite(on, back, ['-d', 'host-to-guest']);
  if (failed.length > 0) return failed;
  return differences(await readPackets(back), await readPackets(off));
}

const TSHARK_CHECKS = ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'];
const ICMP_ERROR_TSHARK = ['ip.src', 'ip.dst', 'ip.checksum.status', 'udp.srcport', 'udp.dstport', 'udp.checksum.status', 'icmp.checksum.status'];

/** tshark's view of the ICMP error frame, ICMP_ERROR_TSHARK fields (every occurrence: underlay, inner, quoted). */
export function icmpErrorFields(file: string): string[] {
  const [line] = tsharkFields(file, ICMP_ERROR_TSHARK, [...TSHARK_CHECKS, '-Y', `frame.number == ${ICMP_ERROR_FRAME}`]);
  return (line ?? '').split('\t');
}

/**
 * What tshark must read in the ICMP error on an underlay: the far end's error (192.168.11.1 to
 * .2) quoting `quote` (source, destination), every checksum good but the outer UDP one when the
 * underlay has none (0: "not present" over IPv4, "illegal" over IPv6, as in the kernel's own
 * capture).
 */
export function expectedIcmpError(u: Underlay, quote: [string, string]): string[] {
  const v4 = u.ip === 4;
  return [
    `${v4 ? '172.16.0.2,' : ''}192.168.11.1,${quote[0]}`,
    `${v4 ? '172.16.0.1,' : ''}192.168.11.2,${quote[1]}`,
    `${v4 ? '1,' : ''}1,1`,
    '49152,33333',
    '4789,5300',
    `${u.outerChecksum ? '1' : v4 ? '3' : '4'},1`,
    '1',
  ];
}
