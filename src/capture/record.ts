/**
 * The record a capture reader hands out: one per pcap file header, pcap
 * record or pcapng block. It is a single reused object whose byte views point
 * into the reader's window: valid until the next `reader.next()` /
 * `reader.fill()`. Copy what you need to keep.
 */
import type { CaptureInterface } from './interface.js';

export type CaptureFormat = 'pcap' | 'pcapng';

/** What a record is. Numbers, not strings, so the hot loop compares ints. */
export const RecordKind = {
  /** The 24-byte pcap file header. */
  PcapHeader: 1,
  /** A pcap packet record, or a pcapng EPB, SPB or obsolete PB. */
  Packet: 2,
  /** pcapng Section Header Block. */
  SectionHeader: 3,
  /** pcapng Interface Description Block. */
  InterfaceDescription: 4,
  /** Any other pcapng block (NRB, ISB, DSB, custom, unknown): passed through as it is. */
  Other: 5,
} as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

export const BlockType = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  PB: 0x00000002, // obsolete Packet Block
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  SJE: 0x00000009, // systemd journal export
  DSB: 0x0000000a,
  CB: 0x00000bad, // custom, may be copied
  DCB: 0x40000bad, // custom, should not be copied
} as const;

/** One option of a pcapng block: code and a copy of its value. */
export interface BlockOption {
  readonly code: number;
  readonly value: Uint8Array;
}

/** A capture interface plus what the reader needs to interpret its records. */
export interface InterfaceInfo extends CaptureInterface {
  /** 0-based section index (always 0 for pcap). */
  readonly section: number;
  /** Raw if_tsresol byte (6 when absent; pcap: 6 or 9). */
  readonly tsResolution: number;
  /** Timestamp units per second: 10^n or 2^n. */
  readonly unitsPerSecond: bigint;
  /** if_tsoffset in seconds (0 when absent). */
  readonly tsOffset: bigint;
  /** FCS length in bytes from pcap's link-type field, or the if_fcslen option; -1 when unknown. */
  readonly fcsLength: number;
  /** Byte order of the interface's records (the pcap file's, or its pcapng section's). */
  readonly littleEndian: boolean;
  /** Every option of the IDB (empty for pcap). */
  readonly options: readonly BlockOption[];
}

/**
 * A timestamp in seconds since the epoch, truncated to the microsecond:
 * whole microseconds divided by 1e6, so that reports print each time exactly
 * (verify/context.ts reportTime). `hi`, `lo`: the two 32-bit halves of a
 * pcapng count of `unitsPerSecond` units; integer arithmetic only, BigInt
 * only for resolutions that are neither decimal microseconds or coarser nor
 * nanoseconds.
 */
export function unitsToSeconds(hi: number, lo: number, unitsPerSecond: number, offsetSeconds: number): number {
  let micros: number;
  if (unitsPerSecond === 1e9) {
    // units = hi * 2^32 + lo, 2^32 = 1000 * 4294967 + 296: floor(units / 1000) without leaving 2^53.
    micros = hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
  } else if (unitsPerSecond <= 1e6 && 1e6 % unitsPerSecond === 0) {
    micros = (hi * 4294967296 + lo) * (1e6 / unitsPerSecond);
  } else {
    micros = Number((((BigInt(hi) << 32n) | BigInt(lo)) * 1_000_000n) / BigInt(unitsPerSecond));
  }
  return micros / 1e6 + offsetSeconds;
}

/** A pcap record's timestamp in seconds, truncated to the microsecond (see unitsToSeconds). */
export function pcapSeconds(sec: number, frac: number, nanos: boolean): number {
  return (sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac)) / 1e6;
}

export class CaptureRecord {
  kind: RecordKind = RecordKind.Other;
  /** pcapng block type; 0 for pcap records and headers. */
  blockType = 0;
  /** The window buffer holding this record's bytes. */
  buf: Buffer = Buffer.alloc(0);
  /** Start of the whole record/block in `buf`. */
  start = 0;
  /** Length of the whole record/block in bytes (header, data, padding, options, trailer). */
  length = 0;
  /** Absolute file offset of the record/block. */
  fileOffset = 0;
  /** pcapng section byte order / pcap file byte order. */
  littleEndian = true;

  /**
   * 1-based frame number in file order, the number Wireshark shows: set for
   * packets and for the custom / systemd-journal blocks Wireshark also shows
   * as frames; 0 for other records.
   */
  frame = 0;

  // ---- packets only ----
  /** Wireshark's frame.interface_id: the interface's id within its pcapng section (0 for pcap). */
  interfaceId = 0;
  /** The interface's position in the reader's `interfaces`, across sections. */
  interfaceIndex = 0;
  iface: InterfaceInfo | null = null;
  /** Start of the packet bytes in `buf`. */
  dataOffset = 0;
  capturedLength = 0;
  originalLength = 0;
  /** False for SPBs, which carry no timestamp. */
  hasTimestamp = true;
  /**
   * Raw timestamp: pcapng: the high and low 32 bits of the count of
   * `iface.unitsPerSecond` units; pcap: seconds and the micro/nanosecond fraction.
   */
  tsHigh = 0;
  tsLow = 0;
  /** pcap: the file stores nanoseconds; pcapng: unused. */
  pcapNanos = false;
  /** pcapng EPB/PB: where the options start in `buf` (== end of padded data). */
  optionsOffset = 0;

  /** The packet bytes (a view into the window: valid until the next read). */
  get data(): Buffer {
    return this.buf.subarray(this.dataOffset, this.dataOffset + this.capturedLength);
  }

  /** The whole record/block bytes (a view). */
  get raw(): Buffer {
    return this.buf.subarray(this.start, this.start + this.length);
  }

  /** The packet's time in seconds since the epoch, to the microsecond (truncated); undefined when its block has none. */
  seconds(): number | undefined {
    return this.hasTimestamp ? Number(this.timestampNs() / 1000n) / 1e6 : undefined;
  }

  /** Timestamp in nanoseconds since the epoch (floor for non-decimal resolutions). */
  timestampNs(): bigint {
    if (!this.hasTimestamp) return 0n;
    if (this.blockType === 0) {
      return BigInt(this.tsHigh) * 1_000_000_000n + BigInt(this.tsLow) * (this.pcapNanos ? 1n : 1000n);
    }
    const iface = this.iface;
    const units = (BigInt(this.tsHigh) << 32n) | BigInt(this.tsLow);
    if (iface === null) return units * 1000n;
    return (units * 1_000_000_000n) / iface.unitsPerSecond + iface.tsOffset * 1_000_000_000n;
  }
}
