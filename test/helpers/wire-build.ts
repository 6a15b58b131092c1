/**
 * Packet builders for wire/translator tests. Checksums are computed in full
 * here, with a byte loop independent of src/wire/checksum.ts.
 */
import { writeFileSync } from 'node:fs';

export function hex(s: string): Uint8Array {
  const t = s.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function ip4(s: string): number {
  const p = s.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function ip6(s: string): Uint8Array {
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const words = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((w) => parseInt(w, 16));
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 255;
  });
  return out;
}

export function be16(n: number): Uint8Array {
  return Uint8Array.of((n >> 8) & 255, n & 255);
}
export function be32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** Plain ones-complement sum (unfolded) of bytes, odd length padded. */
export function sum(b: Uint8Array, off = 0, len = b.length - off): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += i % 2 === 0 ? b[off + i]! * 256 : b[off + i]!;
  return s;
}
export function fold16(s: number): number {
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}
export function cksum(b: Uint8Array, seed = 0): number {
  return ~fold16(sum(b) + seed) & 0xffff;
}

export function pseudo4(src: number, dst: number, proto: number, len: number): number {
  return sum(concat(be32(src), be32(dst), Uint8Array.of(0, proto), be16(len)));
}
export function pseudo6(src: Uint8Array, dst: Uint8Array, nh: number, len: number): number {
  return sum(concat(src, dst, be32(len), Uint8Array.of(0, 0, 0, nh)));
}

export const ckOffset: Record<number, number> = { 6: 16, 17: 6, 136: 6, 33: 6, 1: 2, 58: 2 };

export function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return concat(be16(sport), be16(dport), be16(8 + payload.length), be16(0), payload);
}
export function tcp(sport: number, dport: number, payload: Uint8Array, flags = 0x18, seq = 0x01020304): Uint8Array {
  return concat(be16(sport), be16(dport), be32(seq), be32(0x0a0b0c0d), Uint8Array.of(0x50, flags), be16(0xfaf0), be16(0), be16(0), payload);
}
export function icmpMsg(type: number, code: number, rest: number, body: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(type, code, 0, 0), be32(rest), body);
}

/** Fills the L4 checksum (full computation; UDP 0 -> 0xFFFF). `zeroUdp` leaves UDP at 0. */
export function fillL4(l4: Uint8Array, proto: number, pseudo: number, zeroUdp = false): Uint8Array {
  const off = ckOffset[proto];
  if (off === undefined) return l4;
  l4[off] = 0;
  l4[off + 1] = 0;
  if (zeroUdp && proto === 17) return l4;
  let c = cksum(l4, proto === 1 ? 0 : pseudo);
  if ((proto === 17 || proto === 136) && c === 0) c = 0xffff;
  l4[off] = c >> 8;
  l4[off + 1] = c & 255;
  return l4;
}

export interface V4Opts {
  id?: number;
  ff?: number;
  ttl?: number;
  options?: Uint8Array;
  totalLen?: number;
}
/** IPv4 header (with checksum) + payload, payload taken as is. */
export function ipv4(src: number, dst: number, proto: number, payload: Uint8Array, o: V4Opts = {}): Uint8Array {
  const opt = o.options ?? new Uint8Array(0);
  const hl = 20 + opt.length;
  const h = concat(Uint8Array.of(0x40 | (hl >> 2), 0), be16(o.totalLen ?? hl + payload.length), be16(o.id ?? 0x1234), be16(o.ff ?? 0), Uint8Array.of(o.ttl ?? 64, proto), be16(0), be32(src), be32(dst), opt);
  const c = cksum(h);
  h[10] = c >> 8;
  h[11] = c & 255;
  return concat(h, payload);
}
/** IPv4 + L4 with its checksum filled. */
export function ipv4L4(src: number, dst: number, proto: number, l4: Uint8Array, o: V4Opts = {}, zeroUdp = false): Uint8Array {
  return ipv4(src, dst, proto, fillL4(l4, proto, pseudo4(src, dst, proto, l4.length), zeroUdp), o);
}

export function ipv6(src: Uint8Array, dst: Uint8Array, nh: number, payload: Uint8Array, hopLimit = 64): Uint8Array {
  return concat(Uint8Array.of(0x60, 0, 0, 0), be16(payload.length), Uint8Array.of(nh, hopLimit), src, dst, payload);
}
/** IPv6 + L4 (no extension headers) with its checksum filled against `pseudoDst` (default dst). */
export function ipv6L4(src: Uint8Array, dst: Uint8Array, proto: number, l4: Uint8Array, zeroUdp = false): Uint8Array {
  return ipv6(src, dst, proto, fillL4(l4, proto, pseudo6(src, dst, proto, l4.length), zeroUdp));
}

export const MAC_A = hex('525400123456');
export const MAC_B = hex('525400abcdef');
export function ether(type: number, payload: Uint8Array, dst = MAC_B, src = MAC_A): Uint8Array {
  return concat(dst, src, be16(type), payload);
}

/** One frame of a test capture: bytes, original length (default: the captured length), time in seconds. */
export interface PcapFrame {
  data: Uint8Array;
  orig?: number;
  time?: number;
}

/** A classic little-endian microsecond pcap in memory; frame i defaults to time 1700000000 + i. */
export function pcapBytes(linkType: number, frames: ReadonlyArray<Uint8Array | PcapFrame>): Uint8Array {
  const parts: Uint8Array[] = [];
  const gh = new DataView(new ArrayBuffer(24));
  gh.setUint32(0, 0xa1b2c3d4, true);
  gh.setUint16(4, 2, true);
  gh.setUint16(6, 4, true);
  gh.setUint32(16, 262144, true);
  gh.setUint32(20, linkType, true);
  parts.push(new Uint8Array(gh.buffer));
  frames.forEach((f, i) => {
    const frame = f instanceof Uint8Array ? { data: f } : f;
    const t = frame.time ?? 1700000000 + i;
    const rh = new DataView(new ArrayBuffer(16));
    rh.setUint32(0, Math.floor(t), true);
    rh.setUint32(4, Math.round((t - Math.floor(t)) * 1e6), true);
    rh.setUint32(8, frame.data.length, true);
    rh.setUint32(12, frame.orig ?? frame.data.length, true);
    parts.push(new Uint8Array(rh.buffer), frame.data);
  });
  return concat(...parts);
}

/** Writes such a pcap (for tcpdump/tshark checks while building vectors). */
export function writePcap(path: string, linkType: number, frames: ReadonlyArray<Uint8Array | PcapFrame>): void {
  writeFileSync(path, pcapBytes(linkType, frames));
}
