/**
 * Builds pcapng blocks byte by byte, in either byte order, for tests that
 * need what no shipped capture has: several sections, interfaces of
 * different link types, blocks between packets.
 */

/** A pcapng block: type, body, padded, both lengths. */
export function block(type: number, body: Uint8Array, le = true): Buffer {
  const padded = (body.length + 3) & ~3;
  const b = Buffer.alloc(12 + padded);
  const w = (v: number, at: number) => (le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  w(type, 0);
  w(b.length, 4);
  Buffer.from(body).copy(b, 8);
  w(b.length, b.length - 4);
  return b;
}
/** A 32-bit field. */
export function u32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}
/** A 16-bit field. */
export function u16(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}
/** An option: code, length, value padded to 4 bytes. */
export function option(code: number, value: Uint8Array, le: boolean): Buffer {
  return Buffer.concat([u16(code, le), u16(value.length, le), Buffer.from(value), Buffer.alloc(((value.length + 3) & ~3) - value.length)]);
}
/** A section header block (version 1.0, length unknown). */
export const shb = (le: boolean): Buffer => block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d, le), u16(1, le), u16(0, le), Buffer.alloc(8, 0xff)]), le);
/** An interface description block: its name and link type (Ethernet by default). */
export const idb = (name: string, le: boolean, linkType = 1): Buffer =>
  block(1, Buffer.concat([u16(linkType, le), u16(0, le), u32(65535, le), option(2, Buffer.from(name), le), option(0, new Uint8Array(0), le)]), le);
/** An enhanced packet block of interface `iface` at timestamp `t`, captured whole. */
export const epb = (iface: number, f: Uint8Array, le: boolean, t: number): Buffer =>
  block(6, Buffer.concat([u32(iface, le), u32(0, le), u32(t, le), u32(f.length, le), u32(f.length, le), Buffer.from(f), Buffer.alloc(((f.length + 3) & ~3) - f.length)]), le);
/** A simple packet block. */
export const spb = (f: Uint8Array, le: boolean): Buffer => block(3, Buffer.concat([u32(f.length, le), Buffer.from(f), Buffer.alloc(((f.length + 3) & ~3) - f.length)]), le);

