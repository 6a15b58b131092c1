/**
 * --mac OLD=NEW[@IFACE] (src/nat/mac.ts): parsing with exact messages and
 * columns, and the rewrite on whole frames compared byte for byte with the
 * same frames built with the new address (checksums computed in full by the
 * test builders, independent of src/wire/checksum.ts).
 */
import { describe, expect, it } from 'vitest';
import { RuleError } from '../../src/errors.js';
import { MacMap, MacRewriter, parseMacRule, validateMacRules, type MacRule } from '../../src/nat/mac.js';
import type { Direction } from '../../src/nat/table.js';
import { PacketDecoder } from '../../src/wire/decode.js';
import { LINKTYPE_ETHERNET } from '../../src/wire/raw.js';
import { be16, concat, ether, fold16, hex, icmpMsg, ip4, ip6, ipv4L4, ipv6, ipv6L4, toHex, udp } from '../helpers/wire-build.js';
import { wlanFromEthernet, wlanLinkType } from '../helpers/wlan-build.js';

const OLD = hex('525400123456');
const NEW = hex('52540000000b');
const PEER = hex('020000000101');
const BCAST = hex('ffffffffffff');
const RULE = '52:54:00:12:34:56=52:54:00:00:00:0b';

function thrown(f: () => unknown): RuleError {
  try {
    f();
  } catch (e) {
    if (e instanceof RuleError) return e;
    throw e;
  }
  throw new Error('no error');
}

/** Applies `rules` (for interface `iface`) to a copy of `frame`; the bytes after and the kinds bitmask. */
function apply(frame: Uint8Array, rules: MacRule[], direction: Direction = 'guest-to-host', linkType = LINKTYPE_ETHERNET, iface = { id: 0, name: 'tap1' as string | undefined }) {
  const out = frame.slice();
  const dec = new PacketDecoder();
  const d = dec.decode(out, 0, out.length, out.length, linkType);
  const rw = new MacRewriter(rules);
  const map = new MacMap(rules, direction, iface);
  const kinds = rw.apply(out, dec.view, d, map);
  return { out, kinds, rw, map };
}

/** An Ethernet/IPv4 ARP message: op, sender MAC and IP, target MAC and IP. */
function arpMsg(op: number, sha: Uint8Array, spa: number, tha: Uint8Array, tpa: number): Uint8Array {
  return concat(hex('0001 0800 06 04'), be16(op), sha, be16(spa >>> 16), be16(spa & 0xffff), tha, be16(tpa >>> 16), be16(tpa & 0xffff));
}

/** A neighbour solicitation for `target` with a Source Link-Layer Address option `mac`, checksum in full. */
function ns(mac: Uint8Array, target = ip6('fd00::1')): Uint8Array {
  const body = concat(target, Uint8Array.of(1, 1), mac);
  return ipv6L4(ip6('fe80::5054:ff:fe12:3456'), ip6('ff02::1:ff00:1'), 58, icmpMsg(135, 0, 0, body));
}

describe('parseMacRule', () => {
  it('reads OLD=NEW with an optional scope, in either separator and case', () => {
    expect(parseMacRule(' 52-54-00-12-34-56 = 52:54:00:00:00:0B@tap1 ')).toMatchObject({ text: '52-54-00-12-34-56 = 52:54:00:00:00:0B@tap1', guest: OLD, host: NEW, scope: { kind: 'name', name: 'tap1' } });
    expect(parseMacRule(`${RULE}@#2`).scope).toEqual({ kind: 'id', id: 2 });
    expect(parseMacRule(RULE).scope).toEqual({ kind: 'all' });
  });

  it.each([
    ['52:54:00:12:34:56', '--mac "52:54:00:12:34:56": expected "=" between the guest MAC and the host MAC (OLD=NEW[@IFACE], e.g. 52:54:00:12:34:56=52:54:00:00:00:01@tap1)', 17],
    ['52:54:00:12:34=52:54:00:00:00:0b', '--mac "52:54:00:12:34=52:54:00:00:00:0b": "52:54:00:12:34" is not a MAC address (six hex pairs, e.g. 52:54:00:12:34:56)', 0],
    ['52:54:00:12:34:56=52:54:00:00:00:0g', '--mac "52:54:00:12:34:56=52:54:00:00:00:0g": "52:54:00:00:00:0g" is not a MAC address (six hex pairs, e.g. 52:54:00:12:34:56)', 18],
    ['52:54:00:12:34:56=ff:ff:ff:ff:ff:ff', '--mac "52:54:00:12:34:56=ff:ff:ff:ff:ff:ff": ff:ff:ff:ff:ff:ff is a group (multicast or broadcast) address: only a station\'s own address can be mapped', 18],
    ['00:00:00:00:00:00=52:54:00:00:00:0b', '--mac "00:00:00:00:00:00=52:54:00:00:00:0b": 00:00:00:00:00:00 is no station\'s address (it stands for "unknown" in ARP requests)', 0],
    ['52:54:00:12:34:56=52:54:00:12:34:56', '--mac "52:54:00:12:34:56=52:54:00:12:34:56": maps 52:54:00:12:34:56 to itself', 18],
    [`${RULE}@`, `--mac "${RULE}@": missing interface after "@" (a name, or #N for an interface id)`, 35],
    [`${RULE}@#x`, `--mac "${RULE}@#x": interface id "#x" is not a number from 0 to 4294967295 (e.g. @#0 for the first interface)`, 36],
    ['=52:54:00:00:00:0b', '--mac "=52:54:00:00:00:0b": missing the guest (OLD) MAC address (OLD=NEW, e.g. 52:54:00:12:34:56=52:54:00:00:00:01@tap1)', 0],
    [`${RULE}=x`, `--mac "${RULE}=x": more than one "="`, 35],
  ])('refuses %s with one line and the column of the bad part', (text, message, column) => {
    const e = thrown(() => parseMacRule(text));
    expect(e.message).toBe(message);
    expect(e.column).toBe(column);
    expect(e.rule).toBe(text);
    expect(e.exitCode).toBe(2);
  });

  it('refuses one guest MAC twice on one scope, and one host MAC twice anywhere', () => {
    const e1 = thrown(() => validateMacRules([parseMacRule(`${RULE}@tap1`), parseMacRule('52:54:00:12:34:56=52:54:00:00:00:0c@tap1')]));
    expect(e1.message).toBe('--mac "52:54:00:12:34:56=52:54:00:00:00:0c@tap1": guest MAC 52:54:00:12:34:56 is mapped already by --mac "52:54:00:12:34:56=52:54:00:00:00:0b@tap1" on interface "tap1"');
    const e2 = thrown(() => validateMacRules([parseMacRule(`${RULE}@tap1`), parseMacRule('52:54:00:12:34:57=52:54:00:00:00:0b@tap2')]));
    expect(e2.message).toBe('--mac "52:54:00:12:34:57=52:54:00:00:00:0b@tap2": host MAC 52:54:00:00:00:0b is given already by --mac "52:54:00:12:34:56=52:54:00:00:00:0b@tap1"; two clones must not share a host MAC');
    expect(e2.column).toBe(18);
    // The clones' case: one guest MAC, a host MAC per interface.
    expect(() => validateMacRules([parseMacRule(`${RULE}@tap1`), parseMacRule('52:54:00:12:34:56=52:54:00:00:00:0c@tap2')])).not.toThrow();
  });
});

describe('MacRewriter on whole frames', () => {
  const rules = [parseMacRule(RULE)];

  it('rewrites the Ethernet source and the ARP sender hardware address, and maps back host-to-guest', () => {
    const before = ether(0x0806, arpMsg(1, OLD, ip4('10.0.0.2'), new Uint8Array(6), ip4('10.0.0.1')), BCAST, OLD);
    const after = ether(0x0806, arpMsg(1, NEW, ip4('10.0.0.2'), new Uint8Array(6), ip4('10.0.0.1')), BCAST, NEW);
    const r = apply(before, rules);
    expect(toHex(r.out)).toBe(toHex(after));
    expect(r.rw.describe(r.map)).toEqual([`eth.src 52:54:00:12:34:56>52:54:00:00:00:0b (--mac ${RULE})`, `arp.sender-mac 52:54:00:12:34:56>52:54:00:00:00:0b (--mac ${RULE})`]);
    expect(toHex(apply(after, rules, 'host-to-guest').out)).toBe(toHex(before));
    // Guest-to-host leaves the host side's address alone.
    expect(toHex(apply(after, rules).out)).toBe(toHex(after));
  });

  it('rewrites the Ethernet destination and the ARP target hardware address of a reply', () => {
    const before = ether(0x0806, arpMsg(2, PEER, ip4('10.0.0.1'), OLD, ip4('10.0.0.2')), OLD, PEER);
    const after = ether(0x0806, arpMsg(2, PEER, ip4('10.0.0.1'), NEW, ip4('10.0.0.2')), NEW, PEER);
    const r = apply(before, rules);
    expect(toHex(r.out)).toBe(toHex(after));
    expect(Array.from(r.rw.counts)).toEqual([0, 1, 0, 0, 0, 1, 0]);
    expect(Array.from(r.rw.hits)).toEqual([2]);
  });

  it('rewrites an NDP link-layer address option and fixes the ICMPv6 checksum incrementally', () => {
    const before = ether(0x86dd, ns(OLD), hex('3333ff000001'), OLD);
    const after = ether(0x86dd, ns(NEW), hex('3333ff000001'), NEW);
    const r = apply(before, rules);
    expect(toHex(r.out)).toBe(toHex(after));
    expect(r.rw.describe(r.map)[1]).toBe(`ndp.lladdr 52:54:00:12:34:56>52:54:00:00:00:0b (--mac ${RULE})`);
  });

  it('keeps a wrong ICMPv6 checksum exactly as wrong (RFC 1624), as the translator does', () => {
    const ck = 14 + 40 + 2;
    const good = ether(0x86dd, ns(OLD));
    const bad = good.slice();
    bad[ck + 1] = bad[ck + 1]! ^ 0x10; // off by 16
    const out = apply(bad, rules).out;
    const right = ether(0x86dd, ns(NEW));
    const field = (b: Uint8Array): number => (b[ck]! << 8) | b[ck + 1]!;
    // The error (checksum minus the right one, ones'-complement) is the same before and after.
    const err = (f: number, r: number): number => fold16(f + (~r & 0xffff));
    expect(err(field(out), field(right))).toBe(err(field(bad), field(good)));
    expect(field(out)).not.toBe(field(right));
  });

  it('leaves a Target Link-Layer Address option of another station alone', () => {
    const body = concat(Uint8Array.of(0x60, 0, 0, 0), ip6('fd00::1'), Uint8Array.of(2, 1), PEER);
    const na = ether(0x86dd, ipv6L4(ip6('fd00::1'), ip6('fd00::2'), 58, icmpMsg(136, 0, 0, body.subarray(4))), OLD, PEER);
    const r = apply(na, rules);
    expect(toHex(r.out)).toBe(toHex(ether(0x86dd, ipv6L4(ip6('fd00::1'), ip6('fd00::2'), 58, icmpMsg(136, 0, 0, body.subarray(4))), NEW, PEER)));
    expect(r.kinds).toBe(1 << 1);
  });

  it('rewrites SLL and SLL2 source addresses (their one address) of Ethernet interfaces', () => {
    const ip = ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(1, 2, hex('00')));
    const sll = (mac: Uint8Array): Uint8Array => concat(hex('0004 0001 0006'), mac, hex('0000'), be16(0x0800), ip);
    expect(toHex(apply(sll(OLD), rules, 'guest-to-host', 113).out)).toBe(toHex(sll(NEW)));
    const sll2 = (mac: Uint8Array): Uint8Array => concat(be16(0x0800), hex('0000 00000002 0001 04 06'), mac, hex('0000'), ip);
    expect(toHex(apply(sll2(OLD), rules, 'guest-to-host', 276).out)).toBe(toHex(sll2(NEW)));
    // Not an Ethernet address (ARPHRD 772 loopback): left alone.
    const lo = concat(hex('0004 0304 0006'), OLD, hex('0000'), be16(0x0800), ip);
    expect(toHex(apply(lo, rules, 'guest-to-host', 113).out)).toBe(toHex(lo));
  });

  it('rewrites every 802.11 address field that holds it, and keeps the FCS right', () => {
    const ip = ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(1, 2, hex('00')));
    for (const o of [{ fcs: true, toDs: true, fromDs: false }, { fcs: true, toDs: true, fromDs: true }, { fcs: false }]) {
      const before = wlanFromEthernet(ether(0x0800, ip, PEER, OLD), o);
      const after = wlanFromEthernet(ether(0x0800, ip, PEER, NEW), o);
      expect(toHex(apply(before, rules, 'guest-to-host', wlanLinkType(o)).out)).toBe(toHex(after));
    }
  });

  it('applies a scoped mapping only on its interface', () => {
    const scoped = [parseMacRule(`${RULE}@tap1`)];
    const frame = ether(0x0800, ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(1, 2, hex('00'))), PEER, OLD);
    expect(apply(frame, scoped, 'guest-to-host', LINKTYPE_ETHERNET, { id: 0, name: 'tap1' }).kinds).toBe(1);
    expect(apply(frame, scoped, 'guest-to-host', LINKTYPE_ETHERNET, { id: 1, name: 'tap2' }).kinds).toBe(0);
    expect(apply(frame, [parseMacRule(`${RULE}@#1`)], 'guest-to-host', LINKTYPE_ETHERNET, { id: 1, name: 'tap2' }).kinds).toBe(1);
  });

  it('does not look into an IPv6 packet that is not NDP', () => {
    const l4 = icmpMsg(128, 0, 0, concat(Uint8Array.of(1, 1), OLD));
    const echo = ether(0x86dd, ipv6(ip6('fd00::2'), ip6('fd00::1'), 58, l4), PEER, PEER);
    expect(toHex(apply(echo, rules).out)).toBe(toHex(echo));
  });
});
