/**
 * Streaming pcap / pcapng reader.
 *
 * Usage (the fast, synchronous-per-record loop the CLI uses):
 * ```ts
 * const reader = await CaptureReader.open('in.pcapng');
 * for (;;) {
 *   const rec = reader.next();            // null: need more bytes, or done
 *   if (rec === null) {
 *     if (reader.done) break;
 *     await reader.fill();                // invalidates every view handed out so far
 *     continue;
 *   }
 *   ...                                   // rec is valid until the next next()/fill()
 * }
 * ```
 * or `for await (const rec of reader)` for convenience.
 *
 * Every byte of a well-formed file belongs to exactly one record, in order,
 * so writing each record's `raw` bytes back reproduces the file. A file that
 * ends inside a record yields every complete record and then sets
 * `truncatedTail` (the offset where the incomplete record starts).
 */
import { CaptureError, hasControlCharacter } from '../errors.js';
import type { PacketBatch } from './batch.js';
import { BlockType, CaptureRecord, RecordKind, pcapSeconds, unitsToSeconds, type BlockOption, type CaptureFormat, type InterfaceInfo } from './record.js';
import { GunzipSource, PrefixedSource, isGzip } from './gzip.js';
import { BytesSource, DEFAULT_WINDOW, FileSource, ReadWindow, openStream, stdinSource, type ByteSource, type WindowAllocator } from './source.js';

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
export const PCAPNG_BOM = 0x1a2b3c4d;

const PCAP_HEADER_LEN = 24;
const PCAP_RECORD_LEN = 16;
const PCAP_MODIFIED_RECORD_LEN = 24;
/** Wireshark's largest packet for ordinary link types (WTAP_MAX_PACKET_SIZE_STANDARD). */
export const PCAP_DEFAULT_MAX_RECORD = 262_144;
export const DEFAULT_MAX_BLOCK = 256 * 1024 * 1024;

// Byte offsets inside pcapng blocks (from the block start).
const BLOCK_TYPE = 0,
  BLOCK_LEN = 4,
  SHB_BOM = 8,
  SHB_MAJOR = 12,
  SHB_MINOR = 14,
  SHB_OPTIONS = 24,
  IDB_LINKTYPE = 8,
  IDB_SNAPLEN = 12,
  IDB_OPTIONS = 16,
  EPB_IFACE = 8,
  EPB_TS_HIGH = 12,
  EPB_TS_LOW = 16,
  EPB_CAPLEN = 20,
  EPB_ORIGLEN = 24,
  EPB_DATA = 28,
  SPB_ORIGLEN = 8,
  SPB_DATA = 12,
  PB_IFACE = 8; // 16 bits, then a 16-bit drop count; the rest is laid out as in an EPB

// IDB option codes.
export const OPT_ENDOFOPT = 0,
  OPT_COMMENT = 1,
  IF_NAME = 2,
  IF_IPV4ADDR = 4,
  IF_IPV6ADDR = 5,
  IF_TSRESOL = 9,
  IF_FCSLEN = 13,
  IF_TSOFFSET = 14;

const BLOCK_NAMES: Record<number, string> = {
  [BlockType.SHB]: 'section header block',
  [BlockType.IDB]: 'interface description block',
  [BlockType.PB]: 'obsolete packet block',
  [BlockType.SPB]: 'simple packet block',
  [BlockType.NRB]: 'name resolution block',
  [BlockType.ISB]: 'interface statistics block',
  [BlockType.EPB]: 'enhanced packet block',
  [BlockType.SJE]: 'systemd journal export block',
  [BlockType.DSB]: 'decryption secrets block',
  [BlockType.CB]: 'custom block',
  [BlockType.DCB]: 'custom block',
};

/** A human name for a pcapng block type, for messages. */
export function blockName(type: number): string {
  return BLOCK_NAMES[type] ?? `block of type 0x${type.toString(16).padStart(8, '0')}`;
}

// What the record checks below find. Each format's bounds are checked by one function, used
// both by next() (which throws the error it names, or waits for more bytes) and by the
// rewrite loop's walk (which stops at anything but OK and leaves the record to next()).
const OK = 0,
  NEED_MORE = 1,
  OVER_LIMIT = 2,
  BAD_LENGTH = 3,
  BAD_TRAILER = 4,
  TOO_SHORT = 5,
  CAPLEN_PAST_BLOCK = 6;

/**
 * A pcap record's bounds: the length of the whole record (its `hdrLen`-byte
 * header and `capLen` captured bytes), or -1 when `capLen` is more than
 * `maxRecord` (--max-record; the window is never grown for it).
 */
function pcapRecordLength(hdrLen: number, capLen: number, maxRecord: number): number {
  return capLen > maxRecord ? -1 : hdrLen + capLen;
}

/**
 * A pcapng block's framing: its length `len` (at least 12, a multiple of 4,
 * at most `maxBlock`), whether it is all in the window (`end`), and its
 * trailing length, which must repeat `len`. OK, or what is wrong.
 */
function blockFraming(v: DataView, at: number, end: number, len: number, le: boolean, maxBlock: number): number {
  if (len < 12 || len % 4 !== 0) return BAD_LENGTH;
  if (len > maxBlock) return OVER_LIMIT;
  if (end - at < len) return NEED_MORE;
  if (v.getUint32(at + len - 4, le) !== len) return BAD_TRAILER;
  return OK;
}

/** An enhanced (or obsolete) packet block of length `len`: 32 bytes at least, and room for its `capLen` captured bytes. */
function packetBlockBounds(len: number, capLen: number): number {
  if (len < 32) return TOO_SHORT;
  if (capLen > len - 32) return CAPLEN_PAST_BLOCK;
  return OK;
}

export interface ReaderOptions {
  /** Name used in error messages ('-' reads stdin). */
  name?: string;
  /** Largest pcapng block accepted, in bytes. */
  maxBlock?: number;
  /** Largest pcap record accepted; default max(snaplen, 262144). */
  maxRecord?: number;
  /** How window buffers are allocated: in shared memory (`sharedWindows`) for worker threads. */
  allocate?: WindowAllocator;
}

export interface PcapHeaderInfo {
  readonly magic: number;
  readonly versionMajor: number;
  readonly versionMinor: number;
  readonly snapLength: number;
  /** The whole link-type field, FCS bits included. */
  readonly linkTypeField: number;
  readonly nanos: boolean;
  readonly modified: boolean;
}

/**
 * The format the first four bytes (at least) name: pcapng by its section
 * header block type (its byte order is the byte-order magic's to say), pcap
 * by any of its magic numbers in either byte order, which is the file's;
 * null for anything else.
 */
export function sniffFormat(head: DataView): { format: 'pcapng' } | { format: 'pcap'; littleEndian: boolean } | null {
  if (head.byteLength < 4) return null;
  if (head.getUint32(0, true) === BlockType.SHB) return { format: 'pcapng' };
  for (const littleEndian of [true, false]) {
    const magic = head.getUint32(0, littleEndian);
    if (magic === PCAP_MAGIC_MICRO || magic === PCAP_MAGIC_NANO || magic === PCAP_MAGIC_MODIFIED) return { format: 'pcap', littleEndian };
  }
  return null;
}

export class CaptureReader implements AsyncIterable<CaptureRecord> {
  readonly format: CaptureFormat;
  /** Byte order of the pcap file, or of the first pcapng section. */
  readonly littleEndian: boolean;
  /** Every interface description seen so far, in file order (`index` is the position here). */
  readonly interfaces: InterfaceInfo[] = [];
  /** pcap only: the file header. */
  pcapHeader: PcapHeaderInfo | null = null;
  /**
   * The last frame number handed out: packets, plus the custom and
   * systemd-journal blocks that Wireshark also numbers as frames.
   */
  frames = 0;
  /** Set when the input ended inside a record: the offset where that record starts. */
  truncatedTail: { offset: number; needed: number; had: number } | null = null;
  /** Number of pcapng sections seen. */
  sections = 0;
  /** The inflating source of a gzip-compressed input (its compressed position, whether it was cut short); null otherwise. */
  gzip: GunzipSource | null = null;
  /** The file read, as given (null: stdin or bytes in memory), for the command that keeps the intact part of a damaged capture. */
  private path: string | null = null;

  private readonly win: ReadWindow;
  private readonly rec = new CaptureRecord();
  private readonly name: string;
  private readonly maxBlock: number;
  private maxRecord: number;
  /** --max-record as given (0: the default, from the snaplen). */
  private readonly maxRecordGiven: number;
  private ended = false;
  /** pcapng: the current section's interfaces (local id -> info). */
  private sectionIfaces: InterfaceInfo[] = [];
  private sectionLE = true;
  /** Bytes the next record needs in one piece (for fill). */
  private want = 0;

  private constructor(win: ReadWindow, format: CaptureFormat, littleEndian: boolean, opts: ReaderOptions) {
    this.win = win;
    this.format = format;
    this.littleEndian = littleEndian;
    this.sectionLE = littleEndian;
    this.name = opts.name ?? 'input';
    this.maxBlock = opts.maxBlock ?? DEFAULT_MAX_BLOCK;
    this.maxRecord = opts.maxRecord ?? 0;
    this.maxRecordGiven = this.maxRecord;
  }

  /**
   * Opens a file, or stdin for '-'. A gzip-compressed one (magic 1f 8b) is
   * inflated as it is read; byte offsets in errors and findings are then
   * offsets into the inflated capture, which messages say.
   */
  static async open(path: string, opts: ReaderOptions = {}): Promise<CaptureReader> {
    const name = path === '-' ? 'stdin' : path;
    let source: ByteSource;
    let head: Uint8Array;
    const streamed = path === '-' ? stdinSource() : await openStream(path);
    if (streamed !== null) {
      // A pipe cannot be peeked at: its first bytes are read, then handed out again.
      const b = Buffer.alloc(2);
      let n = 0;
      for (let r; n < 2 && (r = await streamed.read(b, n, 2 - n)) > 0; ) n += r;
      head = b.subarray(0, n);
      source = new PrefixedSource(head, streamed);
    } else {
      const file = await FileSource.open(path);
      head = file.peek(2);
      source = file;
    }
    const gzip = isGzip(head);
    const gunzip = gzip ? new GunzipSource(source, name) : null;
    const reader = await CaptureReader.fromSource(gunzip ?? source, { name: gzip ? `${name} (inflated)` : name, ...opts });
    reader.gzip = gunzip;
    reader.path = path === '-' ? null : path;
    return reader;
  }

  static fromBytes(bytes: Uint8Array, opts: ReaderOptions = {}): Promise<CaptureReader> {
    return CaptureReader.fromSource(new BytesSource(bytes), opts);
  }

  /** Sniffs the format from the magic number and reads the first header. */
  static async fromSource(source: ByteSource, opts: ReaderOptions = {}): Promise<CaptureReader> {
    const win = new ReadWindow(source, DEFAULT_WINDOW, opts.allocate);
    const name = opts.name ?? 'input';
    try {
      await win.fill(PCAP_HEADER_LEN);
      if (win.available === 0) throw new CaptureError('empty input: not a pcap or pcapng capture', { file: name, offset: 0 });
      if (win.available < 4) throw new CaptureError(`only ${win.available} bytes: not a pcap or pcapng capture`, { file: name, offset: 0 });
      const sniffed = sniffFormat(win.view);
      if (sniffed?.format === 'pcapng') {
        if (win.available < 12) throw new CaptureError('file ends inside the first section header block', { file: name, offset: 0 });
        const bom = win.view.getUint32(SHB_BOM, true);
        const le = bom === PCAPNG_BOM;
        if (!le && win.view.getUint32(SHB_BOM, false) !== PCAPNG_BOM) {
          throw new CaptureError(`pcapng byte-order magic is 0x${bom.toString(16).padStart(8, '0')}, expected 0x1a2b3c4d`, { file: name, offset: SHB_BOM });
        }
        return new CaptureReader(win, 'pcapng', le, opts);
      }
      if (sniffed?.format === 'pcap') return new CaptureReader(win, 'pcap', sniffed.littleEndian, opts);
      throw new CaptureError(
        `unknown magic number 0x${win.view.getUint32(0, false).toString(16).padStart(8, '0')}: not a pcap or pcapng capture`,
        { file: name, offset: 0 },
      );
    } catch (e) {
      await win.close();
      throw e;
    }
  }

  /** True once every record has been returned. */
  get done(): boolean {
    return this.ended;
  }

  /** The window's buffer now: where the records and batches handed out since the last fill are. */
  get buffer(): Buffer {
    return this.win.buf;
  }

  /** Size of the read window now (it grows only for records larger than it). */
  get windowSize(): number {
    return this.win.buf.length;
  }

  /** Absolute offset of the next unread byte. */
  get position(): number {
    return this.win.offsetOf(this.win.start);
  }

  /** Reads more input. Every record and view handed out before is invalid afterwards. */
  async fill(): Promise<void> {
    await this.win.fill(this.want);
  }

  close(): Promise<void> {
    return this.win.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CaptureRecord> {
    try {
      for (;;) {
        const rec = this.next();
        if (rec !== null) {
          yield rec;
          continue;
        }
        if (this.ended) return;
        await this.fill();
      }
    } finally {
      await this.close();
    }
  }

  /**
   * The next record, or null when more bytes are needed (then call fill()) or
   * the input is done (`done` is true).
   */
  next(): CaptureRecord | null {
    if (this.ended) return null;
    const r = this.format === 'pcap' ? this.nextPcap() : this.nextPcapng();
    if (r === null && this.win.eof && !this.ended) {
      // No complete record left and nothing more to read.
      if (this.format === 'pcapng' && this.sections === 0) {
        throw this.error(`file ends after ${this.win.available} bytes, inside the first section header block`, this.win.start);
      }
      if (this.win.available > 0) {
        this.truncatedTail = { offset: this.win.offsetOf(this.win.start), needed: this.want, had: this.win.available };
        this.win.start = this.win.end;
      }
      this.ended = true;
    }
    return r;
  }

  /**
   * The rewrite loop's walk: the packet records that follow, into `batch`
   * (up to its capacity), as long as each is a plain one whose every check
   * passes: pcap records, and pcapng enhanced packet blocks of the current
   * section no larger than a quarter of the window. Returns how many; 0 when
   * the next record is anything else, is not all in the window or is in
   * error, for `next()` to handle as always (with the same errors). Each
   * packet taken here is one `next()` would have returned, with the same
   * frame number, bytes and interface.
   */
  nextPackets(batch: PacketBatch): number {
    const win = this.win;
    batch.count = 0;
    batch.start = batch.end = win.start;
    batch.firstFrame = this.frames + 1;
    batch.base = win.base;
    if (this.ended) return 0;
    // The walks return where they stopped; nothing after their loop (a function optimized
    // while its loop runs must not meet code it has not run yet: V8 would deoptimize it).
    const end = this.format === 'pcap' ? this.walkPcap(batch) : this.walkPcapng(batch);
    const n = batch.count;
    win.start = end;
    batch.end = end;
    this.frames += n;
    return n;
  }

  /** Walks pcap records from the window's start into `batch` (its count); returns where it stopped. */
  private walkPcap(batch: PacketBatch): number {
    const header = this.pcapHeader;
    if (header === null) return this.win.start;
    const win = this.win;
    const v = win.view;
    const le = this.littleEndian;
    const hdrLen = header.modified ? PCAP_MODIFIED_RECORD_LEN : PCAP_RECORD_LEN;
    const max = this.maxRecord;
    const end = win.end;
    const { record, data, capLen: caps, origLen: origs, iface } = batch;
    let at = win.start;
    let n = 0;
    while (n < batch.capacity && end - at >= hdrLen) {
      const capLen = v.getUint32(at + 8, le);
      const total = pcapRecordLength(hdrLen, capLen, max);
      if (total < 0 || end - at < total) break;
      record[n] = at;
      data[n] = at + hdrLen;
      caps[n] = capLen;
      origs[n] = v.getUint32(at + 12, le);
      iface[n] = 0;
      batch.count = ++n;
      at += total;
    }
    return at;
  }

  /** Walks enhanced packet blocks from the window's start into `batch` (its count); returns where it stopped. */
  private walkPcapng(batch: PacketBatch): number {
    if (this.sections === 0) return this.win.start;
    const win = this.win;
    const v = win.view;
    const le = this.sectionLE;
    const ifaces = this.sectionIfaces;
    const maxLen = Math.min(this.maxBlock, win.buf.length / 4);
    const end = win.end;
    const { record, data, capLen: caps, origLen: origs, iface } = batch;
    let at = win.start;
    let n = 0;
    while (n < batch.capacity && end - at >= EPB_DATA) {
      const len = v.getUint32(at + BLOCK_LEN, le);
      if (v.getUint32(at + BLOCK_TYPE, le) !== BlockType.EPB || blockFraming(v, at, end, len, le, maxLen) !== OK) break;
      const capLen = v.getUint32(at + EPB_CAPLEN, le);
      const info = ifaces[v.getUint32(at + EPB_IFACE, le)];
      if (packetBlockBounds(len, capLen) !== OK || info === undefined) break;
      record[n] = at;
      data[n] = at + EPB_DATA;
      caps[n] = capLen;
      origs[n] = v.getUint32(at + EPB_ORIGLEN, le);
      iface[n] = info.index;
      batch.count = ++n;
      at += len;
    }
    return at;
  }

  /**
   * The time (seconds, to the microsecond) of a packet record of a batch, from
   * its bytes: a pcap record header, or an enhanced packet block of interface
   * `iface` (the only blocks batches hold). For findings about batch packets.
   */
  recordSeconds(buf: Uint8Array, at: number, iface: InterfaceInfo): number {
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const le = iface.littleEndian;
    if (this.format === 'pcap') return pcapSeconds(v.getUint32(at, le), v.getUint32(at + 4, le), this.pcapHeader?.nanos === true);
    return unitsToSeconds(v.getUint32(at + EPB_TS_HIGH, le), v.getUint32(at + EPB_TS_LOW, le), Number(iface.unitsPerSecond), Number(iface.tsOffset));
  }

  /** Damage at `at`: the message, with what is intact before it and how to keep that. */
  private error(message: string, at: number, frame?: number): CaptureError {
    return new CaptureError(message + this.intactBefore(), { file: this.name, offset: this.win.offsetOf(at), frame });
  }

  /**
   * A record larger than --max-block or --max-record: maybe not damage at
   * all, so the option is the remedy the message names. `damage`: it is
   * damage too (a pcap record past the default limit, the larger of the
   * snaplen and the 262144 Wireshark itself reads: a length of 0xdeadbeef),
   * so the message also says what is intact before it, as damage does.
   */
  private overLimit(message: string, at: number, frame?: number, damage = false): CaptureError {
    return new CaptureError(message + (damage ? this.intactBefore() : ''), { file: this.name, offset: this.win.offsetOf(at), frame });
  }

  /**
   * After the first frame, what damage leaves intact and how to keep it:
   * the record being read starts at the window's start, and every record
   * before it was read whole, so the bytes before it are a capture of their
   * own (the file header, or each section's header and interfaces, included).
   * The command writes beside the input, under a name of its own.
   */
  private intactBefore(): string {
    if (this.frames === 0) return '';
    const cut = this.win.offsetOf(this.win.start);
    const frames = this.frames === 1 ? 'the frame' : `the ${this.frames} frames`;
    const are = this.frames === 1 ? 'is' : 'are';
    // A name with a control character would not fit on the one line (nor be typed): no command then.
    if (this.path === null || hasControlCharacter(this.path)) return `; ${frames} in its first ${cut} bytes ${are} intact`;
    const file = shellWord(this.path);
    const kept = shellWord(`${this.path.replace(/(\.(pcapng|pcap|cap|ntar))?(\.gz)?$/i, '')}.intact.${this.format}`);
    const head = this.gzip === null ? `head -c ${cut} ${file}` : `gzip -dc ${file} | head -c ${cut}`;
    return `; ${frames} before byte offset ${cut} ${are} intact: ${head} > ${kept} keeps ${this.frames === 1 ? 'it' : 'them'}`;
  }

  // ---------------------------------------------------------------- pcap

  private nextPcap(): CaptureRecord | null {
    const win = this.win;
    const v = win.view;
    const at = win.start;
    const rec = this.rec;
    if (this.pcapHeader === null) {
      if (win.available < PCAP_HEADER_LEN) {
        if (win.eof) throw this.error(`file ends after ${win.available} bytes, inside the 24-byte pcap file header`, at);
        this.want = PCAP_HEADER_LEN;
        return null;
      }
      const le = this.littleEndian;
      const magic = v.getUint32(at, le);
      const header: PcapHeaderInfo = {
        magic,
        versionMajor: v.getUint16(at + 4, le),
        versionMinor: v.getUint16(at + 6, le),
        snapLength: v.getUint32(at + 16, le),
        linkTypeField: v.getUint32(at + 20, le),
        nanos: magic === PCAP_MAGIC_NANO,
        modified: magic === PCAP_MAGIC_MODIFIED,
      };
      // libpcap and Wireshark read major version 2 only (1.x is "archaic").
      if (header.versionMajor !== 2) {
        throw this.error(`unsupported pcap version ${header.versionMajor}.${header.versionMinor} (only 2.x is defined)`, at + 4);
      }
      // Link-type field: bits 0-15 link type, 16-25 reserved (must be 0), 26-31 FCS info.
      if ((header.linkTypeField & 0x03ff0000) !== 0) {
        throw this.error(`pcap link-type field 0x${header.linkTypeField.toString(16)} has reserved bits set`, at + 20);
      }
      this.pcapHeader = header;
      if (this.maxRecord === 0) this.maxRecord = Math.max(header.snapLength, PCAP_DEFAULT_MAX_RECORD);
      const fcsBits = header.linkTypeField >>> 28;
      const iface: InterfaceInfo = {
        id: 0,
        index: 0,
        name: undefined,
        linkType: header.linkTypeField & 0xffff,
        snapLength: header.snapLength,
        ipv4: [],
        ipv6: [],
        section: 0,
        tsResolution: header.nanos ? 9 : 6,
        unitsPerSecond: header.nanos ? 1_000_000_000n : 1_000_000n,
        tsOffset: 0n,
        fcsLength: fcsBits & 1 ? (fcsBits >>> 1) * 2 : -1,
        littleEndian: le,
        options: [],
      };
      this.interfaces.push(iface);
      this.setRaw(RecordKind.PcapHeader, 0, at, PCAP_HEADER_LEN);
      rec.iface = iface;
      win.start += PCAP_HEADER_LEN;
      return rec;
    }
    const header = this.pcapHeader;
    const hdrLen = header.modified ? PCAP_MODIFIED_RECORD_LEN : PCAP_RECORD_LEN;
    if (win.available < hdrLen) {
      this.want = hdrLen;
      return null;
    }
    const le = this.littleEndian;
    const capLen = v.getUint32(at + 8, le);
    const total = pcapRecordLength(hdrLen, capLen, this.maxRecord);
    if (total < 0) {
      throw this.overLimit(
        `pcap record claims ${capLen} captured bytes, more than the limit of ${this.maxRecord} (snaplen ${header.snapLength}; --max-record)`,
        at,
        this.frames + 1,
        this.maxRecordGiven === 0,
      );
    }
    if (win.available < total) {
      this.want = total;
      return null;
    }
    this.setRaw(RecordKind.Packet, 0, at, total);
    rec.frame = ++this.frames;
    rec.interfaceId = 0;
    rec.interfaceIndex = 0;
    rec.iface = this.interfaces[0] ?? null;
    rec.dataOffset = at + hdrLen;
    rec.capturedLength = capLen;
    rec.originalLength = v.getUint32(at + 12, le);
    rec.hasTimestamp = true;
    rec.tsHigh = v.getUint32(at, le);
    rec.tsLow = v.getUint32(at + 4, le);
    rec.pcapNanos = header.nanos;
    rec.optionsOffset = at + total;
    win.start += total;
    return rec;
  }

  // -------------------------------------------------------------- pcapng

  private nextPcapng(): CaptureRecord | null {
    const win = this.win;
    const v = win.view;
    const at = win.start;
    if (win.available < 12) {
      this.want = 12;
      return null;
    }
    let type = v.getUint32(at + BLOCK_TYPE, this.sectionLE);
    let le = this.sectionLE;
    if (type === BlockType.SHB || this.sections === 0) {
      if (type !== BlockType.SHB) throw this.error('pcapng file does not start with a section header block', at);
      // A new section may switch byte order: its BOM says which.
      if (v.getUint32(at + SHB_BOM, true) === PCAPNG_BOM) le = true;
      else if (v.getUint32(at + SHB_BOM, false) === PCAPNG_BOM) le = false;
      else throw this.error(`section header byte-order magic is 0x${v.getUint32(at + SHB_BOM, false).toString(16)}, expected 0x1a2b3c4d`, at + SHB_BOM);
      type = BlockType.SHB;
    }
    const len = v.getUint32(at + BLOCK_LEN, le);
    switch (blockFraming(v, at, win.end, len, le, this.maxBlock)) {
      case BAD_LENGTH:
        throw this.error(`${blockName(type)}: block length ${len} is ${len < 12 ? 'less than 12' : 'not a multiple of 4'}`, at);
      case OVER_LIMIT:
        throw this.overLimit(`${blockName(type)}: block length ${len} is more than the limit of ${this.maxBlock} bytes (--max-block)`, at);
      case NEED_MORE:
        this.want = len;
        return null;
      case BAD_TRAILER:
        throw this.error(`${blockName(type)}: trailing block length ${v.getUint32(at + len - 4, le)} differs from the leading length ${len}`, at);
    }
    const rec = this.rec;
    switch (type) {
      case BlockType.SHB:
        this.readSHB(at, len, le);
        break;
      case BlockType.IDB:
        this.readIDB(at, len, le);
        break;
      case BlockType.EPB:
        this.readEPB(at, len, le);
        break;
      case BlockType.SPB:
        this.readSPB(at, len, le);
        break;
      case BlockType.PB:
        this.readPB(at, len, le);
        break;
      default:
        this.setRaw(RecordKind.Other, type, at, len);
        // Wireshark (4.0) shows custom and systemd-journal blocks as frames of their own:
        // number them too, so that our frame numbers stay the ones it shows.
        if (type === BlockType.CB || type === BlockType.DCB || type === BlockType.SJE) this.rec.frame = ++this.frames;
        else this.rec.frame = 0;
    }
    rec.littleEndian = le;
    win.start += len;
    if (len > win.buf.length / 4) win.shrink();
    return rec;
  }

  private setRaw(kind: RecordKind, blockType: number, at: number, len: number): void {
    const rec = this.rec;
    rec.kind = kind;
    rec.blockType = blockType;
    rec.buf = this.win.buf;
    rec.start = at;
    rec.length = len;
    rec.fileOffset = this.win.offsetOf(at);
    rec.littleEndian = this.format === 'pcap' ? this.littleEndian : this.sectionLE;
  }

  private readSHB(at: number, len: number, le: boolean): void {
    const v = this.win.view;
    if (len < 28) throw this.error(`section header block of length ${len} is shorter than its 28-byte minimum`, at);
    const major = v.getUint16(at + SHB_MAJOR, le);
    const minor = v.getUint16(at + SHB_MINOR, le);
    // pcapng 1.0; 1.2 was written by some early tools and is read as 1.0 (libpcap does too).
    if (major !== 1 || (minor !== 0 && minor !== 2)) {
      throw this.error(`unsupported pcapng section version ${major}.${minor} (only 1.0 is defined)`, at + SHB_MAJOR);
    }
    this.checkOptions(at + SHB_OPTIONS, at + len - 4, le, at, 'section header');
    this.sectionLE = le;
    this.sectionIfaces = [];
    this.sections++;
    this.setRaw(RecordKind.SectionHeader, BlockType.SHB, at, len);
  }

  private readIDB(at: number, len: number, le: boolean): void {
    const v = this.win.view;
    if (len < 20) throw this.error(`interface description block of length ${len} is shorter than its 20-byte minimum`, at);
    const options = this.readOptions(at + IDB_OPTIONS, at + len - 4, le, at, 'interface description');
    let name: string | undefined;
    let tsResolution = 6;
    let tsOffset = 0n;
    let fcsLength = -1;
    const ipv4: { addr: number; mask: number }[] = [];
    const ipv6: { addr: Uint8Array; prefixLength: number }[] = [];
    for (const o of options) {
      const dv = new DataView(o.value.buffer, o.value.byteOffset, o.value.byteLength);
      if (o.code === IF_NAME) name = Buffer.from(o.value).toString('utf8').replace(/\0+$/, '');
      else if (o.code === IF_TSRESOL && o.value.length >= 1) tsResolution = o.value[0]!;
      else if (o.code === IF_TSOFFSET && o.value.length >= 8) tsOffset = dv.getBigInt64(0, le);
      else if (o.code === IF_FCSLEN && o.value.length >= 1) fcsLength = o.value[0]!;
      else if (o.code === IF_IPV4ADDR && o.value.length >= 8) ipv4.push({ addr: dv.getUint32(0, false), mask: dv.getUint32(4, false) });
      else if (o.code === IF_IPV6ADDR && o.value.length >= 17) ipv6.push({ addr: o.value.slice(0, 16), prefixLength: o.value[16]! });
    }
    const exp = tsResolution & 0x7f;
    if ((tsResolution & 0x80) === 0 ? exp > 19 : exp > 63) {
      throw this.error(`interface if_tsresol 0x${tsResolution.toString(16)} is out of range`, at);
    }
    const info: InterfaceInfo = {
      id: this.sectionIfaces.length,
      index: this.interfaces.length,
      name,
      linkType: v.getUint16(at + IDB_LINKTYPE, le),
      snapLength: v.getUint32(at + IDB_SNAPLEN, le),
      ipv4,
      ipv6,
      section: this.sections - 1,
      tsResolution,
      unitsPerSecond: (tsResolution & 0x80) === 0 ? 10n ** BigInt(exp) : 1n << BigInt(exp),
      tsOffset,
      fcsLength,
      littleEndian: le,
      options,
    };
    this.interfaces.push(info);
    this.sectionIfaces.push(info);
    this.setRaw(RecordKind.InterfaceDescription, BlockType.IDB, at, len);
    this.rec.iface = info;
    this.rec.interfaceId = info.id;
    this.rec.interfaceIndex = info.index;
  }

  private packetIface(localId: number, at: number): InterfaceInfo {
    const iface = this.sectionIfaces[localId];
    if (iface === undefined) {
      throw this.error(
        `packet block refers to interface ${localId}, but its section has ${this.sectionIfaces.length} interface description block(s) before it`,
        at,
        this.frames + 1,
      );
    }
    return iface;
  }

  private readEPB(at: number, len: number, le: boolean): void {
    this.readTimestamped(BlockType.EPB, 'enhanced packet block', at, len, le, this.win.view.getUint32(at + EPB_IFACE, le), at + EPB_IFACE);
  }

  private readSPB(at: number, len: number, le: boolean): void {
    const v = this.win.view;
    if (len < 16) throw this.error(`simple packet block of length ${len} is shorter than its 16-byte minimum`, at, this.frames + 1);
    const iface = this.packetIface(0, at);
    const origLen = v.getUint32(at + SPB_ORIGLEN, le);
    // The captured length is implied: min(original length, snaplen, room in the block).
    let capLen = Math.min(origLen, len - 16);
    if (iface.snapLength !== 0) capLen = Math.min(capLen, iface.snapLength);
    this.setRaw(RecordKind.Packet, BlockType.SPB, at, len);
    const rec = this.rec;
    rec.frame = ++this.frames;
    rec.iface = iface;
    rec.interfaceId = iface.id;
    rec.interfaceIndex = iface.index;
    rec.dataOffset = at + SPB_DATA;
    rec.capturedLength = capLen;
    rec.originalLength = origLen;
    rec.hasTimestamp = false;
    rec.tsHigh = 0;
    rec.tsLow = 0;
    rec.optionsOffset = at + len - 4;
  }

  /** The obsolete Packet Block: an EPB with a 16-bit interface id and a drop count. */
  private readPB(at: number, len: number, le: boolean): void {
    this.readTimestamped(BlockType.PB, 'packet block', at, len, le, this.win.view.getUint16(at + PB_IFACE, le), at + PB_IFACE);
  }

  /** EPB and PB share their layout from the timestamp on (offsets 12..28). */
  private readTimestamped(type: number, name: string, at: number, len: number, le: boolean, localId: number, idAt: number): void {
    const v = this.win.view;
    // (A block under 32 bytes has no captured length to read: only the block's own bytes are.)
    const capLen = len < 32 ? 0 : v.getUint32(at + EPB_CAPLEN, le);
    switch (packetBlockBounds(len, capLen)) {
      case TOO_SHORT:
        throw this.error(`${name} of length ${len} is shorter than its 32-byte minimum`, at, this.frames + 1);
      case CAPLEN_PAST_BLOCK:
        throw this.error(`${name} claims ${capLen} captured bytes but holds at most ${len - 32}`, at, this.frames + 1);
    }
    const iface = this.packetIface(localId, idAt);
    this.setRaw(RecordKind.Packet, type, at, len);
    const rec = this.rec;
    rec.frame = ++this.frames;
    rec.iface = iface;
    rec.interfaceId = iface.id;
    rec.interfaceIndex = iface.index;
    rec.dataOffset = at + EPB_DATA;
    rec.capturedLength = capLen;
    rec.originalLength = v.getUint32(at + EPB_ORIGLEN, le);
    rec.hasTimestamp = true;
    rec.tsHigh = v.getUint32(at + EPB_TS_HIGH, le);
    rec.tsLow = v.getUint32(at + EPB_TS_LOW, le);
    rec.optionsOffset = at + EPB_DATA + ((capLen + 3) & ~3);
  }

  /** Walks an options area, checking that every option lies inside it (throws otherwise). */
  private checkOptions(from: number, to: number, le: boolean, blockAt: number, what: string): void {
    this.walkOptions(from, to, le, blockAt, what, null);
  }

  private readOptions(from: number, to: number, le: boolean, blockAt: number, what: string): BlockOption[] {
    const out: BlockOption[] = [];
    this.walkOptions(from, to, le, blockAt, what, out);
    return out;
  }

  private walkOptions(from: number, to: number, le: boolean, blockAt: number, what: string, out: BlockOption[] | null): void {
    const v = this.win.view;
    let p = from;
    while (p + 4 <= to) {
      const code = v.getUint16(p, le);
      const olen = v.getUint16(p + 2, le);
      if (code === OPT_ENDOFOPT) return;
      const next = p + 4 + ((olen + 3) & ~3);
      if (next > to) {
        throw this.error(`${what} block option ${code} of length ${olen} runs past the end of its block (block at byte offset ${this.win.offsetOf(blockAt)})`, p + 2);
      }
      if (out !== null) out.push({ code, value: this.win.buf.slice(p + 4, p + 4 + olen) });
      p = next;
    }
  }
}

/** A path as one shell word: as it is when it is plain, else in single quotes; never read as an option. */
function shellWord(path: string): string {
  const p = path.startsWith('-') ? `./${path}` : path;
  return /^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replaceAll("'", "'\\''")}'`;
}
