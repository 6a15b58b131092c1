/**
 * The command line: commander program, options, exit codes.
 *
 * Every error a user can cause ends here as one line on stderr, prefixed
 * "ssnat-rewrite:", and a documented exit code (docs/DESIGN.md part 1): 0 ok,
 * 1 findings, 2 usage or rule error, 3 unreadable input, 4 an output that
 * could not be written. A stack trace means a bug.
 */
import { MAX_TUNNEL_DEPTH, MAX_TUNNEL_DEPTH_LIMIT, type TunnelSettings } from '../wire/tunnel.js';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT_CODES, EXIT_INTERNAL, EXIT_OK, EXIT_OUTPUT, EXIT_USAGE, RuleError, SsnatError, UsageError, errnoWords, formatError, fromSystemError, printable, shownName } from '../errors.js';
import type { Rule } from '../nat/rules.js';
import { parseMacRule, validateMacRules, type MacRule } from '../nat/mac.js';
import type { Direction } from '../nat/table.js';
import { PARALLEL_MIN_BYTES, PARALLEL_MIN_CORES, reverseRuleHits, runPipeline, type PipelineOptions, type RunResult } from '../pipeline.js';
import { checkDistinct, planOutput, type PlannedOutput } from '../capture/outputs.js';
import { removeTempFiles, TextOutput } from '../capture/target.js';
import { VERSION } from '../version.js';
import { CHECK_SEVERITY, DEFAULT_MAX_FINDINGS, type Report, type SeverityOverrides } from '../report/model.js';
import { renderJson } from '../report/json.js';
import { fixedText, renderText } from '../report/text.js';
import { renderJunit } from '../report/junit.js';
import { renderHtmlReport } from '../report/html.js';
import { startProgress, type Progress } from './progress.js';
import type { VerifierOptions } from '../verify/verifier.js';
import { OutputClosed } from '../capture/pipe.js';
import { checkInput, formatFromName, loadRules } from './inputs.js';
import { finishedOutputs, isMany, mergeReports, readFileList, rewriteMany, sizedReport, verifyMany, type ManyOptions, type ReportKind } from './many.js';
import { availableCores } from '../multi/cores.js';
import { join } from 'node:path';
import { num } from '../report/numbers.js';
import { CHECKS, FAMILIES, familyOf } from '../report/families.js';
import { severityOverrides } from '../report/severity.js';
import { say, stderr } from './stderr.js';
import { EXPORT_HELP, exportAction, type ExportOptions } from './export.js';

export { workerMain } from '../multi/run.js';

interface CommonOptions {
  rule?: string[];
  rulesFile?: string;
  direction: Direction;
  report?: ReportKind;
  reportFile?: string;
  strict?: boolean;
  quiet?: boolean;
  progress?: boolean;
  maxBlock?: number;
  maxRecord?: number;
  maxFindings?: number;
  failOn?: string[];
  ignore?: string[];
  tunnels: 'on' | 'off';
  vxlanPort?: number[];
  maxTunnelDepth?: number;
}

/** --collision-window, --max-flows, ...: commander's camel-cased names are the verifier's option names. */
type VerifyLimitOptions = VerifierOptions;

interface RewriteOptions extends CommonOptions, VerifyLimitOptions {
  outDir?: string;
  /** Absent: the output's name decides (.pcapng, .pcap, .cap), else the input's format. */
  format?: 'same' | 'pcap' | 'pcapng';
  verify?: boolean;
  annotate?: boolean;
  force?: boolean;
  skipExisting?: boolean;
  jobs?: number;
  mac?: string[];
  fixChecksums?: boolean;
}

interface VerifyCommandOptions extends CommonOptions, VerifyLimitOptions {
  jobs?: number;
  filesFrom?: string;
  annotate?: string;
  force?: boolean;
}

/** -r's values: a value that is an option ("-r --force") is a forgotten rule, not a rule. */
const collect = (value: string, previous: string[] | undefined): string[] => {
  if (value.startsWith('-')) throw new InvalidArgumentError(`expected a rule (GUEST=HOST[@IFACE]), got the option ${value}`);
  return [...(previous ?? []), value];
};

/** --mac's values: a value that is an option ("--mac --force") is a forgotten mapping. */
const collectMac = (value: string, previous: string[] | undefined): string[] => {
  if (value.startsWith('-')) throw new InvalidArgumentError(`expected a MAC mapping (OLD=NEW[@IFACE]), got the option ${value}`);
  return [...(previous ?? []), value];
};

/** A path option's value: "--x" there is a forgotten path ('-' alone is stdout/stdin). */
function pathValue(value: string): string {
  if (value.startsWith('--')) throw new InvalidArgumentError(`expected a file name, got the option ${value}`);
  return value;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number of bytes');
  return n;
}

function positiveCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0 || n > 0x7fffffff) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

function countOrZero(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new InvalidArgumentError('expected a whole number (0: no limit)');
  return n;
}

/** --vxlan-port: a UDP port (repeatable). */
function collectPort(value: string, previous: number[] | undefined): number[] {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a UDP port (1-65535), e.g. 8472 (Linux\'s VXLAN default)');
  return [...(previous ?? []), n];
}

/** --tunnels and --vxlan-port as the decoder takes them. */
function tunnelSettings(opts: CommonOptions): TunnelSettings {
  return { on: opts.tunnels !== 'off', vxlanPorts: opts.vxlanPort ?? [], ...(opts.maxTunnelDepth === undefined ? {} : { maxDepth: opts.maxTunnelDepth }) };
}

/** --max-tunnel-depth: 1 to MAX_TUNNEL_DEPTH_LIMIT. */
function tunnelDepth(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > MAX_TUNNEL_DEPTH_LIMIT) throw new InvalidArgumentError(`expected a number of tunnels from 1 to ${MAX_TUNNEL_DEPTH_LIMIT} (default ${MAX_TUNNEL_DEPTH})`);
  return n;
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

/** --jobs: worker threads for a run over many captures. */
function jobsOption(): Option {
  return new Option('-j, --jobs <n>', `captures processed at once, on this thread and N-1 worker threads (default: the cores available, ${availableCores()} here)`).argParser(positiveCount);
}

/** The script a worker thread of --jobs runs: the CLI bundle's workerMain (bin/worker.cjs, beside the launcher). */
function workerEntry(): string {
  // In the bundle, __dirname is dist/ (bin/load-cli.cjs hands it in).
  return join(__dirname, '..', 'bin', 'worker.cjs');
}

/** The verifier's windows and table limits (verify, and rewrite --verify). */
function addVerifyOptions(cmd: Command): Command {
  return cmd
    .option('--collision-window <seconds>', 'one flow on two interfaces/VLANs within this many seconds is a collision (default 120)', positiveSeconds)
    .option('--max-flows <n>', 'flows tracked for collisions (default 1048576)', positiveCount)
    .option('--max-datagrams <n>', 'incomplete fragmented datagrams held for reassembly (default 4096)', positiveCount)
    .option('--max-fragments <n>', 'fragments per datagram (default 64)', positiveCount)
    .option('--fragment-timeout <seconds>', 'give up an incomplete datagram this long after its first fragment (default 60)', positiveSeconds)
    .option('--max-arp-entries <n>', 'ARP bindings and outstanding requests tracked (default 65536)', positiveCount);
}

function verifierOptions(opts: VerifyLimitOptions): VerifierOptions {
  const o: VerifierOptions = {};
  if (opts.collisionWindow !== undefined) o.collisionWindow = opts.collisionWindow;
  if (opts.maxFlows !== undefined) o.maxFlows = opts.maxFlows;
  if (opts.maxDatagrams !== undefined) o.maxDatagrams = opts.maxDatagrams;
  if (opts.maxFragments !== undefined) o.maxFragments = opts.maxFragments;
  if (opts.fragmentTimeout !== undefined) o.fragmentTimeout = opts.fragmentTimeout;
  if (opts.maxArpEntries !== undefined) o.maxArpEntries = opts.maxArpEntries;
  return o;
}

/** The exit codes for --help, from the one list (errors.ts). */
function exitCodesHelp(): string {
  return `Exit codes: ${Object.entries(EXIT_CODES)
    .map(([code, what]) => `${code} ${what}`)
    .join(',\n  ')},\n  130, 143 interrupted by SIGINT or SIGTERM\n(no output is left behind on 3, 4, 130 or 143, but for an --out-dir run's\noutputs finished before the signal: kept whole, and --skip-existing resumes).`;
}

/** The checks and their severities for verify --help, from the one table (report/model.ts). */
function checksHelp(): string {
  const lines = FAMILIES.map((family) => `  ${CHECKS.filter((c) => familyOf(c) === family).map((c) => `${c} (${CHECK_SEVERITY[c]})`).join(', ')}`);
  return `Checks (for --fail-on and --ignore; family.* names a family):\n${lines.join('\n')}`;
}

const REWRITE_EXAMPLES = `
Examples:
  # map clone 1's guest network (on tap1) onto its own host network
  $ ssnat-rewrite guest1.pcapng host1.pcapng --rule 10.0.0.0/24=192.168.11.0/24

  # one rule per TAP interface of a multi-interface capture, host view back to guest view
  $ ssnat-rewrite taps.pcapng guests.pcapng -d host-to-guest \\
      -r 10.0.0.0/24=192.168.10.0/24@tap0 -r 10.0.0.0/24=192.168.11.0/24@tap1

  # the clones also share QEMU's MAC: give each TAP's its own (Ethernet, ARP, NDP options)
  $ ssnat-rewrite guest1.pcapng host1.pcapng -r 10.0.0.0/24=192.168.11.0/24 \\
      --mac 52:54:00:12:34:56=52:54:00:00:00:11

  # replay a capture taken with checksum offload: recompute every IP and L4 checksum
  # (off by default: it erases the evidence of bad checksums; verify first)
  $ ssnat-rewrite offloaded.pcapng replay.pcapng --fix-checksums

  # streaming, with packet comments for Wireshark (frame.comment contains "ssnat");
  # tcpdump writes pcap, comments need pcapng: the output is pcapng
  $ tcpdump -i tap1 -w - | ssnat-rewrite - - --annotate -r 10.0.0.0/24=192.168.11.0/24 > out.pcapng

Output format: --format, else the output's name (.pcapng, .pcap, .cap, each
optionally .gz), else the input's. Inputs and outputs named .gz are gzip.

Rules: GUEST=HOST (10.0.0.0/24=192.168.1.0/24, fd00::/64=fd00:1::/64), QEMU form
172.16.0.0:255.255.255.0:192.168.1.0, tcprewrite form 10.0.0.0/24:192.168.1.0/24,
or GUEST alone (host network from the pcapng interface address); add @IFNAME or @#ID
to limit a rule to one interface. First matching rule wins.
Tunnel scopes: @vni:ID (VXLAN, VXLAN-GPE, Geneve VNI, NVGRE VSID; 0-16777215),
@key:ID (GRE key) or @teid:ID (GTP-U TEID; both 0-4294967295), IDs decimal or 0x hex,
a list (@teid:1,2,3) or * for any, also after an interface (@tap1+vni:5001): the rule
applies only inside matching tunnels; without one a rule applies outside and inside
every tunnel. An interface named like vni:5 or holding a + is @#N.
MAC mappings: --mac OLD=NEW[@IFACE] (not in rules files), NEW to OLD with -d host-to-guest.

${exitCodesHelp()}`;

const MERGE_EXAMPLES = `
Examples:
  # shards of a suite checked separately (other jobs, other machines), one report
  $ ssnat-rewrite verify shard1/ --report json --report-file s1.json
  $ ssnat-rewrite verify shard2/ --report json --report-file s2.json
  $ ssnat-rewrite merge-reports s1.json s2.json --report junit --report-file verify.xml

The merged report is what one run over all the shards' files prints (files sorted
by path); its exit code is theirs: 3 if a file was unreadable, else 1 if one failed.`;

const VERIFY_EXAMPLES = `
Examples:
  $ ssnat-rewrite verify capture.pcapng
  $ ssnat-rewrite verify host.pcapng --rule 10.0.0.0/24=192.168.10.0/24 --report json
  $ ssnat-rewrite verify regression.pcap --report junit --report-file verify.xml --strict
  # a pcapng copy with a comment on each frame that has a finding
  # (Wireshark display filter: frame.comment contains "ssnat")
  $ ssnat-rewrite verify taps.pcap --annotate taps-findings.pcapng
  # a whole suite on every core: one combined report, the worst exit code
  $ ssnat-rewrite verify captures/ --report junit --report-file verify.xml --strict
  # collisions fail too; ARP findings are only counted
  $ ssnat-rewrite verify taps.pcapng --fail-on flow.collision --ignore 'arp.*'

${checksHelp()}

${exitCodesHelp()}`;

function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('-r, --rule <rule>', 'translation rule GUEST=HOST[@SCOPE] (repeatable); SCOPE: IFACE, a tunnel (vni|key|teid:ID) or IFACE+TUNNEL', collect)
    .option('--rules-file <file>', 'read rules from a file, one per line, # comments', pathValue)
    .addOption(
      new Option('-d, --direction <direction>', 'which way rules apply')
        .choices(['guest-to-host', 'host-to-guest'])
        .default('guest-to-host'),
    )
    .addOption(new Option('--report <kind>', 'report format (default: text for verify, a summary line for rewrite); html: a page that draws the collisions').choices(['text', 'json', 'junit', 'html']))
    .option('--report-file <file>', 'write the report to a file instead of stdout', pathValue)
    .option('--strict', 'warnings fail the run (exit 1)')
    .option('--fail-on <checks>', 'make these checks errors: names or family.* globs, comma-separated (e.g. flow.collision); repeatable', collect)
    .option('--ignore <checks>', 'turn these checks off: their findings are only counted (e.g. arp.*); repeatable', collect)
    .addOption(new Option('--tunnels <on|off>', 'look into tunnels (VXLAN, VXLAN-GPE, Geneve, GRE, NVGRE, ERSPAN, PPTP, GRE-in-UDP, IP-in-IP, GTP-U): translate and verify the packets they carry; off keeps every tunnel opaque, as a NAT in front of a VTEP sees it').choices(['on', 'off']).default('on'))
    .option('--max-tunnel-depth <n>', `tunnels read inside one another, at most (default ${MAX_TUNNEL_DEPTH}); a packet nested deeper passes unchanged as packet.undecodable`, tunnelDepth)
    .option('--vxlan-port <port>', 'also decode this UDP port as VXLAN (repeatable; 4789 always is), e.g. 8472, Linux\'s default', collectPort)
    .option('-q, --quiet', 'print nothing but errors (verify: no report either, unless --report or --report-file asks for one)')
    .option('--progress', 'show a progress bar on stderr (default: when stderr is a terminal)')
    .option('--no-progress', 'never show a progress bar')
    .option('--max-block <bytes>', 'largest pcapng block accepted (default 268435456)', positiveInt)
    .option('--max-record <bytes>', 'largest pcap record accepted (default: max(snaplen, 262144))', positiveInt)
    .option('--max-findings <n>', `findings listed per check in the report (default ${DEFAULT_MAX_FINDINGS}; 0: all); the rest are counted, not listed`, countOrZero);
}

export function buildProgram(run: (result: Promise<number>) => void): Command {
  const program = new Command('ssnat-rewrite');
  program
    .description('Stateless static NAT for packet captures: rewrite cloned VMs\' guest addresses in pcap/pcapng, and verify checksums, ARP and flow collisions.')
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .showHelpAfterError("(run 'ssnat-rewrite --help' for usage and examples)")
    // The command list shows each command's usage line ("rewrite [options] <input> <output>").
    .configureHelp({ showGlobalOptions: true, subcommandTerm: (cmd) => `${cmd.name()} ${cmd.usage().split('\n')[0]}` })
    // One prefix for every error line, commander's included.
    .configureOutput({
      writeOut: (text) => writeReport(text, EXIT_OK, 'stdout', 'the help'),
      writeErr: say,
      outputError: (text, write) => write(text.replace(/^error: /, 'ssnat-rewrite: ')),
    });

  addVerifyOptions(addCommonOptions(
    program
      .command('rewrite', { isDefault: true })
      .description('rewrite a capture (the default command), or many into --out-dir')
      .usage('[options] <input> <output>\n       ssnat-rewrite rewrite [options] --out-dir DIR <input>...')
      .argument('<paths...>', "the input capture ('-' for stdin) and the output ('-' for stdout); with --out-dir, input captures and directories"),
  ))
    .addOption(new Option('--format <format>', 'output format (default: from the output\'s name, else the input\'s)').choices(['same', 'pcap', 'pcapng']))
    .option('--out-dir <dir>', 'rewrite every input (files, and directories walked for captures: by name, .pcap, .pcapng, .cap and .gz, or by their first bytes) into DIR, keeping their paths', pathValue)
    .option('--verify', 'verify the output while writing it')
    .option('--annotate', 'add a pcapng packet comment naming each rewrite')
    .option('--mac <mapping>', 'MAC mapping OLD=NEW[@IFACE] (repeatable): Ethernet/802.11/SLL addresses, ARP hardware addresses and NDP link-layer address options; -d host-to-guest maps NEW to OLD', collectMac)
    .option('--fix-checksums', 'recompute every IPv4 header and TCP/UDP/UDP-Lite/DCCP/ICMP/ICMPv6 checksum of the output (for replaying offloaded captures); off by default because it erases the evidence of bad checksums (UDP/IPv4 checksum 0 stays 0; snaplen-cut packets and fragments are left as they are)')
    .option('-f, --force', 'replace an existing output capture (a report file is replaced without it, unless it holds a capture)')
    .option('--skip-existing', 'with --out-dir: leave out the inputs whose output exists (resumes a run that was interrupted: what it finished is whole)')
    .option(
      '-j, --jobs <n>',
      `threads: with --out-dir, captures rewritten at once; else threads that translate the one capture (default: the cores available, ${availableCores()} here; one capture is split from ${PARALLEL_MIN_BYTES >> 20} MB on ${PARALLEL_MIN_CORES} cores or more)`,
      positiveCount,
    )
    .addHelpText('after', REWRITE_EXAMPLES)
    .action((paths: string[], opts: RewriteOptions) => run(rewriteAction(paths, opts)));

  addVerifyOptions(
    addCommonOptions(
      program
        .command('verify')
        .description('check IP and L4 checksums, ARP consistency, flow collisions and (with --rule) untranslated addresses')
        .usage('[options] <input>...')
        .argument('[inputs...]', "captures to check ('-' for stdin), or directories of captures (.pcap, .pcapng, .cap and their .gz, or any file that starts as a capture)"),
    ),
  )
    .option('--annotate <output>', 'write a pcapng copy with a comment ("ssnat: ...") on every frame that has a finding', pathValue)
    .option('--files-from <list>', 'also check the captures a file lists, one path a line (a shard of a suite; no limit on the command line\'s length); - reads the list from stdin', pathValue)
    .addOption(jobsOption())
    .option('-f, --force', 'replace an existing --annotate output (a report file is replaced without it, unless it holds a capture)')
    .addHelpText('after', VERIFY_EXAMPLES)
    .action((inputs: string[], opts: VerifyCommandOptions) => run(verifyAction(inputs, opts)));

  program
    .command('merge-reports')
    .description('combine JSON reports of separate runs (shards, other machines) into what one run over all their files prints')
    .usage('[options] <report.json>...')
    .argument('<reports...>', 'JSON reports (--report json) of verify or rewrite runs')
    .addOption(new Option('--report <kind>', 'report format').choices(['text', 'json', 'junit', 'html']).default('text'))
    .option('--report-file <file>', 'write the report to a file instead of stdout', pathValue)
    .option('--expect <list>', 'a file listing every capture the reports must cover, one path a line: those in no report are unreadable entries (a lost shard fails the merge)', pathValue)
    .option('-f, --force', 'accepted for older scripts: a report file is replaced without it (never one that holds a capture)')
    .addHelpText('after', MERGE_EXAMPLES)
    .action((reports: string[], opts: { report: ReportKind; reportFile?: string; expect?: string; force?: boolean }) =>
      run(mergeReports(reports, { report: opts.report, reportFile: opts.reportFile, expect: opts.expect, force: opts.force === true }, reportToStdout)),
    );

  program
    .command('export')
    .description('print the rules as a live nftables ruleset for the host\'s taps (a netdev table: ingress and egress chains per device)')
    .usage('nft [options] --rule GUEST=HOST@DEVICE ...')
    .argument('<format>', 'nft: an nftables script for `nft -f`')
    .option('-r, --rule <rule>', 'translation rule GUEST=HOST@DEVICE (repeatable)', collect)
    .option('--rules-file <file>', 'read rules from a file, one per line, # comments', pathValue)
    .option('--table <name>', 'the table the script (re)creates', 'ssnat')
    .addOption(new Option('--mode <mode>', 'stateless: netdev chains rewrite every frame on the taps; conntrack-zones: the host\'s stateful NAT, one conntrack zone per tap').choices(['stateless', 'conntrack-zones']).default('stateless'))
    .option('-o, --output <file>', "write the script to FILE (atomically; replaced if it exists) instead of stdout ('-')", pathValue)
    .option('-q, --quiet', 'do not list on stderr what the live ruleset leaves out (the script lists it anyway)')
    .addHelpText('after', EXPORT_HELP)
    .action((format: string, opts: ExportOptions) => run(exportAction(format, opts, (text) => writeReport(text, EXIT_OK, 'stdout', 'the script'))));

  program.addHelpText('after', `\nRun 'ssnat-rewrite rewrite --help', 'ssnat-rewrite verify --help' or 'ssnat-rewrite export --help' for every option.\n${REWRITE_EXAMPLES}`);
  return program;
}

function pipelineOptions(command: 'rewrite' | 'verify', input: string, output: string | null, opts: CommonOptions, rules: Rule[], progress: Progress | null): PipelineOptions {
  return {
    command,
    input,
    output,
    rules,
    direction: opts.direction,
    format: 'same',
    annotate: false,
    force: false,
    strict: opts.strict === true,
    ...severityOption(opts),
    ...(opts.maxBlock === undefined ? {} : { maxBlock: opts.maxBlock }),
    ...(opts.maxRecord === undefined ? {} : { maxRecord: opts.maxRecord }),
    ...(opts.maxFindings === undefined ? {} : { maxFindings: opts.maxFindings }),
    ...(progress === null ? {} : { onProgress: progress.update }),
  };
}

/** `severity` of the pipeline's options, from --fail-on and --ignore (none when they change nothing). */
function severityOption(opts: CommonOptions): { severity?: SeverityOverrides } {
  const severity = severityOverrides(opts.failOn, opts.ignore);
  return severity === undefined ? {} : { severity };
}

function wantsProgress(opts: CommonOptions): boolean {
  if (opts.quiet) return false;
  return opts.progress ?? process.stderr.isTTY === true;
}

/** The report as text in the asked format. */
function render(report: Report, kind: ReportKind): string {
  return sizedReport(() => renderAs(report, kind));
}

function renderAs(report: Report, kind: ReportKind): string {
  switch (kind) {
    case 'json':
      return renderJson(report);
    case 'junit':
      return renderJunit(report);
    case 'html':
      return renderHtmlReport(report);
    case 'text':
      return renderText(report);
  }
}

/**
 * The report file of a run, when one is asked for: written to its temporary
 * file before the capture output is committed (`beforeCommit`), renamed into
 * place after it, thrown away with it on any failure.
 */
class ReportFile {
  private pending: TextOutput | null = null;
  constructor(
    readonly plan: PlannedOutput | null,
    private readonly kind: ReportKind,
  ) {}

  readonly prepare = async (report: Report): Promise<void> => {
    if (this.plan !== null) this.pending = await TextOutput.prepare(this.plan, render(report, this.kind));
  };

  async commit(): Promise<void> {
    await this.pending?.commit();
  }

  async abort(): Promise<void> {
    await this.pending?.abort();
  }
}

/** Plans every output of a run together: each checked on its own, against the input and against each other. */
function planOutputs(input: string, outputs: Array<[PlannedOutput['role'], string | undefined | null, boolean]>, force: boolean): Array<PlannedOutput | null> {
  const plans = outputs.map(([role, path, binary]) => (path === undefined || path === null ? null : planOutput(role, path, force, binary)));
  checkDistinct([input], plans.filter((p): p is PlannedOutput => p !== null));
  return plans;
}

/** Runs the pipeline with a report file written atomically alongside its output. */
async function runWithReport(options: PipelineOptions, reportFile: ReportFile): Promise<RunResult> {
  let result: RunResult;
  try {
    result = await runPipeline({ ...options, beforeCommit: reportFile.prepare });
  } catch (e) {
    await reportFile.abort();
    throw e;
  }
  await reportFile.commit();
  return result;
}

function printNotes(notes: readonly string[], opts: CommonOptions): void {
  if (opts.quiet) return;
  for (const n of notes) say(`ssnat-rewrite: note: ${printable(n)}\n`);
}

/** The options of a run over many captures, from the command line's. */
function manyOptions(opts: CommonOptions & VerifyLimitOptions & { jobs?: number; force?: boolean; skipExisting?: boolean }, rules: Rule[], report: ReportKind): ManyOptions {
  return {
    rules,
    direction: opts.direction,
    strict: opts.strict === true,
    ...severityOption(opts),
    jobs: opts.jobs ?? availableCores(),
    force: opts.force === true,
    skipExisting: opts.skipExisting === true,
    quiet: opts.quiet === true,
    progress: wantsProgress(opts),
    progressForced: opts.progress === true,
    report,
    reportAsked: opts.report !== undefined || opts.reportFile !== undefined,
    reportFile: opts.reportFile,
    verifyOptions: verifierOptions(opts),
    tunnels: tunnelSettings(opts),
    maxBlock: opts.maxBlock,
    maxRecord: opts.maxRecord,
    maxFindings: opts.maxFindings,
    workerEntry: workerEntry(),
  };
}

/** A rewrite's rules; none is a mistake unless the run rewrites MACs, fixes checksums or only converts (--format). */
function rewriteRules(opts: RewriteOptions): Rule[] {
  const rules = loadRules(opts);
  if (rules.length === 0 && (opts.mac ?? []).length === 0 && opts.fixChecksums !== true && (opts.format ?? 'same') === 'same') {
    throw new UsageError('no --rule or --rules-file: nothing to translate (to convert only, add --format pcap or --format pcapng)');
  }
  return rules;
}

/** The --mac mappings, parsed and checked as one set (exit 2 with a caret under the bad part). */
function macRules(opts: RewriteOptions): MacRule[] {
  const rules = (opts.mac ?? []).map((m) => parseMacRule(m));
  validateMacRules(rules);
  return rules;
}

async function rewriteAction(paths: string[], opts: RewriteOptions): Promise<number> {
  if (opts.skipExisting === true && opts.outDir === undefined) throw new UsageError('--skip-existing resumes a run over many captures: use it with --out-dir DIR');
  if (opts.skipExisting === true && opts.force === true) throw new UsageError('--skip-existing keeps the outputs that exist and --force replaces them: give one of them');
  if (opts.outDir !== undefined) {
    const rules = rewriteRules(opts);
    const many = { ...manyOptions(opts, rules, opts.report ?? 'text'), macRules: macRules(opts), fixChecksums: opts.fixChecksums === true };
    return rewriteMany(paths, opts.outDir, opts.format ?? 'same', opts.annotate === true, opts.verify === true, many, reportToStdout);
  }
  if (paths.length !== 2) {
    throw new UsageError(
      paths.length < 2
        ? `rewrite needs an input and an output (got ${paths.length === 0 ? 'neither' : `only ${paths[0]}`}); for many inputs, add --out-dir DIR`
        : `rewrite takes one input and one output (got ${paths.length} paths); to rewrite many captures, add --out-dir DIR`,
    );
  }
  return rewriteCommand(paths[0]!, paths[1]!, opts);
}

async function verifyAction(args: string[], opts: VerifyCommandOptions): Promise<number> {
  if (opts.filesFrom === '-' && args.includes('-')) throw new UsageError("stdin can be read once: give '-' as the input or as --files-from, not both");
  const inputs = opts.filesFrom === undefined ? args : [...args, ...readFileList(opts.filesFrom)];
  // An empty --files-from list (a shard with nothing to do) is an empty run, not a mistake.
  if (inputs.length === 0 && opts.filesFrom === undefined) throw new UsageError("missing required argument 'inputs': give captures or directories to check");
  if (!isMany(inputs) && opts.filesFrom === undefined) return verifyCommand(inputs[0]!, opts);
  if (opts.annotate !== undefined) throw new UsageError('--annotate writes one capture: give it one input (for many, run verify --annotate per capture)');
  return verifyMany(inputs, manyOptions(opts, loadRules(opts), opts.report ?? 'text'), reportToStdout);
}

async function rewriteCommand(input: string, output: string, opts: RewriteOptions): Promise<number> {
  checkInput(input, 'rewrite');
  const rules = rewriteRules(opts);
  const macs = macRules(opts);
  const format = opts.format ?? 'same';
  const reportKind = opts.report;
  if (opts.reportFile !== undefined && reportKind === undefined) {
    throw new UsageError('--report-file needs --report text, json, junit or html (rewrite prints only a summary line without it)');
  }
  const [outPlan, reportPlan] = planOutputs(
    input,
    [
      ['output', output, true],
      ['--report-file', opts.reportFile, false],
    ],
    opts.force === true,
  );
  const reportFile = new ReportFile(reportPlan ?? null, reportKind ?? 'text');
  const progress = wantsProgress(opts) ? await startProgress(opts.progress === true) : null;
  let result: RunResult;
  try {
    result = await runWithReport(
      {
        ...pipelineOptions('rewrite', input, output, opts, rules, progress),
        format,
        nameFormat: opts.format === undefined ? formatFromName(output) : null,
        annotate: opts.annotate === true,
        force: opts.force === true,
        outputPlan: outPlan ?? null,
        verify: opts.verify === true,
        verifyOptions: verifierOptions(opts),
        tunnels: tunnelSettings(opts),
        macRules: macs,
        fixChecksums: opts.fixChecksums === true,
        ...(opts.jobs === undefined ? {} : { jobs: opts.jobs }),
      },
      reportFile,
    );
  } finally {
    progress?.stop();
  }
  printNotes(result.notes, opts);
  // A rule that rewrote nothing is a rule.unmatched warning (--strict fails on it): said once, even with -q.
  if (result.report.severity?.['rule.unmatched'] !== 'off') {
    for (const line of await unmatchedRules(input, rules, result.report.ruleHits ?? [], opts)) say(`ssnat-rewrite: warning: ${printable(line)}\n`);
  }
  if (!opts.quiet) {
    printNotes(macs.filter((_, i) => result.macHits[i] === 0).map((m) => `--mac "${m.text}" matched no address${opts.direction === 'guest-to-host' ? '' : ' (host-to-guest maps NEW to OLD)'}`), opts);
    say(summaryLine(result, output) + '\n');
  }
  if (reportKind !== undefined && reportPlan === null) {
    // No --report-file: the report goes to stdout, unless the capture does.
    const text = render(result.report, reportKind);
    writeReport(text, result.report.verdict!.exitCode, output === '-' ? 'stderr' : 'stdout');
  } else if (reportKind === undefined) {
    printFindings(result.report, opts);
  }
  return result.report.verdict!.exitCode;
}

async function verifyCommand(input: string, opts: VerifyCommandOptions): Promise<number> {
  checkInput(input, 'verify');
  const rules = loadRules(opts);
  if (opts.annotate === '-' && opts.reportFile === undefined) {
    throw new UsageError('--annotate - writes the capture to stdout, where the report goes too: add --report-file FILE');
  }
  const [annotatePlan, reportPlan] = planOutputs(
    input,
    [
      ['--annotate output', opts.annotate, true],
      ['--report-file', opts.reportFile, false],
    ],
    opts.force === true,
  );
  const kind = opts.report ?? 'text';
  const reportFile = new ReportFile(reportPlan ?? null, kind);
  const progress = wantsProgress(opts) ? await startProgress(opts.progress === true) : null;
  let result: RunResult;
  try {
    result = await runWithReport(
      {
        ...pipelineOptions('verify', input, null, opts, rules, progress),
        annotateOutput: opts.annotate ?? null,
        nameFormat: opts.annotate === undefined ? null : formatFromName(opts.annotate),
        outputPlan: annotatePlan ?? null,
        force: opts.force === true,
        verifyOptions: verifierOptions(opts),
        tunnels: tunnelSettings(opts),
      },
      reportFile,
    );
  } finally {
    progress?.stop();
  }
  printNotes(result.notes, opts);
  // -q: the exit code is the answer; a report only when one was asked for by name.
  if (reportPlan === null && !(opts.quiet === true && opts.report === undefined)) reportToStdout(render(result.report, kind), result.report.verdict!.exitCode);
  return result.report.verdict!.exitCode;
}

/**
 * A line for each rule that rewrote nothing (`hits`: the report's ruleHits),
 * with a hint when it would have matched addresses the other way (the
 * commonest mistake: the direction).
 */
async function unmatchedRules(input: string, rules: Rule[], hits: NonNullable<Report['ruleHits']>, opts: RewriteOptions): Promise<string[]> {
  const unmatched = hits.map((h, i) => (h.addresses === 0 ? i : -1)).filter((i) => i >= 0);
  if (unmatched.length === 0) return [];
  let other: Float64Array | null = null;
  try {
    other = await reverseRuleHits(input, rules, opts.direction, { maxBlock: opts.maxBlock, maxRecord: opts.maxRecord }, tunnelSettings(opts));
  } catch {
    other = null; // only a hint: the run itself succeeded
  }
  const flip = opts.direction === 'guest-to-host' ? 'host-to-guest' : 'guest-to-host';
  return unmatched.map((i) => {
    const n = other?.[i] ?? 0;
    const hint = n > 0 ? `; the other way it matches ${num(n)} address(es): did you mean -d ${flip}?` : '';
    return `rule "${rules[i]!.text}" matched no address${hint}`;
  });
}

const MAX_STDERR_FINDINGS = 20;

/** rewrite without --report: the findings (of --verify) and collisions, a line each, on stderr. */
function printFindings(report: Report, opts: CommonOptions): void {
  if (opts.quiet) return;
  // rule.unmatched has its own line, with a hint, said even with -q (unmatchedRules).
  const fs = report.findings.filter((f) => f.check !== 'rule.unmatched');
  for (const f of fs.slice(0, MAX_STDERR_FINDINGS)) say(`${f.severity}: ${f.frame > 0 ? `frame ${f.frame}: ` : ''}${f.check}: ${printable(f.message)}\n`);
  const listed = report.summary.errors + report.summary.warnings - (report.findings.length - fs.length);
  if (listed > MAX_STDERR_FINDINGS) say(`... ${listed - MAX_STDERR_FINDINGS} more finding(s); --report json lists them\n`);
  for (const c of report.collisions.slice(0, MAX_STDERR_FINDINGS)) say(`collision: ${printable(`${c.protocol} ${c.flow}`)} on interfaces ${c.interfaces.join(', ')} (frames ${c.frames.join(', ')})\n`);
}

function summaryLine(r: RunResult, output: string): string {
  const s = r.report.summary;
  const mb = (r.bytesIn / 1e6).toFixed(1);
  const rate = r.seconds > 0 ? num(Math.round(s.packets / r.seconds)) : '-';
  const kinds = Object.entries(r.rewritesByKind).map(([k, n]) => `${k} ${num(n)}`);
  const parts = [`${num(s.packets)} packets`, `${num(s.rewritten)} rewritten${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}`];
  if (s.checksumsFixed !== undefined) parts.push(`checksums fixed ${fixedText(s.checksumsFixed)}`);
  if (s.undecodable > 0) parts.push(`${s.undecodable} undecodable (passed unchanged)`);
  if (s.warnings > 0) parts.push(`${s.warnings} warning(s)`);
  if (s.errors > 0) parts.push(`${s.errors} error(s)`);
  return `ssnat-rewrite: ${parts.join(', ')}; ${mb} MB in ${r.seconds.toFixed(2)} s (${rate} packets/s) -> ${output === '-' ? 'stdout' : shownName(output)}`;
}

/** Most outputs an interruption's message names; the rest are counted. */
const MAX_NAMED_OUTPUTS = 20;

/**
 * What an interruption leaves: nothing half-written, ever; and in a run
 * over many captures (--out-dir), the outputs finished before the signal,
 * whole, which are kept, named, and which --skip-existing does not redo.
 */
function interruptedMessage(sig: NodeJS.Signals): string {
  const { finished: kept, planned } = finishedOutputs();
  if (kept.length === 0) return `interrupted (${sig}); no output was left behind`;
  const named = kept.slice(0, MAX_NAMED_OUTPUTS).map((p) => shownName(p));
  const more = kept.length > MAX_NAMED_OUTPUTS ? `, and ${num(kept.length - MAX_NAMED_OUTPUTS)} more` : '';
  if (kept.length === planned) return `interrupted (${sig}); every output was finished before it, and is kept: ${named.join(', ')}${more}`;
  const which = kept.length === 1 ? 'the output finished before it is kept, whole' : `the ${num(kept.length)} outputs finished before it are kept, whole`;
  return `interrupted (${sig}); ${which}: ${named.join(', ')}${more}; the others were not written (nothing half-written is left): run the same command with --skip-existing to finish`;
}

function cleanupAndExit(code: number): never {
  removeTempFiles();
  process.exit(code);
}

/** The exit code of the run whose report is being written. */
let reportExitCode = EXIT_OK;
/** The streams a report was written to, each given its error handler once. */
const reportStreams = new Set<NodeJS.WriteStream>();

/**
 * Writes a report to stdout, or to stderr when stdout carries the capture
 * (and the help and the version to stdout). process.stdout is not touched
 * before it is needed: making it turns a pipe on fd 1 non-blocking, which
 * the capture's writing thread (capture/pipe.ts) must not find. EPIPE (`|
 * head`) is the reader going away, not our failure: the run ends quietly
 * with its own exit code, so a failed verify is not made a success by a
 * reader who stopped early, and a large report says the same as one that
 * fits in the pipe. Any other failure (a full disk behind `> report.json`)
 * means what was asked for was not written: exit 4, with one line when
 * stderr can still carry it.
 */
function writeReport(text: string, exitCode: number, where: 'stdout' | 'stderr', what = 'the report'): void {
  reportExitCode = exitCode;
  const out = where === 'stdout' ? process.stdout : stderr();
  if (!reportStreams.has(out)) {
    reportStreams.add(out);
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') cleanupAndExit(reportExitCode);
      if (where === 'stdout') say(`ssnat-rewrite: cannot write ${what} to stdout: ${errnoWords(e)}\n`);
      cleanupAndExit(EXIT_OUTPUT);
    });
  }
  out.write(text);
}

function reportToStdout(text: string, exitCode: number): void {
  writeReport(text, exitCode, 'stdout');
}

/** Runs the CLI; resolves to the exit code (also set on process.exitCode). */
export async function main(argv: string[]): Promise<number> {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      say(`\nssnat-rewrite: ${interruptedMessage(sig)}\n`);
      removeTempFiles();
      // Then end by the signal itself, its handler gone (`once`): at once, where process.exit would wait
      // for a thread-pool thread still in open() or read() of a FIFO; and as a shell expects of a program
      // that was interrupted, so that `for f in ...; do ssnat-rewrite ...; done` stops on Ctrl-C ($? is 128+N).
      process.kill(process.pid, sig);
    });
  }

  let pending: Promise<number> | null = null;
  const program = buildProgram((p) => {
    pending = p;
  });
  program.exitOverride();
  program.commands.forEach((c) => c.exitOverride());
  let code: number;
  if (argv.length <= 2) {
    // No arguments at all: the usage, rather than a complaint about the first missing one.
    program.outputHelp({ error: true });
    process.exitCode = EXIT_USAGE;
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv);
    code = pending === null ? EXIT_OK : await (pending as Promise<number>);
  } catch (e) {
    code = handleError(e);
  }
  process.exitCode = code;
  return code;
}

function handleError(e: unknown): number {
  if (e instanceof CommanderError) {
    // Help and version are "errors" to commander; they already printed.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT_OK;
    return EXIT_USAGE; // commander printed "error: ..." with a suggestion
  }
  // The reader of our stdout went away (`| head`): not our failure, and nothing to say.
  if (e instanceof OutputClosed) return EXIT_OK;
  if (e instanceof RuleError) {
    say(`ssnat-rewrite: ${formatError(e)}\n`);
    if (e.rule !== undefined && e.column !== undefined) {
      // The caret under the escaped text: an escape is wider than the character it stands for.
      say(`  ${printable(e.rule)}\n  ${' '.repeat(printable(e.rule.slice(0, e.column)).length)}^\n`);
    }
    return e.exitCode;
  }
  if (e instanceof SsnatError) {
    say(`ssnat-rewrite: ${formatError(e)}\n`);
    return e.exitCode;
  }
  // A system error the layers did not word themselves: reading is the input's side, the rest the output's.
  const system = fromSystemError(e);
  if (system !== null) {
    say(`ssnat-rewrite: ${formatError(system)}\n`);
    return system.exitCode;
  }
  say(`ssnat-rewrite: internal error (please report): ${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT_INTERNAL;
}
