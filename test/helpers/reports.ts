/**
 * Hand-built reports for the HTML report's tests: a small one that uses every
 * field of the model (verdict, timeline, times, VLANs, wrong replies), the
 * same with hostile strings where a capture could put them, a report as the
 * verifier made it before those fields existed, and a synthetic report of a
 * million packets' scale. Deterministic: the same call gives the same report.
 */
import { join } from 'node:path';
import { cli, ROOT } from './cli.js';
import { CHECK_SEVERITY, type CheckName, type Collision, type Finding, type FlowPacket, type MultiReport, type Report, type Timeline } from '../../src/report/model.js';

/** 2024-05-01 12:00:00 UTC. */
export const T0 = 1714564800;

function finding(frame: number, iface: number, check: CheckName, message: string, extra: Partial<Finding> = {}): Finding {
  return { frame, interface: iface, check, severity: CHECK_SEVERITY[check], message, ...extra };
}

function summarise(r: Omit<Report, 'summary'> & { summary?: Partial<Report['summary']> }, packets: number): Report {
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  return {
    ...r,
    summary: {
      packets,
      rewritten: 0,
      undecodable: 0,
      checksums: { verified: packets, bad: r.findings.filter((f) => f.check.endsWith('.checksum')).length, unverifiable: 0 },
      errors,
      warnings: r.findings.length - errors,
      collisions: r.collisions.length,
      ...r.summary,
    },
  };
}

const at = (frame: number, iface: number, time: number, vlan?: string): FlowPacket => (vlan ? { frame, interface: iface, vlan, time } : { frame, interface: iface, time });

/** Where frame f sits in time in the small report: 30 ms a frame from T0. */
const tf = (f: number): number => T0 + f * 0.03;

/**
 * Three clones behind tap0..tap2, tap2's traffic tagged VLAN 10: four
 * colliding flows (UDP, TCP, UDP over IPv6, ICMP echo), four wrong-clone
 * replies (one more counted than listed), the three ARP conflicts, checksum
 * findings and a finding about the file itself.
 */
export function smallReport(): Report {
  const collisions: Collision[] = [
    {
      protocol: 'udp',
      flow: '10.0.0.2:33333 > 10.0.0.1:53',
      interfaces: [0, 1, 2],
      frames: [3, 31, 65],
      times: [tf(3), tf(31), tf(65)],
      vlans: ['', '', '10'],
      wrongReplies: [
        { request: at(31, 1, tf(31)), reply: at(32, 0, tf(32)) },
        { request: at(65, 2, tf(65), '10'), reply: at(66, 0, tf(66)) },
      ],
      wrongReplyCount: 2,
    },
    {
      protocol: 'tcp',
      flow: '10.0.0.2:33334 > 10.0.0.1:80',
      interfaces: [0, 1],
      frames: [10, 40],
      times: [tf(10), tf(40)],
      wrongReplies: [{ request: at(40, 1, tf(40)), reply: at(41, 0, tf(41)) }],
      wrongReplyCount: 2,
    },
    {
      protocol: 'udp',
      flow: '[fd00::2]:5353 > [fd00::1]:53',
      interfaces: [1, 2],
      frames: [22, 72],
      times: [tf(22), tf(72)],
      vlans: ['', '10'],
      wrongReplies: [],
      wrongReplyCount: 0,
    },
    {
      protocol: 'icmp',
      flow: '10.0.0.2 > 10.0.0.1 echo id 7',
      interfaces: [0, 2],
      frames: [15, 80],
      times: [tf(15), tf(80)],
      vlans: ['', '10'],
      wrongReplies: [{ request: at(80, 2, tf(80), '10'), reply: at(81, 0, tf(81)) }],
      wrongReplyCount: 1,
    },
  ];
  const findings: Finding[] = [
    finding(8, 0, 'arp.reply-mismatch', 'ARP reply "10.0.0.1 is-at 52:54:00:12:34:56" to 10.0.0.2 repeats frame 7\'s request with sender and target not swapped on interface 0', {
      expected: '10.0.0.2 > 10.0.0.1',
      actual: '10.0.0.1 > 10.0.0.2',
    }),
    finding(12, 0, 'udp.checksum', 'UDP checksum 0x5678, expected 0x1234', { expected: '0x1234', actual: '0x5678' }),
    finding(20, 1, 'arp.duplicate-ip', '10.0.0.2 is claimed by 52:54:00:12:34:56 (frame 2) and by 52:54:00:12:34:57 on interface 1', {
      expected: '52:54:00:12:34:56',
      actual: '52:54:00:12:34:57',
    }),
    finding(31, 1, 'flow.collision', 'udp 10.0.0.2:33333 > 10.0.0.1:53 on interface 1 is also on interface 0 (frame 3): a stateful NAT would take them for one connection'),
    finding(32, 0, 'flow.collision', 'udp 10.0.0.2:33333 > 10.0.0.1:53: reply on interface 0 to the request of frame 31 on interface 1: the answer went to another clone than the one that asked'),
    finding(40, 1, 'flow.collision', 'tcp 10.0.0.2:33334 > 10.0.0.1:80 on interface 1 is also on interface 0 (frame 10): a stateful NAT would take them for one connection'),
    finding(41, 0, 'flow.collision', 'tcp 10.0.0.2:33334 > 10.0.0.1:80: reply on interface 0 to the request of frame 40 on interface 1: the answer went to another clone than the one that asked'),
    finding(44, 1, 'tcp.checksum-offloaded', 'TCP checksum 0x1c46 is the pseudo-header sum transmit offload leaves', { expected: '0x9f3a', actual: '0x1c46' }),
    finding(47, 0, 'flow.collision', 'tcp 10.0.0.2:33334 > 10.0.0.1:80: reply on interface 0 to the request of frame 46 on interface 1: the answer went to another clone than the one that asked'),
    finding(50, 2, 'ipv4.checksum', 'IPv4 header checksum 0x0000, expected 0xb861', { expected: '0xb861', actual: '0x0000', vlan: '10' }),
    finding(65, 2, 'flow.collision', 'udp 10.0.0.2:33333 > 10.0.0.1:53 on interface 2 vlan 10 is also on interface 0 (frame 3): a stateful NAT would take them for one connection', { vlan: '10' }),
    finding(66, 0, 'flow.collision', 'udp 10.0.0.2:33333 > 10.0.0.1:53: reply on interface 0 to the request of frame 65 on interface 2: the answer went to another clone than the one that asked'),
    finding(70, 2, 'arp.ip-mac-mismatch', '10.0.0.2 sends from 52:54:00:12:34:58, but ARP binds it to 52:54:00:12:34:56 (frame 68) on interface 2 vlan 10', { vlan: '10' }),
    finding(72, 2, 'flow.collision', 'udp [fd00::2]:5353 > [fd00::1]:53 on interface 2 vlan 10 is also on interface 1 (frame 22): a stateful NAT would take them for one connection', { vlan: '10' }),
    finding(80, 2, 'flow.collision', 'icmp 10.0.0.2 > 10.0.0.1 echo id 7 on interface 2 vlan 10 is also on interface 0 (frame 15): a stateful NAT would take them for one connection', { vlan: '10' }),
    finding(81, 0, 'flow.collision', 'icmp 10.0.0.2 > 10.0.0.1 echo id 7: reply on interface 0 to the request of frame 80 on interface 2: the answer went to another clone than the one that asked'),
    finding(0, -1, 'capture.truncated-tail', 'the capture ends inside a record at byte 4096: 10 bytes of a 74-byte record', { offset: 4096 }),
  ];
  for (const f of findings) if (f.frame > 0) f.time = tf(f.frame);
  const packets = 90;
  const perLane = (iface: number): number[] => {
    const b = new Array<number>(30).fill(0);
    // Frame f is on interface f mod 3 in this made-up capture (interface 2's traffic all on VLAN 10).
    for (let f = 1; f <= packets; f++) if (f % 3 === iface) b[Math.floor((tf(f) - T0) / 0.1)]!++;
    return b;
  };
  const timeline: Timeline = {
    start: T0,
    bucketSeconds: 0.1,
    lanes: [
      { interface: 0, name: 'tap0', packets: perLane(0) },
      { interface: 1, name: 'tap1', packets: perLane(1) },
      { interface: 2, name: 'tap2', vlan: '10', packets: perLane(2) },
    ],
    lanesOmitted: 0,
  };
  const r = summarise(
    {
      tool: 'ssnat-rewrite',
      version: '0.1.0',
      command: 'verify',
      input: {
        path: 'captures/clones.pcapng',
        format: 'pcapng',
        interfaces: [
          { id: 0, name: 'tap0', linkType: 1 },
          { id: 1, name: 'tap1', linkType: 1 },
          { id: 2, name: 'tap2', linkType: 1 },
        ],
      },
      direction: 'guest-to-host',
      rules: [],
      findings,
      collisions,
      timeline,
      summary: { checksums: { verified: 170, bad: 2, unverifiable: 1 } },
    },
    packets,
  );
  r.verdict = { result: 'failed', exitCode: 1, strict: false, why: `${r.summary.errors} errors` };
  return r;
}

/** Strings a capture controls (interface names, comments) that try to run script or break out of their context. */
export const HOSTILE = {
  name: '<script>window.__pwned=1</script>',
  flow: '<img src=x onerror="window.__pwned=2">',
  message: `"'><img src=x onerror=window.__pwned=3></script><script>window.__pwned=4</script>`,
  path: `x"><svg onload="window.__pwned=5">.pcapng`,
  rule: `'; window.__pwned=6; '`,
};

/** The small report with hostile strings in every place a capture or a user puts text. */
export function hostileReport(): Report {
  const r = smallReport();
  r.input.path = HOSTILE.path;
  r.input.interfaces[1]!.name = HOSTILE.name;
  r.timeline!.lanes[1]!.name = HOSTILE.name;
  r.rules = [HOSTILE.rule];
  r.collisions[0]!.flow = HOSTILE.flow;
  r.collisions[0]!.protocol = `udp"'`;
  r.findings[1]!.message = HOSTILE.message;
  r.findings[1]!.expected = HOSTILE.message;
  r.findings[2]!.vlan = `10"><u>`;
  r.verdict!.why = HOSTILE.message;
  return r;
}

/**
 * The report of fixtures/golden/collision/host.pcapng as the verifier made
 * it before the report gained verdicts, timelines, times and wrong replies
 * (the fields the HTML report draws most exactly with): wrong-clone replies
 * only in the findings' messages.
 */
export function legacyReport(): Report {
  const r = smallReport();
  for (const c of r.collisions) {
    delete c.times;
    delete c.vlans;
    delete c.wrongReplies;
    delete c.wrongReplyCount;
  }
  for (const f of r.findings) {
    delete f.time;
    delete f.vlan;
  }
  delete r.timeline;
  delete r.verdict;
  return r;
}

/** A report with nothing to draw: one interface, no collision, no finding. */
export function quietReport(): Report {
  return summarise(
    {
      tool: 'ssnat-rewrite',
      version: '0.1.0',
      command: 'verify',
      input: { path: 'quiet.pcap', format: 'pcap', interfaces: [{ id: 0, linkType: 1 }] },
      direction: 'guest-to-host',
      rules: ['10.0.0.0/24=192.168.10.0/24'],
      findings: [],
      collisions: [],
    },
    1200,
  );
}

/** Two captures and their totals, as a run over several files reports them. */
export function multiReport(): MultiReport {
  const a = smallReport();
  const b = quietReport();
  b.verdict = { result: 'ok', exitCode: 0, strict: false, why: 'no errors, no warnings' };
  const files = [a, b];
  const sum = (k: 'packets' | 'errors' | 'warnings' | 'collisions' | 'rewritten' | 'undecodable') => files.reduce((n, r) => n + r.summary[k], 0);
  return {
    tool: 'ssnat-rewrite',
    version: '0.1.0',
    command: 'verify',
    files,
    summary: {
      files: 2,
      ok: 1,
      failed: 1,
      unchecked: 0,
      unreadable: 0,
      packets: sum('packets'),
      rewritten: sum('rewritten'),
      undecodable: sum('undecodable'),
      checksums: {
        verified: files.reduce((n, r) => n + r.summary.checksums.verified, 0),
        bad: files.reduce((n, r) => n + r.summary.checksums.bad, 0),
        unverifiable: files.reduce((n, r) => n + r.summary.checksums.unverifiable, 0),
      },
      errors: sum('errors'),
      warnings: sum('warnings'),
      collisions: sum('collisions'),
    },
    verdict: { result: 'failed', exitCode: 1, strict: false, why: '1 of 2 captures failed' },
  };
}

/** A small deterministic PRNG (mulberry32), so the big report is the same on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A report of a million packets' scale: 16 taps over an hour (one-second
 * buckets), `findings` findings spread over every check, `collisions`
 * colliding flows with wrong replies (the first 10 listed of each).
 */
export function bigReport(opts: { findings?: number; collisions?: number; packets?: number; taps?: number } = {}): Report {
  const nFindings = opts.findings ?? 200_000;
  const nCollisions = opts.collisions ?? 5_000;
  const packets = opts.packets ?? 1_000_000;
  const taps = opts.taps ?? 16;
  const seconds = 3600;
  const rand = rng(16);
  const timeOf = (frame: number): number => T0 + (frame / packets) * seconds;
  // The flow checks' findings come with the collisions (drawn as flows and arrows, not as marks).
  const checks = (Object.keys(CHECK_SEVERITY) as CheckName[]).filter((c) => c !== 'flow.collision' && c !== 'flow.wrong-clone');
  const findings: Finding[] = [];
  for (let i = 0; i < nFindings; i++) {
    const frame = 1 + Math.floor(rand() * packets);
    const check = checks[i % checks.length]!;
    const iface = Math.floor(rand() * taps);
    findings.push(finding(frame, iface, check, `${check} on frame ${frame}: value 0x${(i & 0xffff).toString(16)}, expected 0x1234`, { time: timeOf(frame), expected: '0x1234', actual: `0x${(i & 0xffff).toString(16)}` }));
  }
  findings.sort((a, b) => a.frame - b.frame);
  const collisions: Collision[] = [];
  for (let i = 0; i < nCollisions; i++) {
    const lanes = [0, 1 + (i % (taps - 1))];
    const frames = lanes.map(() => 1 + Math.floor(rand() * packets)).sort((a, b) => a - b);
    const wrong = Array.from({ length: 10 }, (_, k) => {
      const req = Math.min(packets - 1, frames[1]! + k * 7);
      return { request: at(req, lanes[1]!, timeOf(req)), reply: at(req + 1, 0, timeOf(req + 1)) };
    });
    collisions.push({
      protocol: i % 3 === 0 ? 'tcp' : 'udp',
      flow: `10.0.0.2:${10000 + (i % 50000)} > 10.0.${(i >> 8) & 255}.${i & 255}:53`,
      interfaces: lanes,
      frames,
      times: frames.map(timeOf),
      wrongReplies: wrong,
      wrongReplyCount: 25,
    });
  }
  const timeline: Timeline = {
    start: T0,
    bucketSeconds: 1,
    lanes: Array.from({ length: taps }, (_, i) => ({ interface: i, name: `tap${i}`, packets: Array.from({ length: seconds }, () => Math.floor((packets / taps / seconds) * (0.5 + rand()))) })),
    lanesOmitted: 0,
  };
  const r = summarise(
    {
      tool: 'ssnat-rewrite',
      version: '0.1.0',
      command: 'verify',
      input: { path: 'big.pcapng', format: 'pcapng', interfaces: Array.from({ length: taps }, (_, i) => ({ id: i, name: `tap${i}`, linkType: 1 })) },
      direction: 'guest-to-host',
      rules: [],
      findings,
      collisions,
      timeline,
    },
    packets,
  );
  r.verdict = { result: 'failed', exitCode: 1, strict: false, why: `${r.summary.errors} errors` };
  return r;
}

/** Today's report of the real collision capture (fixtures/golden/collision/host.pcapng), from the CLI over dist/. */
export function hostReport(): Report {
  const r = cli(['verify', join(ROOT, 'fixtures/golden/collision/host.pcapng'), '--report', 'json']);
  // Exit 1: the capture shows the clones' bug, and its wrong-clone replies fail the run.
  if (r.code !== 1) throw new Error(`verify host.pcapng exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as Report;
}

const ENTITIES: Readonly<Record<string, string>> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/** The attributes of every element of the page whose data-kind is `kind` (a light parse of our own markup). */
export function elementsOfKind(html: string, kind: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (const m of html.matchAll(/<[a-z]+\s([^<>]*\bdata-kind="([^"]*)"[^<>]*)>/g)) {
    if (m[2] !== kind) continue;
    const attrs: Record<string, string> = {};
    for (const a of m[1]!.matchAll(/([a-zA-Z-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e]!);
    out.push(attrs);
  }
  return out;
}

/** A lane's key as the page's data-lane attributes write it: "1", or "1/10" for VLAN 10. */
export const laneKey = (iface: number, vlan?: string): string => (vlan ? `${iface}/${vlan}` : String(iface));

/** What the report says the picture must draw for each collision: its 5-tuple, lanes and first frames (data-* of the flow's group). */
export function expectedFlows(r: Report) {
  return r.collisions.map((c, i) => ({
    flow: String(i + 1),
    tuple: c.flow,
    lanes: c.interfaces.map((iface, j) => laneKey(iface, c.vlans?.[j])).join(' '),
    frames: c.frames.join(' '),
  }));
}

/** ... and for each wrong-clone reply the report lists: the asking and receiving lanes and the two frames. */
export function expectedWrong(r: Report) {
  return r.collisions.flatMap((c, i) =>
    (c.wrongReplies ?? []).map((w) => ({
      flow: String(i + 1),
      from: laneKey(w.request.interface, w.request.vlan),
      to: laneKey(w.reply.interface, w.reply.vlan),
      request: String(w.request.frame),
      reply: String(w.reply.frame),
    })),
  );
}
