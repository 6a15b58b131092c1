/**
 * `ssnat-rewrite export nft`: prints (or writes, atomically, with -o) the nft
 * script of src/nat/nft.ts, and says once on stderr what the live ruleset
 * leaves out.
 */
import { UsageError, printable } from '../errors.js';
import { checkDistinct, planOutput } from '../capture/outputs.js';
import { TextOutput } from '../capture/target.js';
import { DEFAULT_TABLE, exportNft, gapLine, type NftMode } from '../nat/nft.js';
import { loadRules } from './inputs.js';
import { say } from './stderr.js';

export interface ExportOptions {
  rule?: string[];
  rulesFile?: string;
  table?: string;
  mode?: NftMode;
  output?: string;
  quiet?: boolean;
}

export const EXPORT_HELP = `
Examples:
  # tap0 and tap1 carry clones of one VM (10.0.0.2, fd00::2): give each its own host networks
  $ ssnat-rewrite export nft -r 10.0.0.0/24=192.168.10.0/24@tap0 -r fd00::/64=fd00:10::/64@tap0 \\
      -r 10.0.0.0/24=192.168.11.0/24@tap1 -o ssnat.nft
  $ sudo nft -f ssnat.nft          # again after a change: still one table
  $ sudo nft delete table netdev ssnat   # to remove it

The script is one table netdev with, per device, an ingress chain (guest to host) and an
egress chain (host to guest, Linux 5.16 or later), made from the same rules as the offline
rewrite. Every rule needs @DEVICE (a tap's name) and both networks (GUEST=HOST), and no tunnel
scope (nft rewrites outer headers only: hook the device where the tunnel ends). What the
live ruleset leaves out (NDP targets, ICMP-quoted headers, tunnels) is listed at the top of
the script and on stderr, with what to do instead. Capture on the host and check it with
'ssnat-rewrite verify --rule ...' (the guest side with -d host-to-guest): verify names the
frames the live ruleset left untranslated.

--mode conntrack-zones prints the stateful alternative instead: a table inet in which each tap's
connections get their own conntrack zone and the host's source NAT maps each tap's guest networks
onto its host networks, so the host's own services answer every clone (the policy routes it also
needs are in the script's header). Prefer it when the clones only talk to the host itself and
ICMP errors must reach them intact; prefer the stateless default when the host must reach the
clones or forward their traffic, or when captures must match the offline rewrite.

Exit codes: 0 success, 2 usage or rule error, 4 the output could not be written.`;

/** Runs `export nft`; resolves to the exit code. `write` prints the script on stdout. */
export async function exportAction(format: string, opts: ExportOptions, write: (text: string) => void): Promise<number> {
  if (format !== 'nft') throw new UsageError(`export ${JSON.stringify(format)}: the one format is nft (ssnat-rewrite export nft --rule GUEST=HOST@DEVICE ...)`);
  const rules = loadRules(opts);
  const { script, gaps, needs } = exportNft(rules, opts.table ?? DEFAULT_TABLE, opts.mode ?? 'stateless');
  const output = opts.output ?? '-';
  if (output !== '-') {
    const plan = planOutput('nft script', output, false, false);
    checkDistinct(opts.rulesFile === undefined ? [] : [opts.rulesFile], [plan]);
    const out = await TextOutput.prepare(plan, script);
    try {
      await out.commit();
    } catch (e) {
      await out.abort();
      throw e;
    }
  } else write(script);
  if (opts.quiet !== true) {
    if (needs !== undefined) say(`ssnat-rewrite: note: ${printable(needs)}\n`);
    for (const g of gaps) say(`ssnat-rewrite: note: ${printable(gapLine(g))}\n`);
  }
  return 0;
}
