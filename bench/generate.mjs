#!/usr/bin/env node
/**
 * Deterministic generator of a realistic benchmark capture: Ethernet/IPv4
 * DNS-like UDP, TCP ACKs and data, some ARP, ~5% of packets outside the
 * benchmark rule's range (10.0.0.0/24). Every checksum is correct.
 *
 *   node bench/generate.mjs OUT [--packets N] [--format pcap|pcapng] [--bytes N] [--seed N]
 *
 * --bytes keeps writing (repeating the packet sequence) until the file has
 * at least N bytes: the 2 GB memory check uses it. --seed varies the
 * packets (the suite of CI-size captures gives each file its own).
 * --vxlan wraps every frame in VXLAN (VNI 42) over IPv4/UDP between two
 * VTEPs outside the rule's range, with an outer UDP checksum: the tunnel
 * benchmark's capture (issue 23).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const args = process.argv.slice(2);
const out = args[0];
if (!out) {
  console.error('usage: generate.mjs OUT [--packets N] [--format pcap|pcapng] [--bytes N] [--seed N]');
  process.exit(2);
}
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const packets = Number(opt('--packets', '1000000'));
const format = opt('--format', 'pcap');
const minBytes = Number(opt('--bytes', '0'));
const vxlan = args.includes('--vxlan');
const VTEP_MAC = [0x02, 0, 0, 0, 0, 0x01];
const VTEP_PEER_MAC = [0x02, 0, 0, 0, 0, 0x02];
/** Outer Ethernet + IPv4 + UDP + VXLAN header bytes. */
const VXLAN_OVERHEAD = 14 + 20 + 8 + 8;

/** Wraps the frame at buf[VXLAN_OVERHEAD..+len) in VXLAN VNI 42 from 172.31.0.1 to 172.31.0.2; returns the new length. */
function wrap(buf, len) {
  const udpLen = 8 + 8 + len;
  const total = 20 + udpLen;
  buf.set(VTEP_PEER_MAC, 0); buf.set(VTEP_MAC, 6); buf[12] = 0x08; buf[13] = 0x00;
  buf.set([0x45, 0, total >> 8, total & 0xff, 0, 0, 0x40, 0, 64, 17, 0, 0, 172, 31, 0, 1, 172, 31, 0, 2], 14);
  const ipck = ~sum16(buf, 14, 20) & 0xffff;
  buf[24] = ipck >> 8; buf[25] = ipck & 0xff;
  const sport = 49152 + randInt(16384);
  buf.set([sport >> 8, sport & 0xff, 0x12, 0xb5, udpLen >> 8, udpLen & 0xff, 0, 0, 0x08, 0, 0, 0, 0, 0, 42, 0], 34);
  let ck = ~sum16(buf, 34, udpLen, sum16(buf, 26, 8) + 17 + udpLen) & 0xffff;
  if (ck === 0) ck = 0xffff;
  buf[40] = ck >> 8; buf[41] = ck & 0xff;
  return VXLAN_OVERHEAD + len;
}

// mulberry32: a small seeded PRNG, so every run writes the same file.
let seed = (0x5eed1234 + Number(opt('--seed', '0'))) | 0;
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (n) => Math.floor(rand() * n);

function sum16(buf, off, len, seed0 = 0) {
  let s = seed0;
  for (let i = 0; i + 1 < len; i += 2) s += (buf[off + i] << 8) | buf[off + i + 1];
  if (len & 1) s += buf[off + len - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

// www.example.test, type A, class IN
const DNS_QUESTION = [3, 119, 119, 119, 7, 101, 120, 97, 109, 112, 108, 101, 4, 116, 101, 115, 116, 0, 0, 1, 0, 1];
const GUEST_MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const GW_MAC = [0x52, 0x54, 0x00, 0xab, 0xcd, 0xef];

/** Builds one Ethernet frame into buf at 0; returns its length. */
function frame(buf, kind, inRange) {
  const a = inRange ? [10, 0, 0, 2 + randInt(200)] : [172, 16, randInt(256), 1 + randInt(254)];
  const b = inRange ? [10, 0, 0, 1] : [172, 16, 0, 1];
  const toGuest = rand() < 0.5;
  const [src, dst] = toGuest ? [b, a] : [a, b];
  buf.set(toGuest ? GUEST_MAC : GW_MAC, 0);
  buf.set(toGuest ? GW_MAC : GUEST_MAC, 6);
  if (kind === 'arp') {
    buf[12] = 0x08; buf[13] = 0x06;
    buf.set([0, 1, 8, 0, 6, 4, 0, toGuest ? 2 : 1], 14);
    buf.set(GUEST_MAC, 22); buf.set(a, 28);
    buf.set(toGuest ? GUEST_MAC : [0, 0, 0, 0, 0, 0], 32); buf.set(b, 38);
    buf.fill(0, 42, 60); // Ethernet padding
    return 60;
  }
  buf[12] = 0x08; buf[13] = 0x00;
  const ip = 14;
  let l4len;
  let proto;
  let answers = 0;
  if (kind === 'dns') {
    proto = 17;
    answers = toGuest ? 1 + randInt(6) : 0;
    l4len = 8 + DNS_QUESTION.length + 12 + 16 * answers;
  } else if (kind === 'ack') {
    proto = 6;
    l4len = 20;
  } else {
    proto = 6;
    l4len = 20 + 60 + randInt(300);
  }
  const total = 20 + l4len;
  buf.set([0x45, 0, total >> 8, total & 0xff, randInt(256), randInt(256), 0x40, 0, 64, proto, 0, 0], ip);
  buf.set(src, ip + 12); buf.set(dst, ip + 16);
  const ipck = ~sum16(buf, ip, 20) & 0xffff;
  buf[ip + 10] = ipck >> 8; buf[ip + 11] = ipck & 0xff;
  const l4 = ip + 20;
  for (let i = l4; i < l4 + l4len; i++) buf[i] = randInt(256);
  if (proto === 17) {
    // A real DNS message: header, one question, `answers` A records (name pointers).
    const d = l4 + 8;
    buf.set([randInt(256), randInt(256), toGuest ? 0x81 : 0x01, toGuest ? 0x80 : 0x00, 0, 1, 0, answers, 0, 0, 0, 0], d);
    buf.set(DNS_QUESTION, d + 12);
    for (let i = 0, p = d + 12 + DNS_QUESTION.length; i < answers; i++, p += 16) {
      buf.set([0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1 + randInt(254)], p);
    }
    const sport = toGuest ? 53 : 2345, dport = toGuest ? 2345 : 53;
    buf.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, l4len >> 8, l4len & 0xff, 0, 0], l4);
  } else {
    const sport = toGuest ? 443 : 40000 + randInt(1000), dport = toGuest ? 40000 + randInt(1000) : 443;
    buf.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff], l4);
    buf[l4 + 12] = 0x50; buf[l4 + 13] = kind === 'ack' ? 0x10 : 0x18;
    buf[l4 + 16] = 0; buf[l4 + 17] = 0;
  }
  const ckOff = proto === 17 ? l4 + 6 : l4 + 16;
  buf[ckOff] = 0; buf[ckOff + 1] = 0;
  let ps = sum16(buf, ip + 12, 8);
  ps += proto + l4len;
  let ck = ~sum16(buf, l4, l4len, ps) & 0xffff;
  if (proto === 17 && ck === 0) ck = 0xffff;
  buf[ckOff] = ck >> 8; buf[ckOff + 1] = ck & 0xff;
  return 14 + total;
}

const fd = openSync(out, 'w');
const chunk = Buffer.alloc(4 << 20);
let pos = 0;
let written = 0;
const flush = () => { writeSync(fd, chunk, 0, pos); written += pos; pos = 0; };
const ensure = (n) => { if (pos + n > chunk.length) flush(); };

if (format === 'pcap') {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0); h.writeUInt16LE(2, 4); h.writeUInt16LE(4, 6); h.writeUInt32LE(65535, 16); h.writeUInt32LE(1, 20);
  h.copy(chunk, pos); pos += 24;
} else {
  const shb = Buffer.alloc(28);
  shb.writeUInt32LE(0x0a0d0d0a, 0); shb.writeUInt32LE(28, 4); shb.writeUInt32LE(0x1a2b3c4d, 8); shb.writeUInt16LE(1, 12);
  shb.writeBigInt64LE(-1n, 16); shb.writeUInt32LE(28, 24);
  const name = Buffer.from('tap0');
  const idb = Buffer.alloc(20 + 8 + 4);
  idb.writeUInt32LE(1, 0); idb.writeUInt32LE(idb.length, 4); idb.writeUInt16LE(1, 8); idb.writeUInt32LE(65535, 12);
  idb.writeUInt16LE(2, 16); idb.writeUInt16LE(name.length, 18); name.copy(idb, 20); idb.writeUInt32LE(idb.length, idb.length - 4);
  shb.copy(chunk, pos); pos += 28; idb.copy(chunk, pos); pos += idb.length;
}

const pkt = Buffer.alloc(2048);
let ts = 1_700_000_000_000_000; // microseconds
let n = 0;
for (;;) {
  for (let i = 0; i < packets; i++, n++) {
    const r = rand();
    const kind = r < 0.03 ? 'arp' : r < 0.45 ? 'dns' : r < 0.75 ? 'ack' : 'data';
    const len = vxlan ? wrap(pkt, frame(pkt.subarray(VXLAN_OVERHEAD), kind, rand() >= 0.05)) : frame(pkt, kind, rand() >= 0.05);
    ts += 1 + randInt(200);
    if (format === 'pcap') {
      ensure(16 + len);
      chunk.writeUInt32LE(Math.floor(ts / 1e6), pos); chunk.writeUInt32LE(ts % 1e6, pos + 4);
      chunk.writeUInt32LE(len, pos + 8); chunk.writeUInt32LE(len, pos + 12);
      pkt.copy(chunk, pos + 16, 0, len); pos += 16 + len;
    } else {
      const padded = (len + 3) & ~3, total = 32 + padded;
      ensure(total);
      chunk.writeUInt32LE(6, pos); chunk.writeUInt32LE(total, pos + 4); chunk.writeUInt32LE(0, pos + 8);
      chunk.writeUInt32LE(Math.floor(ts / 2 ** 32), pos + 12); chunk.writeUInt32LE(ts % 2 ** 32, pos + 16);
      chunk.writeUInt32LE(len, pos + 20); chunk.writeUInt32LE(len, pos + 24);
      pkt.copy(chunk, pos + 28, 0, len); chunk.fill(0, pos + 28 + len, pos + 28 + padded);
      chunk.writeUInt32LE(total, pos + total - 4); pos += total;
    }
  }
  if (written + pos >= minBytes) break;
}
flush();
closeSync(fd);
console.error(`wrote ${out}: ${n} packets, ${(written / 1e6).toFixed(1)} MB (${format})`);
