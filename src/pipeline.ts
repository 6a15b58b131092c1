/**
 * One run over a capture: reader -> translator -> (verifier) -> writer.
 *
 * Every packet goes the same way: the reader hands out a record whose bytes
 * live in its window, the translator edits addresses and checksums in place,
 * the verifier looks at the same bytes through the same decode result, and
 * the writer emits the record from those same bytes. Nothing is copied
 * unless a block changes shape (an annotation, a format conversion).
 *
 * `verify` runs the verifier on the input (and with `annotateOutput` writes
 * a pcapng copy with a comment on every frame that has a finding);
 * `rewrite` with `verify` runs it on the output, packet by packet, after
 * translation.
 */
// Synchronous metadata calls, once per run: node:fs/promises alone costs ~2 ms of start-up (it loads readline).
import { statSync } from 'node:fs';
import { checkDistinct, planOutput, type PlannedOutput } from './capture/outputs.js';
import { availableCores } from './multi/cores.js';
import { PacketBatch } from './capture/batch.js';
import { CaptureReader } from './capture/reader.js';
import { recycledWindows, sharedWindows } from './capture/source.js';
import { TranslatorPool } from './parallel/pool.js';
import { RecordKind, type CaptureFormat, type CaptureRecord, type InterfaceInfo } from './capture/record.js';
import { openOutput, type OutputTarget } from './capture/target.js';
import { CaptureWriter } from './capture/writer.js';
import { GzipTarget } from './capture/gzip.js';
import { RuleError, UsageError } from './errors.js';
import type { InterfaceMapper } from './nat/mapper.js';
import type { Rule } from './nat/rules.js';
import { RuleTable, type Direction } from './nat/table.js';
import { DEFAULT_TUNNEL_SETTINGS, type TunnelSettings } from './wire/tunnel.js';
import { KIND_NAMES, Translator, type BatchContext } from './nat/translate.js';
import { MAC_KIND_NAMES, MacMap, MacRewriter, macApplies, type MacRule } from './nat/mac.js';
import { ChecksumFixer } from './nat/fixsum.js';
import { Findings, type Finding, type Report, type SeverityOverrides } from './report/model.js';
import { verdictOf } from './report/verdict.js';
import type { DecodeResult } from './wire/decode.js';
import { Verifier, type VerifierOptions } from './verify/verifier.js';
import { VERSION } from './version.js';
import { BatchPlace, PacketTally } from './tally.js';

export interface PipelineOptions {
  command: 'rewrite' | 'verify';
  /** Input path, '-' for stdin. */
  input: string;
  /** Output path, '-' for stdout; null for verify. */
  output: string | null;
  rules: readonly Rule[];
  direction: Direction;
  /** The output format asked for (--format); 'same': the name's, else the input's. */
  format: 'same' | CaptureFormat;
  /** The format the output's name asks for (.pcap, .pcapng), used when `format` is 'same'; conversions are noted. */
  nameFormat?: CaptureFormat | null;
  /** Add a pcapng comment to each rewritten packet (and, with `verify`, to each frame with a finding). */
  annotate: boolean;
  /** rewrite: MAC address mappings (--mac), applied after the rules (src/nat/mac.ts). */
  macRules?: readonly MacRule[];
  /** rewrite: recompute every IP and L4 checksum of the output (--fix-checksums, src/nat/fixsum.ts). */
  fixChecksums?: boolean;
  /** rewrite: verify the output as it is written (verify always verifies). */
  verify?: boolean;
  /** verify: write a pcapng copy of the input with a comment on every frame that has a finding. */
  annotateOutput?: string | null;
  /** Verifier windows and table limits. */
  verifyOptions?: VerifierOptions;
  /** Look into tunnels, and on which extra UDP ports VXLAN is (--tunnels, --vxlan-port; default: on, none). */
  tunnels?: TunnelSettings;
  /** Replace an existing output file. */
  force: boolean;
  /**
   * The outputs as planned by the caller (outputs.ts), when it checked them
   * together with outputs of its own (a --report-file); planned here otherwise.
   */
  outputPlan?: PlannedOutput | null;
  /** Warnings fail the run (the report's verdict). */
  strict?: boolean;
  /** Findings listed per check in the report (default DEFAULT_MAX_FINDINGS; 0: all); the rest are counted in `omitted`. */
  maxFindings?: number;
  /** Checks made errors (--fail-on) or turned off (--ignore): report/severity.ts. */
  severity?: SeverityOverrides;
  /**
   * A rule scoped to an interface the capture does not have is an error
   * (default). A run over many captures turns it off: there, a scope simply
   * does not apply to the captures without that interface.
   */
  checkScopes?: boolean;
  /**
   * rewrite: a rule that rewrote no address is a `rule.unmatched` warning
   * (default). A run over many captures turns it off: there, rules for
   * other captures' interfaces match nothing in this one by design.
   */
  unmatchedRules?: boolean;
  /**
   * Threads that translate one capture (rewrite): the main thread, which also
   * reads, walks and writes, and `jobs - 1` worker threads (src/parallel/).
   * Default: the cores available (multi/cores.ts: the CPUs, bounded by a cgroup quota), used for inputs
   * of PARALLEL_MIN_BYTES or more on PARALLEL_MIN_CORES cores or more; a
   * number given is used for any size. A run that cannot be split (see
   * `parallelWorkers`) uses one thread.
   */
  jobs?: number;
  /**
   * Parallel rewrite: translate nothing until every worker thread has
   * started, so that the workers take part even in a small capture (tests).
   * A run does not wait by default: the main thread translates meanwhile.
   */
  waitForWorkers?: boolean;
  maxBlock?: number;
  maxRecord?: number;
  /** Called after each chunk: bytes read so far, and the input size when known. */
  onProgress?: (bytesRead: number, totalBytes: number | null) => void;
  /**
   * Called with the finished report before the output is committed: a
   * caller writes its own outputs (a report file) here, so that a failure
   * there leaves no capture behind either. What it throws aborts the run.
   */
  beforeCommit?: (report: Report) => Promise<void>;
}

export interface RunResult {
  report: Report;
  /** Threads that translated the capture (1: the single-thread path). */
  threads: number;
  /** Parallel rewrite: the batches of packets each thread translated, the main thread's first. */
  tasksByThread?: number[];
  bytesIn: number;
  bytesOut: number;
  seconds: number;
  /** Addresses rewritten, by kind ("ipv4.src", "arp.target", "icmp.inner-ipv4.dst", "ndp.target", ...; with --mac "eth.src", "arp.sender-mac", ...). */
  rewritesByKind: Record<string, number>;
  /** Per --mac mapping, in the order given: the addresses it rewrote. */
  macHits: number[];
  /** One-line notes for the user (a format chosen for them, what a conversion dropped). */
  notes: string[];
}

/** The size of a regular file, or null (stdin, a pipe, a path that cannot be looked at). */
function fileSize(path: string): number | null {
  if (path === '-') return null;
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

/** Rewritten addresses per kind name, from packet counts per kind bitmask. */
function countByKind(maskCounts: Float64Array): Record<string, number> {
  const perKind = KIND_NAMES.map(() => 0);
  // A plain loop: forEach's callback over the 32,768 combinations cost 0.4 ms a capture (77 ms over 200 files).
  for (let mask = 1; mask < maskCounts.length; mask++) {
    const n = maskCounts[mask]!;
    if (n === 0) continue; // most combinations never occur
    for (let k = 0; k < perKind.length; k++) if ((mask & (1 << k)) !== 0) perKind[k]! += n;
  }
  return Object.fromEntries(KIND_NAMES.map((k, i) => [k, perKind[i]!] as const).filter(([, n]) => n > 0));
}

/** MAC addresses rewritten per kind name (--mac), the kinds that occurred. */
function macByKind(mac: MacRewriter | null): Record<string, number> {
  if (mac === null) return {};
  return Object.fromEntries(MAC_KIND_NAMES.map((k, i) => [k, mac.counts[i]!] as const).filter(([, n]) => n > 0));
}

/** The pcapng comment naming a frame's findings ("ssnat: udp.checksum: UDP checksum ..."). */
export function findingsComment(fs: readonly Finding[]): string {
  const parts: string[] = [];
  for (let i = 0; i < fs.length; i++) parts.push(`${fs[i]!.check}: ${fs[i]!.message}`);
  return `ssnat: ${parts.join('; ')}`;
}

/**
 * Packets per batch of the rewrite loop (a 2 MB window of the bench capture
 * holds about 15,000): short loops, so that V8 optimizes the walk and the
 * translator as whole functions rather than twice (on-stack replacement of
 * a long first loop, then the function).
 */
const BATCH_PACKETS = 1024;

interface LoopFlags {
  /** Rules are applied (rewrite with at least one rule). */
  translating: boolean;
  /** Each rewritten packet gets a comment naming its rewrites (rewrite --annotate). */
  describeRewrites: boolean;
  /** Comments are written at all (rewrites, or findings with verify --annotate). */
  annotating: boolean;
  /** The verifier checks for addresses the rules would still translate. */
  leakCheck: boolean;
  /**
   * Check that every rule's interface scope names an interface of the
   * capture at the first packet, before a byte is written: for outputs that
   * cannot be taken back (stdout, a FIFO). Other runs check at the end.
   */
  scopesAtFirstPacket: boolean;
}

/**
 * The per-record work of a run: translate, verify, write. It is synchronous
 * and runs until the reader needs more bytes; `runPipeline` only waits for
 * I/O between windows. The lean path (rewrite and nothing else) and the full
 * one (verifier, comments) are separate loops so that the main job pays for
 * no branch it does not take.
 */
class RecordLoop {
  /** The counts of the run's packets (tally.ts). */
  readonly tally: PacketTally;
  private seenPacket = false;
  private readonly translator = new Translator();
  /** Per interface (by index): its compiled rules and link type. */
  private readonly mappers: InterfaceMapper[] = [];
  private readonly linkTypes: number[] = [];
  /** The packet runs of the reader's walk. */
  private readonly batch = new PacketBatch(BATCH_PACKETS);
  /** Rewrite with nothing else to do per packet (no verifier, no comments): the lean loop. */
  private readonly plain: boolean;
  /** --mac: the rewriter and, per interface (by index), the mappings that apply there. */
  readonly mac: MacRewriter | null;
  private readonly macMaps: MacMap[] = [];
  /** --fix-checksums. */
  readonly fixer: ChecksumFixer | null;

  constructor(
    private readonly reader: CaptureReader,
    private readonly writer: CaptureWriter | null,
    private readonly table: RuleTable,
    private readonly findings: Findings,
    private readonly verifier: Verifier | null,
    private readonly flags: LoopFlags,
    private readonly post: { macRules: readonly MacRule[]; direction: Direction; fixChecksums: boolean } = { macRules: [], direction: 'guest-to-host', fixChecksums: false },
    private readonly inputChecks: { verifier: Verifier; findings: Findings } | null = null,
  ) {
    this.mac = post.macRules.length > 0 ? new MacRewriter(post.macRules) : null;
    this.fixer = post.fixChecksums ? new ChecksumFixer() : null;
    this.tally = new PacketTally(findings, flags.translating ? KIND_NAMES.length : 0);
    this.batchPlace = new BatchPlace(reader);
    this.batchContext = { mappers: this.mappers, linkTypes: this.linkTypes, maskCounts: this.tally.maskCounts, onNotDecoded: this.onNotDecoded };
    this.translator.details = flags.describeRewrites; // the old/new addresses only feed annotations
    if (flags.translating) this.translator.countRuleHits(table.ruleCount);
    // --mac and --fix-checksums decode every packet: the full loop.
    this.plain = flags.translating && verifier === null && !flags.annotating && writer !== null && this.mac === null && this.fixer === null;
  }

  /** Addresses rewritten per rule. */
  get ruleHits(): Float64Array {
    return this.translator.ruleHits;
  }

  /** Processes records until the reader needs more bytes or is done. */
  drain(): void {
    if (this.pool !== null) this.drainParallel(this.pool);
    else if (this.plain) this.drainPlain();
    else this.drainFull();
  }

  /**
   * The parallel rewrite's threads, when the run has them (set before the
   * first drain): batches go to them, and `settle()` must be called after
   * each drain, before the window is written.
   */
  pool: TranslatorPool | null = null;

  /** Looks into tunnels as `s` says. */
  tunnels(s: TunnelSettings): void {
    this.translator.decoder.setTunnels(s);
  }

  /** The main thread's mappers and link types by interface index (shared with the pool's main-thread runner). */
  get interfaceTables(): { mappers: ReadonlyArray<InterfaceMapper | undefined>; linkTypes: readonly number[] } {
    return { mappers: this.mappers, linkTypes: this.linkTypes };
  }

  /**
   * Parallel rewrite: waits until every packet of the window is translated
   * (the window may then be written), and puts the window's findings in
   * frame order, as a single-thread run adds them.
   */
  settle(): void {
    if (this.pool === null) return;
    this.pool.settle();
    // The window's findings (those since the last trim) in frame order, as a single-thread run adds them.
    const list = this.findings.list;
    const from = this.findings.settled;
    if (list.length - from > 1) {
      const sorted = list.slice(from).sort((a, b) => a.frame - b.frame);
      list.splice(from, sorted.length, ...sorted);
    }
  }

  /**
   * Parallel rewrite: a packet a task could not decode, decoded again here
   * (through `translate`, which changes nothing in a packet it cannot
   * decode) for its finding or its count.
   */
  readonly onPoolNotDecoded = (buf: Uint8Array, b: PacketBatch, i: number): void => {
    const k = b.iface[i]!;
    this.translator.translate(buf, b.data[i]!, b.capLen[i]!, b.origLen[i]!, this.linkTypes[k]!, this.mappers[k]!);
    this.batchNotDecoded(buf, b, i, this.translator.decoded);
  };

  /** Packet `i` of batch `b` (in `buf`), which the decoder could not read (its decode is `d`): `packet.undecodable`, or counted as PPI around a link not read. */
  private batchNotDecoded(buf: Uint8Array, b: PacketBatch, i: number, d: DecodeResult): void {
    this.tally.settle(d, null, this.batchPlace.at(buf, b, i));
  }

  /** Where a packet of a batch is, for batchNotDecoded (reused). */
  private readonly batchPlace: BatchPlace;

  /** After the last window: the threads' counters. */
  finishPool(): void {
    if (this.pool === null) return;
    this.tally.rewritten += this.pool.addCounts(this.tally.maskCounts, this.translator.ruleHits);
  }

  /** A new interface (pcap header or IDB): its compiled rules and link type. */
  private addInterface(): void {
    const ifaces = this.reader.interfaces;
    const iface = ifaces[ifaces.length - 1]!;
    this.mappers[iface.index] = this.table.mapperFor(iface);
    this.linkTypes[iface.index] = iface.linkType;
    this.tally.addInterface(iface.index);
    if (this.mac !== null) this.macMaps[iface.index] = new MacMap(this.post.macRules, this.post.direction, iface);
  }

  /** The first packet: the interfaces described before it are known. */
  private firstPacket(): void {
    this.seenPacket = true;
    if (this.flags.scopesAtFirstPacket) checkScopes(this.table, this.reader, true, this.post.macRules);
  }

  /**
   * The main job, kept lean: translate and write. Runs of packet records
   * come from the reader's walk as batches (`CaptureReader.nextPackets`),
   * translated in one loop and written as one span when the output keeps the
   * input's format; everything else goes record by record.
   */
  private drainPlain(): void {
    const { reader, translator } = this;
    const writer = this.writer!;
    const batch = writer.sameFormat ? this.batch : null;
    for (;;) {
      if (batch !== null && reader.nextPackets(batch) > 0) {
        if (!this.seenPacket) this.firstPacket();
        this.tally.countBatch(batch);
        const buf = reader.buffer;
        this.tally.rewritten += translator.rewriteBatch(buf, batch, 0, batch.count, this.batchContext);
        writer.writeRecords(buf, batch.start, batch.end);
        continue;
      }
      const rec = reader.next();
      if (rec === null) break;
      this.plainRecord(rec, writer);
    }
  }

  /** One record of the lean loop that is not in a batch: translated (a packet) and written. */
  private plainRecord(rec: CaptureRecord, writer: CaptureWriter): void {
    if (rec.kind === RecordKind.Packet) {
      if (!this.seenPacket) this.firstPacket();
      this.tally.count(rec);
      const mapper = this.mappers[rec.interfaceIndex];
      if (mapper !== undefined && mapper.active) {
        const r = this.translator.rewrite(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, this.linkTypes[rec.interfaceIndex]!, mapper);
        this.tally.settle(this.translator.decoded, r, rec);
      }
    } else if (rec.kind === RecordKind.InterfaceDescription || rec.kind === RecordKind.PcapHeader) {
      this.addInterface();
      this.pool?.addInterface(rec.iface!);
    }
    writer.write(rec);
  }

  /**
   * The lean loop of a parallel rewrite: each batch of the walk is a task
   * for the pool's threads (the main thread among them, in settle()), its
   * bytes queued for writing at once; the writer sends them only after
   * settle(). Any other record goes as in the single-thread loop.
   */
  private drainParallel(pool: TranslatorPool): void {
    const reader = this.reader;
    const writer = this.writer!;
    for (;;) {
      const batch = pool.nextBatch();
      if (reader.nextPackets(batch) > 0) {
        if (!this.seenPacket) this.firstPacket();
        this.tally.countBatch(batch);
        pool.publish(reader.buffer, batch);
        writer.writeRecords(reader.buffer, batch.start, batch.end);
        continue;
      }
      const rec = reader.next();
      if (rec === null) break;
      this.plainRecord(rec, writer);
    }
  }

  /** A packet of the single-thread loop's batch that the decoder could not read (batchNotDecoded). */
  private readonly onNotDecoded = (i: number, d: DecodeResult): void => this.batchNotDecoded(this.reader.buffer, this.batch, i, d);

  /** What the translator's batch loop needs: this loop's tables and counters. */
  private readonly batchContext: BatchContext;

  /**
   * After translation (on the translated bytes, through the same decode
   * result: lengths never change): --mac, then --fix-checksums. Counts a
   * packet whose MAC addresses alone changed as rewritten, and returns the
   * comment with what they did added (--annotate).
   */
  private postTranslate(rec: CaptureRecord, d: DecodeResult, comment: string | undefined, translated: boolean): string | undefined {
    const v = this.translator.decoder.view;
    const parts: string[] = [];
    const map = this.macMaps[rec.interfaceIndex];
    if (this.mac !== null && map !== undefined && this.mac.apply(rec.buf, v, d, map) !== 0) {
      if (!translated) this.tally.rewritten++;
      if (this.flags.describeRewrites) parts.push(...this.mac.describe(map));
    }
    if (this.fixer !== null && this.fixer.fix(rec.buf, v, d) && this.flags.describeRewrites) parts.push(`fixed ${this.fixer.describe().join(', ')}`);
    if (parts.length === 0) return comment;
    return comment === undefined ? `ssnat: ${parts.join('; ')}` : `${comment}; ${parts.join('; ')}`;
  }

  /** Everything else: verification, comments, verify without output. */
  private drainFull(): void {
    const { reader, writer, translator, mappers, linkTypes, findings, verifier, flags } = this;
    const decoder = translator.decoder;
    for (;;) {
      const rec = reader.next();
      if (rec === null) break;
      if (rec.kind !== RecordKind.Packet) {
        if (rec.kind === RecordKind.InterfaceDescription || rec.kind === RecordKind.PcapHeader) this.addInterface();
        writer?.write(rec);
        continue;
      }
      if (!this.seenPacket) this.firstPacket();
      this.tally.count(rec);
      const mapper = mappers[rec.interfaceIndex];
      const linkType = linkTypes[rec.interfaceIndex]!;
      let comment: string | undefined;
      findings.mark();
      const input = this.inputChecks;
      if (input !== null) {
        // rewrite --verify: the input's own findings of this frame, before the rewrite, to tell inherited damage from new.
        input.findings.mark();
        const din = decoder.decode(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, linkType);
        input.verifier.packet(rec, din, null, decoder.view);
      }
      let d: DecodeResult | null = null;
      if (flags.translating && mapper !== undefined && mapper.active) {
        const r = translator.translate(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, linkType, mapper);
        d = translator.decoded;
        this.tally.settle(d, r, rec);
        if (r.changed && flags.describeRewrites) comment = r.describe(mapper);
      } else if (verifier !== null || this.mac !== null || this.fixer !== null) {
        d = decoder.decode(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, linkType);
        this.tally.settle(d, null, rec);
      }
      if (d !== null && d.undecodable === null && (this.mac !== null || this.fixer !== null)) comment = this.postTranslate(rec, d, comment, mapper !== undefined && mapper.active && flags.translating && translator.result.changed);
      if (verifier !== null && d !== null) verifier.packet(rec, d, flags.leakCheck && mapper !== undefined ? mapper : null, decoder.view);
      if (input !== null) {
        findings.markInherited(input.findings.recent);
        input.findings.list.length = 0;
      }
      if (flags.annotating && findings.recent.length > 0) {
        const f = findingsComment(findings.recent);
        comment = comment === undefined ? f : `${comment}; ${f.slice('ssnat: '.length)}`;
      }
      writer?.write(rec, comment);
    }
  }
}

/**
 * Throws when a rule's interface scope names no interface of the capture.
 * `early`: checked at the first packet, for an output that cannot be taken
 * back, so later interface descriptions cannot be waited for.
 */
function checkScopes(table: RuleTable, reader: CaptureReader, early: boolean, macRules: readonly MacRule[] = []): void {
  const unmatched = table.unmatchedScopes(reader.interfaces);
  const mac = macRules.find((m) => m.scope.kind !== 'all' && !reader.interfaces.some((i) => macApplies(m, i)));
  if (unmatched.length === 0 && mac === undefined) return;
  const r = unmatched[0];
  const names = [...new Set(reader.interfaces.map((i) => (i.name === undefined ? `#${i.id}` : `${i.name} (#${i.id})`)))].join(', ');
  const from = r?.source === undefined ? '' : `${r.source}: `;
  const what = r === undefined ? `--mac "${mac!.text}"` : `rule "${r.text}"`;
  const when = early ? ' before its first packet' : '';
  const hint = early && reader.format === 'pcapng' ? '; an output that cannot be taken back (stdout, a FIFO) cannot wait for interfaces described later: write to a file to allow them' : '';
  throw new RuleError(`${from}${what} names an interface the capture does not have${when} (it has: ${names || 'none'})${hint}`, r?.text ?? mac!.text);
}

/**
 * The report's interface list: each interface once as Wireshark numbers it
 * (identical descriptions in later pcapng sections are one interface, one
 * lane); an interface under an id that an earlier, different one has (a
 * later section's) is listed with its section, as its findings are
 * (verify/context.ts Lanes): Wireshark's frame.section_number, 1-based.
 */
function reportInterfaces(reader: CaptureReader): Report['input']['interfaces'] {
  const seen = new Map<string, InterfaceInfo>();
  for (const i of reader.interfaces) {
    const key = `${i.id}\0${i.name ?? ''}\0${i.linkType}`;
    if (!seen.has(key)) seen.set(key, i);
  }
  const list = [...seen.values()];
  return list.map((i, n) => ({
    id: i.id,
    ...(i.name === undefined ? {} : { name: i.name }),
    linkType: i.linkType,
    ...(list.findIndex((j) => j.id === i.id) < n ? { section: i.section + 1 } : {}),
  }));
}

/** The report's ruleHits: each rule with its count (0 for a rule counted by nothing). */
function ruleHits(rules: readonly Rule[], hits: Float64Array): Array<{ rule: string; addresses: number }> {
  return rules.map((r, i) => ({ rule: r.text, addresses: hits[i] ?? 0 }));
}

/**
 * Inputs from this size on are rewritten on every core by default: below it,
 * starting a worker thread (60-100 ms on the development machine, before it
 * translates a packet) costs more than it saves; README "Performance".
 */
export const PARALLEL_MIN_BYTES = 256 * 1024 * 1024;

/**
 * Cores a machine needs before a run is split by default. A single-thread
 * run already keeps two cores busy: the main thread translates while
 * libuv's threads read ahead and write back, and on the 2-core development
 * machine `--jobs 2` took 1.1x the wall time of `--jobs 1` on the 2 GB bench
 * capture and 1.4x on the 1M-packet one (and more CPU on both).
 */
export const PARALLEL_MIN_CORES = 3;

/**
 * Worker threads for the run (0: the single-thread path). Only a rewrite
 * that only translates (no --verify, whose checks follow flows across
 * packets in order; no --annotate, whose comments change block sizes) of a
 * regular file (stdin and pipes have no size to decide by and are read as
 * they come) to an output that is not gzip-compressed (deflate is one
 * stream) is split; a gzip-compressed input and a format conversion are
 * found out later (runPipeline). `jobs` (default: the cores available) counts
 * the main thread, which translates too; by default a run is split only from
 * PARALLEL_MIN_BYTES on, on PARALLEL_MIN_CORES cores or more.
 */
function parallelWorkers(opts: PipelineOptions, totalBytes: number | null, plan: PlannedOutput | null): number {
  const cores = availableCores();
  const jobs = opts.jobs ?? cores;
  if (jobs < 2 || totalBytes === null) return 0;
  if (opts.jobs === undefined && (totalBytes < PARALLEL_MIN_BYTES || cores < PARALLEL_MIN_CORES)) return 0;
  if (opts.command !== 'rewrite' || opts.rules.length === 0 || opts.verify === true || opts.annotate) return 0;
  // --mac and --fix-checksums run on the main thread, after the workers' translation would have.
  if ((opts.macRules?.length ?? 0) > 0 || opts.fixChecksums === true) return 0;
  if (plan === null || /\.gz$/i.test(plan.given)) return 0;
  return jobs - 1;
}

export async function runPipeline(opts: PipelineOptions): Promise<RunResult> {
  const started = process.hrtime.bigint();
  const annotateOutput = opts.command === 'verify' ? (opts.annotateOutput ?? null) : null;
  if (opts.annotate && opts.format === 'pcap') {
    throw new UsageError('--annotate writes pcapng packet comments; it cannot be used with --format pcap');
  }
  const outGiven = annotateOutput ?? opts.output;
  const outName = annotateOutput !== null ? '--annotate output' : 'output';
  let plan = opts.outputPlan ?? null;
  if (plan === null && outGiven !== null) {
    plan = planOutput(outName, outGiven, opts.force, true);
    checkDistinct([opts.input], [plan]);
  }
  const totalBytes = fileSize(opts.input);
  const workers = parallelWorkers(opts, totalBytes, plan);
  // Worker threads translate in the read windows themselves: those are then in shared memory.
  const reader = await CaptureReader.open(opts.input, { maxBlock: opts.maxBlock, maxRecord: opts.maxRecord, allocate: workers > 0 ? sharedWindows : recycledWindows });
  const notes: string[] = [];
  const nameFormat = opts.format === 'same' ? (opts.nameFormat ?? null) : null;
  let outFormat: CaptureFormat = opts.format !== 'same' ? opts.format : (nameFormat ?? reader.format);
  const annotatingRun = opts.annotate || annotateOutput !== null;
  if (annotatingRun && outFormat !== 'pcapng' && nameFormat === 'pcap') {
    notes.push(`comments need pcapng: the ${outName} ${outGiven} is written as pcapng, though its name says pcap (Wireshark reads it by its content; name it .pcapng)`);
    outFormat = 'pcapng';
  } else if (annotatingRun && opts.format === 'same' && reader.format !== 'pcapng') {
    // Comments need pcapng: the annotated copy of a pcap input is pcapng (tcpdump -w - | ssnat-rewrite - - --annotate).
    notes.push(`the input is pcap, which cannot hold comments: the ${outName} is written as pcapng`);
    outFormat = 'pcapng';
  } else if (!annotatingRun && nameFormat !== null && outFormat !== reader.format) {
    notes.push(`writing ${outFormat}, as the name ${outGiven} says; the input is ${reader.format} (--format same keeps it)`);
  }
  let target: OutputTarget | null = null;
  let writer: CaptureWriter | null = null;
  let pool: TranslatorPool | null = null;
  let verifier: Verifier | null = null;
  let inputVerifier: Verifier | null = null;
  try {
    if (plan !== null) {
      target = await openOutput(plan);
      // An output named .gz is written compressed, as tshark and editcap read it.
      if (/\.gz$/i.test(plan.given)) target = new GzipTarget(target, `${plan.role} ${plan.given}`);
    }
    writer = target === null ? null : new CaptureWriter(target, reader.format, { format: outFormat, annotating: annotatingRun });
    const table = new RuleTable(opts.rules, opts.direction);
    const findings = new Findings(opts.maxFindings, opts.severity);
    verifier = opts.command === 'verify' || opts.verify === true ? new Verifier(findings, opts.verifyOptions) : null;
    const translating = opts.command === 'rewrite' && opts.rules.length > 0;
    const macRules = opts.command === 'rewrite' ? (opts.macRules ?? []) : [];
    // rewrite --verify checks the input too, frame by frame, so that each finding of the output can say whether the input had it.
    const inputFindings = verifier !== null && opts.command === 'rewrite' ? new Findings(0, opts.severity) : null;
    inputVerifier = inputFindings === null ? null : new Verifier(inputFindings, opts.verifyOptions);
    if (verifier !== null && !translating && opts.rules.length > 0) verifier.leaks.countRuleHits(opts.rules.length);
    if (verifier !== null && opts.direction === 'host-to-guest') verifier.leaks.side = 'host';
    const tunnels = opts.tunnels ?? DEFAULT_TUNNEL_SETTINGS;
    verifier?.leaks.tunnels(tunnels);
    inputVerifier?.leaks.tunnels(tunnels);
    const loop = new RecordLoop(reader, writer, table, findings, verifier, {
      translating,
      describeRewrites: opts.annotate,
      annotating: annotatingRun,
      leakCheck: verifier !== null && opts.rules.length > 0,
      scopesAtFirstPacket: plan !== null && plan.kind !== 'file' && opts.checkScopes !== false,
    }, { macRules, direction: opts.direction, fixChecksums: opts.command === 'rewrite' && opts.fixChecksums === true }, inputVerifier === null ? null : { verifier: inputVerifier, findings: inputFindings! });
    loop.tunnels(tunnels);
    // A gzip-compressed input inflates as it streams (one thread); a conversion builds every block anew.
    if (workers > 0 && reader.gzip === null && writer !== null && writer.sameFormat) {
      pool = TranslatorPool.start({ workers, rules: opts.rules, direction: opts.direction, tunnels, ...loop.interfaceTables, onNotDecoded: loop.onPoolNotDecoded });
      loop.pool = pool;
      if (opts.waitForWorkers === true) await pool.ready();
    }

    for (;;) {
      loop.drain();
      loop.settle();
      // The window's findings are in frame order now: the --max-findings limit can apply to them.
      findings.trim();
      // `recent` serves the annotations of drainFull, which marks before every packet; the other loops never do.
      findings.mark();
      if (reader.done) break;
      // Writing this window overlaps parsing the next (the read window keeps it intact until the fill after next).
      if (writer !== null) await writer.flushBehind();
      opts.onProgress?.(reader.gzip?.consumed ?? reader.position, totalBytes);
      await reader.fill();
    }
    loop.finishPool();
    writer?.finish();
    await writer?.flush();
    opts.onProgress?.(reader.gzip?.consumed ?? reader.position, totalBytes);

    if (opts.checkScopes !== false) checkScopes(table, reader, false, macRules);
    loop.tally.unsupportedLinks(reader.interfaces, translating);
    if (translating && opts.unmatchedRules !== false) {
      for (const [i, r] of opts.rules.entries()) {
        if ((loop.ruleHits[i] ?? 0) === 0) findings.add(0, -1, 'rule.unmatched', `rule "${r.text}" matched no address: it rewrote nothing`);
      }
    }
    const gzipCut = reader.gzip?.truncated === true ? ` (the gzip stream is cut short after ${reader.gzip.consumed} compressed bytes)` : '';
    if (reader.truncatedTail !== null) {
      const t = reader.truncatedTail;
      const at = reader.gzip === null ? 'byte offset' : 'inflated byte offset';
      findings.add(0, -1, 'capture.truncated-tail', `the input ends inside a record at ${at} ${t.offset}, after frame ${reader.frames} (${t.had} of ${t.needed} bytes there)${gzipCut}; every complete record before it is kept`, { offset: t.offset });
    } else if (gzipCut !== '') {
      findings.add(0, -1, 'capture.truncated-tail', `the input ends between two records after frame ${reader.frames}${gzipCut}: every record before it is kept, but the capture may have held more`);
    }
    const summary = verifier?.finish() ?? null;
    findings.trim();
    const omitted = findings.omittedReport();
    const ignored = findings.ignoredReport();
    const counts: Report['summary'] = {
      packets: loop.tally.packets,
      rewritten: loop.tally.rewritten,
      undecodable: loop.tally.undecodable,
      checksums: summary?.checksums ?? { verified: 0, bad: 0, unverifiable: 0 },
      ...(verifier === null ? {} : { unchecked: loop.tally.packets - loop.tally.undecodable - verifier.checked }),
      ...(loop.fixer === null ? {} : { checksumsFixed: loop.fixer.summary() }),
      errors: findings.errors,
      warnings: findings.warnings,
      collisions: summary?.collisions.length ?? 0,
      ...(inputVerifier === null ? {} : { inherited: { errors: findings.inheritedErrors, warnings: findings.inheritedWarnings } }),
    };
    const report: Report = {
      tool: 'ssnat-rewrite',
      version: VERSION,
      command: opts.command,
      input: { path: opts.input, format: reader.format, interfaces: reportInterfaces(reader) },
      ...(outGiven === null ? {} : { output: { path: outGiven, format: outFormat } }),
      direction: opts.direction,
      rules: opts.rules.map((r) => r.text),
      ...(opts.rules.length === 0 ? {} : { ruleHits: ruleHits(opts.rules, translating ? loop.ruleHits : (verifier?.leaks.ruleHits ?? new Float64Array(0))) }),
      ...(opts.severity === undefined ? {} : { severity: opts.severity }),
      summary: counts,
      verdict: verdictOf({ summary: counts }, { strict: opts.strict === true, verified: verifier !== null, checked: verifier?.checked ?? 0 }),
      findings: findings.list,
      ...(omitted === undefined ? {} : { omitted }),
      ...(ignored === undefined ? {} : { ignored }),
      collisions: summary?.collisions ?? [],
    };
    const timeline = verifier?.timeline.report(verifier.lanes) ?? null;
    if (timeline !== null) report.timeline = timeline;
    if (writer !== null && writer.format !== reader.format) notes.push(...writer.conversionNotes());
    await opts.beforeCommit?.(report);
    await target?.commit();
    return {
      report,
      threads: pool === null ? 1 : workers + 1,
      ...(pool === null ? {} : { tasksByThread: pool.tasksByThread }),
      bytesIn: reader.position,
      bytesOut: writer?.bytesWritten ?? 0,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      rewritesByKind: loop.tally.rewritten === 0 ? {} : { ...countByKind(loop.tally.maskCounts), ...macByKind(loop.mac) },
      macHits: loop.mac === null ? [] : [...loop.mac.hits],
      notes,
    };
  } catch (e) {
    await writer?.settle();
    await target?.abort();
    throw e;
  } finally {
    pool?.close();
    verifier?.dispose();
    inputVerifier?.dispose();
    await reader.close().catch(() => undefined);
  }
}

/** Packets read by reverseRuleHits at most: a hint need not read a whole 2 GB capture. */
const HINT_PACKETS = 1_000_000;

/**
 * For a rewrite whose rules matched nothing: how many addresses each rule
 * would have matched in the other direction, read again from the input file
 * (the first HINT_PACKETS packets; the bytes are translated where they lie in
 * the read window and thrown away). Null for stdin, which cannot be read twice.
 */
export async function reverseRuleHits(input: string, rules: readonly Rule[], direction: Direction, limits: { maxBlock?: number | undefined; maxRecord?: number | undefined } = {}, tunnels: TunnelSettings = DEFAULT_TUNNEL_SETTINGS): Promise<Float64Array | null> {
  // Only a regular file can be read a second time: stdin and a FIFO (mkfifo, <(zcat x.gz)) are gone, and opening a FIFO again waits for a writer.
  if (input === '-' || fileSize(input) === null) return null;
  const reader = await CaptureReader.open(input, { maxBlock: limits.maxBlock, maxRecord: limits.maxRecord, allocate: recycledWindows });
  try {
    const table = new RuleTable(rules, direction === 'guest-to-host' ? 'host-to-guest' : 'guest-to-host');
    const translator = new Translator();
    translator.details = false;
    translator.decoder.setTunnels(tunnels);
    translator.countRuleHits(rules.length);
    const mappers: InterfaceMapper[] = [];
    let packets = 0;
    for (;;) {
      const rec = reader.next();
      if (rec === null) {
        if (reader.done) break;
        await reader.fill();
        continue;
      }
      if (rec.kind === RecordKind.InterfaceDescription || rec.kind === RecordKind.PcapHeader) {
        mappers[rec.iface!.index] = table.mapperFor(rec.iface!);
      } else if (rec.kind === RecordKind.Packet) {
        const m = mappers[rec.interfaceIndex];
        if (m !== undefined && m.active) translator.rewrite(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, rec.iface!.linkType, m);
        if (++packets >= HINT_PACKETS) break;
      }
    }
    return translator.ruleHits;
  } finally {
    await reader.close().catch(() => undefined);
  }
}
