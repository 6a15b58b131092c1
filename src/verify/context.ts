/**
 * What every check sees about the packet in hand, filled once per packet by
 * the Verifier (no allocation): frame number, interface, VLAN location,
 * timestamp, and the findings collector.
 */
import type { InterfaceInfo } from '../capture/record.js';
import type { CheckName, Findings } from '../report/model.js';
import { TUN_NVGRE, TUNNEL_NAMES, type TunnelInfo } from '../wire/tunnel.js';

/** Tunnel lanes made, at most, by default (Lanes). */
export const DEFAULT_MAX_TUNNEL_LANES = 65536;

/**
 * The capture's lanes. An interface is a lane by its identity (Wireshark's
 * id, its name and link type: what the report lists once), never by the id
 * alone, which pcapng numbers per section: in `cat tap0.pcapng tap1.pcapng`
 * tap0 and tap1 are both interface 0, and are two lanes; a capture whose
 * sections describe one interface alike has one. The checks that reason
 * about broadcast domains (ARP, collisions, fragments) key by lane; findings
 * keep Wireshark's id, with the section where the id alone is ambiguous (an
 * interface of a later section under an id an earlier, different one has).
 *
 * Tunnel lanes: the packet a tunnel carries lives in a lane of its own, the
 * lane (and VLAN) of the packet that carries it plus the tunnel's
 * identifier (`inTunnel`): the same inner 5-tuple in VXLAN VNI 5001 and
 * 5002 of one interface is two clones, as on two interfaces. Its label
 * (`tunnel`) is the chain of tunnels from the interface inwards, each as
 * TunnelInfo.describe() says it, joined by " / " ("VXLAN VNI 5001",
 * "GRE key 7 / VXLAN VNI 42"), with "vlan 10" before a tunnel carried in a
 * tagged frame; one label on one interface lane is one lane. A tunnel
 * without an identifier (IP-in-IP, GRE without a key) is a lane too
 * ("IP-in-IP"). A tunnel lane reports its interface's id, name and section.
 * At most `maxTunnelLanes` tunnel lanes are made (a mobile core's capture
 * holds a TEID per bearer and direction): past that, a new identifier's
 * packets share their kind's lane without one ("GTP-U"), and `capped` says so.
 */
export class Lanes {
  /** Per lane: Wireshark's interface id, name, section (Wireshark's frame.section_number, 1-based), and the section to name in reports (-1: the id is not ambiguous). */
  readonly ids: number[] = [];
  readonly names: Array<string | undefined> = [];
  readonly sections: number[] = [];
  readonly shownSections: number[] = [];
  /** Per lane: the interface lane it is in (itself for an interface's lane), and its tunnel label ("" for an interface's lane). */
  readonly roots: number[] = [];
  readonly tunnels: string[] = [];
  private readonly byIdentity = new Map<string, number>();
  /** Lane by the reader's interface index. */
  private readonly byIndex: number[] = [];
  /** Tunnel lanes by their carrier's lane, then its VLAN key and tunnel kind, then the tunnel's identifier (`tunnelId`). */
  private readonly children: Array<Map<number, Map<number, number>> | undefined> = [];
  /** Tunnel lanes made. */
  private tunnelLanes = 0;
  /** A tunnel's identifier was not told apart: `maxTunnelLanes` were made. */
  capped = false;

  constructor(readonly maxTunnelLanes = DEFAULT_MAX_TUNNEL_LANES) {}

  /** The lane of the interface at reader index `index` (`info` null: a pcap's one interface). */
  of(index: number, info: InterfaceInfo | null): number {
    const lane = this.byIndex[index];
    return lane !== undefined ? lane : (this.byIndex[index] = this.add(info));
  }

  private add(info: InterfaceInfo | null): number {
    const id = info?.id ?? 0;
    const key = `${id}\0${info?.name ?? ''}\0${info?.linkType ?? -1}`;
    let lane = this.byIdentity.get(key);
    if (lane === undefined) {
      lane = this.ids.length;
      this.byIdentity.set(key, lane);
      // Wireshark's frame.section_number: 1-based.
      const section = (info?.section ?? 0) + 1;
      this.shownSections.push(this.ids.includes(id) ? section : -1);
      this.ids.push(id);
      this.names.push(info?.name);
      this.sections.push(section);
      this.roots.push(lane);
      this.tunnels.push('');
    }
    return lane;
  }

  /**
   * The lane of the packet tunnel `t` carries, in a packet of lane `parent`
   * with VLAN key `vlanKey`. Allocates only when the lane is new.
   */
  inTunnel(parent: number, vlanKey: number, t: TunnelInfo): number {
    let byKind = this.children[parent];
    if (byKind === undefined) this.children[parent] = byKind = new Map();
    const kk = vlanKey * 16 + t.kind;
    let byId = byKind.get(kk);
    if (byId === undefined) byKind.set(kk, (byId = new Map()));
    let id = tunnelId(t) + 1;
    let lane = byId.get(id);
    if (lane === undefined && this.tunnelLanes >= this.maxTunnelLanes) {
      // Past the cap: the kind's lane without an identifier.
      this.capped = true;
      id = 0;
      lane = byId.get(id);
    }
    if (lane === undefined) {
      lane = this.ids.length;
      byId.set(id, lane);
      this.tunnelLanes++;
      const up = this.tunnels[parent] ?? '';
      const vlan = vlanText(vlanKey);
      this.tunnels.push([...(up === '' ? [] : [up]), ...(vlan === '' ? [] : [`vlan ${vlan}`]), id === 0 ? TUNNEL_NAMES[t.kind]! : t.describe()].join(' / '));
      const root = this.roots[parent] ?? parent;
      this.roots.push(root);
      this.ids.push(this.id(root));
      this.names.push(this.names[root]);
      this.sections.push(this.sections[root] ?? 0);
      this.shownSections.push(this.shownSection(root));
    }
    return lane;
  }

  /**
   * Whether a lane's packets may go one way only: every tunnel lane. GTP-U's
   * TEID names the receiving end (3GPP TS 29.281), so each direction of a
   * bearer has its own; overlays may do the same with VNIs and keys (Open
   * vSwitch, as in tcpdump's geneve.pcap: VNI 10 one way, 11 the other). An
   * answer in another tunnel lane than its request is then where answers go,
   * unless that lane asked the flow too (collisions.ts).
   */
  directional(lane: number): boolean {
    return (this.roots[lane] ?? lane) !== lane;
  }

  /** A lane's tunnel label ("VXLAN VNI 5001"), "" for an interface's own lane. */
  tunnel(lane: number): string {
    return this.tunnels[lane] ?? '';
  }

  /** Wireshark's interface id of a lane (a lane never described is its own id: tests that build contexts by hand). */
  id(lane: number): number {
    return this.ids[lane] ?? lane;
  }

  /** The section reports name for a lane, or -1. */
  shownSection(lane: number): number {
    return this.shownSections[lane] ?? -1;
  }
}

export class PacketContext {
  /** 1-based frame number (Wireshark's). */
  frame = 0;
  /** Wireshark's frame.interface_id (reports); `lane` is what the checks key by. */
  interfaceId = 0;
  /** The interface's lane (Lanes): what the broadcast-domain checks key by. */
  lane = 0;
  /** The pcapng section reports name with `iface` (Lanes.shownSection), or -1. */
  section = -1;
  /**
   * VLAN location on the interface: 0 untagged, else (outer VID + 1) << 13 |
   * (second VID + 1) (0 when single-tagged). Interface + vlanKey is the
   * broadcast domain the ARP and collision checks reason about.
   */
  vlanKey = 0;
  /** Packet timestamp in seconds (a double; sub-microsecond precision is not needed). */
  time = 0;
  /** The tunnel the packet in hand is inside (the nearest), null for the frame's own packet: messages say it. */
  tunnel: TunnelInfo | null = null;
  /**
   * The label of `lane` when it is a tunnel lane (Lanes.tunnel), else "":
   * `where()` names it, and findings carry it (`tunnel`).
   */
  laneTunnel = '';
  constructor(readonly findings: Findings) {}

  /**
   * A finding on the packet in hand, with its time, VLAN and tunnel lane.
   * A message about a packet inside a tunnel says which (the nearest), unless
   * `tunnel` is null: a check that names the location itself (`where()`)
   * runs with it null. Allocates: only for findings.
   */
  add(check: CheckName, message: string, expected?: string, actual?: string): void {
    const vlan = vlanText(this.vlanKey);
    const text = this.tunnel === null ? message : `${message} (inside ${this.tunnel.describe()})`;
    this.findings.add(this.frame, this.interfaceId, check, text, {
      ...(expected === undefined ? {} : { expected, actual: actual! }),
      time: reportTime(this.time),
      ...(vlan === '' ? {} : { vlan }),
      ...(this.section < 0 ? {} : { section: this.section }),
      ...(this.laneTunnel === '' ? {} : { tunnel: this.laneTunnel }),
    });
  }

  /** "interface 2", "interface 2 vlan 10", "interface 0 of section 1 vlan 10.20", "interface 2 inside VXLAN VNI 5001", for messages. */
  where(): string {
    return describeLocation(this.interfaceId, this.vlanKey, this.section, this.laneTunnel);
  }
}

/**
 * What tells two tunnels of one kind apart, as TunnelInfo.describe() names
 * them: the GTP-U TEID, the NVGRE VSID (not the flow id of the key's low
 * byte), the VNI, the GRE key; -1 for a tunnel without one.
 */
function tunnelId(t: TunnelInfo): number {
  if (t.teid >= 0) return t.teid;
  if (t.kind === TUN_NVGRE || t.vni >= 0) return t.vni;
  return t.key;
}

/** "10", "10.20" (QinQ), or "" untagged: the VLAN ids of a vlanKey, outer first. */
export function vlanText(vlanKey: number): string {
  if (vlanKey === 0) return '';
  const outer = (vlanKey >>> 13) - 1;
  const inner = (vlanKey & 0x1fff) - 1;
  return inner >= 0 ? `${outer}.${inner}` : String(outer);
}

/**
 * A packet time as reports give it: seconds since the epoch to the
 * microsecond. The verifier's times are whole microseconds divided by 1e6
 * (Verifier.seconds); this undoes the division's rounding, so the number
 * printed is exactly the packet's time, truncated to the microsecond.
 */
export function reportTime(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

/**
 * A location for messages: "interface 2", "interface 2 vlan 10", "interface
 * 0 of section 1 vlan 10.20"; in a tunnel lane (`tunnel`, Lanes.tunnel) the
 * interface (and the VLAN of the frame carrying the tunnel), then the
 * tunnels, then the VLAN of the packet inside: "interface 2 inside VXLAN VNI
 * 5001", "interface 2 vlan 10 inside VXLAN VNI 5001 vlan 20".
 */
export function describeLocation(iface: number, vlanKey: number, section = -1, tunnel = ''): string {
  const where = section < 0 ? `interface ${iface}` : `interface ${iface} of section ${section}`;
  const vlan = vlanKey === 0 ? '' : ` vlan ${vlanText(vlanKey)}`;
  if (tunnel === '') return `${where}${vlan}`;
  // A leading "vlan 10 / " is the VLAN of the frame the first tunnel is in: said before the tunnels.
  const m = /^(vlan [\d.]+) \/ (.*)$/.exec(tunnel);
  return m === null ? `${where} inside ${tunnel}${vlan}` : `${where} ${m[1]} inside ${m[2]}${vlan}`;
}
