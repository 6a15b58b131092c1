/**
 * Packets per lane over time, for drawing the capture as the clones lived
 * it (report.timeline, the HTML report's picture): a lane is an interface
 * and its VLAN, or a tunnel lane and the VLAN inside (the verifier's
 * broadcast domain; a frame counts in the lane of its innermost packet),
 * time is cut into at most
 * BUCKETS equal slices. The slice width is not known while streaming: it
 * starts at 1/1024 s and doubles (merging neighbours) whenever a packet
 * falls past the last slice, so memory is BUCKETS numbers per lane whatever
 * the capture's length. A packet earlier than the first one (captures are
 * not always in time order) counts in the first slice.
 */
import type { Timeline as TimelineReport } from '../report/model.js';
import { reportTime, vlanText, type Lanes } from './context.js';

/** Slices of the timeline, at most. */
export const BUCKETS = 256;
/** Lanes drawn, at most; packets of later lanes are counted as omitted. */
export const MAX_LANES = 64;

interface LaneCounts {
  /** The interface's lane (context.ts Lanes). */
  readonly lane: number;
  readonly vlanKey: number;
  readonly counts: Float64Array;
}

export class Timeline {
  private start = NaN;
  private width = 1 / 1024;
  private readonly lanes: LaneCounts[] = [];
  private readonly byKey = new Map<number, LaneCounts>();
  private last: LaneCounts | null = null;
  private lastKey = -1;
  private omitted = new Set<number>();
  /** Highest slice used, for trimming. */
  private top = 0;

  /** One packet on (interface lane `lane`, vlanKey) at `time` seconds. */
  count(lane: number, vlanKey: number, time: number): void {
    const key = lane * 0x4000000 + vlanKey;
    let counts = this.last;
    if (key !== this.lastKey) {
      counts = this.byKey.get(key) ?? this.addLane(key, lane, vlanKey);
      this.last = counts;
      this.lastKey = key;
    }
    if (counts === null) return; // beyond MAX_LANES
    if (this.start !== this.start) this.start = time;
    let i = Math.floor((time - this.start) / this.width);
    if (i < 0) i = 0;
    while (i >= BUCKETS) {
      this.widen();
      i = Math.floor((time - this.start) / this.width);
    }
    counts.counts[i]!++;
    if (i > this.top) this.top = i;
  }

  private addLane(key: number, lane: number, vlanKey: number): LaneCounts | null {
    if (this.lanes.length >= MAX_LANES) {
      this.omitted.add(key);
      return null;
    }
    const counts = { lane, vlanKey, counts: new Float64Array(BUCKETS) };
    this.lanes.push(counts);
    this.byKey.set(key, counts);
    return counts;
  }

  /** Doubles the slice width: slice i becomes the sum of slices 2i and 2i+1. */
  private widen(): void {
    for (const lane of this.lanes) {
      const c = lane.counts;
      for (let i = 0; i < BUCKETS / 2; i++) c[i] = c[2 * i]! + c[2 * i + 1]!;
      c.fill(0, BUCKETS / 2);
    }
    this.top = this.top >>> 1;
    this.width *= 2;
  }

  /**
   * The report's timeline: lanes sorted by interface id (then section), the
   * interface's own lane before its tunnel lanes (in order of appearance),
   * and VLAN, each with its interface's id, name, (where the id alone is
   * ambiguous) section and tunnel label from `ifaces`; null when no packet
   * was counted.
   */
  report(ifaces: Lanes): TimelineReport | null {
    if (this.start !== this.start) return null;
    const n = this.top + 1;
    const lanes = [...this.lanes]
      .sort((a, b) => ifaces.id(a.lane) - ifaces.id(b.lane) || (ifaces.roots[a.lane] ?? a.lane) - (ifaces.roots[b.lane] ?? b.lane) || a.lane - b.lane || a.vlanKey - b.vlanKey)
      .map((l) => {
        const name = ifaces.names[l.lane];
        const section = ifaces.shownSection(l.lane);
        const vlan = vlanText(l.vlanKey);
        const tunnel = ifaces.tunnel(l.lane);
        return {
          interface: ifaces.id(l.lane),
          ...(section < 0 ? {} : { section }),
          ...(name === undefined ? {} : { name }),
          ...(vlan === '' ? {} : { vlan }),
          ...(tunnel === '' ? {} : { tunnel }),
          packets: Array.from(l.counts.subarray(0, n)),
        };
      });
    return { start: reportTime(this.start), bucketSeconds: this.width, lanes, lanesOmitted: this.omitted.size };
  }
}
