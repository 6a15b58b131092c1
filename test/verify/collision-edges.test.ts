/**
 * The collision tracker's edges, which mutation testing found untested
 * (src/verify/collisions.ts):
 * - the window is inclusive: a flow seen again on another domain exactly
 *   `window` seconds after its last packet collides, a microsecond later it
 *   has started afresh; and a flow idle exactly the window is not yet
 *   reclaimed by the clock hand (the sweep's two comparisons, its early
 *   return and its test of each flow, are each an equivalent mutant alone:
 *   the test fails when both are made exclusive);
 * - when source and destination address are equal (a host talking to
 *   itself through the NAT), the ports alone order the two sides of the
 *   flow's key, so a request and its reply are still one flow (IPv4, whose
 *   key is built in packet(), and IPv6, built in fill()).
 */
import { describe, expect, it } from 'vitest';
import { ether, ip4, ip6, ipv4L4, ipv6L4, udp } from '../helpers/wire-build.js';
import { only, verifyFrames, type Frame } from './helpers.js';

const T0 = 1_700_000_000;
const dns = new Uint8Array(12);
const query = (): Uint8Array => ether(0x0800, ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(2345, 53, dns)));

describe('the collision window is inclusive', () => {
  it('seen on another interface exactly the window after the flow\'s last packet: a collision; 1 µs later: a new flow', () => {
    for (const [late, collides] of [
      [0, true],
      [0.000001, false],
    ] as const) {
      // The window runs from the flow's last packet (second 4), not its first.
      const r = verifyFrames(
        [
          { data: query(), iface: 0, time: T0 },
          { data: query(), iface: 0, time: T0 + 4 },
          { data: query(), iface: 1, time: T0 + 14 + late },
        ],
        { collisionWindow: 10 },
      );
      expect(r.summary.collisions.map((c) => [c.flow, c.interfaces, c.frames])).toEqual(collides ? [['10.0.0.2:2345 > 10.0.0.1:53', [0, 1], [1, 3]]] : []);
      expect(only(r.findings, 'flow.collision').map((f) => [f.frame, f.message])).toEqual(
        collides ? [[3, 'udp 10.0.0.2:2345 > 10.0.0.1:53 on interface 1 is also on interface 0 (frame 1): a stateful NAT would take them for one connection']] : [],
      );
    }
  });

  it('the clock hand reclaims a flow idle past the window, not one idle exactly the window', () => {
    // One flow fits. A new flow at second 10 sweeps the table: the first flow, idle exactly 10 s,
    // stays (the new one is not tracked: verify.limit), and its packet on interface 1 collides.
    const other = (): Uint8Array => ether(0x0800, ipv4L4(ip4('10.0.0.3'), ip4('10.0.0.1'), 17, udp(2345, 53, dns)));
    const frames = (late: number): Frame[] => [
      { data: query(), iface: 0, time: T0 },
      { data: other(), iface: 0, time: T0 + 10 + late },
      { data: query(), iface: 1, time: T0 + 10 + late },
    ];
    const exact = verifyFrames(frames(0), { collisionWindow: 10, maxFlows: 1 });
    expect(exact.findings.map((f) => [f.frame, f.check])).toEqual([
      [2, 'verify.limit'],
      [3, 'flow.collision'],
    ]);
    expect(exact.summary.collisions.map((c) => c.flow)).toEqual(['10.0.0.2:2345 > 10.0.0.1:53']);
    // Past the window the first flow is reclaimed for the new one, and frame 3 starts afresh (and finds the table full).
    const past = verifyFrames(frames(0.000001), { collisionWindow: 10, maxFlows: 1 });
    expect(past.findings.map((f) => [f.frame, f.check])).toEqual([[3, 'verify.limit']]);
    expect(past.summary.collisions).toEqual([]);
  });
});

describe('source address = destination address: the ports order the flow', () => {
  const cases = [
    {
      family: 'IPv4',
      packet: (sport: number, dport: number): Uint8Array => ether(0x0800, ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.2'), 17, udp(sport, dport, dns))),
      name: (a: number, b: number): string => `10.0.0.2:${a} > 10.0.0.2:${b}`,
    },
    {
      family: 'IPv6',
      packet: (sport: number, dport: number): Uint8Array => ether(0x86dd, ipv6L4(ip6('fd00::2'), ip6('fd00::2'), 17, udp(sport, dport, dns))),
      name: (a: number, b: number): string => `[fd00::2]:${a} > [fd00::2]:${b}`,
    },
  ];

  it.each(cases)('$family: the reply is the request\'s flow, and a reply to the wrong clone is found', ({ packet, name }) => {
    // Asked from interface 0, then from interface 1; answered on interface 0: the wrong clone.
    const r = verifyFrames([
      { data: packet(1000, 2000), iface: 0, time: T0 + 1 },
      { data: packet(1000, 2000), iface: 1, time: T0 + 2 },
      { data: packet(2000, 1000), iface: 0, time: T0 + 3 },
    ]);
    expect(r.summary.collisions).toEqual([
      {
        protocol: 'udp',
        flow: name(1000, 2000),
        interfaces: [0, 1],
        frames: [1, 2],
        times: [T0 + 1, T0 + 2],
        wrongReplies: [{ request: { frame: 2, interface: 1, time: T0 + 2 }, reply: { frame: 3, interface: 0, time: T0 + 3 } }],
        wrongReplyCount: 1,
      },
    ]);
    expect(only(r.findings, 'flow.collision').map((f) => [f.frame, f.interface, f.message])).toEqual([
      [2, 1, `udp ${name(1000, 2000)} on interface 1 is also on interface 0 (frame 1): a stateful NAT would take them for one connection`],
    ]);
    expect(only(r.findings, 'flow.wrong-clone').map((f) => [f.frame, f.interface, f.message])).toEqual([
      [3, 0, `udp ${name(1000, 2000)}: reply on interface 0 to the request of frame 2 on interface 1: the answer went to another clone than the one that asked`],
    ]);
  });

  it.each(cases)('$family: the flow is named as its first packet goes, the higher port first too', ({ packet, name }) => {
    const r = verifyFrames([
      { data: packet(2000, 1000), iface: 0, time: T0 + 1 },
      { data: packet(1000, 2000), iface: 1, time: T0 + 2 },
    ]);
    expect(r.summary.collisions.map((c) => [c.flow, c.interfaces, c.frames])).toEqual([[name(2000, 1000), [0, 1], [1, 2]]]);
  });
});
