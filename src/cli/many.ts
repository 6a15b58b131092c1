/**
 * The commands over many captures (issue 15): `verify A B DIR ...`,
 * `rewrite --out-dir DIR IN...` and `merge-reports`. Each file is one
 * pipeline run (on `--jobs` worker threads); the combined report
 * (report/multi.ts) lists every file, sorted by path, with its own report,
 * and its exit code is the worst of the files.
 */
import type { TunnelSettings } from '../wire/tunnel.js';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, resolve, sep } from 'node:path';
import { checkDistinct, identity, planOutput, type PlannedOutput } from '../capture/outputs.js';
import { TextOutput } from '../capture/target.js';
import { CaptureError, EXIT_INPUT, OutputError, UsageError, errnoWords, printable, shownName } from '../errors.js';
import { expandInputs, type InputFile, type InputProblem } from '../multi/inputs.js';
import { availableCores } from '../multi/cores.js';
import { runFiles, type FileJob } from '../multi/run.js';
import type { Rule } from '../nat/rules.js';
import type { MacRule } from '../nat/mac.js';
import type { Direction } from '../nat/table.js';
import { DEFAULT_MAX_FINDINGS, type MultiReport, type Report, type SeverityOverrides } from '../report/model.js';
import { renderJson } from '../report/json.js';
import { combineReports, failedReport, renderMultiJunit, renderMultiText } from '../report/multi.js';
import { VERSION } from '../version.js';
import { renderHtmlReport } from '../report/html.js';
import { inconsistency } from '../report/consistency.js';
import type { VerifierOptions } from '../verify/verifier.js';
import { startRunProgress } from './progress.js';
import { num } from '../report/numbers.js';
import { say } from './stderr.js';

export type ReportKind = 'text' | 'json' | 'junit' | 'html';

export interface ManyOptions {
  rules: Rule[];
  direction: Direction;
  strict: boolean;
  /** --fail-on and --ignore (report/severity.ts). */
  severity?: SeverityOverrides;
  jobs: number;
  force: boolean;
  /** --skip-existing: an --out-dir input whose output exists is not rewritten (a run resumed). */
  skipExisting: boolean;
  quiet: boolean;
  progress: boolean;
  /** --progress given (a bar even where stderr is no terminal). */
  progressForced: boolean;
  report: ReportKind;
  /** --report or --report-file was given (with -q, verify prints a report only then). */
  reportAsked: boolean;
  reportFile?: string | undefined;
  verifyOptions: VerifierOptions;
  /** --tunnels, --vxlan-port. */
  tunnels: TunnelSettings;
  maxBlock?: number | undefined;
  maxRecord?: number | undefined;
  maxFindings?: number | undefined;
  workerEntry: string | URL;
  /** rewrite: --mac mappings and --fix-checksums, for every file. */
  macRules?: MacRule[];
  fixChecksums?: boolean;
}

/**
 * A rendered report, or one line when it is larger than a string can be
 * (V8's limit is about 512 MB: a report listing millions of findings).
 */
export function sizedReport(render: () => string): string {
  try {
    return render();
  } catch (e) {
    if (e instanceof RangeError) throw new OutputError(`the report is too large to write as one document (${e.message}): list fewer findings per check with --max-findings (default ${DEFAULT_MAX_FINDINGS})`);
    throw e;
  }
}

export function renderMulti(report: MultiReport, kind: ReportKind): string {
  return sizedReport(() => renderMultiAs(report, kind));
}

function renderMultiAs(report: MultiReport, kind: ReportKind): string {
  switch (kind) {
    case 'json':
      return renderJson(report);
    case 'junit':
      return renderMultiJunit(report);
    case 'html':
      return renderHtmlReport(report);
    case 'text':
      return renderMultiText(report);
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Runs the jobs with a progress bar over the whole run when asked for. */
async function run(jobs: FileJob[], opts: ManyOptions): Promise<Report[]> {
  noteThreads(Math.min(opts.jobs, jobs.length), opts);
  const progress = opts.progress ? await startRunProgress(jobs.map((j) => fileSize(j.input)), opts.progressForced) : null;
  try {
    return await runFiles(jobs, opts.jobs, opts.workerEntry, progress === null ? undefined : { read: progress.file, done: progress.done });
  } finally {
    progress?.stop();
  }
}

/**
 * More threads than cores is the user's to ask for (a suite on a slow
 * network file system may gain from it), but here it only costs: each
 * thread starts a JavaScript engine of its own. Said once, for the threads a
 * run really starts, so a --jobs copied from a bigger machine does not
 * silently make a run slower.
 */
function noteThreads(threads: number, opts: ManyOptions): void {
  const cores = availableCores();
  if (threads <= cores || opts.quiet) return;
  say(
    `ssnat-rewrite: note: --jobs ${opts.jobs} starts ${threads} threads on the ${cores} core(s) this process may use; each thread starts its own JavaScript engine (about 20 MB and 0.1 s), so the threads past the cores make the run slower, not faster\n`,
  );
}

/**
 * Writes a report to stdout. `exitCode` is the run's, so that a reader who
 * goes away before the end (`| head`) does not turn a failed run into a
 * success: the checks were done, only the text was not wanted.
 */
export type ReportToStdout = (text: string, exitCode: number) => void;

/** Writes the combined report: to --report-file (atomically, checked against every path of the run), else stdout. */
async function emit(report: MultiReport, opts: Pick<ManyOptions, 'report'>, reportPlan: PlannedOutput | null, toStdout: ReportToStdout): Promise<void> {
  const text = renderMulti(report, opts.report);
  if (reportPlan === null) {
    toStdout(text, report.verdict.exitCode);
    return;
  }
  const out = await TextOutput.prepare(reportPlan, text);
  await out.commit();
}

function baseJob(command: 'rewrite' | 'verify', input: string, opts: ManyOptions): FileJob {
  return {
    command,
    input,
    output: null,
    rules: opts.rules,
    direction: opts.direction,
    format: 'same',
    annotate: false,
    force: opts.force,
    strict: opts.strict,
    ...(opts.severity === undefined ? {} : { severity: opts.severity }),
    // Across a suite a scope just does not apply to the captures without that interface, and a rule may match nothing in one.
    checkScopes: false,
    unmatchedRules: false,
    // The files are the unit of work on the --jobs threads: each on one.
    jobs: 1,
    verifyOptions: opts.verifyOptions,
    tunnels: opts.tunnels,
    ...(opts.maxBlock === undefined ? {} : { maxBlock: opts.maxBlock }),
    ...(opts.maxRecord === undefined ? {} : { maxRecord: opts.maxRecord }),
    ...(opts.maxFindings === undefined ? {} : { maxFindings: opts.maxFindings }),
  };
}

/** What cannot be an input becomes an entry of its own, as an unreadable file does. */
function problemEntries(command: 'rewrite' | 'verify', problems: ReadonlyArray<{ path: string; message: string }>, strict: boolean): Report[] {
  return problems.map((p) => failedReport(command, p.path, { code: 'input', message: p.message, exitCode: EXIT_INPUT }, strict));
}

/**
 * The files the directory walks passed over (neither named nor starting as
 * captures), said once, on stderr; the JSON report counts them
 * (`summary.skipped`).
 */
function noteSkipped(skipped: number, opts: Pick<ManyOptions, 'quiet'>): void {
  if (skipped === 0 || opts.quiet) return;
  say(`ssnat-rewrite: note: ${skipped === 1 ? '1 file' : `${num(skipped)} files`} in the directories given ${skipped === 1 ? 'is not a capture' : 'are not captures'} (by name or by ${skipped === 1 ? 'its' : 'their'} first bytes) and ${skipped === 1 ? 'was' : 'were'} skipped\n`);
}

/** `verify A B DIR ...`: the combined report; resolves to the exit code. */
export async function verifyMany(inputs: readonly string[], opts: ManyOptions, toStdout: ReportToStdout): Promise<number> {
  if (inputs.includes('-')) throw new UsageError("'-' (stdin) can be the only input: give files or directories when there are several");
  const { files, problems, skipped } = expandInputs(inputs);
  const reportPlan = opts.reportFile === undefined ? null : planOutput('--report-file', opts.reportFile, opts.force, false);
  if (reportPlan !== null) checkDistinct(files.map((f) => f.path), [reportPlan]);
  noteSkipped(skipped, opts);
  const reports = await run(files.map((f) => baseJob('verify', f.path, opts)), opts);
  const report = combineReports('verify', [...reports, ...problemEntries('verify', problems, opts.strict)], opts.strict, skipped);
  // -q: the exit code is the answer; a report only when one was asked for by name.
  if (!(opts.quiet && !opts.reportAsked)) await emit(report, opts, reportPlan, toStdout);
  return report.verdict.exitCode;
}

/** An --out-dir output name: the input's, or with --format its capture extension changed (".gz" kept). */
function outputName(rel: string, format: 'same' | 'pcap' | 'pcapng'): string {
  if (format === 'same') return rel;
  const m = /^(.*?)(\.(?:pcapng|pcap|cap|ntar))?(\.gz)?$/i.exec(rel)!;
  return `${m[1]}.${format}${m[3] ?? ''}`;
}

/** Why inputs land on one output name, in terms of what was given: files by their names, directories' files by their paths inside them. */
function clashReason(fs: readonly InputFile[]): string {
  const walked = fs.filter((f) => f.walked !== undefined);
  const rel = shownName(fs[0]!.relative);
  if (walked.length === 0) return `a file given is written by its name, ${rel}`;
  if (walked.length === fs.length) return `each is ${rel} inside the directory given, ${walked.map((f) => shownName(f.walked!)).join(' and ')}`;
  return `a file given is written by its name, and a directory's files by their paths inside it: both are ${rel}`;
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The outputs of the --out-dir run under way (for a signal's message), or null. */
let outDirRun: readonly PlannedOutput[] | null = null;

/**
 * The outputs of the --out-dir run under way that are finished: a file
 * there that was not there before the run, or another one than was (a
 * capture is renamed into place only when it is complete, so every such
 * file is whole). For the message of a run interrupted by a signal.
 */
export function finishedOutputs(): { finished: string[]; planned: number } {
  if (outDirRun === null) return { finished: [], planned: 0 };
  return { finished: outDirRun.filter((p) => p.kind === 'file' && finishedSince(p)).map((p) => p.given), planned: outDirRun.length };
}

function finishedSince(p: PlannedOutput): boolean {
  try {
    return identity(statSync(p.target)) !== p.id;
  } catch {
    return false;
  }
}

/**
 * `rewrite --out-dir DIR IN...`: each input to DIR/ its path inside the
 * directory given (or its name, for a file given); every output planned and
 * checked before anything is read; two inputs onto one output are refused.
 */
export async function rewriteMany(
  inputs: readonly string[],
  outDir: string,
  format: 'same' | 'pcap' | 'pcapng',
  annotate: boolean,
  verify: boolean,
  opts: ManyOptions,
  toStdout: ReportToStdout,
): Promise<number> {
  if (inputs.includes('-')) throw new UsageError("'-' (stdin) cannot be an input with --out-dir: give files or directories");
  if (inputs.length === 0) throw new UsageError('--out-dir needs at least one input file or directory');
  // Said once, before any file: every file's run would refuse it alike.
  if (annotate && format === 'pcap') throw new UsageError('--annotate writes pcapng packet comments; it cannot be used with --format pcap');
  let outSt;
  try {
    outSt = statSync(outDir);
  } catch {
    outSt = null;
  }
  if (outSt !== null && !outSt.isDirectory()) throw new UsageError(`--out-dir ${outDir} is not a directory`);
  const { files, problems, skipped } = expandInputs(inputs);
  // An output directory inside an input directory: a later run would read its outputs as inputs.
  const outAbs = resolve(outDir);
  for (const input of inputs) {
    const inAbs = resolve(input);
    let isDir = false;
    try {
      isDir = statSync(input).isDirectory();
    } catch {
      // a problem entry already
    }
    if (isDir && (outAbs === inAbs || outAbs.startsWith(inAbs + sep))) {
      throw new UsageError(`--out-dir ${outDir} is inside the input directory ${input}: a later run would take its outputs for inputs; choose a directory outside it`);
    }
  }
  // Two inputs onto one output: refused before anything is written.
  const byOutput = new Map<string, InputFile[]>();
  for (const f of files) {
    const out = join(outDir, outputName(f.relative, format));
    byOutput.set(out, [...(byOutput.get(out) ?? []), f]);
  }
  const clashes = [...byOutput].filter(([, fs]) => fs.length > 1);
  if (clashes.length > 0) {
    for (const [out, fs] of clashes) {
      say(`ssnat-rewrite: ${fs.map((f) => shownName(f.path)).join(' and ')} would both be written to ${shownName(out)} (${clashReason(fs)}): rewrite them in separate runs, each with its own --out-dir\n`);
    }
    throw new UsageError(`${clashes.length} output name(s) would be written twice; nothing was written`);
  }
  const reportPlan = opts.reportFile === undefined ? null : planOutput('--report-file', opts.reportFile, opts.force, false);
  const plans: PlannedOutput[] = [];
  const todo: InputFile[] = [];
  let existing = 0;
  for (const [out, [f]] of byOutput) {
    // A run resumed after an interruption: what it finished is there, whole (outputs are renamed into place only when complete).
    if (opts.skipExisting && isRegularFile(out)) {
      existing++;
      continue;
    }
    try {
      mkdirSync(dirname(out), { recursive: true });
    } catch (e) {
      throw new OutputError(`cannot write output ${out}: cannot create directory ${dirname(out)}: ${errnoWords(e)}`);
    }
    plans.push(planOutput('output', out, opts.force, true));
    todo.push(f!);
  }
  checkDistinct(files.map((f) => f.path), reportPlan === null ? plans : [...plans, reportPlan]);
  const jobs = todo.map((f, i): FileJob => ({
    ...baseJob('rewrite', f.path, opts),
    output: plans[i]!.given,
    outputPlan: plans[i]!,
    format,
    annotate,
    verify,
    macRules: opts.macRules ?? [],
    fixChecksums: opts.fixChecksums === true,
  }));
  noteSkipped(skipped, opts);
  if (existing > 0 && !opts.quiet) {
    say(`ssnat-rewrite: note: ${existing === 1 ? '1 input was' : `${num(existing)} inputs were`} skipped: ${existing === 1 ? 'its output exists' : 'their outputs exist'} in ${shownName(outDir)} (--skip-existing)\n`);
  }
  // Until the run ends (its report written too), a signal's message names the outputs finished.
  outDirRun = plans;
  try {
    return await runAndReport(jobs, problems, skipped, existing, reportPlan, opts, toStdout);
  } finally {
    outDirRun = null;
  }
}

/** The rest of an --out-dir run: the files rewritten, a line each on stderr, the report. */
async function runAndReport(
  jobs: FileJob[],
  problems: readonly InputProblem[],
  skipped: number,
  existing: number,
  reportPlan: PlannedOutput | null,
  opts: ManyOptions,
  toStdout: ReportToStdout,
): Promise<number> {
  const reports = await run(jobs, opts);
  const report = combineReports('rewrite', [...reports, ...problemEntries('rewrite', problems, opts.strict)], opts.strict, skipped, existing);
  if (!opts.quiet) {
    for (const f of report.files) {
      const s = f.summary;
      const line = f.error !== undefined ? `error: ${f.error.message}` : `${num(s.packets)} packets, ${num(s.rewritten)} rewritten -> ${f.output === undefined ? '?' : shownName(f.output.path)}`;
      say(`ssnat-rewrite: ${shownName(f.input.path)}: ${printable(line)}\n`);
    }
    say(`ssnat-rewrite: ${printable(report.verdict.why)}\n`);
  }
  // The lines above are the summary; a report only when one was asked for (--report text included).
  if (opts.reportFile !== undefined || opts.reportAsked) await emit(report, opts, reportPlan, toStdout);
  return report.verdict.exitCode;
}

/** Reads one report file of merge-reports: a one-capture report or a combined one. */
function readReports(path: string): { command: 'rewrite' | 'verify'; strict: boolean | null; files: Report[]; skipped: number; existing: number } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CaptureError(errnoWords(e), { file: path });
  }
  let doc: Partial<Report & MultiReport>;
  try {
    doc = JSON.parse(text) as Partial<Report & MultiReport>;
  } catch (e) {
    throw new CaptureError(`not a JSON report (${(e as Error).message}): give the files --report json wrote`, { file: path });
  }
  if (doc === null || typeof doc !== 'object' || doc.tool !== 'ssnat-rewrite' || (doc.command !== 'verify' && doc.command !== 'rewrite')) {
    throw new CaptureError('not an ssnat-rewrite JSON report: give the files --report json wrote', { file: path });
  }
  if (doc.version !== VERSION) {
    throw new CaptureError(`made by ssnat-rewrite ${String(doc.version)}, this is ${VERSION}: merge reports of one version (their checks and numbers may differ)`, { file: path });
  }
  const files = Array.isArray(doc.files) ? doc.files : [doc as Report];
  for (const f of files) {
    if (typeof f?.input?.path !== 'string' || f.summary === null || typeof f.summary !== 'object') throw new CaptureError('a file entry has no input path or summary: the report is damaged', { file: path });
    const wrong = f.command !== doc.command ? `made by ${String(f.command)} in a report of ${doc.command}` : inconsistency(f);
    if (wrong !== null) throw new CaptureError(`the entry of ${shownName(f.input.path)}: ${wrong}: the report is damaged or was edited; make it again`, { file: path });
    // As a run over many files names them ("./a.pcap" is "a.pcap"): a one-file shard's report names its file as given.
    if (f.input.path !== '-') f.input.path = normalize(f.input.path);
  }
  const stricts = new Set(files.map((f) => f.verdict?.strict));
  // What a run counted but did not process (a walk's skipped files, --skip-existing's inputs): the merge adds them up.
  const counted = (n: unknown): number => (Array.isArray(doc.files) && Number.isSafeInteger(n) && (n as number) > 0 ? (n as number) : 0);
  return { command: doc.command, strict: stricts.size === 1 ? (files[0]?.verdict?.strict ?? null) : null, files, skipped: counted(doc.summary?.skipped), existing: counted(doc.summary?.existing) };
}

/**
 * `merge-reports A.json B.json ...`: the reports of separate runs (shards of
 * a suite, other machines), combined into exactly what one run over all
 * their files prints. The shards must be of one command, one version and
 * one --strict, and no file may be in two of them.
 */
export async function mergeReports(
  paths: readonly string[],
  opts: Pick<ManyOptions, 'report' | 'reportFile' | 'force'> & { expect?: string | undefined },
  toStdout: ReportToStdout,
): Promise<number> {
  const given = new Map<string, string>();
  for (const p of paths) {
    let id: string;
    try {
      id = identity(statSync(p));
    } catch {
      continue; // readReports says what is wrong with it
    }
    const first = given.get(id);
    if (first === p) throw new UsageError(`${p} is given twice: give each report once`);
    if (first !== undefined) throw new UsageError(`${p} is the report ${first} again (another name for one file): give each report once`);
    given.set(id, p);
  }
  const parts = paths.map((p) => ({ path: p, ...readReports(p) }));
  const commands = new Set(parts.map((p) => p.command));
  if (commands.size > 1) throw new UsageError(`the reports mix ${[...commands].join(' and ')} runs: merge reports of one command`);
  const stricts = new Set(parts.filter((p) => p.files.length > 0).map((p) => p.strict));
  if (stricts.size > 1 || stricts.has(null)) throw new UsageError('the reports were made with and without --strict: merge reports made alike');
  const owner = new Map<string, string>();
  for (const p of parts) {
    for (const f of p.files) {
      const other = owner.get(f.input.path);
      if (other !== undefined) throw new UsageError(`${f.input.path} is in both ${other} and ${p.path}: each file must be in one report only`);
      owner.set(f.input.path, p.path);
    }
  }
  const strict = stricts.values().next().value === true;
  const command = parts[0]!.command;
  const missing = opts.expect === undefined ? [] : expectedMissing(opts.expect, owner);
  const report = combineReports(command, [...parts.flatMap((p) => p.files), ...missing.map((m) => failedReport(command, m, { code: 'input', message: 'in no report: was its shard lost?', exitCode: EXIT_INPUT }, strict))], strict, parts.reduce((n, p) => n + p.skipped, 0), parts.reduce((n, p) => n + p.existing, 0));
  const reportPlan = opts.reportFile === undefined ? null : planOutput('--report-file', opts.reportFile, opts.force, false);
  if (reportPlan !== null) checkDistinct(paths, [reportPlan]);
  await emit(report, opts, reportPlan, toStdout);
  return report.verdict.exitCode;
}

/**
 * --expect LIST: the captures the reports must cover, one path a line (as
 * `find` lists them); those in no report come back, so that a shard that
 * died without its report fails the merge instead of shrinking the suite.
 */
function expectedMissing(list: string, covered: ReadonlyMap<string, string>): string[] {
  const expected = [...new Set(readFileList(list, '--expect').map((l) => normalize(l)))];
  return expected.filter((p) => !covered.has(p));
}

/**
 * The paths a list file (--files-from, --expect) names, one a line (blank
 * lines skipped); `-` is stdin (`find captures -name '*.pcap' | ssnat-rewrite
 * verify --files-from -`).
 */
export function readFileList(list: string, option = '--files-from'): string[] {
  let text: string;
  try {
    text = readFileSync(list === '-' ? 0 : list, 'utf8');
  } catch (e) {
    throw new UsageError(`${option} ${list}: ${errnoWords(e)}`);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** Whether an input list means a run over many captures: several inputs, or a directory. */
export function isMany(inputs: readonly string[]): boolean {
  if (inputs.length !== 1) return true;
  try {
    return statSync(inputs[0]!).isDirectory();
  } catch {
    return false;
  }
}

