/**
 * What every check sees about the packet in hand, filled once per packet by
 * the Verifier (no allocation): frame number, interface, VLAN location,
 * timestamp, and the findings collector.
 */
import type { InterfaceInfo } from '../capture/record.js';
import type { CheckName, Findings } from '../report/model.js';
import type { TunnelInfo } from '../wire/tunnel.js';

/**
 * The capture's lanes. An interface is a lane by its identity (Wireshark's
 * id, its name and link type: what the report lists once), never by the id
 * alone, which pcapng numbers per section: in `cat tap0.pcapng tap1.pcapng`
 * tap0 and tap1 are both interface 0, and are two lanes; a capture whose
 * sections describe one interface alike has one. The checks that reason
 * about broadcast domains (ARP, collisions, fragments) key by lane; findings
 * keep Wireshark's id, with the section where the id alone is ambiguous (an
 * interface of a later section under an id an earlier, different one has).
 */
export class Lanes {
  /** Per lane: Wireshark's interface id, name, section (Wireshark's frame.section_number, 1-based), and the section to name in reports (-1: the id is not ambiguous). */
  readonly ids: number[] = [];
  readonly names: Array<string | undefined> = [];
  readonly sections: number[] = [];
  readonly shownSections: number[] = [];
  private readonly byIdentity = new Map<string, number>();
  /** Lane by the reader's interface index. */
  private readonly byIndex: number[] = [];

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
    }
    return lane;
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
  constructor(readonly findings: Findings) {}

  /** A finding on the packet in hand, with its time and VLAN. Allocates: only for findings. */
  add(check: CheckName, message: string, expected?: string, actual?: string): void {
    const vlan = vlanText(this.vlanKey);
    const text = this.tunnel === null ? message : `${message} (inside ${this.tunnel.describe()})`;
    this.findings.add(this.frame, this.interfaceId, check, text, {
      ...(expected === undefined ? {} : { expected, actual: actual! }),
      time: reportTime(this.time),
      ...(vlan === '' ? {} : { vlan }),
      ...(this.section < 0 ? {} : { section: this.section }),
    });
  }

  /** "interface 2" or "interface 2 vlan 10" or "interface 0 of section 1 vlan 10.20", for messages. */
  where(): string {
    return describeLocation(this.interfaceId, this.vlanKey, this.section);
  }
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

export function describeLocation(iface: number, vlanKey: number, section = -1): string {
  const where = section < 0 ? `interface ${iface}` : `interface ${iface} of section ${section}`;
  return vlanKey === 0 ? where : `${where} vlan ${vlanText(vlanKey)}`;
}
