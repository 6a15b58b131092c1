/**
 * Tunnel-scoped rules through the translator (issue 23): the RuleTable's
 * mappers and Translator together. Clones behind VNIs 5001 and 5002 share
 * one guest network and get two host networks; a scoped rule never touches
 * the outer headers nor another tunnel's packets; it applies to what is
 * nested inside its tunnel; the first match wins in the order given; the
 * reverse table gives the bytes back; rule hits count the scoped rule.
 */
import { describe, expect, it } from 'vitest';
import { parseRule } from '../../src/nat/rules.js';
import { type Direction, RuleTable } from '../../src/nat/table.js';
import { Translator } from '../../src/nat/translate.js';
import type { InterfaceMapper } from '../../src/nat/mapper.js';
import * as B from '../helpers/wire-build.js';

const { hex, toHex, ip4, concat, be32 } = B;
const U1 = ip4('172.16.0.1');
const U2 = ip4('172.16.0.2');
const GUEST = ip4('10.0.0.2');
const GATEWAY = ip4('10.0.0.1');
const dns = hex('12340100000100000000000003777777076578616d706c6503636f6d0000010001');

const vxlan = (vni: number): Uint8Array => concat(hex('08000000'), be32(vni << 8));
/** An Ethernet frame of IPv4 UDP (from 49152 to 4789) carrying VXLAN `vni` and `inner`. */
const inVxlan = (vni: number, inner: Uint8Array, src = U1, dst = U2): Uint8Array => B.ether(0x0800, B.ipv4L4(src, dst, 17, B.udp(49152, 4789, concat(vxlan(vni), inner))));
/** The clone's DNS query, 10.0.0.2 -> 10.0.0.1. */
const query = (): Uint8Array => B.ether(0x0800, B.ipv4L4(GUEST, GATEWAY, 17, B.udp(33000, 53, dns)));

function mapperOf(rules: string[], direction: Direction = 'guest-to-host'): InterfaceMapper {
  return new RuleTable(
    rules.map((r) => parseRule(r)),
    direction,
  ).mapperFor({ id: 0, index: 0, name: 'tap0', linkType: 1, snapLength: 0, ipv4: [], ipv6: [] });
}

/** The inner IPv4 source and destination at the end of `frame` (the last 20 + 8 + dns bytes are the inner IPv4 UDP packet). */
function innerAddresses(frame: Uint8Array): string {
  const ip = frame.length - dns.length - 8 - 20;
  return [12, 16].map((o) => Array.from(frame.subarray(ip + o, ip + o + 4)).join('.')).join(' > ');
}

const CLONES = ['10.0.0.0/24=192.168.1.0/24@vni:5001', '10.0.0.0/24=192.168.2.0/24@vni:5002'];

describe('tunnel-scoped rules in the translator', () => {
  it('clones behind VNIs 5001 and 5002: one guest network onto two host networks; the reverse gives the bytes back', () => {
    const tr = new Translator();
    tr.countRuleHits(2);
    const g2h = mapperOf(CLONES);
    const h2g = mapperOf(CLONES, 'host-to-guest');
    const frames = [inVxlan(5001, query()), inVxlan(5002, query())];
    const inputs = frames.map((f) => f.slice());
    for (const f of frames) expect(tr.translate(f, 0, f.length, f.length, 1, g2h).changed).toBe(true);
    expect(frames.map(innerAddresses)).toEqual(['192.168.1.2 > 192.168.1.1', '192.168.2.2 > 192.168.2.1']);
    expect(Array.from(tr.ruleHits)).toEqual([2, 2]);
    // The outer Ethernet, IPv4 and UDP ports and the VXLAN header: unchanged (the UDP checksum takes the delta).
    frames.forEach((f, i) => {
      expect(toHex(f.subarray(0, 40))).toBe(toHex(inputs[i]!.subarray(0, 40)));
      expect(toHex(f.subarray(42, 50))).toBe(toHex(inputs[i]!.subarray(42, 50)));
    });
    for (const f of frames) tr.translate(f, 0, f.length, f.length, 1, h2g);
    frames.forEach((f, i) => expect(toHex(f)).toBe(toHex(inputs[i]!)));
  });

  it('the direct rewrite path gives the same bytes', () => {
    const tr = new Translator();
    const g2h = mapperOf(CLONES);
    const a = inVxlan(5002, query());
    const b = a.slice();
    tr.translate(a, 0, a.length, a.length, 1, g2h);
    tr.rewrite(b, 0, b.length, b.length, 1, g2h);
    expect(toHex(b)).toBe(toHex(a));
    expect(innerAddresses(b)).toBe('192.168.2.2 > 192.168.2.1');
  });

  it('nothing outside the tunnel: another VNI, the outer headers, a packet without a tunnel', () => {
    const tr = new Translator();
    const g2h = mapperOf(CLONES);
    expect(g2h.active).toBe(true);
    // Another VNI; no tunnel; outer 10.0.0.2 > 10.0.0.1 carrying VNI 5001 (the outer headers are never the scoped rule's).
    const frames = [inVxlan(5003, query()), query(), inVxlan(5001, B.ether(0x0800, B.ipv4L4(U1, U2, 17, B.udp(1, 2, dns))), GUEST, GATEWAY)];
    for (const f of frames) {
      const before = f.slice();
      expect(tr.translate(f, 0, f.length, f.length, 1, g2h).changed).toBe(false);
      expect(toHex(f)).toBe(toHex(before));
    }
  });

  it('a rule scoped to the outer tunnel applies to the packets nested inside it; one scoped to the inner VNI only there', () => {
    const tr = new Translator();
    const nested = (): Uint8Array => inVxlan(5001, inVxlan(7, query()));
    const outerOnly = nested();
    tr.translate(outerOnly, 0, outerOnly.length, outerOnly.length, 1, mapperOf(['10.0.0.0/24=192.168.1.0/24@vni:5001']));
    expect(innerAddresses(outerOnly)).toBe('192.168.1.2 > 192.168.1.1');
    const innerOnly = nested();
    tr.translate(innerOnly, 0, innerOnly.length, innerOnly.length, 1, mapperOf(['10.0.0.0/24=192.168.7.0/24@vni:7']));
    expect(innerAddresses(innerOnly)).toBe('192.168.7.2 > 192.168.7.1');
    // VNI 7 directly (not inside 5001) with a rule for 5001 only: untouched.
    const alone = inVxlan(7, query());
    expect(tr.translate(alone, 0, alone.length, alone.length, 1, mapperOf(['10.0.0.0/24=192.168.1.0/24@vni:5001'])).changed).toBe(false);
  });

  it('first match in the order given: an unscoped rule before a scoped one wins inside the tunnel too', () => {
    const tr = new Translator();
    tr.countRuleHits(2);
    const f = inVxlan(5001, query());
    tr.translate(f, 0, f.length, f.length, 1, mapperOf(['10.0.0.0/16=172.20.0.0/16', '10.0.0.0/24=192.168.1.0/24@vni:5001']));
    expect(innerAddresses(f)).toBe('172.20.0.2 > 172.20.0.1');
    expect(Array.from(tr.ruleHits)).toEqual([2, 0]);
    const g = inVxlan(5001, query());
    tr.countRuleHits(2);
    const r = tr.translate(g, 0, g.length, g.length, 1, mapperOf(['10.0.0.0/24=192.168.1.0/24@vni:*', '10.0.0.0/16=172.20.0.0/16']));
    expect(innerAddresses(g)).toBe('192.168.1.2 > 192.168.1.1');
    expect(Array.from(tr.ruleHits)).toEqual([2, 0]);
    expect(r.describe(mapperOf(['10.0.0.0/24=192.168.1.0/24@vni:*']))).toContain('(rule 10.0.0.0/24=192.168.1.0/24@vni:*)');
  });
});
