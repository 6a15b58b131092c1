/**
 * External tools some tests need (tshark, chromium, GNU parallel; nft, ip,
 * tcpdump, ethtool, python3 and dnsmasq for the live ruleset in
 * namespaces, dumpcap for the live VXLAN rig, python3-scapy to rebuild the
 * tunnel fixtures). On a machine without one, its tests are skipped with the
 * reason, which the summary line prints ("skipped for a missing tool:
 * tshark"), so that `npm test` there still tells the truth. CI (.ci/run) installs every tool
 * and sets SSNAT_REQUIRE_TOOLS=1, under which a missing tool fails the test
 * instead: CI always runs everything.
 */
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'vitest';

export interface Tool {
  /** The command run to see whether the tool is there. */
  readonly command: string;
  readonly args: readonly string[];
  /** The Debian package that provides it. */
  readonly pkg: string;
}

export const TOOLS = {
  tshark: { command: 'tshark', args: ['--version'], pkg: 'tshark' },
  editcap: { command: 'editcap', args: ['-h'], pkg: 'tshark' },
  dumpcap: { command: 'dumpcap', args: ['--version'], pkg: 'tshark' },
  chromium: { command: 'chromium', args: ['--version'], pkg: 'chromium' },
  parallel: { command: 'parallel', args: ['--version'], pkg: 'parallel' },
  nft: { command: 'nft', args: ['--version'], pkg: 'nftables' },
  ip: { command: 'ip', args: ['-V'], pkg: 'iproute2' },
  tcpdump: { command: 'tcpdump', args: ['--version'], pkg: 'tcpdump' },
  ethtool: { command: 'ethtool', args: ['--version'], pkg: 'ethtool' },
  python3: { command: 'python3', args: ['--version'], pkg: 'python3' },
  // Debian's python3 with scapy (fixtures/capture/tunnels.py), not whatever python3 comes first on PATH.
  scapy: { command: '/usr/bin/python3', args: ['-c', 'import scapy.all'], pkg: 'python3-scapy' },
  dnsmasq: { command: 'dnsmasq', args: ['--version'], pkg: 'dnsmasq-base' },
} as const satisfies Record<string, Tool>;

export type ToolName = keyof typeof TOOLS;

/** The prefix of every skip note for a missing tool; the summary reporter counts these. */
export const MISSING_TOOL = 'missing tool: ';

const found = new Map<ToolName, boolean>();

export function hasTool(name: ToolName): boolean {
  let ok = found.get(name);
  if (ok === undefined) {
    const t = TOOLS[name];
    try {
      execFileSync(t.command, t.args, { stdio: 'ignore', timeout: 30_000 });
      ok = true;
    } catch {
      ok = false;
    }
    found.set(name, ok);
  }
  return ok;
}

/**
 * Skips the test (with the reason) unless every tool is installed; under
 * SSNAT_REQUIRE_TOOLS=1 a missing tool fails it instead. Call it first in a
 * test, or in a beforeEach for a whole describe block.
 */
export function needs(ctx: TestContext, ...names: ToolName[]): void {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return;
  const how = `apt-get install ${[...new Set(missing.map((n) => TOOLS[n].pkg))].join(' ')}`;
  if (process.env.SSNAT_REQUIRE_TOOLS === '1') {
    throw new Error(`${missing.join(', ')} not installed, and SSNAT_REQUIRE_TOOLS=1 requires it (${how})`);
  }
  ctx.skip(`${MISSING_TOOL}${missing.join(', ')} (${how})`);
}
