/**
 * What the capture layer knows about one capture interface. In pcapng, `id`
 * is global across sections (the numbering Wireshark shows as
 * frame.interface_id); a classic pcap file has one interface, id 0.
 */
export interface CaptureInterface {
  /** Global 0-based interface id (across all pcapng sections). */
  readonly id: number;
  /** if_name option, when the capture records one. */
  readonly name: string | undefined;
  /** Link type (LINKTYPE_*), without pcap's FCS bits. */
  readonly linkType: number;
  /** Snapshot length; 0 means unlimited. */
  readonly snapLength: number;
  /** if_IPv4addr options: address and netmask as unsigned 32-bit numbers. */
  readonly ipv4: ReadonlyArray<{ readonly addr: number; readonly mask: number }>;
  /** if_IPv6addr options: 16-byte address and prefix length. */
  readonly ipv6: ReadonlyArray<{ readonly addr: Uint8Array; readonly prefixLength: number }>;
}
