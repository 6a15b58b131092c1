/**
 * What the HTML report draws, worked out from a Report: the lanes (one per
 * interface and VLAN, and per tunnel lane: the packets a tunnel carries), the x axis (time when the report has a timeline and
 * every drawn item has a timestamp, else frame number), the colliding flows
 * with their points on each lane, the replies that reached another clone, and
 * the other findings, aggregated by lane and column so that a report of a
 * million packets draws a bounded number of elements. Every cap says how much
 * it left out. Pure data: src/report/html-svg.ts draws it.
 */
import { groupByCheck } from './families.js';
import type { CheckName, Collision, Finding, Report } from './model.js';
import { flowFilter } from './wireshark.js';

/** How much is drawn and listed one by one (the rest is counted, and `--report json` lists all). */
export interface Limits {
  /** Lanes drawn. */
  lanes: number;
  /** Colliding flows drawn as linked markers (and given their own colour and shape in the legend). */
  flows: number;
  /** Wrong-clone replies drawn as arrows. */
  arrows: number;
  /** Rows of each table (colliding flows, wrong-clone replies, lanes, and each check's findings). */
  rows: number;
  /** Finding rows of all checks together, about: each check lists min(rows, max(20, findingRows / checks)). */
  findingRows: number;
  /** Aggregated markers (findings, and the flows and replies past their caps), about: the columns shrink to fit. */
  marks: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = { lanes: 64, flows: 40, arrows: 120, rows: 100, findingRows: 400, marks: 900 };

/** Columns the plot is cut into when findings are aggregated (one marker per lane, kind and column), at most. */
export const COLUMNS = 250;
/** ... and at least, however many lanes and kinds share the marks budget. */
const MIN_COLUMNS = 8;

/** The ARP conflicts, drawn with their own marker on their lane. */
export const ARP_CONFLICTS: ReadonlySet<CheckName> = new Set<CheckName>(['arp.duplicate-ip', 'arp.ip-mac-mismatch', 'arp.reply-mismatch']);

export interface SceneLane {
  /** "1", or "1/10" (interface 1, VLAN 10), "1/10.20" for QinQ: the data-lane of its SVG elements. */
  key: string;
  iface: number;
  /** The pcapng section, where the interface id alone is ambiguous (the report's interfaces list it with one). */
  section?: number;
  vlan?: string;
  /** A tunnel lane's label ("VXLAN VNI 5001": the report's `tunnel`); `vlan` is then the VLAN inside. */
  tunnel?: string;
  name?: string;
  /** Packets per timeline bucket, when the report has a timeline. */
  packets?: number[];
  /** The lane's packets in the timeline (undefined without one). */
  total?: number;
}

export type Axis =
  | { kind: 'time'; start: number; span: number; bucketSeconds: number; buckets: number }
  | { kind: 'frame'; last: number };

/** A packet placed on a lane. */
export interface Point {
  lane: string;
  frame: number;
  time?: number;
  /** Position on the x axis, 0..1. */
  x: number;
}

export interface WrongReply {
  /** Index of the flow in Scene.flows. */
  flow: number;
  request: Point;
  reply: Point;
}

export interface SceneFlow {
  /** 1-based number shown in the legend and the tables. */
  n: number;
  collision: Collision;
  points: Point[];
  wrong: WrongReply[];
  /** Every wrong-clone reply of the flow (wrong.length or more, when the report lists only the first ones). */
  wrongCount: number;
  filter?: string;
}

export type MarkKind = 'arp' | 'error' | 'warning' | 'more-flows' | 'more-wrong';

/** Items of one kind in one column of one lane, drawn as one marker. */
export interface Mark {
  kind: MarkKind;
  lane: string;
  x: number;
  count: number;
  /** The first few frames. */
  frames: number[];
  /** Items per check (or per flow, for more-flows/more-wrong). */
  what: Map<string, number>;
}

export interface Scene {
  /** The lanes drawn (the first `limits.lanes` of allLanes). */
  lanes: SceneLane[];
  /** Every lane, by interface then VLAN (untagged first). */
  allLanes: SceneLane[];
  axis: Axis;
  /** Every colliding flow, in report order; the first `limits.flows` are drawn. */
  flows: SceneFlow[];
  /** Wrong-clone replies of every flow, in report order; the first `limits.arrows` are drawn as arrows. */
  wrong: WrongReply[];
  /** Wrong replies came from the findings' messages (the report lists none with its collisions). */
  wrongFromMessages: boolean;
  marks: Mark[];
  /** Findings per check, in the order of the checks table; one pass over the findings. */
  byCheck: Map<CheckName, Finding[]>;
  /** Lanes the timeline or the findings name that are not drawn. */
  lanesNotDrawn: number;
  /** Items on lanes that are not drawn. */
  itemsOffLanes: number;
  /** Findings about the file itself (frame 0 or no interface): on no lane, listed in the tables. */
  fileFindings: number;
  limits: Limits;
  /** Why the axis is frames (when it is). */
  frameAxisWhy?: string;
}

/**
 * A lane's key: "1", "1/10" (VLAN 10), "0s1" (interface 0 of pcapng section
 * 1, where the id alone is ambiguous), "0s1/10"; a tunnel lane's adds its
 * label without spaces (keys are listed space-separated), hops joined by
 * "+": "0~VXLAN_VNI_5001", "0~vlan_10+GRE_key_7/20".
 */
export function laneKey(iface: number, vlan?: string, section?: number, tunnel?: string): string {
  let where = section === undefined ? String(iface) : `${iface}s${section}`;
  if (tunnel) where += `~${tunnel.replace(/ \/ /g, '+').replace(/ /g, '_')}`;
  return vlan ? `${where}/${vlan}` : where;
}

/** Tunnel labels in order: none first, then by text with numbers compared as numbers (VNI 5001 before VNI 10000). */
function compareTunnel(a: string | undefined, b: string | undefined): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  return a.localeCompare(b, 'en', { numeric: true });
}

function compareVlan(a: string | undefined, b: string | undefined): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Frames of the reply messages src/verify/collisions.ts writes, for reports that do not list wrongReplies yet. */
const WRONG_REPLY_MESSAGE =
  /^(\S+) (.+): (?:reply|ICMP error|ICMPv6 error) on interface (\d+)(?: vlan ([\d.]+))? to the request of frame (\d+) on interface (\d+)(?: vlan ([\d.]+))?: the answer went to another clone than the one that asked$/;

/** Findings the picture draws as flows and arrows, not as marks on a lane. */
const DRAWN_AS_FLOWS: ReadonlySet<CheckName> = new Set<CheckName>(['flow.collision', 'flow.wrong-clone']);

interface RawWrong {
  flow: number;
  request: { frame: number; interface: number; section?: number; vlan?: string; tunnel?: string; time?: number };
  reply: { frame: number; interface: number; section?: number; vlan?: string; tunnel?: string; time?: number };
}

/**
 * The wrong-clone replies of each collision: from `wrongReplies` when the
 * report has them; else, when no collision carries the field (a report of a
 * verifier that did not fill it), from the `flow.wrong-clone` findings (or,
 * in older reports, `flow.collision`) that say "reply on interface 0 to the
 * request of frame 31 on interface 1".
 */
function wrongReplies(report: Report): { list: RawWrong[]; counts: number[]; fromMessages: boolean } {
  const cs = report.collisions;
  if (cs.some((c) => c.wrongReplies !== undefined)) {
    const list: RawWrong[] = [];
    const counts = cs.map((c, i) => {
      for (const w of c.wrongReplies ?? []) list.push({ flow: i, request: w.request, reply: w.reply });
      return Math.max(c.wrongReplyCount ?? 0, c.wrongReplies?.length ?? 0);
    });
    return { list, counts, fromMessages: false };
  }
  const index = new Map(cs.map((c, i) => [`${c.protocol} ${c.flow}`, i]));
  const counts = cs.map(() => 0);
  const list: RawWrong[] = [];
  for (const f of report.findings) {
    // flow.collision: reports of versions before flow.wrong-clone had its own name.
    if (f.check !== 'flow.wrong-clone' && f.check !== 'flow.collision') continue;
    const m = WRONG_REPLY_MESSAGE.exec(f.message);
    if (m === null) continue;
    const flow = index.get(`${m[1]} ${m[2]}`);
    if (flow === undefined) continue;
    const c = cs[flow]!;
    const askIface = Number(m[6]);
    // Older messages name the asking interface only: its VLAN is then the collision's lane on that interface, when there is one.
    const askLanes = c.interfaces.map((iface, i) => ({ iface, vlan: c.vlans?.[i] || undefined })).filter((l) => l.iface === askIface);
    const askVlan = m[7] ?? (askLanes.length === 1 ? askLanes[0]!.vlan : undefined);
    counts[flow]!++;
    list.push({
      flow,
      request: { frame: Number(m[5]), interface: askIface, vlan: askVlan },
      reply: { frame: f.frame, interface: f.interface, ...(f.section === undefined ? {} : { section: f.section }), vlan: m[4] ?? f.vlan, time: f.time },
    });
  }
  return { list, counts, fromMessages: list.length > 0 };
}

export function buildScene(report: Report, limits: Limits = DEFAULT_LIMITS): Scene {
  // Lanes: the timeline's, each interface of the capture, and every lane an item names.
  const lanes = new Map<string, SceneLane>();
  const names = new Map(report.input.interfaces.map((i) => [laneKey(i.id, undefined, i.section), i.name]));
  // A section names a lane only where the report's interfaces list one for that id (a collision lists every lane's).
  const sectioned = new Set(report.input.interfaces.filter((i) => i.section !== undefined).map((i) => laneKey(i.id, undefined, i.section)));
  const shown = (iface: number, section?: number): number | undefined => (section !== undefined && sectioned.has(laneKey(iface, undefined, section)) ? section : undefined);
  const addLane = (iface: number, vlan?: string, name?: string, section?: number, tunnel?: string): string => {
    const sec = shown(iface, section);
    const key = laneKey(iface, vlan, sec, tunnel);
    if (iface >= 0 && !lanes.has(key)) {
      const lane: SceneLane = { key, iface };
      if (sec !== undefined) lane.section = sec;
      if (vlan) lane.vlan = vlan;
      if (tunnel) lane.tunnel = tunnel;
      const n = name ?? names.get(laneKey(iface, undefined, sec));
      if (n !== undefined) lane.name = n;
      lanes.set(key, lane);
    }
    return key;
  };
  const tl = report.timeline;
  for (const l of tl?.lanes ?? []) {
    const key = addLane(l.interface, l.vlan, l.name, l.section, l.tunnel);
    const lane = lanes.get(key)!;
    lane.packets = l.packets;
    lane.total = l.packets.reduce((a, b) => a + b, 0);
  }
  const ifacesWithLane = new Set([...lanes.values()].map((l) => laneKey(l.iface, undefined, l.section)));
  for (const i of report.input.interfaces) if (!ifacesWithLane.has(laneKey(i.id, undefined, i.section))) addLane(i.id, undefined, undefined, i.section);
  const cs = report.collisions;
  cs.forEach((c) => c.interfaces.forEach((iface, i) => addLane(iface, c.vlans?.[i] || undefined, undefined, c.sections?.[i], c.tunnels?.[i])));
  const wr = wrongReplies(report);
  for (const w of wr.list) {
    addLane(w.request.interface, w.request.vlan, undefined, w.request.section, w.request.tunnel);
    addLane(w.reply.interface, w.reply.vlan, undefined, w.reply.section, w.reply.tunnel);
  }
  // The findings' lanes, and whether all have a time.
  let findingsTimed = true;
  for (const f of report.findings) {
    if (f.frame > 0 && f.interface >= 0) {
      addLane(f.interface, f.vlan, undefined, f.section, f.tunnel);
      if (f.time === undefined) findingsTimed = false;
    }
  }
  const byCheck = groupByCheck(report.findings);
  const sorted = [...lanes.values()].sort((a, b) => a.iface - b.iface || (a.section ?? -1) - (b.section ?? -1) || compareTunnel(a.tunnel, b.tunnel) || compareVlan(a.vlan, b.vlan));
  const drawn = sorted.slice(0, limits.lanes);
  const drawnKeys = new Set(drawn.map((l) => l.key));

  // The axis: time when everything drawn has a timestamp, else frame number.
  let axis: Axis;
  let frameAxisWhy: string | undefined;
  const collisionsTimed = cs.every((c) => c.times !== undefined && c.times.length === c.interfaces.length);
  const wrongTimed = wr.list.every((w) => w.request.time !== undefined && w.reply.time !== undefined);
  if (tl !== undefined && collisionsTimed && wrongTimed && findingsTimed) {
    const buckets = Math.max(0, ...tl.lanes.map((l) => l.packets.length));
    const bucketSeconds = tl.bucketSeconds > 0 ? tl.bucketSeconds : 1;
    axis = { kind: 'time', start: tl.start, span: Math.max(buckets, 1) * bucketSeconds, bucketSeconds, buckets };
  } else {
    let last = Math.max(1, report.summary.packets);
    for (const c of cs) for (const f of c.frames) last = Math.max(last, f);
    for (const w of wr.list) last = Math.max(last, w.request.frame, w.reply.frame);
    for (const f of report.findings) last = Math.max(last, f.frame);
    axis = { kind: 'frame', last };
    frameAxisWhy =
      tl === undefined
        ? 'the report has no timeline, so items are placed in frame order'
        : 'some items of the report have no timestamp, so items are placed in frame order';
  }
  const xOf = (frame: number, time?: number): number => {
    const x = axis.kind === 'time' ? ((time ?? axis.start) - axis.start) / axis.span : (frame - 0.5) / axis.last;
    return Math.min(1, Math.max(0, x));
  };
  const point = (iface: number, vlan: string | undefined, frame: number, time?: number, section?: number, tunnel?: string): Point => {
    const p: Point = { lane: laneKey(iface, vlan, shown(iface, section), tunnel), frame, x: xOf(frame, time) };
    if (time !== undefined) p.time = time;
    return p;
  };

  const flows: SceneFlow[] = cs.map((c, i) => {
    const f: SceneFlow = {
      n: i + 1,
      collision: c,
      points: c.interfaces.map((iface, j) => point(iface, c.vlans?.[j] || undefined, c.frames[j] ?? 0, c.times?.[j], c.sections?.[j], c.tunnels?.[j])),
      wrong: [],
      wrongCount: wr.counts[i] ?? 0,
    };
    const filter = flowFilter(c.protocol, c.flow);
    if (filter !== undefined) f.filter = filter;
    return f;
  });
  const wrong: WrongReply[] = wr.list.map((w) => {
    const r: WrongReply = {
      flow: w.flow,
      request: point(w.request.interface, w.request.vlan, w.request.frame, w.request.time, w.request.section, w.request.tunnel),
      reply: point(w.reply.interface, w.reply.vlan, w.reply.frame, w.reply.time, w.reply.section, w.reply.tunnel),
    };
    flows[w.flow]!.wrong.push(r);
    return r;
  });

  // Aggregated marks: findings (not flow.collision and flow.wrong-clone, which the flows and arrows draw), and the flows and replies past the caps.
  // One marker per lane, kind and column; as many columns as the budget allows for the lanes and kinds there are.
  const kinds = new Set<MarkKind>();
  for (const [check, fs] of byCheck) if (!DRAWN_AS_FLOWS.has(check)) kinds.add(ARP_CONFLICTS.has(check) ? 'arp' : fs[0]!.severity);
  if (flows.length > limits.flows) kinds.add('more-flows');
  if (wrong.length > limits.arrows) kinds.add('more-wrong');
  const columns = Math.max(MIN_COLUMNS, Math.min(COLUMNS, Math.floor(limits.marks / Math.max(1, drawn.length * kinds.size))));
  const marks = new Map<string, Mark>();
  let itemsOffLanes = 0;
  let fileFindings = 0;
  const mark = (kind: MarkKind, p: Point, what: string): void => {
    if (!drawnKeys.has(p.lane)) {
      itemsOffLanes++;
      return;
    }
    const col = Math.min(columns - 1, Math.floor(p.x * columns));
    const id = `${kind} ${p.lane} ${col}`;
    let m = marks.get(id);
    if (m === undefined) marks.set(id, (m = { kind, lane: p.lane, x: p.x, count: 0, frames: [], what: new Map() }));
    m.count++;
    if (m.frames.length < 3) m.frames.push(p.frame);
    m.what.set(what, (m.what.get(what) ?? 0) + 1);
  };
  for (const f of report.findings) {
    if (DRAWN_AS_FLOWS.has(f.check)) continue;
    if (f.frame <= 0 || f.interface < 0) {
      fileFindings++;
      continue;
    }
    const kind: MarkKind = ARP_CONFLICTS.has(f.check) ? 'arp' : f.severity;
    mark(kind, point(f.interface, f.vlan, f.frame, f.time, f.section, f.tunnel), f.check);
  }
  for (const f of flows.slice(limits.flows)) for (const p of f.points) mark('more-flows', p, `#${f.n}`);
  for (const w of wrong.slice(limits.arrows)) mark('more-wrong', w.reply, `#${w.flow + 1}`);
  for (const f of flows.slice(0, limits.flows)) for (const p of f.points) if (!drawnKeys.has(p.lane)) itemsOffLanes++;
  for (const w of wrong.slice(0, limits.arrows)) if (!drawnKeys.has(w.request.lane) || !drawnKeys.has(w.reply.lane)) itemsOffLanes++;

  const scene: Scene = {
    lanes: drawn,
    allLanes: sorted,
    axis,
    flows,
    wrong,
    wrongFromMessages: wr.fromMessages,
    marks: [...marks.values()],
    byCheck,
    lanesNotDrawn: sorted.length - drawn.length + (tl?.lanesOmitted ?? 0),
    itemsOffLanes,
    fileFindings,
    limits,
  };
  if (frameAxisWhy !== undefined) scene.frameAxisWhy = frameAxisWhy;
  return scene;
}
