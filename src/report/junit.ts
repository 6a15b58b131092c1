/**
 * JUnit XML: one testcase per check family, so CI systems show failures
 * natively, consistent with the exit code. A family fails when it has an
 * error finding, or with --strict (the report's verdict) any finding;
 * otherwise its warnings are listed in the testcase's system-out. When
 * nothing could be checked, every testcase is skipped with the reason
 * (failed with --strict), so that a CI page shows no green for traffic
 * nothing looked at.
 */
import { BIDI_CONTROLS } from '../errors.js';
import { FAMILIES, familyOf } from './families.js';
import type { Finding, Report } from './model.js';

/** What esc writes as \xNN / \uNNNN (see there). */
const UNWRITABLE = new RegExp(`[\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F${BIDI_CONTROLS}\\uFFFE\\uFFFF]|[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]`, 'g');

/**
 * XML text: the five special characters escaped, and the characters XML 1.0
 * cannot hold at all (controls, lone surrogates; a capture's interface name
 * may have any) written as \xNN / \uNNNN, so that a CI system can always
 * parse it; DEL, C1 and the bidirectional controls too, which XML allows but
 * a terminal would act on (U+009B is CSI to some) or which reorder the text
 * a CI page shows (errors.ts).
 */
function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(UNWRITABLE, (c) => {
      const n = c.charCodeAt(0);
      return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
    });
}

function line(f: Finding): string {
  return `frame ${f.frame}${f.interface >= 0 ? ` (interface ${f.interface}${f.tunnel ? ` inside ${f.tunnel}` : ''})` : ''}: ${f.check}: ${f.message}${f.inherited === true ? ' (also in the input)' : ''}`;
}

/** One <testsuite> of a document: its XML and its counts. */
export interface JunitSuite {
  xml: string;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

/** The <testsuite> of one capture's report, named `name`. */
export function renderJunitSuite(report: Report, name: string): JunitSuite {
  const suite = name;
  if (report.error !== undefined) {
    // The capture could not be read: one testcase in error, with the reason.
    const xml =
      `  <testsuite name="${esc(suite)}" tests="1" failures="0" errors="1" skipped="0">\n` +
      `    <testcase classname="${esc(suite)}" name="capture">\n      <error message="${esc(report.error.message)}" type="${esc(report.error.code)}"></error>\n    </testcase>\n` +
      `  </testsuite>`;
    return { xml, tests: 1, failures: 0, errors: 1, skipped: 0 };
  }
  const strict = report.verdict?.strict === true;
  const unchecked = report.verdict?.result === 'unchecked';
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const family of FAMILIES) {
    const fs = report.findings.filter((f) => familyOf(f.check) === family);
    // Errors the input had too (rewrite --verify) fail only with --strict; they are listed beside the warnings.
    const errors = fs.filter((f) => f.severity === 'error' && (strict || f.inherited !== true));
    const warnings = fs.filter((f) => f.severity === 'warning' || (!strict && f.inherited === true));
    const failing = strict ? fs : errors;
    let body = '';
    if (failing.length > 0) {
      failures++;
      const what = strict && warnings.length > 0 ? `${errors.length} error(s) and ${warnings.length} warning(s) (--strict)` : `${errors.length} error(s)`;
      body += `\n      <failure message="${esc(`${what} in ${family} checks`)}" type="${esc(family)}">${esc(failing.map((f) => `${f.severity}: ${line(f)}`).join('\n'))}</failure>`;
    } else if (unchecked) {
      if (strict) {
        failures++;
        body += `\n      <failure message="${esc(report.verdict!.why)}" type="unchecked"></failure>`;
      } else {
        skipped++;
        body += `\n      <skipped message="${esc(report.verdict!.why)}"/>`;
      }
    }
    if (!strict && warnings.length > 0) body += `\n      <system-out>${esc(warnings.map((f) => `${f.severity}: ${line(f)}`).join('\n'))}</system-out>`;
    cases.push(`    <testcase classname="${esc(suite)}" name="${esc(family)}">${body}${body ? '\n    ' : ''}</testcase>`);
  }
  const xml = `  <testsuite name="${esc(suite)}" tests="${FAMILIES.length}" failures="${failures}" errors="0" skipped="${skipped}">\n` + cases.join('\n') + `\n  </testsuite>`;
  return { xml, tests: FAMILIES.length, failures, errors: 0, skipped };
}

/** The whole document around its suites, with their totals. */
export function junitDocument(suites: readonly JunitSuite[]): string {
  const total = (k: 'tests' | 'failures' | 'errors' | 'skipped'): number => suites.reduce((n, x) => n + x[k], 0);
  const errors = total('errors');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="ssnat-rewrite" tests="${total('tests')}" failures="${total('failures')}"${errors > 0 ? ` errors="${errors}"` : ''} skipped="${total('skipped')}">\n` +
    suites.map((x) => x.xml + '\n').join('') +
    `</testsuites>\n`
  );
}

export function renderJunit(report: Report): string {
  return junitDocument([renderJunitSuite(report, `ssnat-rewrite ${report.command} ${report.input.path}`)]);
}
