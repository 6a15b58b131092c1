/**
 * Captures of clones behind tunnels, built in the test: the guest's DNS
 * question (10.0.0.2:33000 > 10.0.0.1:53) and its answer inside VXLAN
 * between VTEPs, as a one-interface pcapng (test/verify/tunnel-lanes.test.ts,
 * test/report/tunnel-lanes.browser.test.ts).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';
import { epb, idb, shb } from './pcapng-build.js';
import * as B from './wire-build.js';

const { hex, ip4, concat, be16, be32 } = B;
export const GUEST = ip4('10.0.0.2');
export const SERVER = ip4('10.0.0.1');
export const GW_VTEP = ip4('172.16.0.1');
export const VTEP_A = ip4('172.16.0.11');
export const VTEP_B = ip4('172.16.0.12');
export const QUERY = hex('12340100000100000000000003777777076578616d706c6503636f6d0000010001');
export const ANSWER = hex('12348180000100000000000003777777076578616d706c6503636f6d0000010001');
export const FLOW = 'udp 10.0.0.2:33000 > 10.0.0.1:53';

export const vxlan = (vni: number) => concat(hex('08000000'), be32(vni << 8));
/** The guest's DNS query (or the server's answer) as an Ethernet frame, optionally VLAN-tagged. */
export function dns(reply: boolean, vlan?: number): Uint8Array {
  const ip = reply ? B.ipv4L4(SERVER, GUEST, 17, B.udp(53, 33000, ANSWER)) : B.ipv4L4(GUEST, SERVER, 17, B.udp(33000, 53, QUERY));
  return vlan === undefined ? B.ether(0x0800, ip) : B.ether(0x8100, concat(be16(vlan), be16(0x0800), ip));
}
/** `inner` in VXLAN VNI `vni` between two VTEPs (UDP 4789, outer checksum filled). */
export function inVxlan(vni: number, inner: Uint8Array, src: number, dst: number, sport = 49152): Uint8Array {
  return B.ether(0x0800, B.ipv4L4(src, dst, 17, B.udp(sport, 4789, concat(vxlan(vni), inner))));
}

/** Two clones behind VNIs 5001 and 5002 on one interface ask the same question; the second answer goes to VNI 5001 (`wrong`) or to 5002. */
export function twoClones(wrong: boolean): Uint8Array[] {
  return [
    inVxlan(5001, dns(false), VTEP_A, GW_VTEP),
    inVxlan(5001, dns(true), GW_VTEP, VTEP_A),
    inVxlan(5002, dns(false), VTEP_B, GW_VTEP),
    wrong ? inVxlan(5001, dns(true), GW_VTEP, VTEP_A) : inVxlan(5002, dns(true), GW_VTEP, VTEP_B),
  ];
}

/** A pcapng capture of one interface, tap1, frame i at i seconds. */
export function capture(name: string, frames: Uint8Array[]): string {
  const file = join(tempDir(), name);
  writeFileSync(file, Buffer.concat([shb(true), idb('tap1', true), ...frames.map((f, i) => epb(0, f, true, i * 1_000_000))]));
  return file;
}
