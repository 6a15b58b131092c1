/**
 * One DataView per buffer, made again only when the underlying memory
 * changes (when the reader's window moves to its next buffer: about once
 * per two megabytes, not per packet).
 */
export class ViewCache {
  private last: Uint8Array | null = null;
  private buffer: ArrayBufferLike | null = null;
  private byteOffset = -1;
  private byteLength = -1;
  view: DataView = new DataView(new ArrayBuffer(0));

  /** The DataView over `buf` (index 0 = buf[0]). */
  of(buf: Uint8Array): DataView {
    // Fast path: the same buffer object as last time.
    if (buf === this.last) return this.view;
    this.last = buf;
    if (buf.buffer !== this.buffer || buf.byteOffset !== this.byteOffset || buf.byteLength !== this.byteLength) {
      this.buffer = buf.buffer;
      this.byteOffset = buf.byteOffset;
      this.byteLength = buf.byteLength;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.view;
  }
}
