/**
 * Wireshark display filters for the items of a report, to paste into
 * Wireshark's filter bar or `tshark -Y`. Field names are checked against
 * tshark 4.0 (`tshark -G fields`), and test/report/filters.test.ts compiles
 * every filter a page offers with tshark. Sets (`frame.number in {...}`)
 * changed syntax between Wireshark 3 (spaces) and 4 (commas), so a few frames
 * are joined with `||`, which both accept.
 */
import type { CheckName } from './model.js';

/** `frame.number == 31`, or `frame.number == 31 || frame.number == 32` (frame 0, the file itself, has none). */
export function frameFilter(frames: readonly number[]): string | undefined {
  const fs = frames.filter((f) => f > 0);
  if (fs.length === 0) return undefined;
  return fs.map((f) => `frame.number == ${f}`).join(' || ');
}

/**
 * The packets of one lane: `frame.interface_id == 1`, with `&&
 * frame.section_number == 2` when the id alone is ambiguous (the report's
 * `section` is Wireshark's section number), and `&& vlan.id == 10` (each id
 * of a QinQ stack) when tagged.
 */
export function laneFilter(iface: number, vlan?: string, section?: number): string {
  const ids = vlan ? vlan.split('.').filter((v) => /^\d+$/.test(v)) : [];
  return [`frame.interface_id == ${iface}`, ...(section === undefined ? [] : [`frame.section_number == ${section}`]), ...ids.map((v) => `vlan.id == ${v}`)].join(' && ');
}

const V4 = String.raw`(\d{1,3}(?:\.\d{1,3}){3})`;
const V6 = String.raw`\[([0-9a-fA-F:.]+)\]`;
const PORT = String.raw`(\d{1,5})`;
const FLOW_V4 = new RegExp(`^${V4}:${PORT} > ${V4}:${PORT}$`);
const FLOW_V6 = new RegExp(`^${V6}:${PORT} > ${V6}:${PORT}$`);
const ECHO = /^([0-9a-fA-F:.]+) > ([0-9a-fA-F:.]+) echo id (\d{1,5})$/;

/** The port field of each transport the collision check follows (UDP-Lite is dissected with the udp fields). */
const PORT_FIELD: Readonly<Record<string, string>> = {
  tcp: 'tcp.port',
  udp: 'udp.port',
  udplite: 'udp.port',
  sctp: 'sctp.port',
  dccp: 'dccp.port',
};

/**
 * Both directions of a flow as src/verify/collisions.ts names it
 * ("10.0.0.2:2345 > 10.0.0.1:53", "[fd00::2]:2345 > [fd00::1]:53",
 * "10.0.0.2 > 10.0.0.1 echo id 7"): `udp && ip.addr == 10.0.0.2 && ip.addr ==
 * 10.0.0.1 && udp.port == 2345 && udp.port == 53`. Undefined for a flow text
 * it does not recognise.
 */
export function flowFilter(protocol: string, flow: string): string | undefined {
  const echo = ECHO.exec(flow);
  if (echo !== null && (protocol === 'icmp' || protocol === 'icmpv6')) {
    const [, a, b, id] = echo;
    const v6 = protocol === 'icmpv6';
    const addr = v6 ? 'ipv6.addr' : 'ip.addr';
    return `${protocol} && ${addr} == ${a} && ${addr} == ${b} && ${v6 ? 'icmpv6.echo.identifier' : 'icmp.ident'} == ${id}`;
  }
  const port = PORT_FIELD[protocol];
  if (port === undefined) return undefined;
  const v4 = FLOW_V4.exec(flow);
  const m = v4 ?? FLOW_V6.exec(flow);
  if (m === null) return undefined;
  const [, a, pa, b, pb] = m;
  const addr = v4 !== null ? 'ip.addr' : 'ipv6.addr';
  return `${protocol} && ${addr} == ${a} && ${addr} == ${b} && ${port} == ${pa} && ${port} == ${pb}`;
}

/**
 * The packets Wireshark itself judges as a check judges them, where it has a
 * field for that: the checksum checks (with checksum validation enabled, see
 * the README's "In Wireshark"; Wireshark calls offloaded checksums bad too).
 */
const CHECK_FILTER: Partial<Record<CheckName, string>> = {
  'ipv4.checksum': 'ip.checksum.status == 0',
  'ipv4.checksum-offloaded': 'ip.checksum.status == 0',
  'tcp.checksum': 'tcp.checksum.status == 0',
  'tcp.checksum-offloaded': 'tcp.checksum.status == 0',
  'udp.checksum': 'udp.checksum.status == 0',
  'udp.checksum-offloaded': 'udp.checksum.status == 0',
  'udp.checksum-missing': 'ipv6 && udp.checksum == 0',
  'udp.checksum-zero-tunnel': 'ipv6 && udp.checksum == 0 && (vxlan || geneve || gtp || gre)',
  'gre.checksum': 'gre.checksum.status == "Bad"',
  'icmp.checksum': 'icmp.checksum.status == 0',
  'icmpv6.checksum': 'icmpv6.checksum.status == 0',
  'dccp.checksum': 'dccp.checksum.status == 0',
  'icmp.inner-ipv4.checksum': 'icmp && ip.checksum.status == 0',
};

export function checkFilter(check: CheckName): string | undefined {
  return CHECK_FILTER[check];
}
