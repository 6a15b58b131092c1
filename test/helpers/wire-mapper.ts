/**
 * A tiny InterfaceMapper for translator tests: first matching rule wins,
 * `mapped = (addr & ~mask) | (net & mask)`, special addresses never mapped.
 * Rules: "G/len=H/len" for IPv4 or IPv6 (any prefix length).
 */
import ipaddr from 'ipaddr.js';
import type { InterfaceMapper } from '../../src/nat/mapper.js';

interface V4Rule {
  index: number;
  guest: number;
  host: number;
  mask: number;
}
interface V6Rule {
  index: number;
  guest: Uint8Array;
  host: Uint8Array;
  bits: number;
}

export type TestDirection = 'g2h' | 'h2g';

export class TestMapper implements InterfaceMapper {
  active = true;
  lastRule = -1;
  private readonly v4: V4Rule[] = [];
  private readonly v6: V6Rule[] = [];

  constructor(
    readonly rules: readonly string[],
    readonly direction: TestDirection = 'g2h',
  ) {
    rules.forEach((text, index) => {
      const [g, h] = text.split('=') as [string, string];
      const [ga, gl] = ipaddr.parseCIDR(g);
      const [ha] = ipaddr.parseCIDR(h);
      if (ga.kind() === 'ipv4') {
        const mask = gl === 0 ? 0 : (0xffffffff << (32 - gl)) >>> 0;
        this.v4.push({ index, guest: (bytesToU32(ga.toByteArray()) & mask) >>> 0, host: (bytesToU32(ha.toByteArray()) & mask) >>> 0, mask });
      } else {
        this.v6.push({ index, guest: Uint8Array.from(ga.toByteArray()), host: Uint8Array.from(ha.toByteArray()), bits: gl });
      }
    });
  }

  /** The same rules, the other way. */
  reversed(): TestMapper {
    return new TestMapper(this.rules, this.direction === 'g2h' ? 'h2g' : 'g2h');
  }

  map4(addr: number): number {
    const a = addr >>> 0;
    const top = a >>> 24;
    if (top === 0 || top === 127 || top >= 224) return -1; // 0/8, 127/8, 224/4, 240/4 incl. broadcast
    for (const r of this.v4) {
      const from = this.direction === 'g2h' ? r.guest : r.host;
      const to = this.direction === 'g2h' ? r.host : r.guest;
      if (((a & r.mask) >>> 0) === from) {
        this.lastRule = r.index;
        return ((a & ~r.mask) | to) >>> 0;
      }
    }
    return -1;
  }

  map6(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): boolean {
    if (isSpecial6(src, srcOff)) return false;
    for (const r of this.v6) {
      const from = this.direction === 'g2h' ? r.guest : r.host;
      const to = this.direction === 'g2h' ? r.host : r.guest;
      if (!prefixMatch(src, srcOff, from, r.bits)) continue;
      this.lastRule = r.index;
      for (let i = 0; i < 16; i++) {
        const bits = Math.max(0, Math.min(8, r.bits - i * 8));
        const m = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
        dst[dstOff + i] = (src[srcOff + i]! & ~m & 0xff) | (to[i]! & m);
      }
      return true;
    }
    return false;
  }

  /** No rule is scoped to tunnels here: the same rules apply inside every tunnel. */
  inTunnel(_kind: number, _id: number): InterfaceMapper {
    return this;
  }

  ruleText(index: number): string {
    return this.rules[index] ?? `#${index}`;
  }
}

function bytesToU32(b: number[]): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function prefixMatch(a: Uint8Array, off: number, p: Uint8Array, bits: number): boolean {
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[off + i]! & m) !== (p[i]! & m)) return false;
  }
  return true;
}

function isSpecial6(a: Uint8Array, off: number): boolean {
  let zeroTo15 = true;
  for (let i = 0; i < 15; i++) if (a[off + i] !== 0) zeroTo15 = false;
  if (zeroTo15 && (a[off + 15] === 0 || a[off + 15] === 1)) return true; // :: and ::1
  if (a[off] === 0xff) return true; // ff00::/8
  if (a[off] === 0xfe && (a[off + 1]! & 0xc0) === 0x80) return true; // fe80::/10
  return false;
}
