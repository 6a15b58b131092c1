/**
 * A run of packet records found by the reader's walk
 * (`CaptureReader.nextPackets`): where each packet's bytes are in the read
 * window, its lengths and its interface, in typed arrays. The rewrite loop
 * translates a batch in one tight loop and writes its bytes as one span; a
 * parallel rewrite (src/parallel/) hands batches to worker threads, so the
 * arrays may live in a SharedArrayBuffer.
 *
 * A batch holds consecutive records of the file and nothing else: its
 * bytes are window[start, end), its frames firstFrame, firstFrame + 1, ...
 */

/** Bytes of memory a batch of `capacity` packets needs (see `PacketBatch.over`). */
export function batchBytes(capacity: number): number {
  return capacity * 4 * FIELDS;
}

/** Int32 fields per packet: record start, data start, captured length, original length, interface index. */
const FIELDS = 5;

export class PacketBatch {
  /** Packets in the batch. */
  count = 0;
  /** The batch's bytes in the window: [start, end). */
  start = 0;
  end = 0;
  /** Frame number of the first packet; the others follow it one by one. */
  firstFrame = 0;
  /** Absolute offset in the input of window byte 0 (for the byte offsets of findings). */
  base = 0;
  /** Per packet: where its record (header included) starts in the window. */
  readonly record: Int32Array;
  /** Per packet: where its bytes start in the window. */
  readonly data: Int32Array;
  readonly capLen: Int32Array;
  /** Original lengths as unsigned 32-bit values. */
  readonly origLen: Uint32Array;
  /** Per packet: its interface's index (`InterfaceInfo.index`). */
  readonly iface: Int32Array;

  constructor(
    readonly capacity: number,
    memory: ArrayBufferLike = new ArrayBuffer(batchBytes(capacity)),
    byteOffset = 0,
  ) {
    const at = (k: number): number => byteOffset + k * capacity * 4;
    this.record = new Int32Array(memory, at(0), capacity);
    this.data = new Int32Array(memory, at(1), capacity);
    this.capLen = new Int32Array(memory, at(2), capacity);
    this.origLen = new Uint32Array(memory, at(3), capacity);
    this.iface = new Int32Array(memory, at(4), capacity);
  }
}
