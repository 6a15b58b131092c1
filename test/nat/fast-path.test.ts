/**
 * `Translator.rewrite` (the rewrite loop's direct path for Ethernet + IPv4 +
 * TCP/UDP) against `Translator.translate` (the general decoder): the same
 * bytes out and the same result, for every corpus packet and for generated
 * packets around each of the direct path's conditions (options, fragments,
 * lengths, snaplen cuts, padding, UDP checksum 0, offload seeds, checksums
 * that come out 0, addresses inside and outside the rules, special addresses).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InterfaceMapper } from '../../src/nat/mapper.js';
import { parseRule } from '../../src/nat/rules.js';
import { RuleTable } from '../../src/nat/table.js';
import { Translator, type TranslateResult } from '../../src/nat/translate.js';
import { readPackets, type TestPacket } from '../helpers/capture.js';
import { corpusPath, manifest } from '../helpers/corpus.js';
import { icmpRedirect4, rarpReply, redirectWithHeader, richFrames } from '../helpers/rich-frames.js';
import { rulesForCapture } from '../helpers/survey.js';
import { be16, be32, concat, ether, fold16, ip4, ipv4, pseudo4, sum, tcp, udp } from '../helpers/wire-build.js';

function mapperOf(rules: readonly string[], direction: 'guest-to-host' | 'host-to-guest', linkType: number): InterfaceMapper {
  const table = new RuleTable(rules.map((r) => parseRule(r)), direction);
  return table.mapperFor({ id: 0, index: 0, name: undefined, linkType, snapLength: 0, ipv4: [], ipv6: [] });
}

function snapshot(r: TranslateResult): unknown {
  const n = r.count;
  return {
    changed: r.changed,
    rewrites: r.rewrites,
    checksums: r.checksums,
    rule: r.rule,
    undecodable: r.undecodable,
    unknownLink: r.unknownLink,
    unknownProtocol: r.unknownProtocol,
    truncated: r.truncated,
    count: n,
    kinds: [...r.kinds.subarray(0, n)],
    rules: [...r.rules.subarray(0, n)],
    old4: [...r.old4.subarray(0, n)],
    new4: [...r.new4.subarray(0, n)],
  };
}

const general = new Translator();
const direct = new Translator();

/** Runs both paths on copies of `frame` (at an odd offset in a larger buffer, as in a read window) and compares. */
function same(frame: Uint8Array, origLen: number, linkType: number, m: InterfaceMapper, details: boolean, where: string): void {
  general.details = details;
  direct.details = details;
  const a = new Uint8Array(frame.length + 19);
  const b = new Uint8Array(frame.length + 19);
  a.set(frame, 7);
  b.set(frame, 7);
  const ra = snapshot(general.translate(a, 7, frame.length, origLen, linkType, m));
  const rb = snapshot(direct.rewrite(b, 7, frame.length, origLen, linkType, m));
  expect(Buffer.from(b).toString('hex'), where).toBe(Buffer.from(a).toString('hex'));
  expect(rb, where).toEqual(ra);
}

describe('rewrite (direct path) = translate (general decoder)', () => {
  it('over every corpus packet, both directions, with and without details', async () => {
    let packets = 0;
    for (const e of manifest().filter((x) => x.packets > 0)) {
      let pkts: TestPacket[];
      try {
        pkts = await readPackets(corpusPath(e.path));
      } catch {
        continue;
      }
      const rules = rulesForCapture(pkts);
      if (rules.length === 0) continue;
      for (const p of pkts) {
        for (const dir of ['guest-to-host', 'host-to-guest'] as const) {
          same(p.data, p.originalLength, p.linkType, mapperOf(rules, dir, p.linkType), packets % 2 === 0, `${e.path} frame ${p.frame} ${dir}`);
        }
        packets++;
      }
    }
    expect(packets).toBeGreaterThan(10_000);
  }, 120_000);

  const RULES = ['10.0.0.0/24=192.168.1.0/24', '10.1.0.0/16=172.16.0.0/16'];
  const addr = fc.oneof(
    fc.constantFrom('10.0.0.2', '10.0.0.1', '10.0.0.255', '10.1.7.9', '192.168.1.2', '172.16.3.4', '8.8.8.8', '0.0.0.0', '127.0.0.1', '224.0.0.251', '255.255.255.255').map(ip4),
    fc.integer({ min: 0, max: 0xffffffff }),
  );
  const packet = fc.record({
    src: addr,
    dst: addr,
    proto: fc.constantFrom(6, 17, 17, 1, 136, 33),
    payload: fc.uint8Array({ maxLength: 40 }),
    ff: fc.constantFrom(0, 0x4000, 0x2000, 0x0001, 0x6000),
    options: fc.constantFrom(new Uint8Array(0), Uint8Array.of(1, 1, 1, 0), Uint8Array.of(131, 7, 4, 10, 0, 0, 9, 0)),
    // what the L4 checksum field holds: valid, 0, an offload seed of the addresses (with or without the length), random
    ck: fc.constantFrom('valid', 'zero', 'seed', 'seed-nolen', 'random', 'valid-0xffff'),
    // an IPv4 header checksum of 0x0000 (IP checksum offload) or the right one
    zeroHeader: fc.boolean(),
    randomCk: fc.integer({ min: 0, max: 0xffff }),
    totalDelta: fc.constantFrom(0, 0, 0, -1, -8, -30, 4, -1000),
    padding: fc.constantFrom(0, 0, 6, 18),
    cut: fc.constantFrom(0, 0, 0, 1, 10, 30, 60),
    details: fc.boolean(),
    direction: fc.constantFrom('guest-to-host' as const, 'host-to-guest' as const),
  });

  it('over generated Ethernet/IPv4 packets around every condition of the direct path', () => {
    const mappers = { 'guest-to-host': mapperOf(RULES, 'guest-to-host', 1), 'host-to-guest': mapperOf(RULES, 'host-to-guest', 1) };
    fc.assert(
      fc.property(packet, (p) => {
        const l4 = p.proto === 6 ? tcp(1234, 80, p.payload) : udp(5353, 53, p.payload);
        const ckAt = p.proto === 6 ? 16 : 6;
        const seed = fold16(pseudo4(p.src, p.dst, p.proto, l4.length));
        l4[ckAt] = 0;
        l4[ckAt + 1] = 0;
        let ck: number;
        if (p.ck === 'zero') ck = 0;
        else if (p.ck === 'seed') ck = seed;
        else if (p.ck === 'seed-nolen') ck = fold16(pseudo4(p.src, p.dst, p.proto, 0));
        else if (p.ck === 'random') ck = p.randomCk;
        else {
          ck = ~fold16(sum(l4, 0, l4.length) + pseudo4(p.src, p.dst, p.proto, l4.length)) & 0xffff;
          if (p.ck === 'valid-0xffff' && ck === 0) ck = 0xffff;
        }
        l4.set(be16(ck), ckAt);
        const ip = ipv4(p.src, p.dst, p.proto, l4, { ff: p.ff, options: p.options, totalLen: Math.max(0, 20 + p.options.length + l4.length + p.totalDelta) });
        if (p.zeroHeader) ip.set(be16(0), 10);
        const frame = concat(ether(0x0800, ip), new Uint8Array(p.padding));
        const capLen = Math.max(0, frame.length - p.cut);
        same(frame.subarray(0, capLen), frame.length, 1, mappers[p.direction], p.details, JSON.stringify({ ...p, payload: undefined }));
      }),
      { numRuns: 20_000, seed: 0x5eed },
    );
  });

  it('ARP of every layout, RARP and the rich frames: the direct path takes Ethernet-layout ARP of any hardware type, leaves the rest to translate', () => {
    const m = mapperOf(['10.0.0.0/24=192.168.1.0/24'], 'guest-to-host', 1);
    const arpOf = (htype: number, hlen: number, cut = 0): Uint8Array => {
      const hw = (b: number): Uint8Array => new Uint8Array(hlen).fill(b);
      const body = concat(be16(htype), be16(0x0800), Uint8Array.of(hlen, 4), be16(1), hw(0x11), be32(ip4('10.0.0.2')), hw(0), be32(ip4('10.0.0.1')));
      return ether(0x0806, body.subarray(0, body.length - cut));
    };
    const frames: Array<[string, Uint8Array]> = [
      ['Ethernet ARP', arpOf(1, 6)],
      ['IEEE 802 ARP', arpOf(6, 6)],
      ['InfiniBand ARP (20-byte hardware addresses)', arpOf(32, 20)],
      ['ARP cut inside the target address', arpOf(1, 6, 2)],
      ['RARP', rarpReply()],
      ...richFrames().map((f, i): [string, Uint8Array] => [`rich frame ${i}`, f]),
      ['ICMP redirect', icmpRedirect4()],
      ['Redirected Header', redirectWithHeader()],
    ];
    for (const [name, frame] of frames) same(frame, frame.length, 1, m, true, name);
    // Each of the first three has both addresses rewritten in place, by whichever path took it.
    for (const [name, frame] of frames.slice(0, 3)) {
      const b = frame.slice();
      const r = direct.rewrite(b, 0, b.length, b.length, 1, m);
      expect(r.count, name).toBe(2);
      expect([r.newText(0), r.newText(1)], name).toEqual(['192.168.1.2', '192.168.1.1']);
    }
  });

  it('a checksum that comes out 0 is written 0xFFFF for UDP and 0 for TCP, on both paths', () => {
    const m = mapperOf(['10.0.0.0/24=192.168.1.0/24'], 'guest-to-host', 1);
    let hits = 0;
    // Search payloads whose translated checksum is 0 (one in 65536 word values).
    for (let w = 0; w < 0x10000 && hits < 4; w++) {
      for (const proto of [6, 17]) {
        const payload = be32(w << 16);
        const src = ip4('10.0.0.2');
        const dst = ip4('8.8.4.4');
        const l4 = proto === 6 ? tcp(1, 2, payload) : udp(1, 2, payload);
        const ckAt = proto === 6 ? 16 : 6;
        const newSrc = ip4('192.168.1.2');
        // Valid before; after translation its value is ~(sum with the new source).
        const ck = ~fold16(sum(l4, 0, l4.length) + pseudo4(src, dst, proto, l4.length)) & 0xffff;
        const after = ~fold16(sum(l4, 0, l4.length) + pseudo4(newSrc, dst, proto, l4.length)) & 0xffff;
        if (after !== 0 || ck === 0) continue;
        l4.set(be16(ck), ckAt);
        const frame = ether(0x0800, ipv4(src, dst, proto, l4));
        direct.details = false;
        const b = frame.slice();
        direct.rewrite(b, 0, b.length, b.length, 1, m);
        expect((b[14 + 20 + ckAt]! << 8) | b[14 + 20 + ckAt + 1]!).toBe(proto === 17 ? 0xffff : 0);
        same(frame, frame.length, 1, m, true, `proto ${proto} w ${w}`);
        hits++;
      }
    }
    expect(hits).toBeGreaterThan(0);
  });
});
