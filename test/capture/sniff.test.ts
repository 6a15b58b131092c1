/**
 * A file's start says whether it is a capture (src/capture/sniff.ts): the
 * walk takes an extensionless tcpdump -w file by it, and --report-file
 * refuses to replace one by it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sniffBytes, sniffFile } from '../../src/capture/sniff.js';

/** A 24-byte pcap file header with `magic` written in the byte order given (version 2.4, snaplen 65535, Ethernet). */
function pcapHeader(magic: number, littleEndian: boolean): Buffer {
  const b = Buffer.alloc(24);
  const u32 = (v: number, at: number): number => (littleEndian ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  const u16 = (v: number, at: number): number => (littleEndian ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  u32(magic, 0);
  u16(2, 4);
  u16(4, 6);
  u32(65535, 16);
  u32(1, 20);
  return b;
}

// 0a 0d 0d 0a, length 28, byte-order magic 1a2b3c4d little-endian, version 1.0, section length -1, length 28.
const SHB = Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex');

describe('sniffBytes', () => {
  it('knows every pcap magic in both byte orders (micro, nano, modified a1b2cd34) and pcapng', () => {
    for (const magic of [0xa1b2c3d4, 0xa1b23c4d, 0xa1b2cd34]) {
      for (const le of [true, false]) expect(sniffBytes(pcapHeader(magic, le)), `${magic.toString(16)} ${le}`).toEqual({ format: 'pcap', gzip: false });
    }
    expect(sniffBytes(SHB)).toEqual({ format: 'pcapng', gzip: false });
    // Big-endian section: the block type 0a0d0d0a reads the same both ways.
    expect(sniffBytes(Buffer.from('0a0d0d0a0000001c1a2b3c4d0001000000000000000000000000001c', 'hex'))).toEqual({ format: 'pcapng', gzip: false });
  });

  it('gzip is a capture when what it inflates to starts as one, even from only the first bytes of a long stream', () => {
    expect(sniffBytes(gzipSync(pcapHeader(0xa1b23c4d, false)))).toEqual({ format: 'pcap', gzip: true });
    expect(sniffBytes(gzipSync(SHB))).toEqual({ format: 'pcapng', gzip: true });
    // 4 KB of a stream that inflates to 1 MB: the start is enough.
    const long = gzipSync(Buffer.concat([SHB, Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7919) & 0xff))]), { level: 1 });
    expect(long.length).toBeGreaterThan(8192);
    expect(sniffBytes(long.subarray(0, 4096))).toEqual({ format: 'pcapng', gzip: true });
    expect(sniffBytes(gzipSync('{"tool": "ssnat-rewrite"}'))).toBeNull();
    expect(sniffBytes(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff]))).toBeNull(); // gzip's magic, then damage
  });

  it('anything else is not a capture: text, an empty file, fewer than 4 bytes, a near miss', () => {
    expect(sniffBytes(Buffer.from('<?xml version="1.0"?>'))).toBeNull();
    expect(sniffBytes(Buffer.alloc(0))).toBeNull();
    expect(sniffBytes(Buffer.from([0xd4, 0xc3, 0xb2]))).toBeNull();
    expect(sniffBytes(pcapHeader(0xa1b2c3d5, true))).toBeNull();
  });
});

describe('sniffFile', () => {
  it('reads a file start; a file that cannot be opened throws its system error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssnat-sniff-'));
    writeFileSync(join(dir, 'dump'), Buffer.concat([pcapHeader(0xa1b2c3d4, true), Buffer.alloc(100000)]));
    expect(sniffFile(join(dir, 'dump'))).toEqual({ format: 'pcap', gzip: false });
    expect(() => sniffFile(join(dir, 'missing'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
