/**
 * Text helpers of the HTML report. Everything from a capture (interface
 * names, flow text, messages, paths) is untrusted: it goes into the page
 * through `esc`, in element text and in quoted attribute values alike.
 * Numbers are formatted without the locale, so the page is the same
 * wherever it is made.
 */

import { BIDI_CONTROLS, escapeControl } from '../errors.js';

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/**
 * Control characters but tab and line ends (a browser shows nothing for
 * them, a terminal showing the page's source would act on them), and the
 * bidirectional controls, which would reorder the page's text (errors.ts).
 */
const CONTROLS = new RegExp(`[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f${BIDI_CONTROLS}]`, 'g');

/**
 * Escapes text for HTML/SVG element content and for attribute values in
 * double or single quotes; a control character is shown as JSON spells it
 * (\u001b), as the text report and stderr show it.
 */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ESCAPES[c]!).replace(CONTROLS, escapeControl);
}

/** At most `max` characters, with an ellipsis when cut. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** A packet timestamp (seconds since the epoch) in UTC to the microsecond: "2024-05-01 12:00:00.250000 UTC". */
export function utc(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const us = Math.round(seconds * 1e6);
  const whole = Math.floor(us / 1e6);
  const d = new Date(whole * 1000);
  if (Number.isNaN(d.getTime())) return String(seconds);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${String(us - whole * 1e6).padStart(6, '0')} UTC`;
}

/**
 * A time on the axis, t seconds from its start, in the unit the whole axis
 * uses (chosen by its span, so that zooming in does not switch units) and
 * with as many decimals as the tick step needs: "250 ms", "1.5 s", "2:30",
 * "1:02:03", "2:30.5".
 */
export function duration(t: number, step: number, span: number): string {
  if (span < 2e-3) return `${fixed(t * 1e6, step * 1e6)} µs`;
  if (span < 2) return `${fixed(t * 1e3, step * 1e3)} ms`;
  if (span < 120) return `${fixed(t, step)} s`;
  const whole = Math.floor(t + 1e-9);
  const frac = step < 1 ? fixed(t - whole, step).slice(1) : '';
  const hh = Math.floor(whole / 3600);
  const mm = Math.floor((whole % 3600) / 60);
  const ss = String(whole % 60).padStart(2, '0') + frac;
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** v with the decimals a step needs (step 0.5 -> 1 decimal, step 20 -> none). */
function fixed(v: number, step: number): string {
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}
