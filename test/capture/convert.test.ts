/**
 * Format conversion keeps every record: pcap -> pcapng -> pcap gives the file
 * back; pcapng -> pcap keeps timestamps to the nanosecond, lengths and data;
 * pcap-parser (an independent reader) agrees with our pcap output.
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import pcapp from 'pcap-parser';
import { CaptureReader } from '../../src/capture/reader.js';
import { RecordKind } from '../../src/capture/record.js';
import { UsageError } from '../../src/errors.js';
import { passThrough, readPackets, type TestPacket } from '../helpers/capture.js';
import { corpusPath, manifest } from '../helpers/corpus.js';

const entries = manifest().filter((e) => !e.damaged);
const pcaps = entries.filter((e) => /^pcap-(le|be|ns-le|ns-be)$/.test(e.format));
const pcapngs = entries.filter((e) => e.format.startsWith('pcapng') && e.packets > 0 && !e.linkTypes.includes(','));

async function packetsOf(bytes: Uint8Array): Promise<TestPacket[]> {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const f = join(mkdtempSync(join(tmpdir(), 'ssnat-')), 'x');
  writeFileSync(f, bytes);
  return readPackets(f);
}

function sameRecords(a: TestPacket[], b: TestPacket[]): void {
  expect(b.length).toBe(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    expect({ frame: y.frame, ts: y.timestampNs, orig: y.originalLength, link: y.linkType }).toEqual({ frame: x.frame, ts: x.timestampNs, orig: x.originalLength, link: x.linkType });
    expect(Buffer.compare(Buffer.from(y.data), Buffer.from(x.data))).toBe(0);
  }
}

describe('pcap -> pcapng -> pcap', () => {
  it('covers microsecond, nanosecond and both byte orders', () => {
    expect(new Set(pcaps.map((e) => e.format))).toEqual(new Set(['pcap-le', 'pcap-be', 'pcap-ns-le', 'pcap-ns-be']));
  });
  // Two files store invalid fractions (>= 1 s); pcapng holds one count of units, so they come back normalised.
  const INVALID_FRACTIONS = ['tcpdump/pcap/timestamp_invalid_micro.pcap', 'tcpdump/pcap/timestamp_invalid_nano.pcap'];
  it.each(pcaps.map((e) => e.path))('%s comes back byte-identical', async (path) => {
    const bytes = readFileSync(corpusPath(path));
    const ng = await passThrough(bytes, { format: 'pcapng' });
    const back = await passThrough(ng.out, { format: 'pcap' });
    sameRecords(await packetsOf(bytes), await packetsOf(ng.out));
    sameRecords(await packetsOf(bytes), await packetsOf(back.out));
    if (INVALID_FRACTIONS.includes(path)) return;
    // Records come back byte for byte.
    expect(Buffer.compare(back.out.subarray(24), bytes.subarray(24))).toBe(0);
    // The header too, when it is what libpcap writes (2.4, thiszone and sigfigs 0) and its
    // link-type field's upper bits are zero or an FCS length (pcapng's if_fcslen holds nothing else).
    const le = bytes.readUInt32LE(0) === 0xa1b2c3d4 || bytes.readUInt32LE(0) === 0xa1b23c4d;
    const u16 = (o: number): number => (le ? bytes.readUInt16LE(o) : bytes.readUInt16BE(o));
    const u32 = (o: number): number => (le ? bytes.readUInt32LE(o) : bytes.readUInt32BE(o));
    const upper = u32(20) >>> 28;
    const representable = upper === 0 || (upper & 1) === 1;
    if (u16(6) === 4 && u32(8) === 0 && u32(12) === 0 && representable) {
      expect(Buffer.compare(back.out.subarray(0, 24), bytes.subarray(0, 24))).toBe(0);
    } else {
      expect(back.out.subarray(16, 20)).toEqual(bytes.subarray(16, 20)); // snaplen
      expect((le ? back.out.readUInt32LE(20) : back.out.readUInt32BE(20)) & 0xffff).toBe(u32(20) & 0xffff); // link type
    }
  });
  it('the modified (a1b2cd34) format converts with every record kept', async () => {
    const bytes = readFileSync(corpusPath('pcap-parser/modified-format.pcap'));
    const ng = await passThrough(bytes, { format: 'pcapng' });
    sameRecords(await packetsOf(bytes), await packetsOf(ng.out));
  });
});

describe('pcapng -> pcap', () => {
  const PAST_2106 = ['tcpdump/pcap/time_2106_overflow.pcapng', 'tcpdump/pcap/time_2107.pcapng'];
  it.each(PAST_2106)('%s: a timestamp past 2106 is refused, not wrapped', async (path) => {
    const err = await passThrough(readFileSync(corpusPath(path)), { format: 'pcap' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^--format pcap cannot hold frame 1: its timestamp \(\d+ s\) is outside pcap's 32-bit seconds/);
  });

  it('a capture with no interface cannot become pcap', async () => {
    const err = await passThrough(readFileSync(corpusPath('pcapng-test-generator/output_le/basic/test002.pcapng')), { format: 'pcap' }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('--format pcap needs a link type, but the capture describes no interface; keep pcapng');
  });

  it('a capture with interfaces but no packets becomes a header-only pcap', async () => {
    const r = await passThrough(readFileSync(corpusPath('pcapng-test-generator/output_le/basic/test003.pcapng')), { format: 'pcap' });
    expect(r.out.length).toBe(24);
    expect(r.out.readUInt32LE(0)).toBe(0xa1b2c3d4);
  });

  it.each(pcapngs.filter((e) => !PAST_2106.includes(e.path)).map((e) => e.path))('%s keeps every record', async (path) => {
    const bytes = readFileSync(corpusPath(path));
    const pcap = await passThrough(bytes, { format: 'pcap' });
    const a = await packetsOf(bytes);
    const b = await packetsOf(pcap.out);
    // Frame numbers may shift: pcap has no place for the custom blocks Wireshark also numbers.
    const unnumbered = (ps: TestPacket[]) => ps.map((p) => ({ ...p, frame: 0, interfaceId: 0 }));
    sameRecords(unnumbered(a), unnumbered(b));
  });

  it('refuses several link types, saying so', async () => {
    const bytes = readFileSync(corpusPath('pcapng-test-generator/output_le/basic/test006.pcapng'));
    const err = await passThrough(bytes, { format: 'pcap' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      '--format pcap cannot hold this capture: interface 1 has link type 0, an earlier one 1 (pcap has one link type per file; keep pcapng)',
    );
  });

  it('writes nanosecond pcap for if_tsresol 9 and keeps nanoseconds', async () => {
    const bytes = readFileSync(corpusPath('pcap-parser/wireshark_samples-test.pcapng'));
    const pcap = await passThrough(bytes, { format: 'pcap' });
    expect(pcap.out.readUInt32LE(0)).toBe(0xa1b23c4d);
    const a = await packetsOf(bytes);
    expect(a.some((p) => p.timestampNs % 1000n !== 0n)).toBe(true);
  });
});

describe('pcap-parser, an independent reader, agrees with our pcap output', () => {
  const micro = entries.filter((e) => e.format.startsWith('pcapng') && e.packets > 0 && !e.linkTypes.includes(',') && !/if_tsresol=[^;]*(9|136)/.test(e.notes));
  it.each(micro.slice(0, 40).map((e) => e.path))('%s', async (path) => {
    const bytes = readFileSync(corpusPath(path));
    const pcap = await passThrough(bytes, { format: 'pcap' });
    const ours = await packetsOf(pcap.out);
    const theirs: Array<{ sec: number; usec: number; cap: number; orig: number; data: Buffer }> = [];
    await new Promise<void>((resolve, reject) => {
      const parser = pcapp.parse(Readable.from([pcap.out]));
      parser.on('packet', (p: { header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number }; data: Buffer }) =>
        theirs.push({ sec: p.header.timestampSeconds, usec: p.header.timestampMicroseconds, cap: p.header.capturedLength, orig: p.header.originalLength, data: Buffer.from(p.data) }),
      );
      parser.on('end', () => resolve());
      parser.on('error', reject);
    });
    expect(theirs.length).toBe(ours.length);
    theirs.forEach((t, i) => {
      const o = ours[i]!;
      expect(BigInt(t.sec) * 1_000_000_000n + BigInt(t.usec) * 1000n).toBe(o.timestampNs);
      expect([t.cap, t.orig]).toEqual([o.data.length, o.originalLength]);
      expect(Buffer.compare(t.data, Buffer.from(o.data))).toBe(0);
    });
  });
});

describe('annotation', () => {
  it('adds an opt_comment to EPBs and keeps data, other options and block structure valid', async () => {
    const bytes = readFileSync(corpusPath('pcapng-test-generator/output_be/basic/test009.pcapng'));
    const r = await passThrough(bytes, { annotating: true }, (rec) => (rec.kind === RecordKind.Packet ? `ssnat: frame ${rec.frame}` : undefined));
    const reader = await CaptureReader.fromBytes(r.out);
    const comments: string[] = [];
    for await (const rec of reader) {
      if (rec.kind !== RecordKind.Packet) continue;
      // Walk the options: the original comment options, then ours.
      const v = new DataView(rec.buf.buffer, rec.buf.byteOffset);
      let p = rec.optionsOffset;
      while (p < rec.start + rec.length - 4) {
        const code = v.getUint16(p, rec.littleEndian);
        const len = v.getUint16(p + 2, rec.littleEndian);
        if (code === 0) break;
        if (code === 1) comments.push(rec.buf.toString('utf8', p + 4, p + 4 + len));
        p += 4 + ((len + 3) & ~3);
      }
    }
    expect(comments.filter((c) => c.startsWith('ssnat:'))).toEqual(['ssnat: frame 1', 'ssnat: frame 2']);
    expect(comments.length).toBeGreaterThan(2);
    sameRecords(await packetsOf(bytes), await packetsOf(r.out));
    // The section length is no longer known once blocks grow: it becomes -1.
    expect(r.out.readBigInt64BE(16)).toBe(-1n);
  });
});
