/**
 * IEEE 802.2 LLC with a SNAP header (RFC 1042, IEEE 802.1H): how IP and ARP
 * travel in 802.3 length frames and in IEEE 802.11 data frames.
 * DSAP 0xAA, SSAP 0xAA, control 0x03 (UI), a 3-byte OUI, then a 2-byte
 * protocol id that is an EtherType when the OUI is 00-00-00 (RFC 1042) or
 * 00-00-F8 (802.1H bridge tunnel, used for AppleTalk ARP and IPX). Any other
 * LLC (STP, NetBIOS, a vendor's SNAP OUI) is not an EtherType: the payload
 * is an unknown protocol.
 */
export const DSAP = 0;
export const SSAP = 1;
export const CONTROL = 2;
export const OUI = 3;
export const PID = 6;
export const SNAP_HEADER_LEN = 8;

export const SAP_SNAP = 0xaa;
export const CONTROL_UI = 0x03;
export const OUI_RFC1042 = 0x000000;
export const OUI_8021H = 0x0000f8;

/** `readSnap` results that are not an EtherType. */
export const NOT_SNAP = -1;
export const SNAP_CUT = -2;

/**
 * The EtherType carried by the LLC/SNAP header at `at`; NOT_SNAP when the
 * bytes are another LLC, SNAP_CUT when the 8 bytes are not all before `capEnd`.
 */
export function readSnap(v: DataView, at: number, capEnd: number): number {
  if (at + SNAP_HEADER_LEN > capEnd) return SNAP_CUT;
  if (v.getUint16(at + DSAP) !== ((SAP_SNAP << 8) | SAP_SNAP) || v.getUint8(at + CONTROL) !== CONTROL_UI) return NOT_SNAP;
  const oui = (v.getUint16(at + OUI) << 8) | v.getUint8(at + OUI + 2);
  if (oui !== OUI_RFC1042 && oui !== OUI_8021H) return NOT_SNAP;
  return v.getUint16(at + PID);
}
