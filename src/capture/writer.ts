/**
 * Capture writer: takes the reader's records (possibly edited in place) and
 * emits them in the output format.
 *
 * In the input's own format a record is written back as the very bytes the
 * reader saw (padding, options, unknown blocks and all): contiguous records
 * are coalesced into one span of the read window and written without a copy.
 * Only blocks that change shape (a packet that gains a comment, a format
 * conversion) are built anew, in a scratch buffer.
 *
 * Pending spans point into the reader's window: call `flushBehind()` before
 * each `reader.fill()` (or `flush()`, which also waits for the write).
 */
import { UsageError } from '../errors.js';
import {
  IF_FCSLEN,
  IF_TSRESOL,
  OPT_COMMENT,
  OPT_ENDOFOPT,
  PCAP_DEFAULT_MAX_RECORD,
  PCAP_MAGIC_MICRO,
  PCAP_MAGIC_NANO,
  PCAPNG_BOM,
} from './reader.js';
import { BlockType, RecordKind, type CaptureFormat, type CaptureRecord, type InterfaceInfo } from './record.js';
import type { OutputTarget } from './target.js';

export interface WriterOptions {
  /** Output format; defaults to the input's. */
  format?: CaptureFormat;
  /** Byte order for converted output; defaults to the input's. */
  littleEndian?: boolean;
  /** The run may add packet comments: pcapng section lengths are then set to "unknown" (-1). */
  annotating?: boolean;
  /**
   * Copy every record's bytes at write() instead of pointing into the
   * reader's window: for callers that do not flush before each refill (the
   * library's record-at-a-time API). Costs a copy per record.
   */
  copyRecords?: boolean;
}

const SCRATCH_SIZE = 1 << 20;

export class CaptureWriter {
  readonly format: CaptureFormat;
  /** Blocks that the output format cannot hold (pcapng -> pcap): NRB, ISB, custom, ... */
  droppedBlocks = 0;
  /** Packets that could not carry their comment (SPBs, pcap output). */
  uncommentable = 0;
  /** pcapng -> pcap: packets whose options (comments, flags, hashes) pcap has no place for. */
  droppedPacketOptions = 0;
  /** pcapng -> pcap: interface names (if_name) pcap has no place for. */
  readonly droppedNames = new Set<string>();
  bytesWritten = 0;

  private readonly chunks: Uint8Array[] = [];
  private spanBuf: Uint8Array | null = null;
  private spanStart = 0;
  private spanEnd = 0;
  private scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
  private spareScratch = Buffer.allocUnsafe(SCRATCH_SIZE);
  private inflight: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private scratchView = new DataView(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length);
  private scratchPos = 0;
  private readonly le: boolean | undefined;
  private readonly annotating: boolean;
  private readonly copyRecords: boolean;
  private inputFormat: CaptureFormat | null = null;

  // pcapng -> pcap state
  private pcapLinkType = -1;
  private inputLE = true;
  private readonly pendingIfaces: InterfaceInfo[] = [];
  private pcapUnits = 0n;
  // pcap -> pcapng state
  private ngLE = true;

  constructor(
    private readonly target: OutputTarget,
    inputFormat: CaptureFormat,
    opts: WriterOptions = {},
  ) {
    this.inputFormat = inputFormat;
    this.format = opts.format ?? inputFormat;
    this.le = opts.littleEndian;
    this.annotating = opts.annotating ?? false;
    this.copyRecords = opts.copyRecords ?? false;
  }

  /**
   * Writes one record. `comment`, for packets, is added as an opt_comment
   * (pcapng output only; SPBs cannot carry one).
   */
  write(rec: CaptureRecord, comment?: string): void {
    if (this.format === this.inputFormat) {
      if (comment !== undefined && rec.kind === RecordKind.Packet) this.annotated(rec, comment);
      else if (rec.kind === RecordKind.SectionHeader && this.annotating) this.shbUnknownLength(rec);
      else this.raw(rec.buf, rec.start, rec.start + rec.length);
    } else if (this.format === 'pcapng') {
      this.pcapToPcapng(rec, comment);
    } else {
      this.pcapngToPcap(rec, comment);
    }
  }

  /** Records are written back as the reader saw them (the output's format is the input's). */
  get sameFormat(): boolean {
    return this.format === this.inputFormat;
  }

  /**
   * Writes window bytes that hold whole packet records, exactly as `write`
   * writes each of them when the output's format is the input's and they
   * carry no comment: a batch of the reader's walk (PacketBatch).
   */
  writeRecords(buf: Uint8Array, start: number, end: number): void {
    this.raw(buf, start, end);
  }

  /**
   * One-line notes on what a format conversion left out (pcapng -> pcap);
   * empty when nothing was lost.
   */
  conversionNotes(): string[] {
    if (this.format !== 'pcap' || this.inputFormat !== 'pcapng') return [];
    const lost: string[] = [];
    if (this.droppedPacketOptions > 0) lost.push(`the options (comments, flags) of ${this.droppedPacketOptions} packet(s)`);
    if (this.uncommentable > 0) lost.push(`${this.uncommentable} packet comment(s)`);
    if (this.droppedNames.size > 0) lost.push(`the interface name(s) ${[...this.droppedNames].join(', ')}`);
    if (this.droppedBlocks > 0) lost.push(`${this.droppedBlocks} block(s) (name resolution, statistics, custom, ...)`);
    return lost.length === 0 ? [] : [`pcap has no place for ${lost.join(', ')}: they are left out (keep pcapng to keep them)`];
  }

  /**
   * Checks that the output is complete; call after the last record, before
   * the final flush.
   */
  finish(): void {
    // A capture without packets still gets its pcap header.
    if (this.format === 'pcap' && this.inputFormat === 'pcapng' && this.pcapLinkType < 0) this.writePcapHeader();
  }

  /**
   * Waits for the write started by the previous call, then starts writing
   * every pending byte and returns without waiting for it. When it resolves,
   * the bytes handed to the previous call may be reused (the reader's window,
   * which rotates up to three buffers, keeps the one just parsed intact
   * through the next fill(): src/capture/source.ts ReadWindow), so writing
   * overlaps parsing. Writes stay in order: only one is in flight at a time.
   */
  async flushBehind(): Promise<void> {
    await this.inflight;
    if (this.failure !== null) throw this.failure;
    this.closeSpan();
    if (this.chunks.length > 0) {
      const chunks = this.chunks.splice(0);
      for (const c of chunks) this.bytesWritten += c.length;
      this.inflight = this.target.write(chunks).catch((e: unknown) => {
        this.failure = e;
      });
    }
    // The scratch just handed over stays untouched until that write is done.
    const s = this.scratch;
    this.scratch = this.spareScratch;
    this.spareScratch = s;
    this.scratchView = new DataView(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length);
    this.scratchPos = 0;
  }

  /** Writes every pending byte and waits until all of it is written. */
  async flush(): Promise<void> {
    await this.flushBehind();
    await this.inflight;
    if (this.failure !== null) throw this.failure;
  }

  /** Waits for any write in flight (errors are ignored: for clean-up after a failure). */
  async settle(): Promise<void> {
    await this.inflight;
  }

  // ------------------------------------------------------------ plumbing

  /** Emits bytes of a record as they are: a span of the reader's window, or a copy. */
  private raw(buf: Uint8Array, start: number, end: number): void {
    if (!this.copyRecords) {
      this.span(buf, start, end);
      return;
    }
    const at = this.reserve(end - start);
    this.scratch.set(buf.subarray(start, end), at);
    this.emitScratch(at, end - start);
  }

  /** Bytes written by write() and not yet handed to the target. */
  get pendingBytes(): number {
    let n = this.spanBuf === null ? 0 : this.spanEnd - this.spanStart;
    for (const c of this.chunks) n += c.length;
    return n;
  }

  private span(buf: Uint8Array, start: number, end: number): void {
    if (this.spanBuf === buf && this.spanEnd === start) {
      this.spanEnd = end;
      return;
    }
    this.closeSpan();
    this.spanBuf = buf;
    this.spanStart = start;
    this.spanEnd = end;
  }

  private closeSpan(): void {
    if (this.spanBuf !== null && this.spanEnd > this.spanStart) {
      this.chunks.push(this.spanBuf.subarray(this.spanStart, this.spanEnd));
    }
    this.spanBuf = null;
  }

  /** Reserves n bytes of scratch; returns the offset to fill in `this.scratch`. */
  private reserve(n: number): number {
    if (this.scratchPos + n > this.scratch.length) {
      // The full scratch is still referenced by pending chunks: leave it to them (and the GC).
      this.scratch = Buffer.allocUnsafe(Math.max(SCRATCH_SIZE, n));
      this.scratchView = new DataView(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length);
      this.scratchPos = 0;
    }
    const at = this.scratchPos;
    this.scratchPos += n;
    return at;
  }

  /** Emits scratch[at, at+n) as the next piece of output. */
  private emitScratch(at: number, n: number): void {
    this.span(this.scratch, at, at + n);
  }

  // ------------------------------------------------------- same format

  private shbUnknownLength(rec: CaptureRecord): void {
    const at = this.reserve(rec.length);
    rec.buf.copy(this.scratch, at, rec.start, rec.start + rec.length);
    // Section Length (offset 16, 64 bits): -1 = not specified, since comments change block sizes.
    this.scratchView.setBigInt64(at + 16, -1n, rec.littleEndian);
    this.emitScratch(at, rec.length);
  }

  private annotated(rec: CaptureRecord, comment: string): void {
    if (this.format === 'pcap' || rec.blockType === BlockType.SPB) {
      this.uncommentable++;
      this.raw(rec.buf, rec.start, rec.start + rec.length);
      return;
    }
    // EPB or PB: header and padded data as they are, then the existing options
    // (without their end marker), the comment, a new end marker and the trailer.
    const le = rec.littleEndian;
    const v = new DataView(rec.buf.buffer, rec.buf.byteOffset, rec.buf.length);
    const optStart = rec.optionsOffset;
    const blockEnd = rec.start + rec.length - 4;
    let optEnd = optStart;
    while (optEnd + 4 <= blockEnd) {
      const code = v.getUint16(optEnd, le);
      if (code === OPT_ENDOFOPT) break;
      const next = optEnd + 4 + ((v.getUint16(optEnd + 2, le) + 3) & ~3);
      if (next > blockEnd) break; // malformed options: keep what was well-formed
      optEnd = next;
    }
    const text = Buffer.from(comment, 'utf8');
    const clen = Math.min(text.length, 0xffff);
    const head = optEnd - rec.start;
    const total = head + 4 + ((clen + 3) & ~3) + 4 + 4;
    const at = this.reserve(total);
    const s = this.scratch;
    const sv = this.scratchView;
    rec.buf.copy(s, at, rec.start, optEnd);
    let p = at + head;
    sv.setUint16(p, OPT_COMMENT, le);
    sv.setUint16(p + 2, clen, le);
    text.copy(s, p + 4, 0, clen);
    s.fill(0, p + 4 + clen, p + 4 + ((clen + 3) & ~3));
    p += 4 + ((clen + 3) & ~3);
    sv.setUint32(p, 0, le); // opt_endofopt
    sv.setUint32(at + 4, total, le);
    sv.setUint32(at + total - 4, total, le);
    this.emitScratch(at, total);
  }

  // ------------------------------------------------------ pcap -> pcapng

  private pcapToPcapng(rec: CaptureRecord, comment: string | undefined): void {
    if (rec.kind === RecordKind.PcapHeader) {
      const iface = rec.iface;
      this.ngLE = this.le ?? rec.littleEndian;
      this.writeSHB();
      if (iface !== null) this.writeIDB(iface);
      return;
    }
    if (rec.kind !== RecordKind.Packet || rec.iface === null) return;
    const units = rec.iface.unitsPerSecond;
    const ts = BigInt(rec.tsHigh) * units + BigInt(rec.tsLow);
    this.writeEPB(rec, 0, ts, comment);
  }

  private writeSHB(): void {
    const le = this.ngLE;
    const at = this.reserve(28);
    const v = this.scratchView;
    v.setUint32(at, BlockType.SHB, le);
    v.setUint32(at + 4, 28, le);
    v.setUint32(at + 8, PCAPNG_BOM, le);
    v.setUint16(at + 12, 1, le);
    v.setUint16(at + 14, 0, le);
    v.setBigInt64(at + 16, -1n, le);
    v.setUint32(at + 24, 28, le);
    this.emitScratch(at, 28);
  }

  private writeIDB(iface: InterfaceInfo): void {
    const le = this.ngLE;
    const opts: Array<[number, Uint8Array]> = [];
    if (iface.tsResolution !== 6) opts.push([IF_TSRESOL, Uint8Array.of(iface.tsResolution)]);
    if (iface.fcsLength >= 0) opts.push([IF_FCSLEN, Uint8Array.of(iface.fcsLength)]);
    let optLen = 0;
    for (const [, val] of opts) optLen += 4 + ((val.length + 3) & ~3);
    if (optLen > 0) optLen += 4;
    const total = 20 + optLen;
    const at = this.reserve(total);
    const v = this.scratchView;
    this.scratch.fill(0, at, at + total);
    v.setUint32(at, BlockType.IDB, le);
    v.setUint32(at + 4, total, le);
    v.setUint16(at + 8, iface.linkType, le);
    v.setUint32(at + 12, iface.snapLength, le);
    let p = at + 16;
    for (const [code, val] of opts) {
      v.setUint16(p, code, le);
      v.setUint16(p + 2, val.length, le);
      this.scratch.set(val, p + 4);
      p += 4 + ((val.length + 3) & ~3);
    }
    v.setUint32(at + total - 4, total, le);
    this.emitScratch(at, total);
  }

  private writeEPB(rec: CaptureRecord, ifaceId: number, ts: bigint, comment: string | undefined): void {
    const le = this.ngLE;
    const cap = rec.capturedLength;
    const padded = (cap + 3) & ~3;
    const text = comment === undefined ? null : Buffer.from(comment, 'utf8');
    const clen = text === null ? 0 : Math.min(text.length, 0xffff);
    const optLen = text === null ? 0 : 4 + ((clen + 3) & ~3) + 4;
    const total = 32 + padded + optLen;
    const at = this.reserve(total);
    const v = this.scratchView;
    v.setUint32(at, BlockType.EPB, le);
    v.setUint32(at + 4, total, le);
    v.setUint32(at + 8, ifaceId, le);
    v.setUint32(at + 12, Number(ts >> 32n), le);
    v.setUint32(at + 16, Number(ts & 0xffffffffn), le);
    v.setUint32(at + 20, cap, le);
    v.setUint32(at + 24, rec.originalLength, le);
    rec.buf.copy(this.scratch, at + 28, rec.dataOffset, rec.dataOffset + cap);
    this.scratch.fill(0, at + 28 + cap, at + 28 + padded);
    let p = at + 28 + padded;
    if (text !== null) {
      v.setUint16(p, OPT_COMMENT, le);
      v.setUint16(p + 2, clen, le);
      text.copy(this.scratch, p + 4, 0, clen);
      this.scratch.fill(0, p + 4 + clen, p + 4 + ((clen + 3) & ~3));
      p += 4 + ((clen + 3) & ~3);
      v.setUint32(p, 0, le);
    }
    v.setUint32(at + total - 4, total, le);
    this.emitScratch(at, total);
  }

  // ------------------------------------------------------ pcapng -> pcap

  private pcapngToPcap(rec: CaptureRecord, comment: string | undefined): void {
    switch (rec.kind) {
      case RecordKind.SectionHeader:
        return;
      case RecordKind.InterfaceDescription:
        // The header is written at the first packet, once the interfaces described
        // before it are known, so that one finer interface selects nanoseconds.
        if (rec.iface === null) return;
        if (this.pcapLinkType < 0) this.pendingIfaces.push(rec.iface);
        else this.checkPcapInterface(rec.iface);
        if (this.pendingIfaces.length === 1) this.inputLE = rec.littleEndian;
        return;
      case RecordKind.Packet:
        break;
      default:
        this.droppedBlocks++;
        return;
    }
    const iface = rec.iface;
    if (iface === null) return;
    if (this.pcapLinkType < 0) this.writePcapHeader();
    if (comment !== undefined) this.uncommentable++;
    if (rec.optionsOffset + 4 < rec.start + rec.length - 4) this.droppedPacketOptions++;
    if (iface.name !== undefined) this.droppedNames.add(iface.name);
    const le = this.le ?? this.inputLE;
    let sec = 0n;
    let frac = 0n;
    if (rec.hasTimestamp) {
      const units = (BigInt(rec.tsHigh) << 32n) | BigInt(rec.tsLow);
      const ups = iface.unitsPerSecond;
      sec = units / ups + iface.tsOffset;
      frac = ((units % ups) * this.pcapUnits) / ups;
      if (sec < 0n || sec > 0xffffffffn) {
        throw new UsageError(`--format pcap cannot hold frame ${rec.frame}: its timestamp (${sec} s) is outside pcap's 32-bit seconds (1970-2106); keep pcapng`);
      }
    }
    const cap = rec.capturedLength;
    const at = this.reserve(16 + cap);
    const v = this.scratchView;
    v.setUint32(at, Number(sec), le);
    v.setUint32(at + 4, Number(frac), le);
    v.setUint32(at + 8, cap, le);
    v.setUint32(at + 12, rec.originalLength, le);
    rec.buf.copy(this.scratch, at + 16, rec.dataOffset, rec.dataOffset + cap);
    this.emitScratch(at, 16 + cap);
  }

  /**
   * The pcap file header, from the interfaces described so far: the first
   * one's link type, snaplen and FCS length; microseconds when every one of
   * them counts microseconds (or coarser), nanoseconds otherwise.
   */
  private writePcapHeader(): void {
    const first = this.pendingIfaces[0];
    if (first === undefined) throw new UsageError('--format pcap needs a link type, but the capture describes no interface; keep pcapng');
    const le = this.le ?? this.inputLE;
    this.pcapLinkType = first.linkType;
    const nanos = this.pendingIfaces.some((i) => i.unitsPerSecond > 1_000_000n || 1_000_000n % i.unitsPerSecond !== 0n);
    this.pcapUnits = nanos ? 1_000_000_000n : 1_000_000n;
    for (const iface of this.pendingIfaces) this.checkPcapInterface(iface);
    const at = this.reserve(24);
    const v = this.scratchView;
    v.setUint32(at, nanos ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, le);
    v.setUint16(at + 4, 2, le);
    v.setUint16(at + 6, 4, le);
    v.setInt32(at + 8, 0, le);
    v.setUint32(at + 12, 0, le);
    v.setUint32(at + 16, first.snapLength === 0 ? PCAP_DEFAULT_MAX_RECORD : first.snapLength, le);
    const fcs = first.fcsLength >= 0 && first.fcsLength % 2 === 0 && first.fcsLength <= 14 ? (((first.fcsLength / 2) << 1) | 1) << 28 : 0;
    v.setUint32(at + 20, (first.linkType | fcs) >>> 0, le);
    this.emitScratch(at, 24);
  }

  private checkPcapInterface(iface: InterfaceInfo): void {
    if (iface.linkType !== this.pcapLinkType) {
      throw new UsageError(
        `--format pcap cannot hold this capture: interface ${iface.id} has link type ${iface.linkType}, an earlier one ${this.pcapLinkType} (pcap has one link type per file; keep pcapng)`,
      );
    }
    this.checkPrecision(iface, this.pcapUnits === 1_000_000_000n);
  }

  /** Refuses a conversion that would cut timestamps (an interface finer than the pcap precision). */
  private checkPrecision(iface: InterfaceInfo, nanos: boolean): void {
    if (iface.unitsPerSecond > (nanos ? 1_000_000_000n : 1_000_000n)) {
      throw new UsageError(
        `--format pcap would lose timestamp precision: interface ${iface.id} counts ${iface.unitsPerSecond} units per second (keep pcapng)`,
      );
    }
  }
}
