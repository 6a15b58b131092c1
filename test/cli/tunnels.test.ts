/**
 * The CLI's tunnel options and what a bad tunnel header gets, end to end:
 * --tunnels off keeps every tunnel opaque, --vxlan-port adds a port (a bad
 * one is exit 2 with one line), a VXLAN header the datagram cuts short
 * leaves its packet as it was, counted with one finding that says what and
 * at which byte, and the rewrite goes on.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as B from '../helpers/wire-build.js';
import { cli, tempDir } from '../helpers/cli.js';

const { hex, ip4, concat, be32 } = B;
const RULE = ['-r', '10.0.0.0/24=192.168.11.0/24'];
const inner = () => B.ether(0x0800, B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, B.udp(33000, 53, hex('1234010000010000000000000000010001'))));
const overUdp = (dport: number, payload: Uint8Array) => B.ether(0x0800, B.ipv4L4(ip4('172.16.0.1'), ip4('172.16.0.2'), 17, B.udp(49152, dport, payload)));
const vxlan = (vni: number) => concat(hex('08000000'), be32(vni << 8));

function capture(frames: Uint8Array[]): string {
  const p = join(tempDir(), 'in.pcap');
  writeFileSync(p, B.pcapBytes(1, frames));
  return p;
}

describe('tunnels on the command line', () => {
  it('--tunnels off: the packet inside VXLAN is left as it is; on (the default) it is translated', () => {
    const input = capture([overUdp(4789, concat(vxlan(42), inner()))]);
    const out = join(tempDir(), 'out.pcap');
    const off = cli([input, out, ...RULE, '--tunnels', 'off']);
    expect(off.code).toBe(0);
    expect(readFileSync(out).equals(readFileSync(input))).toBe(true);
    const on = cli([input, out, ...RULE, '--force']);
    expect([on.code, on.stderr]).toEqual([0, expect.stringContaining('1 packets, 1 rewritten (tunnel.inner 1)')]);
  });

  it('--vxlan-port 8472 decodes Linux\'s port as VXLAN; a port that is not one is exit 2 with one line', () => {
    const input = capture([overUdp(8472, concat(vxlan(42), inner()))]);
    const out = join(tempDir(), 'out.pcap');
    expect(cli([input, out, ...RULE]).stderr).toContain('1 packets, 0 rewritten');
    expect(cli([input, out, ...RULE, '--vxlan-port', '8472', '--force']).stderr).toContain('1 packets, 1 rewritten (tunnel.inner 1)');
    const bad = cli([input, out, ...RULE, '--vxlan-port', '70000', '--force']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("ssnat-rewrite: option '--vxlan-port <port>' argument '70000' is invalid. expected a UDP port (1-65535), e.g. 8472 (Linux's VXLAN default)\n(run 'ssnat-rewrite --help' for usage and examples)\n");
  });

  it('--max-tunnel-depth 1: VXLAN inside VXLAN passes unchanged as packet.undecodable, one VXLAN is translated; 0 is exit 2', () => {
    const nested = overUdp(4789, concat(vxlan(1), overUdp(4789, concat(vxlan(2), inner()))));
    const input = capture([nested, overUdp(4789, concat(vxlan(3), inner()))]);
    const out = join(tempDir(), 'out.pcap');
    const r = cli([input, out, ...RULE, '--max-tunnel-depth', '1', '--verify', '--report', 'json']);
    const report = JSON.parse(r.stdout.toString());
    expect(report.findings.map((f: { frame: number; check: string; message: string }) => [f.frame, f.check, f.message])).toEqual([
      [1, 'packet.undecodable', 'tunnel: nested deeper than the limit (--max-tunnel-depth, 8 unless given) (at byte 92 of the frame)'],
    ]);
    expect([report.summary.rewritten, report.summary.undecodable]).toEqual([1, 1]);
    expect(cli([input, out, ...RULE, '--force']).stderr).toContain('2 packets, 2 rewritten (tunnel.inner 2)');
    const bad = cli([input, out, ...RULE, '--max-tunnel-depth', '0', '--force']);
    expect([bad.code, bad.stderr.split('\n')[0]]).toEqual([2, "ssnat-rewrite: option '--max-tunnel-depth <n>' argument '0' is invalid. expected a number of tunnels from 1 to 64 (default 8)"]);
  });

  it('a VXLAN header the datagram cuts short: that packet passes unchanged, counted, one finding with where; the next is translated', () => {
    const cut = overUdp(4789, hex('08000000'));
    const input = capture([cut, overUdp(4789, concat(vxlan(42), inner()))]);
    const out = join(tempDir(), 'out.pcap');
    const r = cli([input, out, ...RULE, '--verify', '--report', 'json']);
    const report = JSON.parse(r.stdout.toString());
    expect(report.findings.map((f: { frame: number; check: string; message: string }) => [f.frame, f.check, f.message])).toEqual([[1, 'packet.undecodable', 'vxlan: header runs past the datagram (at byte 42 of the frame)']]);
    expect([report.summary.packets, report.summary.rewritten, report.summary.undecodable]).toEqual([2, 1, 1]);
    expect(readFileSync(out).subarray(24 + 16, 24 + 16 + cut.length).equals(Buffer.from(cut))).toBe(true);
  });
});

describe('the rewrite loop\'s direct path for VXLAN', () => {
  it('writes the bytes the general translator writes: inner UDP, TCP and ARP, outer checksum on and 0, outer addresses of the rule, VNIs with scoped rules, nested VXLAN, cut frames', () => {
    const arp = B.ether(0x0806, concat(hex('0001080006040001'), hex('525400123456'), be32(ip4('10.0.0.2')), hex('000000000000'), be32(ip4('10.0.0.1'))));
    const tcpIn = B.ether(0x0800, B.ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.9'), 6, B.tcp(1234, 80, hex('474554'))));
    const other = B.ether(0x0800, B.ipv4L4(ip4('172.20.0.2'), ip4('172.20.0.9'), 17, B.udp(1, 2, hex('00'))));
    const frames: Uint8Array[] = [];
    for (const [i, payload] of [inner(), tcpIn, arp, other].entries()) {
      for (const vni of [42, 5001]) {
        frames.push(overUdp(4789, concat(vxlan(vni), payload)));
        frames.push(B.ether(0x0800, B.ipv4L4(ip4('172.16.0.1'), ip4('172.16.0.2'), 17, B.udp(49152 + i, 4789, concat(vxlan(vni), payload)), {}, true)));
        frames.push(B.ether(0x0800, B.ipv4L4(ip4('10.0.0.7'), ip4('172.16.0.2'), 17, B.udp(49152, 4789, concat(vxlan(vni), payload)))));
        frames.push(overUdp(4789, concat(vxlan(vni), overUdp(4789, concat(vxlan(7), payload)))));
      }
    }
    const input = capture(frames);
    const out = (name: string) => join(tempDir(), name);
    const rules = ['-r', '10.0.0.0/24=192.168.11.0/24', '-r', '10.0.0.0/24=192.168.51.0/24@vni:5001', '--jobs', '1'];
    const plain = out('plain.pcap');
    const full = out('full.pcap');
    expect(cli([input, plain, ...rules]).code).toBe(0);
    expect(cli([input, full, ...rules, '--verify']).code).toBe(0);
    expect(readFileSync(plain).equals(readFileSync(full))).toBe(true);
    expect(readFileSync(plain).equals(readFileSync(input))).toBe(false);
  });
});

describe('a tunnel payload the decoder does not read', () => {
  it('VXLAN-GPE carrying NSH: passes untouched (the outer packet is still translated), and counts among the packets not checked', () => {
    const nsh = concat(hex('0c000404'), be32(42 << 8), hex('0006010300000100'), inner());
    const frame = B.ether(0x0800, B.ipv4L4(ip4('10.0.0.7'), ip4('172.16.0.2'), 17, B.udp(49152, 4790, nsh)));
    const input = capture([frame, overUdp(4789, concat(vxlan(42), inner()))]);
    const out = join(tempDir(), 'out.pcap');
    const r = cli([input, out, ...RULE, '--verify', '--report', 'json']);
    const report = JSON.parse(r.stdout.toString());
    expect([r.code, report.summary.packets, report.summary.unchecked, report.summary.rewritten, report.findings]).toEqual([0, 2, 1, 2, []]);
    const bytes = readFileSync(out).subarray(24 + 16, 24 + 16 + frame.length);
    // The outer source changed (10.0.0.7 -> 192.168.11.7); the NSH payload and the frame after it did not.
    expect(Buffer.from(bytes.subarray(26, 30)).toString('hex')).toBe('c0a80b07');
    expect(Buffer.from(bytes.subarray(50)).equals(Buffer.from(frame.subarray(50)))).toBe(true);
  });
});

describe('transmit offload inside a tunnel', () => {
  it("tcpdump's gso-ipv4-geneve-ipv4.pcap: the inner TCP offload seed stays a seed of the new addresses (a warning, not an error), and the reverse gives the capture back", async () => {
    const { corpusPath } = await import('../helpers/corpus.js');
    const input = corpusPath('tcpdump/pcap/gso-ipv4-geneve-ipv4.pcap');
    const out = join(tempDir(), 'out.pcap');
    const back = join(tempDir(), 'back.pcap');
    const rule = ['-r', '192.168.1.0/24=10.9.9.0/24'];
    expect(cli([input, out, ...rule]).code).toBe(0);
    const v = cli(['verify', out, '--report', 'json']);
    const report = JSON.parse(v.stdout.toString());
    expect([v.code, report.findings.map((f: { check: string; message: string }) => [f.check, f.message])]).toEqual([
      0,
      [['tcp.checksum-offloaded', 'TCP checksum 0x4189 is the pseudo-header partial sum left by transmit checksum offload (captured on the sending host?), expected 0xfb06 (inside Geneve VNI 5001)']],
    ]);
    expect(cli([out, back, ...rule, '-d', 'host-to-guest']).code).toBe(0);
    expect(readFileSync(back).equals(readFileSync(input))).toBe(true);
  });
});
