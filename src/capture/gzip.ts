/**
 * Gzip-compressed captures, read and written transparently and streamed
 * (`x.pcap.gz`, as tshark and tcpdump read them): a source whose first two
 * bytes are the gzip magic 1f 8b is inflated on the fly; an output named
 * `.gz` is deflated on the fly. node:zlib is loaded only when one is met.
 *
 * A gzip stream cut short (a compressor that was killed) is the end of the
 * capture, not an error: every complete record before it is kept and the
 * run warns (`capture.truncated-tail`), as for a plain capture cut short.
 * Damaged compressed data is bad input (exit 3).
 */
import type { Readable } from 'node:stream';
import type * as zlib from 'node:zlib';
import { CaptureError, OutputError, errnoWords } from '../errors.js';
import { StreamSource, type ByteSource } from './source.js';
import type { OutputTarget } from './target.js';

export const GZIP_MAGIC = [0x1f, 0x8b] as const;

function zlibModule(): typeof zlib {
  // Not a dynamic import(): the CLI bundle runs in a vm.Script, which has none.
  return process.getBuiltinModule('node:zlib');
}

/** True when the bytes start with the gzip magic. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
}

/**
 * A source that hands out `prefix` (bytes already read, to sniff a format)
 * before the rest of `inner`. It reads ahead as `inner` does, once the
 * prefix is out (stdin redirected from a file stays as fast as a file).
 */
export class PrefixedSource implements ByteSource {
  private off = 0;
  readonly readAhead?: (buf: Buffer, off: number, len: number) => Promise<number>;

  constructor(
    private readonly prefix: Uint8Array,
    private readonly inner: ByteSource,
  ) {
    const ahead = inner.readAhead?.bind(inner);
    if (ahead !== undefined) {
      this.readAhead = (buf, off, len) => (this.off < this.prefix.length ? this.read(buf, off, len) : ahead(buf, off, len));
    }
  }

  async read(buf: Buffer, off: number, len: number): Promise<number> {
    if (this.off < this.prefix.length) {
      const n = Math.min(len, this.prefix.length - this.off);
      buf.set(this.prefix.subarray(this.off, this.off + n), off);
      this.off += n;
      return n;
    }
    return this.inner.read(buf, off, len);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Inflates a gzip source (any number of members, as gunzip does) as it is read. */
export class GunzipSource implements ByteSource {
  /** Compressed bytes read from the source so far. */
  consumed = 0;
  /** The compressed stream ended before its end (no trailer, or inside a member). */
  truncated = false;
  private readonly gunzip: zlib.Gunzip;
  private readonly out: StreamSource;
  private failure: unknown = null;

  constructor(
    private readonly inner: ByteSource,
    private readonly name: string,
  ) {
    this.gunzip = zlibModule().createGunzip();
    this.out = new StreamSource(this.gunzip as Readable);
    void this.pump();
  }

  /** Feeds the compressed bytes in, as fast as the inflated ones are taken out. */
  private async pump(): Promise<void> {
    const gz = this.gunzip;
    const buf = Buffer.allocUnsafe(1 << 20);
    try {
      for (;;) {
        const n = await this.inner.read(buf, 0, buf.length);
        if (n === 0) break;
        this.consumed += n;
        // A copy: zlib holds the chunk until it has inflated it, and buf is read into again.
        if (!gz.write(Buffer.from(buf.subarray(0, n)))) await new Promise<void>((resolve) => gz.once('drain', resolve));
        if (gz.destroyed) return;
      }
      gz.end();
    } catch (e) {
      this.failure = e;
      gz.destroy(e as Error);
    }
  }

  async read(buf: Buffer, off: number, len: number): Promise<number> {
    if (this.truncated) return 0;
    try {
      return await this.out.read(buf, off, len);
    } catch (e) {
      if (this.failure !== null) throw this.failure;
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'Z_BUF_ERROR') {
        // "unexpected end of file": the compressor stopped; what was inflated is the capture.
        this.truncated = true;
        return 0;
      }
      throw new CaptureError(`the gzip data is damaged after ${this.consumed} compressed bytes: ${err.message}`, { file: this.name });
    }
  }

  async close(): Promise<void> {
    this.gunzip.destroy();
    await this.inner.close();
  }
}

/**
 * Deflates what is written into another target (an output named `.gz`).
 * write() resolves once zlib has taken the chunks in, so that the caller
 * may reuse them; the compressed bytes go on to the inner target.
 */
export class GzipTarget implements OutputTarget {
  private readonly gzip: zlib.Gzip;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failure: unknown = null;

  constructor(
    private readonly inner: OutputTarget,
    private readonly name: string,
  ) {
    this.gzip = zlibModule().createGzip({ level: 6 });
    this.gzip.on('data', (c: Buffer) => {
      this.pending.push(c);
      this.pendingBytes += c.length;
    });
    this.gzip.on('error', (e) => (this.failure = e));
  }

  private check(): void {
    if (this.failure !== null) throw new OutputError(`cannot write ${this.name}: gzip: ${errnoWords(this.failure)}`);
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    for (const c of chunks) {
      await new Promise<void>((resolve, reject) => this.gzip.write(c, (e) => (e ? reject(e) : resolve())));
      this.check();
    }
    if (this.pendingBytes >= 1 << 20) await this.forward();
  }

  private async forward(): Promise<void> {
    const out = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (out.length > 0) await this.inner.write(out);
  }

  async commit(): Promise<void> {
    // 'end': every compressed byte, the trailer included, has been handed to the 'data' listener.
    await new Promise<void>((resolve) => {
      this.gzip.once('end', resolve);
      this.gzip.once('error', () => resolve());
      this.gzip.end();
    });
    this.check();
    await this.forward();
    await this.inner.commit();
  }

  async abort(): Promise<void> {
    this.gzip.destroy();
    await this.inner.abort();
  }
}
