import { CHECK_SEVERITY, type CheckName, type Finding } from './model.js';

/** Every check name, in the order of docs/DESIGN.md's table. */
export const CHECKS = Object.keys(CHECK_SEVERITY) as CheckName[];

/** A check's family: the part before the first dot (`udp.checksum-missing` -> `udp`). */
export function familyOf(check: CheckName): string {
  return check.slice(0, check.indexOf('.'));
}

/** Every family, in table order. */
export const FAMILIES: readonly string[] = [...new Set(CHECKS.map(familyOf))];

/** Findings grouped by check, in table order (each group in the findings' order); checks without findings left out. One pass. */
export function groupByCheck(findings: readonly Finding[]): Map<CheckName, Finding[]> {
  const groups = new Map<CheckName, Finding[]>();
  for (const f of findings) {
    const g = groups.get(f.check);
    if (g === undefined) groups.set(f.check, [f]);
    else g.push(f);
  }
  const ordered = new Map<CheckName, Finding[]>();
  for (const c of CHECKS) if (groups.has(c)) ordered.set(c, groups.get(c)!);
  return ordered;
}
