/**
 * The report object: exactly the JSON document of docs/DESIGN.md part 1
 * (`--report json`), which scripts parse. Renderers (text, json, junit) all
 * start from this.
 */

import type { ChecksumsFixed } from '../nat/fixsum.js';

export type Severity = 'error' | 'warning';

/** What a check was set to where it differs from the table (report/severity.ts): an error (`--fail-on`) or off (`--ignore`). */
export type SeverityOverrides = Partial<Record<CheckName, 'error' | 'off'>>;

/**
 * Check names are part of the product contract (docs/DESIGN.md part 1, "Checks").
 * The order here is the table's; families (the part before the first dot)
 * are JUnit's testcases.
 */
export type CheckName =
  | 'ipv4.checksum'
  | 'tcp.checksum'
  | 'udp.checksum'
  | 'icmp.checksum'
  | 'icmpv6.checksum'
  | 'dccp.checksum'
  | 'ipv4.checksum-offloaded'
  | 'tcp.checksum-offloaded'
  | 'udp.checksum-offloaded'
  | 'udp.checksum-missing'
  | 'udp.checksum-zero-tunnel'
  | 'gre.checksum'
  | 'icmp.inner-ipv4.checksum'
  | 'icmp.inner-udp.checksum'
  | 'icmp.inner-tcp.checksum'
  | 'arp.duplicate-ip'
  | 'arp.reply-mismatch'
  | 'arp.ip-mac-mismatch'
  | 'arp.malformed'
  | 'flow.collision'
  | 'flow.wrong-clone'
  | 'addr.untranslated'
  | 'rule.unmatched'
  | 'packet.undecodable'
  | 'capture.truncated-tail'
  | 'capture.unsupported-link'
  | 'verify.limit';

/**
 * A lane of the capture: one broadcast domain as the clones lived it, an
 * interface (a TAP) and, when tagged, its VLAN ("10", or "10.20" for QinQ).
 */
export interface Lane {
  interface: number;
  /** Wireshark's frame.section_number, where the id alone is ambiguous (as a finding's `section`). */
  section?: number;
  /** Interface name (if_name), when the capture records one. */
  name?: string;
  /** VLAN ids, outer first, joined by "."; absent when untagged. */
  vlan?: string;
}

export interface Finding {
  /** 1-based frame number (Wireshark's); 0 for findings about the file itself. */
  frame: number;
  interface: number;
  check: CheckName;
  severity: Severity;
  message: string;
  expected?: string;
  actual?: string;
  /** Byte offset in the file, for findings about its structure. */
  offset?: number;
  /** Packet timestamp, seconds since the epoch (absent for findings about the file). */
  time?: number;
  /** The packet's VLAN ids ("10" or "10.20"), when tagged. */
  vlan?: string;
  /** Wireshark's frame.section_number (1-based) of `interface`, where the id alone is ambiguous (an earlier section has a different interface under it). */
  section?: number;
  /**
   * rewrite --verify: the input has this finding too (same frame and check):
   * damage the rewrite kept, not damage it made; it fails the run only with
   * --strict. Absent otherwise.
   */
  inherited?: true;
}

/** One end of a request/reply pair of a colliding flow. */
export interface FlowPacket {
  frame: number;
  interface: number;
  /** As a finding's `section`. */
  section?: number;
  vlan?: string;
  time: number;
}

export interface Collision {
  protocol: string;
  flow: string;
  /** The lanes the flow was seen on, in order of first appearance (an interface repeats for several VLANs). */
  interfaces: number[];
  /** The first frame on each of those lanes. */
  frames: number[];
  /** That frame's timestamp (seconds since the epoch). */
  times?: number[];
  /** That lane's VLAN ("" when untagged); present only when some lane is tagged. */
  vlans?: string[];
  /** That lane's section (Wireshark's frame.section_number); present only when an interface id alone is ambiguous for some lane (as a finding's `section`). */
  sections?: number[];
  /**
   * Replies that reached another lane (clone) than the one whose request they
   * answer: the first MAX_WRONG_REPLIES of them; `wrongReplyCount` counts all.
   */
  wrongReplies?: Array<{ request: FlowPacket; reply: FlowPacket }>;
  wrongReplyCount?: number;
}

/**
 * Packets per lane over time, for drawing the capture: `buckets` equal
 * slices of `bucketSeconds` from `start` (seconds since the epoch); each
 * lane's `packets[i]` counts its packets in slice i.
 */
export interface Timeline {
  start: number;
  bucketSeconds: number;
  lanes: Array<Lane & { packets: number[] }>;
  /** Lanes beyond the cap, whose packets are not drawn (their findings still are listed). */
  lanesOmitted: number;
}

/**
 * The verdict, as the exit code says it:
 * - `ok`: checked, no error (and, with --strict, no warning);
 * - `failed`: an error finding (or, with --strict, a warning);
 * - `unchecked`: nothing could be checked (no packet the verifier could
 *   decode: an empty capture, or only link types it does not decode);
 * - `unreadable`: the capture could not be read (`error` says why);
 * - `unwritten`: in a run over many, its output could not be written (a full disk: exit 4).
 */
export type VerdictResult = 'ok' | 'failed' | 'unchecked' | 'unreadable' | 'unwritten';

export interface Verdict {
  result: VerdictResult;
  /** The CLI's exit code for this report (0, 1, 3, or 4). */
  exitCode: number;
  /** Warnings fail (--strict). */
  strict: boolean;
  /** One line: why this verdict ("2 errors", "3 warnings fail with --strict", ...). */
  why: string;
}

export interface ReportInterface {
  /** Wireshark's frame.interface_id (the id within the pcapng section). */
  id: number;
  name?: string;
  linkType: number;
  /** Wireshark's frame.section_number (1-based), when an earlier section describes a different interface under the same id. */
  section?: number;
}

export interface Report {
  tool: 'ssnat-rewrite';
  version: string;
  command: 'rewrite' | 'verify';
  input: { path: string; format: string; interfaces: ReportInterface[] };
  output?: { path: string; format: string };
  direction: 'guest-to-host' | 'host-to-guest';
  rules: string[];
  /**
   * Per rule (in the order given): the addresses it rewrote (rewrite), or
   * the guest-side addresses it would still translate (verify with rules:
   * the addr.untranslated findings). Present when rules were given.
   */
  ruleHits?: Array<{ rule: string; addresses: number }>;
  /** Checks whose severity `--fail-on` (error) or `--ignore` (off) changed from the table; absent when none. */
  severity?: SeverityOverrides;
  summary: {
    packets: number;
    rewritten: number;
    undecodable: number;
    checksums: { verified: number; bad: number; unverifiable: number };
    /**
     * Packets no check could look into (a link type that is not decoded, or
     * a network protocol other than IPv4, IPv6 and ARP); present when checks ran.
     */
    unchecked?: number;
    /** rewrite --fix-checksums: the checksum fields it changed (per protocol) and those it could not recompute. */
    checksumsFixed?: ChecksumsFixed;
    errors: number;
    warnings: number;
    collisions: number;
    /**
     * rewrite --verify: of the errors and warnings, those the input has too
     * (findings marked `inherited`); present when the rewrite verified.
     */
    inherited?: { errors: number; warnings: number };
  };
  /** The verdict the exit code gives (see Verdict). */
  verdict?: Verdict;
  findings: Finding[];
  /** Findings counted but not listed, per check (past --max-findings); absent when none. */
  omitted?: Partial<Record<CheckName, number>>;
  /** Findings of checks turned off with `--ignore`, per check: counted here only (not listed, not in the summary); absent when none. */
  ignored?: Partial<Record<CheckName, number>>;
  collisions: Collision[];
  /** Packets per lane over time (verify, and rewrite --verify). */
  timeline?: Timeline;
  /** Why the capture could not be read (verdict `unreadable`); what was read before the damage is reported above. */
  error?: { code: string; message: string; offset?: number; frame?: number };
}

/**
 * The report of a run over several captures (`verify A B DIR ...`,
 * `merge-reports`): each file's own report, in a fixed order (the order of
 * the arguments, directories expanded in sorted path order), and the totals.
 */
export interface MultiReport {
  tool: 'ssnat-rewrite';
  version: string;
  command: 'rewrite' | 'verify';
  files: Report[];
  summary: {
    files: number;
    /** Files the directory walks passed over, neither named nor starting as captures (present when there were some). */
    skipped?: number;
    /** --out-dir inputs not rewritten because --skip-existing found their output (present when there were some). */
    existing?: number;
    /** Files per verdict. */
    ok: number;
    failed: number;
    unchecked: number;
    unreadable: number;
    /** Files whose output could not be written (exit 4; present when there were some). */
    unwritten?: number;
    packets: number;
    rewritten: number;
    undecodable: number;
    checksums: { verified: number; bad: number; unverifiable: number };
    /** The files' checksumsFixed added up, when a file has one (rewrite --fix-checksums). */
    checksumsFixed?: ChecksumsFixed;
    errors: number;
    warnings: number;
    collisions: number;
  };
  /** The worst of the files' verdicts (exit code 3 if any was unreadable, else 1 if any failed). */
  verdict: Verdict;
}

/** The severity of each check (docs/DESIGN.md part 1). */
export const CHECK_SEVERITY: Readonly<Record<CheckName, Severity>> = {
  'ipv4.checksum': 'error',
  'tcp.checksum': 'error',
  'udp.checksum': 'error',
  'icmp.checksum': 'error',
  'icmpv6.checksum': 'error',
  'dccp.checksum': 'error',
  'ipv4.checksum-offloaded': 'warning',
  'tcp.checksum-offloaded': 'warning',
  'udp.checksum-offloaded': 'warning',
  'udp.checksum-missing': 'error',
  'udp.checksum-zero-tunnel': 'warning',
  'gre.checksum': 'error',
  'icmp.inner-ipv4.checksum': 'warning',
  'icmp.inner-udp.checksum': 'warning',
  'icmp.inner-tcp.checksum': 'warning',
  'arp.duplicate-ip': 'warning',
  'arp.reply-mismatch': 'error',
  'arp.ip-mac-mismatch': 'warning',
  'arp.malformed': 'warning',
  'flow.collision': 'warning',
  'flow.wrong-clone': 'error',
  'addr.untranslated': 'error',
  'rule.unmatched': 'warning',
  'packet.undecodable': 'warning',
  'capture.truncated-tail': 'warning',
  'capture.unsupported-link': 'warning',
  'verify.limit': 'warning',
};

/** Findings listed per check, by default (`--max-findings`); the rest are counted, not listed. */
export const DEFAULT_MAX_FINDINGS = 10_000;

/**
 * Collects findings and keeps the error/warning counts of the summary in
 * step. At most `maxPerCheck` findings of one check are listed (0: no
 * limit): `trim()`, called as a run goes (after each read window) and at its
 * end, keeps the first ones of each check in list order and counts the rest
 * in `omitted`, so a capture with a finding on every packet costs bounded
 * memory and gives a report of bounded size, and a run whose threads add
 * findings out of order keeps the same ones once it has put them in order.
 * `recent` holds every finding since the last `mark()`, for the comment of
 * the frame in hand.
 */
export class Findings {
  readonly list: Finding[] = [];
  errors = 0;
  warnings = 0;
  /** Findings not listed, per check. */
  readonly omitted = new Map<CheckName, number>();
  /** Every finding added since the last mark(). */
  readonly recent: Finding[] = [];
  private readonly listed = new Map<CheckName, number>();
  /** list[0, trimmed) is settled: within the limit. */
  private trimmed = 0;

  /** Findings marked inherited (`markInherited`), by severity. */
  inheritedErrors = 0;
  inheritedWarnings = 0;
  /** Findings of checks turned off (`--ignore`), per check. */
  readonly ignored = new Map<CheckName, number>();

  /** `severity`: checks whose severity --fail-on or --ignore changed. */
  constructor(
    readonly maxPerCheck = DEFAULT_MAX_FINDINGS,
    readonly severity: SeverityOverrides = {},
  ) {}

  /** A finding; one of a check turned off is only counted (in `ignored`), and null is returned. */
  add(frame: number, iface: number, check: CheckName, message: string, extra: Partial<Pick<Finding, 'expected' | 'actual' | 'offset' | 'time' | 'vlan' | 'section'>> = {}): Finding | null {
    const set = this.severity[check];
    if (set === 'off') {
      this.ignored.set(check, (this.ignored.get(check) ?? 0) + 1);
      return null;
    }
    const severity = set ?? CHECK_SEVERITY[check];
    const f: Finding = { frame, interface: iface, check, severity, message, ...extra };
    if (severity === 'error') this.errors++;
    else this.warnings++;
    this.recent.push(f);
    this.list.push(f);
    return f;
  }

  /** list[0, settled) is in its final order and within the limit; what follows was added since the last trim(). */
  get settled(): number {
    return this.trimmed;
  }

  /**
   * Marks the findings of the frame in hand (`recent`) that `input` (the
   * input's findings of the same frame, as checks found them before the
   * rewrite) has too, check for check: what the rewrite kept, not made.
   */
  markInherited(input: readonly Finding[]): void {
    if (input.length === 0 || this.recent.length === 0) return;
    const left = input.map((f) => f.check);
    for (const f of this.recent) {
      const i = left.indexOf(f.check);
      if (i < 0) continue;
      left.splice(i, 1);
      f.inherited = true;
      if (f.severity === 'error') this.inheritedErrors++;
      else this.inheritedWarnings++;
    }
  }

  /** Starts a new `recent` (the findings of the next frame). */
  mark(): void {
    // Checked first: setting an array's length costs even when it is already 0, and this runs for every packet.
    if (this.recent.length !== 0) this.recent.length = 0;
  }

  /** Applies the limit to the findings added since the last trim (they must be in their final order). */
  trim(): void {
    const list = this.list;
    if (this.maxPerCheck <= 0) {
      this.trimmed = list.length;
      return;
    }
    let kept = this.trimmed;
    for (let i = this.trimmed; i < list.length; i++) {
      const f = list[i]!;
      const n = this.listed.get(f.check) ?? 0;
      if (n >= this.maxPerCheck) {
        this.omitted.set(f.check, (this.omitted.get(f.check) ?? 0) + 1);
        continue;
      }
      this.listed.set(f.check, n + 1);
      list[kept++] = f;
    }
    list.length = kept;
    this.trimmed = kept;
  }

  /** The report's `omitted`: per check, in the checks table's order; undefined when nothing was left out. */
  omittedReport(): Partial<Record<CheckName, number>> | undefined {
    return perCheck(this.omitted);
  }

  /** The report's `ignored`: per check turned off, in the checks table's order; undefined when none was found. */
  ignoredReport(): Partial<Record<CheckName, number>> | undefined {
    return perCheck(this.ignored);
  }
}

/** Counts per check as a report lists them: in the checks table's order; undefined when there are none. */
function perCheck(counts: ReadonlyMap<CheckName, number>): Partial<Record<CheckName, number>> | undefined {
  if (counts.size === 0) return undefined;
  const out: Partial<Record<CheckName, number>> = {};
  for (const c of Object.keys(CHECK_SEVERITY) as CheckName[]) {
    const n = counts.get(c);
    if (n !== undefined) out[c] = n;
  }
  return out;
}
