/**
 * The HTML report's stylesheet and script, inlined into every page (no
 * request leaves the page: its Content-Security-Policy allows these two by
 * hash and nothing else). The page reads without the script; the script only
 * adds a tooltip with each item's facts, a filter over the tables and the
 * picture, layer switches and zoom. It is plain ES2017 and touches the page
 * through textContent and classes only: nothing from the report is parsed as
 * HTML.
 */
import { ZOOM_LEVELS } from './html-svg.js';

/** Axis ticks of zoom level L show at zoom L and above (the script sets data-zoom on the figure). */
const ZOOM_CSS =
  ZOOM_LEVELS.slice(1)
    .map((l) => `.tk${l}`)
    .join(',') +
  '{display:none}' +
  ZOOM_LEVELS.slice(1)
    .map((l) => ZOOM_LEVELS.filter((z) => z >= l).map((z) => `[data-zoom="${z}"] .tk${l}`).join(','))
    .join(',') +
  '{display:inline}';

export const CSS = `
:root{color-scheme:light;--fg:#1d2430;--muted:#5b6675;--line:#d9dee6;--panel:#f6f8fb;--ok:#1b7f3b;--ok-bg:#e8f5ec;--bad:#b3261e;--bad-bg:#fdeceb;--warn:#8a5a00;--unk:#4a5563;--unk-bg:#eef0f3;--unr:#6a1b9a;--unr-bg:#f5eaf9;--wrong:#c62828}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif;color:var(--fg);background:#fff}
main{max-width:1320px;margin:0 auto;padding:18px 24px 48px}
h1{font-size:20px;margin:0 0 2px;font-weight:700}
h2{font-size:17px;margin:26px 0 8px;padding-bottom:3px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:20px 0 6px}
h4{font-size:14px;margin:16px 0 4px}
a{color:#0b57a4}
code,.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace;font-size:12.5px}
h1 code,h2 code,h3 code,h4 code{font-size:.92em}
td.t{white-space:nowrap}
code.wf.nw{white-space:nowrap}
code.wf{user-select:all;background:#f1f4f8;border:1px solid #e1e6ee;border-radius:3px;padding:0 4px;word-break:break-word}
.meta{color:var(--muted);margin:0 0 10px}
.meta code{color:var(--fg)}
.verdict{display:flex;flex-wrap:wrap;align-items:center;gap:6px 14px;padding:10px 16px;border-radius:8px;border:2px solid;margin:10px 0 14px}
.verdict .icon{font-size:20px;line-height:1;font-weight:800;width:34px;height:34px;border-radius:50%;display:inline-flex;align-items:center;justify-content:center;color:#fff;flex:none}
.verdict .word{font-size:22px;font-weight:800;letter-spacing:.05em}
.verdict .why{font-size:15px}
.verdict .exit{margin-left:auto;color:var(--muted);font-size:13px}
.v-ok{border-color:var(--ok);background:var(--ok-bg)}.v-ok .icon{background:var(--ok)}.v-ok .word{color:var(--ok)}
.v-failed{border-color:var(--bad);background:var(--bad-bg)}.v-failed .icon{background:var(--bad)}.v-failed .word{color:var(--bad)}
.v-unchecked{border-color:var(--unk);background:var(--unk-bg)}.v-unchecked .icon{background:var(--unk)}.v-unchecked .word{color:var(--unk)}
.v-unreadable{border-color:var(--unr);background:var(--unr-bg)}.v-unreadable .icon{background:var(--unr)}.v-unreadable .word{color:var(--unr)}
.verdict.small{padding:4px 10px;margin:6px 0 10px;border-width:1px}.verdict.small .icon{width:24px;height:24px;font-size:14px}.verdict.small .word{font-size:16px}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 6px;padding:0;list-style:none}
.cards li{border:1px solid var(--line);border-radius:6px;padding:4px 12px;min-width:92px;background:var(--panel)}
.cards b{display:block;font-size:18px;font-variant-numeric:tabular-nums}
.cards span{color:var(--muted);font-size:12px}
.cards .err b{color:var(--bad)}.cards .warn b{color:var(--warn)}.cards .wrong b{color:var(--wrong)}
.error-box{border-left:4px solid var(--unr);background:var(--unr-bg);padding:8px 12px;margin:8px 0}
figure.pic{margin:0;border:1px solid var(--line);border-radius:6px;overflow:hidden;background:#fff}
figure.pic figcaption{padding:6px 10px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);background:var(--panel)}
.pic-body{display:flex}
.labels{flex:none;border-right:1px solid var(--line);display:block}
.scroll{flex:1;min-width:0;overflow-x:auto;overflow-y:hidden}
.plot{display:block;width:100%;min-width:360px}
.lane-a{fill:#fff}.lane-b{fill:#f3f5f8}
.lane-name{font-weight:700;font-size:13px;fill:var(--fg)}
.lane-sub{font-size:11px;fill:var(--muted)}
.corner{font-size:10.5px;fill:var(--muted);font-style:italic}
.density{fill:#dde3eb}
.axis line{stroke:#dfe4eb;stroke-width:1}
.axis text{font-size:10.5px;fill:var(--muted);text-anchor:middle}
${ZOOM_CSS}
.link{stroke-width:1.8;stroke-dasharray:5 3;opacity:.9}
.mk{stroke:#fff;stroke-width:1.2}
.arrow{stroke:var(--wrong);stroke-width:2.2}
.wrong-label{font-size:11px;font-weight:700;fill:var(--wrong);paint-order:stroke;stroke:#fff;stroke-width:3px}
.count{font-size:10px;font-weight:700;fill:#4a148c}
.dim{opacity:.12}
.hide-packets [data-layer=packets],.hide-flows [data-layer=flows],.hide-wrong [data-layer=wrong],.hide-arp [data-layer=arp],.hide-findings [data-layer=findings]{display:none}
.legend{display:flex;flex-wrap:wrap;gap:4px 18px;margin:8px 0 4px;padding:0;list-style:none;font-size:12.5px}
.legend li{display:flex;align-items:center;gap:4px}
.legend.flows li a{font-weight:700;text-decoration:none}
.sw{overflow:visible;flex:none}
.note{color:var(--muted);font-size:12.5px;margin:6px 0}
.note.cap{color:var(--warn)}
.tw.long{content-visibility:auto;contain-intrinsic-size:auto 1200px}
td.nw{white-space:nowrap}
td .sw{vertical-align:middle}
table{border-collapse:collapse;width:100%;margin:4px 0 8px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:var(--panel);font-weight:600;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.msg{word-break:break-word}
caption{caption-side:bottom;text-align:left;color:var(--warn);font-size:12px;padding-top:4px}
.sev-error{color:var(--bad);font-weight:700;white-space:nowrap}.sev-warning{color:var(--warn);font-weight:700;white-space:nowrap}
.wrong-cell{color:var(--wrong);font-weight:700}
tr:target{background:#fff4c7}
.controls{display:flex;flex-wrap:wrap;gap:6px 16px;align-items:center;margin:4px 0 8px;font-size:13px}
.controls[hidden]{display:none}
.controls input[type=search]{width:300px;max-width:100%;padding:4px 8px;border:1px solid #b8c0cc;border-radius:4px;font:inherit}
.controls button{font:inherit;min-width:30px;padding:2px 8px;border:1px solid #b8c0cc;border-radius:4px;background:#fff;cursor:pointer}
.controls label{white-space:nowrap}
.controls output{color:var(--muted)}
.tip{position:fixed;z-index:10;max-width:560px;padding:7px 10px;background:#1d2430;color:#fff;border-radius:6px;font-size:12px;line-height:1.5;white-space:pre-wrap;pointer-events:none;box-shadow:0 4px 14px rgba(0,0,0,.25)}
.tip[hidden]{display:none}
section.file{margin-top:30px;padding-top:4px;border-top:3px solid var(--line)}
section.file>h2{border:0;font-size:18px}
@media print{
.controls,.tip{display:none!important}
main{max-width:none;padding:0}
.scroll{overflow:visible}.plot{width:100%!important}
tr[hidden]{display:table-row!important}
.tw.long{content-visibility:visible}
.dim{opacity:1}
tr,figure.pic{break-inside:avoid}
a{color:inherit;text-decoration:none}
body{font-size:11px}
}
`.trim();

export const SCRIPT = `
(function () {
  'use strict';
  var doc = document;
  var tip = doc.createElement('div');
  tip.className = 'tip';
  tip.hidden = true;
  tip.setAttribute('role', 'tooltip');
  doc.body.appendChild(tip);
  function itemOf(t) { return t && t.closest ? t.closest('[data-item]') : null; }
  function tipText(g) {
    var t = g.querySelector(':scope > title');
    if (t) { g.setAttribute('data-tip', t.textContent); t.remove(); }
    return g.getAttribute('data-tip') || '';
  }
  function place(e) {
    var x = e.clientX + 14, y = e.clientY + 14;
    if (x + tip.offsetWidth > innerWidth - 8) x = Math.max(8, e.clientX - tip.offsetWidth - 14);
    if (y + tip.offsetHeight > innerHeight - 8) y = Math.max(8, e.clientY - tip.offsetHeight - 14);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  doc.addEventListener('mouseover', function (e) {
    var g = itemOf(e.target);
    if (!g) return;
    tip.textContent = tipText(g);
    tip.hidden = false;
    place(e);
  });
  doc.addEventListener('mousemove', function (e) { if (!tip.hidden) place(e); });
  doc.addEventListener('mouseout', function (e) { if (itemOf(e.target) && !itemOf(e.relatedTarget)) tip.hidden = true; });
  Array.prototype.forEach.call(doc.querySelectorAll('section[data-report]'), function (sec) {
    var controls = sec.querySelector('.controls');
    var fig = sec.querySelector('figure.pic');
    if (!controls || !fig) return;
    controls.hidden = false;
    var plot = fig.querySelector('svg.plot'), scroll = fig.querySelector('.scroll');
    var input = controls.querySelector('input[type=search]'), out = controls.querySelector('output');
    var level = controls.querySelector('.zl');
    var rows = Array.prototype.slice.call(sec.querySelectorAll('tr[data-row]'));
    var items = Array.prototype.slice.call(fig.querySelectorAll('[data-item]'));
    var rowText = null, itemText = null;
    function filter() {
      var q = input.value.trim().toLowerCase(), shown = 0;
      if (!rowText) {
        rowText = rows.map(function (r) { return r.textContent.toLowerCase(); });
        itemText = items.map(function (g) { return tipText(g).toLowerCase(); });
      }
      rows.forEach(function (r, i) { var hit = !q || rowText[i].indexOf(q) >= 0; r.hidden = !hit; if (hit) shown++; });
      items.forEach(function (g, i) { g.classList.toggle('dim', !!q && itemText[i].indexOf(q) < 0); });
      out.textContent = q ? shown + ' of ' + rows.length + ' rows match' : '';
    }
    input.addEventListener('input', filter);
    Array.prototype.forEach.call(controls.querySelectorAll('input[data-layer]'), function (c) {
      c.addEventListener('change', function () { fig.classList.toggle('hide-' + c.getAttribute('data-layer'), !c.checked); });
    });
    var zoom = 1;
    function setZoom(z) {
      z = Math.max(1, Math.min(32, z));
      var mid = (scroll.scrollLeft + scroll.clientWidth / 2) / scroll.scrollWidth;
      zoom = z;
      plot.style.width = z * 100 + '%';
      fig.setAttribute('data-zoom', String(z));
      scroll.scrollLeft = mid * scroll.scrollWidth - scroll.clientWidth / 2;
      level.textContent = z + '\\u00d7';
    }
    Array.prototype.forEach.call(controls.querySelectorAll('button[data-zoom-step]'), function (b) {
      b.addEventListener('click', function () {
        var s = b.getAttribute('data-zoom-step');
        setZoom(s === 'in' ? zoom * 2 : s === 'out' ? zoom / 2 : 1);
      });
    });
    Array.prototype.forEach.call(sec.querySelectorAll('a[data-q]'), function (a) {
      a.addEventListener('click', function (e) {
        e.preventDefault();
        input.value = input.value === a.getAttribute('data-q') ? '' : a.getAttribute('data-q');
        filter();
      });
    });
  });
})();
`.trim();
