import { BIDI_CONTROLS, escapeControl } from '../errors.js';
import type { MultiReport, Report } from './model.js';

/** DEL, C1 and the bidirectional controls, which JSON.stringify leaves as they are (errors.ts): they occur only inside strings, where an escape means the same. */
const UNESCAPED_CONTROLS = new RegExp(`[\\x7f-\\x9f${BIDI_CONTROLS}]`, 'g');

/**
 * The JSON report of docs/DESIGN.md part 1 (of one capture, or of a run
 * over many), one document, pretty-printed; every control character
 * escaped, so that `cat report.json` shows a hostile name rather than obeys it.
 */
export function renderJson(report: Report | MultiReport): string {
  return JSON.stringify(report, null, 2).replace(UNESCAPED_CONTROLS, escapeControl) + '\n';
}
