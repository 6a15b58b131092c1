/**
 * Tunnel lanes (src/verify/context.ts Lanes.inTunnel): the same inner
 * 5-tuple in two VNIs of one interface is two clones, as on two interfaces
 * or VLANs; the collision, wrong-clone and ARP checks see the innermost
 * packet in its lane, never the VTEP-to-VTEP packet that carries it; the
 * reports name the lanes by their tunnels.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Report } from '../../src/report/model.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { laneFilter } from '../../src/report/wireshark.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderText } from '../../src/report/text.js';
import { inconsistency } from '../../src/report/consistency.js';
import { cli } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { tsharkFields } from '../helpers/tshark.js';
import * as B from '../helpers/wire-build.js';
import { verifyFrames } from './helpers.js';
import { ANSWER, capture, dns, FLOW, GUEST, GW_VTEP, inVxlan, QUERY, SERVER, twoClones, VTEP_A, VTEP_B, vxlan } from '../helpers/tunnel-clones.js';

const { hex, ip4, concat, be16, be32 } = B;

function verify(file: string): { code: number | null; report: Report } {
  const r = cli(['verify', file, '--report', 'json']);
  return { code: r.code, report: JSON.parse(r.stdout.toString()) as Report };
}

const COLLISION = `${FLOW} on interface 0 inside VXLAN VNI 5002 is also on interface 0 inside VXLAN VNI 5001 (frame 1): a stateful NAT would take them for one connection`;
const WRONG = `${FLOW}: reply on interface 0 inside VXLAN VNI 5001 to the request of frame 3 on interface 0 inside VXLAN VNI 5002: the answer went to another clone than the one that asked`;

describe('tunnel lanes', () => {
  it('two clones behind VNIs 5001 and 5002 on one interface, both replies in VNI 5001: a collision across the two VNI lanes and the wrong clone, exit 1', () => {
    const { code, report } = verify(capture('wrong.pcap', twoClones(true)));
    expect(code).toBe(1);
    expect(report.findings.map((f) => [f.frame, f.interface, f.check, f.severity, f.message, f.tunnel, f.vlan])).toEqual([
      [3, 0, 'flow.collision', 'warning', COLLISION, 'VXLAN VNI 5002', undefined],
      [4, 0, 'flow.wrong-clone', 'error', WRONG, 'VXLAN VNI 5001', undefined],
    ]);
    expect(report.collisions).toEqual([
      {
        protocol: 'udp',
        flow: '10.0.0.2:33000 > 10.0.0.1:53',
        interfaces: [0, 0],
        frames: [1, 3],
        times: [0, 2],
        tunnels: ['VXLAN VNI 5001', 'VXLAN VNI 5002'],
        wrongReplies: [
          {
            request: { frame: 3, interface: 0, tunnel: 'VXLAN VNI 5002', time: 2 },
            reply: { frame: 4, interface: 0, tunnel: 'VXLAN VNI 5001', time: 3 },
          },
        ],
        wrongReplyCount: 1,
      },
    ]);
    // Each frame counts once, in the lane of the packet it carries; the interface has no packet of its own.
    expect(report.timeline!.lanes.map((l) => [l.interface, l.tunnel, l.packets.reduce((a, b) => a + b, 0)])).toEqual([
      [0, 'VXLAN VNI 5001', 3],
      [0, 'VXLAN VNI 5002', 1],
    ]);
    expect(inconsistency(report)).toBeNull();
    // merge-reports reads the new fields back with their types.
    const bad = JSON.parse(JSON.stringify(report)) as Report;
    (bad.collisions[0]! as unknown as { tunnels: unknown }).tunnels = [5001, 5002];
    expect(inconsistency(bad)).toBe('its collisions: not of the form this version writes');
    const badLane = JSON.parse(JSON.stringify(report)) as Report;
    (badLane.timeline!.lanes[0]! as unknown as { tunnel: unknown }).tunnel = 5001;
    expect(inconsistency(badLane)).toBe('its timeline: not of the form this version writes');
    expect(renderText(report)).toContain('collision udp 10.0.0.2:33000 > 10.0.0.1:53 on interfaces 0 (VXLAN VNI 5001), 0 (VXLAN VNI 5002) (frames 1, 3)');
    expect(renderJunit(report)).toContain(`frame 4 (interface 0 inside VXLAN VNI 5001): flow.wrong-clone: ${WRONG.replace('>', '&gt;')}`);
  });

  it('the same capture with each reply in its own VNI: the collision warning, no wrong clone, exit 0', () => {
    const { code, report } = verify(capture('right.pcap', twoClones(false)));
    expect(code).toBe(0);
    expect(report.findings.map((f) => [f.frame, f.check, f.message])).toEqual([[3, 'flow.collision', COLLISION]]);
    expect(report.collisions.map((c) => [c.tunnels, c.wrongReplyCount])).toEqual([[['VXLAN VNI 5001', 'VXLAN VNI 5002'], 0]]);
  });

  it('one inner flow in one VNI over two VTEP outer flows (another VTEP, another source port): one lane, no collision', () => {
    const { code, report } = verify(
      capture('one-vni.pcap', [inVxlan(5001, dns(false), VTEP_A, GW_VTEP, 49152), inVxlan(5001, dns(true), GW_VTEP, VTEP_B, 50000), inVxlan(5001, dns(false), VTEP_B, GW_VTEP, 51000)]),
    );
    expect(code).toBe(0);
    expect(report.findings).toEqual([]);
    expect(report.collisions).toEqual([]);
    expect(report.timeline!.lanes.map((l) => [l.tunnel, l.packets.reduce((a, b) => a + b, 0)])).toEqual([['VXLAN VNI 5001', 3]]);
  });

  it('the VTEP-to-VTEP packet is transport, not a flow: one outer 5-tuple on two interfaces carrying different flows is no collision', () => {
    const other = B.ether(0x0800, B.ipv4L4(ip4('10.0.0.3'), SERVER, 17, B.udp(40000, 53, QUERY)));
    const { findings, summary } = verifyFrames([
      { data: inVxlan(5001, dns(false), VTEP_A, GW_VTEP), iface: 0 },
      { data: inVxlan(5001, other, VTEP_A, GW_VTEP), iface: 1 },
    ]);
    expect(findings).toEqual([]);
    expect(summary.collisions).toEqual([]);
  });

  it('a tunnel without an identifier is a lane of its own; lanes nest; the VLAN of the frame carrying the tunnel and the VLAN inside are named', () => {
    // The flow untunnelled, then in IP-in-IP, on interface 0.
    const ipip = B.ether(0x0800, B.ipv4(VTEP_A, GW_VTEP, 4, B.ipv4L4(GUEST, SERVER, 17, B.udp(33000, 53, QUERY))));
    // VXLAN VNI 7 inside GRE key 9 on VLAN 10, the inner frame tagged 20.
    const gre = concat(be16(0x2000), be16(0x0800), be32(9), B.ipv4L4(VTEP_A, GW_VTEP, 17, B.udp(49152, 4789, concat(vxlan(7), dns(false, 20)))));
    const nested = B.ether(0x8100, concat(be16(10), be16(0x0800), B.ipv4(VTEP_B, GW_VTEP, 47, gre)));
    const { findings, summary } = verifyFrames([{ data: dns(false) }, { data: ipip }, { data: nested }]);
    expect(findings.map((f) => [f.frame, f.message, f.tunnel, f.vlan])).toEqual([
      [2, `${FLOW} on interface 0 inside IP-in-IP is also on interface 0 (frame 1): a stateful NAT would take them for one connection`, 'IP-in-IP', undefined],
      [3, `${FLOW} on interface 0 vlan 10 inside GRE key 9 / VXLAN VNI 7 vlan 20 is also on interface 0 (frame 1): a stateful NAT would take them for one connection`, 'vlan 10 / GRE key 9 / VXLAN VNI 7', '20'],
    ]);
    expect(summary.collisions.map((c) => [c.interfaces, c.tunnels, c.vlans])).toEqual([
      [
        [0, 0, 0],
        ['', 'IP-in-IP', 'vlan 10 / GRE key 9 / VXLAN VNI 7'],
        ['', '', '20'],
      ],
    ]);
  });

  it('GTP-U names each direction of a bearer by its own TEID: a request in TEID 1 answered in TEID 2 is no collision; the same request in another uplink TEID is', () => {
    const gtp = (teid: number, ip: Uint8Array) => concat(hex('30ff'), be16(ip.length), be32(teid), ip);
    const inGtp = (teid: number, ip: Uint8Array, src: number, dst: number) => B.ether(0x0800, B.ipv4L4(src, dst, 17, B.udp(2152, 2152, gtp(teid, ip))));
    const query = B.ipv4L4(GUEST, SERVER, 17, B.udp(33000, 53, QUERY));
    const answer = B.ipv4L4(SERVER, GUEST, 17, B.udp(53, 33000, ANSWER));
    const bearer = [{ data: inGtp(1, query, VTEP_A, GW_VTEP) }, { data: inGtp(2, answer, GW_VTEP, VTEP_A) }];
    expect(verifyFrames(bearer).findings).toEqual([]);
    const { findings, summary } = verifyFrames([...bearer, { data: inGtp(3, query, VTEP_B, GW_VTEP) }, { data: inGtp(4, answer, GW_VTEP, VTEP_B) }]);
    expect(findings.map((f) => [f.frame, f.check, f.message])).toEqual([
      [3, 'flow.collision', `${FLOW} on interface 0 inside GTP-U TEID 3 is also on interface 0 inside GTP-U TEID 1 (frame 1): a stateful NAT would take them for one connection`],
    ]);
    expect(summary.collisions.map((c) => [c.tunnels, c.wrongReplyCount])).toEqual([[['GTP-U TEID 1', 'GTP-U TEID 3'], 0]]);
    // The flow first seen outside GTP-U: its request in TEID 3 collides, and its answer in TEID 4 answers that request.
    const mixed = verifyFrames([{ data: dns(false) }, { data: inGtp(3, query, VTEP_B, GW_VTEP) }, { data: inGtp(4, answer, GW_VTEP, VTEP_B) }]);
    expect(mixed.findings.map((f) => [f.frame, f.check])).toEqual([[2, 'flow.collision']]);
    expect(mixed.summary.collisions.map((c) => [c.tunnels, c.wrongReplyCount])).toEqual([[['', 'GTP-U TEID 3'], 0]]);
  });

  it('past maxTunnelLanes, later identifiers share their kind\'s lane ("VXLAN"), with one verify.limit warning', () => {
    const frames = [5001, 5002, 5003, 5004].map((vni) => ({ data: inVxlan(vni, dns(false), VTEP_A, GW_VTEP) }));
    const { findings, summary } = verifyFrames(frames, { maxTunnelLanes: 2 });
    const also = 'is also on interface 0 inside VXLAN VNI 5001 (frame 1): a stateful NAT would take them for one connection';
    expect(findings.map((f) => [f.frame, f.check, f.message])).toEqual([
      [2, 'flow.collision', `${FLOW} on interface 0 inside VXLAN VNI 5002 ${also}`],
      [3, 'verify.limit', 'more than 2 tunnel lanes: packets of later tunnels share one lane per kind of tunnel, their identifiers not told apart'],
      [3, 'flow.collision', `${FLOW} on interface 0 inside VXLAN ${also}`],
    ]);
    expect(summary.collisions.map((c) => c.tunnels)).toEqual([['VXLAN VNI 5001', 'VXLAN VNI 5002', 'VXLAN']]);
  });

  it('ARP inside a VNI is its own broadcast domain: the same address claimed by two MACs in two VNIs is no duplicate, in one VNI it is', () => {
    const arp = (mac: Uint8Array) => B.ether(0x0806, concat(hex('0001080006040002'), mac, be32(GUEST), hex('525400000001'), be32(SERVER)), hex('525400000001'), mac);
    const m1 = hex('525400000011');
    const m2 = hex('525400000022');
    const two = verifyFrames([{ data: inVxlan(5001, arp(m1), VTEP_A, GW_VTEP) }, { data: inVxlan(5002, arp(m2), VTEP_B, GW_VTEP) }]);
    expect(two.findings).toEqual([]);
    const one = verifyFrames([{ data: inVxlan(5001, arp(m1), VTEP_A, GW_VTEP) }, { data: inVxlan(5001, arp(m2), VTEP_B, GW_VTEP) }]);
    expect(one.findings.map((f) => [f.frame, f.check, f.message, f.tunnel])).toEqual([
      [2, 'arp.duplicate-ip', '10.0.0.2 is claimed by 52:54:00:00:00:11 (frame 1) and by 52:54:00:00:00:22 on interface 0 inside VXLAN VNI 5001', 'VXLAN VNI 5001'],
    ]);
  });

  it('the HTML report draws the two VNI lanes, labelled with their tunnels, and each lane\'s Wireshark filter finds exactly its packets in tshark', (ctx) => {
    const file = capture('wrong-html.pcap', twoClones(true));
    const html = renderHtmlReport(verify(file).report);
    const lanes = [...html.matchAll(/<g data-kind="lane" data-lane="([^"]+)"[^>]*data-tunnel="([^"]+)">.*?class="lane-name">([^<]+)</g)].map((m) => [m[1], m[2], m[3]]);
    expect(lanes).toEqual([
      ['0~VXLAN_VNI_5001', 'VXLAN VNI 5001', 'tap1 · VXLAN VNI 5001'],
      ['0~VXLAN_VNI_5002', 'VXLAN VNI 5002', 'tap1 · VXLAN VNI 5002'],
    ]);
    expect(html).toContain('data-from-lane="0~VXLAN_VNI_5002" data-to-lane="0~VXLAN_VNI_5001"');
    expect(html).toContain('<code class="wf">frame.interface_id == 0 &amp;&amp; vxlan.vni == 5001</code>');
    expect(html).toContain('<code class="wf">frame.interface_id == 0 &amp;&amp; vxlan.vni == 5002</code>');
    needs(ctx, 'tshark');
    expect(tsharkFields(file, ['frame.number'], ['-Y', 'frame.interface_id == 0 && vxlan.vni == 5001'])).toEqual(['1', '2', '4']);
    expect(tsharkFields(file, ['frame.number'], ['-Y', 'frame.interface_id == 0 && vxlan.vni == 5002'])).toEqual(['3']);
  });

  it('a tunnel lane\'s Wireshark filter names each tunnel by its field (VXLAN, VXLAN-GPE, Geneve, GRE, NVGRE, GTP-U; none for IP-in-IP), and every one compiles in tshark', (ctx) => {
    const cases: Array<[string, string | undefined, string]> = [
      ['vlan 10 / GRE key 9 / VXLAN VNI 7', '20', 'frame.interface_id == 0 && vlan.id == 10 && gre.key == 9 && vxlan.vni == 7 && vlan.id == 20'],
      ['VXLAN-GPE VNI 3', undefined, 'frame.interface_id == 0 && vxlan.vni == 3'],
      ['Geneve VNI 9', undefined, 'frame.interface_id == 0 && geneve.vni == 9'],
      ['GRE-in-UDP key 4', undefined, 'frame.interface_id == 0 && gre.key == 4'],
      ['NVGRE VSID 5', undefined, 'frame.interface_id == 0 && gre.key >= 1280 && gre.key <= 1535'],
      ['GTP-U TEID 4294967295', undefined, 'frame.interface_id == 0 && gtp.teid == 4294967295'],
      ['IP-in-IP', undefined, 'frame.interface_id == 0'],
    ];
    for (const [tunnel, vlan, filter] of cases) expect(laneFilter(0, vlan, undefined, tunnel), tunnel).toBe(filter);
    // Old reports (no tunnel) keep their filters.
    expect(laneFilter(2, '10')).toBe('frame.interface_id == 2 && vlan.id == 10');
    needs(ctx, 'tshark');
    const file = capture('any.pcapng', twoClones(false));
    const all = cases.map(([, , f]) => `(${f})`).join(' || ');
    execFileSync('tshark', ['-r', file, '-n', '-Y', all, '-c', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  });

});

describe('a VNI per direction (Open vSwitch): answers in the other VNI are where answers go', () => {
  it("tcpdump's geneve.pcap (VTEP 20.0.0.1 sends in VNI 10, 20.0.0.2 in VNI 11): no collision, no wrong clone, exit 0", async () => {
    const { corpusPath } = await import('../helpers/corpus.js');
    const r = cli(['verify', corpusPath('tcpdump/pcap/geneve.pcap'), '--report', 'json']);
    const report = JSON.parse(r.stdout.toString()) as Report;
    expect([r.code, report.findings.map((f) => f.check), report.summary.checksums]).toEqual([0, [], { verified: 117, bad: 0, unverifiable: 0 }]);
  });
});
