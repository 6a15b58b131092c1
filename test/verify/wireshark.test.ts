/**
 * Wireshark agreement: on every corpus capture whose MANIFEST notes mention
 * bad checksums, UDP zero checksums, ICMP errors, IPv4 fragments or offload,
 * the frames and protocols we call bad are exactly those tshark calls bad
 * (`*.checksum.status` 0; for UDP also 4, "illegal" zero over IPv6), with
 * `-o ip/udp/tcp.check_checksum:TRUE` (ICMP and ICMPv6 are always checked).
 *
 * Without tshark the comparison is skipped, with the reason in the summary
 * (CI installs tshark and fails on such a skip). It runs once per file, a
 * few files at a time.
 *
 * Where we differ on purpose or for a known reason, KNOWN below names the
 * file, the frames and why; the offload cases (same verdict, lower severity)
 * are pinned per file in OFFLOADED and IP_OFFLOADED: mapped to tshark's bad
 * verdicts like the errors, never left out of the comparison.
 */
import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/pipeline.js';
import { CHECKS } from '../../src/report/families.js';
import { corpusPath, manifest } from '../helpers/corpus.js';
import { needs } from '../helpers/tools.js';
import { tsharkChecksums } from '../helpers/tshark.js';

const SELECT = /bad_ip_cksum|bad_tcp_cksum|bad_udp_cksum|bad_icmp_cksum|udp_zero_cksum|icmp_error|ipv4_fragment|offload/;
const PROTOS = ['ip', 'udp', 'tcp', 'icmp', 'icmpv6'] as const;
const CHECK_PROTO: Record<string, string> = {
  'ipv4.checksum': 'ip',
  'ipv4.checksum-offloaded': 'ip',
  'icmp.inner-ipv4.checksum': 'ip',
  'icmp.inner-udp.checksum': 'udp',
  'icmp.inner-tcp.checksum': 'tcp',
  'udp.checksum': 'udp',
  'udp.checksum-offloaded': 'udp',
  'udp.checksum-missing': 'udp',
  'udp.checksum-zero-tunnel': 'udp',
  'tcp.checksum': 'tcp',
  'tcp.checksum-offloaded': 'tcp',
  'icmp.checksum': 'icmp',
  'icmpv6.checksum': 'icmpv6',
};

/** Differences on purpose or for a known reason: "frame:protocol" entries only tshark, or only we, call bad. */
const KNOWN: Record<string, { tsharkOnly: string[]; oursOnly: string[]; why: string }> = {};

/**
 * Offload, on purpose: tshark calls these bad (status 0) and so do we, but as
 * `tcp|udp.checksum-offloaded` warnings: the checksum field holds the
 * pseudo-header partial sum that transmit checksum offload leaves, so the
 * capture was taken on the sending host before the NIC filled it in. The
 * number of such frames per file is pinned here.
 */
const OFFLOADED: Record<string, number> = {
  'gopacket/test_loopback.pcap': 24,
  'pcap-parser/err-buffertoosmall.pcapng': 13,
  'pcap-parser/wireshark_samples-test.pcapng': 42,
  'pcapplusplus/ExamplesTest/ip-frag.pcap': 395,
  'pcapplusplus/PacketExamples/NullLoopback.pcap': 1,
  'pcapplusplus/PacketExamples/Sll2Packet.pcap': 1,
  'pcapplusplus/PacketExamples/TcpPacketWithOptions.pcap': 1,
  'pcapplusplus/PcapExamples/IgmpPackets.pcap': 37,
  'pcapplusplus/PcapExamples/linktype_ipv4.pcap': 1,
  'pcapplusplus/PcapExamples/nanosecs_big_endian.pcap': 10,
  'pcapplusplus/PcapExamples/null_loopback.pcap': 1,
  'pcapplusplus/PcapExamples/one_tcp_rst.pcap': 1,
  'pcapplusplus/PcapExamples/pcapng-example.pcapng': 66,
  'pcapplusplus/PcapExamples/raw_ip.pcap': 45,
  'pcapplusplus/PcapExamples/sll.pcap': 174,
  'pcapplusplus/PcapExamples/too_many_interfaces.pcapng': 1,
  'tcpdump/pcap/RADIUS-RFC4675.pcap': 6,
  'tcpdump/pcap/accecn_handshake.pcap': 3,
  'tcpdump/pcap/dns-badcookie.pcap': 4,
  'tcpdump/pcap/dns-uri.pcap': 4,
  'tcpdump/pcap/dnssec.pcap': 6,
  'tcpdump/pcap/gso-ipv4-geneve-ipv4.pcap': 1, // inside Geneve: a GSO frame's inner TCP seed
  'tcpdump/pcap/ipv4_tcp_http_xml_tso.pcap': 1, // TSO: the pseudo-header sum without the length
  'tcpdump/pcap/ntp.pcap': 4,
  'tcpdump/pcap/of13_ericsson.pcapng': 172,
  'tcpdump/pcap/print-flags.pcap': 2,
  'tcpdump/pcap/quic_handshake_truncated.pcap': 14,
  'tcpdump/pcap/syslog_udp.pcap': 4,
  'tcpdump/pcap/whois.pcap': 6,
  'tcpdump/pcap/zmtp1.pcap': 16,
};

/**
 * IP checksum offload, on purpose too: an IPv4 header checksum of 0x0000
 * beside a TCP/UDP offload seed (or in a TSO frame) is bad to tshark and an
 * `ipv4.checksum-offloaded` warning here (a sender that offloads the IP
 * checksum too, as Windows does). Pinned per file, as above.
 */
const IP_OFFLOADED: Record<string, number> = {
  'pcap-parser/err-buffertoosmall.pcapng': 13,
  'pcapplusplus/PcapExamples/IgmpPackets.pcap': 15,
  'pcapplusplus/PcapExamples/linktype_ipv4.pcap': 1,
  'pcapplusplus/PcapExamples/raw_ip.pcap': 45,
  'tcpdump/pcap/dns-badcookie.pcap': 4,
  'tcpdump/pcap/ipv4_tcp_http_xml_tso.pcap': 1, // LSO: total length given, header 0x0000, TCP without the length
};

interface Verdicts {
  file: string;
  tshark: Set<string>;
  ours: Set<string>;
  offloaded: number;
  ipOffloaded: number;
}

async function verdicts(file: string): Promise<Verdicts> {
  const [lines, run] = await Promise.all([
    tsharkChecksums(corpusPath(file)),
    runPipeline({ command: 'verify', input: corpusPath(file), output: null, rules: [], direction: 'guest-to-host', format: 'same', annotate: false, force: false }),
  ]);
  const tshark = new Set<string>();
  for (const l of lines) {
    const cols = l.split('\t');
    PROTOS.forEach((p, i) => {
      const st = (cols[i + 1] ?? '').split(',');
      if (st.includes('0') || (p === 'udp' && st.includes('4'))) tshark.add(`${cols[0]}:${p}`);
    });
  }
  const ours = new Set<string>();
  let offloaded = 0;
  let ipOffloaded = 0;
  for (const f of run.report.findings) {
    const p = CHECK_PROTO[f.check];
    if (p === undefined) continue;
    ours.add(`${f.frame}:${p}`);
    if (f.check === 'ipv4.checksum-offloaded') ipOffloaded++;
    else if (f.check.endsWith('-offloaded')) offloaded++;
  }
  return { file, tshark, ours, offloaded, ipOffloaded };
}

async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

describe('checksum verdicts agree with Wireshark', () => {
  const files = manifest()
    .filter((e) => SELECT.test(e.notes))
    .map((e) => e.path);

  it('every checksum check is compared with tshark, offloaded ones too, or says why not', () => {
    const notCompared: Record<string, string> = {
      'dccp.checksum': 'no DCCP in the compared fields (ip, udp, tcp, icmp, icmpv6)',
      'gre.checksum': 'no GRE checksum in the corpus; compared per occurrence with tshark on built captures (test/interop/tunnels-tshark.test.ts)',
    };
    expect(CHECKS.filter((c) => c.includes('checksum') && CHECK_PROTO[c] === undefined && notCompared[c] === undefined)).toEqual([]);
  });

  it('selects the corpus captures the issue names', () => {
    expect(files.length).toBeGreaterThan(90);
  });

  it('bad set == tshark status-0 set, per frame and protocol, except the listed differences', async (ctx) => {
    needs(ctx, 'tshark');
    const all = await pool(files, 8, verdicts);
    const problems: string[] = [];
    const offloadSeen: Record<string, number> = {};
    const ipOffloadSeen: Record<string, number> = {};
    for (const v of all) {
      const tsharkOnly = [...v.tshark].filter((x) => !v.ours.has(x)).sort();
      const oursOnly = [...v.ours].filter((x) => !v.tshark.has(x)).sort();
      const known = KNOWN[v.file] ?? { tsharkOnly: [], oursOnly: [] };
      if (JSON.stringify(tsharkOnly) !== JSON.stringify([...known.tsharkOnly].sort()) || JSON.stringify(oursOnly) !== JSON.stringify([...known.oursOnly].sort())) {
        problems.push(`${v.file}: tshark-only ${JSON.stringify(tsharkOnly)} ours-only ${JSON.stringify(oursOnly)}`);
      }
      if (v.offloaded > 0) offloadSeen[v.file] = v.offloaded;
      if (v.ipOffloaded > 0) ipOffloadSeen[v.file] = v.ipOffloaded;
    }
    expect(problems).toEqual([]);
    expect(offloadSeen).toEqual(OFFLOADED);
    expect(ipOffloadSeen).toEqual(IP_OFFLOADED);
  }, 120_000);
});
