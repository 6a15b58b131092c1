/**
 * JUnit XML: one testcase per check family, so CI systems show failures
 * natively. A family fails when it has an error finding; warnings are listed
 * in the testcase's system-out.
 */
import { FAMILIES, familyOf } from './families.js';
import type { Finding, Report } from './model.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function line(f: Finding): string {
  return `frame ${f.frame}${f.interface >= 0 ? ` (interface ${f.interface})` : ''}: ${f.check}: ${f.message}`;
}

export function renderJunit(report: Report): string {
  const suite = `ssnat-rewrite ${report.command} ${report.input.path}`;
  const cases: string[] = [];
  let failures = 0;
  for (const family of FAMILIES) {
    const fs = report.findings.filter((f) => familyOf(f.check) === family);
    const errors = fs.filter((f) => f.severity === 'error');
    const warnings = fs.filter((f) => f.severity === 'warning');
    let body = '';
    if (errors.length > 0) {
      failures++;
      body += `\n      <failure message="${esc(`${errors.length} error(s) in ${family} checks`)}" type="${esc(family)}">${esc(errors.map(line).join('\n'))}</failure>`;
    }
    if (warnings.length > 0) body += `\n      <system-out>${esc(warnings.map((f) => 'warning: ' + line(f)).join('\n'))}</system-out>`;
    cases.push(`    <testcase classname="${esc(suite)}" name="${esc(family)}">${body}${body ? '\n    ' : ''}</testcase>`);
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="ssnat-rewrite" tests="${FAMILIES.length}" failures="${failures}">\n` +
    `  <testsuite name="${esc(suite)}" tests="${FAMILIES.length}" failures="${failures}" errors="0" skipped="0">\n` +
    cases.join('\n') +
    `\n  </testsuite>\n</testsuites>\n`
  );
}
