/**
 * Whether a one-capture report read back from JSON (merge-reports: shards
 * made on other machines, by other jobs) holds together as a run of this
 * version writes it: the fields every report format reads, of their types;
 * each finding's severity that of its check (as `--fail-on` and `--ignore`
 * set it, which the report records); the summary's counts those of
 * the findings and collisions listed (plus those counted but not listed);
 * and the verdict the one its summary gives. A merge must never say OK for a
 * file whose own numbers say otherwise, nor fail with a stack trace on a
 * field of the wrong type.
 */
import { CHECK_SEVERITY, type CheckName, type Report } from './model.js';
import { verdictOf } from './verdict.js';
import { EXIT_INPUT, EXIT_OUTPUT, EXIT_USAGE } from '../errors.js';
import { VERSION } from '../version.js';
import { FIX_KINDS } from '../nat/fixsum.js';

/** Whether a value read from JSON is of a field's type. */
type Is = (v: unknown) => boolean;

const isCount: Is = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const isInteger: Is = (v) => Number.isSafeInteger(v);
const isNumber: Is = (v) => typeof v === 'number' && Number.isFinite(v);
const isString: Is = (v) => typeof v === 'string';
const optional =
  (is: Is): Is =>
  (v) =>
    v === undefined || is(v);
const listOf =
  (is: Is): Is =>
  (v) =>
    Array.isArray(v) && v.every(is);
const record =
  (fields: Readonly<Record<string, Is>>): Is =>
  (v) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) && Object.entries(fields).every(([k, is]) => is((v as Record<string, unknown>)[k]));

/** The fields of a one-capture report that the text, JUnit and HTML reports read, each with its type (model.ts). */
const FLOW_PACKET = record({ frame: isInteger, interface: isInteger, section: optional(isCount), vlan: optional(isString), tunnel: optional(isString), time: isNumber });
const SHAPES: ReadonlyArray<[string, Is, (r: Report) => unknown]> = [
  ['its tool', (v) => v === 'ssnat-rewrite', (r) => r.tool],
  ['its version', (v) => v === VERSION, (r) => r.version],
  ['its command', (v) => v === 'verify' || v === 'rewrite', (r) => r.command],
  ['its direction', (v) => v === 'guest-to-host' || v === 'host-to-guest', (r) => r.direction],
  ['its input', record({ path: isString, format: isString, interfaces: listOf(record({ id: isInteger, name: optional(isString), linkType: isInteger, section: optional(isInteger) })) }), (r) => r.input],
  ['its output', optional(record({ path: isString, format: isString })), (r) => r.output],
  ['its rules', listOf(isString), (r) => r.rules],
  ['its rule hits', optional(listOf(record({ rule: isString, addresses: isCount }))), (r) => r.ruleHits],
  [
    'its summary',
    record({
      packets: isCount,
      rewritten: isCount,
      undecodable: isCount,
      checksums: record({ verified: isCount, bad: isCount, unverifiable: isCount }),
      unchecked: optional(isCount),
      checksumsFixed: optional(record({ fixed: isCount, notFixable: isCount, byProtocol: record(Object.fromEntries(FIX_KINDS.map((k) => [k, isCount]))) })),
      errors: isCount,
      warnings: isCount,
      collisions: isCount,
      inherited: optional(record({ errors: isCount, warnings: isCount })),
    }),
    (r) => r.summary,
  ],
  ['its findings', listOf(record({ frame: isInteger, interface: isInteger, message: isString, expected: optional(isString), actual: optional(isString), offset: optional(isNumber), time: optional(isNumber), vlan: optional(isString), section: optional(isCount), tunnel: optional(isString), inherited: optional((v) => v === true) })), (r) => r.findings],
  [
    'its collisions',
    listOf(
      record({
        protocol: isString,
        flow: isString,
        interfaces: listOf(isInteger),
        frames: listOf(isInteger),
        times: optional(listOf(isNumber)),
        vlans: optional(listOf(isString)),
        sections: optional(listOf(isCount)),
        tunnels: optional(listOf(isString)),
        wrongReplies: optional(listOf(record({ request: FLOW_PACKET, reply: FLOW_PACKET }))),
        wrongReplyCount: optional(isCount),
      }),
    ),
    (r) => r.collisions,
  ],
  ['its timeline', optional(record({ start: isNumber, bucketSeconds: isNumber, lanes: listOf(record({ interface: isCount, section: optional(isCount), name: optional(isString), vlan: optional(isString), tunnel: optional(isString), packets: listOf(isCount) })), lanesOmitted: isCount })), (r) => r.timeline],
  ['its verdict', record({ result: isString, exitCode: isInteger, strict: (v) => typeof v === 'boolean', why: isString }), (r) => r.verdict],
  ['its error', optional(record({ code: isString, message: isString })), (r) => r.error],
  ['its count of findings not listed', optional(record({})), (r) => r.omitted],
  ['its severities', optional(record({})), (r) => r.severity],
  ['its count of findings ignored', optional(record({})), (r) => r.ignored],
];

/**
 * The severity of the check named `check` in report `r` (the table's, unless
 * its `severity` made it an error or turned it off), or undefined when this
 * version has no such check.
 */
function severityOf(r: Report, check: unknown): string | undefined {
  if (typeof check !== 'string' || !Object.hasOwn(CHECK_SEVERITY, check)) return undefined;
  const set = r.severity !== undefined && Object.hasOwn(r.severity, check) ? r.severity[check as CheckName] : undefined;
  return set ?? CHECK_SEVERITY[check as CheckName];
}

/** What is wrong with `r` (a phrase: "its summary: missing", "finding 3 ..."), or null when nothing is. */
export function inconsistency(r: Report): string | null {
  for (const [what, is, field] of SHAPES) {
    const value = field(r);
    if (!is(value)) return `${what}: ${value === undefined ? 'missing' : 'not of the form this version writes'}`;
  }
  const summary = r.summary;
  for (const [check, set] of Object.entries(r.severity ?? {})) {
    if (!Object.hasOwn(CHECK_SEVERITY, check) || !(set === 'off' || (set === 'error' && CHECK_SEVERITY[check as CheckName] !== 'error'))) {
      return `its severity for ${JSON.stringify(check)} is not one this version sets`;
    }
  }
  for (const [check, n] of Object.entries(r.ignored ?? {})) {
    if (severityOf(r, check) !== 'off' || !isCount(n)) return `its count of findings ignored for ${JSON.stringify(check)} is not one this version makes`;
  }
  let errors = 0;
  let warnings = 0;
  for (const [i, f] of r.findings.entries()) {
    const severity = severityOf(r, f.check);
    if (severity === undefined || f.severity !== severity) return `finding ${i + 1} is not one this version makes (its check ${JSON.stringify(f.check)} with severity ${JSON.stringify(f.severity)})`;
    if (severity === 'error') errors++;
    else warnings++;
  }
  for (const [check, n] of Object.entries(r.omitted ?? {})) {
    const severity = severityOf(r, check);
    if (severity === undefined || severity === 'off' || !isCount(n)) return `its count of findings not listed for ${JSON.stringify(check)} is not one this version makes`;
    if (severity === 'error') errors += n;
    else warnings += n;
  }
  // Inherited findings (rewrite --verify) are some of those counted; listed ones are among them.
  const kept = summary.inherited;
  const listed = (sev: string): number => r.findings.filter((f) => f.inherited === true && f.severity === sev).length;
  if (kept !== undefined ? kept.errors > errors || kept.warnings > warnings || listed('error') > kept.errors || listed('warning') > kept.warnings : r.findings.some((f) => f.inherited === true)) {
    return 'its count of findings also in the input does not agree with its findings';
  }
  if (errors !== summary.errors || warnings !== summary.warnings) {
    return `its summary says ${summary.errors} error(s) and ${summary.warnings} warning(s), its findings ${errors} and ${warnings}`;
  }
  const fixed = summary.checksumsFixed;
  if (fixed !== undefined && FIX_KINDS.reduce((n, k) => n + fixed.byProtocol[k], 0) !== fixed.fixed) return `its summary says ${fixed.fixed} checksum(s) fixed, and its count per protocol adds up to another number`;
  if (r.collisions.length !== summary.collisions) return `its summary says ${summary.collisions} collision(s), and it lists ${r.collisions.length}`;
  const v = r.verdict!;
  if (r.error !== undefined) {
    // A file that could not be processed: its entry says why, with the exit code of that failure.
    const ok = v.result === (r.error.code === 'output' ? 'unwritten' : 'unreadable') && [EXIT_USAGE, EXIT_INPUT, EXIT_OUTPUT].includes(v.exitCode);
    return ok ? null : 'its error and its verdict do not agree';
  }
  // Whether checks ran is not the entry's to claim: a verify always counts the packets it could not check,
  // and a rewrite that verified (--verify) both counts them and draws its timeline.
  if (r.command === 'verify' && summary.unchecked === undefined) return 'its summary has no count of packets not checked, which every verify has';
  if (r.command === 'rewrite' && r.timeline !== undefined && summary.unchecked === undefined) return 'it has a timeline (--verify) but no count of packets not checked';
  const verified = summary.unchecked !== undefined;
  const expected = verdictOf(r, { strict: v.strict, verified, checked: summary.packets - summary.undecodable - (summary.unchecked ?? 0) });
  if (expected.result !== v.result || expected.exitCode !== v.exitCode) {
    return `its verdict (${String(v.result)}, exit code ${String(v.exitCode)}) is not the one its summary gives (${expected.result}, exit code ${expected.exitCode})`;
  }
  return null;
}
