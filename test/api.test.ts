/**
 * The library's record-by-record verifier keeps the run's bookkeeping as
 * verifyFile does (src/tally.ts): packets whose PPI header names a link type
 * the decoder does not read, interfaces of such a link type, and undecodable
 * packets give the same findings, in the same order, from both.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVerifier, openCapture, verifyFile } from '../src/api.js';
import type { Finding } from '../src/report/model.js';
import { epb, idb, shb } from './helpers/pcapng-build.js';
import { ether, ip4, ipv4L4, pcapBytes, udp } from './helpers/wire-build.js';

const query = (): Uint8Array => ether(0x0800, ipv4L4(ip4('10.0.0.2'), ip4('10.0.0.1'), 17, udp(2345, 53, new Uint8Array(12))));

/** A PPI header (version 0, no fields) naming link type `dlt`, then the frame. */
function ppi(dlt: number, frame: Uint8Array): Uint8Array {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(8, 2);
  h.writeUInt32LE(dlt, 4);
  return Buffer.concat([h, frame]);
}

function write(name: string, bytes: Uint8Array): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ssnat-api-')), name);
  writeFileSync(file, bytes);
  return file;
}

/** createVerifier over every record of `file`: what check() returned, and finish()'s findings. */
async function recordByRecord(file: string): Promise<{ checked: Finding[]; findings: Finding[] }> {
  const verifier = createVerifier();
  const checked: Finding[] = [];
  for await (const rec of await openCapture(file)) checked.push(...verifier.check(rec));
  return { checked, findings: verifier.finish().findings };
}

describe('createVerifier keeps the bookkeeping verifyFile keeps', () => {
  it('PPI around link types not decoded: the capture.unsupported-link warning with its count (it was dropped)', async () => {
    const ipOnly = query().subarray(14);
    // Frame 1: PPI around Ethernet (decoded); 2 and 3 around raw IP; 4 around Linux SLL; 5 around Ethernet again.
    const file = write('ppi.pcap', pcapBytes(192, [ppi(1, query()), ppi(101, ipOnly), ppi(101, ipOnly), ppi(113, ipOnly), ppi(1, query())]));
    const warning: Finding = {
      frame: 2,
      interface: 0,
      check: 'capture.unsupported-link',
      severity: 'warning',
      message:
        '3 packet(s) on interface 0 have PPI headers around link type 101 (raw IP) and other link types, which ssnat-rewrite does not decode: nothing in them was checked; they pass unchanged',
    };
    const got = await recordByRecord(file);
    expect(got.findings).toEqual([warning]);
    expect(got.checked).toEqual([]); // said at the end, per interface, not per packet
    expect((await verifyFile(file)).findings).toEqual(got.findings);
  });

  it('an interface whose link type is not decoded, and an undecodable packet: the same findings as verifyFile', async () => {
    const bad = query();
    bad.set([0x86, 0xdd, 0x35], 12); // the IPv6 EtherType over a header whose version is 3: impossible
    const file = write(
      'mixed.pcapng',
      Buffer.concat([shb(true), idb('eth0', true), idb('user0', true, 147), epb(0, query(), true, 1), epb(1, query(), true, 2), epb(0, bad, true, 3), epb(1, query(), true, 4)]),
    );
    const want = (await verifyFile(file)).findings;
    expect(want.map((f) => [f.frame, f.interface, f.check])).toEqual([
      [3, 0, 'packet.undecodable'],
      [2, 1, 'capture.unsupported-link'],
    ]);
    const got = await recordByRecord(file);
    expect(got.findings).toEqual(want);
    expect(got.checked).toEqual([want[0]]);
  });
});
