/**
 * What every check sees about the packet in hand, filled once per packet by
 * the Verifier (no allocation): frame number, interface, VLAN location,
 * timestamp, and the findings collector.
 */
import type { CheckName, Findings } from '../report/model.js';

export class PacketContext {
  /** 1-based frame number (Wireshark's). */
  frame = 0;
  /** Wireshark's frame.interface_id. */
  iface = 0;
  /**
   * VLAN location on the interface: 0 untagged, else (outer VID + 1) << 13 |
   * (second VID + 1) (0 when single-tagged). Interface + vlanKey is the
   * broadcast domain the ARP and collision checks reason about.
   */
  vlanKey = 0;
  /** Packet timestamp in seconds (a double; sub-microsecond precision is not needed). */
  time = 0;
  constructor(readonly findings: Findings) {}

  /** A finding on the packet in hand, with its time and VLAN. Allocates: only for findings. */
  add(check: CheckName, message: string, expected?: string, actual?: string): void {
    const vlan = vlanText(this.vlanKey);
    this.findings.add(this.frame, this.iface, check, message, {
      ...(expected === undefined ? {} : { expected, actual: actual! }),
      time: reportTime(this.time),
      ...(vlan === '' ? {} : { vlan }),
    });
  }

  /** "interface 2" or "interface 2 vlan 10" or "interface 2 vlan 10.20", for messages. */
  where(): string {
    return describeLocation(this.iface, this.vlanKey);
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

export function describeLocation(iface: number, vlanKey: number): string {
  return vlanKey === 0 ? `interface ${iface}` : `interface ${iface} vlan ${vlanText(vlanKey)}`;
}
