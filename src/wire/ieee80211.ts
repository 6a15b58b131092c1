/**
 * IEEE 802.11 captures: the radio headers in front of the 802.11 frame
 * (radiotap, PPI, Prism, AVS) and the 802.11 MAC header of a data frame.
 * Field maps as byte offsets; radiotap, PPI and Prism fields are
 * little-endian, AVS big-endian, the 802.11 header's fields little-endian
 * (its addresses are bytes).
 *
 * What the decoder reads (src/wire/decode.ts): a data frame (type 2) with a
 * body (subtype without the "no data" bit), neither protected (its body is
 * encrypted), nor a fragment (only the first fragment holds the LLC header,
 * and the datagram continues in the next frame), nor an A-MSDU (several
 * packets in one frame), whose body starts with an LLC/SNAP header
 * (src/wire/llc.ts). Everything else is an unknown protocol: it passes
 * unchanged and is not checked.
 */

export const LINKTYPE_IEEE802_11 = 105;
export const LINKTYPE_PRISM = 119;
export const LINKTYPE_IEEE802_11_RADIOTAP = 127;
export const LINKTYPE_IEEE802_11_AVS = 163;
export const LINKTYPE_PPI = 192;

/**
 * Radiotap (radiotap.org): version (0), pad, header length (LE 16, the whole
 * header), then the present bitmaps (LE 32; bit 31 says another follows),
 * then the fields in bit order, each aligned to its natural size from the
 * start of the header. Only two fields matter here: TSFT (bit 0, 8 bytes,
 * 8-aligned), which comes before Flags (bit 1, one byte).
 */
export const RT_VERSION = 0;
export const RT_LEN = 2;
export const RT_PRESENT = 4;
export const RT_MIN_LEN = 8;
/** Radiotap and PPI begin alike: version (0), a byte, the header length (LE 16), at least 8 bytes. */
export const RADIO_VERSION = RT_VERSION;
export const RADIO_LEN = RT_LEN;
export const RADIO_MIN_LEN = RT_MIN_LEN;
export const RT_PRESENT_TSFT = 1 << 0;
export const RT_PRESENT_FLAGS = 1 << 1;
export const RT_PRESENT_EXT = 1 << 31;
export const RT_TSFT_LEN = 8;
/** Flags: the frame ends with a 4-byte FCS; padding between the 802.11 header and its body (to a 32-bit boundary); the FCS failed. */
export const RT_FLAG_FCS = 0x10;
export const RT_FLAG_DATAPAD = 0x20;
export const RT_FLAG_BADFCS = 0x40;

/**
 * PPI (CACE Per-Packet Information): version (0), flags, header length (LE
 * 16), the link type of what follows (LE 32), then fields (type LE 16,
 * length LE 16, data). The 802.11-Common field (type 2, 20 bytes) holds
 * flags (LE 16) at data offset 8: 0x0001 the frame ends with an FCS.
 */
export const PPI_VERSION = 0;
export const PPI_FLAGS = 1;
export const PPI_LEN = 2;
export const PPI_DLT = 4;
export const PPI_HEADER_LEN = 8;
export const PPI_FLAG_ALIGN = 0x01;
export const PPI_FIELD_HEADER_LEN = 4;
export const PPI_FIELD_80211_COMMON = 2;
export const PPI_COMMON_FLAGS = 8;
export const PPI_COMMON_FLAG_FCS = 0x0001;

/**
 * Prism (wlan-ng): a 144-byte header, message code (host order, 0x44 or
 * 0x41) first. A header whose first word (big-endian) is an AVS cookie is an
 * AVS header instead (Linux uses one ARPHRD type for both). Wireshark treats
 * a frame with neither as a bare 802.11 frame, and so do we.
 */
export const PRISM_HEADER_LEN = 144;
export const PRISM_MSGCODE_1 = 0x44;
export const PRISM_MSGCODE_2 = 0x41;
/** AVS (wlan-ng capture v1/v2): version cookie (BE 32), header length (BE 32). */
export const AVS_VERSION = 0;
export const AVS_LEN = 4;
export const AVS_MIN_LEN = 8;
export const AVS_COOKIE_MASK = 0xfffffff0;
export const AVS_COOKIE_BASE = 0x80211000;

/** 802.11 MAC header: frame control (2 bytes), duration, three addresses, sequence control, then the optional fourth address, QoS control and HT control. */
export const FC = 0;
export const FC_FLAGS = 1;
export const ADDR1 = 4;
export const ADDR2 = 10;
export const ADDR3 = 16;
export const SEQ_CTL = 22;
export const ADDR4 = 24;
export const DATA_HEADER_LEN = 24;
export const ADDR4_LEN = 6;
export const QOS_LEN = 2;
export const HTC_LEN = 4;

/** Frame control byte 0: protocol version (2 bits), type (2), subtype (4). */
export const FC_VERSION_MASK = 0x03;
export const TYPE_DATA = 2;
/** Data subtypes: bit 3 QoS (a QoS control field follows the addresses), bit 2 no data (null frames). */
export const SUBTYPE_QOS = 0x8;
export const SUBTYPE_NO_DATA = 0x4;
/** Frame control byte 1. */
export const FLAG_TO_DS = 0x01;
export const FLAG_FROM_DS = 0x02;
export const FLAG_MORE_FRAGMENTS = 0x04;
export const FLAG_PROTECTED = 0x40;
export const FLAG_ORDER = 0x80;
/** Sequence control (LE 16): fragment number in the low 4 bits. */
export const SEQ_FRAGMENT_MASK = 0x000f;
/** QoS control, first byte: bit 7 says the body is an A-MSDU. */
export const QOS_AMSDU = 0x80;

/** A-MSDU subframe header: destination, source, length (BE 16) of the LLC/SNAP + payload that follows; subframes are padded to 4 bytes. */
export const AMSDU_LENGTH = 12;
export const AMSDU_HEADER_LEN = 14;

/** Why an 802.11 data frame's body was not decoded (DecodeResult.wlanBody). */
export const WLAN_BODY_DECODED = 0;
export const WLAN_BODY_AMSDU = 1;
export const WLAN_BODY_FIRST_FRAGMENT = 2;

export const ERR_RADIOTAP_VERSION = 'radiotap: version is not 0';
export const ERR_RADIOTAP_LEN = 'radiotap: header length is shorter than its present bitmaps';
export const ERR_RADIO_HEADER_PAST_FRAME = 'radio header: length runs past the frame';
export const ERR_PPI_VERSION = 'ppi: version is not 0';
export const ERR_PPI_LEN = 'ppi: header length < 8';
export const ERR_AVS_LEN = 'avs: header length < 8';
export const ERR_WLAN_SHORT = 'ieee80211: frame shorter than its MAC header';

/**
 * The radiotap Flags field of the header at `off` (`len` bytes, the caller
 * checked they are captured): the flags byte, or 0 when the field is absent.
 * Returns -1 when the present bitmaps run past `len` (an impossible header).
 */
export function radiotapFlags(v: DataView, off: number, len: number): number {
  const end = off + len;
  let p = off + RT_PRESENT;
  if (p + 4 > end) return -1;
  const present = v.getUint32(p, true);
  while ((v.getUint32(p, true) & RT_PRESENT_EXT) !== 0) {
    p += 4;
    if (p + 4 > end) return -1;
  }
  if ((present & RT_PRESENT_FLAGS) === 0) return 0;
  let f = p + 4;
  if ((present & RT_PRESENT_TSFT) !== 0) f = off + ((f - off + 7) & ~7) + RT_TSFT_LEN;
  return f < end ? v.getUint8(f) : 0;
}

/**
 * The PPI 802.11-Common flags of the PPI header at `off` (`len` bytes, captured), or 0 when it has no such field.
 */
export function ppiCommonFlags(v: DataView, off: number, len: number): number {
  const align = (v.getUint8(off + PPI_FLAGS) & PPI_FLAG_ALIGN) !== 0;
  const end = off + len;
  let p = off + PPI_HEADER_LEN;
  while (p + PPI_FIELD_HEADER_LEN <= end) {
    const type = v.getUint16(p, true);
    const flen = v.getUint16(p + 2, true);
    const data = p + PPI_FIELD_HEADER_LEN;
    if (data + flen > end) return 0;
    if (type === PPI_FIELD_80211_COMMON) return flen >= PPI_COMMON_FLAGS + 2 ? v.getUint16(data + PPI_COMMON_FLAGS, true) : 0;
    p = data + flen;
    if (align) p = off + ((p - off + 3) & ~3);
  }
  return 0;
}
