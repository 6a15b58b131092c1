/**
 * IEEE 802.11 frames for tests, made from Ethernet frames: the Ethernet
 * payload behind an LLC/SNAP header carrying its EtherType (an 802.3 length
 * frame's payload is already LLC: it is kept as it is), in a data frame whose
 * addresses place the Ethernet source and destination where the DS bits say
 * (DA/SA), behind a radiotap, PPI, Prism or AVS header, or none. The FCS,
 * when asked for, is the CRC-32 of the 802.11 header (without the data
 * padding) and body, little-endian, computed here with zlib (independent of
 * src/wire/crc32.ts).
 *
 *   radiotap  00 00 LL LL | present (LE) ... | [TSFT, 8-aligned] [Flags]
 *   802.11    FC FC | dur dur | A1 | A2 | A3 | seq seq | [A4] [QoS QoS] [HTC x4] [pad to 4]
 *   LLC/SNAP  aa aa 03 00 00 00 | EtherType
 */
import { crc32 } from 'node:zlib';
import { be16, concat, hex } from './wire-build.js';

export const LINKTYPE_IEEE802_11 = 105;
export const LINKTYPE_PRISM = 119;
export const LINKTYPE_RADIOTAP = 127;
export const LINKTYPE_AVS = 163;
export const LINKTYPE_PPI = 192;

export const BSSID = hex('020000000001');

export interface WlanOptions {
  /** The radio header (default radiotap). */
  radio?: 'radiotap' | 'none' | 'ppi' | 'prism' | 'avs';
  /** The frame ends with an FCS, and the radio header says so (radiotap Flags 0x10, PPI 802.11-Common). */
  fcs?: boolean;
  /** Corrupt the FCS (flip its low bit). */
  badFcs?: boolean;
  /** radiotap: data padding after the 802.11 header to a 32-bit boundary (Flags 0x20). */
  datapad?: boolean;
  /** radiotap: a TSFT field before the Flags (8-aligned), and a second (extended) present bitmap. */
  tsft?: boolean;
  extBitmap?: boolean;
  /** QoS data (subtype 8): a QoS control field; `htc` with the Order bit: an HT control field too. */
  qos?: boolean;
  htc?: boolean;
  /** The A-MSDU bit in the QoS control field (the body is then built as one A-MSDU subframe). */
  amsdu?: boolean;
  toDs?: boolean;
  fromDs?: boolean;
  protected?: boolean;
  moreFragments?: boolean;
  fragment?: number;
  /** Another frame type/subtype byte (e.g. 0x80 beacon, 0x48 null data). */
  fc0?: number;
}

/** The link type of frames built with `o`. */
export function wlanLinkType(o: WlanOptions = {}): number {
  switch (o.radio ?? 'radiotap') {
    case 'none':
      return LINKTYPE_IEEE802_11;
    case 'ppi':
      return LINKTYPE_PPI;
    case 'prism':
      return LINKTYPE_PRISM;
    case 'avs':
      return LINKTYPE_AVS;
    default:
      return LINKTYPE_RADIOTAP;
  }
}

function le16(n: number): Uint8Array {
  return Uint8Array.of(n & 255, (n >> 8) & 255);
}
function le32(n: number): Uint8Array {
  return Uint8Array.of(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
}

function radiotap(o: WlanOptions): Uint8Array {
  let flags = 0;
  if (o.fcs) flags |= 0x10;
  if (o.datapad) flags |= 0x20;
  let present = flags !== 0 ? 0x02 : 0;
  if (o.tsft) present |= 0x01;
  const words = o.extBitmap ? [present | 0x80000000, 0] : [present];
  let len = 4 + 4 * words.length;
  const fields: number[] = [];
  if (o.tsft) {
    while (len % 8 !== 0) {
      fields.push(0);
      len++;
    }
    fields.push(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x08);
    len += 8;
  }
  if (flags !== 0) {
    fields.push(flags);
    len++;
  }
  return concat(Uint8Array.of(0, 0), le16(len), ...words.map(le32), Uint8Array.from(fields));
}

function ppi(o: WlanOptions): Uint8Array {
  // One 802.11-Common field (type 2, 20 bytes): TSFT, flags (0x0001 FCS), rate, channel, ...
  const common = concat(new Uint8Array(8), le16(o.fcs ? 1 : 0), le16(2), le16(2437), le16(0x00a0), Uint8Array.of(0, 0, 0xc4, 0xa0));
  const field = concat(le16(2), le16(common.length), common);
  return concat(Uint8Array.of(0, 0), le16(8 + field.length), le32(LINKTYPE_IEEE802_11), field);
}

function radioHeader(o: WlanOptions): Uint8Array {
  switch (o.radio ?? 'radiotap') {
    case 'none':
      return new Uint8Array(0);
    case 'ppi':
      return ppi(o);
    case 'prism': {
      const h = new Uint8Array(144);
      h.set(le32(0x44), 0);
      h.set(le32(144), 4);
      return h;
    }
    case 'avs': {
      const h = new Uint8Array(64);
      h.set(Uint8Array.of(0x80, 0x21, 0x10, 0x01, 0, 0, 0, 64), 0);
      return h;
    }
    default:
      return radiotap(o);
  }
}

/** The 802.11 equivalent of the Ethernet frame `frame` (see the file comment). */
export function wlanFromEthernet(frame: Uint8Array, o: WlanOptions = {}): Uint8Array {
  const da = frame.subarray(0, 6);
  const sa = frame.subarray(6, 12);
  const type = (frame[12]! << 8) | frame[13]!;
  const payload = frame.subarray(14);
  let body = type < 0x0600 ? payload : concat(hex('aaaa03000000'), be16(type), payload);
  const qos = o.qos === true || o.amsdu === true;
  if (o.amsdu) body = concat(da, sa, be16(body.length), body);
  const toDs = o.toDs ?? false;
  const fromDs = o.fromDs ?? true;
  const fc0 = o.fc0 ?? (qos ? 0x88 : 0x08);
  let fc1 = (toDs ? 1 : 0) | (fromDs ? 2 : 0);
  if (o.moreFragments) fc1 |= 0x04;
  if (o.protected) fc1 |= 0x40;
  if (o.htc) fc1 |= 0x80;
  // A1..A3 (and A4) by the DS bits: DA = toDs ? A3 : A1; SA = fromDs ? (toDs ? A4 : A3) : A2.
  let a1: Uint8Array, a2: Uint8Array, a3: Uint8Array;
  let a4: Uint8Array = new Uint8Array(0);
  if (!toDs && !fromDs) [a1, a2, a3] = [da, sa, BSSID];
  else if (toDs && !fromDs) [a1, a2, a3] = [BSSID, sa, da];
  else if (!toDs && fromDs) [a1, a2, a3] = [da, BSSID, sa];
  else [a1, a2, a3, a4] = [hex('020000000002'), BSSID, da, sa];
  const seq = le16((0x123 << 4) | (o.fragment ?? 0));
  let header = concat(Uint8Array.of(fc0, fc1), Uint8Array.of(0x2c, 0), a1, a2, a3, seq, a4);
  if (qos) header = concat(header, Uint8Array.of(o.amsdu ? 0x80 : 0x00, 0));
  if (qos && o.htc) header = concat(header, Uint8Array.of(0, 0, 0, 0));
  const pad = o.datapad ? new Uint8Array((4 - (header.length % 4)) % 4) : new Uint8Array(0);
  let fcs: Uint8Array = new Uint8Array(0);
  if (o.fcs) {
    let c = crc32(concat(header, body));
    if (o.badFcs) c ^= 1;
    fcs = le32(c >>> 0);
  }
  return concat(radioHeader(o), header, pad, body, fcs);
}

/** The options frame i of a converted capture gets: every form in turn. */
export function rotatingOptions(i: number): WlanOptions {
  const forms: WlanOptions[] = [
    {},
    { fcs: true },
    { qos: true, toDs: true, fromDs: false, fcs: true },
    { qos: true, htc: true, toDs: true, fromDs: true, datapad: true, fcs: true, tsft: true },
    { fromDs: false, toDs: false, tsft: true, extBitmap: true, fcs: true },
    { qos: true, datapad: true, fcs: true },
  ];
  return forms[i % forms.length]!;
}
