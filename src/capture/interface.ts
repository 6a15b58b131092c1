/**
 * What the capture layer knows about one capture interface. `id` is the
 * number Wireshark shows as frame.interface_id: in pcapng the interface's
 * 0-based position in its own section (the id its packet blocks carry; it
 * starts again at 0 in each section, as tshark 4.0 counts), in a classic
 * pcap file 0. `index` tells interfaces apart across sections.
 */
export interface CaptureInterface {
  /** Wireshark's frame.interface_id: the 0-based id within the interface's pcapng section. */
  readonly id: number;
  /** 0-based position among every interface description of the file, across sections. */
  readonly index: number;
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
