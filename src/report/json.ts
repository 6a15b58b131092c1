import type { Report } from './model.js';

/** The JSON report of docs/DESIGN.md part 1, one document, pretty-printed. */
export function renderJson(report: Report): string {
  return JSON.stringify(report, null, 2) + '\n';
}
