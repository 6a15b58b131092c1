/**
 * A run's per-packet bookkeeping, written once for every loop that reads
 * packets: the record loops of pipeline.ts, the packets the batch walk and
 * the parallel pool hand back undecoded, and the library's createVerifier.
 * Packets per interface (and each one's first frame), `packet.undecodable`
 * (counted, with its finding), packets whose PPI header names a link type
 * not decoded (counted per interface), rewritten packets (by the kinds of
 * address rewritten), and at the end the `capture.unsupported-link`
 * findings those counts give.
 */
import type { PacketBatch } from './capture/batch.js';
import type { CaptureReader } from './capture/reader.js';
import type { InterfaceInfo } from './capture/record.js';
import type { TranslateResult } from './nat/translate.js';
import type { Findings } from './report/model.js';
import { num } from './report/numbers.js';
import { decodesLinkType, describeLinkType, type DecodeResult } from './wire/decode.js';

/** Where a packet is, for its findings: a CaptureRecord is one; a packet of a batch is a BatchPlace. */
export interface PacketPlace {
  readonly frame: number;
  /** Its interface's index (`InterfaceInfo.index`) and id (Wireshark's frame.interface_id). */
  readonly interfaceIndex: number;
  readonly interfaceId: number;
  /** Offset in the input of the record's first byte. */
  readonly fileOffset: number;
  /** Where the packet's bytes start, in the buffer its decode's offsets are in. */
  readonly dataOffset: number;
  /** The packet's time (seconds since the epoch, to the microsecond), when its record has one. */
  seconds(): number | undefined;
}

/** A packet of a batch as a PacketPlace; reused: `at` points it at a packet. */
export class BatchPlace implements PacketPlace {
  frame = 0;
  interfaceIndex = 0;
  interfaceId = 0;
  fileOffset = 0;
  dataOffset = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private recordAt = 0;

  constructor(private readonly reader: CaptureReader) {}

  /** Packet `i` of batch `b`, whose bytes are in `buf`. */
  at(buf: Uint8Array, b: PacketBatch, i: number): this {
    const k = b.iface[i]!;
    this.frame = b.firstFrame + i;
    this.interfaceIndex = k;
    this.interfaceId = this.reader.interfaces[k]!.id;
    this.fileOffset = b.base + b.record[i]!;
    this.dataOffset = b.data[i]!;
    this.buf = buf;
    this.recordAt = b.record[i]!;
    return this;
  }

  seconds(): number {
    return this.reader.recordSeconds(this.buf, this.recordAt, this.reader.interfaces[this.interfaceIndex]!);
  }
}

/** Packets on one interface whose PPI header names a link type not decoded. */
interface PpiUnread {
  packets: number;
  firstFrame: number;
  /** The link type the first of them named, and whether others named another. */
  linkType: number;
  mixed: boolean;
}

export class PacketTally {
  packets = 0;
  rewritten = 0;
  undecodable = 0;
  /**
   * Rewritten packets per combination of rewritten kinds (a bitmask of K_*),
   * expanded per kind at the end; only a rewrite counts (256 KB that a
   * verify of many small captures would allocate for each).
   */
  readonly maskCounts: Float64Array;
  /** Per interface (by index): its packets, and the first one's frame number. */
  readonly ifacePackets: number[] = [];
  readonly ifaceFirstFrame: number[] = [];
  /** Per interface (by index) that has them: its packets with PPI around a link type not decoded. */
  readonly ppiUnread = new Map<number, PpiUnread>();

  constructor(
    private readonly findings: Findings,
    kinds: number,
  ) {
    this.maskCounts = new Float64Array(kinds > 0 ? 1 << kinds : 0);
  }

  /** A new interface (a pcap header or an IDB), by index. */
  addInterface(index: number): void {
    this.ifacePackets[index] = 0;
    this.ifaceFirstFrame[index] = 0;
  }

  /** Counts a packet on its interface (`addInterface` first). */
  count(at: PacketPlace): void {
    const k = at.interfaceIndex;
    this.packets++;
    if (this.ifacePackets[k]!++ === 0) this.ifaceFirstFrame[k] = at.frame;
  }

  /** Counts a batch's packets on their interfaces. */
  countBatch(batch: PacketBatch): void {
    const { ifacePackets, ifaceFirstFrame } = this;
    const iface = batch.iface;
    const n = batch.count;
    this.packets += n;
    // By runs of one interface (a pcap batch is one run): the inner loop only compares.
    for (let i = 0; i < n; ) {
      const k = iface[i]!;
      let j = i + 1;
      while (j < n && iface[j] === k) j++;
      if (ifacePackets[k] === 0) ifaceFirstFrame[k] = batch.firstFrame + i;
      ifacePackets[k]! += j - i;
      i = j;
    }
  }

  /**
   * A packet after its translation `r` (null when it was only decoded) and
   * its decode `d` (read when `r` is null or says the packet was not
   * decoded: the translator's direct path leaves the decoder's result as it
   * was): undecodable (counted, with its `packet.undecodable` finding), PPI
   * around a link type not decoded (counted on its interface), or, when it
   * was decoded, rewritten or not.
   */
  settle(d: DecodeResult, r: TranslateResult | null, at: PacketPlace): void {
    const undecodable = r === null ? d.undecodable : r.undecodable;
    if (undecodable !== null) {
      this.undecodable++;
      this.findings.add(at.frame, at.interfaceId, 'packet.undecodable', `${undecodable} (at byte ${d.undecodableOff - at.dataOffset} of the frame)`, withTime(at.fileOffset, at.seconds()));
    } else if ((r === null || r.unknownLink) && d.unreadPpiLink >= 0) {
      this.countPpiUnread(at.interfaceIndex, at.frame, d.unreadPpiLink);
    } else if (r !== null && r.changed) {
      this.rewritten++;
      this.maskCounts[r.rewrites]!++;
    }
  }

  /**
   * `capture.unsupported-link`: per interface whose link type is not decoded,
   * how many of its packets went unchecked; and per interface with packets
   * whose PPI header names a link type not decoded, how many of those.
   */
  unsupportedLinks(interfaces: readonly InterfaceInfo[], translated: boolean): void {
    const unread = `which ssnat-rewrite does not decode: nothing in them was checked${translated ? ' or translated' : ''}; they pass unchanged`;
    for (const i of interfaces) {
      const name = i.name === undefined ? '' : ` (${i.name})`;
      const n = this.ifacePackets[i.index] ?? 0;
      if (n > 0 && !decodesLinkType(i.linkType)) {
        this.findings.add(this.ifaceFirstFrame[i.index]!, i.id, 'capture.unsupported-link', `${num(n)} packet(s) on interface ${i.id}${name} have ${describeLinkType(i.linkType)}, ${unread}`);
      }
      const ppi = this.ppiUnread.get(i.index);
      if (ppi !== undefined) {
        const others = ppi.mixed ? ' and other link types' : '';
        this.findings.add(ppi.firstFrame, i.id, 'capture.unsupported-link', `${num(ppi.packets)} packet(s) on interface ${i.id}${name} have PPI headers around ${describeLinkType(ppi.linkType)}${others}, ${unread}`);
      }
    }
  }

  private countPpiUnread(k: number, frame: number, linkType: number): void {
    const seen = this.ppiUnread.get(k);
    if (seen === undefined) {
      this.ppiUnread.set(k, { packets: 1, firstFrame: frame, linkType, mixed: false });
    } else {
      seen.packets++;
      if (linkType !== seen.linkType) seen.mixed = true;
    }
  }
}

/** A finding's place in the file, with the packet's time when it has one. */
function withTime(offset: number, time: number | undefined): { offset: number; time?: number } {
  return time === undefined ? { offset } : { offset, time };
}
