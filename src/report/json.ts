import type { MultiReport, Report } from './model.js';

/** The JSON report of docs/DESIGN.md part 1 (of one capture, or of a run over many), one document, pretty-printed. */
export function renderJson(report: Report | MultiReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
