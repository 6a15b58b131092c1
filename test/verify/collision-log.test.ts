/**
 * The collision tracker's single-domain log is an optimisation only: on any
 * stream, a tracker with the log (sized small here, so that it fills, is
 * replayed, shrinks to its batch size and is dropped many times per stream)
 * reports the same findings, in the same order, the same collisions and the
 * same table as a tracker without it. And the flow hash (imported from the
 * tracker, not copied): its IPv4 form, and two flows it cannot tell apart.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Findings } from '../../src/report/model.js';
import { CollisionTracker, flowHash4 } from '../../src/verify/collisions.js';
import { hashWords } from '../../src/verify/hash.js';
import { PacketContext } from '../../src/verify/context.js';
import { PacketDecoder } from '../../src/wire/decode.js';
import { be16, concat, ether, icmpMsg, ip4, ip6, ipv4L4, ipv6L4, tcp, udp } from '../helpers/wire-build.js';

interface Step {
  flow: number;
  reply: boolean;
  domain: number;
  dt: number;
}

/** A small pool of flows: IPv4 UDP/TCP/ICMP echo and IPv6 TCP, between a few hosts. */
function packet(flow: number, reply: boolean): Uint8Array {
  const host = flow % 5;
  const kind = (flow >> 3) % 4;
  const a = ip4(`10.0.0.${2 + host}`);
  const b = ip4('10.0.0.1');
  const [src, dst] = reply ? [b, a] : [a, b];
  const port = 1000 + (flow % 8);
  switch (kind) {
    case 0:
      return ipv4L4(src, dst, 17, reply ? udp(53, port, new Uint8Array(4)) : udp(port, 53, new Uint8Array(4)));
    case 1:
      return ipv4L4(src, dst, 6, reply ? tcp(443, port, new Uint8Array(0)) : tcp(port, 443, new Uint8Array(0)));
    case 2:
      return ipv4L4(src, dst, 1, icmpMsg(reply ? 0 : 8, 0, (port << 16) | 1, new Uint8Array(4)));
    default: {
      const x = ip6(`fd00::${2 + host}`);
      const y = ip6('fd00::1');
      return ipv6L4(reply ? y : x, reply ? x : y, 6, reply ? tcp(443, port, new Uint8Array(0)) : tcp(port, 443, new Uint8Array(0)));
    }
  }
}

/** Domain d: interface d >> 1, untagged or in VLAN 10. */
function frame(ip: Uint8Array, domain: number): Uint8Array {
  const type = ip[0]! >> 4 === 4 ? 0x0800 : 0x86dd;
  return domain & 1 ? ether(0x8100, concat(be16(10), be16(type), ip)) : ether(type, ip);
}

function run(steps: Step[], maxFlows: number, log: { max: number; batch: number }) {
  const findings = new Findings();
  const ctx = new PacketContext(findings);
  const tracker = new CollisionTracker(10, maxFlows, log);
  const decoder = new PacketDecoder();
  const raisedOn: number[] = [];
  let time = 1_700_000_000;
  steps.forEach((s, i) => {
    const bytes = frame(packet(s.flow, s.reply), s.domain);
    const d = decoder.decode(bytes, 0, bytes.length, bytes.length, 1);
    time += s.dt;
    ctx.frame = i + 1;
    ctx.interfaceId = ctx.lane = s.domain >> 1; // a hand-made context: lane n is interface n
    ctx.vlanKey = s.domain & 1 ? (10 + 1) << 13 : 0;
    ctx.time = time;
    const before = findings.list.length;
    tracker.packet(decoder.view, d, ctx);
    // Which packet a finding was raised on matters as much as its frame: the
    // pipeline annotates the frame in hand with the findings it raised.
    for (let j = before; j < findings.list.length; j++) raisedOn.push(i + 1);
  });
  return { findings: findings.list, raisedOn, collisions: tracker.report(), size: tracker.size, capacity: tracker.capacity };
}

const step = fc.record({
  flow: fc.nat({ max: 63 }),
  reply: fc.boolean(),
  // Mostly one domain, so the log is used for long stretches.
  domain: fc.oneof({ arbitrary: fc.constant(0), weight: 12 }, { arbitrary: fc.nat({ max: 3 }), weight: 1 }),
  // Now and then a gap longer than the 10 s window.
  dt: fc.oneof({ arbitrary: fc.double({ min: 0, max: 0.5, noNaN: true }), weight: 20 }, { arbitrary: fc.double({ min: 5, max: 30, noNaN: true }), weight: 1 }),
});

describe('collision tracker: the single-domain log changes nothing', () => {
  it('same findings, collisions and table with and without the log', () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 80 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 16 }),
        (steps, maxFlows, logMax, logBatch) => {
          const direct = run(steps, maxFlows, { max: 0, batch: 1 });
          const logged = run(steps, maxFlows, { max: logMax, batch: logBatch });
          expect(logged).toEqual(direct);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('the streams reach what the log must keep exact: collisions, wrong-clone replies and the full table', () => {
    // A fixed stream (not random): 40 packets of 20 flows in one domain, then
    // the same flows on another interface; a table of 12 flows.
    const steps: Step[] = [];
    for (let i = 0; i < 40; i++) steps.push({ flow: i % 20, reply: i % 3 === 0, domain: 0, dt: 0.1 });
    for (let i = 0; i < 20; i++) steps.push({ flow: i, reply: true, domain: 2, dt: 0.1 });
    // A request from the first clone, answered on the second clone's interface.
    for (let i = 0; i < 4; i++) steps.push({ flow: i, reply: false, domain: 0, dt: 0.1 }, { flow: i, reply: true, domain: 2, dt: 0.1 });
    const direct = run(steps, 12, { max: 0, batch: 1 });
    expect(run(steps, 12, { max: 7, batch: 3 })).toEqual(direct);
    const checks = new Set(direct.findings.map((f) => f.check));
    expect(checks).toEqual(new Set(['verify.limit', 'flow.collision', 'flow.wrong-clone']));
    expect(direct.findings.filter((f) => f.check === 'flow.wrong-clone').every((f) => f.message.includes('the answer went to another clone'))).toBe(true);
  });
});

describe('the flow hash', () => {
  it('flowHash4 is the hash of the whole 10-word IPv4 key (the IPv6 keys go through hashWords)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), fc.integer(), fc.integer(), (k0, ports, x, y) => {
        expect(flowHash4(k0, ports, x, y)).toBe(hashWords(Int32Array.of(k0, ports, x, 0, 0, 0, y, 0, 0, 0), 0, 10));
      }),
    );
  });

  it('two flows whose 32-bit hashes are equal are told apart by their keys', () => {
    // UDP 10.0.0.2:sport > 10.0.0.1:dport, the key as the tracker builds it
    // (the smaller address first): a birthday search over the port pair.
    const a = ip4('10.0.0.1') | 0;
    const b = ip4('10.0.0.2') | 0;
    const seen = new Map<number, number>();
    let pair: [number, number] | null = null;
    for (let i = 0; pair === null && i < 1 << 21; i++) {
      const ports = ((1024 + (i & 0x3fff)) << 16) | (1024 + (i >>> 14)); // (dport << 16) | sport: reversed, a < b
      const h = flowHash4(0x400 | 17, ports, a, b);
      const j = seen.get(h);
      if (j !== undefined) pair = [j, ports];
      else seen.set(h, ports);
    }
    expect(pair).not.toBeNull();
    const flows = pair!.map((ports) => ether(0x0800, ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(ports & 0xffff, ports >>> 16, new Uint8Array(4)))));
    const findings = new Findings();
    const ctx = new PacketContext(findings);
    const tracker = new CollisionTracker(10, 64, { max: 0, batch: 1 });
    const decoder = new PacketDecoder();
    const send = (bytes: Uint8Array, iface: number): void => {
      const d = decoder.decode(bytes, 0, bytes.length, bytes.length, 1);
      ctx.frame++;
      ctx.interfaceId = ctx.lane = iface;
      ctx.time = 1_700_000_000 + ctx.frame;
      tracker.packet(decoder.view, d, ctx);
    };
    send(flows[0]!, 0);
    send(flows[1]!, 1); // the same hash on another interface: another flow, no collision
    expect(tracker.size).toBe(2);
    expect(findings.list).toEqual([]);
    send(flows[0]!, 1); // the first flow on another interface: a collision
    expect(findings.list.map((f) => [f.frame, f.check])).toEqual([[3, 'flow.collision']]);
  });
});
