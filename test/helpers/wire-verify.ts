/**
 * Full-recomputation checksum residuals for tests: the folded ones-complement
 * sum of every byte a checksum covers, the checksum field included (plus the
 * pseudo-header). A valid checksum gives 0xFFFF; incremental updates must keep
 * the residual unchanged (mod 0xFFFF), whether it was valid or not.
 * Offsets come from PacketDecoder; the sums are computed here independently.
 */
import { PacketDecoder, NET_IPV4, NET_IPV6 } from '../../src/wire/decode.js';
import type { IpInfo } from '../../src/wire/ip.js';
import { ckOffset, fold16, sum } from './wire-build.js';

export interface Residuals {
  ip: number | null;
  l4: number | null;
  /**
   * The TCP/UDP field holds a transmit-offload seed (src/wire/offload.ts: fold of the pseudo-header sum with the
   * L4 length, or for TCP without it) and is no valid checksum (judged when the datagram is captured whole).
   */
  l4Seed: boolean;
  /** The IPv4 header checksum is 0x0000 and wrong (IP checksum offload, when `l4Seed` or `tso`). */
  ipZero: boolean;
  /** A TSO frame: IPv4 total length 0, or an IP length past the frame. */
  tso: boolean;
  innerIp: number | null;
  innerL4Field: number | null;
}

const dec = new PacketDecoder();

function l4Residual(buf: Uint8Array, ip: IpInfo, avail: number): number | null {
  const off = ckOffset[ip.proto];
  if (off === undefined || ip.l4Off < 0 || ip.isFragment || ip.end > avail) return null;
  const len = ip.end - ip.l4Off;
  if (len < off + 2) return null;
  const ck = (buf[ip.l4Off + off]! << 8) | buf[ip.l4Off + off + 1]!;
  if (ip.proto === 17 && ip.version === 4 && ck === 0) return null;
  let p = 0;
  if (ip.proto !== 1) {
    const alen = ip.version === 4 ? 4 : 16;
    p = sum(buf, ip.srcOff, alen) + sum(buf, ip.pseudoDstOff, alen) + ip.proto + (len >>> 16) + (len & 0xffff);
  }
  return fold16(sum(buf, ip.l4Off, len) + p);
}

function isSeed(buf: Uint8Array, ip: IpInfo, avail: number, frameEnd: number): boolean {
  if ((ip.proto !== 6 && ip.proto !== 17) || ip.l4Off < 0 || ip.isFragment) return false;
  const off = ckOffset[ip.proto]!;
  const alen = ip.version === 4 ? 4 : 16;
  if (ip.l4Off + off + 2 > avail || ip.srcOff + alen > avail || ip.pseudoDstOff + alen > avail) return false;
  let len = (ip.lengthExceedsFrame ? frameEnd : ip.end) - ip.l4Off;
  const ck = (buf[ip.l4Off + off]! << 8) | buf[ip.l4Off + off + 1]!;
  if (ip.proto === 17) {
    const ulen = (buf[ip.l4Off + 4]! << 8) | buf[ip.l4Off + 5]!;
    if (ck === 0 || ulen < 8 || ulen > len) return false;
    len = ulen;
  }
  const addr = sum(buf, ip.srcOff, alen) + sum(buf, ip.pseudoDstOff, alen);
  const full = fold16(addr + ip.proto + (len >>> 16) + (len & 0xffff));
  const nolen = fold16(addr + ip.proto);
  if (ck !== full && !(ip.proto === 6 && ck === nolen)) return false;
  if (ip.l4Off + len > avail) return true;
  return fold16(sum(buf, ip.l4Off, len) + addr + ip.proto + (len >>> 16) + (len & 0xffff)) !== 0xffff || (ip.proto === 6 && ck === 0xffff);
}

export function residuals(buf: Uint8Array, linkType: number, capLen = buf.length, origLen = capLen): Residuals {
  const d = dec.decode(buf, 0, capLen, origLen, linkType);
  const out: Residuals = { ip: null, l4: null, l4Seed: false, ipZero: false, tso: false, innerIp: null, innerL4Field: null };
  if (d.net !== NET_IPV4 && d.net !== NET_IPV6) return out;
  const ip = d.ip;
  if (ip.version === 4 && ip.headerCaptured) out.ip = fold16(sum(buf, ip.off, ip.headerLen));
  out.l4 = l4Residual(buf, ip, d.capEnd);
  out.l4Seed = isSeed(buf, ip, d.capEnd, d.frameEnd);
  out.ipZero = out.ip !== null && out.ip !== 0xffff && buf[ip.off + 10] === 0 && buf[ip.off + 11] === 0;
  out.tso = ip.zeroLength || ip.lengthExceedsFrame;
  if (d.icmpError && d.inner.version === 4 && d.inner.headerCaptured) out.innerIp = fold16(sum(buf, d.inner.off, d.inner.headerLen));
  if (d.icmpError && d.inner.l4Off >= 0) {
    const o = ckOffset[d.inner.proto];
    if (o !== undefined && d.inner.l4Off + o + 2 <= d.inner.dataEnd) out.innerL4Field = (buf[d.inner.l4Off + o]! << 8) | buf[d.inner.l4Off + o + 1]!;
  }
  return out;
}

/** Residuals compared mod 0xFFFF (0 and 0xFFFF are the same ones-complement value). */
export function sameResidual(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return a % 0xffff === b % 0xffff;
}
