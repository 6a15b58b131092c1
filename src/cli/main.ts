/**
 * The command line: commander program, options, exit codes.
 *
 * Every error a user can cause ends here as one line on stderr and a
 * documented exit code (docs/DESIGN.md part 1): 0 ok, 1 findings, 2 usage or rule
 * error, 3 unreadable input. A stack trace means a bug.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, RuleError, SsnatError, UsageError, formatError } from '../errors.js';
import { parseRule, parseRulesFile, validateRuleSet, type Rule } from '../nat/rules.js';
import type { Direction } from '../nat/table.js';
import { runPipeline, type PipelineOptions, type RunResult } from '../pipeline.js';
import { pendingTempFiles } from '../capture/target.js';
import { VERSION } from '../version.js';
import { renderJson } from '../report/json.js';
import { renderText } from '../report/text.js';
import { renderJunit } from '../report/junit.js';
import { startProgress, type Progress } from './progress.js';
import type { VerifierOptions } from '../verify/verifier.js';
import { isatty } from 'node:tty';
import { OutputClosed } from '../capture/pipe.js';

interface CommonOptions {
  rule?: string[];
  rulesFile?: string;
  direction: Direction;
  report?: 'text' | 'json' | 'junit';
  reportFile?: string;
  strict?: boolean;
  quiet?: boolean;
  progress?: boolean;
  maxBlock?: number;
  maxRecord?: number;
}

/** --collision-window, --max-flows, ...: commander's camel-cased names are the verifier's option names. */
type VerifyLimitOptions = VerifierOptions;

interface RewriteOptions extends CommonOptions, VerifyLimitOptions {
  format: 'same' | 'pcap' | 'pcapng';
  verify?: boolean;
  annotate?: boolean;
  force?: boolean;
}

interface VerifyCommandOptions extends CommonOptions, VerifyLimitOptions {
  annotate?: string;
  force?: boolean;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

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

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
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

const REWRITE_EXAMPLES = `
Examples:
  # map clone 1's guest network (on tap1) onto its own host network
  $ ssnat-rewrite guest1.pcapng host1.pcapng --rule 10.0.0.0/24=192.168.11.0/24

  # one rule per TAP interface of a multi-interface capture, host view back to guest view
  $ ssnat-rewrite taps.pcapng guests.pcapng -d host-to-guest \\
      -r 10.0.0.0/24=192.168.10.0/24@tap0 -r 10.0.0.0/24=192.168.11.0/24@tap1

  # streaming, with packet comments for Wireshark (frame.comment contains "ssnat")
  $ tcpdump -i tap1 -w - | ssnat-rewrite - - --annotate -r 10.0.0.0/24=192.168.11.0/24 > out.pcapng

Rules: GUEST=HOST (10.0.0.0/24=192.168.1.0/24, fd00::/64=fd00:1::/64), QEMU form
172.16.0.0:255.255.255.0:192.168.1.0, tcprewrite form 10.0.0.0/24:192.168.1.0/24,
or GUEST alone (host network from the pcapng interface address); add @IFNAME or @#ID
to limit a rule to one interface. First matching rule wins.

Exit codes: 0 ok, 1 verification found errors (or warnings with --strict),
2 usage or rule error, 3 input unreadable or malformed (no output is left behind).`;

const VERIFY_EXAMPLES = `
Examples:
  $ ssnat-rewrite verify capture.pcapng
  $ ssnat-rewrite verify host.pcapng --rule 10.0.0.0/24=192.168.10.0/24 --report json
  $ ssnat-rewrite verify regression.pcap --report junit --report-file verify.xml --strict
  # a pcapng copy with a comment on each frame that has a finding
  # (Wireshark display filter: frame.comment contains "ssnat")
  $ ssnat-rewrite verify taps.pcap --annotate taps-findings.pcapng

Exit codes: 0 clean, 1 errors found (or warnings with --strict), 2 usage, 3 unreadable input.`;

function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('-r, --rule <rule>', 'translation rule GUEST=HOST[@IFACE] (repeatable)', collect)
    .option('--rules-file <file>', 'read rules from a file, one per line, # comments')
    .addOption(
      new Option('-d, --direction <direction>', 'which way rules apply')
        .choices(['guest-to-host', 'host-to-guest'])
        .default('guest-to-host'),
    )
    .addOption(new Option('--report <kind>', 'report format (default: text for verify, a summary line for rewrite)').choices(['text', 'json', 'junit']))
    .option('--report-file <file>', 'write the report to a file instead of stdout')
    .option('--strict', 'warnings fail the run (exit 1)')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--progress', 'show a progress bar on stderr (default: when stderr is a terminal)')
    .option('--no-progress', 'never show a progress bar')
    .option('--max-block <bytes>', 'largest pcapng block accepted (default 268435456)', positiveInt)
    .option('--max-record <bytes>', 'largest pcap record accepted (default: max(snaplen, 262144))', positiveInt);
}

export function buildProgram(run: (result: Promise<number>) => void): Command {
  const program = new Command('ssnat-rewrite');
  program
    .description('Stateless static NAT for packet captures: rewrite cloned VMs\' guest addresses in pcap/pcapng, and verify checksums, ARP and flow collisions.')
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .showHelpAfterError("(run 'ssnat-rewrite --help' for usage and examples)")
    .configureHelp({ showGlobalOptions: true });

  addVerifyOptions(addCommonOptions(
    program
      .command('rewrite', { isDefault: true })
      .description('rewrite a capture (the default command)')
      .argument('<input>', "input capture, pcap or pcapng ('-' for stdin)")
      .argument('<output>', "output capture ('-' for stdout)"),
  ))
    .addOption(new Option('--format <format>', 'output format').choices(['same', 'pcap', 'pcapng']).default('same'))
    .option('--verify', 'verify the output while writing it')
    .option('--annotate', 'add a pcapng packet comment naming each rewrite')
    .option('-f, --force', 'replace an existing output file')
    .addHelpText('after', REWRITE_EXAMPLES)
    .action((input: string, output: string, opts: RewriteOptions) => run(rewriteCommand(input, output, opts)));

  addVerifyOptions(
    addCommonOptions(
      program
        .command('verify')
        .description('check IP and L4 checksums, ARP consistency, flow collisions and (with --rule) untranslated addresses')
        .argument('<input>', "capture to check ('-' for stdin)"),
    ),
  )
    .option('--annotate <output>', 'write a pcapng copy with a comment ("ssnat: ...") on every frame that has a finding')
    .option('-f, --force', 'replace an existing --annotate output file')
    .addHelpText('after', VERIFY_EXAMPLES)
    .action((input: string, opts: VerifyCommandOptions) => run(verifyCommand(input, opts)));

  program.addHelpText('after', `\nRun 'ssnat-rewrite rewrite --help' or 'ssnat-rewrite verify --help' for every option.\n${REWRITE_EXAMPLES}`);
  return program;
}

async function loadRules(opts: CommonOptions): Promise<Rule[]> {
  const rules: Rule[] = [];
  if (opts.rulesFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(opts.rulesFile, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read rules file ${opts.rulesFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    rules.push(...parseRulesFile(text, opts.rulesFile));
  }
  for (const r of opts.rule ?? []) rules.push(parseRule(r));
  validateRuleSet(rules);
  return rules;
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
    ...(opts.maxBlock === undefined ? {} : { maxBlock: opts.maxBlock }),
    ...(opts.maxRecord === undefined ? {} : { maxRecord: opts.maxRecord }),
    ...(progress === null ? {} : { onProgress: progress.update }),
  };
}

function wantsProgress(opts: CommonOptions): boolean {
  if (opts.quiet) return false;
  return opts.progress ?? process.stderr.isTTY === true;
}

async function rewriteCommand(input: string, output: string, opts: RewriteOptions): Promise<number> {
  const rules = await loadRules(opts);
  if (rules.length === 0 && opts.format === 'same') {
    throw new UsageError('no --rule or --rules-file: nothing to translate (to convert only, add --format pcap or --format pcapng)');
  }
  if (output === '-' && isatty(1)) {
    throw new UsageError('refusing to write a binary capture to a terminal; redirect stdout or name an output file');
  }
  const progress = wantsProgress(opts) ? await startProgress(opts.progress === true) : null;
  let result: RunResult;
  try {
    result = await runPipeline({
      ...pipelineOptions('rewrite', input, output, opts, rules, progress),
      format: opts.format,
      annotate: opts.annotate === true,
      force: opts.force === true,
      verify: opts.verify === true,
      verifyOptions: verifierOptions(opts),
    });
  } finally {
    progress?.stop();
  }
  if (!opts.quiet) {
    process.stderr.write(summaryLine(result, output) + '\n');
    if (result.droppedBlocks > 0) {
      process.stderr.write(`note: ${result.droppedBlocks} pcapng block(s) (name resolution, statistics, custom...) have no place in pcap and were left out\n`);
    }
  }
  await emitReport(result, opts, output === '-' ? 'stderr-only' : 'stdout');
  return exitCodeFor(result, opts.strict);
}

async function verifyCommand(input: string, opts: VerifyCommandOptions): Promise<number> {
  const rules = await loadRules(opts);
  if (opts.annotate === '-' && isatty(1)) {
    throw new UsageError('refusing to write a binary capture to a terminal; redirect stdout or name an --annotate file');
  }
  if (opts.annotate === '-' && opts.reportFile === undefined) {
    throw new UsageError('--annotate - writes the capture to stdout, where the report goes too: add --report-file FILE');
  }
  const progress = wantsProgress(opts) ? await startProgress(opts.progress === true) : null;
  let result: RunResult;
  try {
    result = await runPipeline({
      ...pipelineOptions('verify', input, null, opts, rules, progress),
      annotateOutput: opts.annotate ?? null,
      force: opts.force === true,
      verifyOptions: verifierOptions(opts),
    });
  } finally {
    progress?.stop();
  }
  await emitReport(result, { ...opts, report: opts.report ?? 'text' }, 'stdout');
  return exitCodeFor(result, opts.strict);
}

function exitCodeFor(result: RunResult, strict: boolean | undefined): number {
  const s = result.report.summary;
  return s.errors > 0 || (strict && s.warnings > 0) ? EXIT_FINDINGS : EXIT_OK;
}

const MAX_STDERR_FINDINGS = 20;

/**
 * Writes the report where docs/DESIGN.md says: --report-file, else stdout (unless
 * stdout carries the capture, then only the summary on stderr is printed).
 */
async function emitReport(result: RunResult, opts: CommonOptions, stdout: 'stdout' | 'stderr-only'): Promise<void> {
  const kind = opts.report;
  if (kind === undefined) {
    if (opts.quiet) return;
    const fs = result.report.findings;
    for (const f of fs.slice(0, MAX_STDERR_FINDINGS)) process.stderr.write(`${f.severity}: ${f.frame > 0 ? `frame ${f.frame}: ` : ''}${f.check}: ${f.message}\n`);
    if (fs.length > MAX_STDERR_FINDINGS) process.stderr.write(`... ${fs.length - MAX_STDERR_FINDINGS} more finding(s); --report json lists all\n`);
    for (const c of result.report.collisions.slice(0, MAX_STDERR_FINDINGS)) process.stderr.write(`collision: ${c.protocol} ${c.flow} on interfaces ${c.interfaces.join(', ')} (frames ${c.frames.join(', ')})\n`);
    return;
  }
  const text = kind === 'json' ? renderJson(result.report) : kind === 'junit' ? renderJunit(result.report) : renderText(result.report);
  if (opts.reportFile !== undefined) {
    writeFileSync(opts.reportFile, text);
  } else if (stdout === 'stdout') {
    stdoutStream().write(text);
  } else {
    process.stderr.write(text);
  }
}

function summaryLine(r: RunResult, output: string): string {
  const s = r.report.summary;
  const mb = (r.bytesIn / 1e6).toFixed(1);
  const rate = r.seconds > 0 ? Math.round(s.packets / r.seconds).toLocaleString('en-US') : '-';
  const kinds = Object.entries(r.rewritesByKind).map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`);
  const parts = [`${s.packets.toLocaleString('en-US')} packets`, `${s.rewritten.toLocaleString('en-US')} rewritten${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}`];
  if (s.undecodable > 0) parts.push(`${s.undecodable} undecodable (passed unchanged)`);
  if (s.warnings > 0) parts.push(`${s.warnings} warning(s)`);
  if (s.errors > 0) parts.push(`${s.errors} error(s)`);
  return `ssnat-rewrite: ${parts.join(', ')}; ${mb} MB in ${r.seconds.toFixed(2)} s (${rate} packets/s) -> ${output === '-' ? 'stdout' : output}`;
}

function cleanupAndExit(code: number): never {
  for (const t of pendingTempFiles()) {
    try {
      unlinkSync(t);
    } catch {
      // already gone
    }
  }
  process.exit(code);
}

/**
 * process.stdout, for reports. Not touched before it is needed: making it
 * turns a pipe on fd 1 non-blocking, which the capture's writing thread
 * (capture/pipe.ts) must not find.
 */
function stdoutStream(): NodeJS.WriteStream {
  const out = process.stdout;
  if (out.listenerCount('error') === 0) {
    // EPIPE on stdout (`| head`) is the reader going away, not our failure.
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') cleanupAndExit(EXIT_OK);
    });
  }
  return out;
}

/** Runs the CLI; resolves to the exit code (also set on process.exitCode). */
export async function main(argv: string[]): Promise<number> {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nssnat-rewrite: interrupted (${sig}); no output was left behind\n`);
      cleanupAndExit(sig === 'SIGINT' ? 130 : 143);
    });
  }

  let pending: Promise<number> | null = null;
  const program = buildProgram((p) => {
    pending = p;
  });
  program.exitOverride();
  program.commands.forEach((c) => c.exitOverride());
  let code: number;
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
    process.stderr.write(`ssnat-rewrite: ${formatError(e)}\n`);
    if (e.rule !== undefined && e.column !== undefined) {
      process.stderr.write(`  ${e.rule}\n  ${' '.repeat(e.column)}^\n`);
    }
    return e.exitCode;
  }
  if (e instanceof SsnatError) {
    process.stderr.write(`ssnat-rewrite: ${formatError(e)}\n`);
    return e.exitCode;
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.syscall === 'string') {
    // A system error on a path the user named (missing input, permission).
    const file = typeof err.path === 'string' ? `${err.path}: ` : '';
    const what = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    process.stderr.write(`ssnat-rewrite: ${file}${what}\n`);
    return err.syscall === 'open' || err.syscall === 'read' || err.syscall === 'stat' ? 3 : EXIT_USAGE;
  }
  process.stderr.write(`ssnat-rewrite: internal error (please report): ${(e as Error)?.stack ?? String(e)}\n`);
  return 70;
}
