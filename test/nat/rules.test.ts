import { describe, expect, it } from 'vitest';
import { RuleError } from '../../src/errors.js';
import {
  type Prefix,
  type Rule,
  formatPrefix,
  parseRule,
  parseRulesFile,
  prefixesOverlap,
  validateRuleSet,
} from '../../src/nat/rules.js';
import { ruleError } from '../helpers/errors.js';


/** Asserts parseRule(text) fails with exactly this message and column. */
function rejects(text: string, message: string, column: number): void {
  const e = ruleError(() => parseRule(text));
  expect(e.message).toBe(message);
  expect(e.column).toBe(column);
  expect(e.rule).toBe(text.trim());
  expect(e.exitCode).toBe(2);
  expect(e.code).toBe('rule');
  expect(e.message).not.toContain('\n');
}

function summary(r: Rule): { family: number; guest: string; host: string | null; scope: unknown } {
  return {
    family: r.family,
    guest: formatPrefix(r.guest),
    host: r.host ? formatPrefix(r.host) : null,
    scope: r.scope,
  };
}

const ALL = { kind: 'all' };

describe('parseRule: accepted forms', () => {
  it('PREFIX=PREFIX, IPv4', () => {
    const r = parseRule('10.0.0.0/24=192.168.1.0/24');
    expect(summary(r)).toEqual({ family: 4, guest: '10.0.0.0/24', host: '192.168.1.0/24', scope: ALL });
    expect(r.text).toBe('10.0.0.0/24=192.168.1.0/24');
    expect(Array.from(r.guest.bytes)).toEqual([10, 0, 0, 0]);
    expect(r.guest.length).toBe(24);
    expect(Array.from(r.host!.bytes)).toEqual([192, 168, 1, 0]);
    expect(r.source).toBeUndefined();
    expect(r.guestColumn).toBe(0);
    expect(r.hostColumn).toBe(12);
  });

  it('PREFIX=PREFIX, IPv6', () => {
    const r = parseRule('fd00::/64=fd00:1::/64');
    expect(summary(r)).toEqual({ family: 6, guest: 'fd00::/64', host: 'fd00:1::/64', scope: ALL });
    expect(r.guest.bytes).toHaveLength(16);
    expect(Array.from(r.host!.bytes.subarray(0, 4))).toEqual([0xfd, 0x00, 0x00, 0x01]);
  });

  it('host prefix length omitted: equals the guest length', () => {
    expect(summary(parseRule('10.0.0.0/24=192.168.1.0'))).toEqual({
      family: 4,
      guest: '10.0.0.0/24',
      host: '192.168.1.0/24',
      scope: ALL,
    });
    expect(summary(parseRule('fd00::/52=fd00:1::')).host).toBe('fd00:1::/52');
  });

  it('QEMU form ADDR:NETMASK:ADDR', () => {
    const r = parseRule('172.16.0.0:255.255.255.0:192.168.1.0');
    expect(summary(r)).toEqual({ family: 4, guest: '172.16.0.0/24', host: '192.168.1.0/24', scope: ALL });
    expect(r.hostColumn).toBe(25);
    expect(summary(parseRule('172.16.0.0:255.240.0.0:10.16.0.0')).guest).toBe('172.16.0.0/12');
  });

  it('tcprewrite --pnat form PREFIX:PREFIX', () => {
    expect(summary(parseRule('10.0.0.0/24:192.168.1.0/24'))).toEqual({
      family: 4,
      guest: '10.0.0.0/24',
      host: '192.168.1.0/24',
      scope: ALL,
    });
  });

  it('short form: guest only, IPv4 and IPv6', () => {
    expect(summary(parseRule('10.0.0.0/24'))).toEqual({ family: 4, guest: '10.0.0.0/24', host: null, scope: ALL });
    expect(summary(parseRule('fd00:0:0:1::/64'))).toEqual({ family: 6, guest: 'fd00:0:0:1::/64', host: null, scope: ALL });
  });

  it('@name and @#id scopes', () => {
    expect(parseRule('10.0.0.0/24=192.168.1.0/24@tap0').scope).toEqual({ kind: 'name', name: 'tap0' });
    expect(parseRule('10.0.0.0/24@#3').scope).toEqual({ kind: 'id', id: 3 });
    expect(parseRule('fd00::/64=fd01::/64@#0').scope).toEqual({ kind: 'id', id: 0 });
    expect(parseRule('172.16.0.0:255.255.255.0:192.168.1.0@vnet12').scope).toEqual({ kind: 'name', name: 'vnet12' });
    expect(parseRule('10.0.0.0/24:192.168.1.0/24@#12').scope).toEqual({ kind: 'id', id: 12 });
  });

  it('tunnel scopes: vni, key, teid, alone or after an interface, a list or *', () => {
    const tunnel = (text: string): unknown => {
      const r = parseRule(text);
      return [r.scope, r.tunnel];
    };
    expect(tunnel('10.0.0.0/24=192.168.1.0/24@vni:5001')).toEqual([ALL, { kind: 'vni', ids: [5001] }]);
    expect(tunnel('10.0.0.0/24=192.168.1.0/24@tap1+vni:5001')).toEqual([{ kind: 'name', name: 'tap1' }, { kind: 'vni', ids: [5001] }]);
    expect(tunnel('10.0.0.0/24@#2+teid:1,2,3')).toEqual([{ kind: 'id', id: 2 }, { kind: 'teid', ids: [1, 2, 3] }]);
    expect(tunnel('fd00::/64=fd01::/64@key:*')).toEqual([ALL, { kind: 'key', ids: null }]);
    // Bounds, hex, whitespace around "+", ":" and ",".
    expect(tunnel('10.0.0.0/24@vni:0,16777215')).toEqual([ALL, { kind: 'vni', ids: [0, 16777215] }]);
    expect(tunnel('10.0.0.0/24@ tap1 + key : 0xFFFFFFFF , 7')).toEqual([{ kind: 'name', name: 'tap1' }, { kind: 'key', ids: [4294967295, 7] }]);
    expect(tunnel('10.0.0.0/24@teid: *')).toEqual([ALL, { kind: 'teid', ids: null }]);
    // An interface name with a "+" before the tunnel: the last "+" joins them.
    expect(tunnel('10.0.0.0/24@a+b+vni:9')).toEqual([{ kind: 'name', name: 'a+b' }, { kind: 'vni', ids: [9] }]);
    expect(tunnel('10.0.0.0/24@eth0:1+key:9')).toEqual([{ kind: 'name', name: 'eth0:1' }, { kind: 'key', ids: [9] }]);
    // Names that are not a kind (or near one) and ":" stay names; a rule without a tunnel scope has none.
    expect(tunnel('10.0.0.0/24@eth0:1')).toEqual([{ kind: 'name', name: 'eth0:1' }, undefined]);
    expect(tunnel('10.0.0.0/24@nflog:5')).toEqual([{ kind: 'name', name: 'nflog:5' }, undefined]);
    expect(tunnel('10.0.0.0/24@nflog:5+teid:7')).toEqual([{ kind: 'name', name: 'nflog:5' }, { kind: 'teid', ids: [7] }]);
    expect(tunnel('10.0.0.0/24@vni5001')).toEqual([{ kind: 'name', name: 'vni5001' }, undefined]);
    expect('tunnel' in parseRule('10.0.0.0/24@tap0')).toBe(false);
  });

  it('the scope is what follows the LAST @ (names may contain odd characters)', () => {
    expect(parseRule('10.0.0.0/24=192.168.1.0/24@tap#1').scope).toEqual({ kind: 'name', name: 'tap#1' });
    const e = ruleError(() => parseRule('10.0.0.0/24@x=192.168.1.0/24@tap0'));
    expect(e.message).toBe('rule "10.0.0.0/24@x=192.168.1.0/24@tap0": prefix length "/24@x" is not a number');
    expect(e.column).toBe(8);
  });

  it('trims whitespace around the rule and around = : @', () => {
    const r = parseRule('  10.0.0.0/24 = 192.168.1.0/24 @ tap0 \t');
    expect(r.text).toBe('10.0.0.0/24 = 192.168.1.0/24 @ tap0');
    expect(summary(r)).toEqual({
      family: 4,
      guest: '10.0.0.0/24',
      host: '192.168.1.0/24',
      scope: { kind: 'name', name: 'tap0' },
    });
    expect(r.hostColumn).toBe(14);
  });

  it('keeps the source', () => {
    expect(parseRule('10.0.0.0/24', 'rules.txt:3').source).toBe('rules.txt:3');
  });

  it('/32 and /128 single-address mappings, IPv4-mapped and embedded-IPv4 IPv6 text', () => {
    expect(summary(parseRule('10.0.0.2/32=192.168.1.7')).host).toBe('192.168.1.7/32');
    expect(summary(parseRule('fd00::2/128=fd00:1::9')).host).toBe('fd00:1::9/128');
    expect(summary(parseRule('64:ff9b::/96=fd00:1::/96')).guest).toBe('64:ff9b::/96');
  });
});

describe('parseRule: rejections (exact message and column)', () => {
  it('empty and unparsable text', () => {
    rejects('   ', 'rule "": empty rule', 0);
    rejects('foo', 'rule "foo": "foo" is not an IPv4 address', 0);
    rejects('foo\nbar', 'rule "foo\\nbar": "foo\\nbar" is not an IPv4 address', 0);
    rejects('10.0.0.300/24', 'rule "10.0.0.300/24": "10.0.0.300" is not an IPv4 address (write four decimal numbers 0-255, e.g. 10.0.0.0)', 0);
    rejects('10.1/16=192.168.0.0', 'rule "10.1/16=192.168.0.0": "10.1" is not an IPv4 address (write four decimal numbers 0-255, e.g. 10.0.0.0)', 0);
    rejects('010.0.0.0/24', 'rule "010.0.0.0/24": "010.0.0.0" is not an IPv4 address (write four decimal numbers 0-255, e.g. 10.0.0.0)', 0);
    rejects('fd00::g/64=fd01::/64', 'rule "fd00::g/64=fd01::/64": "fd00::g" is not an IPv6 address', 0);
    rejects('10.0.0.0/24=', 'rule "10.0.0.0/24=": missing host prefix', 12);
    rejects('=10.0.0.0/24', 'rule "=10.0.0.0/24": missing guest prefix', 0);
    rejects('10.0.0.0/24=192.168.1.0/24=1', 'rule "10.0.0.0/24=192.168.1.0/24=1": more than one "="', 26);
    rejects('10.0.0.0/24/8', 'rule "10.0.0.0/24/8": "10.0.0.0/24/8" has more than one "/"', 11);
    rejects('10.0.0.0/=192.168.1.0', 'rule "10.0.0.0/=192.168.1.0": missing prefix length after "/"', 8);
    rejects('10.0.0.0/x', 'rule "10.0.0.0/x": prefix length "/x" is not a number', 8);
    rejects('fe80::1%eth0/64', 'rule "fe80::1%eth0/64": zone index "%eth0" is not allowed; scope the rule with @INTERFACE instead', 7);
  });

  it('guest prefix without a length', () => {
    rejects(
      '10.0.0.0=192.168.1.0/24',
      'rule "10.0.0.0=192.168.1.0/24": guest prefix 10.0.0.0 has no length (a network like 10.0.0.0/24, or 10.0.0.0/32 for one address)',
      8,
    );
    rejects(
      'fd00::@tap0',
      'rule "fd00::@tap0": guest prefix fd00:: has no length (a network like fd00::/24, or fd00::/128 for one address)',
      6,
    );
  });

  it('prefix length too long, or written as a netmask', () => {
    rejects('10.0.0.0/33=192.168.1.0', 'rule "10.0.0.0/33=192.168.1.0": prefix length /33 is too long for IPv4 (at most /32)', 8);
    rejects('fd00::/129', 'rule "fd00::/129": prefix length /129 is too long for IPv6 (at most /128)', 6);
    rejects(
      '10.0.0.0/255.255.255.0=192.168.1.0',
      'rule "10.0.0.0/255.255.255.0=192.168.1.0": prefix length "/255.255.255.0" is not a number; write the netmask as a length: did you mean 10.0.0.0/24?',
      8,
    );
  });

  it('mixed address families', () => {
    rejects(
      '10.0.0.0/24=fd00::/24',
      'rule "10.0.0.0/24=fd00::/24": mixed address families: guest 10.0.0.0/24 is IPv4, host fd00::/24 is IPv6',
      12,
    );
    rejects(
      'fd00::/64=192.168.1.0',
      'rule "fd00::/64=192.168.1.0": mixed address families: guest fd00::/64 is IPv6, host 192.168.1.0 is IPv4',
      10,
    );
  });

  it('prefix lengths that differ (column at the host length)', () => {
    rejects('10.0.0.0/24=192.168.1.0/23', 'rule "10.0.0.0/24=192.168.1.0/23": prefix lengths differ (/24 vs /23)', 23);
    rejects('10.0.0.0/24:192.168.0.0/16', 'rule "10.0.0.0/24:192.168.0.0/16": prefix lengths differ (/24 vs /16)', 23);
    rejects('fd00::/64=fd01::/48', 'rule "fd00::/64=fd01::/48": prefix lengths differ (/64 vs /48)', 16);
  });

  it('host bits set: suggests the network address', () => {
    rejects('10.0.0.5/24=192.168.1.0/24', 'rule "10.0.0.5/24=192.168.1.0/24": 10.0.0.5/24 has host bits set; did you mean 10.0.0.0/24?', 0);
    rejects('10.0.0.0/24=192.168.1.9', 'rule "10.0.0.0/24=192.168.1.9": 192.168.1.9/24 has host bits set; did you mean 192.168.1.0/24?', 12);
    rejects('fd00::1:0/100', 'rule "fd00::1:0/100": fd00::1:0/100 has host bits set; did you mean fd00::/100?', 0);
    rejects('10.0.0.5:255.255.255.0:192.168.1.0', 'rule "10.0.0.5:255.255.255.0:192.168.1.0": 10.0.0.5/24 has host bits set; did you mean 10.0.0.0/24?', 0);
  });

  it('special ranges (both sides), including /0', () => {
    const special: Array<[string, string, number]> = [
      ['0.0.0.0/0=10.0.0.0', '0.0.0.0/0 touches 0.0.0.0/8 ("this network"), which is never translated', 0],
      ['0.0.0.0/8=10.0.0.0', '0.0.0.0/8 touches 0.0.0.0/8 ("this network"), which is never translated', 0],
      ['127.0.0.0/8=10.0.0.0', '127.0.0.0/8 touches 127.0.0.0/8 (loopback), which is never translated', 0],
      ['10.0.0.0/24=127.0.1.0', '127.0.1.0/24 touches 127.0.0.0/8 (loopback), which is never translated', 12],
      ['224.0.0.0/24=10.0.0.0', '224.0.0.0/24 touches 224.0.0.0/4 (multicast), which is never translated', 0],
      ['239.255.0.0/16', '239.255.0.0/16 touches 224.0.0.0/4 (multicast), which is never translated', 0],
      ['10.0.0.0/24=240.0.0.0', '240.0.0.0/24 touches 240.0.0.0/4 (reserved, with broadcast 255.255.255.255), which is never translated', 12],
      ['255.255.255.255/32=10.0.0.1', '255.255.255.255/32 touches 240.0.0.0/4 (reserved, with broadcast 255.255.255.255), which is never translated', 0],
      ['128.0.0.0/1=10.0.0.0', '128.0.0.0/1 touches 169.254.0.0/16 (link-local), which is never translated', 0],
      ['169.254.0.0/16', '169.254.0.0/16 touches 169.254.0.0/16 (link-local), which is never translated', 0],
      ['::/0=fd00::', '::/0 touches ::/128 (unspecified), which is never translated', 0],
      ['::/128=fd00::5', '::/128 touches ::/128 (unspecified), which is never translated', 0],
      ['::1/128=fd00::5', '::1/128 touches ::1/128 (loopback), which is never translated', 0],
      ['fe80::/64=fd00::', 'fe80::/64 touches fe80::/10 (link-local), which is never translated', 0],
      ['fd00::/64=febf:1::', 'febf:1::/64 touches fe80::/10 (link-local), which is never translated', 10],
      ['ff02::/16=fd00::', 'ff02::/16 touches ff00::/8 (multicast), which is never translated', 0],
    ];
    for (const [text, what, column] of special) rejects(text, `rule "${text}": ${what}`, column);
    // Neighbours of the special ranges are fine.
    expect(summary(parseRule('1.0.0.0/8=126.0.0.0/8')).host).toBe('126.0.0.0/8');
    expect(summary(parseRule('223.255.255.0/24=128.0.0.0')).host).toBe('128.0.0.0/24');
    expect(summary(parseRule('fec0::/10=fd00::')).guest).toBe('fec0::/10');
  });

  it('QEMU form: non-contiguous or swapped netmask suggests the fix', () => {
    rejects(
      '255.255.255.0:10.0.0.0:192.168.1.0',
      'rule "255.255.255.0:10.0.0.0:192.168.1.0": netmask 10.0.0.0 is not contiguous; the netmask goes in the middle: did you mean 10.0.0.0:255.255.255.0:192.168.1.0?',
      14,
    );
    rejects(
      '10.0.0.0:192.168.1.0:255.255.255.0',
      'rule "10.0.0.0:192.168.1.0:255.255.255.0": netmask 192.168.1.0 is not contiguous; the netmask goes in the middle: did you mean 10.0.0.0:255.255.255.0:192.168.1.0?',
      9,
    );
    rejects(
      '10.0.0.0:255.0.255.0:192.168.0.0',
      'rule "10.0.0.0:255.0.255.0:192.168.0.0": netmask 255.0.255.0 is not contiguous; a netmask is ones then zeros, e.g. 255.255.255.0',
      9,
    );
    rejects(
      '10.0.0.0/24:255.255.255.0:192.168.1.0',
      'rule "10.0.0.0/24:255.255.255.0:192.168.1.0": the QEMU form ADDR:NETMASK:ADDR takes no prefix length (in the guest address)',
      8,
    );
    rejects(
      '1.0.0.0:255.0.0.0:2.0.0.0:3.0.0.0',
      'rule "1.0.0.0:255.0.0.0:2.0.0.0:3.0.0.0": too many ":" fields (QEMU form: ADDR:NETMASK:ADDR; tcprewrite form: PREFIX:PREFIX)',
      25,
    );
  });

  it('IPv6 in the IPv4-only ":" forms suggests "="', () => {
    rejects(
      'fd00::/64:fd01::/64',
      'rule "fd00::/64:fd01::/64": the ":" forms are IPv4-only; write IPv6 mappings with "=": did you mean fd00::/64=fd01::/64?',
      9,
    );
    rejects(
      '[fd00::/64]:[fd01::/64]',
      'rule "[fd00::/64]:[fd01::/64]": brackets are tcprewrite\'s IPv6 syntax; write IPv6 mappings as GUEST=HOST: did you mean fd00::/64=fd01::/64?',
      0,
    );
  });

  it('bad scopes', () => {
    rejects('10.0.0.0/24=192.168.1.0/24@', 'rule "10.0.0.0/24=192.168.1.0/24@": missing interface or tunnel after "@" (a name, #N for an interface id, or e.g. vni:5001)', 26);
    rejects('@tap0', 'rule "@tap0": missing mapping before "@"', 0);
    rejects('10.0.0.0/24@#x', 'rule "10.0.0.0/24@#x": interface id "#x" is not a number from 0 to 4294967295 (e.g. @#0 for the first interface)', 12);
    rejects('10.0.0.0/24@#', 'rule "10.0.0.0/24@#": interface id "#" is not a number from 0 to 4294967295 (e.g. @#0 for the first interface)', 12);
    rejects('10.0.0.0/24@#4294967296', 'rule "10.0.0.0/24@#4294967296": interface id "#4294967296" is not a number from 0 to 4294967295 (e.g. @#0 for the first interface)', 12);
  });

  it('unknown tunnel kind: the closest kind suggested, column at the kind', () => {
    const kinds = 'vni: VXLAN, VXLAN-GPE, Geneve, NVGRE; key: GRE; teid: GTP-U; an interface with this name is @#N';
    rejects('10.0.0.0/24=192.168.1.0/24@vnii:5001', `rule "10.0.0.0/24=192.168.1.0/24@vnii:5001": unknown tunnel kind "vnii": did you mean @vni:5001? (${kinds})`, 27);
    rejects('10.0.0.0/24=192.168.1.0/24@tap1+kye:7', `rule "10.0.0.0/24=192.168.1.0/24@tap1+kye:7": unknown tunnel kind "kye": did you mean @tap1+key:7? (${kinds})`, 32);
    rejects('10.0.0.0/24@#2+tied:1,2', `rule "10.0.0.0/24@#2+tied:1,2": unknown tunnel kind "tied": did you mean @#2+teid:1,2? (${kinds})`, 15);
    // The protocol's name, and the kind in capitals, are the kind that protocol's id is.
    rejects('10.0.0.0/24@vxlan:5001', `rule "10.0.0.0/24@vxlan:5001": unknown tunnel kind "vxlan": did you mean @vni:5001? (${kinds})`, 12);
    rejects('10.0.0.0/24@geneve:*', `rule "10.0.0.0/24@geneve:*": unknown tunnel kind "geneve": did you mean @vni:*? (${kinds})`, 12);
    rejects('10.0.0.0/24@gre:9', `rule "10.0.0.0/24@gre:9": unknown tunnel kind "gre": did you mean @key:9? (${kinds})`, 12);
    rejects('10.0.0.0/24@gtpu:9', `rule "10.0.0.0/24@gtpu:9": unknown tunnel kind "gtpu": did you mean @teid:9? (${kinds})`, 12);
    rejects('10.0.0.0/24@VNI:9', `rule "10.0.0.0/24@VNI:9": unknown tunnel kind "VNI": did you mean @vni:9? (${kinds})`, 12);
    // After "+" any word is a tunnel kind (not an Object property either).
    rejects('10.0.0.0/24@tap0+constructor:9', `rule "10.0.0.0/24@tap0+constructor:9": unknown tunnel kind "constructor": did you mean @tap0+vni:9? (${kinds})`, 17);
    rejects('10.0.0.0/24@tap0+nflog:9', `rule "10.0.0.0/24@tap0+nflog:9": unknown tunnel kind "nflog": did you mean @tap0+vni:9? (${kinds})`, 17);
  });

  it('tunnel ids out of range say the range; not a number says what is', () => {
    rejects('10.0.0.0/24@vni:16777216', 'rule "10.0.0.0/24@vni:16777216": VNI 16777216 is out of range: a VNI is 24 bits, 0 to 16777215', 16);
    rejects('10.0.0.0/24@vni:5001,0x1000000', 'rule "10.0.0.0/24@vni:5001,0x1000000": VNI 0x1000000 is out of range: a VNI is 24 bits, 0 to 16777215', 21);
    rejects('10.0.0.0/24@key:4294967296', 'rule "10.0.0.0/24@key:4294967296": GRE key 4294967296 is out of range: a GRE key is 32 bits, 0 to 4294967295', 16);
    rejects('10.0.0.0/24@tap0+teid:99999999999', 'rule "10.0.0.0/24@tap0+teid:99999999999": TEID 99999999999 is out of range: a TEID is 32 bits, 0 to 4294967295', 22);
    rejects('10.0.0.0/24@vni:-1', 'rule "10.0.0.0/24@vni:-1": VNI "-1" is not a number (decimal, or hex with 0x)', 16);
    rejects('10.0.0.0/24@vni: 50 01', 'rule "10.0.0.0/24@vni: 50 01": VNI "50 01" is not a number (decimal, or hex with 0x)', 17);
    rejects('10.0.0.0/24@key:0x', 'rule "10.0.0.0/24@key:0x": GRE key "0x" is not a number (decimal, or hex with 0x)', 16);
  });

  it('tunnel id lists: missing, empty, trailing comma, duplicates, * in a list', () => {
    rejects('10.0.0.0/24@vni:', 'rule "10.0.0.0/24@vni:": missing VNI after "vni:" (an id like vni:5001, a list like vni:5001,5002, or vni:* for any)', 16);
    rejects('10.0.0.0/24@tap1+teid: ', 'rule "10.0.0.0/24@tap1+teid:": missing TEID after "teid:" (an id like teid:5001, a list like teid:5001,5002, or teid:* for any)', 22);
    rejects('10.0.0.0/24@vni:5001,', 'rule "10.0.0.0/24@vni:5001,": empty VNI in the list "5001," (a doubled or trailing ",")', 21);
    rejects('10.0.0.0/24@key:1,,2', 'rule "10.0.0.0/24@key:1,,2": empty GRE key in the list "1,,2" (a doubled or trailing ",")', 18);
    rejects('10.0.0.0/24@key:,2', 'rule "10.0.0.0/24@key:,2": empty GRE key in the list ",2" (a doubled or trailing ",")', 16);
    rejects('10.0.0.0/24@teid:1,2,1', 'rule "10.0.0.0/24@teid:1,2,1": TEID 1 is listed twice', 21);
    rejects('10.0.0.0/24@vni:16, 0x10', 'rule "10.0.0.0/24@vni:16, 0x10": VNI 16 is listed twice (as 16 and 0x10)', 20);
    rejects('10.0.0.0/24@vni:5,*', 'rule "10.0.0.0/24@vni:5,*": "*" (any VNI) stands alone, not in a list', 18);
  });

  it('"+" without a tunnel, without an interface, or with a tunnel before it', () => {
    const noTunnel = '"+" must be followed by a tunnel: vni:ID, key:ID or teid:ID (e.g. @tap1+vni:5001); an interface whose name holds "+" is @#N';
    rejects('10.0.0.0/24@tap1+', `rule "10.0.0.0/24@tap1+": ${noTunnel}`, 16);
    rejects('10.0.0.0/24@tap1+5001', `rule "10.0.0.0/24@tap1+5001": ${noTunnel}`, 16);
    rejects('10.0.0.0/24@tap+1', `rule "10.0.0.0/24@tap+1": ${noTunnel}`, 15);
    rejects('10.0.0.0/24@#2+', `rule "10.0.0.0/24@#2+": ${noTunnel}`, 14);
    rejects('10.0.0.0/24@+vni:5', 'rule "10.0.0.0/24@+vni:5": missing interface before "+" (a name, or #N; a tunnel alone is @vni:5)', 12);
    rejects(
      '10.0.0.0/24@vni:5+key:3',
      'rule "10.0.0.0/24@vni:5+key:3": "vni:5" before "+" is a tunnel, not an interface: a rule has one tunnel scope, after its interface (@IFACE+TUNNEL); an interface with this name is @#N',
      12,
    );
    rejects('10.0.0.0/24@#x+vni:5', 'rule "10.0.0.0/24@#x+vni:5": interface id "#x" is not a number from 0 to 4294967295 (e.g. @#0 for the first interface)', 12);
  });

  it('names the source when there is one', () => {
    const e = ruleError(() => parseRule('10.0.0.0/24=192.168.1.0/23', 'rules.txt:7'));
    expect(e.message).toBe('rules.txt:7: rule "10.0.0.0/24=192.168.1.0/23": prefix lengths differ (/24 vs /23)');
    expect(e.source).toBe('rules.txt:7');
  });
});

describe('parseRulesFile', () => {
  const file = [
    '# clones of snapshot A',
    '',
    '10.0.0.0/24=192.168.1.0/24@tap0   # first clone',
    '   10.0.0.0/24=192.168.2.0/24@#1',
    '10.0.0.0/24=192.168.3.0/24@tap#2 # a name with #',
    '\t# indented comment',
    'fd00::/64=fd00:1::/64\r',
    '10.1.0.0/16#no space before: not a comment',
  ].join('\n');

  it('skips comments and blank lines, keeps file:line sources', () => {
    const lines = file.split('\n');
    const rules = parseRulesFile(lines.slice(0, 7).join('\n'), 'rules.txt');
    expect(rules.map((r) => [r.text, r.source, r.scope])).toEqual([
      ['10.0.0.0/24=192.168.1.0/24@tap0', 'rules.txt:3', { kind: 'name', name: 'tap0' }],
      ['10.0.0.0/24=192.168.2.0/24@#1', 'rules.txt:4', { kind: 'id', id: 1 }],
      ['10.0.0.0/24=192.168.3.0/24@tap#2', 'rules.txt:5', { kind: 'name', name: 'tap#2' }],
      ['fd00::/64=fd00:1::/64', 'rules.txt:7', { kind: 'all' }],
    ]);
  });

  it('names file:line in errors', () => {
    const e = ruleError(() => parseRulesFile(file, 'rules.txt'));
    expect(e.message).toBe(
      'rules.txt:8: rule "10.1.0.0/16#no space before: not a comment": prefix length "/16#no space before: not a comment" is not a number',
    );
    expect(e.source).toBe('rules.txt:8');
    expect(e.column).toBe(8);
  });

  it('takes tunnel scopes; "@#2+teid:..." is not a comment', () => {
    const rules = parseRulesFile(
      ['# clones behind VNIs', '10.0.0.0/24=192.168.1.0/24@vni:5001  # clone 1', '10.0.0.0/24=192.168.2.0/24@tap1+vni:5002', '10.0.0.0/24=192.168.3.0/24@#2+teid:1,2,3', '10.0.0.0/24=192.168.4.0/24@key:*'].join('\n'),
      'rules.txt',
    );
    expect(rules.map((r) => [r.text, r.source, r.scope, r.tunnel])).toEqual([
      ['10.0.0.0/24=192.168.1.0/24@vni:5001', 'rules.txt:2', ALL, { kind: 'vni', ids: [5001] }],
      ['10.0.0.0/24=192.168.2.0/24@tap1+vni:5002', 'rules.txt:3', { kind: 'name', name: 'tap1' }, { kind: 'vni', ids: [5002] }],
      ['10.0.0.0/24=192.168.3.0/24@#2+teid:1,2,3', 'rules.txt:4', { kind: 'id', id: 2 }, { kind: 'teid', ids: [1, 2, 3] }],
      ['10.0.0.0/24=192.168.4.0/24@key:*', 'rules.txt:5', ALL, { kind: 'key', ids: null }],
    ]);
    const e = ruleError(() => parseRulesFile('10.0.0.0/24=192.168.1.0/24@vni:5001\n10.0.0.0/24=192.168.2.0/24@vni:5001,\n', 'rules.txt'));
    expect(e.message).toBe('rules.txt:2: rule "10.0.0.0/24=192.168.2.0/24@vni:5001,": empty VNI in the list "5001," (a doubled or trailing ",")');
    expect([e.source, e.column]).toEqual(['rules.txt:2', 36]);
  });

  it('ignores a byte order mark and an empty file', () => {
    expect(parseRulesFile('\uFEFF10.0.0.0/24\n', 'r')[0]!.source).toBe('r:1');
    expect(parseRulesFile('', 'r')).toEqual([]);
    expect(parseRulesFile('# only\n\n', 'r')).toEqual([]);
  });
});

describe('validateRuleSet', () => {
  const set = (...texts: string[]): Rule[] => texts.map((t, i) => parseRule(t, `f:${i + 1}`));

  it('accepts distinct guests per scope and overlapping guests across scopes', () => {
    expect(() =>
      validateRuleSet(
        set(
          '10.0.0.0/24=192.168.1.0/24@tap0',
          '10.0.0.0/24=192.168.2.0/24@tap1',
          '10.0.0.0/24=192.168.3.0/24@#2',
          '10.0.0.0/16=172.16.0.0/16',
          '10.1.0.0/24@tap0',
          'fd00::/64=fd00:1::/64',
        ),
      ),
    ).not.toThrow();
  });

  it('rejects guest prefixes that overlap within one scope (blames the later rule)', () => {
    const e = ruleError(() => validateRuleSet(set('10.0.0.0/24=192.168.1.0/24@tap0', '  10.0.0.0/16=172.16.0.0/16@tap0')));
    expect(e.message).toBe(
      'f:2: rule "10.0.0.0/16=172.16.0.0/16@tap0": guest prefix 10.0.0.0/16 overlaps 10.0.0.0/24 of rule "10.0.0.0/24=192.168.1.0/24@tap0" (f:1) on interface "tap0"',
    );
    expect(e.column).toBe(0);
    expect(ruleError(() => validateRuleSet(set('10.0.0.0/24=1.0.0.0/24', '10.0.0.0/24=2.0.0.0/24'))).message).toBe(
      'f:2: rule "10.0.0.0/24=2.0.0.0/24": guest prefix 10.0.0.0/24 overlaps 10.0.0.0/24 of rule "10.0.0.0/24=1.0.0.0/24" (f:1) on all interfaces',
    );
    expect(ruleError(() => validateRuleSet(set('fd00::/64@#1', 'fd00::/48=fd01::@#1'))).message).toBe(
      'f:2: rule "fd00::/48=fd01::@#1": guest prefix fd00::/48 overlaps fd00::/64 of rule "fd00::/64@#1" (f:1) on interface #1',
    );
  });

  it('the same guest network on two VNIs, onto two host networks, is two scopes (clones behind VNIs 5001 and 5002)', () => {
    expect(() =>
      validateRuleSet(
        set(
          '10.0.0.0/24=192.168.1.0/24@vni:5001',
          '10.0.0.0/24=192.168.2.0/24@vni:5002',
          '10.0.0.0/24=192.168.3.0/24',
          '10.0.0.0/24=192.168.4.0/24@vni:*',
          '10.0.0.0/24=192.168.5.0/24@key:5001',
          '10.0.0.0/24=192.168.6.0/24@tap1+vni:5001',
          '10.0.0.0/24=192.168.7.0/24@#1+vni:5001',
          '10.0.0.0/24=192.168.8.0/24@vni:5003,5004',
          '10.0.0.0/24=192.168.9.0/24@vni:5005,5006',
        ),
      ),
    ).not.toThrow();
  });

  it('rejects guest prefixes that overlap inside a tunnel both scopes share, naming it', () => {
    expect(ruleError(() => validateRuleSet(set('10.0.0.0/24=1.0.0.0/24@vni:5001', '10.0.0.0/16=2.0.0.0/16@vni:5001'))).message).toBe(
      'f:2: rule "10.0.0.0/16=2.0.0.0/16@vni:5001": guest prefix 10.0.0.0/16 overlaps 10.0.0.0/24 of rule "10.0.0.0/24=1.0.0.0/24@vni:5001" (f:1) on all interfaces inside VNI 5001',
    );
    expect(ruleError(() => validateRuleSet(set('10.0.0.0/24=1.0.0.0/24@teid:1,2,3', '10.0.0.0/24=2.0.0.0/24@teid:4,3'))).message).toBe(
      'f:2: rule "10.0.0.0/24=2.0.0.0/24@teid:4,3": guest prefix 10.0.0.0/24 overlaps 10.0.0.0/24 of rule "10.0.0.0/24=1.0.0.0/24@teid:1,2,3" (f:1) on all interfaces inside TEID 3',
    );
    expect(ruleError(() => validateRuleSet(set('fd00::/64=fd01::/64@tap0+key:*', 'fd00::/64=fd02::/64@tap0+key:*'))).message).toBe(
      'f:2: rule "fd00::/64=fd02::/64@tap0+key:*": guest prefix fd00::/64 overlaps fd00::/64 of rule "fd00::/64=fd01::/64@tap0+key:*" (f:1) on interface "tap0" inside any GRE key',
    );
  });

  it('rejects host prefixes that overlap, in any scope (the reverse direction would be ambiguous)', () => {
    expect(ruleError(() => validateRuleSet(set('10.0.0.0/24=192.168.1.0/24@vni:5001', '10.0.1.0/24=192.168.1.0/24@vni:5002'))).message).toBe(
      'f:2: rule "10.0.1.0/24=192.168.1.0/24@vni:5002": host prefix 192.168.1.0/24 overlaps 192.168.1.0/24 of rule "10.0.0.0/24=192.168.1.0/24@vni:5001" (f:1); two guest networks must not share a host network',
    );
    const e = ruleError(() => validateRuleSet(set('10.0.0.0/24=192.168.1.0/24@tap0', '10.0.1.0/24=192.168.1.0/24@tap1')));
    expect(e.message).toBe(
      'f:2: rule "10.0.1.0/24=192.168.1.0/24@tap1": host prefix 192.168.1.0/24 overlaps 192.168.1.0/24 of rule "10.0.0.0/24=192.168.1.0/24@tap0" (f:1); two guest networks must not share a host network',
    );
    expect(e.column).toBe(12);
    expect(() => validateRuleSet(set('10.0.0.0/16=192.168.0.0', '10.1.0.0/24=192.168.7.0'))).toThrow(RuleError);
  });

  it('does not compare prefixes of different families', () => {
    const v4: Prefix = { bytes: Uint8Array.of(0, 0, 0, 0), length: 0 };
    const v6: Prefix = { bytes: new Uint8Array(16), length: 0 };
    expect(prefixesOverlap(v4, v6)).toBe(false);
    expect(prefixesOverlap(v4, v4)).toBe(true);
  });
});

describe('formatPrefix', () => {
  it('prints dotted IPv4 and RFC 5952 IPv6', () => {
    expect(formatPrefix({ bytes: Uint8Array.of(192, 168, 1, 0), length: 24 })).toBe('192.168.1.0/24');
    const v6 = new Uint8Array(16);
    v6.set([0x20, 0x01, 0x0d, 0xb8], 0);
    v6[15] = 1;
    expect(formatPrefix({ bytes: v6, length: 128 })).toBe('2001:db8::1/128');
  });
});
