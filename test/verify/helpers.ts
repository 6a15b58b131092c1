/**
 * Helpers for verifier tests: run the Verifier over byte-array frames (no
 * file), and build pcap / multi-interface pcapng captures in memory.
 */
import { CaptureRecord, type InterfaceInfo } from '../../src/capture/record.js';
import { Findings, type Finding } from '../../src/report/model.js';
import { PacketDecoder } from '../../src/wire/decode.js';
import { Verifier, type VerifierOptions, type VerifySummary } from '../../src/verify/verifier.js';
import { RuleTable } from '../../src/nat/table.js';
import { parseRule } from '../../src/nat/rules.js';
import { concat, pcapBytes as pcapBytesOf } from '../helpers/wire-build.js';

export interface Frame {
  data: Uint8Array;
  /** Global interface id (default 0). */
  iface?: number;
  /** Original length (default data.length). */
  orig?: number;
  /** Seconds (default: frame index). */
  time?: number;
  linkType?: number;
}

export interface VerifyRun {
  findings: Finding[];
  summary: VerifySummary;
  verifier: Verifier;
}

function fakeIface(id: number, linkType: number): InterfaceInfo {
  return {
    id,
    index: id,
    name: `tap${id}`,
    linkType,
    snapLength: 0,
    ipv4: [],
    ipv6: [],
    section: 0,
    tsResolution: 6,
    unitsPerSecond: 1_000_000n,
    tsOffset: 0n,
    fcsLength: -1,
    littleEndian: true,
    options: [],
  };
}

/** Verifies frames in order (frame numbers 1..n); `rules` turn on the leak check. */
export function verifyFrames(frames: Frame[], opts: VerifierOptions = {}, rules: string[] = []): VerifyRun {
  const findings = new Findings();
  const verifier = new Verifier(findings, opts);
  const decoder = new PacketDecoder();
  const table = rules.length > 0 ? new RuleTable(rules.map((r) => parseRule(r)), 'guest-to-host') : null;
  const rec = new CaptureRecord();
  frames.forEach((f, i) => {
    const iface = fakeIface(f.iface ?? 0, f.linkType ?? 1);
    const buf = Buffer.alloc(f.data.length + 3);
    buf.set(f.data, 3); // an odd offset: absolute alignment must not matter
    rec.kind = 2;
    rec.blockType = 0;
    rec.buf = buf;
    rec.frame = i + 1;
    rec.interfaceId = iface.id;
    rec.interfaceIndex = iface.index;
    rec.iface = iface;
    rec.dataOffset = 3;
    rec.capturedLength = f.data.length;
    rec.originalLength = f.orig ?? f.data.length;
    const t = f.time ?? i;
    rec.tsHigh = Math.floor(t);
    rec.tsLow = Math.round((t - Math.floor(t)) * 1e6);
    rec.pcapNanos = false;
    const d = decoder.decode(buf, 3, f.data.length, rec.originalLength, iface.linkType);
    const mapper = table === null ? null : table.mapperFor(iface);
    verifier.packet(rec, d, mapper);
  });
  const summary = verifier.finish();
  return { findings: findings.list, summary, verifier };
}

/** A classic pcap (little-endian, microseconds) in memory. */
export function pcapBytes(linkType: number, frames: Frame[]): Uint8Array {
  return pcapBytesOf(linkType, frames.map((f, i) => ({ data: f.data, orig: f.orig ?? f.data.length, time: f.time ?? 1700000000 + i })));
}

/** A little-endian pcapng with `ifaces` Ethernet interfaces named tap0.. and one EPB per frame. */
export function pcapngBytes(ifaces: number, frames: Frame[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const shb = new DataView(new ArrayBuffer(28));
  shb.setUint32(0, 0x0a0d0d0a, true);
  shb.setUint32(4, 28, true);
  shb.setUint32(8, 0x1a2b3c4d, true);
  shb.setUint16(12, 1, true);
  shb.setInt32(16, -1, true);
  shb.setInt32(20, -1, true);
  shb.setUint32(24, 28, true);
  parts.push(new Uint8Array(shb.buffer));
  for (let i = 0; i < ifaces; i++) {
    const name = new TextEncoder().encode(`tap${i}`);
    const optLen = 4 + ((name.length + 3) & ~3) + 4;
    const len = 16 + optLen + 4;
    const b = new DataView(new ArrayBuffer(len));
    b.setUint32(0, 1, true);
    b.setUint32(4, len, true);
    b.setUint16(8, 1, true);
    b.setUint32(12, 0, true);
    b.setUint16(16, 2, true);
    b.setUint16(18, name.length, true);
    new Uint8Array(b.buffer).set(name, 20);
    b.setUint32(len - 4, len, true);
    parts.push(new Uint8Array(b.buffer));
  }
  frames.forEach((f, i) => {
    const padded = (f.data.length + 3) & ~3;
    const len = 32 + padded;
    const b = new DataView(new ArrayBuffer(len));
    const us = Math.round((f.time ?? 1700000000 + i) * 1e6);
    b.setUint32(0, 6, true);
    b.setUint32(4, len, true);
    b.setUint32(8, f.iface ?? 0, true);
    b.setUint32(12, Math.floor(us / 2 ** 32), true);
    b.setUint32(16, us % 2 ** 32, true);
    b.setUint32(20, f.data.length, true);
    b.setUint32(24, f.orig ?? f.data.length, true);
    new Uint8Array(b.buffer).set(f.data, 28);
    b.setUint32(len - 4, len, true);
    parts.push(new Uint8Array(b.buffer));
  });
  return concat(...parts);
}

export function only(findings: Finding[], check: string): Finding[] {
  return findings.filter((f) => f.check === check);
}
