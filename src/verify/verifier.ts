/**
 * The Verifier: allocated once per run, shown every packet (after
 * translation when rewriting, on the very bytes written) with the decoder's
 * result for it, and asked at the end for the summary numbers and the
 * collisions. Each check lives in its own module:
 *
 * - checksums.ts   IPv4 header, TCP, UDP, UDP-Lite, DCCP, ICMP, ICMPv6,
 *                  quoted IPv4 headers and UDP/TCP checksums, offload;
 *                  reassembly.ts for fragments
 * - arp.ts         duplicate IPs, reply mismatches, IP/MAC mismatches, malformed ARP/RARP
 * - collisions.ts  one flow on several interfaces/VLANs/tunnel lanes (the clones' bug);
 *                  flowlog.ts its single-domain log, hash.ts the table hash
 * - leaks.ts       guest-side addresses left in the output (with rules), found
 *                  by running the translator on a copy of the packet, and
 *                  those where it does not translate (src/nat/untranslated.ts)
 *
 * Findings go to the run's `Findings` collector, on the frame that shows
 * them, in frame order (the pipeline's annotations take the findings added
 * while a frame was checked).
 * Nothing is allocated per packet except when a finding is made.
 */
import { TUN_NONE } from '../wire/tunnel.js';
import { pcapSeconds, unitsToSeconds, type CaptureRecord } from '../capture/record.js';
import type { InterfaceMapper } from '../nat/mapper.js';
import type { Collision, Findings } from '../report/model.js';
import { NET_ARP, NET_IPV4, NET_IPV6, type DecodeResult } from '../wire/decode.js';
import { ArpChecker } from './arp.js';
import { ChecksumChecker, DEFAULT_CHECKSUM_OPTIONS } from './checksums.js';
import { CollisionTracker } from './collisions.js';
import { DEFAULT_MAX_TUNNEL_LANES, Lanes, PacketContext } from './context.js';
import { LeakChecker } from './leaks.js';
import { ViewCache } from '../wire/view.js';
import { Timeline } from './timeline.js';

export interface VerifierOptions {
  /** Seconds within which one flow on two interfaces/VLANs is a collision (default 120). */
  collisionWindow?: number;
  /** Live flows tracked for collisions (default 1048576). */
  maxFlows?: number;
  /** Incomplete datagrams held for reassembly (default 4096). */
  maxDatagrams?: number;
  /** Fragments per datagram (default 64). */
  maxFragments?: number;
  /** Seconds after its first fragment before an incomplete datagram is given up (default 60). */
  fragmentTimeout?: number;
  /** ARP bindings and outstanding requests tracked, each (default 65536). */
  maxArpEntries?: number;
  /** Tunnel lanes told apart by their identifiers (default 65536; context.ts Lanes). */
  maxTunnelLanes?: number;
}

export const DEFAULT_VERIFIER_OPTIONS: Required<VerifierOptions> = {
  collisionWindow: 120,
  maxFlows: 1 << 20,
  maxDatagrams: DEFAULT_CHECKSUM_OPTIONS.maxDatagrams,
  maxFragments: DEFAULT_CHECKSUM_OPTIONS.maxFragments,
  fragmentTimeout: DEFAULT_CHECKSUM_OPTIONS.fragmentTimeout,
  maxArpEntries: 65536,
  maxTunnelLanes: DEFAULT_MAX_TUNNEL_LANES,
};

export interface VerifySummary {
  checksums: { verified: number; bad: number; unverifiable: number };
  collisions: Collision[];
}

/**
 * The VLAN location of a decoded frame (PacketContext.vlanKey): 0 untagged,
 * else (outer VID + 1) << 13 | (second VID + 1).
 */
function vlanKeyOf(d: DecodeResult): number {
  let vk = 0;
  if (d.vlanCount > 0) vk = (d.vlanIds[0]! + 1) << 13;
  if (d.vlanCount > 1) vk |= d.vlanIds[1]! + 1;
  return vk;
}

/**
 * A tunnel whose payload the decoder does not read (VXLAN-GPE's NSH or MPLS,
 * GRE's other protocols, an Ethernet PDU in GTP-U) at the packet's innermost
 * depth: what it carries passes untouched and unchecked, so the packet counts
 * among those not checked (summary.unchecked), though its outer headers were.
 */
function carriesUnread(d: DecodeResult): boolean {
  const t = d.innermost().tunnel;
  return t.kind !== TUN_NONE && t.payloadLink < 0;
}

export class Verifier {
  readonly ctx: PacketContext;
  readonly checksums: ChecksumChecker;
  readonly arp: ArpChecker;
  readonly flows: CollisionTracker;
  readonly leaks = new LeakChecker();
  /** The capture's lanes (interfaces by identity: context.ts). */
  readonly lanes: Lanes;
  /** Packets per lane over time (report.timeline). */
  readonly timeline = new Timeline();
  /** Packets the checks could look into (IPv4, IPv6, ARP). */
  checked = 0;
  private lanesCapReported = false;
  private readonly views = new ViewCache();
  /** Per interface (its index across sections): timestamp units per second as a number, and the offset in seconds. */
  private unitsPerSecond: number[] = [];
  private tsOffset: number[] = [];

  constructor(findings: Findings, opts: VerifierOptions = {}) {
    const o = { ...DEFAULT_VERIFIER_OPTIONS, ...opts };
    this.ctx = new PacketContext(findings);
    this.lanes = new Lanes(o.maxTunnelLanes);
    this.checksums = new ChecksumChecker({ maxDatagrams: o.maxDatagrams, maxFragments: o.maxFragments, fragmentTimeout: o.fragmentTimeout });
    this.arp = new ArpChecker(o.maxArpEntries);
    this.flows = new CollisionTracker(o.collisionWindow, o.maxFlows, undefined, this.lanes);
  }

  /**
   * Seconds since the epoch of a packet record, truncated to the
   * microsecond: whole microseconds are exact in a double (2^53 us is 285
   * years), so a report prints each time exactly (reportTime), and the
   * windows need no finer. Integer arithmetic only; BigInt work only for
   * the rare resolutions that are neither microseconds or coarser decimal
   * ones, nor nanoseconds.
   */
  private seconds(rec: CaptureRecord): number {
    if (!rec.hasTimestamp) return this.ctx.time; // SPB: no timestamp, keep the last one
    if (rec.blockType === 0) return pcapSeconds(rec.tsHigh, rec.tsLow, rec.pcapNanos);
    const id = rec.interfaceIndex;
    let ups = this.unitsPerSecond[id];
    if (ups === undefined) {
      ups = rec.iface === null ? 1e6 : Number(rec.iface.unitsPerSecond);
      this.unitsPerSecond[id] = ups;
      this.tsOffset[id] = rec.iface === null ? 0 : Number(rec.iface.tsOffset);
    }
    return unitsToSeconds(rec.tsHigh, rec.tsLow, ups, this.tsOffset[id]!);
  }

  /**
   * Verifies one packet. `decoded` describes rec's bytes (the translator's or
   * the pipeline's decode). `mapper` is the interface's rule mapper when the
   * leak check runs (rules given), else null. `view`, when given, is a
   * DataView over rec.buf (the decoder's), saving a buffer comparison.
   * Undecodable packets are the pipeline's to report; they are not looked
   * into.
   */
  packet(rec: CaptureRecord, decoded: DecodeResult, mapper: InterfaceMapper | null, view?: DataView): void {
    const d = decoded;
    if (d.undecodable !== null) return;
    const ctx = this.ctx;
    ctx.frame = rec.frame;
    ctx.interfaceId = rec.interfaceId;
    const lane = this.lanes.of(rec.interfaceIndex, rec.iface);
    ctx.lane = lane;
    ctx.laneTunnel = '';
    ctx.section = this.lanes.shownSection(lane);
    ctx.time = this.seconds(rec);
    ctx.vlanKey = vlanKeyOf(d);
    const v = view ?? this.views.of(rec.buf);
    const net = d.net;
    if (d.payload !== null) {
      this.tunnelled(v, d, ctx);
    } else {
      if (net === NET_IPV4 || net === NET_IPV6) {
        if (!carriesUnread(d)) this.checked++;
        this.checksums.check(v, d, ctx);
      } else if (net === NET_ARP) {
        this.checked++;
      }
      this.conversation(v, d, ctx);
    }
    if (mapper !== null) this.leaks.check(v, d, mapper, ctx);
  }

  /**
   * The packet of a conversation (the frame's, or the innermost a tunnel
   * carries), in the context's lane: the timeline counts it, and the
   * broadcast-domain checks see it (ARP, collisions), after its checksums.
   */
  private conversation(v: DataView, d: DecodeResult, ctx: PacketContext): void {
    this.timeline.count(ctx.lane, ctx.vlanKey, ctx.time);
    const net = d.net;
    if (net === NET_IPV4 || net === NET_IPV6) {
      if (net === NET_IPV4) this.arp.ipv4(v, d, ctx);
      this.flows.packet(v, d, ctx);
    } else if (net === NET_ARP) {
      this.arp.arp(v, d, ctx);
    }
  }

  /**
   * A packet that carries another in a tunnel (d.payload). The outer packet
   * is transport: its checksums and its source MAC are checked on its lane,
   * but it is no clone's flow (VTEP to VTEP), so the collision check does
   * not see it. Every packet inside, at every depth, is checked as a packet
   * of its own in its tunnel lane (context.ts Lanes.inTunnel: the carrier's
   * lane and VLAN plus the tunnel), its VLAN its own tags: its checksums
   * (messages naming the nearest tunnel); the innermost one is the
   * conversation, which the timeline counts and the ARP and collision checks
   * (the broadcast-domain checks) see, in its lane.
   */
  private tunnelled(v: DataView, d: DecodeResult, ctx: PacketContext): void {
    if (!carriesUnread(d)) this.checked++;
    if (d.net === NET_IPV4 || d.net === NET_IPV6) this.checksums.check(v, d, ctx);
    if (d.net === NET_IPV4) this.arp.ipv4(v, d, ctx);
    let lane = ctx.lane;
    for (let carrier = d, p = d.payload; p !== null; carrier = p, p = p.payload) {
      lane = this.lanes.inTunnel(lane, ctx.vlanKey, carrier.tunnel);
      if (this.lanes.capped && !this.lanesCapReported) {
        this.lanesCapReported = true;
        ctx.add('verify.limit', `more than ${this.lanes.maxTunnelLanes} tunnel lanes: packets of later tunnels share one lane per kind of tunnel, their identifiers not told apart`);
      }
      ctx.lane = lane;
      ctx.laneTunnel = this.lanes.tunnel(lane);
      ctx.vlanKey = vlanKeyOf(p);
      ctx.tunnel = carrier.tunnel;
      const net = p.net;
      if (net === NET_IPV4 || net === NET_IPV6) this.checksums.check(v, p, ctx);
      if (p.payload !== null) continue;
      // The innermost packet: messages name its lane themselves (where()).
      ctx.tunnel = null;
      this.conversation(v, p, ctx);
    }
    // The leak check that follows looks at the frame as a whole: its own lane.
    ctx.tunnel = null;
    ctx.lane = this.lanes.roots[ctx.lane] ?? ctx.lane;
    ctx.laneTunnel = '';
    ctx.vlanKey = vlanKeyOf(d);
  }

  /** End of the capture: the summary numbers and the collisions. */
  finish(): VerifySummary {
    this.checksums.finish();
    const c = this.checksums;
    return {
      checksums: { verified: c.verified, bad: c.bad, unverifiable: c.unverifiable },
      collisions: this.flows.report(),
    };
  }

  /** Done: the flow table's memory goes to the next verifier of this thread (after `finish`, or instead of it on failure). */
  dispose(): void {
    this.flows.dispose();
  }
}
