/**
 * The PDML helper the tunnel interop tests judge with: per frame, per protocol, tshark's checksum verdicts by
 * occurrence (outer, each tunnel depth, inside an ICMP quote) and the addresses at every depth, in order.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { addressFields, checksumVerdicts, parsePdml, tsharkLayers, tsharkVerdictsByOccurrence } from '../helpers/tshark.js';

const TUNNELS = join(ROOT, 'fixtures/tunnels');

// Shaped as tshark 4.0 writes it (attributes trimmed): a quote's layers nest in the ICMP layer.
const PDML = `<?xml version="1.0" encoding="utf-8"?>
<pdml version="0" creator="wireshark/4.0.17">
<packet>
  <proto name="geninfo" pos="0" showname="General information" size="74">
    <field name="num" pos="0" show="1" showname="Number" value="1" size="74"/>
  </proto>
  <proto name="frame" showname="Frame 1" size="74" pos="0">
    <field name="frame.len" show="90" size="0" pos="0"/>
    <field name="frame.cap_len" show="74" size="0" pos="0"/>
    <field name="frame.number" show="1" size="0" pos="0"/>
  </proto>
  <proto name="eth" size="14" pos="0"/>
  <proto name="ip" size="20" pos="14">
    <field name="ip.flags" show="0x00" size="1" pos="20">
      <field name="ip.flags.df" show="0" size="1" pos="20"/>
    </field>
    <field name="ip.checksum.status" show="1" size="0" pos="24"/>
    <field name="ip.src" show="10.0.0.1" size="4" pos="26"/>
    <field name="ip.dst" show="10.0.0.2" size="4" pos="30"/>
  </proto>
  <proto name="icmp" size="40" pos="34">
    <field name="icmp.checksum.status" show="1" size="0" pos="36"/>
    <proto name="ip" size="20" pos="42">
      <field name="ip.checksum.status" show="0" size="0" pos="52"/>
      <field name="ip.src" show="10.0.0.2" size="4" pos="54"/>
      <field name="ip.dst" show="10.0.0.1" size="4" pos="58"/>
    </proto>
    <proto name="udp" size="8" pos="62">
      <field name="udp.checksum.status" show="2" size="0" pos="68"/>
    </proto>
  </proto>
  <proto name="dns" size="4" pos="70">
    <field name="dns.qry.name" show="&lt;a &amp; &quot;b&quot;&#x3e;" size="4" pos="70"/>
  </proto>
</packet>
<packet>
  <proto name="frame" size="60" pos="0">
    <field name="frame.len" show="60" size="0" pos="0"/>
    <field name="frame.cap_len" show="60" size="0" pos="0"/>
    <field name="frame.number" show="2" size="0" pos="0"/>
  </proto>
  <proto name="ipv6" size="40" pos="14">
    <field name="ipv6.src" show="fd00::2" size="16" pos="22"/>
  </proto>
  <proto name="gre" size="8" pos="54"/>
</packet>
</pdml>
`;

describe('parsePdml', () => {
  const frames = parsePdml(PDML);

  it('reads frames with their numbers and lengths, layers in order, a quote nested in its ICMP layer', () => {
    expect(frames.map((f) => [f.number, f.len, f.caplen])).toEqual([
      [1, 90, 74],
      [2, 60, 60],
    ]);
    expect(frames[0]!.layers.map((l) => (l.quoted ? 'q:' : '') + l.proto)).toEqual(['geninfo', 'frame', 'eth', 'ip', 'icmp', 'q:ip', 'q:udp', 'dns']);
    expect(frames[1]!.layers.map((l) => l.proto)).toEqual(['frame', 'ipv6', 'gre']);
  });

  it("keeps a layer's nested fields, not those of the layers nested in it, and decodes XML escapes", () => {
    const [ip, icmp, , , dns] = frames[0]!.layers.slice(3);
    expect(ip!.fields).toEqual([
      ['ip.flags', '0x00'],
      ['ip.flags.df', '0'],
      ['ip.checksum.status', '1'],
      ['ip.src', '10.0.0.1'],
      ['ip.dst', '10.0.0.2'],
    ]);
    expect(icmp!.fields).toEqual([['icmp.checksum.status', '1']]);
    expect(dns!.fields).toEqual([['dns.qry.name', '<a & "b">']]);
  });

  it('gives checksum verdicts by occurrence, the quoted ones marked, a missing status as -', () => {
    expect(checksumVerdicts(frames[0]!)).toEqual({ ip: ['1', 'q0'], icmp: ['1'], udp: ['q2'] });
    expect(checksumVerdicts(frames[1]!)).toEqual({ gre: ['-'] });
  });

  it('lists the address fields in layer order, the quoted ones marked', () => {
    expect(addressFields(frames[0]!)).toEqual(['ip.src=10.0.0.1', 'ip.dst=10.0.0.2', 'q:ip.src=10.0.0.2', 'q:ip.dst=10.0.0.1']);
    expect(addressFields(frames[1]!)).toEqual(['ipv6.src=fd00::2']);
  });
});

describe('tsharkLayers on the tunnel fixtures', () => {
  it('tells the outer, inner and quoted occurrences of a VXLAN frame carrying an ICMP error apart', async (ctx) => {
    needs(ctx, 'tshark');
    const frame = (await tsharkLayers(join(TUNNELS, 'vxlan.pcap')))[6]!;
    expect(frame.number).toBe(7);
    expect(checksumVerdicts(frame)).toEqual({ ip: ['1', '1', 'q1'], udp: ['1', 'q1'], icmp: ['1'] });
    expect(addressFields(frame).filter((a) => /^(q:)?ip\.(src|dst)=/.test(a))).toEqual([
      'ip.src=198.51.100.1',
      'ip.dst=198.51.100.2',
      'ip.src=10.0.0.1',
      'ip.dst=10.0.0.2',
      'q:ip.src=10.0.0.2',
      'q:ip.dst=10.0.0.1',
    ]);
  });

  it('reports the GRE checksum, the illegal zero UDP checksum over IPv6, a bad inner TCP checksum and a cut frame', async (ctx) => {
    needs(ctx, 'tshark');
    const [gre, zero, badTcp, erspan] = await Promise.all([
      tsharkVerdictsByOccurrence(join(TUNNELS, 'gre.pcap')),
      tsharkVerdictsByOccurrence(join(TUNNELS, 'zero-csum.pcap')),
      tsharkVerdictsByOccurrence(join(TUNNELS, 'bad-inner-tcp.pcap')),
      tsharkLayers(join(TUNNELS, 'erspan.pcap')),
    ]);
    // gre.pcap frame 11: IPv4 over GRE with the C bit, over IPv4; frame 1: no C bit, no status.
    expect(gre[10]).toEqual({ ip: ['1', '1'], gre: ['1'], udp: ['1'] });
    expect(gre[0]).toEqual({ ip: ['1', '1'], gre: ['-'], udp: ['1'] });
    // zero-csum.pcap frame 1: VXLAN over IPv4 with UDP checksum 0 (not present); frame 2: over IPv6 (illegal).
    expect(zero[0]).toEqual({ ip: ['1'], udp: ['3'] });
    expect(zero[1]).toEqual({ udp: ['4'] });
    // bad-inner-tcp.pcap: the TCP inside VXLAN, then inside Geneve, is bad; its copies are good.
    expect(badTcp.map((v) => v.tcp)).toEqual([['0'], ['1'], ['0'], ['1']]);
    expect(badTcp[2]).toEqual({ udp: ['1'], ip: ['1'], tcp: ['0'] });
    // erspan.pcap frame 5: a mirrored TCP segment cut 12 bytes into its header.
    expect([erspan[4]!.len, erspan[4]!.caplen]).toEqual([133, 96]);
    expect(checksumVerdicts(erspan[4]!)).toEqual({ ip: ['1', '1'], gre: ['-'], tcp: ['-'] });
  });
});
