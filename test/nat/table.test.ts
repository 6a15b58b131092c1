import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import type { CaptureInterface } from '../../src/capture/interface.js';
import { RuleError } from '../../src/errors.js';
import { type InterfaceMapper, SCOPE_KEY, SCOPE_TEID, SCOPE_VNI } from '../../src/nat/mapper.js';
import {
  type Prefix,
  type Rule,
  formatPrefix,
  networkBytes,
  parseRule,
  prefixesOverlap,
} from '../../src/nat/rules.js';
import { type Direction, type MapEntry, RuleTable, compileMapper } from '../../src/nat/table.js';
import { ruleError } from '../helpers/errors.js';

// ---------------------------------------------------------------------------
// Helpers

function iface(
  id: number,
  name?: string,
  opts: { ipv4?: Array<[string, string]>; ipv6?: Array<[string, number]> } = {},
): CaptureInterface {
  return {
    id,
    index: id,
    name,
    linkType: 1,
    snapLength: 0,
    ipv4: (opts.ipv4 ?? []).map(([addr, mask]) => ({ addr: v4(addr), mask: v4(mask) })),
    ipv6: (opts.ipv6 ?? []).map(([addr, prefixLength]) => ({ addr: v6(addr), prefixLength })),
  };
}

const v4 = (s: string): number => ipaddr.IPv4.parse(s).toByteArray().reduce((a, b) => a * 256 + b, 0);
const v4s = (n: number): string => (n === -1 ? '-1' : [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'));
const v6 = (s: string): Uint8Array => Uint8Array.from(ipaddr.IPv6.parse(s).toByteArray());
const v6s = (b: Uint8Array): string => ipaddr.fromByteArray(Array.from(b)).toString();

function table(texts: string[], direction: Direction = 'guest-to-host'): RuleTable {
  return new RuleTable(
    texts.map((t) => parseRule(t)),
    direction,
  );
}

/** map4 on dotted text; '-1' when not translated. */
const m4 = (m: InterfaceMapper, addr: string): string => v4s(m.map4(v4(addr)));

/** map6 on text; null when not translated. */
function m6(m: InterfaceMapper, addr: string): string | null {
  const dst = new Uint8Array(16);
  return m.map6(v6(addr), 0, dst, 0) ? v6s(dst) : null;
}


const IF0 = iface(0, 'tap0');
const IF1 = iface(1, 'tap1');

// ---------------------------------------------------------------------------

describe('RuleTable: IPv4 mapping', () => {
  it('keeps the host bits: 10.0.0.2 -> 192.168.1.2 for a /24', () => {
    const m = table(['10.0.0.0/24=192.168.1.0/24']).mapperFor(IF0);
    expect(m.active).toBe(true);
    expect(m.lastRule).toBe(-1);
    expect(m4(m, '10.0.0.2')).toBe('192.168.1.2');
    expect(m.lastRule).toBe(0);
    expect(m.ruleText(0)).toBe('10.0.0.0/24=192.168.1.0/24');
    expect(() => m.ruleText(1)).toThrow(RangeError);
  });

  it('maps subnet network and broadcast addresses bijectively', () => {
    const m = table(['10.0.0.0/24=192.168.1.0/24']).mapperFor(IF0);
    expect(m4(m, '10.0.0.0')).toBe('192.168.1.0');
    expect(m4(m, '10.0.0.255')).toBe('192.168.1.255');
  });

  it('returns -1 outside every rule and leaves lastRule alone', () => {
    const m = table(['10.0.0.0/24=192.168.1.0/24']).mapperFor(IF0);
    m4(m, '10.0.0.9');
    expect(m4(m, '10.0.1.2')).toBe('-1');
    expect(m4(m, '192.168.1.2')).toBe('-1');
    expect(m.lastRule).toBe(0);
  });

  it('returns unsigned numbers above 2^31', () => {
    const m = table(['10.0.0.0/8=200.0.0.0/8']).mapperFor(IF0);
    expect(m.map4(v4('10.1.2.3'))).toBe(0xc8010203);
    const back = table(['10.0.0.0/8=200.0.0.0/8'], 'host-to-guest').mapperFor(IF0);
    expect(back.map4(0xc8010203)).toBe(0x0a010203);
  });

  it('QEMU, tcprewrite and /32 forms map the same way', () => {
    const m = table(['172.16.0.0:255.255.0.0:10.20.0.0', '10.0.0.0/24:192.168.1.0/24', '10.9.9.9/32=192.168.9.1']).mapperFor(IF0);
    expect(m4(m, '172.16.200.7')).toBe('10.20.200.7');
    expect(m4(m, '10.0.0.77')).toBe('192.168.1.77');
    expect(m4(m, '10.9.9.9')).toBe('192.168.9.1');
    expect(m.lastRule).toBe(2);
    expect(m4(m, '10.9.9.8')).toBe('-1');
  });

  it('host-to-guest inverts guest-to-host', () => {
    const rules = ['10.0.0.0/24=192.168.1.0/24', '10.0.0.0/24=192.168.2.0/24@tap1'];
    const back0 = table(rules, 'host-to-guest').mapperFor(IF0);
    expect(m4(back0, '192.168.1.2')).toBe('10.0.0.2');
    expect(m4(back0, '192.168.2.2')).toBe('-1');
    expect(m4(back0, '10.0.0.2')).toBe('-1');
    const back1 = table(rules, 'host-to-guest').mapperFor(IF1);
    expect(m4(back1, '192.168.1.3')).toBe('10.0.0.3');
    expect(m4(back1, '192.168.2.3')).toBe('10.0.0.3');
    expect(back1.lastRule).toBe(1);
  });

  it('does not translate IPv6 with only IPv4 rules, and vice versa', () => {
    const m = table(['10.0.0.0/24=192.168.1.0/24']).mapperFor(IF0);
    expect(m6(m, 'fd00::1')).toBeNull();
    const m6only = table(['fd00::/64=fd01::/64']).mapperFor(IF0);
    expect(m4(m6only, '10.0.0.1')).toBe('-1');
  });
});

describe('RuleTable: IPv6 mapping', () => {
  it('a /64', () => {
    const m = table(['fd00::/64=fd00:1::/64']).mapperFor(IF0);
    expect(m6(m, 'fd00::1:2:3:4')).toBe('fd00:1::1:2:3:4');
    expect(m6(m, 'fd00:0:0:1::1')).toBeNull();
  });

  it('a /52: the mask cuts word 1 after 20 bits', () => {
    const m = table(['fd00:1234:5678:9000::/52=fd00:aaaa:bbbb:c000::']).mapperFor(IF0);
    expect(m6(m, 'fd00:1234:5678:9abc:1:2:3:4')).toBe('fd00:aaaa:bbbb:cabc:1:2:3:4');
    expect(m6(m, 'fd00:1234:5678:9fff:ffff:ffff:ffff:ffff')).toBe('fd00:aaaa:bbbb:cfff:ffff:ffff:ffff:ffff');
    expect(m6(m, 'fd00:1234:5678:a000::')).toBeNull();
    expect(m6(m, 'fd00:1234:5679:9000::')).toBeNull();
    const back = table(['fd00:1234:5678:9000::/52=fd00:aaaa:bbbb:c000::'], 'host-to-guest').mapperFor(IF0);
    expect(m6(back, 'fd00:aaaa:bbbb:cabc:1:2:3:4')).toBe('fd00:1234:5678:9abc:1:2:3:4');
  });

  it('lengths in words 2 and 3, and /128', () => {
    const m = table(['fd00::1:0:0:0/81=fd00::2:0:0:0', 'fd00::7:0/125=fd00::9:10', 'fd00::5/128=fd00::6']).mapperFor(IF0);
    expect(m6(m, 'fd00::1:7fff:1:2')).toBe('fd00::2:7fff:1:2');
    expect(m6(m, 'fd00::1:8000:1:2')).toBeNull();
    expect(m6(m, 'fd00::7:7')).toBe('fd00::9:17');
    expect(m6(m, 'fd00::7:8')).toBeNull();
    expect(m6(m, 'fd00::5')).toBe('fd00::6');
    expect(m.lastRule).toBe(2);
  });

  it('writes at offsets, in place, and leaves dst untouched on no match', () => {
    const m = table(['fd00::/64=fd00:1::/64']).mapperFor(IF0);
    const buf = new Uint8Array(40);
    buf.set(v6('fd00::9'), 8);
    expect(m.map6(buf, 8, buf, 8)).toBe(true);
    expect(v6s(buf.subarray(8, 24))).toBe('fd00:1::9');
    const dst = new Uint8Array(20).fill(0xee);
    expect(m.map6(buf, 8, dst, 2)).toBe(false);
    expect(dst.every((b) => b === 0xee)).toBe(true);
    buf.set(v6('fd00::a'), 8);
    expect(m.map6(buf, 8, dst, 2)).toBe(true);
    expect(v6s(dst.subarray(2, 18))).toBe('fd00:1::a');
    expect([dst[0], dst[1], dst[18], dst[19]]).toEqual([0xee, 0xee, 0xee, 0xee]);
  });
});

describe('RuleTable: rule order and scopes', () => {
  it('first match in the order given wins, across scopes, even over a longer prefix', () => {
    const t = table(['10.0.0.0/16=172.16.0.0/16@tap0', '10.0.0.0/24=192.168.1.0/24']);
    const m0 = t.mapperFor(IF0);
    expect(m4(m0, '10.0.0.5')).toBe('172.16.0.5');
    expect(m0.lastRule).toBe(0);
    const m1 = t.mapperFor(IF1);
    expect(m4(m1, '10.0.0.5')).toBe('192.168.1.5');
    expect(m1.lastRule).toBe(1);
    expect(m4(m1, '10.0.1.5')).toBe('-1');

    const t2 = table(['10.0.0.0/24=192.168.1.0/24@tap0', '10.0.0.0/16=172.16.0.0/16']);
    const n0 = t2.mapperFor(IF0);
    expect(m4(n0, '10.0.0.5')).toBe('192.168.1.5');
    expect(n0.lastRule).toBe(0);
    expect(m4(n0, '10.0.1.5')).toBe('172.16.1.5');
    expect(n0.lastRule).toBe(1);
  });

  it('first match also holds on the hashed path (> 8 rules)', () => {
    const filler = Array.from({ length: 10 }, (_, i) => `10.${100 + i}.0.0/24=192.168.${100 + i}.0/24`);
    const t = table([...filler, '10.0.0.0/16=172.16.0.0/16@tap0', '10.0.0.0/24=192.168.1.0/24', '10.0.0.0/28=172.20.0.0/28@tap1']);
    const m0 = t.mapperFor(IF0);
    expect(m4(m0, '10.0.0.5')).toBe('172.16.0.5');
    expect(m0.lastRule).toBe(10);
    expect(m4(m0, '10.105.0.9')).toBe('192.168.105.9');
    expect(m0.lastRule).toBe(5);
    const m1 = t.mapperFor(IF1);
    expect(m4(m1, '10.0.0.5')).toBe('192.168.1.5');
    expect(m1.lastRule).toBe(11);
    expect(m4(m1, '10.0.1.5')).toBe('-1');
  });

  it('hashed path: a later group with a smaller first entry cannot override an earlier hit', () => {
    // Groups: /24 {0, 2}, /16 {1, 3}. 10.0.0.5 matches entries 2 (/24) and 3 (/16): 2 wins.
    const p = (s: string): Prefix => parseRule(s).guest;
    const list: MapEntry[] = [
      { ruleIndex: 0, match: p('10.9.9.0/24'), replace: p('1.0.0.0/24') },
      { ruleIndex: 1, match: p('10.8.0.0/16'), replace: p('2.0.0.0/16') },
      { ruleIndex: 2, match: p('10.0.0.0/24'), replace: p('3.0.0.0/24') },
      { ruleIndex: 3, match: p('10.0.0.0/16'), replace: p('4.0.0.0/16') },
    ];
    for (const threshold of [Infinity, 0]) {
      const m = compileMapper(list, ['a', 'b', 'c', 'd'], threshold);
      expect(m4(m, '10.0.0.5')).toBe('3.0.0.5');
      expect(m.lastRule).toBe(2);
      expect(m4(m, '10.0.1.5')).toBe('4.0.1.5');
      expect(m.lastRule).toBe(3);
    }
  });

  it('selects rules by interface name and by id', () => {
    const t = table(['10.0.0.0/24=192.168.1.0/24@tap0', '10.0.0.0/24=192.168.2.0/24@#1', 'fd00::/64=fd01::/64@tap2']);
    expect(m4(t.mapperFor(IF0), '10.0.0.2')).toBe('192.168.1.2');
    expect(m4(t.mapperFor(iface(1, 'vnet1')), '10.0.0.2')).toBe('192.168.2.2');
    expect(m4(t.mapperFor(iface(1)), '10.0.0.2')).toBe('192.168.2.2');
    const m2 = t.mapperFor(iface(2, 'tap2'));
    expect(m4(m2, '10.0.0.2')).toBe('-1');
    expect(m6(m2, 'fd00::2')).toBe('fd01::2');
  });

  it('an interface no rule applies to gets an inactive mapper', () => {
    const m = table(['10.0.0.0/24=192.168.1.0/24@tap0']).mapperFor(iface(3, 'eth0'));
    expect(m.active).toBe(false);
    expect(m4(m, '10.0.0.2')).toBe('-1');
    expect(m6(m, 'fd00::1')).toBeNull();
    expect(table([]).mapperFor(IF0).active).toBe(false);
  });

  it('unmatchedScopes lists rules naming interfaces never seen', () => {
    const t = table(['10.0.0.0/24=192.168.1.0/24@tap0', '10.1.0.0/24=192.168.2.0/24@#4', '10.2.0.0/24=192.168.3.0/24', '10.3.0.0/24=192.168.4.0/24@tap9']);
    expect(t.unmatchedScopes([IF0, IF1]).map((r) => r.text)).toEqual(['10.1.0.0/24=192.168.2.0/24@#4', '10.3.0.0/24=192.168.4.0/24@tap9']);
    expect(t.unmatchedScopes([IF0, iface(4), iface(5, 'tap9')])).toEqual([]);
  });

  it('the constructor validates the set', () => {
    expect(() => table(['10.0.0.0/24=192.168.1.0/24', '10.0.1.0/24=192.168.1.0/24@tap1'])).toThrow(RuleError);
  });
});

describe('RuleTable: tunnel scopes (inTunnel)', () => {
  it('clones behind VNIs 5001 and 5002: one guest network, two host networks, nothing outside', () => {
    const t = table(['10.0.0.0/24=192.168.1.0/24@vni:5001', '10.0.0.0/24=192.168.2.0/24@vni:5002']);
    const top = t.mapperFor(IF0);
    expect(top.active).toBe(true);
    expect(m4(top, '10.0.0.2')).toBe('-1');
    const in1 = top.inTunnel(SCOPE_VNI, 5001);
    const in2 = top.inTunnel(SCOPE_VNI, 5002);
    expect([in1.active, m4(in1, '10.0.0.2'), in1.lastRule]).toEqual([true, '192.168.1.2', 0]);
    expect([in2.active, m4(in2, '10.0.0.2'), in2.lastRule]).toEqual([true, '192.168.2.2', 1]);
    expect(top.lastRule).toBe(-1);
    // No rule for another VNI, nor for a GRE key or TEID of the same number: the packet is as outside.
    expect(top.inTunnel(SCOPE_VNI, 5003)).toBe(top);
    expect(top.inTunnel(SCOPE_KEY, 5001)).toBe(top);
    expect(top.inTunnel(SCOPE_TEID, 5001)).toBe(top);
    const back = table(['10.0.0.0/24=192.168.1.0/24@vni:5001', '10.0.0.0/24=192.168.2.0/24@vni:5002'], 'host-to-guest').mapperFor(IF0);
    expect(m4(back, '192.168.1.2')).toBe('-1');
    expect(m4(back.inTunnel(SCOPE_VNI, 5001), '192.168.1.2')).toBe('10.0.0.2');
    expect(m4(back.inTunnel(SCOPE_VNI, 5001), '192.168.2.2')).toBe('-1');
    expect(m4(back.inTunnel(SCOPE_VNI, 5002), '192.168.2.2')).toBe('10.0.0.2');
  });

  it('a rule without a tunnel scope applies outside and inside every tunnel', () => {
    const top = table(['10.1.0.0/16=172.16.0.0/16', 'fd00::/64=fd01::/64', '10.0.0.0/24=192.168.1.0/24@key:7']).mapperFor(IF0);
    expect(m4(top, '10.1.2.3')).toBe('172.16.2.3');
    expect(m4(top, '10.0.0.2')).toBe('-1');
    const k7 = top.inTunnel(SCOPE_KEY, 7);
    expect(m4(k7, '10.1.2.3')).toBe('172.16.2.3');
    expect(k7.lastRule).toBe(0);
    expect(m6(k7, 'fd00::9')).toBe('fd01::9');
    expect(k7.lastRule).toBe(1);
    expect(m4(k7, '10.0.0.2')).toBe('192.168.1.2');
    expect(k7.lastRule).toBe(2);
    const k8 = top.inTunnel(SCOPE_KEY, 8);
    expect(k8).toBe(top);
    expect(m4(k8, '10.1.2.3')).toBe('172.16.2.3');
  });

  it('first match in the order given, scoped or not', () => {
    const scopedFirst = table(['10.0.0.0/24=192.168.1.0/24@vni:5001', '10.0.0.0/16=172.16.0.0/16']).mapperFor(IF0);
    expect(m4(scopedFirst, '10.0.0.2')).toBe('172.16.0.2');
    const in1 = scopedFirst.inTunnel(SCOPE_VNI, 5001);
    expect([m4(in1, '10.0.0.2'), in1.lastRule]).toEqual(['192.168.1.2', 0]);
    expect([m4(in1, '10.0.1.2'), in1.lastRule]).toEqual(['172.16.1.2', 1]);
    const unscopedFirst = table(['10.0.0.0/16=172.16.0.0/16', '10.0.0.0/24=192.168.1.0/24@vni:5001']).mapperFor(IF0);
    const in2 = unscopedFirst.inTunnel(SCOPE_VNI, 5001);
    expect([m4(in2, '10.0.0.2'), in2.lastRule]).toEqual(['172.16.0.2', 0]);
  });

  it('*: any id of the kind, after the listed ids in the order given; unlisted ids share one mapper', () => {
    const t = table(['10.0.0.0/24=192.168.1.0/24@vni:5001', '10.0.0.0/24=192.168.8.0/24@vni:*', '10.0.0.0/24=192.168.9.0/24@teid:1,2,3']);
    const top = t.mapperFor(IF0);
    const in1 = top.inTunnel(SCOPE_VNI, 5001);
    expect([m4(in1, '10.0.0.2'), in1.lastRule]).toEqual(['192.168.1.2', 0]);
    const in77 = top.inTunnel(SCOPE_VNI, 77);
    expect([m4(in77, '10.0.0.2'), in77.lastRule]).toEqual(['192.168.8.2', 1]);
    expect(top.inTunnel(SCOPE_VNI, 16777215)).toBe(in77);
    expect(top.inTunnel(SCOPE_VNI, 0)).toBe(in77);
    for (const teid of [1, 2, 3]) expect(m4(top.inTunnel(SCOPE_TEID, teid), '10.0.0.2')).toBe('192.168.9.2');
    expect(top.inTunnel(SCOPE_TEID, 4)).toBe(top);
    const starFirst = table(['10.0.0.0/24=192.168.8.0/24@key:*', '10.0.0.0/24=192.168.1.0/24@key:5001']).mapperFor(IF0);
    const k = starFirst.inTunnel(SCOPE_KEY, 5001);
    expect([m4(k, '10.0.0.2'), k.lastRule]).toEqual(['192.168.8.2', 0]);
  });

  it('nested tunnels add the rules of each tunnel entered; the same tunnel again adds nothing', () => {
    const t = table(['10.0.0.0/24=192.168.1.0/24@key:7', '10.9.0.0/24=192.168.9.0/24@vni:5001', '10.8.0.0/24=192.168.8.0/24']);
    const top = t.mapperFor(IF0);
    const key7 = top.inTunnel(SCOPE_KEY, 7);
    const vni = top.inTunnel(SCOPE_VNI, 5001);
    const both = key7.inTunnel(SCOPE_VNI, 5001);
    expect([m4(key7, '10.0.0.2'), m4(key7, '10.9.0.2'), m4(key7, '10.8.0.2')]).toEqual(['192.168.1.2', '-1', '192.168.8.2']);
    expect([m4(vni, '10.0.0.2'), m4(vni, '10.9.0.2'), m4(vni, '10.8.0.2')]).toEqual(['-1', '192.168.9.2', '192.168.8.2']);
    expect([m4(both, '10.0.0.2'), m4(both, '10.9.0.2'), m4(both, '10.8.0.2')]).toEqual(['192.168.1.2', '192.168.9.2', '192.168.8.2']);
    expect(both.lastRule).toBe(2);
    // Either order of the two tunnels is one set of rules: one mapper.
    expect(vni.inTunnel(SCOPE_KEY, 7)).toBe(both);
    // VXLAN in VXLAN on the same VNI, or a tunnel with no rule inside: the same mapper.
    expect(vni.inTunnel(SCOPE_VNI, 5001)).toBe(vni);
    expect(key7.inTunnel(SCOPE_VNI, 5002)).toBe(key7);
    expect(both.inTunnel(SCOPE_KEY, 7).inTunnel(SCOPE_VNI, 5001)).toBe(both);
  });

  it('an interface scope and a tunnel scope together: only inside that tunnel on that interface', () => {
    const t = table(['10.0.0.0/24=192.168.1.0/24@tap1+vni:5001', 'fd00::/64=fd02::/64@#2+teid:1,2,3']);
    const m0 = t.mapperFor(IF0);
    expect(m0.active).toBe(false);
    expect(m0.inTunnel(SCOPE_VNI, 5001)).toBe(m0);
    const m1 = t.mapperFor(IF1);
    expect(m1.active).toBe(true);
    expect(m4(m1, '10.0.0.2')).toBe('-1');
    expect(m4(m1.inTunnel(SCOPE_VNI, 5001), '10.0.0.2')).toBe('192.168.1.2');
    expect(m1.inTunnel(SCOPE_TEID, 1)).toBe(m1);
    const m2 = t.mapperFor(iface(2, 'tap2'));
    expect(m6(m2, 'fd00::5')).toBeNull();
    expect(m6(m2.inTunnel(SCOPE_TEID, 3), 'fd00::5')).toBe('fd02::5');
    expect(m2.inTunnel(SCOPE_TEID, 4)).toBe(m2);
  });

  it('repeated calls return the mapper made the first time; other kinds and no scoped rule return this', () => {
    const top = table(['10.0.0.0/24=192.168.1.0/24@key:4294967295', '10.1.0.0/24=192.168.2.0/24@vni:*']).mapperFor(IF0);
    const k = top.inTunnel(SCOPE_KEY, 0xffffffff);
    expect(k).not.toBe(top);
    expect(top.inTunnel(SCOPE_KEY, 0xffffffff)).toBe(k);
    // A 32-bit key read as signed is the same key.
    expect(top.inTunnel(SCOPE_KEY, -1)).toBe(k);
    expect(top.inTunnel(SCOPE_VNI, 12)).toBe(top.inTunnel(SCOPE_VNI, 13));
    for (const kind of [0, 4, -1]) expect(top.inTunnel(kind, 12)).toBe(top);
    const plain = table(['10.0.0.0/24=192.168.1.0/24']).mapperFor(IF0);
    expect(plain.inTunnel(SCOPE_VNI, 5001)).toBe(plain);
    const list: MapEntry[] = [{ ruleIndex: 0, match: parseRule('10.0.0.0/24').guest, replace: parseRule('10.1.0.0/24').guest }];
    const compiled = compileMapper(list, ['a']);
    expect(compiled.inTunnel(SCOPE_VNI, 1)).toBe(compiled);
  });

  it('first match inside a tunnel holds on the hashed path (> 8 rules)', () => {
    const filler = Array.from({ length: 10 }, (_, i) => `10.${100 + i}.0.0/24=192.168.${100 + i}.0/24@vni:5001`);
    const t = table([...filler, '10.0.0.0/16=172.16.0.0/16@vni:5001', '10.0.0.0/24=192.168.1.0/24', '10.0.0.0/28=172.20.0.0/28@vni:*']);
    const top = t.mapperFor(IF0);
    expect([m4(top, '10.0.0.5'), top.lastRule]).toEqual(['192.168.1.5', 11]);
    expect(m4(top, '10.105.0.9')).toBe('-1');
    const inside = top.inTunnel(SCOPE_VNI, 5001);
    expect([m4(inside, '10.0.0.5'), inside.lastRule]).toEqual(['172.16.0.5', 10]);
    expect([m4(inside, '10.105.0.9'), inside.lastRule]).toEqual(['192.168.105.9', 5]);
    const other = top.inTunnel(SCOPE_VNI, 9);
    expect([m4(other, '10.0.0.5'), other.lastRule]).toEqual(['192.168.1.5', 11]);
    expect([m4(other, '10.0.1.5'), m4(other, '10.105.0.9')]).toEqual(['-1', '-1']);
  });

  it('a short-form tunnel rule takes its host network from the interface when the mapper is made', () => {
    const t = table(['10.0.0.0/24@vni:5001']);
    const m = t.mapperFor(iface(0, 'tap0', { ipv4: [['192.168.7.1', '255.255.255.0']] }));
    expect(m4(m, '10.0.0.2')).toBe('-1');
    expect(m4(m.inTunnel(SCOPE_VNI, 5001), '10.0.0.2')).toBe('192.168.7.2');
    const e = ruleError(() => t.mapperFor(iface(1, 'tap1')));
    expect(e.message).toBe('rule "10.0.0.0/24@vni:5001": interface #1 ("tap1") records no IPv4 address (if_IPv4addr); give the host network explicitly (GUEST=HOST)');
  });

  it('unmatchedScopes: a tunnel alone names no interface; an interface with a tunnel is checked', () => {
    const t = table(['10.0.0.0/24=192.168.1.0/24@vni:5001', '10.1.0.0/24=192.168.2.0/24@tap9+key:1', '10.2.0.0/24=192.168.3.0/24@tap1+teid:*']);
    expect(t.unmatchedScopes([IF0, IF1]).map((r) => r.text)).toEqual(['10.1.0.0/24=192.168.2.0/24@tap9+key:1']);
    expect(t.unmatchedScopes([iface(0, 'tap9'), IF1])).toEqual([]);
  });
});

describe('RuleTable: tunnel scopes against a reference (first match over the rules whose scopes hold)', () => {
  const GUESTS = ['10.0.0.0/24', '10.0.0.0/16', '10.0.1.0/24', '10.0.0.128/25'];
  const IFACES = ['', 'tap0', 'tap1', '#0'];
  const TUNNELS = ['', 'vni:1', 'vni:2,3', 'vni:1,3', 'vni:*', 'key:1', 'key:2,1', 'key:*', 'teid:7', 'teid:*'];
  const KINDS: Record<string, number> = { vni: SCOPE_VNI, key: SCOPE_KEY, teid: SCOPE_TEID };
  const ADDRS = ['10.0.0.5', '10.0.0.200', '10.0.1.9', '10.0.7.1', '10.1.0.1'];
  const ruleTexts = fc.array(fc.tuple(fc.nat(GUESTS.length - 1), fc.nat(IFACES.length - 1), fc.nat(TUNNELS.length - 1)), { minLength: 1, maxLength: 10 }).map((picks) =>
    picks.map(([g, i, t], n) => {
      const guest = GUESTS[g]!;
      const scope = [IFACES[i], TUNNELS[t]].filter((x) => x !== '').join('+');
      return `${guest}=${100 + n}.0.0.0${guest.slice(guest.indexOf('/'))}${scope === '' ? '' : `@${scope}`}`;
    }),
  );
  const path = fc.array(fc.tuple(fc.constantFrom('vni', 'key', 'teid'), fc.constantFrom(1, 2, 3, 7, 9)), { maxLength: 3 });

  /** The first rule (index and host address) that translates `addr` on interface #0 "tap0" inside `tunnels`. */
  function reference(rules: Rule[], tunnels: Array<[string, number]>, addr: number): [number, number] {
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      const onIface = r.scope.kind === 'all' || (r.scope.kind === 'name' && r.scope.name === 'tap0') || (r.scope.kind === 'id' && r.scope.id === 0);
      const t = r.tunnel;
      const inside = t === undefined || tunnels.some(([k, id]) => k === t.kind && (t.ids === null || t.ids.includes(id)));
      const mask = r.guest.length === 0 ? 0 : (-1 << (32 - r.guest.length)) >>> 0;
      const net = toU32(r.guest.bytes);
      if (onIface && inside && ((addr & mask) >>> 0) === net) return [i, ((addr & ~mask) | toU32(r.host!.bytes)) >>> 0];
    }
    return [-1, -1];
  }

  it('guest-to-host and back, along every path of nested tunnels', () => {
    fc.assert(
      fc.property(ruleTexts, path, fc.constantFrom(...ADDRS), (texts, tunnels, addrText) => {
        const rules = texts.map((t) => parseRule(t));
        let valid = true;
        try {
          new RuleTable(rules, 'guest-to-host');
        } catch (e) {
          if (!(e instanceof RuleError)) throw e;
          valid = false;
        }
        fc.pre(valid);
        const walk = (direction: Direction): InterfaceMapper => tunnels.reduce((m, [k, id]) => m.inTunnel(KINDS[k]!, id), new RuleTable(rules, direction).mapperFor(IF0));
        const g2h = walk('guest-to-host');
        const a = v4(addrText);
        const [rule, host] = reference(rules, tunnels, a);
        expect(g2h.map4(a)).toBe(host);
        if (rule < 0) return;
        expect(g2h.lastRule).toBe(rule);
        const h2g = walk('host-to-guest');
        expect(h2g.map4(host)).toBe(a);
        expect(h2g.lastRule).toBe(rule);
      }),
      { numRuns: 500 },
    );
  });
});

describe('RuleTable: short form (host network from the interface address)', () => {
  it('uses if_IPv4addr masked with the rule length', () => {
    const t = table(['10.0.0.0/24']);
    const m = t.mapperFor(iface(0, 'tap0', { ipv4: [['192.168.7.1', '255.255.255.0']] }));
    expect(m4(m, '10.0.0.2')).toBe('192.168.7.2');
    // Another interface, another host network: that is the point of the short form.
    const m1 = t.mapperFor(iface(1, 'tap1', { ipv4: [['192.168.8.1', '255.255.255.0']] }));
    expect(m4(m1, '10.0.0.2')).toBe('192.168.8.2');
    const back = table(['10.0.0.0/24'], 'host-to-guest').mapperFor(iface(1, 'tap1', { ipv4: [['192.168.8.1', '255.255.255.0']] }));
    expect(m4(back, '192.168.8.2')).toBe('10.0.0.2');
  });

  it('ignores the interface netmask: the rule length decides (the first address is used)', () => {
    const m = table(['10.0.0.0/24']).mapperFor(
      iface(0, 'tap0', {
        ipv4: [
          ['172.16.5.9', '255.255.0.0'],
          ['192.168.1.1', '255.255.255.0'],
        ],
      }),
    );
    expect(m4(m, '10.0.0.2')).toBe('172.16.5.2');
  });

  it('IPv6: skips a link-local first address', () => {
    const m = table(['fd00::/64@tap0']).mapperFor(
      iface(0, 'tap0', {
        ipv6: [
          ['fe80::1', 64],
          ['fd77:1:2:3::1', 64],
        ],
      }),
    );
    expect(m6(m, 'fd00::42')).toBe('fd77:1:2:3::42');
  });

  it('rejects an interface with no address of the family', () => {
    const t = table(['10.1.0.0/24=192.168.1.0/24', '10.0.0.0/24@tap0']);
    const e = ruleError(() => t.mapperFor(iface(0, 'tap0', { ipv6: [['fd00::1', 64]] })));
    expect(e.message).toBe(
      'rule "10.0.0.0/24@tap0": interface #0 ("tap0") records no IPv4 address (if_IPv4addr); give the host network explicitly (GUEST=HOST)',
    );
    expect(e.rule).toBe('10.0.0.0/24@tap0');
    expect(e.column).toBe(0);
    expect(ruleError(() => table(['fd00::/64']).mapperFor(iface(2))).message).toBe(
      'rule "fd00::/64": interface #2 records no IPv6 address (if_IPv6addr); give the host network explicitly (GUEST=HOST)',
    );
    expect(ruleError(() => table(['fd00::/64']).mapperFor(iface(2, undefined, { ipv6: [['fe80::1', 64]] }))).message).toBe(
      'rule "fd00::/64": interface #2 records no usable IPv6 address (if_IPv6addr: fe80::/64 are special); give the host network explicitly (GUEST=HOST)',
    );
    // Not applicable: no error.
    expect(t.mapperFor(iface(1, 'tap1')).active).toBe(true);
  });

  it('rejects a derived host network that overlaps another host network', () => {
    const t = table(['10.1.0.0/24=192.168.7.0/24', '10.0.0.0/24']);
    const e = ruleError(() => t.mapperFor(iface(0, 'tap0', { ipv4: [['192.168.7.1', '255.255.255.0']] })));
    expect(e.message).toBe(
      'rule "10.0.0.0/24": host network 192.168.7.0/24 from if_IPv4addr of interface #0 ("tap0") overlaps 192.168.7.0/24 of rule "10.1.0.0/24=192.168.7.0/24"; two guest networks must not share a host network',
    );
    const t2 = table(['10.0.0.0/24']);
    t2.mapperFor(iface(0, 'tap0', { ipv4: [['192.168.7.1', '255.255.255.0']] }));
    // The same interface again is fine; another one with the same address is not.
    t2.mapperFor(iface(0, 'tap0', { ipv4: [['192.168.7.1', '255.255.255.0']] }));
    expect(ruleError(() => t2.mapperFor(iface(1, 'tap1', { ipv4: [['192.168.7.2', '255.255.255.0']] }))).message).toBe(
      'rule "10.0.0.0/24": host network 192.168.7.0/24 from if_IPv4addr of interface #1 ("tap1") overlaps 192.168.7.0/24 of rule "10.0.0.0/24" on interface #0; two guest networks must not share a host network',
    );
  });
});

// ---------------------------------------------------------------------------
// Special addresses

/** Entries that flip the top address bit: every address matches one of them. */
function flipAll(): MapEntry[] {
  const p = (bytes: number[], length: number): Prefix => ({ bytes: Uint8Array.from(bytes), length });
  const z16 = new Array<number>(15).fill(0);
  return [
    { ruleIndex: 0, match: p([0, 0, 0, 0], 1), replace: p([128, 0, 0, 0], 1) },
    { ruleIndex: 1, match: p([128, 0, 0, 0], 1), replace: p([0, 0, 0, 0], 1) },
    { ruleIndex: 2, match: p([0, ...z16], 1), replace: p([128, ...z16], 1) },
    { ruleIndex: 3, match: p([128, ...z16], 1), replace: p([0, ...z16], 1) },
  ];
}

describe('special addresses are never translated, whatever the rules', () => {
  for (const threshold of [Infinity, 0]) {
    it(`${threshold === 0 ? 'hashed' : 'linear'} path`, () => {
      const m = compileMapper(flipAll(), ['a', 'b', 'c', 'd'], threshold);
      for (const a of ['0.0.0.0', '0.1.2.3', '127.0.0.1', '169.254.1.1', '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255']) {
        expect(m4(m, a), a).toBe('-1');
      }
      expect(m4(m, '10.0.0.1')).toBe('138.0.0.1');
      expect(m4(m, '223.255.255.255')).toBe('95.255.255.255');
      expect(m4(m, '169.253.0.1')).toBe('41.253.0.1');
      for (const a of ['::', '::1', 'fe80::1', 'febf:ffff::1', 'ff02::1', 'ff05::1:3']) expect(m6(m, a), a).toBeNull();
      expect(m6(m, 'fd00::1')).toBe('7d00::1');
      expect(m6(m, '::2')).toBe('8000::2');
      expect(m6(m, 'fec0::1')).toBe('7ec0::1');
    });
  }
});

// ---------------------------------------------------------------------------
// Properties

/** First octets outside 0/8, 127/8, 224/4, 240/4 and (for simplicity) 169/8. */
const v4FirstOctet = fc.integer({ min: 1, max: 223 }).filter((o) => o !== 127 && o !== 169);

/** A random non-special IPv4 network of length 8..32. */
const v4Prefix: fc.Arbitrary<Prefix> = fc
  .tuple(v4FirstOctet, fc.uint8Array({ minLength: 3, maxLength: 3 }), fc.integer({ min: 8, max: 32 }))
  .map(([o, rest, length]) => ({ bytes: networkBytes(Uint8Array.of(o, ...rest), length), length }));

/** A random non-special IPv6 network of length 8..128 (first byte 0x01..0xfd). */
const v6Prefix: fc.Arbitrary<Prefix> = fc
  .tuple(fc.integer({ min: 1, max: 0xfd }), fc.uint8Array({ minLength: 15, maxLength: 15 }), fc.integer({ min: 8, max: 128 }))
  .map(([b, rest, length]) => ({ bytes: networkBytes(Uint8Array.of(b, ...rest), length), length }));

/** The address with p's network bits and `rand`'s host bits. */
function inPrefix(p: Prefix, rand: Uint8Array): Uint8Array {
  const hostBits = rand.map((b, i) => b ^ networkBytes(rand, p.length)[i]!);
  return p.bytes.map((b, i) => b | hostBits[i]!);
}

const toU32 = (b: Uint8Array): number => ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;

/** Random guest/host pairs of one family, greedily made into a valid rule set (as rule text). */
function ruleSet(prefix: fc.Arbitrary<Prefix>, maxRules: number): fc.Arbitrary<Rule[]> {
  return fc
    .array(fc.tuple(prefix, prefix), { minLength: 1, maxLength: maxRules })
    .map((pairs) => {
      const kept: Array<[Prefix, Prefix]> = [];
      for (const [g, h0] of pairs) {
        const h = { bytes: networkBytes(h0.bytes, g.length), length: g.length };
        const all = kept.flat();
        if (all.some((p) => prefixesOverlap(p, g) || prefixesOverlap(p, h))) continue;
        kept.push([g, h]);
      }
      return kept.map(([g, h]) => parseRule(`${formatPrefix(g)}=${formatPrefix(h)}`));
    })
    .filter((rules) => rules.length > 0);
}

describe('properties', () => {
  it('IPv4: host-to-guest(guest-to-host(a)) === a for addresses in every guest range (linear and hashed)', () => {
    fc.assert(
      fc.property(ruleSet(v4Prefix, 14), fc.array(fc.uint8Array({ minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 8 }), (rules, rands) => {
        const g2h = new RuleTable(rules, 'guest-to-host').mapperFor(IF0);
        const h2g = new RuleTable(rules, 'host-to-guest').mapperFor(IF0);
        rules.forEach((r, i) => {
          for (const rand of rands) {
            const a = toU32(inPrefix(r.guest, rand));
            const h = g2h.map4(a);
            expect(h).toBe(toU32(inPrefix(r.host!, rand)));
            expect(g2h.lastRule).toBe(i);
            expect(h2g.map4(h)).toBe(a);
            expect(h2g.lastRule).toBe(i);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('IPv4: addresses outside every guest range map to -1', () => {
    fc.assert(
      fc.property(ruleSet(v4Prefix, 14), fc.uint8Array({ minLength: 4, maxLength: 4 }), (rules, addr) => {
        fc.pre(!rules.some((r) => prefixesOverlap(r.guest, { bytes: addr, length: 32 })));
        expect(new RuleTable(rules, 'guest-to-host').mapperFor(IF0).map4(toU32(addr))).toBe(-1);
      }),
      { numRuns: 300 },
    );
  });

  it('IPv6: host-to-guest(guest-to-host(a)) === a, and outside addresses are not mapped', () => {
    fc.assert(
      fc.property(
        ruleSet(v6Prefix, 12),
        fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { minLength: 1, maxLength: 4 }),
        (rules, rands) => {
          const g2h = new RuleTable(rules, 'guest-to-host').mapperFor(IF0);
          const h2g = new RuleTable(rules, 'host-to-guest').mapperFor(IF0);
          const out = new Uint8Array(16);
          const back = new Uint8Array(16);
          rules.forEach((r, i) => {
            for (const rand of rands) {
              const a = inPrefix(r.guest, rand);
              expect(g2h.map6(a, 0, out, 0)).toBe(true);
              expect(Array.from(out)).toEqual(Array.from(inPrefix(r.host!, rand)));
              expect(g2h.lastRule).toBe(i);
              expect(h2g.map6(out, 0, back, 0)).toBe(true);
              expect(Array.from(back)).toEqual(Array.from(a));
            }
          });
          for (const rand of rands) {
            if (rules.some((r) => prefixesOverlap(r.guest, { bytes: rand, length: 128 }))) continue;
            expect(g2h.map6(rand, 0, out, 0)).toBe(false);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  /**
   * Arbitrary entries (overlapping, duplicate, special) with few distinct
   * lengths: most prefixes are cut from a few shared base addresses, so they
   * nest inside one another and first-match order across groups matters.
   */
  function entries(bytes: 4 | 16, lengths: number[]): fc.Arbitrary<MapEntry[]> {
    const addr = fc.uint8Array({ minLength: bytes, maxLength: bytes });
    return fc.array(addr, { minLength: 1, maxLength: 3 }).chain((bases) => {
      const prefix = fc
        .tuple(fc.oneof(fc.constantFrom(...bases), addr), fc.constantFrom(...lengths))
        .map(([b, length]) => ({ bytes: networkBytes(b, length), length }));
      return fc
        .array(fc.tuple(prefix, addr), { minLength: 0, maxLength: 40 })
        .map((list) => list.map(([match, repl], ruleIndex) => ({ ruleIndex, match, replace: { bytes: repl, length: match.length } })));
    });
  }

  /** Addresses that often fall into the entries' prefixes. */
  function probes(list: MapEntry[], bytes: number): fc.Arbitrary<Uint8Array[]> {
    const rand = fc.uint8Array({ minLength: bytes, maxLength: bytes });
    const near = list.length === 0 ? rand : fc.tuple(fc.constantFrom(...list), rand).map(([e, r]) => inPrefix(e.match, r));
    return fc.array(fc.oneof(near, rand), { minLength: 1, maxLength: 30 });
  }

  it('IPv4: the hashed path (> 8 rules) agrees with the linear path', () => {
    const lengths = [0, 1, 4, 8, 12, 16, 20, 24, 24, 24, 30, 32];
    fc.assert(
      fc.property(
        entries(4, lengths).chain((list) => fc.tuple(fc.constant(list), probes(list, 4))),
        ([list, addrs]) => {
          const texts = list.map((_, i) => `r${i}`);
          const linear = compileMapper(list, texts, Infinity);
          const hashed = compileMapper(list, texts, 0);
          for (const b of addrs) {
            const a = toU32(b);
            const want = linear.map4(a);
            expect(hashed.map4(a)).toBe(want);
            if (want !== -1) expect(hashed.lastRule).toBe(linear.lastRule);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('IPv6: the hashed path agrees with the linear path', () => {
    const lengths = [0, 7, 32, 52, 64, 64, 64, 96, 100, 127, 128];
    fc.assert(
      fc.property(
        entries(16, lengths).chain((list) => fc.tuple(fc.constant(list), probes(list, 16))),
        ([list, addrs]) => {
          const texts = list.map((_, i) => `r${i}`);
          const linear = compileMapper(list, texts, Infinity);
          const hashed = compileMapper(list, texts, 0);
          const x = new Uint8Array(16);
          const y = new Uint8Array(16);
          for (const a of addrs) {
            const want = linear.map6(a, 0, x, 0);
            expect(hashed.map6(a, 0, y, 0)).toBe(want);
            if (want) {
              expect(Array.from(y)).toEqual(Array.from(x));
              expect(hashed.lastRule).toBe(linear.lastRule);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
