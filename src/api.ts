/**
 * The library API: whole-file functions that return the same report object
 * the CLI prints with `--report json`, and record-at-a-time building blocks
 * for programs that want to do their own thing with each packet.
 */
import { DEFAULT_TUNNEL_SETTINGS, type TunnelSettings } from './wire/tunnel.js';
import { CaptureReader, type ReaderOptions } from './capture/reader.js';
import { RecordKind, type CaptureFormat, type CaptureRecord, type InterfaceInfo } from './capture/record.js';
import { checkReplace, planOutput } from './capture/outputs.js';
import { MemoryTarget, openOutput, type OutputTarget } from './capture/target.js';
import { CaptureWriter, type WriterOptions } from './capture/writer.js';
import type { InterfaceMapper } from './nat/mapper.js';
import { parseRule, validateRuleSet, type Rule } from './nat/rules.js';
import { parseMacRule, validateMacRules, type MacRule } from './nat/mac.js';
import { RuleTable, type Direction } from './nat/table.js';
import { Translator, type TranslateResult } from './nat/translate.js';
import { runPipeline } from './pipeline.js';
import { Findings, type CheckName, type Collision, type Finding, type Report } from './report/model.js';
import { PacketTally } from './tally.js';
import { Verifier, type VerifierOptions } from './verify/verifier.js';

/** A rule as text (`"10.0.0.0/24=192.168.1.0/24@tap1"`) or as parsed by `parseRule`. */
export type RuleInput = string | Rule;

function toRules(rules: readonly RuleInput[] | undefined): Rule[] {
  const parsed = (rules ?? []).map((r) => (typeof r === 'string' ? parseRule(r) : r));
  validateRuleSet(parsed);
  return parsed;
}

function toMacRules(rules: readonly (string | MacRule)[] | undefined): MacRule[] {
  const parsed = (rules ?? []).map((r) => (typeof r === 'string' ? parseMacRule(r) : r));
  validateMacRules(parsed);
  return parsed;
}

export interface RewriteFileOptions {
  rules: readonly RuleInput[];
  /** Default 'guest-to-host'. */
  direction?: Direction;
  /** Output format; default: the input's. */
  format?: 'same' | CaptureFormat;
  /** Add a pcapng comment naming each rewrite (pcapng output only). */
  annotate?: boolean;
  /** Verify the output as it is written (the report then has findings). */
  verify?: boolean;
  /** Replace an existing output file. */
  force?: boolean;
  verifyOptions?: VerifierOptions;
  maxBlock?: number;
  maxRecord?: number;
  /** Findings listed per check (default 10,000; 0: all); the report's `omitted` counts the rest. */
  maxFindings?: number;
  /**
   * Threads that translate the capture: default the cores available, for
   * inputs of 256 MB or more on 3 cores or more; a number given is used for
   * any regular file; 1 keeps one thread. Runs that cannot be split use one
   * whatever it says (stdin, gzip, verify, annotate, a format conversion).
   */
  jobs?: number;
  /** MAC mappings, `OLD=NEW[@IFACE]` as `--mac` takes them (or parsed by parseMacRule). */
  mac?: readonly (string | MacRule)[];
  /** Recompute every IP and L4 checksum of the output (`--fix-checksums`): erases the evidence of bad checksums. */
  fixChecksums?: boolean;
  /** Look into tunnels, and the UDP ports VXLAN is on besides 4789 (`--tunnels`, `--vxlan-port`); default on, none. */
  tunnels?: TunnelSettings;
}

/**
 * Rewrites `input` into `output` ('-' for stdin/stdout) and resolves to the
 * report. Rejects with an `SsnatError` (`exitCode` tells the CLI's code) on
 * bad rules, bad input or an output it may not write; nothing is left behind.
 */
export async function rewriteFile(input: string, output: string, options: RewriteFileOptions): Promise<Report> {
  const { report } = await runPipeline({
    command: 'rewrite',
    input,
    output,
    rules: toRules(options.rules),
    direction: options.direction ?? 'guest-to-host',
    format: options.format ?? 'same',
    annotate: options.annotate ?? false,
    verify: options.verify ?? false,
    force: options.force ?? false,
    ...(options.verifyOptions === undefined ? {} : { verifyOptions: options.verifyOptions }),
    ...(options.maxBlock === undefined ? {} : { maxBlock: options.maxBlock }),
    ...(options.maxRecord === undefined ? {} : { maxRecord: options.maxRecord }),
    ...(options.maxFindings === undefined ? {} : { maxFindings: options.maxFindings }),
    ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
    macRules: toMacRules(options.mac),
    fixChecksums: options.fixChecksums === true,
    ...(options.tunnels === undefined ? {} : { tunnels: options.tunnels }),
  });
  return report;
}

export interface VerifyFileOptions {
  /** With rules, addresses they would still translate are `addr.untranslated` errors. */
  rules?: readonly RuleInput[];
  direction?: Direction;
  /** Write a pcapng copy with a comment on every frame that has a finding. */
  annotateOutput?: string;
  force?: boolean;
  verifyOptions?: VerifierOptions;
  maxBlock?: number;
  maxRecord?: number;
  /** Findings listed per check (default 10,000; 0: all); the report's `omitted` counts the rest. */
  maxFindings?: number;
  /** Look into tunnels, and the UDP ports VXLAN is on besides 4789 (`--tunnels`, `--vxlan-port`); default on, none. */
  tunnels?: TunnelSettings;
}

/** Verifies a capture and resolves to the report (`summary.errors > 0` is what makes the CLI exit 1). */
export async function verifyFile(input: string, options: VerifyFileOptions = {}): Promise<Report> {
  const { report } = await runPipeline({
    command: 'verify',
    input,
    output: null,
    rules: toRules(options.rules),
    direction: options.direction ?? 'guest-to-host',
    format: 'same',
    annotate: false,
    annotateOutput: options.annotateOutput ?? null,
    force: options.force ?? false,
    ...(options.verifyOptions === undefined ? {} : { verifyOptions: options.verifyOptions }),
    ...(options.maxBlock === undefined ? {} : { maxBlock: options.maxBlock }),
    ...(options.maxRecord === undefined ? {} : { maxRecord: options.maxRecord }),
    ...(options.maxFindings === undefined ? {} : { maxFindings: options.maxFindings }),
    ...(options.tunnels === undefined ? {} : { tunnels: options.tunnels }),
  });
  return report;
}

// ------------------------------------------------------------- building blocks

/**
 * Opens a capture (a path, '-' for stdin, or bytes) as an async iterable of
 * records: `for await (const rec of await openCapture('in.pcapng')) ...`.
 * Each record is a reused view, valid until the next iteration.
 */
export async function openCapture(source: string | Uint8Array, options: ReaderOptions = {}): Promise<CaptureReader> {
  return typeof source === 'string' ? CaptureReader.open(source, options) : CaptureReader.fromBytes(source, options);
}

/** Writes records (as a reader hands them out) to a file or to memory; copies each record, so it may be used from any loop. */
export class RecordWriter {
  private constructor(
    private readonly writer: CaptureWriter,
    private readonly target: OutputTarget,
    private readonly memory: MemoryTarget | null,
  ) {}

  /**
   * A writer to `path` (a file is written to a temporary file and renamed
   * into place by `close()`; '-', a FIFO or a device straight through), or to
   * memory when `path` is null (`close()` then returns the bytes).
   * `inputFormat` is the format of the records that will be written (`reader.format`).
   */
  static async create(path: string | null, inputFormat: CaptureFormat, options: Omit<WriterOptions, 'copyRecords'> & { force?: boolean } = {}): Promise<RecordWriter> {
    const memory = path === null ? new MemoryTarget() : null;
    const plan = memory === null ? planOutput('output', path!, options.force ?? false, true) : null;
    if (plan !== null) checkReplace([plan]);
    const target = memory ?? (await openOutput(plan!));
    return new RecordWriter(new CaptureWriter(target, inputFormat, { ...options, copyRecords: true }), target, memory);
  }

  /** Writes one record (every kind: headers, interfaces and other blocks too); `comment` annotates a packet (pcapng). */
  async write(rec: CaptureRecord, comment?: string): Promise<void> {
    this.writer.write(rec, comment);
    if (this.writer.pendingBytes >= 1 << 20) await this.writer.flush();
  }

  /** Finishes the output; resolves to the bytes for an in-memory writer. */
  async close(): Promise<Buffer | null> {
    try {
      this.writer.finish();
      await this.writer.flush();
      await this.target.commit();
    } catch (e) {
      await this.target.abort();
      throw e;
    }
    return this.memory?.bytes() ?? null;
  }

  /** Throws the output away. */
  async abort(): Promise<void> {
    await this.writer.settle();
    await this.target.abort();
  }
}

/** Per-interface rule mappers, compiled as interfaces appear in the records. */
class Mappers {
  private readonly table: RuleTable;
  private readonly byIndex: InterfaceMapper[] = [];

  constructor(rules: readonly RuleInput[], direction: Direction) {
    this.table = new RuleTable(toRules(rules), direction);
  }

  of(rec: CaptureRecord): InterfaceMapper | null {
    const iface = rec.iface;
    if (iface === null) return null;
    let m = this.byIndex[iface.index];
    if (m === undefined) {
      m = this.table.mapperFor(iface);
      this.byIndex[iface.index] = m;
    }
    return m;
  }
}

/** `createTranslator`'s function; `describe()` names what the last call did, for a packet comment. */
export interface RecordTranslator {
  (rec: CaptureRecord): TranslateResult | null;
  /** "ssnat: ipv4.src 10.0.0.2>192.168.1.2 (rule ...); ..." for the last translated record. */
  describe(): string;
}

/**
 * A translator as a function over records: rewrites a packet record's bytes
 * in place and returns what it did (a reused object), or null for records
 * that are not packets or whose interface no rule applies to.
 */
export function createTranslator(rules: readonly RuleInput[], direction: Direction = 'guest-to-host', tunnels: TunnelSettings = DEFAULT_TUNNEL_SETTINGS): RecordTranslator {
  const mappers = new Mappers(rules, direction);
  const translator = new Translator();
  translator.decoder.setTunnels(tunnels);
  let last: InterfaceMapper | null = null;
  const translate = (rec: CaptureRecord): TranslateResult | null => {
    if (rec.kind !== RecordKind.Packet) return null;
    const m = mappers.of(rec);
    if (m === null || !m.active) return null;
    last = m;
    return translator.translate(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, rec.iface!.linkType, m);
  };
  return Object.assign(translate, { describe: () => (last === null ? 'ssnat: nothing translated' : translator.result.describe(last)) });
}

export interface RecordVerifier {
  /** Checks one record; returns the findings it made for it (empty for clean packets and other records). */
  check(rec: CaptureRecord): Finding[];
  /**
   * End of the capture: the findings (at most `maxFindings` of each check;
   * `omitted` counts the rest), the counts, the checksum counts and the collisions.
   */
  finish(): {
    findings: Finding[];
    omitted?: Partial<Record<CheckName, number>>;
    errors: number;
    warnings: number;
    checksums: { verified: number; bad: number; unverifiable: number };
    collisions: Collision[];
  };
}

/**
 * The verifier as a function over records. With rules, the leak check runs
 * too. `maxFindings`: findings kept per check (default DEFAULT_MAX_FINDINGS,
 * 0 all); check() returns every finding of its record either way.
 */
export function createVerifier(options: VerifierOptions & { rules?: readonly RuleInput[]; direction?: Direction; maxFindings?: number; tunnels?: TunnelSettings } = {}): RecordVerifier {
  const findings = new Findings(options.maxFindings);
  const verifier = new Verifier(findings, options);
  if (options.direction === 'host-to-guest') verifier.leaks.side = 'host';
  const translator = new Translator();
  const decoder = translator.decoder;
  const tunnels = options.tunnels ?? DEFAULT_TUNNEL_SETTINGS;
  decoder.setTunnels(tunnels);
  verifier.leaks.tunnels(tunnels);
  const mappers = options.rules !== undefined && options.rules.length > 0 ? new Mappers(options.rules, options.direction ?? 'guest-to-host') : null;
  // The run's bookkeeping, as verifyFile keeps it: the packets per interface and those
  // not decoded, for capture.unsupported-link at the end.
  const tally = new PacketTally(findings, 0);
  const interfaces: InterfaceInfo[] = [];
  return {
    check(rec) {
      if (rec.kind !== RecordKind.Packet || rec.iface === null) return [];
      findings.mark();
      const iface = rec.iface;
      if (interfaces[iface.index] === undefined) {
        interfaces[iface.index] = iface;
        tally.addInterface(iface.index);
      }
      tally.count(rec);
      const d = decoder.decode(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, iface.linkType);
      tally.settle(d, null, rec);
      verifier.packet(rec, d, mappers?.of(rec) ?? null, decoder.view);
      // Applied record by record: findings come in frame order here.
      findings.trim();
      return [...findings.recent];
    },
    finish() {
      tally.unsupportedLinks(interfaces.filter((i) => i !== undefined), false); // (the indices seen: a sparse array)
      const s = verifier.finish();
      findings.trim();
      const omitted = findings.omittedReport();
      return { findings: findings.list, ...(omitted === undefined ? {} : { omitted }), errors: findings.errors, warnings: findings.warnings, ...s };
    },
  };
}
