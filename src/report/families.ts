import { CHECK_SEVERITY, type CheckName, type Finding } from './model.js';

/** Every check name, in the order of docs/DESIGN.md's table. */
export const CHECKS = Object.keys(CHECK_SEVERITY) as CheckName[];

/** A check's family: the part before the first dot (`udp.checksum-missing` -> `udp`). */
export function familyOf(check: CheckName): string {
  return check.slice(0, check.indexOf('.'));
}

/** Every family, in table order. */
export const FAMILIES: readonly string[] = [...new Set(CHECKS.map(familyOf))];

/** Findings grouped by check, in table order; checks without findings left out. */
export function groupByCheck(findings: readonly Finding[]): Map<CheckName, Finding[]> {
  const groups = new Map<CheckName, Finding[]>();
  for (const c of CHECKS) {
    const fs = findings.filter((f) => f.check === c);
    if (fs.length > 0) groups.set(c, fs);
  }
  return groups;
}
