/**
 * JUnit XML: one testcase per check family, so CI systems show failures
 * natively, consistent with the exit code. A family fails when it has an
 * error finding, or with --strict (the report's verdict) any finding;
 * otherwise its warnings are listed in the testcase's system-out. When
 * nothing could be checked, every testcase is skipped with the reason
 * (failed with --strict), so that a CI page shows no green for traffic
 * nothing looked at.
 */
import { FAMILIES, familyOf } from './families.js';
import type { Finding, Report } from './model.js';

/**
 * XML text: the five special characters escaped, and the characters XML 1.0
 * cannot hold at all (controls, lone surrogates; a capture's interface name
 * may have any) written as \xNN / \uNNNN, so that a CI system can always parse it.
 */
function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, (c) => {
      const n = c.charCodeAt(0);
      return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
    });
}

function line(f: Finding): string {
  return `frame ${f.frame}${f.interface >= 0 ? ` (interface ${f.interface})` : ''}: ${f.check}: ${f.message}`;
}

export function renderJunit(report: Report): string {
  const suite = `ssnat-rewrite ${report.command} ${report.input.path}`;
  const strict = report.verdict?.strict === true;
  const unchecked = report.verdict?.result === 'unchecked';
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const family of FAMILIES) {
    const fs = report.findings.filter((f) => familyOf(f.check) === family);
    const errors = fs.filter((f) => f.severity === 'error');
    const warnings = fs.filter((f) => f.severity === 'warning');
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
    if (!strict && warnings.length > 0) body += `\n      <system-out>${esc(warnings.map((f) => 'warning: ' + line(f)).join('\n'))}</system-out>`;
    cases.push(`    <testcase classname="${esc(suite)}" name="${esc(family)}">${body}${body ? '\n    ' : ''}</testcase>`);
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="ssnat-rewrite" tests="${FAMILIES.length}" failures="${failures}" skipped="${skipped}">\n` +
    `  <testsuite name="${esc(suite)}" tests="${FAMILIES.length}" failures="${failures}" errors="0" skipped="${skipped}">\n` +
    cases.join('\n') +
    `\n  </testsuite>\n</testsuites>\n`
  );
}
