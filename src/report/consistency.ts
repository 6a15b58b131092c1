/**
 * Whether a one-capture report read back from JSON (merge-reports: shards
 * made on other machines, by other jobs) holds together as a run of this
 * version writes it: the fields every report format reads, of their types;
 * each finding's severity that of its check; the summary's counts those of
 * the findings and collisions listed (plus those counted but not listed);
 * and the verdict the one its summary gives. A merge must never say OK for a
 * file whose own numbers say otherwise, nor fail with a stack trace on a
 * field of the wrong type.
 */
import { CHECK_SEVERITY, type CheckName, type Report } from './model.js';
import { verdictOf } from './verdict.js';
import { EXIT_INPUT, EXIT_OUTPUT, EXIT_USAGE } from '../errors.js';

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isInteger = (v: unknown): v is number => Number.isSafeInteger(v);
const isIntegers = (v: unknown): v is number[] => Array.isArray(v) && v.every(isInteger);

/** What is wrong with `r` (a phrase: "its summary", "finding 3 ..."), or null when nothing is. */
export function inconsistency(r: Report): string | null {
  const s = r.summary as Partial<Report['summary']>;
  const counts = [s.packets, s.rewritten, s.undecodable, s.errors, s.warnings, s.collisions, s.checksums?.verified, s.checksums?.bad, s.checksums?.unverifiable];
  if (!counts.every(isCount) || (s.unchecked !== undefined && !isCount(s.unchecked))) return 'its summary has a count that is not a whole number';
  const summary = s as Report['summary'];
  if (!Array.isArray(r.input.interfaces) || !Array.isArray(r.findings) || !Array.isArray(r.collisions)) return 'its interfaces, findings or collisions are not lists';
  let errors = 0;
  let warnings = 0;
  for (const [i, f] of r.findings.entries()) {
    const severity = CHECK_SEVERITY[f?.check as CheckName] as string | undefined;
    if (f === null || typeof f !== 'object' || severity === undefined || f.severity !== severity || typeof f.message !== 'string' || !isInteger(f.frame) || !isInteger(f.interface)) {
      return `finding ${i + 1} is not one this version makes (its check, severity, message, frame or interface)`;
    }
    if (severity === 'error') errors++;
    else warnings++;
  }
  for (const [check, n] of Object.entries(r.omitted ?? {})) {
    const severity = CHECK_SEVERITY[check as CheckName] as string | undefined;
    if (severity === undefined || !isCount(n)) return `its count of findings not listed for ${JSON.stringify(check)} is not one this version makes`;
    if (severity === 'error') errors += n;
    else warnings += n;
  }
  if (errors !== summary.errors || warnings !== summary.warnings) {
    return `its summary says ${summary.errors} error(s) and ${summary.warnings} warning(s), its findings ${errors} and ${warnings}`;
  }
  for (const [i, c] of r.collisions.entries()) {
    if (c === null || typeof c !== 'object' || typeof c.protocol !== 'string' || typeof c.flow !== 'string' || !isIntegers(c.interfaces) || !isIntegers(c.frames)) {
      return `collision ${i + 1} is not one this version makes`;
    }
  }
  if (r.collisions.length !== summary.collisions) return `its summary says ${summary.collisions} collision(s), and it lists ${r.collisions.length}`;
  const v = r.verdict;
  if (v === undefined || v === null || typeof v !== 'object' || typeof v.strict !== 'boolean' || typeof v.why !== 'string') return 'it has no verdict';
  if (r.error !== undefined) {
    // A file that could not be processed: its entry says why, with the exit code of that failure.
    const ok = r.error !== null && typeof r.error.message === 'string' && v.result === 'unreadable' && [EXIT_USAGE, EXIT_INPUT, EXIT_OUTPUT].includes(v.exitCode);
    return ok ? null : 'its error and its verdict do not agree';
  }
  const verified = summary.unchecked !== undefined;
  const expected = verdictOf(r, { strict: v.strict, verified, checked: summary.packets - summary.undecodable - (summary.unchecked ?? 0) });
  if (expected.result !== v.result || expected.exitCode !== v.exitCode) {
    return `its verdict (${String(v.result)}, exit code ${String(v.exitCode)}) is not the one its summary gives (${expected.result}, exit code ${expected.exitCode})`;
  }
  return null;
}
