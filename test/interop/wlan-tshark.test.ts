/**
 * 802.11 captures are read, translated and checked as their Ethernet
 * originals are. Corpus Ethernet captures are turned into radiotap + 802.11
 * + LLC/SNAP captures (test/helpers/wlan-build.ts; each frame in another
 * form: plain and QoS data, HT control, four addresses, data padding, TSFT
 * and extended present bitmaps, an FCS), and then:
 *
 * - tshark decodes them as IP with the same checksum verdicts, frame by
 *   frame, as the Ethernet original, and every FCS checks;
 * - `verify` finds on them exactly what it finds on the original (same
 *   checks, same frames, same values);
 * - a rewrite with rules gives, in tshark, the addresses and checksum
 *   verdicts of the rewritten Ethernet original, with every FCS still
 *   right; verify with the rules finds no guest-side address left; and
 *   rewriting back restores every byte.
 *
 * And `editcap -T ieee-802-11-radiotap` of an Ethernet capture (Ethernet
 * bytes read as radiotap: garbage) does not crash, and never passes as
 * checked: the packets are undecodable or not checked.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyFile } from '../../src/api.js';
import type { Finding } from '../../src/report/model.js';
import { readPackets } from '../helpers/capture.js';
import { cli, tempDir } from '../helpers/cli.js';
import { corpusPath } from '../helpers/corpus.js';
import { rulesForCapture } from '../helpers/survey.js';
import { needs } from '../helpers/tools.js';
import { tsharkChecksums, tsharkFields } from '../helpers/tshark.js';
import { writePcap, type PcapFrame } from '../helpers/wire-build.js';
import { LINKTYPE_RADIOTAP, rotatingOptions, wlanFromEthernet } from '../helpers/wlan-build.js';

const SOURCES = ['dpkt/nb6-http.pcap', 'pcapplusplus/PcapExamples/IgmpPackets.pcap', 'tcpdump/pcap/icmp-cksum-oobr-3.pcapng', 'pcapplusplus/PcapExamples/GrePackets.cap'];
/** Those whose addresses the survey makes rules for (IgmpPackets has none). */
const REWRITTEN = SOURCES.filter((s) => !s.includes('Igmp'));
const ADDRESSES = ['ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4'];

/** The corpus capture's frames as 802.11; a snaplen-cut frame keeps its cut (its FCS is then not captured). */
async function convert(src: string, dir: string): Promise<{ eth: string; wlan: string; rules: string[]; withFcs: number }> {
  const pkts = await readPackets(corpusPath(src));
  const frames: PcapFrame[] = pkts.map((p, i) => {
    const o = rotatingOptions(i);
    const cut = p.originalLength - p.data.length;
    const w = wlanFromEthernet(p.data, o);
    if (cut === 0) return { data: w, time: 1700000000 + i };
    const captured = o.fcs ? w.subarray(0, w.length - 4) : w;
    return { data: captured, orig: w.length + cut, time: 1700000000 + i };
  });
  const eth = join(dir, 'eth.pcap');
  const wlan = join(dir, 'wlan.pcap');
  writePcap(eth, 1, pkts.map((p, i) => ({ data: p.data, orig: p.originalLength, time: 1700000000 + i })));
  writePcap(wlan, LINKTYPE_RADIOTAP, frames);
  const withFcs = pkts.filter((p, i) => rotatingOptions(i).fcs === true && p.originalLength === p.data.length).length;
  return { eth, wlan, rules: rulesForCapture(pkts), withFcs };
}

/** What a finding says, without its wording (which names no link). */
function facts(fs: readonly Finding[]): string[] {
  return fs.map((f) => `${f.frame} ${f.check} ${f.expected ?? ''} ${f.actual ?? ''}`);
}

const FCS_FIELDS = ['frame.number', 'wlan.fcs.status'];
const CHECK_FCS = ['-o', 'wlan.check_checksum:TRUE'];

describe('802.11 radiotap captures made from Ethernet ones', () => {
  it.for(SOURCES)('%s: tshark reads IP with the same verdicts; verify finds the same', async (src, ctx) => {
    needs(ctx, 'tshark');
    const dir = tempDir();
    const { eth, wlan, withFcs } = await convert(src, dir);
    const [a, b] = await Promise.all([tsharkChecksums(eth), tsharkChecksums(wlan)]);
    expect(b).toEqual(a);
    expect(tsharkFields(wlan, ADDRESSES)).toEqual(tsharkFields(eth, ADDRESSES));
    const fcs = tsharkFields(wlan, FCS_FIELDS, CHECK_FCS).filter((l) => !l.endsWith('\t'));
    expect(fcs.length).toBe(withFcs);
    expect(fcs.filter((l) => !l.endsWith('\t1'))).toEqual([]);
    const [re, rw] = await Promise.all([verifyFile(eth), verifyFile(wlan)]);
    expect(facts(rw.findings)).toEqual(facts(re.findings));
    expect(rw.summary.checksums).toEqual(re.summary.checksums);
    expect(rw.summary.unchecked).toBe(re.summary.unchecked);
  });

  it.for(REWRITTEN)('%s: a rewrite translates as on Ethernet, keeps every FCS right, and goes back', async (src, ctx) => {
    needs(ctx, 'tshark');
    const dir = tempDir();
    const { eth, wlan, rules } = await convert(src, dir);
    expect(rules.length).toBeGreaterThan(0);
    const args = rules.flatMap((r) => ['-r', r]);
    const ethOut = join(dir, 'eth-out.pcap');
    const wlanOut = join(dir, 'wlan-out.pcap');
    const back = join(dir, 'back.pcap');
    expect(cli([eth, ethOut, ...args, '-q']).code).toBe(0);
    expect(cli([wlan, wlanOut, ...args, '-q']).code).toBe(0);
    expect(tsharkFields(wlanOut, ADDRESSES)).toEqual(tsharkFields(ethOut, ADDRESSES));
    expect(tsharkFields(wlanOut, ADDRESSES)).not.toEqual(tsharkFields(wlan, ADDRESSES));
    const [before, after] = await Promise.all([tsharkChecksums(wlan), tsharkChecksums(wlanOut)]);
    expect(after).toEqual(before);
    expect(tsharkFields(wlanOut, FCS_FIELDS, CHECK_FCS).filter((l) => !l.endsWith('\t') && !l.endsWith('\t1'))).toEqual([]);
    const leaks = (await verifyFile(wlanOut, { rules })).findings.filter((f) => f.check === 'addr.untranslated');
    expect(leaks).toEqual((await verifyFile(ethOut, { rules })).findings.filter((f) => f.check === 'addr.untranslated'));
    expect(cli([wlanOut, back, ...args, '-d', 'host-to-guest', '-q']).code).toBe(0);
    expect(Buffer.compare(readFileSync(back), readFileSync(wlan))).toBe(0);
  });

  it('a wrong FCS stays exactly as wrong after a rewrite', async (ctx) => {
    needs(ctx, 'tshark');
    const dir = tempDir();
    const pkts = await readPackets(corpusPath(SOURCES[0]!));
    const frames = pkts.filter((p) => p.data.length === p.originalLength).map((p, i) => wlanFromEthernet(p.data, { fcs: true, badFcs: i % 2 === 0 }));
    const input = join(dir, 'in.pcap');
    const out = join(dir, 'out.pcap');
    writePcap(input, LINKTYPE_RADIOTAP, frames);
    const rules = rulesForCapture(pkts);
    expect(cli([input, out, ...rules.flatMap((r) => ['-r', r]), '-q']).code).toBe(0);
    const status = (f: string) => tsharkFields(f, FCS_FIELDS, CHECK_FCS);
    expect(status(out)).toEqual(status(input));
    expect(status(input).filter((l) => l.endsWith('\t0')).length).toBe(Math.ceil(frames.length / 2));
  });
});

describe('editcap -T ieee-802-11-radiotap of an Ethernet capture', () => {
  it.for(SOURCES)('%s: no crash, nothing passes as checked', async (src, ctx) => {
    needs(ctx, 'editcap');
    const dir = tempDir();
    const out = join(dir, 'garbage.pcap');
    execFileSync('editcap', ['-F', 'pcap', '-T', 'ieee-802-11-radiotap', corpusPath(src), out]);
    const r = cli(['verify', out, '--report', 'json']);
    expect(r.stderr).toBe('');
    expect([0, 1]).toContain(r.code);
    const report = JSON.parse(r.stdout.toString()) as { summary: { packets: number; undecodable: number; unchecked: number }; verdict: { result: string }; findings: Finding[] };
    const s = report.summary;
    expect(s.packets).toBeGreaterThan(0);
    // Every packet is undecodable or not checked (Ethernet bytes never make an 802.11 data frame with LLC/SNAP here).
    expect(s.undecodable + s.unchecked).toBe(s.packets);
    expect(report.verdict.result).toBe('unchecked');
    if (s.undecodable > 0) expect(report.findings.some((f) => f.check === 'packet.undecodable')).toBe(true);
    // And a rewrite passes every byte through.
    const rewritten = join(dir, 'out.pcap');
    expect(cli([out, rewritten, '-r', '10.0.0.0/8=11.0.0.0/8', '-q']).code).toBe(0);
    expect(Buffer.compare(readFileSync(rewritten), readFileSync(out))).toBe(0);
  });
});
