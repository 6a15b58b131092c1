/**
 * The HTML report of two clones behind VNIs 5001 and 5002 of one tap, in
 * Debian's Chromium: two lanes, labelled with their tunnels, the colliding
 * flow's markers on both, and the wrong-clone arrow from the asking VNI's
 * band to the receiving one's (test/verify/tunnel-lanes.test.ts builds the
 * capture and checks the report's facts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { renderHtmlReport } from '../../src/report/html.js';
import type { Report } from '../../src/report/model.js';
import { closeBrowser, withPage } from '../helpers/browser.js';
import { cli } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { capture, twoClones } from '../helpers/tunnel-clones.js';

afterAll(closeBrowser);

describe('tunnel lanes in Chromium', () => {
  it('draws one lane per VNI, labelled "tap1 · VXLAN VNI 5001", the flow on both, and the arrow from VNI 5002 to VNI 5001', async (ctx) => {
    needs(ctx, 'chromium');
    const file = capture('wrong.pcapng', twoClones(true));
    const report = JSON.parse(cli(['verify', file, '--report', 'json']).stdout.toString()) as Report;
    await withPage(renderHtmlReport(report), 'tunnel-lanes', async (p) => {
      expect(p.errors).toEqual([]);
      const lanes = await p.page.$$eval('svg.labels [data-kind="lane"]', (els) =>
        els.map((e) => {
          const r = e.querySelector('rect')!.getBoundingClientRect();
          return { key: e.getAttribute('data-lane')!, name: e.querySelector('.lane-name')!.textContent, sub: e.querySelector('.lane-sub')!.textContent, top: r.top, bottom: r.bottom };
        }),
      );
      expect(lanes.map((l) => [l.key, l.name, l.sub])).toEqual([
        ['0~VXLAN_VNI_5001', 'tap1 · VXLAN VNI 5001', '#0 · untagged · 3 packets'],
        ['0~VXLAN_VNI_5002', 'tap1 · VXLAN VNI 5002', '#0 · untagged · 1 packet'],
      ]);
      // The labels fit their column: the VNI is not cut.
      const rights = await p.page.$$eval('svg.labels .lane-name', (els) => els.map((e) => e.getBoundingClientRect().right - e.closest('svg')!.getBoundingClientRect().right));
      for (const r of rights) expect(r).toBeLessThan(0);
      const band = new Map(lanes.map((l) => [l.key, l]));
      const markers = await p.page.$$eval('[data-kind="collision"]', (els) =>
        els.map((u) => {
          const r = u.getBoundingClientRect();
          return { lane: u.getAttribute('data-lane')!, frame: u.getAttribute('data-frame')!, y: (r.top + r.bottom) / 2 };
        }),
      );
      expect(markers.map((m) => [m.lane, m.frame])).toEqual([
        ['0~VXLAN_VNI_5001', '1'],
        ['0~VXLAN_VNI_5002', '3'],
      ]);
      for (const m of markers) {
        expect(m.y).toBeGreaterThan(band.get(m.lane)!.top);
        expect(m.y).toBeLessThan(band.get(m.lane)!.bottom);
      }
      const arrow = await p.page.$eval('[data-kind="wrong-reply"]', (e) => {
        const line = e.querySelector('line')!;
        const svg = line.ownerSVGElement!.getBoundingClientRect();
        return { from: e.getAttribute('data-from-lane'), to: e.getAttribute('data-to-lane'), y1: svg.top + line.y1.baseVal.value, y2: svg.top + line.y2.baseVal.value };
      });
      expect([arrow.from, arrow.to]).toEqual(['0~VXLAN_VNI_5002', '0~VXLAN_VNI_5001']);
      const from = band.get('0~VXLAN_VNI_5002')!;
      const to = band.get('0~VXLAN_VNI_5001')!;
      expect(arrow.y1).toBeGreaterThan(from.top);
      expect(arrow.y1).toBeLessThan(from.bottom);
      expect(arrow.y2).toBeGreaterThan(to.top);
      expect(arrow.y2).toBeLessThan(to.bottom);
      await p.page.screenshot({ path: p.file.replace(/\.html$/, '.png') });
    });
  });
});
