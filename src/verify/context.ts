/**
 * What every check sees about the packet in hand, filled once per packet by
 * the Verifier (no allocation): frame number, interface, VLAN location,
 * timestamp, and the findings collector.
 */
import type { CheckName, Findings } from '../report/model.js';

export class PacketContext {
  /** 1-based frame number (Wireshark's). */
  frame = 0;
  /** Global interface id. */
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

  add(check: CheckName, message: string, expected?: string, actual?: string): void {
    if (expected === undefined) this.findings.add(this.frame, this.iface, check, message);
    else this.findings.add(this.frame, this.iface, check, message, { expected, actual: actual! });
  }

  /** "interface 2" or "interface 2 vlan 10" or "interface 2 vlan 10.20", for messages. */
  where(): string {
    return describeLocation(this.iface, this.vlanKey);
  }
}

export function describeLocation(iface: number, vlanKey: number): string {
  if (vlanKey === 0) return `interface ${iface}`;
  const outer = (vlanKey >>> 13) - 1;
  const inner = (vlanKey & 0x1fff) - 1;
  return `interface ${iface} vlan ${outer}${inner >= 0 ? `.${inner}` : ''}`;
}
