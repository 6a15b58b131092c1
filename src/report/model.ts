/**
 * The report object: exactly the JSON document of docs/DESIGN.md part 1
 * (`--report json`), which scripts parse. Renderers (text, json, junit) all
 * start from this.
 */

export type Severity = 'error' | 'warning';

/**
 * Check names are part of the product contract (docs/DESIGN.md part 1, "Checks").
 * Two are additions to that table (issue 4): `dccp.checksum` (error, DCCP's
 * pseudo-header checksum, RFC 4340 9) and `verify.limit` (warning: a
 * verifier table limit was hit, so some checks were not made; see
 * src/verify/verifier.ts VerifierOptions).
 */
export type CheckName =
  | 'ipv4.checksum'
  | 'tcp.checksum'
  | 'udp.checksum'
  | 'icmp.checksum'
  | 'icmpv6.checksum'
  | 'dccp.checksum'
  | 'tcp.checksum-offloaded'
  | 'udp.checksum-offloaded'
  | 'udp.checksum-missing'
  | 'icmp.inner-ipv4.checksum'
  | 'arp.duplicate-ip'
  | 'arp.reply-mismatch'
  | 'arp.ip-mac-mismatch'
  | 'arp.malformed'
  | 'flow.collision'
  | 'addr.untranslated'
  | 'packet.undecodable'
  | 'capture.truncated-tail'
  | 'verify.limit';

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
}

export interface Collision {
  protocol: string;
  flow: string;
  interfaces: number[];
  frames: number[];
}

export interface ReportInterface {
  id: number;
  name?: string;
  linkType: number;
}

export interface Report {
  tool: 'ssnat-rewrite';
  version: string;
  command: 'rewrite' | 'verify';
  input: { path: string; format: string; interfaces: ReportInterface[] };
  output?: { path: string; format: string };
  direction: 'guest-to-host' | 'host-to-guest';
  rules: string[];
  summary: {
    packets: number;
    rewritten: number;
    undecodable: number;
    checksums: { verified: number; bad: number; unverifiable: number };
    errors: number;
    warnings: number;
    collisions: number;
  };
  findings: Finding[];
  collisions: Collision[];
}

/** The severity of each check (docs/DESIGN.md part 1). */
export const CHECK_SEVERITY: Readonly<Record<CheckName, Severity>> = {
  'ipv4.checksum': 'error',
  'tcp.checksum': 'error',
  'udp.checksum': 'error',
  'icmp.checksum': 'error',
  'icmpv6.checksum': 'error',
  'dccp.checksum': 'error',
  'tcp.checksum-offloaded': 'warning',
  'udp.checksum-offloaded': 'warning',
  'udp.checksum-missing': 'error',
  'icmp.inner-ipv4.checksum': 'warning',
  'arp.duplicate-ip': 'warning',
  'arp.reply-mismatch': 'error',
  'arp.ip-mac-mismatch': 'warning',
  'arp.malformed': 'warning',
  'flow.collision': 'warning',
  'addr.untranslated': 'error',
  'packet.undecodable': 'warning',
  'capture.truncated-tail': 'warning',
  'verify.limit': 'warning',
};

/** Collects findings and keeps the error/warning counts of the summary in step. */
export class Findings {
  readonly list: Finding[] = [];
  errors = 0;
  warnings = 0;

  add(frame: number, iface: number, check: CheckName, message: string, extra: Partial<Pick<Finding, 'expected' | 'actual' | 'offset'>> = {}): Finding {
    const severity = CHECK_SEVERITY[check];
    const f: Finding = { frame, interface: iface, check, severity, message, ...extra };
    this.list.push(f);
    if (severity === 'error') this.errors++;
    else this.warnings++;
    return f;
  }
}
