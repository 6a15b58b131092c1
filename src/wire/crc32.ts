/**
 * CRC-32 (IEEE 802.3, the polynomial 0x04C11DB7 reflected): the frame check
 * sequence of Ethernet and 802.11 frames, stored little-endian after the
 * frame. Table-driven, no allocation per call.
 *
 * The FCS is not an Internet checksum, but it is affine like one: for two
 * messages a, b of the same length, crc(a) ^ crc(b) = L(a ^ b) for a linear
 * L. So after a frame's bytes change from m to m', the stored FCS F becomes
 * F ^ crc(m) ^ crc(m'): right if F was right, and wrong by exactly the same
 * error pattern if it was wrong (the rule RFC 1624 gives the checksums;
 * src/nat/translate.ts).
 */
const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

/**
 * CRC-32 of `len` bytes at `off`, continuing `crc` (the CRC-32 of the bytes
 * before them; 0 to start), as zlib's crc32(): unsigned.
 */
export function crc32(bytes: Uint8Array, off: number, len: number, crc = 0): number {
  let c = ~crc;
  for (let i = off, end = off + len; i < end; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
