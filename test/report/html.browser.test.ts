/**
 * The HTML report as a user sees it, in Debian's Chromium loaded from
 * file://: what is drawn (read back from the rendered page) is what the
 * report lists, lanes and arrows sit where the data puts them, nothing is
 * requested but the file and nothing logs an error, hostile names stay text,
 * the page reads without script, a million-packet report renders in under
 * two seconds, and screenshots match their reviewed baselines
 * (test/report/baselines/, SSNAT_UPDATE_BASELINES=1 rewrites them) within a
 * tolerance that a missing arrow or a moved lane exceeds.
 */
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/report/html.js';
import { closeBrowser, compareWithBaseline, diffPixels, MAX_DIFF_PIXELS, withPage, type LoadedPage } from '../helpers/browser.js';
import { bigReport, expectedWrong, HOSTILE, hostileReport, hostReport, laneKey, legacyReport, multiReport, quietReport, smallReport, T0 } from '../helpers/reports.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';

afterAll(closeBrowser);

/** Nothing but the page itself was requested, and nothing was logged. */
function expectQuiet(p: LoadedPage): void {
  expect(p.errors).toEqual([]);
  expect(p.requests).toEqual([p.url]);
}

interface Box {
  top: number;
  bottom: number;
}

/** Each lane's band on screen, from the label column. */
async function laneBands(p: LoadedPage): Promise<Map<string, Box>> {
  const bands = await p.page.$$eval('svg.labels [data-kind="lane"]', (els) =>
    els.map((e) => {
      const r = e.querySelector('rect')!.getBoundingClientRect();
      return [e.getAttribute('data-lane')!, { top: r.top, bottom: r.bottom }] as const;
    }),
  );
  return new Map(bands);
}

/** Every wrong-reply arrow as drawn: its lanes and frames, and the screen position of its two ends. */
async function arrows(p: LoadedPage) {
  return p.page.$$eval('[data-kind="wrong-reply"]', (els) =>
    els.map((e) => {
      const line = e.querySelector('line')!;
      const svg = line.ownerSVGElement!.getBoundingClientRect();
      return {
        flow: e.getAttribute('data-flow')!,
        from: e.getAttribute('data-from-lane')!,
        to: e.getAttribute('data-to-lane')!,
        request: e.getAttribute('data-request-frame')!,
        reply: e.getAttribute('data-reply-frame')!,
        x1: svg.left + line.x1.baseVal.value,
        y1: svg.top + line.y1.baseVal.value,
        x2: svg.left + line.x2.baseVal.value,
        y2: svg.top + line.y2.baseVal.value,
        badge: e.querySelector('use') !== null,
      };
    }),
  );
}

/** Every colliding flow's markers as drawn, with their screen centre. */
async function flowMarkers(p: LoadedPage) {
  return p.page.$$eval('[data-kind="flow"]', (els) =>
    els.map((g) => ({
      flow: g.getAttribute('data-flow')!,
      tuple: g.getAttribute('data-tuple')!,
      markers: [...g.querySelectorAll('[data-kind="collision"]')].map((u) => {
        const r = u.getBoundingClientRect();
        return { lane: u.getAttribute('data-lane')!, frame: u.getAttribute('data-frame')!, x: (r.left + r.right) / 2, y: (r.top + r.bottom) / 2 };
      }),
    })),
  );
}

/** The plot's drawing box on screen: x of fraction f of the axis is left + width * (0.015 + 0.97 f). */
async function plotBox(p: LoadedPage): Promise<{ left: number; width: number }> {
  return p.page.$eval('svg.plot', (s) => {
    const r = s.getBoundingClientRect();
    return { left: r.left, width: r.width };
  });
}

const within = (y: number, b: Box | undefined): boolean => b !== undefined && y > b.top && y < b.bottom;

describe('the HTML report in Chromium', () => {
  it('draws every lane, flow and wrong-clone reply of the report where its times and lanes put them; requests nothing, logs nothing', async (ctx) => {
    needs(ctx, 'chromium');
    const r = smallReport();
    await withPage(renderHtmlReport(r), 'small', async (p) => {
      expectQuiet(p);
      const bands = await laneBands(p);
      expect([...bands.keys()]).toEqual(r.timeline!.lanes.map((l) => laneKey(l.interface, l.vlan)));
      expect(await p.page.$$eval('svg.labels [data-kind="lane"] .lane-name', (els) => els.map((e) => e.textContent))).toEqual(['tap0', 'tap1', 'tap2']);
      // Lanes are stacked in order, the same height, without overlap.
      const b = [...bands.values()];
      for (let i = 1; i < b.length; i++) expect(b[i]!.top).toBeCloseTo(b[i - 1]!.bottom, 0);

      // Each flow: a marker on each of its lanes, inside the lane's band, at the x its time gives on the timeline.
      const box = await plotBox(p);
      const span = r.timeline!.bucketSeconds * r.timeline!.lanes[0]!.packets.length;
      const xOf = (t: number) => box.left + box.width * (0.015 + (0.97 * (t - r.timeline!.start)) / span);
      const flows = await flowMarkers(p);
      expect(flows.map((f) => f.tuple)).toEqual(r.collisions.map((c) => c.flow));
      flows.forEach((f, i) => {
        const c = r.collisions[i]!;
        expect(f.markers.map((m) => `${m.lane}@${m.frame}`).sort()).toEqual(c.interfaces.map((iface, j) => `${laneKey(iface, c.vlans?.[j] || undefined)}@${c.frames[j]}`).sort());
        for (const m of f.markers) {
          expect(within(m.y, bands.get(m.lane)), `flow ${f.flow} marker on lane ${m.lane}`).toBe(true);
          const j = c.frames.indexOf(Number(m.frame));
          expect(Math.abs(m.x - xOf(c.times![j]!)), `flow ${f.flow} frame ${m.frame}`).toBeLessThan(1.5);
        }
      });

      // Each wrong-clone reply: an arrow from the asking lane at the request's time to the receiving lane at the reply's.
      const drawn = await arrows(p);
      expect(drawn.map(({ flow, from, to, request, reply }) => ({ flow, from, to, request, reply }))).toEqual(expectedWrong(r));
      const wrong = r.collisions.flatMap((c) => c.wrongReplies ?? []);
      drawn.forEach((a, i) => {
        expect(within(a.y1, bands.get(a.from)), `arrow ${i} starts in lane ${a.from}`).toBe(true);
        expect(within(a.y2, bands.get(a.to)), `arrow ${i} ends in lane ${a.to}`).toBe(true);
        expect(Math.abs(a.x1 - xOf(wrong[i]!.request.time))).toBeLessThan(1.5);
        expect(Math.abs(a.x2 - xOf(wrong[i]!.reply.time))).toBeLessThan(1.5);
        expect(a.badge).toBe(true);
      });
      // Marked as wrong with a label, not by colour alone.
      expect(await p.page.locator('.wrong-label').allTextContents()).toEqual(['wrong clone']);
      // The x axis: time since the timeline's start.
      expect(await p.page.locator('figcaption').textContent()).toContain(`x: time since 2024-05-01 12:00:00.000000 UTC`);
      expect(T0).toBe(r.timeline!.start);

      // The verdict in words, colour and icon; the tables with the same facts.
      expect((await p.page.locator('.verdict').innerText()).replace(/\s+/g, ' ')).toBe('✖ FAILED 3 errors exit code 1');
      expect(await p.page.locator('#r-wrong + p + .tw tbody tr').count()).toBe(4);
      expect(await p.page.locator('#r-flows + .tw tbody tr').count()).toBe(4);

      const shot = await p.page.screenshot({ fullPage: true });
      const { diff } = compareWithBaseline(shot, 'small');
      expect(diff, 'differing pixels against test/report/baselines/small.png (see test-output/html/small.diff.png)').toBeLessThanOrEqual(MAX_DIFF_PIXELS);
    });
  });

  it("today's report of the real collision capture: three taps, and the fourteen replies and ICMP errors that tap0 got for tap1 and tap2, drawn from the asking lane", async (ctx) => {
    needs(ctx, 'chromium');
    const r = hostReport();
    await withPage(renderHtmlReport(r), 'host', async (p) => {
      expectQuiet(p);
      const bands = await laneBands(p);
      expect([...bands.keys()]).toEqual(r.input.interfaces.map((i) => String(i.id)));
      const flows = await flowMarkers(p);
      expect(flows.map((f) => f.tuple)).toEqual(r.collisions.map((c) => c.flow));
      for (const f of flows) expect(f.markers.map((m) => m.lane)).toEqual(['0', '1', '2']);
      const drawn = await arrows(p);
      expect(drawn).toHaveLength(14);
      // The arrows are the wrong-clone replies the report lists, each from its request's lane to its reply's.
      const listed = r.collisions.flatMap((c) => c.wrongReplies!.map((w) => ({ request: w.request, reply: w.reply })));
      expect(drawn.map((a) => [Number(a.request), Number(a.reply), a.from, a.to])).toEqual(listed.map((w) => [w.request.frame, w.reply.frame, String(w.request.interface), String(w.reply.interface)]));
      for (const a of drawn) {
        expect(a.to).toBe('0');
        expect(within(a.y1, bands.get(a.from))).toBe(true);
        expect(within(a.y2, bands.get('0'))).toBe(true);
        // Time on the x axis: the reply comes after its request (a few milliseconds: at least not before).
        expect(a.x2).toBeGreaterThanOrEqual(a.x1);
      }
      const shot = await p.page.locator('figure.pic').screenshot();
      const { diff } = compareWithBaseline(shot, 'host-picture');
      expect(diff).toBeLessThanOrEqual(MAX_DIFF_PIXELS);
    });
  });

  it('the baseline comparison fails on a missing arrow and on a moved lane', async (ctx) => {
    needs(ctx, 'chromium');
    await withPage(renderHtmlReport(hostReport()), 'host-broken', async (p) => {
      const fig = p.page.locator('figure.pic');
      const good = PNG.sync.read(await fig.screenshot());
      expect(diffPixels(good, PNG.sync.read(await fig.screenshot()))).toBe(0);
      // Break the drawing as a regression would, through the DOM (the page's CSP forbids injected style and script, not this).
      await p.page.$eval('[data-kind="wrong-reply"][data-reply-frame="66"]', (e) => e.remove());
      const noArrow = PNG.sync.read(await fig.screenshot());
      await p.page.$eval('svg.labels [data-kind="lane"][data-lane="1"]', (e) => e.setAttribute('transform', 'translate(0 4)'));
      const moved = PNG.sync.read(await fig.screenshot());
      const missing = diffPixels(good, noArrow);
      const shifted = diffPixels(noArrow, moved);
      console.log(`differing pixels: a missing arrow ${missing}, a lane label moved 4 px ${shifted}; allowed ${MAX_DIFF_PIXELS}`);
      expect(missing).toBeGreaterThan(MAX_DIFF_PIXELS);
      expect(shifted).toBeGreaterThan(MAX_DIFF_PIXELS);
    });
  });

  it('names and messages from the capture stay text: no script runs, nothing is fetched, the text shows literally', async (ctx) => {
    needs(ctx, 'chromium');
    await withPage(renderHtmlReport(hostileReport()), 'hostile', async (p) => {
      expectQuiet(p);
      expect(await p.page.evaluate('window.__pwned')).toBeUndefined();
      // Hover everything the script shows in its tooltip, and use the filter: the script itself must not run them either.
      for (const g of await p.page.locator('[data-item]').all()) await g.hover({ force: true });
      await p.page.locator('input[type=search]').fill('img');
      expect(await p.page.evaluate('window.__pwned')).toBeUndefined();
      expect(await p.page.locator('img, u, svg[onload]').count()).toBe(0);
      const text = await p.page.locator('main').innerText();
      expect(text).toContain(HOSTILE.name);
      expect(text).toContain(HOSTILE.flow);
      expect(text).toContain(HOSTILE.message);
      expect(text).toContain(HOSTILE.path);
      expect(text).toContain(HOSTILE.rule);
      expect(await p.page.title()).toContain(HOSTILE.path);
      expect(await p.page.$eval('[data-kind="flow"][data-flow="1"]', (e) => e.getAttribute('data-tuple'))).toBe(HOSTILE.flow);
      expectQuiet(p);
    });
  });

  it('reads without script: the picture and the tables are there, the controls that need script are not', async (ctx) => {
    needs(ctx, 'chromium');
    const r = smallReport();
    await withPage(renderHtmlReport(r), 'small-noscript', async (p) => {
      expect(p.errors).toEqual([]);
      expect(await p.page.locator('.controls').isVisible()).toBe(false);
      expect(await p.page.locator('[data-kind="flow"]').count()).toBe(r.collisions.length);
      expect(await p.page.locator('[data-kind="wrong-reply"] line').count()).toBe(4);
      expect(await p.page.locator('[data-kind="wrong-reply"] line').first().isVisible()).toBe(true);
      // Clicking a marker leads to its row without script.
      await p.page.locator('[data-kind="wrong-reply"] a').first().click({ force: true });
      expect(p.page.url()).toMatch(/#r-wrong-1$/);
    }, { javaScriptEnabled: false });
  });

  it('the script adds hover details, filtering, layer switches and zoom, without an error', async (ctx) => {
    needs(ctx, 'chromium');
    await withPage(renderHtmlReport(smallReport()), 'small-interactive', async (p) => {
      const page = p.page;
      expect(await page.locator('.controls').isVisible()).toBe(true);
      // Hover: the tooltip has the facts and the filter to paste.
      await page.locator('[data-kind="wrong-reply"][data-reply-frame="32"] use').hover({ force: true });
      const tip = page.locator('.tip');
      expect(await tip.isVisible()).toBe(true);
      expect(await tip.innerText()).toContain('WRONG CLONE: the reply frame 32 on tap0 (interface 0)');
      expect(await tip.innerText()).toContain('Wireshark: frame.number == 31 || frame.number == 32');
      await page.mouse.move(2, 2);
      expect(await tip.isVisible()).toBe(false);
      // Filter: rows that do not mention it hide, picture items that do not are dimmed.
      const rows = page.locator('tr[data-row]');
      const all = await rows.count();
      await page.locator('input[type=search]').fill('33334');
      const shown = await page.locator('tr[data-row]:not([hidden])').count();
      expect(shown).toBeGreaterThan(0);
      expect(shown).toBeLessThan(all);
      expect(await page.locator('.controls output').textContent()).toBe(`${shown} of ${all} rows match`);
      expect(await page.locator('[data-kind="flow"][data-flow="2"]').getAttribute('class')).toBeNull();
      expect(await page.locator('[data-kind="flow"][data-flow="1"]').getAttribute('class')).toBe('dim');
      await page.locator('input[type=search]').fill('');
      expect(await page.locator('tr[data-row][hidden]').count()).toBe(0);
      // The legend highlights a flow.
      await page.locator('.legend.flows a[href="#r-flow-3"]').click();
      expect(await page.locator('input[type=search]').inputValue()).toBe('[fd00::2]:5353 > [fd00::1]:53');
      expect(await page.locator('[data-kind="flow"].dim').count()).toBe(3);
      await page.locator('input[type=search]').fill('');
      // Layers.
      await page.locator('input[data-layer="wrong"]').uncheck();
      expect(await page.locator('[data-kind="wrong-reply"] line').first().isVisible()).toBe(false);
      await page.locator('input[data-layer="wrong"]').check();
      // Zoom: the plot widens, items move apart, finer ticks show.
      const before = await plotBox(p);
      const x0 = await page.locator('[data-kind="collision"][data-frame="3"]').boundingBox();
      expect(await page.locator('.tick.tk2').first().isVisible()).toBe(false);
      await page.locator('button[data-zoom-step="in"]').click();
      const after = await plotBox(p);
      expect(after.width).toBeCloseTo(before.width * 2, 0);
      expect(await page.locator('.tick.tk2').first().isVisible()).toBe(true);
      expect(await page.locator('.zl').textContent()).toBe('2×');
      const x1 = await page.locator('[data-kind="collision"][data-frame="3"]').boundingBox();
      expect(x1!.width).toBeCloseTo(x0!.width, 0); // markers keep their size
      await page.locator('button[data-zoom-step="fit"]').click();
      expect((await plotBox(p)).width).toBeCloseTo(before.width, 0);
      expect(p.errors).toEqual([]);
    });
  });

  it('prints the tables: every row shows, the controls do not', async (ctx) => {
    needs(ctx, 'chromium');
    await withPage(renderHtmlReport(smallReport()), 'small-print', async (p) => {
      await p.page.locator('input[type=search]').fill('no such thing');
      expect(await p.page.locator('tr[data-row]:visible').count()).toBe(0);
      await p.page.emulateMedia({ media: 'print' });
      expect(await p.page.locator('.controls').isVisible()).toBe(false);
      expect(await p.page.locator('tr[data-row]:visible').count()).toBe(await p.page.locator('tr[data-row]').count());
      expect(await p.page.locator('figure.pic').isVisible()).toBe(true);
    });
  });

  it('a run over several captures, a report with nothing to draw, and one without the new fields open cleanly', async (ctx) => {
    needs(ctx, 'chromium');
    const cases: Array<[string, string]> = [
      ['multi', renderHtmlReport(multiReport())],
      ['quiet', renderHtmlReport(quietReport())],
      ['legacy', renderHtmlReport(legacyReport())],
    ];
    for (const [name, html] of cases) {
      await withPage(html, name, async (p) => {
        expectQuiet(p);
        if (name === 'multi') {
          expect(await p.page.locator('#overview + .tw tbody tr').count()).toBe(2);
          expect(await p.page.locator('section.file').count()).toBe(2);
          // Each file's controls work on its own section.
          await p.page.locator('#f1 input[type=search]').fill('33334');
          expect(await p.page.locator('#f2 tr[data-row][hidden]').count()).toBe(0);
          expect(await p.page.locator('#f1 tr[data-row][hidden]').count()).toBeGreaterThan(0);
        }
        if (name === 'quiet') {
          expect(await p.page.locator('.verdict').innerText()).toContain('OK');
          expect(await p.page.locator('svg.labels [data-kind="lane"]').count()).toBe(1);
        }
        if (name === 'legacy') expect(await p.page.locator('[data-kind="wrong-reply"]').count()).toBe(5);
      });
    }
  });

  it('from the command line: the 3-clone capture after a per-tap rewrite, and a run over several captures', async (ctx) => {
    needs(ctx, 'chromium');
    const dir = tempDir();
    const host = join(ROOT, 'fixtures/golden/collision/host.pcapng');
    const rules = [0, 1, 2].flatMap((i) => ['-r', `10.0.0.0/24=192.168.${10 + i}.0/24@tap${i}`, '-r', `fd00::/64=fd00:${10 + i}::/64@tap${i}`]);
    const page = join(dir, 'translated.html');
    const r = cli([host, join(dir, 'taps.pcapng'), ...rules, '--verify', '--report', 'html', '--report-file', page, '-q']);
    expect(r.code).toBe(0);
    await withPage(readFileSync(page, 'utf8'), 'translated', async (p) => {
      expectQuiet(p);
      expect([...(await laneBands(p)).keys()]).toEqual(['0', '1', '2']);
      // The clones no longer share an address: nothing collides, no reply reaches the wrong clone.
      expect(await p.page.locator('[data-kind="flow"]').count()).toBe(0);
      expect(await p.page.locator('[data-kind="wrong-reply"]').count()).toBe(0);
      expect(await p.page.locator('.verdict').innerText()).toContain('OK');
      const { diff } = compareWithBaseline(await p.page.locator('figure.pic').screenshot(), 'translated-picture');
      expect(diff).toBeLessThanOrEqual(MAX_DIFF_PIXELS);
    });
    const many = join(dir, 'many.html');
    // The collision capture fails the run: exit 1, whatever the other file says.
    expect(cli(['verify', host, join(ROOT, 'fixtures/golden/ssnat/guest0.pcapng'), '--report', 'html', '--report-file', many]).code).toBe(1);
    await withPage(readFileSync(many, 'utf8'), 'many', async (p) => {
      expectQuiet(p);
      expect(await p.page.locator('section.file').count()).toBe(2);
      expect(await p.page.locator('section.file').first().locator('[data-kind="wrong-reply"]').count()).toBe(14);
    });
  });

  it('a report of a million packets (200,000 findings, 5,000 flows): under 5 MB, rendered in under 2 s', async (ctx) => {
    needs(ctx, 'chromium');
    const html = renderHtmlReport(bigReport());
    const bytes = Buffer.byteLength(html);
    expect(bytes).toBeLessThan(5_000_000);
    // Up to five loads, until one renders in time: the machine is shared, and the claim is that the page renders in
    // under 2 s, not that the test always gets the CPU.
    const times: number[] = [];
    for (let i = 0; i < 5 && !times.some((t) => t < 2000); i++) {
      await withPage(html, 'big', async (p) => {
        expectQuiet(p);
        times.push(p.renderMs);
        if (i === 0) {
          expect(await p.page.locator('[data-kind="flow"]').count()).toBe(40);
          expect(await p.page.locator('[data-kind="wrong-reply"]').count()).toBe(120);
          expect(await p.page.locator('svg.labels [data-kind="lane"]').count()).toBe(16);
          expect(await p.page.locator('.note.cap').first().innerText()).toContain('4,960 more colliding flows');
        }
      });
    }
    console.log(`big report page: ${(bytes / 1e6).toFixed(2)} MB, load to rendered ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    expect(Math.min(...times)).toBeLessThan(2000);
  }, 120_000);
});
