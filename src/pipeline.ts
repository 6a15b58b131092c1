/**
 * One run over a capture: reader -> translator -> (verifier) -> writer.
 *
 * Every packet goes the same way: the reader hands out a record whose bytes
 * live in its window, the translator edits addresses and checksums in place,
 * and the writer emits the record from those same bytes. Nothing is copied
 * unless a block changes shape (an annotation, a format conversion).
 */
import { lstat, realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CaptureReader } from './capture/reader.js';
import { RecordKind, type CaptureFormat } from './capture/record.js';
import { AtomicFileTarget, StreamTarget, type OutputTarget } from './capture/target.js';
import { CaptureWriter } from './capture/writer.js';
import { RuleError, UsageError } from './errors.js';
import type { InterfaceMapper } from './nat/mapper.js';
import type { Rule } from './nat/rules.js';
import { RuleTable, type Direction } from './nat/table.js';
import { Translator } from './nat/translate.js';
import { Findings, type Report } from './report/model.js';
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
  /** Add a pcapng comment to each rewritten packet. */
  annotate: boolean;
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
}

/** Refuses to overwrite the input (also through links) or an existing file without --force. */
export async function checkOutputPath(input: string, output: string, force: boolean): Promise<void> {
  if (output === '-') return;
  const out = await lstat(output).catch(() => null);
  if (input !== '-') {
    const inStat = await stat(input).catch(() => null);
    const outStat = await stat(output).catch(() => null);
    const sameFile = inStat !== null && outStat !== null && inStat.dev === outStat.dev && inStat.ino === outStat.ino;
    const samePath = (await realpath(input).catch(() => resolve(input))) === (await realpath(output).catch(() => resolve(output)));
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

export async function runPipeline(opts: PipelineOptions): Promise<RunResult> {
  const started = process.hrtime.bigint();
  if (opts.output !== null) await checkOutputPath(opts.input, opts.output, opts.force);
  if (opts.annotate && opts.format === 'pcap') {
    throw new UsageError('--annotate writes pcapng packet comments; it cannot be used with --format pcap');
  }
  const totalBytes = opts.input === '-' ? null : (await stat(opts.input).catch(() => null))?.size ?? null;
  const reader = await CaptureReader.open(opts.input, { maxBlock: opts.maxBlock, maxRecord: opts.maxRecord });
  const outFormat: CaptureFormat = opts.format === 'same' ? reader.format : opts.format;
  if (opts.annotate && outFormat !== 'pcapng') {
    await reader.close();
    throw new UsageError('--annotate writes pcapng packet comments, but the input is pcap: add --format pcapng');
  }
  let target: OutputTarget | null = null;
  try {
    if (opts.output !== null) {
      target = opts.output === '-' ? new StreamTarget(process.stdout) : await AtomicFileTarget.create(opts.output);
    }
    const writer = target === null ? null : new CaptureWriter(target, reader.format, { format: outFormat, annotating: opts.annotate });
    const table = new RuleTable(opts.rules, opts.direction);
    const translator = new Translator();
    const mappers: InterfaceMapper[] = [];
    const findings = new Findings();
    const translating = opts.command === 'rewrite' && opts.rules.length > 0;
    let packets = 0;
    let rewritten = 0;
    let undecodable = 0;

    for (;;) {
      const rec = reader.next();
      if (rec === null) {
        if (reader.done) break;
        if (writer !== null) await writer.flush();
        opts.onProgress?.(reader.position, totalBytes);
        await reader.fill();
        continue;
      }
      if (rec.kind === RecordKind.Packet) {
        packets++;
        let comment: string | undefined;
        const mapper = mappers[rec.interfaceId];
        if (translating && mapper !== undefined && mapper.active) {
          const r = translator.translate(rec.buf, rec.dataOffset, rec.capturedLength, rec.originalLength, rec.iface!.linkType, mapper);
          if (r.undecodable !== null) {
            undecodable++;
            findings.add(rec.frame, rec.interfaceId, 'packet.undecodable', r.undecodable, { offset: rec.fileOffset });
          } else if (r.changed) {
            rewritten++;
            if (opts.annotate) comment = r.describe(mapper);
          }
        }
        writer?.write(rec, comment);
        continue;
      }
      if (rec.kind === RecordKind.InterfaceDescription || rec.kind === RecordKind.PcapHeader) {
        const iface = reader.interfaces[reader.interfaces.length - 1]!;
        mappers[iface.id] = table.mapperFor(iface);
      }
      writer?.write(rec);
    }
    writer?.finish();
    await writer?.flush();
    opts.onProgress?.(reader.position, totalBytes);

    const unmatched = table.unmatchedScopes(reader.interfaces);
    if (unmatched.length > 0) {
      const r = unmatched[0]!;
      const names = reader.interfaces.map((i) => (i.name === undefined ? `#${i.id}` : `${i.name} (#${i.id})`)).join(', ');
      throw new RuleError(`rule "${r.text}" names an interface the capture does not have (it has: ${names || 'none'})`, r.text);
    }
    if (reader.truncatedTail !== null) {
      const t = reader.truncatedTail;
      findings.add(0, -1, 'capture.truncated-tail', `the input ends inside a record at byte offset ${t.offset}, after frame ${reader.frames} (${t.had} of ${t.needed} bytes there); every complete record before it is kept`, { offset: t.offset });
    }
    await target?.commit();
    const report: Report = {
      tool: 'ssnat-rewrite',
      version: VERSION,
      command: opts.command,
      input: {
        path: opts.input,
        format: reader.format,
        interfaces: reader.interfaces.map((i) => (i.name === undefined ? { id: i.id, linkType: i.linkType } : { id: i.id, name: i.name, linkType: i.linkType })),
      },
      ...(opts.output === null ? {} : { output: { path: opts.output, format: outFormat } }),
      direction: opts.direction,
      rules: opts.rules.map((r) => r.text),
      summary: {
        packets,
        rewritten,
        undecodable,
        checksums: { verified: 0, bad: 0, unverifiable: 0 },
        errors: findings.errors,
        warnings: findings.warnings,
        collisions: 0,
      },
      findings: findings.list,
      collisions: [],
    };
    return {
      report,
      bytesIn: reader.position,
      bytesOut: writer?.bytesWritten ?? 0,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
      droppedBlocks: writer?.droppedBlocks ?? 0,
    };
  } catch (e) {
    await target?.abort();
    throw e;
  } finally {
    await reader.close().catch(() => undefined);
  }
}
