/**
 * What a file holds, told by its first bytes rather than by its name: a
 * directory walk takes a file without a capture's name that is one (tcpdump
 * -w writes whatever name it is given, often none), and `--report-file`
 * refuses to replace a capture with a report.
 *
 * A capture starts with a magic number (the reader's `sniffFormat`: pcap in
 * both byte orders, micro- and nanosecond and the "modified" a1b2cd34,
 * pcapng's section header 0x0a0d0d0a); a gzip file (1f 8b) is a capture
 * when the start of what it inflates to is one.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { CaptureFormat } from './record.js';
import { isGzip } from './gzip.js';
import { sniffFormat } from './reader.js';

/** What a file's start says it is: a capture (of a format, maybe gzip-compressed), or null. */
export interface Sniffed {
  readonly format: CaptureFormat;
  readonly gzip: boolean;
}

/** Bytes read to tell: the gzip header (its optional name and comment fields included) and the start of its first block. */
const HEAD = 4096;

/** The capture the bytes `head` (a file's start) are the start of, or null. */
export function sniffBytes(head: Uint8Array): Sniffed | null {
  if (isGzip(head)) {
    let inflated: Uint8Array;
    try {
      // The start only: Z_SYNC_FLUSH hands out what the bytes given inflate to, without asking for the rest of the stream.
      const zlib = process.getBuiltinModule('node:zlib');
      inflated = zlib.gunzipSync(head, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch {
      return null; // not gzip after all, or damaged at its start
    }
    const inner = sniffFormat(new DataView(inflated.buffer, inflated.byteOffset, inflated.byteLength));
    return inner === null ? null : { format: inner.format, gzip: true };
  }
  const plain = sniffFormat(new DataView(head.buffer, head.byteOffset, head.byteLength));
  return plain === null ? null : { format: plain.format, gzip: false };
}

/** The capture a file is, by its first bytes; null for anything else. Throws the system error when it cannot be opened or read. */
export function sniffFile(path: string): Sniffed | null {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.allocUnsafe(HEAD);
    let n = 0;
    for (let r; n < HEAD && (r = readSync(fd, head, n, HEAD - n, null)) > 0; ) n += r;
    return sniffBytes(head.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** "a pcap capture", "a gzip-compressed pcapng capture". */
export function sniffedWords(s: Sniffed): string {
  return `a ${s.gzip ? 'gzip-compressed ' : ''}${s.format} capture`;
}
