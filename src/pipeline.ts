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
import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { CaptureReader } from './capture/reader.js';
import { RecordKind, type CaptureFormat, type CaptureRecord } from './capture/record.js';
import { AtomicFileTarget, stdoutTarget, type OutputTarget } from './capture/target.js';
import { CaptureWriter } from './capture/writer.js';
import { RuleError, UsageError } from './errors.js';
import type { InterfaceMapper } from './nat/mapper.js';
import type { Rule } from './nat/rules.js';
import { RuleTable, type Direction } from './nat/table.js';
import { KIND_NAMES, Translator } from './nat/translate.js';
import { Findings, type Finding, type Report } from './report/model.js';
import type { DecodeResult } from './wire/decode.js';
import { Verifier, type VerifierOptions } from './verify/verifier.js';
import { VERSION } from './version.js';

export interface PipelineOptions {
  command: 'rewrite' | 'verify';
  /** Input path, '-' for stdin. */
  input: string;
  /** Output path, '-' for stdout; null for verify. */
  output: string | null;
  rules: readonly Rule[];
  direction: Direction;
  format: 'same' | CaptureFormat;
  /** Add a pcapng comment to each rewritten packet (and, with `verify`, to each frame with a finding). */
  annotate: boolean;
  /** rewrite: verify the output as it is written (verify always verifies). */
  verify?: boolean;
  /** verify: write a pcapng copy of the input with a comment on every frame that has a finding. */
  annotateOutput?: string | null;
  /** Verifier windows and table limits. */
  verifyOptions?: VerifierOptions;
  /** Replace an existing output file. */
  force: boolean;
  maxBlock?: number;
  maxRecord?: number;
  /** Called after each chunk: bytes read so far, and the input size when known. */
  onProgress?: (bytesRead: number, totalBytes: number | null) => void;
}

export interface RunResult {
  report: Report;
  bytesIn: number;
  bytesOut: number;
  seconds: number;
  /** Blocks the output format could not hold (pcapng -> pcap). */
  droppedBlocks: number;
  /** Addresses rewritten, by kind ("ipv4.src", "arp.target", "icmp.inner-ipv4.dst", "ndp.target", ...). */
  rewritesByKind: Record<string, number>;
}

/** f's result, or null when it throws (a path that does not exist or cannot be looked at). */
function orNull<T extends Stats | string>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/** Refuses to overwrite the input (also through links) or an existing file without --force. */
export async function checkOutputPath(input: string, output: string, force: boolean): Promise<void> {
  if (output === '-') return;
  const out = orNull(() => lstatSync(output));
  if (input !== '-') {
    const inStat = orNull(() => statSync(input));
    const outStat = orNull(() => statSync(output));
    const sameFile = inStat !== null && outStat !== null && inStat.dev === outStat.dev && inStat.ino === outStat.ino;
    const samePath = (orNull(() => realpathSync(input)) ?? resolve(input)) === (orNull(() => realpathSync(output)) ?? resolve(output));
    if (sameFile || samePath) {
      throw new UsageError(`output ${output} is the input file${samePath ? '' : ' (through a link)'}: refusing to overwrite what is being read; choose another output path`);
    }
  }
  if (out !== null && !force) {
    throw new UsageError(`output ${output} exists; pass --force to replace it`);
  }
  if (out !== null && out.isDirectory()) {
    throw new UsageError(`output ${output} is a directory`);
  }
}

/** Rewritten addresses per kind name, from packet counts per kind bitmask. */
function countByKind(maskCounts: Float64Array): Record<string, number> {
  const perKind = KIND_NAMES.map(() => 0);
  maskCounts.forEach((n, mask) => {
    // Most of the 4096 combinations never occur: 2 ms of cold code on every run when all were expanded.
    if (n === 0) return;
    for (let k = 0; k < perKind.length; k++) if ((mask & (1 << k)) !== 0) perKind[k]! += n;
  });
  return Object.fromEntries(KIND_NAMES.map((k, i) => [k, perKind[i]!] as const).filter(([, n]) => n > 0));
}

/** `packet.undecodable` for a record whose decode found an impossible header (it passes unchanged). */
export function addUndecodable(findings: Findings, rec: CaptureRecord, d: DecodeResult): void {
  findings.add(rec.frame, rec.interfaceId, 'packet.undecodable', `${d.undecodable} (at byte ${d.undecodableOff - rec.dataOffset} of the frame)`, { offset: rec.fileOffset });
}

/** The pcapng comment naming a frame's findings ("ssnat: udp.checksum: UDP checksum ..."). */
export function findingsComment(fs: readonly Finding[], from: number): string {
  const parts: string[] = [];
  for (let i = from; i < fs.length; i++) parts.push(`${fs[i]!.check}: ${fs[i]!.message}`);
  return `ssnat: ${parts.join('; ')}`;
}

interface LoopFlags {
  /** Rules are applied (rewrite with at least one rule). */
  translating: boolean;
  /** Each rewritten packet gets a comment naming its rewrites (rewrite --annotate). */
  describeRewrites: boolean;
  /** Comments are written at all (rewrites, or findings with verify --annotate). */
  annotating: boolean;
  /** The verifier checks for addresses the rules would still translate. */
  leakCheck: boolean;
}

/**
 * The per-record work of a run: translate, verify, write. It is synchronous
 * and runs until the reader needs more bytes; `runPipeline` only waits for
 * I/O between windows. The lean path (rewrite and nothing else) and the full
 * one (verifier, comments) are separate loops so that the main job pays for
 * no branch it does not take.
 */
class RecordLoop {
  packets = 0;
  rewritten = 0;
  undecodable = 0;
  /** Packets per combination of rewritten kinds (a bitmask of K_*), expanded per kind at the end. */
  readonly maskCounts = new Float64Array(1 << KIND_NAMES.length);
  private readonly translator = new Translator();
  private readonly mappers: InterfaceMapper[] = [];
  private readonly linkTypes: number[] = [];
  /** Rewrite with nothing else to do per packet (no verifier, no comments): the lean loop. */
  private readonly plain: boolean;

  constructor(
    private readonly reader: CaptureReader,
    private readonly writer: CaptureWriter | null,
    private readonly table: RuleTable,
    private readonly findings: Findings,
    private readonly verifier: Verifier | null,
    private readonly flags: LoopFlags,
  ) {
    this.translator.details = flags.describeRewrites; // the old/new addresses only feed annotations
    this.plain = flags.translating && verifier === null && !flags.annotating && writer !== null;
  }

  /** Processes records until the reader needs more bytes or is done. */
  drain(): void {
    if (this.plain) this.drainPlain();
    else this.drainFull();
  }

  /** A new interface (pcap header or IDB): its compiled rules and link type. */
  private addInterface(): void {
    const ifaces = this.reader.interfaces;
    const iface = ifaces[ifaces.length - 1]!;
    this.mappers[iface.id] = this.table.mapperFor(iface);
    this.linkTypes[iface.id] = iface.linkType;
  }

  /** The main job, kept lean: translate and write. */
  private drainPlain(): void {
    const { reader, translator, mappers, linkTypes, maskCounts } = this;
    const writer = this.writer!;
    let packets = 0;
    let rewritten = 0;
    for (;;) {
      const rec = reader.next();
      if (rec === null) break;
      if (rec.kind === RecordKind.Packet) {
        packets++;
        const mapper = mappers[rec.interfaceId];
        if (mapper !== undefined && mapper.active) {
          const r = translator.rewrite(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, linkTypes[rec.interfaceId]!, mapper);
          if (r.undecodable !== null) {
            this.undecodable++;
            addUndecodable(this.findings, rec, translator.decoded);
          } else if (r.changed) {
            rewritten++;
            maskCounts[r.rewrites]!++;
          }
        }
      } else if (rec.kind === RecordKind.InterfaceDescription || rec.kind === RecordKind.PcapHeader) {
        this.addInterface();
      }
      writer.write(rec);
    }
    this.packets += packets;
    this.rewritten += rewritten;
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
      this.packets++;
      const mapper = mappers[rec.interfaceId];
      const linkType = linkTypes[rec.interfaceId]!;
      let comment: string | undefined;
      const before = findings.list.length;
      let d: DecodeResult | null = null;
      if (flags.translating && mapper !== undefined && mapper.active) {
        const r = translator.translate(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, linkType, mapper);
        d = translator.decoded;
        if (r.undecodable !== null) {
          this.undecodable++;
          addUndecodable(findings, rec, d);
        } else if (r.changed) {
          this.rewritten++;
          this.maskCounts[r.rewrites]!++;
          if (flags.describeRewrites) comment = r.describe(mapper);
        }
      } else if (verifier !== null) {
        d = decoder.decode(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, linkType);
        if (d.undecodable !== null) {
          this.undecodable++;
          addUndecodable(findings, rec, d);
        }
      }
      if (verifier !== null && d !== null) verifier.packet(rec, d, flags.leakCheck && mapper !== undefined ? mapper : null, decoder.view);
      if (flags.annotating && findings.list.length > before) {
        const f = findingsComment(findings.list, before);
        comment = comment === undefined ? f : `${comment}; ${f.slice('ssnat: '.length)}`;
      }
      writer?.write(rec, comment);
    }
  }
}

export async function runPipeline(opts: PipelineOptions): Promise<RunResult> {
  const started = process.hrtime.bigint();
  const annotateOutput = opts.command === 'verify' ? (opts.annotateOutput ?? null) : null;
  if (opts.output !== null) await checkOutputPath(opts.input, opts.output, opts.force);
  if (annotateOutput !== null) await checkOutputPath(opts.input, annotateOutput, opts.force);
  if (opts.annotate && opts.format === 'pcap') {
    throw new UsageError('--annotate writes pcapng packet comments; it cannot be used with --format pcap');
  }
  const totalBytes = opts.input === '-' ? null : orNull(() => statSync(opts.input))?.size ?? null;
  const reader = await CaptureReader.open(opts.input, { maxBlock: opts.maxBlock, maxRecord: opts.maxRecord });
  const outFormat: CaptureFormat = annotateOutput !== null ? 'pcapng' : opts.format === 'same' ? reader.format : opts.format;
  if (opts.annotate && outFormat !== 'pcapng') {
    await reader.close();
    throw new UsageError('--annotate writes pcapng packet comments, but the input is pcap: add --format pcapng');
  }
  let target: OutputTarget | null = null;
  let writer: CaptureWriter | null = null;
  try {
    const outPath = annotateOutput ?? opts.output;
    if (outPath !== null) {
      target = outPath === '-' ? stdoutTarget() : await AtomicFileTarget.create(outPath);
    }
    const annotating = opts.annotate || annotateOutput !== null;
    writer = target === null ? null : new CaptureWriter(target, reader.format, { format: outFormat, annotating });
    const table = new RuleTable(opts.rules, opts.direction);
    const findings = new Findings();
    const verifier = opts.command === 'verify' || opts.verify === true ? new Verifier(findings, opts.verifyOptions) : null;
    const loop = new RecordLoop(reader, writer, table, findings, verifier, {
      translating: opts.command === 'rewrite' && opts.rules.length > 0,
      describeRewrites: opts.annotate,
      annotating,
      leakCheck: verifier !== null && opts.rules.length > 0,
    });

    for (;;) {
      loop.drain();
      if (reader.done) break;
      // Writing this window overlaps parsing the next (the read window keeps it intact until the fill after next).
      if (writer !== null) await writer.flushBehind();
      opts.onProgress?.(reader.position, totalBytes);
      await reader.fill();
    }
    writer?.finish();
    await writer?.flush();
    opts.onProgress?.(reader.position, totalBytes);

    const unmatched = table.unmatchedScopes(reader.interfaces);
    if (unmatched.length > 0) {
      const r = unmatched[0]!;
      const names = reader.interfaces.map((i) => (i.name === undefined ? `#${i.id}` : `${i.name} (#${i.id})`)).join(', ');
      const from = r.source === undefined ? '' : `${r.source}: `;
      throw new RuleError(`${from}rule "${r.text}" names an interface the capture does not have (it has: ${names || 'none'})`, r.text);
    }
    if (reader.truncatedTail !== null) {
      const t = reader.truncatedTail;
      findings.add(0, -1, 'capture.truncated-tail', `the input ends inside a record at byte offset ${t.offset}, after frame ${reader.frames} (${t.had} of ${t.needed} bytes there); every complete record before it is kept`, { offset: t.offset });
    }
    await target?.commit();
    const summary = verifier?.finish() ?? null;
    const report: Report = {
      tool: 'ssnat-rewrite',
      version: VERSION,
      command: opts.command,
      input: {
        path: opts.input,
        format: reader.format,
        interfaces: reader.interfaces.map((i) => (i.name === undefined ? { id: i.id, linkType: i.linkType } : { id: i.id, name: i.name, linkType: i.linkType })),
      },
      ...(outPath === null ? {} : { output: { path: outPath, format: outFormat } }),
      direction: opts.direction,
      rules: opts.rules.map((r) => r.text),
      summary: {
        packets: loop.packets,
        rewritten: loop.rewritten,
        undecodable: loop.undecodable,
        checksums: summary?.checksums ?? { verified: 0, bad: 0, unverifiable: 0 },
        errors: findings.errors,
        warnings: findings.warnings,
        collisions: summary?.collisions.length ?? 0,
      },
      findings: findings.list,
      collisions: summary?.collisions ?? [],
    };
    return {
      report,
      bytesIn: reader.position,
      bytesOut: writer?.bytesWritten ?? 0,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      droppedBlocks: writer?.droppedBlocks ?? 0,
      rewritesByKind: countByKind(loop.maskCounts),
    };
  } catch (e) {
    await writer?.settle();
    await target?.abort();
    throw e;
  } finally {
    await reader.close().catch(() => undefined);
  }
}
