/**
 * The report of a run over several captures (docs/DESIGN.md part 1,
 * "Many captures"): each file's own report, sorted by path, the totals, and
 * the worst verdict. `combineReports` is the one place that builds it, for
 * a run (`verify A B DIR`) and for `merge-reports` alike, so that merging
 * the reports of shards gives exactly what one run over all their files
 * would have printed.
 */
import chalk from 'chalk';
import { EXIT_OK, printable, shownName } from '../errors.js';
import { VERSION } from '../version.js';
import type { MultiReport, Report, Verdict, VerdictResult } from './model.js';
import { renderJunitSuite, junitDocument } from './junit.js';
import { verdictLine } from './text.js';
import { count as plural, num } from './numbers.js';
import { FIX_KINDS, type ChecksumsFixed } from '../nat/fixsum.js';

/** A file's entry when the file could not be processed: what was asked, and why it failed. */
export function failedReport(
  command: 'rewrite' | 'verify',
  path: string,
  error: { code: string; message: string; exitCode: number; offset?: number | undefined; frame?: number | undefined },
  strict: boolean,
): Report {
  const summary: Report['summary'] = {
    packets: 0,
    rewritten: 0,
    undecodable: 0,
    checksums: { verified: 0, bad: 0, unverifiable: 0 },
    errors: 0,
    warnings: 0,
    collisions: 0,
  };
  const err = {
    code: error.code,
    message: error.message,
    ...(error.offset === undefined ? {} : { offset: error.offset }),
    ...(error.frame === undefined ? {} : { frame: error.frame }),
  };
  return {
    tool: 'ssnat-rewrite',
    version: VERSION,
    command,
    input: { path, format: 'unknown', interfaces: [] },
    direction: 'guest-to-host',
    rules: [],
    summary,
    // An output that could not be written (a full disk) is not the input's fault: "not written", never "unreadable".
    verdict: {
      result: error.code === 'output' ? 'unwritten' : 'unreadable',
      exitCode: error.exitCode,
      strict,
      why: error.code === 'output' ? `not written: ${error.message}` : `could not be ${command === 'verify' ? 'checked' : 'rewritten'}: ${error.message}`,
    },
    findings: [],
    collisions: [],
    error: err,
  };
}

/**
 * The combined report: the files sorted by path, totals, and the worst
 * verdict. `skipped`: files the directory walks passed over (not captures);
 * `existing`: --out-dir inputs not rewritten because --skip-existing found
 * their output; each counted in the summary when there were some.
 */
export function combineReports(command: 'rewrite' | 'verify', reports: readonly Report[], strict: boolean, skipped = 0, existing = 0): MultiReport {
  const files = [...reports].sort((a, b) => (a.input.path < b.input.path ? -1 : a.input.path > b.input.path ? 1 : 0));
  const count = (r: VerdictResult): number => files.filter((f) => f.verdict?.result === r).length;
  const sum = (pick: (s: Report['summary']) => number): number => files.reduce((n, f) => n + pick(f.summary), 0);
  const summary: MultiReport['summary'] = {
    files: files.length,
    ...(skipped > 0 ? { skipped } : {}),
    ...(existing > 0 ? { existing } : {}),
    ok: count('ok'),
    failed: count('failed'),
    unchecked: count('unchecked'),
    unreadable: count('unreadable'),
    ...(count('unwritten') > 0 ? { unwritten: count('unwritten') } : {}),
    packets: sum((s) => s.packets),
    rewritten: sum((s) => s.rewritten),
    undecodable: sum((s) => s.undecodable),
    checksums: {
      verified: sum((s) => s.checksums.verified),
      bad: sum((s) => s.checksums.bad),
      unverifiable: sum((s) => s.checksums.unverifiable),
    },
    ...fixedTotal(files),
    errors: sum((s) => s.errors),
    warnings: sum((s) => s.warnings),
    collisions: sum((s) => s.collisions),
  };
  return { tool: 'ssnat-rewrite', version: VERSION, command, files, summary, verdict: worstVerdict(files, summary, strict) };
}

/** The files' summary.checksumsFixed added up ({} when none has one: a run without --fix-checksums). */
function fixedTotal(files: readonly Report[]): Pick<MultiReport['summary'], 'checksumsFixed'> {
  const counts = files.map((f) => f.summary.checksumsFixed).filter((c): c is ChecksumsFixed => c !== undefined);
  if (counts.length === 0) return {};
  const byProtocol = Object.fromEntries(FIX_KINDS.map((k) => [k, counts.reduce((n, c) => n + c.byProtocol[k], 0)])) as ChecksumsFixed['byProtocol'];
  return { checksumsFixed: { fixed: counts.reduce((n, c) => n + c.fixed, 0), notFixable: counts.reduce((n, c) => n + c.notFixable, 0), byProtocol } };
}

/** The exit code is the worst of the files' (4 > 3 > 2 > 1 > 0): 3 when one was unreadable, else 1 when one failed. */
function worstVerdict(files: readonly Report[], s: MultiReport['summary'], strict: boolean): Verdict {
  const exitCode = files.reduce((worst, f) => Math.max(worst, f.verdict?.exitCode ?? EXIT_OK), EXIT_OK);
  const parts = [`${plural(s.files, 'file')}`];
  if (s.ok > 0) parts.push(`${s.ok} ok`);
  if (s.failed > 0) parts.push(`${s.failed} failed`);
  if (s.unchecked > 0) parts.push(`${s.unchecked} not checked`);
  if (s.unreadable > 0) parts.push(`${s.unreadable} unreadable`);
  if (s.unwritten !== undefined) parts.push(`${s.unwritten} not written`);
  if (s.existing !== undefined) parts.push(`${s.existing} skipped (output exists)`);
  const why = parts.join(', ');
  let result: VerdictResult;
  // A resumed run that found everything done has nothing left to do: that is done, not unchecked.
  if (s.files === 0) result = s.existing !== undefined ? 'ok' : 'unchecked';
  else if (s.unwritten !== undefined) result = 'unwritten';
  else if (s.unreadable > 0) result = 'unreadable';
  else if (s.failed > 0 || exitCode !== EXIT_OK) result = 'failed';
  else if (s.unchecked === s.files) result = 'unchecked';
  else result = 'ok';
  return { result, exitCode, strict, why };
}

const WORD: Record<VerdictResult, string> = { ok: 'ok', failed: 'FAILED', unchecked: 'NOT CHECKED', unreadable: 'UNREADABLE', unwritten: 'NOT WRITTEN' };

/** A file's word in the text report: its verdict, or for a file that could not be processed, why. */
function word(f: Report): string {
  if (f.error?.code === 'rule' || f.error?.code === 'usage') return 'REFUSED';
  return WORD[f.verdict?.result ?? 'ok'];
}

function colour(result: VerdictResult, text: string): string {
  return result === 'ok' ? chalk.green(text) : result === 'unchecked' ? chalk.yellow(text) : chalk.red(text);
}

/** Text: one line per file, then the total and the verdict. */
export function renderMultiText(report: MultiReport): string {
  const width = Math.max(...report.files.map((f) => word(f).length), 2);
  const out: string[] = [chalk.bold(`ssnat-rewrite ${report.command}: ${plural(report.files.length, 'capture')}`)];
  for (const f of report.files) {
    const result = f.verdict?.result ?? 'ok';
    const s = f.summary;
    const what =
      f.error !== undefined
        ? printable(f.error.message)
        : `${plural(s.packets, 'packet')}${report.command === 'rewrite' ? `, ${num(s.rewritten)} rewritten` : ''}, ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}, ${plural(s.collisions, 'collision')}`;
    out.push(`  ${colour(result, word(f).padEnd(width))}  ${shownName(f.input.path)}: ${what}`);
  }
  const t = report.summary;
  out.push(
    '',
    `  total: ${plural(t.packets, 'packet')}${report.command === 'rewrite' ? `, ${num(t.rewritten)} rewritten` : ''}${t.checksumsFixed === undefined ? '' : `, ${num(t.checksumsFixed.fixed)} checksums fixed (${num(t.checksumsFixed.notFixable)} not fixable)`}, ${num(t.checksums.verified)} checksums verified, ${num(t.checksums.bad)} bad, ${plural(t.errors, 'error')}, ${plural(t.warnings, 'warning')}, ${plural(t.collisions, 'collision')}`,
    '',
    verdictLine(report),
  );
  return out.join('\n') + '\n';
}

/** JUnit: one <testsuite> per file, named by its path, in one <testsuites>. */
export function renderMultiJunit(report: MultiReport): string {
  return junitDocument(report.files.map((f) => renderJunitSuite(f, f.input.path)));
}
