/**
 * The verdict of a run, worded as its exit code says it (docs/DESIGN.md
 * part 1, "Exit codes"): every report format ends with it, so that a CI
 * page never shows green on a step that failed, nor OK on traffic nothing
 * looked at.
 */
import { EXIT_FINDINGS, EXIT_INPUT, EXIT_OK } from '../errors.js';
import type { Report, Verdict } from './model.js';
import { count as plural } from './numbers.js';

/**
 * The verdict of one capture's report. `verified`: checks ran (verify, or
 * rewrite --verify); `checked`: packets they could look into.
 */
export function verdictOf(report: Pick<Report, 'summary' | 'error'>, opts: { strict: boolean; verified: boolean; checked: number }): Verdict {
  const s = report.summary;
  const strict = opts.strict;
  if (report.error !== undefined) {
    return { result: 'unreadable', exitCode: EXIT_INPUT, strict, why: `the capture could not be read: ${report.error.message}` };
  }
  // rewrite --verify: findings the input has too are damage the rewrite kept; they fail only with --strict.
  const kept = s.inherited ?? { errors: 0, warnings: 0 };
  const also = (n: number): string => (n > 0 ? ` (${n} also in the input)` : '');
  if (s.errors - (strict ? 0 : kept.errors) > 0) {
    const why = `${plural(s.errors, 'error')}${also(kept.errors)}${s.warnings > 0 ? ` and ${plural(s.warnings, 'warning')}${also(kept.warnings)}` : ''}`;
    return { result: 'failed', exitCode: EXIT_FINDINGS, strict, why: strict && kept.errors > 0 && kept.errors === s.errors ? `${why}, which fail the run with --strict` : why };
  }
  if (strict && s.warnings > 0) {
    return { result: 'failed', exitCode: EXIT_FINDINGS, strict, why: `${plural(s.warnings, 'warning')}${also(kept.warnings)}, which fail the run with --strict` };
  }
  if (!opts.verified) return { result: 'ok', exitCode: EXIT_OK, strict, why: 'rewritten; the output was not verified (add --verify to check it)' };
  if (opts.checked === 0) {
    // Warnings say why when a link type is not decoded; else the packets hold nothing the checks look at (LLDP, STP and the like).
    const why =
      s.packets === 0
        ? 'the capture holds no packets'
        : `none of the ${plural(s.packets, 'packet')} could be checked (${s.warnings > 0 ? 'see the warnings' : 'none holds IPv4, IPv6 or ARP, which the checks look at'})`;
    return { result: 'unchecked', exitCode: strict ? EXIT_FINDINGS : EXIT_OK, strict, why: `nothing was checked: ${why}${strict ? ', which fails the run with --strict' : ''}` };
  }
  const partial = s.unchecked !== undefined && s.unchecked > 0 ? `; ${plural(s.unchecked, 'packet')} could not be checked` : '';
  if (kept.errors > 0) {
    const warnings = s.warnings > 0 ? `, ${plural(s.warnings, 'warning')}${also(kept.warnings)}` : '';
    return {
      result: 'ok',
      exitCode: EXIT_OK,
      strict,
      why: `${plural(opts.checked, 'packet')} checked, no new errors: the ${plural(kept.errors, 'error')} in the output ${kept.errors === 1 ? 'is' : 'are'} also in the input (--strict fails on them)${warnings}${partial}`,
    };
  }
  return { result: 'ok', exitCode: EXIT_OK, strict, why: `${plural(opts.checked, 'packet')} checked, no errors${s.warnings > 0 ? `, ${plural(s.warnings, 'warning')}${also(kept.warnings)}` : ''}${partial}` };
}
