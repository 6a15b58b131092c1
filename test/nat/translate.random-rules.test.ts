/**
 * Property: for random rules (a random prefix length around an address that
 * really occurs in a corpus capture, onto a random host network), rewriting
 * every packet of that capture guest-to-host and then host-to-guest gives
 * back the original bytes, and the rule really translated something.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RuleError } from '../../src/errors.js';
import { parseRule } from '../../src/nat/rules.js';
import { RuleTable } from '../../src/nat/table.js';
import { Translator } from '../../src/nat/translate.js';
import { PacketDecoder } from '../../src/wire/decode.js';
import { readPackets, type TestPacket } from '../helpers/capture.js';
import { corpusPath, manifest } from '../helpers/corpus.js';

interface Sample {
  packets: TestPacket[];
  /** Addresses seen in IP headers: [bytes, family]. */
  addrs: Array<[Uint8Array, 4 | 6]>;
}

async function load(): Promise<Sample[]> {
  const dec = new PacketDecoder();
  const picked = manifest().filter((e) => !e.damaged && e.packets > 0 && e.packets <= 600 && /ipv6|udp|tcp|icmp|arp/.test(e.notes));
  const out: Sample[] = [];
  for (const e of picked) {
    const packets = await readPackets(corpusPath(e.path));
    const addrs: Array<[Uint8Array, 4 | 6]> = [];
    for (const p of packets) {
      const d = dec.decode(p.data, 0, p.data.length, p.originalLength, p.linkType);
      const ip = d.ip;
      if ((ip.version === 4 || ip.version === 6) && ip.dstOff + (ip.version === 4 ? 4 : 16) <= d.capEnd) {
        const n = ip.version === 4 ? 4 : 16;
        addrs.push([p.data.slice(ip.srcOff, ip.srcOff + n), ip.version], [p.data.slice(ip.dstOff, ip.dstOff + n), ip.version]);
      }
    }
    if (addrs.length > 0) out.push({ packets, addrs });
  }
  return out;
}

function prefixText(bytes: Uint8Array, len: number, family: 4 | 6): string {
  const b = Uint8Array.from(bytes);
  for (let i = 0; i < b.length; i++) {
    const keep = Math.max(0, Math.min(8, len - i * 8));
    b[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  if (family === 4) return `${b.join('.')}/${len}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return `${words.join(':')}/${len}`;
}

describe('random rules over corpus captures', () => {
  it('g2h then h2g is the identity, and the rule translates', async () => {
    const samples = await load();
    expect(samples.length).toBeGreaterThan(40);
    const tr = new Translator();
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 1000 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), async (si, ai, lenSeed, hostBytes) => {
        const s = samples[si % samples.length]!;
        const [addr, family] = s.addrs[ai % s.addrs.length]!;
        const len = family === 4 ? 8 + (lenSeed % 23) : 16 + (lenSeed % 105); // /8../30, /16../120
        // Host network: documentation-ish space, so it never touches a special range.
        const host = Uint8Array.from(hostBytes.subarray(0, family === 4 ? 4 : 16));
        if (family === 4) host[0] = 198 + (host[0]! & 1);
        else [host[0], host[1]] = [0x20, 0x01];
        let rule;
        try {
          rule = parseRule(`${prefixText(addr, len, family)}=${prefixText(host, len, family)}`);
        } catch (e) {
          if (e instanceof RuleError) return; // a special range: rejected as it must be
          throw e;
        }
        tried++;
        const iface = { id: 0, index: 0, name: undefined, linkType: 1, snapLength: 0, ipv4: [], ipv6: [] };
        const g2h = new RuleTable([rule], 'guest-to-host').mapperFor(iface);
        const h2g = new RuleTable([rule], 'host-to-guest').mapperFor(iface);
        let changed = 0;
        for (const p of s.packets) {
          const buf = p.data.slice();
          if (tr.translate(buf, 0, buf.length, p.originalLength, p.linkType, g2h).changed) changed++;
          tr.translate(buf, 0, buf.length, p.originalLength, p.linkType, h2g);
          expect(Buffer.compare(Buffer.from(buf), Buffer.from(p.data)), `${rule.text} frame ${p.frame}`).toBe(0);
        }
        expect(changed, rule.text).toBeGreaterThan(0);
      }),
      { numRuns: 150, seed: 20261125 },
    );
    expect(tried).toBeGreaterThan(100);
  }, 120_000);
});
