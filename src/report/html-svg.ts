/**
 * The collision picture, drawn as SVG at report time (the page reads without
 * script): one horizontal lane per interface and VLAN, the x axis time or
 * frame number, each colliding flow as linked markers of one colour and shape
 * across its lanes, each reply that reached another clone as a red arrow from
 * the asking lane to the receiving lane ending in a crossed badge, ARP
 * conflicts as "ARP" tags and other findings as error squares / warning
 * triangles on their lane (never colour alone).
 *
 * x positions are percentages of the plot's width, so the page's zoom (the
 * script widens the plot inside a scrolling box) moves items apart without
 * stretching them. Every drawn item carries data-* attributes (its kind,
 * lanes, frames) that the browser tests read, and a <title> with the facts.
 */
import { frameFilter } from './wireshark.js';
import { clip, duration, esc } from './html-text.js';
import { count, num } from './numbers.js';
import type { Axis, Mark, Point, Scene, SceneFlow, SceneLane, WrongReply } from './html-scene.js';

export const LANE_H = 54;
const AXIS_H = 30;
const BOTTOM = 6;
const LABEL_W = 200;
/** Characters of a lane's name that fit its label. */
const LABEL_CHARS = 24;
/** Lane-relative heights of the rows of markers. */
const Y_ARP = 13;
const Y_FLOW = 28;
const Y_TICK = 44;
/** Density columns at most (the timeline's buckets are summed into them). */
const DENSITY_COLUMNS = 500;

/** Colour-blind-safe flow colours (Okabe-Ito without its red, which means "wrong clone" here). */
export const FLOW_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#8C564B', '#5D6D7E', '#B8860B'];
export const FLOW_SHAPES = ['circle', 'square', 'diamond', 'triangle', 'vee'] as const;
export const WRONG = '#C62828';

/** Colour and shape of flow i (0-based): 8 colours x 5 shapes, every pair different for the first 40. */
export function flowStyle(i: number): { colour: string; shape: (typeof FLOW_SHAPES)[number] } {
  return { colour: FLOW_COLOURS[i % FLOW_COLOURS.length]!, shape: FLOW_SHAPES[i % FLOW_SHAPES.length]! };
}

/** The section's ids: `${p}-...`, so that several reports on one page do not clash. */
export interface Ids {
  p: string;
  /** Row id of flow n in the flows table, when it is listed. */
  flowRow(n: number): string;
  /** Row id of wrong reply i, when it is listed. */
  wrongRow(i: number): string;
  /** Heading id of a check's findings. */
  check(check: string): string;
}

/** x (0..1) as a percentage of the plot width, inside a small margin so that markers at the ends show whole. */
function px(x: number): string {
  return `${(1.5 + 97 * x).toFixed(3)}%`;
}

function laneTop(i: number): number {
  return AXIS_H + i * LANE_H;
}

export function pictureHeight(lanes: number): number {
  return AXIS_H + lanes * LANE_H + BOTTOM;
}

/** Shapes (`${p}-s-NAME`) and the arrow's ends (`${p}-m-NAME`), referenced with <use> and marker-*; ids are per section. */
function defs(p: string): string {
  return (
    `<defs>` +
    `<g id="${p}-s-circle"><circle r="6"/></g>` +
    `<g id="${p}-s-square"><rect x="-5.5" y="-5.5" width="11" height="11"/></g>` +
    `<g id="${p}-s-diamond"><path d="M0-7.5L7.5 0 0 7.5-7.5 0z"/></g>` +
    `<g id="${p}-s-triangle"><path d="M0-7L6.5 5H-6.5z"/></g>` +
    `<g id="${p}-s-vee"><path d="M0 7L6.5-5H-6.5z"/></g>` +
    `<g id="${p}-s-wrong"><circle r="7.5" fill="${WRONG}" stroke="#fff" stroke-width="1.5"/><path d="M-3.2-3.2L3.2 3.2M3.2-3.2L-3.2 3.2" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/></g>` +
    `<g id="${p}-s-more-wrong"><circle r="4.5" fill="#fff" stroke="${WRONG}" stroke-width="1.5"/><path d="M-2-2L2 2M2-2L-2 2" stroke="${WRONG}" stroke-width="1.5"/></g>` +
    `<g id="${p}-s-arp"><rect x="-14" y="-6.5" width="28" height="13" rx="3" fill="#6A1B9A"/><text y="3.3" text-anchor="middle" fill="#fff" font-size="9" font-weight="700">ARP</text></g>` +
    `<g id="${p}-s-error"><rect x="-4.5" y="-4.5" width="9" height="9" fill="${WRONG}"/></g>` +
    `<g id="${p}-s-warning"><path d="M0-5.5L5.5 4.5H-5.5z" fill="#F2B100" stroke="#7A5A00" stroke-width="1"/></g>` +
    `<g id="${p}-s-more-flows"><circle r="3.5" fill="#fff" stroke="#6B7785" stroke-width="1.5"/></g>` +
    `<marker id="${p}-m-tail" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" viewBox="-6 -6 12 12" orient="auto"><circle r="3.5" fill="#fff" stroke="${WRONG}" stroke-width="2"/></marker>` +
    `<marker id="${p}-m-head" markerUnits="userSpaceOnUse" markerWidth="30" markerHeight="30" viewBox="-30 -15 30 30" refX="0" refY="0" orient="auto"><path d="M-20-5.5L-8.5 0-20 5.5z" fill="${WRONG}"/></marker>` +
    `</defs>`
  );
}

/** Nice tick step (1, 2 or 5 times a power of ten) for about `n` ticks over `span`. */
function niceStep(span: number, n: number): number {
  const raw = span / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** Zoom levels the axis has ticks for; the page shows the ticks of levels up to its zoom (see the script). */
export const ZOOM_LEVELS = [1, 2, 4, 8, 16, 32];

interface Tick {
  x: number;
  label: string;
  level: number;
}

export function axisTicks(axis: Axis): Tick[] {
  const ticks: Tick[] = [];
  const seen = new Set<string>();
  for (const level of ZOOM_LEVELS) {
    const span = axis.kind === 'time' ? axis.span : axis.last;
    let step = niceStep(span, 8 * level);
    if (axis.kind === 'frame') step = Math.max(1, Math.round(step));
    const n = Math.floor(span / step + 1e-9);
    if (n > 400 * level) continue;
    for (let k = axis.kind === 'frame' ? 1 : 0; k <= n; k++) {
      const v = k * step;
      const key = v.toPrecision(12);
      if (seen.has(key)) continue;
      seen.add(key);
      const x = axis.kind === 'time' ? v / axis.span : (v - 0.5) / axis.last;
      ticks.push({ x, level, label: axis.kind === 'time' ? duration(v, step, axis.span) : num(v) });
    }
  }
  return ticks;
}

/**
 * The label's first line: the interface's name, or "interface 1"; a tunnel
 * lane's name (or "if 1") and tunnels, "tap1 · VXLAN VNI 5001" (the second
 * line says "#1"), cut on the left when too long: the innermost tunnel is
 * what tells the lane from its neighbours.
 */
function laneName(l: SceneLane): string {
  if (!l.tunnel) return clip(l.name ?? `interface ${l.iface}`, LABEL_CHARS);
  const s = `${l.name ?? `if ${l.iface}`} · ${l.tunnel}`;
  return s.length <= LABEL_CHARS ? s : `…${s.slice(s.length - LABEL_CHARS + 1)}`;
}

/** "tap1 (interface 1, VLAN 10)", "tap1 (interface 0 inside VXLAN VNI 5001)": how the titles and tables name a lane. */
export function laneText(l: SceneLane | undefined, key: string): string {
  if (l === undefined) return `lane ${key}`;
  const where = `interface ${l.iface}${l.tunnel ? ` inside ${l.tunnel}` : ''}${l.vlan ? `, VLAN ${l.vlan}` : ''}`;
  return l.name !== undefined ? `${l.name} (${where})` : where;
}

/** The lane labels, a column of their own that stays put while the plot scrolls. */
function labels(scene: Scene, height: number): string {
  const out: string[] = [];
  out.push(`<svg class="labels" width="${LABEL_W}" height="${height}" viewBox="0 0 ${LABEL_W} ${height}" aria-hidden="true">`);
  out.push(`<text x="10" y="${AXIS_H - 10}" class="corner">lane · ${scene.axis.kind === 'time' ? 'time' : 'frame number'} →</text>`);
  scene.lanes.forEach((l, i) => {
    const top = laneTop(i);
    const sub = [`#${l.iface}`, l.vlan ? `VLAN ${l.vlan}` : 'untagged'];
    if (l.total !== undefined) sub.push(count(l.total, 'packet'));
    out.push(
      `<g data-kind="lane" data-lane="${esc(l.key)}" data-interface="${l.iface}"${l.vlan ? ` data-vlan="${esc(l.vlan)}"` : ''}${l.name !== undefined ? ` data-name="${esc(l.name)}"` : ''}${l.tunnel ? ` data-tunnel="${esc(l.tunnel)}"` : ''}>` +
        `<title>${esc(laneText(l, l.key))}</title>` +
        `<rect y="${top}" width="${LABEL_W}" height="${LANE_H}" class="${i % 2 ? 'lane-b' : 'lane-a'}"/>` +
        `<text x="10" y="${top + 22}" class="lane-name">${esc(laneName(l))}</text>` +
        `<text x="10" y="${top + 40}" class="lane-sub">${esc(sub.join(' · '))}</text>` +
        `</g>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

/** The lane's packets per column as a filled step curve, in a 0..columns x 0..1 box stretched over the lane. */
function density(lane: SceneLane, columns: number, perColumn: number, max: number): string {
  const packets = lane.packets!;
  let d = 'M0 1';
  for (let c = 0; c < columns; c++) {
    let sum = 0;
    for (let b = c * perColumn; b < Math.min(packets.length, (c + 1) * perColumn); b++) sum += packets[b]!;
    const h = sum === 0 ? 0 : Math.max(0.06, sum / max);
    d += `V${(1 - h).toFixed(3).replace(/\.?0+$/, '')}H${c + 1}`;
  }
  return `${d}V1z`;
}

function densities(scene: Scene): string {
  const axis = scene.axis;
  if (axis.kind !== 'time') return '';
  const lanes = scene.lanes.filter((l) => l.packets !== undefined && l.packets.length > 0);
  if (lanes.length === 0) return '';
  const perColumn = Math.max(1, Math.ceil(axis.buckets / DENSITY_COLUMNS));
  const columns = Math.max(1, Math.ceil(axis.buckets / perColumn));
  let max = 1;
  for (const l of lanes) {
    for (let c = 0; c < columns; c++) {
      let sum = 0;
      for (let b = c * perColumn; b < Math.min(l.packets!.length, (c + 1) * perColumn); b++) sum += l.packets![b]!;
      max = Math.max(max, sum);
    }
  }
  const out: string[] = [`<g data-layer="packets">`];
  for (const l of lanes) {
    const i = scene.lanes.indexOf(l);
    // Buckets past the axis (a lane longer than the others) are cut by the box.
    const w = (97 * (columns * perColumn)) / Math.max(axis.buckets, 1);
    out.push(
      `<svg x="1.5%" y="${laneTop(i) + 8}" width="${w.toFixed(3)}%" height="${LANE_H - 12}" viewBox="0 0 ${columns} 1" preserveAspectRatio="none" data-kind="packets" data-lane="${esc(l.key)}">` +
        `<path d="${density(l, columns, perColumn, max)}" class="density"/></svg>`,
    );
  }
  out.push('</g>');
  return out.join('\n');
}

function where(p: Point, lanes: Map<string, SceneLane>): string {
  return `frame ${p.frame} on ${laneText(lanes.get(p.lane), p.lane)}`;
}

function flowTitle(f: SceneFlow, lanes: Map<string, SceneLane>): string {
  const c = f.collision;
  const lines = [
    `Colliding flow #${f.n}: ${c.protocol} ${c.flow}`,
    `the same 5-tuple on ${count(f.points.length, 'lane')}: ${f.points.map((p) => where(p, lanes)).join('; ')}`,
  ];
  if (f.wrongCount > 0) lines.push(`${count(f.wrongCount, 'reply', 'replies')} reached another clone than the one that asked`);
  if (f.filter !== undefined) lines.push(`Wireshark: ${f.filter}`);
  return lines.join('\n');
}

function flows(scene: Scene, ids: Ids, rows: number, lanes: Map<string, SceneLane>): string {
  const index = new Map(scene.lanes.map((l, i) => [l.key, i]));
  const out: string[] = [`<g data-layer="flows">`];
  for (const f of scene.flows.slice(0, scene.limits.flows)) {
    const { colour, shape } = flowStyle(f.n - 1);
    const pts = f.points.filter((p) => index.has(p.lane)).sort((a, b) => index.get(a.lane)! - index.get(b.lane)!);
    const href = f.n <= rows ? `#${ids.flowRow(f.n)}` : `#${ids.p}-flows`;
    const c = f.collision;
    out.push(
      `<g data-item="" data-kind="flow" data-flow="${f.n}" data-protocol="${esc(c.protocol)}" data-tuple="${esc(c.flow)}"` +
        ` data-lanes="${esc(f.points.map((p) => p.lane).join(' '))}" data-frames="${c.frames.join(' ')}"` +
        `${f.filter !== undefined ? ` data-filter="${esc(f.filter)}"` : ''}><title>${esc(flowTitle(f, lanes))}</title>`,
    );
    for (let i = 1; i < pts.length; i++) {
      const a = pts[i - 1]!;
      const b = pts[i]!;
      out.push(
        `<line x1="${px(a.x)}" y1="${laneTop(index.get(a.lane)!) + Y_FLOW}" x2="${px(b.x)}" y2="${laneTop(index.get(b.lane)!) + Y_FLOW}" stroke="${colour}" class="link"/>`,
      );
    }
    out.push(`<a href="${href}">`);
    for (const p of pts) {
      out.push(
        `<use href="#${ids.p}-s-${shape}" x="${px(p.x)}" y="${laneTop(index.get(p.lane)!) + Y_FLOW}" fill="${colour}" class="mk" data-kind="collision" data-lane="${esc(p.lane)}" data-frame="${p.frame}"/>`,
      );
    }
    out.push(`</a></g>`);
  }
  out.push('</g>');
  return out.join('\n');
}

function wrongTitle(w: WrongReply, scene: Scene, lanes: Map<string, SceneLane>): string {
  const c = scene.flows[w.flow]!.collision;
  const dt = w.request.time !== undefined && w.reply.time !== undefined ? ` (${((w.reply.time - w.request.time) * 1e3).toFixed(3)} ms later)` : '';
  return [
    `WRONG CLONE: the reply ${where(w.reply, lanes)}${dt}`,
    `answers the request ${where(w.request, lanes)}`,
    `flow #${w.flow + 1}: ${c.protocol} ${c.flow}`,
    `Wireshark: ${frameFilter([w.request.frame, w.reply.frame])}`,
  ].join('\n');
}

function wrongReplies(scene: Scene, ids: Ids, rows: number, lanes: Map<string, SceneLane>): string {
  const index = new Map(scene.lanes.map((l, i) => [l.key, i]));
  const drawn = scene.wrong.slice(0, scene.limits.arrows);
  const out: string[] = [`<g data-layer="wrong">`];
  const labelled = new Set<string>();
  drawn.forEach((w, i) => {
    const from = index.get(w.request.lane);
    const to = index.get(w.reply.lane);
    if (from === undefined || to === undefined) return;
    const y1 = laneTop(from) + Y_FLOW;
    const y2 = laneTop(to) + Y_FLOW;
    const href = i < rows ? `#${ids.wrongRow(i)}` : `#${ids.p}-wrong`;
    out.push(
      `<g data-item="" data-kind="wrong-reply" data-flow="${w.flow + 1}" data-from-lane="${esc(w.request.lane)}" data-to-lane="${esc(w.reply.lane)}"` +
        ` data-request-frame="${w.request.frame}" data-reply-frame="${w.reply.frame}" data-filter="${esc(frameFilter([w.request.frame, w.reply.frame])!)}">` +
        `<title>${esc(wrongTitle(w, scene, lanes))}</title>` +
        `<line x1="${px(w.request.x)}" y1="${y1}" x2="${px(w.reply.x)}" y2="${y2}" class="arrow" marker-start="url(#${ids.p}-m-tail)" marker-end="url(#${ids.p}-m-head)"/>` +
        `<a href="${href}"><use href="#${ids.p}-s-wrong" x="${px(w.reply.x)}" y="${y2}"/></a>`,
    );
    // One "wrong clone" label per receiving lane: the badges and the legend say the rest.
    if (!labelled.has(w.reply.lane)) {
      labelled.add(w.reply.lane);
      out.push(`<text x="${px(w.reply.x)}" y="${y2 + (to < from ? -12 : 20)}" dx="10" class="wrong-label">wrong clone</text>`);
    }
    out.push('</g>');
  });
  out.push('</g>');
  return out.join('\n');
}

const MARK_LAYER: Readonly<Record<Mark['kind'], string>> = {
  arp: 'arp',
  error: 'findings',
  warning: 'findings',
  'more-flows': 'flows',
  'more-wrong': 'wrong',
};

const MARK_Y: Readonly<Record<Mark['kind'], number>> = { arp: Y_ARP, error: Y_TICK, warning: Y_TICK, 'more-flows': Y_FLOW, 'more-wrong': Y_FLOW };

/** Errors and warnings share a row: side by side when they share a column. */
const MARK_SHIFT: Readonly<Record<Mark['kind'], string>> = {
  arp: '',
  error: ' transform="translate(-5 0)"',
  warning: ' transform="translate(5 0)"',
  'more-flows': '',
  'more-wrong': '',
};

function markTitle(m: Mark, lane: SceneLane | undefined): string {
  const all = [...m.what].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const what = all.slice(0, 4).map(([k, n]) => (n > 1 ? `${k} ×${num(n)}` : k)).join(', ') + (all.length > 4 ? `, ${all.length - 4} more` : '');
  const items = {
    arp: count(m.count, 'ARP conflict'),
    error: count(m.count, 'error'),
    warning: count(m.count, 'warning'),
    'more-flows': count(m.count, 'colliding flow point') + ' not drawn one by one',
    'more-wrong': count(m.count, 'wrong-clone reply', 'wrong-clone replies') + ' not drawn as arrows',
  }[m.kind];
  const more = m.count > m.frames.length ? ', …' : '';
  const lines = [`${items} on ${laneText(lane, m.lane)}: ${m.kind.startsWith('more') ? 'flows ' : ''}${what}`, `frame ${m.frames.join(', ')}${more}`];
  const filter = frameFilter(m.frames);
  if (filter !== undefined) lines.push(`Wireshark: ${filter}${more ? ' (the first few)' : ''}`);
  return lines.join('\n');
}

function marks(scene: Scene, ids: Ids, lanes: Map<string, SceneLane>): string {
  const index = new Map(scene.lanes.map((l, i) => [l.key, i]));
  const out: string[] = [];
  for (const m of scene.marks) {
    const i = index.get(m.lane)!;
    const y = laneTop(i) + MARK_Y[m.kind];
    const first = [...m.what.keys()][0]!;
    const href = m.kind.startsWith('more') ? `#${ids.p}-${m.kind === 'more-flows' ? 'flows' : 'wrong'}` : `#${ids.check(first)}`;
    const checks = m.kind === 'arp' ? ` data-checks="${esc([...m.what.keys()].join(' '))}"` : '';
    out.push(
      `<g data-item="" data-layer="${MARK_LAYER[m.kind]}" data-kind="${m.kind}" data-lane="${esc(m.lane)}" data-frames="${m.frames.join(' ')}" data-count="${m.count}"${checks}><title>${esc(markTitle(m, lanes.get(m.lane)))}</title>` +
        `<a href="${href}"><use href="#${ids.p}-s-${m.kind}" x="${px(m.x)}" y="${y}"${MARK_SHIFT[m.kind]}/></a>` +
        (m.count > 1 && m.kind === 'arp' ? `<text x="${px(m.x)}" y="${y + 4}" dx="16" class="count">×${num(m.count)}</text>` : '') +
        `</g>`,
    );
  }
  return out.join('\n');
}

function axisLayer(scene: Scene, height: number): string {
  const out: string[] = [`<g class="axis" aria-hidden="true">`];
  for (const t of axisTicks(scene.axis)) {
    const cls = t.level === 1 ? '' : ` tk${t.level}`;
    out.push(
      `<g class="tick${cls}"><line x1="${px(t.x)}" x2="${px(t.x)}" y1="${AXIS_H - 6}" y2="${height - BOTTOM}"/>` +
        `<text x="${px(t.x)}" y="${AXIS_H - 10}">${esc(t.label)}</text></g>`,
    );
  }
  out.push('</g>');
  return out.join('\n');
}

/** One sentence for the SVG's <desc>: what the picture shows (the tables below say it item by item). */
export function describe(scene: Scene): string {
  const parts = [
    `${count(scene.lanes.length, 'lane')} (${scene.lanes.map((l) => laneText(l, l.key)).join('; ')})`,
    count(scene.flows.length, 'colliding flow'),
    count(scene.wrong.length, 'reply that reached another clone', 'replies that reached another clone'),
  ];
  const arp = scene.marks.filter((m) => m.kind === 'arp').reduce((a, m) => a + m.count, 0);
  if (arp > 0) parts.push(count(arp, 'ARP conflict'));
  const axis = scene.axis.kind === 'time' ? 'time' : 'frame number';
  return `Lanes over ${axis}: ${parts.join(', ')}. The tables below list the same facts.`;
}

/** The picture: the lane labels beside a scrolling plot. */
export function picture(scene: Scene, ids: Ids, rows: number): string {
  const height = pictureHeight(scene.lanes.length);
  const lanes = new Map(scene.lanes.map((l) => [l.key, l]));
  const background = scene.lanes
    .map((_, i) => `<rect y="${laneTop(i)}" width="100%" height="${LANE_H}" class="${i % 2 ? 'lane-b' : 'lane-a'}"/>`)
    .join('');
  return [
    `<div class="pic-body">`,
    labels(scene, height),
    `<div class="scroll" tabindex="0" aria-label="the lanes over ${scene.axis.kind === 'time' ? 'time' : 'frame number'}; scrolls when zoomed">` +
      `<svg class="plot" height="${height}" role="img" aria-labelledby="${ids.p}-pic-title ${ids.p}-pic-desc" data-axis="${scene.axis.kind}">` +
      `<title id="${ids.p}-pic-title">Collision picture</title><desc id="${ids.p}-pic-desc">${esc(describe(scene))}</desc>`,
    defs(ids.p),
    `<g>${background}</g>`,
    densities(scene),
    axisLayer(scene, height),
    marks(scene, ids, lanes),
    // Arrows under the flows' markers, so that a request's marker shows over the arrow's tail.
    wrongReplies(scene, ids, rows, lanes),
    flows(scene, ids, rows, lanes),
    `</svg></div></div>`,
  ].join('\n');
}

/** A legend swatch: one shape of the section's defs in a small SVG of its own. */
export function swatch(p: string, shape: string, fill?: string): string {
  return `<svg class="sw" width="30" height="18" viewBox="-15 -9 30 18" aria-hidden="true"><use href="#${p}-s-${shape}"${fill ? ` fill="${fill}"` : ''}/></svg>`;
}
