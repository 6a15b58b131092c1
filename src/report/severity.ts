/**
 * Choosing what fails, as ESLint and ruff let people set rule severities:
 * `--fail-on CHECK[,CHECK...]` makes checks errors, `--ignore CHECK[,...]`
 * turns them off (their findings are counted in the report's `ignored`, never
 * listed, never failing). A name is a check name or a family glob (`arp.*`,
 * every check of the family). `--strict` stays what it was: every warning
 * left fails.
 */
import { UsageError } from '../errors.js';
import { CHECKS, familyOf } from './families.js';
import { CHECK_SEVERITY, type CheckName, type SeverityOverrides } from './model.js';

/** The overrides of `--fail-on` and `--ignore` (each a list of comma-separated names); undefined when neither names a check. */
export function severityOverrides(failOn: readonly string[] = [], ignore: readonly string[] = []): SeverityOverrides | undefined {
  const fail = new Set(failOn.flatMap((t) => checksNamed(t, '--fail-on')));
  const off = new Set(ignore.flatMap((t) => checksNamed(t, '--ignore')));
  const both = CHECKS.find((c) => fail.has(c) && off.has(c));
  if (both !== undefined) throw new UsageError(`check ${both} is named by both --fail-on and --ignore: choose one`);
  const out: SeverityOverrides = {};
  // In the table's order, so that the report is the same whatever the order given.
  for (const c of CHECKS) {
    if (off.has(c)) out[c] = 'off';
    else if (fail.has(c) && CHECK_SEVERITY[c] !== 'error') out[c] = 'error';
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** The checks one option value names: comma-separated check names and `family.*` globs. */
function checksNamed(text: string, option: string): CheckName[] {
  const out: CheckName[] = [];
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (name === '') throw new UsageError(`${option} ${JSON.stringify(text)}: an empty check name (give names separated by commas, e.g. ${option} flow.collision,arp.*)`);
    if (name.endsWith('.*')) {
      const family = name.slice(0, -2);
      const members = CHECKS.filter((c) => familyOf(c) === family);
      if (members.length === 0) throw new UsageError(`${option}: no check family ${JSON.stringify(family)}${suggest(family, [...new Set(CHECKS.map(familyOf))], (f) => `${f}.*`)} (families: ${[...new Set(CHECKS.map(familyOf))].join(', ')})`);
      out.push(...members);
    } else if ((CHECKS as readonly string[]).includes(name)) {
      out.push(name as CheckName);
    } else {
      throw new UsageError(`${option}: unknown check ${JSON.stringify(name)}${suggest(name, CHECKS, (c) => c)} (ssnat-rewrite verify --help lists the checks)`);
    }
  }
  return out;
}

/** "; did you mean X?" for the closest of `names` (edit distance at most a third of the name, at least 2), else "". */
function suggest(name: string, names: readonly string[], show: (n: string) => string): string {
  let best = '';
  let bestD = Infinity;
  for (const n of names) {
    const d = editDistance(name, n);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? `; did you mean ${show(best)}?` : '';
}

/** Levenshtein distance (two rows). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}
