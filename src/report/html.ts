/**
 * The HTML report (`--report html`): one self-contained page (inline CSS,
 * SVG and script; a Content-Security-Policy that forbids every request) that
 * shows the verdict, the counts by check, the collision picture (one lane per
 * interface and VLAN; each colliding flow linked across its lanes; replies
 * that reached another clone drawn from the asking lane to the receiving
 * lane) and tables with the same facts, each item with its Wireshark frame
 * number and a display filter to paste. A run over several captures gets an
 * overview and a section per file.
 *
 * The page is deterministic for a given report (no dates, no random ids), so
 * it can be diffed and golden-tested. Its size is bounded for any report:
 * what is drawn or listed one by one is capped (src/report/html-scene.ts
 * Limits) and the page says how much it left out.
 */
import { EXIT_FINDINGS, EXIT_INPUT, EXIT_OK } from '../errors.js';
import { CSS, SCRIPT } from './html-assets.js';
import { buildScene, DEFAULT_LIMITS, laneKey, type Limits, type Scene, type SceneLane, type WrongReply } from './html-scene.js';
import { flowStyle, laneText, picture, swatch, type Ids } from './html-svg.js';
import { clip, esc, utc } from './html-text.js';
import { count, num } from './numbers.js';
import type { Finding, MultiReport, Report, Verdict, VerdictResult } from './model.js';
import { checkFilter, frameFilter, laneFilter } from './wireshark.js';

const VERDICT_LOOK: Readonly<Record<VerdictResult, { icon: string; word: string }>> = {
  ok: { icon: '✔', word: 'OK' },
  failed: { icon: '✖', word: 'FAILED' },
  unchecked: { icon: '?', word: 'NOT CHECKED' },
  unreadable: { icon: '!', word: 'UNREADABLE' },
  unwritten: { icon: '!', word: 'NOT WRITTEN' },
};

/**
 * The report's verdict; a report without one (made before verdicts existed)
 * gets the one its summary implies: failed on an error (exit 1), unreadable
 * when it records a read error (exit 3), else ok.
 */
function shownVerdict(report: Report): { verdict: Verdict; derived: boolean } {
  if (report.verdict !== undefined) return { verdict: report.verdict, derived: false };
  const s = report.summary;
  if (report.error !== undefined) return { verdict: { result: 'unreadable', exitCode: EXIT_INPUT, strict: false, why: report.error.message }, derived: true };
  if (s.errors > 0) return { verdict: { result: 'failed', exitCode: EXIT_FINDINGS, strict: false, why: count(s.errors, 'error') }, derived: true };
  const why = s.warnings > 0 ? `no errors; ${count(s.warnings, 'warning')}` : 'no errors, no warnings';
  return { verdict: { result: 'ok', exitCode: EXIT_OK, strict: false, why }, derived: true };
}

function verdictBanner(v: Verdict, derived: boolean, small = false): string {
  const look = VERDICT_LOOK[v.result];
  const exit = `exit code ${v.exitCode}${v.strict ? ' (--strict: warnings fail)' : ''}${derived ? ' (from the summary: the report has no verdict)' : ''}`;
  return (
    // Not written looks as unreadable does: the run could not do what was asked with that file.
    `<div class="verdict v-${v.result === 'unwritten' ? 'unreadable' : v.result}${small ? ' small' : ''}" data-verdict="${v.result}" data-exit-code="${v.exitCode}">` +
    `<span class="icon" aria-hidden="true">${look.icon}</span><span class="word">${look.word}</span>` +
    `<span class="why">${esc(v.why)}</span><span class="exit">${esc(exit)}</span></div>`
  );
}

function cards(items: Array<[string, number, string?]>): string {
  return `<ul class="cards">${items.map(([label, n, cls]) => `<li${cls && n > 0 ? ` class="${cls}"` : ''}><b>${num(n)}</b><span>${esc(label)}</span></li>`).join('')}</ul>`;
}

function filterCode(filter: string | undefined): string {
  if (filter === undefined) return '';
  return `<code class="wf${filter.length <= 40 ? ' nw' : ''}">${esc(filter)}</code>`;
}

function severityCell(sev: 'error' | 'warning'): string {
  return `<td class="sev-${sev}">${sev === 'error' ? '✖ error' : '▲ warning'}</td>`;
}

/** A table: its head, rows (already <tr>s), and, when rows were left out, a caption that says so. */
function table(head: string[], rows: string[], notShown: number, numeric: ReadonlySet<number> = new Set()): string {
  const th = head.map((h, i) => `<th scope="col"${numeric.has(i) ? ' class="n"' : ''}>${h}</th>`).join('');
  const caption = notShown > 0 ? `<caption>${num(notShown)} more not shown; <code>--report json</code> lists all.</caption>` : '';
  // Long tables are laid out only when scrolled to (content-visibility), so that a page with thousands of rows shows at once.
  return `<div class="tw${rows.length > 40 ? ' long' : ''}"><table>${caption}<thead><tr>${th}</tr></thead><tbody>${rows.join('\n')}</tbody></table></div>`;
}

interface Section {
  report: Report;
  scene: Scene;
  ids: Ids;
  /** Heading level of the section's parts (2 on a one-report page, 3 under a file's heading). */
  h: number;
  rows: number;
}

function heading(s: Section, id: string, text: string, extra = 0): string {
  const h = s.h + extra;
  return `<h${h} id="${id}">${text}</h${h}>`;
}

function laneLabel(s: Section, key: string): string {
  return esc(laneText(s.scene.allLanes.find((l) => l.key === key), key));
}

function metaLine(r: Report): string {
  const parts = [
    `${esc(r.input.format)}`,
    count(r.input.interfaces.length, 'interface'),
    `${esc(r.command)}`,
    `${esc(r.direction)}`,
    r.rules.length > 0 ? `rules ${r.rules.map((x) => `<code>${esc(x)}</code>`).join(' ')}` : 'no rules',
  ];
  if (r.output !== undefined) parts.push(`output <code>${esc(r.output.path)}</code> (${esc(r.output.format)})`);
  parts.push(`ssnat-rewrite ${esc(r.version)}`);
  return `<p class="meta">${parts.join(' · ')}</p>`;
}

function errorBox(r: Report): string {
  const e = r.error;
  if (e === undefined) return '';
  const at = [e.offset !== undefined ? `byte offset ${num(e.offset)}` : '', e.frame !== undefined ? `frame ${e.frame}` : ''].filter((x) => x).join(', ');
  if (e.code === 'output') return `<div class="error-box" role="alert"><strong>The output was not written</strong> (${esc(e.code)}): ${esc(e.message)}.</div>`;
  return (
    `<div class="error-box" role="alert"><strong>The capture could not be read</strong> (${esc(e.code)}${at ? `, ${at}` : ''}): ${esc(e.message)}. ` +
    `What was read before the damage is reported below.</div>`
  );
}

function summaryCards(s: Section): string {
  const r = s.report;
  const sum = r.summary;
  const wrong = s.scene.flows.reduce((a, f) => a + f.wrongCount, 0);
  const items: Array<[string, number, string?]> = [['packets', sum.packets]];
  if (r.command === 'rewrite' || sum.rewritten > 0) items.push(['rewritten', sum.rewritten]);
  if (sum.checksumsFixed !== undefined) items.push(['checksums fixed (--fix-checksums)', sum.checksumsFixed.fixed], ['checksums not fixable', sum.checksumsFixed.notFixable]);
  if (sum.undecodable > 0) items.push(['undecodable', sum.undecodable, 'warn']);
  items.push(
    ['checksums verified', sum.checksums.verified],
    ['checksums bad', sum.checksums.bad, 'err'],
    ['checksums unverifiable', sum.checksums.unverifiable],
    ['errors', sum.errors, 'err'],
    ['warnings', sum.warnings, 'warn'],
    ['colliding flows', sum.collisions, 'warn'],
    ['wrong-clone replies', wrong, 'wrong'],
  );
  return cards(items);
}

const LAYERS: Array<[string, string]> = [
  ['packets', 'packets'],
  ['flows', 'colliding flows'],
  ['wrong', 'wrong-clone replies'],
  ['arp', 'ARP conflicts'],
  ['findings', 'other findings'],
];

function controls(s: Section): string {
  const p = s.ids.p;
  return (
    `<div class="controls" hidden>` +
    `<label>Filter <input type="search" placeholder="frame, flow, lane, check…" aria-label="filter the picture and the tables"></label><output aria-live="polite"></output>` +
    `<span>Show ${LAYERS.map(([k, t]) => `<label><input type="checkbox" data-layer="${k}" checked> ${t}</label>`).join(' ')}</span>` +
    `<span>Zoom <button type="button" data-zoom-step="out" aria-label="zoom out" aria-controls="${p}-pic">−</button> <span class="zl">1×</span> ` +
    `<button type="button" data-zoom-step="in" aria-label="zoom in" aria-controls="${p}-pic">+</button> ` +
    `<button type="button" data-zoom-step="fit" aria-controls="${p}-pic">fit</button></span>` +
    `</div>`
  );
}

function axisCaption(scene: Scene): string {
  const a = scene.axis;
  if (a.kind === 'time') {
    return `x: time since ${esc(utc(a.start))} (the timeline's start), in buckets of ${esc(String(a.bucketSeconds))} s; the grey area is each lane's packets per bucket.`;
  }
  return `x: frame number, 1 to ${num(a.last)} (${esc(scene.frameAxisWhy ?? '')}).`;
}

function legend(s: Section): string {
  const p = s.ids.p;
  const sc = s.scene;
  const keys = [
    sc.axis.kind === 'time' ? `<li><svg class="sw" width="30" height="18" aria-hidden="true"><rect x="3" y="4" width="24" height="12" class="density"/></svg> packets per time bucket</li>` : '',
    `<li>${swatch(p, 'wrong')} <span class="wrong-cell">wrong clone:</span> a reply, or an ICMP error quoting a request, that reached another lane than its request (red arrow from the asking lane)</li>`,
    `<li>${swatch(p, 'arp')} ARP conflict</li>`,
    `<li>${swatch(p, 'error')} error</li>`,
    `<li>${swatch(p, 'warning')} warning</li>`,
    sc.flows.length > sc.limits.flows ? `<li>${swatch(p, 'more-flows')} colliding flow not drawn one by one</li>` : '',
    sc.wrong.length > sc.limits.arrows ? `<li>${swatch(p, 'more-wrong')} wrong-clone reply not drawn as an arrow</li>` : '',
  ].join('');
  const flows = sc.flows.slice(0, sc.limits.flows).map((f) => {
    const { colour, shape } = flowStyle(f.n - 1);
    const c = f.collision;
    const wrong = f.wrongCount > 0 ? ` · <span class="wrong-cell">${count(f.wrongCount, 'wrong-clone reply', 'wrong-clone replies')}</span>` : '';
    return (
      `<li data-flow="${f.n}">${swatch(p, shape, colour)}<a href="#${s.ids.flowRow(f.n)}" data-q="${esc(c.flow)}" title="highlight this flow">#${f.n}</a> ` +
      `<code>${esc(c.protocol)} ${esc(c.flow)}</code> on ${count(f.points.length, 'lane')}${wrong}</li>`
    );
  });
  return (
    `<ul class="legend" aria-label="symbols">${keys}</ul>` +
    (flows.length > 0 ? `<ul class="legend flows" aria-label="colliding flows">${flows.join('\n')}</ul>` : '')
  );
}

function pictureNotes(s: Section): string {
  const sc = s.scene;
  const notes: string[] = [];
  const cap = (n: number, what: string): void => {
    if (n > 0) notes.push(`<p class="note cap">${what}</p>`);
  };
  if (sc.flows.length === 0) notes.push(`<p class="note">No colliding flow: no 5-tuple was seen on more than one lane.</p>`);
  cap(sc.flows.length - sc.limits.flows, `${count(sc.flows.length - sc.limits.flows, 'more colliding flow')} drawn as small grey circles, not one by one; the table lists the first ${num(s.rows)}; <code>--report json</code> lists all.`);
  cap(sc.wrong.length - sc.limits.arrows, `${count(sc.wrong.length - sc.limits.arrows, 'more wrong-clone reply', 'more wrong-clone replies')} marked on the receiving lane without an arrow.`);
  const unlisted = sc.flows.reduce((a, f) => a + f.wrongCount - f.wrong.length, 0);
  cap(unlisted, `${count(unlisted, 'wrong-clone reply', 'wrong-clone replies')} counted by the report but not listed in it (it lists the first ones of each flow).`);
  cap(sc.lanesNotDrawn, `${count(sc.lanesNotDrawn, 'more lane')} not drawn (the report's timeline or the lane cap left them out); their findings are in the tables.`);
  cap(sc.itemsOffLanes, `${count(sc.itemsOffLanes, 'item')} on lanes that are not drawn.`);
  if (sc.fileFindings > 0) notes.push(`<p class="note">${count(sc.fileFindings, 'finding')} about the file itself (on no lane): see the tables.</p>`);
  if (sc.wrongFromMessages) notes.push(`<p class="note">Wrong-clone replies are taken from the <code>flow.wrong-clone</code> findings' messages (this report does not list them with its collisions).</p>`);
  return notes.join('\n');
}

function pictureSection(s: Section): string {
  const p = s.ids.p;
  const head = heading(s, `${p}-picture`, 'Collision picture');
  if (s.scene.lanes.length === 0) return `${head}<p class="note">Nothing to draw: the report names no interface.</p>`;
  return (
    head +
    controls(s) +
    `\n<figure class="pic" id="${p}-pic" data-zoom="1">` +
    picture(s.scene, s.ids, s.rows) +
    `<figcaption>${axisCaption(s.scene)} One lane per interface and VLAN${s.scene.allLanes.some((l) => l.tunnel) ? ', and per tunnel (the packets it carries)' : ''}. Hover an item for its facts; click it for its row below.</figcaption></figure>` +
    legend(s) +
    pictureNotes(s)
  );
}

function countsTable(s: Section): string {
  const rows: string[] = [];
  for (const [check, fs] of s.scene.byCheck) {
    const errors = fs.reduce((a, f) => a + (f.severity === 'error' ? 1 : 0), 0);
    const sev = errors > 0 ? 'error' : 'warning';
    rows.push(
      `<tr data-row="" data-check="${esc(check)}"><td><a href="#${s.ids.check(check)}"><code>${esc(check)}</code></a></td>${severityCell(sev)}` +
        `<td class="n" data-count="${fs.length}">${num(fs.length)}</td><td>${filterCode(checkFilter(check))}</td></tr>`,
    );
  }
  const ignored = Object.entries(s.report.ignored ?? {}).map(([check, n]) => `<code>${esc(check)}</code> ${num(n)}`);
  const ignoredNote = ignored.length === 0 ? '' : `<p class="note" data-ignored="">Turned off with <code>--ignore</code>, counted only: ${ignored.join(', ')}.</p>`;
  if (rows.length === 0) return `${heading(s, `${s.ids.p}-counts`, 'Counts by check')}<p class="note">No finding.</p>${ignoredNote}`;
  const note = [...s.scene.byCheck.keys()].some((c) => checkFilter(c) !== undefined)
    ? `<p class="note">The checksum filters need Wireshark's checksum validation: <code>-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE</code> (Wireshark calls offloaded checksums bad too).</p>`
    : '';
  return heading(s, `${s.ids.p}-counts`, 'Counts by check') + table(['check', 'severity', 'findings', 'Wireshark filter (the whole check)'], rows, 0, new Set([2])) + note + ignoredNote;
}

function lanesTable(s: Section): string {
  const per = new Map<string, { errors: number; warnings: number; flows: number }>();
  const get = (k: string) => {
    let v = per.get(k);
    if (v === undefined) per.set(k, (v = { errors: 0, warnings: 0, flows: 0 }));
    return v;
  };
  for (const f of s.report.findings) {
    if (f.interface < 0) continue;
    const v = get(laneKey(f.interface, f.vlan, f.section, f.tunnel));
    if (f.severity === 'error') v.errors++;
    else v.warnings++;
  }
  for (const f of s.scene.flows) for (const p of new Set(f.points.map((x) => x.lane))) get(p).flows++;
  const lanes = s.scene.allLanes;
  // A tunnel column only when some lane is a tunnel lane (reports without tunnels read as before).
  const tunnels = lanes.some((l) => l.tunnel);
  const rows = lanes.slice(0, s.rows).map((l: SceneLane) => {
    const v = per.get(l.key) ?? { errors: 0, warnings: 0, flows: 0 };
    return (
      `<tr data-row="" data-lane="${esc(l.key)}"><td>${l.name !== undefined ? esc(l.name) : '<span class="note">(no name)</span>'}</td><td class="n">${l.iface}${l.section !== undefined ? ` (section ${l.section})` : ''}</td>` +
      `${tunnels ? `<td>${l.tunnel ? esc(l.tunnel) : '<span class="note">(none)</span>'}</td>` : ''}<td>${l.vlan ? esc(l.vlan) : 'untagged'}</td>` +
      `<td class="n">${l.total !== undefined ? num(l.total) : ''}</td><td class="n">${num(v.errors)}</td><td class="n">${num(v.warnings)}</td><td class="n">${num(v.flows)}</td>` +
      `<td>${filterCode(laneFilter(l.iface, l.vlan, l.section, l.tunnel))}</td></tr>`
    );
  });
  const head = ['interface name', 'interface', ...(tunnels ? ['tunnel'] : []), 'VLAN', 'packets', 'errors', 'warnings', 'colliding flows', 'Wireshark filter'];
  const numeric = tunnels ? new Set([1, 4, 5, 6, 7]) : new Set([1, 3, 4, 5, 6]);
  return heading(s, `${s.ids.p}-lanes`, 'Lanes') + table(head, rows, lanes.length - rows.length, numeric);
}

function flowsTable(s: Section): string {
  const sc = s.scene;
  const head = heading(s, `${s.ids.p}-flows`, 'Colliding flows');
  if (sc.flows.length === 0) return `${head}<p class="note">None: no 5-tuple was seen on more than one lane.</p>`;
  const rows = sc.flows.slice(0, s.rows).map((f) => {
    const c = f.collision;
    const drawn = f.n <= sc.limits.flows;
    const { colour, shape } = flowStyle(f.n - 1);
    const lanes = f.points.map((p) => `${laneLabel(s, p.lane)}: frame ${p.frame}`).join('<br>');
    return (
      `<tr data-row="" id="${s.ids.flowRow(f.n)}" data-flow="${f.n}"><td class="n nw">${drawn ? swatch(s.ids.p, shape, colour) : ''}#${f.n}</td><td>${esc(c.protocol)}</td><td><code>${esc(c.flow)}</code></td>` +
      `<td>${lanes}</td><td class="n${f.wrongCount > 0 ? ' wrong-cell' : ''}">${num(f.wrongCount)}</td><td>${filterCode(f.filter ?? frameFilter(c.frames))}</td></tr>`
    );
  });
  return head + table(['#', 'protocol', 'flow (first packet\u2019s direction)', 'lanes: first frame', 'wrong-clone replies', 'Wireshark filter (both directions)'], rows, sc.flows.length - rows.length, new Set([0, 4]));
}

function when(p: { time?: number }): string {
  return p.time !== undefined ? `<br><span class="note">${esc(utc(p.time))}</span>` : '';
}

function wrongTable(s: Section): string {
  const sc = s.scene;
  if (sc.wrong.length === 0) return '';
  const rows = sc.wrong.slice(0, s.rows).map((w: WrongReply, i) => {
    const c = sc.flows[w.flow]!.collision;
    const lane = (k: string) => esc(laneText(sc.allLanes.find((l) => l.key === k), k));
    return (
      `<tr data-row="" id="${s.ids.wrongRow(i)}" data-flow="${w.flow + 1}"><td class="wrong-cell">✖ #${w.flow + 1}</td><td><code>${esc(c.protocol)} ${esc(c.flow)}</code></td>` +
      `<td>frame ${w.request.frame}<br>${lane(w.request.lane)}${when(w.request)}</td><td>frame ${w.reply.frame}<br>${lane(w.reply.lane)}${when(w.reply)}</td>` +
      `<td>${filterCode(frameFilter([w.request.frame, w.reply.frame]))}</td></tr>`
    );
  });
  return (
    heading(s, `${s.ids.p}-wrong`, 'Replies that reached the wrong clone') +
    `<p class="note">Each reply went out on another lane than the request it answers: the clone that asked never got its answer.</p>` +
    table(['flow', '5-tuple', 'request (the clone that asked)', 'reply (the clone that got it)', 'Wireshark filter'], rows, sc.wrong.length - rows.length)
  );
}

function findingRow(s: Section, f: Finding, timed: boolean): string {
  const where = f.interface >= 0 ? laneLabel(s, laneKey(f.interface, f.vlan, f.section, f.tunnel)) : 'the file';
  const frame = f.frame > 0 ? String(f.frame) : 'file';
  const extra = [f.expected !== undefined ? `expected <code>${esc(f.expected)}</code>` : '', f.actual !== undefined ? `actual <code>${esc(f.actual)}</code>` : '', f.offset !== undefined ? `byte offset ${num(f.offset)}` : '']
    .filter((x) => x)
    .join('<br>');
  return (
    `<tr data-row="" data-frame="${f.frame}" data-interface="${f.interface}"><td class="n">${frame}</td><td>${where}</td>${timed ? `<td class="t">${f.time !== undefined ? esc(utc(f.time)) : ''}</td>` : ''}` +
    `<td class="msg">${esc(f.message)}${f.inherited === true ? ' <span class="inherited">(also in the input)</span>' : ''}</td><td>${extra}</td><td>${filterCode(frameFilter([f.frame]))}</td></tr>`
  );
}

function findingsTables(s: Section): string {
  const out: string[] = [heading(s, `${s.ids.p}-findings`, 'Findings by check')];
  if (s.scene.byCheck.size === 0) return out[0] + '<p class="note">No finding.</p>';
  const l = s.scene.limits;
  const each = Math.min(l.rows, Math.max(20, Math.floor(l.findingRows / s.scene.byCheck.size)));
  let listed = 0;
  for (const [check, fs] of s.scene.byCheck) {
    const sev = fs[0]!.severity;
    const timed = fs.some((f) => f.time !== undefined);
    const rows = fs.slice(0, each).map((f) => findingRow(s, f, timed));
    listed += rows.length;
    const head = ['frame', 'lane', ...(timed ? ['time (UTC)'] : []), 'message', 'values', 'Wireshark filter'];
    out.push(
      heading(s, s.ids.check(check), `<code>${esc(check)}</code> <span class="sev-${sev}">${sev === 'error' ? '✖ error' : '▲ warning'}</span> · ${count(fs.length, 'finding')}`, 1) +
        table(head, rows, fs.length - rows.length, new Set([0])),
    );
  }
  // Many rows in all: the browser lays them out only when they are scrolled to (see .tw.long).
  return listed > 100 ? `${out[0]}\n<div class="tw long">${out.slice(1).join('\n')}</div>` : out.join('\n');
}

function idsFor(p: string): Ids {
  return {
    p,
    flowRow: (n) => `${p}-flow-${n}`,
    wrongRow: (i) => `${p}-wrong-${i + 1}`,
    check: (c) => `${p}-check-${c.replace(/[^a-z0-9-]/g, '-')}`,
  };
}

/** The body of one report: counts, picture, tables (its title and verdict come from the caller). */
function reportBody(report: Report, p: string, h: number, limits: Limits): string {
  const s: Section = { report, scene: buildScene(report, limits), ids: idsFor(p), h, rows: limits.rows };
  // One part a line (and a table row, an SVG item a line), so that two pages diff readably.
  return [errorBox(report), summaryCards(s), pictureSection(s), countsTable(s), wrongTable(s), flowsTable(s), lanesTable(s), findingsTables(s)].filter((x) => x).join('\n');
}

/**
 * The CSP hash of an inline asset. node:crypto is loaded here, when a page is
 * made, not with the CLI: every other run would pay its start-up time.
 */
function sha256(text: string): string {
  return process.getBuiltinModule('node:crypto').createHash('sha256').update(text, 'utf8').digest('base64');
}

function page(title: string, body: string, generator: string): string {
  // Only this stylesheet and this script may run, and nothing may be fetched (default-src 'none').
  const csp = `default-src 'none'; style-src 'sha256-${sha256(CSS)}'; script-src 'sha256-${sha256(SCRIPT)}'; base-uri 'none'; form-action 'none'`;
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta http-equiv="Content-Security-Policy" content="${csp}">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<meta name="generator" content="${esc(generator)}">\n` +
    `<title>${esc(title)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n<main>\n${body}\n</main>\n<script>${SCRIPT}</script>\n</body>\n</html>\n`
  );
}

function isMulti(r: Report | MultiReport): r is MultiReport {
  return Array.isArray((r as MultiReport).files);
}

function singlePage(r: Report, limits: Limits): string {
  const { verdict, derived } = shownVerdict(r);
  const body =
    `<section data-report="" id="r" aria-labelledby="r-title">` +
    `<h1 id="r-title">ssnat-rewrite ${esc(r.command)}: <code>${esc(r.input.path)}</code></h1>` +
    metaLine(r) +
    verdictBanner(verdict, derived) +
    reportBody(r, 'r', 2, limits) +
    `</section>`;
  return page(`${VERDICT_LOOK[verdict.result].word}: ssnat-rewrite ${r.command} ${clip(r.input.path, 80)}`, body, `ssnat-rewrite ${r.version}`);
}

function multiPage(m: MultiReport, limits: Limits): string {
  const n = m.files.length;
  // Many files share the page's size budget: fewer rows each (the picture keeps its caps).
  const share = (k: number): number => Math.max(20, Math.floor(k / Math.max(1, Math.sqrt(n))));
  const each: Limits = { ...limits, rows: share(limits.rows), findingRows: share(limits.findingRows) };
  const s = m.summary;
  const shown = m.files.map(shownVerdict);
  const overview = m.files.map((r, i) => {
    const v = shown[i]!.verdict;
    const look = VERDICT_LOOK[v.result];
    return (
      `<tr data-row="" data-file="${i + 1}"><td><a href="#f${i + 1}"><code>${esc(r.input.path)}</code></a></td>` +
      `<td class="v-${v.result}"><span class="word">${look.icon} ${look.word}</span></td><td>${esc(v.why)}</td>` +
      `<td class="n">${num(r.summary.packets)}</td><td class="n">${num(r.summary.errors)}</td><td class="n">${num(r.summary.warnings)}</td><td class="n">${num(r.summary.collisions)}</td></tr>`
    );
  });
  const files = m.files.map((r, i) => {
    const p = `f${i + 1}`;
    const { verdict, derived } = shown[i]!;
    return (
      `<section class="file" data-report="" id="${p}" aria-labelledby="${p}-title">` +
      `<h2 id="${p}-title">${i + 1}. <code>${esc(r.input.path)}</code></h2>` +
      metaLine(r) +
      verdictBanner(verdict, derived, true) +
      reportBody(r, p, 3, each) +
      `</section>`
    );
  });
  const body =
    `<section aria-labelledby="top-title"><h1 id="top-title">ssnat-rewrite ${esc(m.command)}: ${count(n, 'capture')}</h1>` +
    `<p class="meta">ssnat-rewrite ${esc(m.version)}</p>` +
    verdictBanner(m.verdict, false) +
    cards([
      ['files', s.files],
      ['ok', s.ok],
      ['failed', s.failed, 'err'],
      ['unchecked', s.unchecked, 'warn'],
      ['unreadable', s.unreadable, 'err'],
      ...(s.unwritten === undefined ? [] : [['not written', s.unwritten, 'err'] as [string, number, string]]),
      ['packets', s.packets],
      ['checksums bad', s.checksums.bad, 'err'],
      ['errors', s.errors, 'err'],
      ['warnings', s.warnings, 'warn'],
      ['colliding flows', s.collisions, 'warn'],
    ]) +
    `<h2 id="overview">Overview</h2>` +
    table(['capture', 'verdict', 'why', 'packets', 'errors', 'warnings', 'colliding flows'], overview, 0, new Set([3, 4, 5, 6])) +
    `</section>` +
    files.join('\n');
  return page(`${VERDICT_LOOK[m.verdict.result].word}: ssnat-rewrite ${m.command}, ${count(n, 'capture')}`, body, `ssnat-rewrite ${m.version}`);
}

/**
 * The HTML report of one capture, or of a run over several (an overview, then
 * a section per file). Deterministic; every string from the capture escaped.
 */
export function renderHtmlReport(report: Report | MultiReport, limits: Limits = DEFAULT_LIMITS): string {
  return isMulti(report) ? multiPage(report, limits) : singlePage(report, limits);
}

export type { Limits as HtmlReportLimits };
