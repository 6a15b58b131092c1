/** Picking translation rules that match a real capture's addresses, for corpus-wide tests. */
import { NET_ARP, PacketDecoder } from '../../src/wire/decode.js';
import type { TestPacket } from './capture.js';

/**
 * Rules for a capture: its busiest IPv4 /24 and IPv6 /64 (outer, quoted and
 * ARP addresses, special ranges left out) onto a host network the capture
 * does not use (198.18.n.0/24, fd5e:0:0:n::/64).
 */
export function rulesForCapture(pkts: readonly TestPacket[]): string[] {
  const dec = new PacketDecoder();
  const v4 = new Map<string, number>();
  const v6 = new Map<string, number>();
  const all4 = new Set<string>();
  const all6 = new Set<string>();
  for (const p of pkts) {
    const d = dec.decode(p.data, 0, p.data.length, p.originalLength, p.linkType);
    const b = p.data;
    const add = (off: number, v6len: boolean) => {
      if (off < 0 || off + (v6len ? 16 : 4) > d.capEnd) return;
      if (v6len) {
        const k = Array.from(b.subarray(off, off + 8), (x) => x.toString(16).padStart(2, '0')).join('');
        v6.set(k, (v6.get(k) ?? 0) + 1);
        all6.add(k);
      } else {
        const k = `${b[off]}.${b[off + 1]}.${b[off + 2]}`;
        v4.set(k, (v4.get(k) ?? 0) + 1);
        all4.add(k);
      }
    };
    for (const ip of [d.ip, d.inner]) {
      if (ip.version === 4 || ip.version === 6) {
        add(ip.srcOff, ip.version === 6);
        add(ip.dstOff, ip.version === 6);
      }
    }
    if (d.net === NET_ARP) {
      add(d.netOff + 14, false);
      add(d.netOff + 24, false);
    }
  }
  const usable4 = [...v4.entries()].filter(([k]) => {
    const a = Number(k.split('.')[0]);
    return a !== 0 && a !== 127 && a < 224 && !(a === 169 && k.startsWith('169.254'));
  });
  const usable6 = [...v6.entries()].filter(([k]) => !k.startsWith('fe8') && !k.startsWith('fe9') && !k.startsWith('fea') && !k.startsWith('feb') && !k.startsWith('ff') && k !== '0000000000000000');
  usable4.sort((a, b) => b[1] - a[1]);
  usable6.sort((a, b) => b[1] - a[1]);
  const rules: string[] = [];
  if (usable4[0]) {
    let n = 0;
    while (all4.has(`198.18.${n}`)) n++;
    rules.push(`${usable4[0][0]}.0/24=198.18.${n}.0/24`);
  }
  if (usable6[0]) {
    const k = usable6[0][0];
    let n = 0;
    while (all6.has(`fd5e00000000${n.toString(16).padStart(4, '0')}`)) n++;
    const g = k.match(/.{4}/g)!.join(':');
    rules.push(`${g}::/64=fd5e:0:0:${n.toString(16)}::/64`);
  }
  return rules;
}
