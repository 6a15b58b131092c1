/**
 * The HTML report as text: what it draws is exactly what the report lists
 * (read back from the SVG's data-* attributes), it is one self-contained and
 * deterministic page (byte-compared with a reviewed golden file), it escapes
 * what a capture controls, it stays small for a million-packet report, and
 * every Wireshark filter it offers compiles in tshark. The browser tests
 * (html.browser.test.ts) check the same pages as a user sees them.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/report/html.js';
import { ROOT } from '../helpers/cli.js';
import { bigReport, elementsOfKind, expectedFlows, expectedWrong, HOSTILE, hostileReport, hostReport, laneKey, legacyReport, multiReport, quietReport, smallReport } from '../helpers/reports.js';
import { needs } from '../helpers/tools.js';

const GOLDEN = join(ROOT, 'test/report/golden/small.html');
const HOST = join(ROOT, 'fixtures/golden/collision/host.pcapng');

function drawnFlows(html: string) {
  return elementsOfKind(html, 'flow').map((a) => ({ flow: a['data-flow'], tuple: a['data-tuple'], lanes: a['data-lanes'], frames: a['data-frames'] }));
}

function drawnWrong(html: string) {
  return elementsOfKind(html, 'wrong-reply').map((a) => ({
    flow: a['data-flow'],
    from: a['data-from-lane'],
    to: a['data-to-lane'],
    request: a['data-request-frame'],
    reply: a['data-reply-frame'],
  }));
}

function ids(html: string): string[] {
  return [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]!);
}

describe('the HTML report draws what the report lists', () => {
  it('one lane per interface and VLAN, each colliding flow on its lanes, each wrong-clone reply from the asking lane to the receiving one', () => {
    const r = smallReport();
    const html = renderHtmlReport(r);
    expect(elementsOfKind(html, 'lane').map((a) => [a['data-lane'], a['data-name']])).toEqual([
      ['0', 'tap0'],
      ['1', 'tap1'],
      ['2/10', 'tap2'],
    ]);
    expect(drawnFlows(html)).toEqual(expectedFlows(r));
    expect(drawnWrong(html)).toEqual(expectedWrong(r));
    expect(drawnWrong(html)).toHaveLength(4);
    // The flows' markers: one per lane of the flow, at the lane's first frame.
    const markers = elementsOfKind(html, 'collision').map((a) => `${a['data-lane']}@${a['data-frame']}`);
    expect(markers.sort()).toEqual(r.collisions.flatMap((c) => c.interfaces.map((iface, j) => `${laneKey(iface, c.vlans?.[j])}@${c.frames[j]}`)).sort());
    // ARP conflicts on their own lanes; the other findings as error/warning marks; flow.collision findings are the flows.
    expect(elementsOfKind(html, 'arp').map((a) => [a['data-lane'], a['data-frames'], a['data-checks']])).toEqual([
      ['0', '8', 'arp.reply-mismatch'],
      ['1', '20', 'arp.duplicate-ip'],
      ['2/10', '70', 'arp.ip-mac-mismatch'],
    ]);
    expect(elementsOfKind(html, 'error').map((a) => `${a['data-lane']}@${a['data-frames']}`)).toEqual(['0@12', '2/10@50']);
    expect(elementsOfKind(html, 'warning').map((a) => `${a['data-lane']}@${a['data-frames']}`)).toEqual(['1@44']);
    // Time on the x axis, the packets per bucket drawn per lane.
    expect(html).toContain('data-axis="time"');
    expect(elementsOfKind(html, 'packets').map((a) => a['data-lane'])).toEqual(['0', '1', '2/10']);
    // The verdict as the exit code says it, and the unlisted wrong reply said.
    expect(html).toContain('data-verdict="failed" data-exit-code="1"');
    expect(html).toContain('1 wrong-clone reply counted by the report but not listed in it');
  });

  it("today's report of the real collision capture: three taps, five flows, and the fourteen replies and ICMP errors tap0 got for tap1 and tap2", () => {
    const r = hostReport();
    const html = renderHtmlReport(r);
    expect(elementsOfKind(html, 'lane').map((a) => [a['data-lane'], a['data-name']])).toEqual([
      ['0', 'tap0'],
      ['1', 'tap1'],
      ['2', 'tap2'],
    ]);
    expect(drawnFlows(html)).toEqual(expectedFlows(r));
    // The wrong-clone replies drawn are the ones the report lists as data, which are the ones its messages name.
    expect(drawnWrong(html)).toEqual(expectedWrong(r));
    const fromFindings = r.findings.flatMap((f) => {
      const m = /(?:reply|ICMP error|ICMPv6 error) on interface (\d+) to the request of frame (\d+) on interface (\d+)/.exec(f.message);
      if (f.check !== 'flow.wrong-clone' || m === null) return [];
      const flow = r.collisions.findIndex((c) => f.message.startsWith(`${c.protocol} ${c.flow}: `)) + 1;
      return [{ flow: String(flow), from: m[3]!, to: String(f.interface), request: m[2]!, reply: String(f.frame) }];
    });
    expect(fromFindings).toHaveLength(14);
    const byReply = (a: { reply?: string | undefined }, b: { reply?: string | undefined }): number => Number(a.reply) - Number(b.reply);
    expect([...drawnWrong(html)].sort(byReply)).toEqual(fromFindings.sort(byReply));
    expect(fromFindings.every((w) => w.to === '0' && w.from !== '0')).toBe(true);
    // The report has a timeline and every item a time: time on the x axis, said in the caption.
    expect(html).toContain('data-axis="time"');
    expect(r.timeline!.start).toBe(1795596538.558946); // frame 1's time: tshark's frame.time_epoch is 1795596538.558946754
    expect(html).toContain("x: time since 2026-11-25 08:48:58.558946 UTC (the timeline's start)");
    expect(html).toContain('data-verdict="failed" data-exit-code="1"');
  });

  it('a report without the new fields (verdict, timeline, times, VLANs, wrongReplies) still draws every lane, flow and wrong reply, by frame', () => {
    const r = legacyReport();
    const html = renderHtmlReport(r);
    expect(elementsOfKind(html, 'lane').map((a) => a['data-lane'])).toEqual(['0', '1', '2']);
    expect(drawnFlows(html)).toEqual(expectedFlows(r));
    expect(drawnWrong(html)).toEqual([
      { flow: '1', from: '1', to: '0', request: '31', reply: '32' },
      { flow: '2', from: '1', to: '0', request: '40', reply: '41' },
      { flow: '2', from: '1', to: '0', request: '46', reply: '47' },
      { flow: '1', from: '2', to: '0', request: '65', reply: '66' },
      { flow: '4', from: '2', to: '0', request: '80', reply: '81' },
    ]);
    expect(html).toContain('data-axis="frame"');
    expect(elementsOfKind(html, 'packets')).toEqual([]);
    // The verdict the summary implies: 3 errors fail.
    expect(html).toContain('data-verdict="failed" data-exit-code="1"');
    expect(html).toContain('from the summary: the report has no verdict');
  });

  it('a report with nothing to draw still gives the counts, its one lane, and says there is no collision', () => {
    const html = renderHtmlReport(quietReport());
    expect(html).toContain('data-verdict="ok" data-exit-code="0"');
    expect(html).toContain('<b>1,200</b><span>packets</span>');
    expect(elementsOfKind(html, 'lane').map((a) => a['data-lane'])).toEqual(['0']);
    expect(html).toContain('No colliding flow: no 5-tuple was seen on more than one lane.');
    expect(drawnFlows(html)).toEqual([]);
  });

  it('an unreadable capture says why, where, and shows what was read before', () => {
    const r = quietReport();
    r.error = { code: 'input', message: 'pcapng block length 12 is shorter than its header', offset: 1024, frame: 7 };
    r.verdict = { result: 'unreadable', exitCode: 3, strict: false, why: 'the capture could not be read' };
    const html = renderHtmlReport(r);
    expect(html).toContain('data-verdict="unreadable" data-exit-code="3"');
    expect(html).toContain('<strong>The capture could not be read</strong> (input, byte offset 1,024, frame 7): pcapng block length 12 is shorter than its header.');
  });

  it('a run over several captures: an overview row and a section per file, with ids that do not clash', () => {
    const m = multiReport();
    const html = renderHtmlReport(m);
    expect([...html.matchAll(/<tr data-row="" data-file="(\d+)">/g)].map((x) => x[1])).toEqual(['1', '2']);
    expect([...html.matchAll(/<section class="file" data-report="" id="(f\d+)"/g)].map((x) => x[1])).toEqual(['f1', 'f2']);
    expect(html).toContain('data-verdict="failed" data-exit-code="1"><span class="icon" aria-hidden="true">✖</span><span class="word">FAILED</span><span class="why">1 of 2 captures failed</span>');
    const all = ids(html);
    expect(new Set(all).size).toBe(all.length);
    expect(drawnFlows(html)).toEqual(expectedFlows(m.files[0]!));
  });
});

describe('one self-contained, deterministic page', () => {
  it('the same report gives the same bytes, and the library API (dist/, as installed) gives the same page', async () => {
    const r = smallReport();
    const html = renderHtmlReport(r);
    expect(renderHtmlReport(structuredClone(r))).toBe(html);
    const lib = (await import(join(ROOT, 'dist/index.js'))) as typeof import('../../src/index.js');
    expect(lib.renderHtmlReport(r)).toBe(html);
    expect(lib.renderHtmlReport(multiReport())).toBe(renderHtmlReport(multiReport()));
  });

  it('matches the reviewed golden page byte for byte (SSNAT_UPDATE_GOLDEN=1 rewrites it)', () => {
    const html = renderHtmlReport(smallReport());
    if (process.env.SSNAT_UPDATE_GOLDEN === '1') {
      mkdirSync(join(ROOT, 'test/report/golden'), { recursive: true });
      writeFileSync(GOLDEN, html);
    }
    expect(html === readFileSync(GOLDEN, 'utf8'), 'the page differs from test/report/golden/small.html').toBe(true);
  });

  it('asks for nothing outside itself: links within the page only, one style and one script, allowed by hash in its CSP', () => {
    for (const html of [renderHtmlReport(smallReport()), renderHtmlReport(multiReport()), renderHtmlReport(hostileReport())]) {
      const links = [...html.matchAll(/\s(?:href|src|xlink:href|action|srcset|poster|data)="([^"]*)"/g)].map((m) => m[1]!);
      expect(links.length).toBeGreaterThan(10);
      expect(links.filter((l) => !l.startsWith('#'))).toEqual([]);
      expect(html).not.toMatch(/url\((?!#)|@import|@font-face|<link|<iframe|<object|<embed|<img/i);
      const styles = [...html.matchAll(/<style>([^]*?)<\/style>/g)].map((m) => m[1]!);
      const scripts = [...html.matchAll(/<script>([^]*?)<\/script>/g)].map((m) => m[1]!);
      expect(styles).toHaveLength(1);
      expect(scripts).toHaveLength(1);
      expect(html.split('<script').length - 1).toBe(1);
      const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
      const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)![1]!;
      expect(csp).toBe(`default-src 'none'; style-src ${hash(styles[0]!)}; script-src ${hash(scripts[0]!)}; base-uri 'none'; form-action 'none'`);
      // The policy comes before anything it governs.
      expect(html.indexOf('Content-Security-Policy')).toBeLessThan(html.indexOf('<style>'));
    }
  });

  it('escapes what a capture controls, in text and in attributes', () => {
    const html = renderHtmlReport(hostileReport());
    // Nothing from the report opens an element or closes an attribute.
    expect(html).not.toContain('<script>window');
    expect(html).not.toContain('</script><script>');
    expect(html).not.toMatch(/<img|<svg onload|<u>/);
    for (const s of Object.values(HOSTILE)) expect(html).not.toContain(s);
    // ... and each shows as text.
    expect(html).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    expect(html).toContain('data-tuple="&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;"');
    expect(html).toContain('&quot;&#39;&gt;&lt;img src=x onerror=window.__pwned=3&gt;&lt;/script&gt;&lt;script&gt;window.__pwned=4&lt;/script&gt;');
    expect(html).toContain('data-lane="1/10&quot;&gt;&lt;u&gt;"');
  });
});

describe('a report of a million packets stays small', () => {
  it('200,000 findings, 5,000 colliding flows, 16 taps over an hour: under 5 MB, capped, and it says what it left out', () => {
    const r = bigReport();
    const t0 = performance.now();
    const html = renderHtmlReport(r);
    const ms = performance.now() - t0;
    const bytes = Buffer.byteLength(html);
    console.log(`big report page: ${(bytes / 1e6).toFixed(2)} MB, rendered in ${ms.toFixed(0)} ms`);
    expect(bytes).toBeLessThan(5_000_000);
    expect(drawnFlows(html)).toHaveLength(40);
    expect(drawnWrong(html)).toHaveLength(120);
    expect(elementsOfKind(html, 'lane')).toHaveLength(16);
    const marks = ['arp', 'error', 'warning', 'more-flows', 'more-wrong'].flatMap((k) => elementsOfKind(html, k));
    expect(marks.length).toBeLessThanOrEqual(1000);
    // Every finding and flow point is counted in some mark (nothing silently dropped from the picture).
    const counted = (k: string) => elementsOfKind(html, k).reduce((a, m) => a + Number(m['data-count']), 0);
    const onLanes = r.findings.filter((f) => f.check !== 'flow.collision' && f.check !== 'flow.wrong-clone' && f.frame > 0);
    expect(counted('arp') + counted('error') + counted('warning')).toBe(onLanes.length);
    expect(counted('more-flows')).toBe((r.collisions.length - 40) * 2);
    expect(counted('more-wrong')).toBe(r.collisions.length * 10 - 120);
    expect(html).toContain('4,960 more colliding flows drawn as small grey circles, not one by one; the table lists the first 100; <code>--report json</code> lists all.');
    expect(html).toContain('49,880 more wrong-clone replies marked on the receiving lane without an arrow.');
    expect(html).toContain('75,000 wrong-clone replies counted by the report but not listed in it');
    expect(html).toContain('<caption>4,900 more not shown; <code>--report json</code> lists all.</caption>');
    // Finding rows: about 400 in all, but at least 20 for each check with findings (DEFAULT_LIMITS), so a new check adds 20.
    const checksWithFindings = new Set(r.findings.map((f) => f.check)).size;
    expect(checksWithFindings).toBeGreaterThan(20);
    expect(html.match(/<tr data-row="" data-frame=/g)!.length).toBeLessThanOrEqual(20 * checksWithFindings);
  });
});

describe('every Wireshark filter the page offers compiles in tshark', () => {
  /** The filters of a page: the code cells and the data-filter attributes. */
  function filters(html: string): string[] {
    const un = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
    const cells = [...html.matchAll(/<code class="wf[^"]*">([^<]*)<\/code>/g)].map((m) => un(m[1]!));
    const attrs = [...html.matchAll(/data-filter="([^"]*)"/g)].map((m) => un(m[1]!));
    return [...new Set([...cells, ...attrs])];
  }

  it('frame, lane, flow (UDP, TCP, IPv6, ICMP echo) and checksum filters', (ctx) => {
    needs(ctx, 'tshark');
    const list = [...new Set([...filters(renderHtmlReport(smallReport())), ...filters(renderHtmlReport(hostReport()))])];
    expect(list).toContain('frame.number == 31 || frame.number == 32');
    expect(list).toContain('frame.interface_id == 2 && vlan.id == 10');
    expect(list).toContain('udp && ip.addr == 10.0.0.2 && ip.addr == 10.0.0.1 && udp.port == 33333 && udp.port == 53');
    expect(list).toContain('udp && ipv6.addr == fd00::2 && ipv6.addr == fd00::1 && udp.port == 5353 && udp.port == 53');
    expect(list).toContain('icmp && ip.addr == 10.0.0.2 && ip.addr == 10.0.0.1 && icmp.ident == 7');
    expect(list).toContain('udp.checksum.status == 0');
    // One run: tshark rejects the whole filter if any part does not compile.
    const all = list.map((f) => `(${f})`).join(' || ');
    execFileSync('tshark', ['-r', HOST, '-n', '-Y', all, '-c', '1'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
  });

  it("a flow's filter finds its packets in the capture, on every lane it collided on", (ctx) => {
    needs(ctx, 'tshark');
    const r = hostReport();
    const html = renderHtmlReport(r);
    for (const f of elementsOfKind(html, 'flow')) {
      const out = execFileSync('tshark', ['-r', HOST, '-n', '-Y', f['data-filter']!, '-T', 'fields', '-e', 'frame.number', '-e', 'frame.interface_id'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const rows = out.trim().split('\n').map((l) => l.split('\t'));
      const frames = new Set(rows.map((x) => x[0]));
      for (const fr of f['data-frames']!.split(' ')) expect(frames, `${f['data-tuple']} frame ${fr}`).toContain(fr);
      expect(new Set(rows.map((x) => x[1]))).toEqual(new Set(['0', '1', '2']));
    }
  });
});
