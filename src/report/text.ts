/** The human report: a summary table and the findings grouped by check, coloured with chalk. */
import chalk from 'chalk';
import { printable, shownName } from '../errors.js';
import { groupByCheck } from './families.js';
import type { Report } from './model.js';
import { num } from './numbers.js';

const MAX_PER_CHECK = 20;

export function renderText(report: Report): string {
  const s = report.summary;
  const out: string[] = [];
  out.push(chalk.bold(`ssnat-rewrite ${report.command}: ${shownName(report.input.path)} (${report.input.format}, ${report.input.interfaces.length} interface(s))`));
  const rows: Array<[string, string]> = [
    ['packets', String(s.packets)],
    ['rewritten', String(s.rewritten)],
    ['undecodable', String(s.undecodable)],
    ['checksums verified', String(s.checksums.verified)],
    ['checksums bad', String(s.checksums.bad)],
    ['checksums unverifiable', String(s.checksums.unverifiable)],
    ...(s.checksumsFixed === undefined ? [] : [['checksums fixed', fixedText(s.checksumsFixed)] as [string, string]]),
    ...(s.unchecked === undefined ? [] : [['packets not checked', s.unchecked > 0 ? chalk.yellow(String(s.unchecked)) : '0'] as [string, string]]),
    ['collisions', String(s.collisions)],
    ['errors', s.errors > 0 ? chalk.red(String(s.errors)) : String(s.errors)],
    ['warnings', s.warnings > 0 ? chalk.yellow(String(s.warnings)) : String(s.warnings)],
    ...(s.inherited === undefined ? [] : [['also in the input', `${s.inherited.errors} error(s), ${s.inherited.warnings} warning(s)`] as [string, string]]),
  ];
  for (const [k, v] of rows) out.push(`  ${k.padEnd(24)} ${v}`);
  for (const [check, fs] of groupByCheck(report.findings)) {
    const sev = fs[0]!.severity;
    const set = report.severity?.[check] === 'error' ? ' (--fail-on)' : '';
    const head = sev === 'error' ? chalk.red(`error ${check}${set}`) : chalk.yellow(`warning ${check}`);
    const omitted = report.omitted?.[check] ?? 0;
    out.push('', `${head} (${num(fs.length + omitted)})`);
    const shown = fs.slice(0, MAX_PER_CHECK);
    for (const f of shown) {
      out.push(`  ${f.frame > 0 ? `frame ${f.frame}` : 'file'}${f.interface >= 0 ? ` if ${f.interface}` : ''}: ${printable(f.message)}${f.inherited === true ? chalk.dim(' (also in the input)') : ''}`);
    }
    const more = fs.length + omitted - shown.length;
    if (more > 0) out.push(chalk.dim(`  ... ${num(more)} more (--report json lists ${omitted === 0 ? 'all' : 'up to --max-findings'})`));
  }
  for (const [check, n] of Object.entries(report.ignored ?? {})) out.push('', chalk.dim(`ignored ${check} (${num(n)}): turned off with --ignore, not listed`));
  for (const c of report.collisions) {
    // A tunnel lane names its tunnels: "on interfaces 0 (VXLAN VNI 5001), 0 (VXLAN VNI 5002)".
    const lanes = c.interfaces.map((i, j) => (c.tunnels?.[j] ? `${i} (${c.tunnels[j]})` : String(i)));
    out.push('', chalk.yellow(printable(`collision ${c.protocol} ${c.flow}`)) + printable(` on interfaces ${lanes.join(', ')}`) + ` (frames ${c.frames.join(', ')})`);
  }
  out.push('', verdictLine(report));
  return out.join('\n') + '\n';
}

/** `--fix-checksums`' count: "3 (ipv4 1, tcp 2), 1 not fixable" (the protocols with a fix). */
export function fixedText(c: NonNullable<Report['summary']['checksumsFixed']>): string {
  const per = Object.entries(c.byProtocol)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${num(n)}`);
  return `${num(c.fixed)}${per.length > 0 ? ` (${per.join(', ')})` : ''}, ${num(c.notFixable)} not fixable`;
}

/** The closing line: the verdict as the exit code says it, and why. */
export function verdictLine(report: { summary: { errors: number }; verdict?: Report['verdict'] }): string {
  const v = report.verdict;
  if (v === undefined) return report.summary.errors > 0 ? chalk.red('FAILED') : chalk.green('OK');
  switch (v.result) {
    case 'ok':
      return `${chalk.green('OK')}: ${printable(v.why)}`;
    case 'failed':
      return `${chalk.red('FAILED')}: ${printable(v.why)}`;
    case 'unchecked':
      return `${v.exitCode === 0 ? chalk.yellow('NOT CHECKED') : chalk.red('NOT CHECKED')}: ${printable(v.why)}`;
    case 'unreadable':
      return `${chalk.red('UNREADABLE')}: ${printable(v.why)}`;
    case 'unwritten':
      return `${chalk.red('NOT WRITTEN')}: ${printable(v.why)}`;
  }
}
