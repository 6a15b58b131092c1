/**
 * Timestamps as Wireshark reads them: for pcapng captures with decimal and
 * binary if_tsresol, several sections and byte orders, and nanosecond pcap,
 * our nanosecond timestamps equal tshark's frame.time_epoch.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { readPackets } from '../helpers/capture.js';
import { corpusPath } from '../helpers/corpus.js';
import { needs } from '../helpers/tools.js';
import { tsharkFields } from '../helpers/tshark.js';

const FILES = [
  'gopacket/pcapgo-tests/le/test902.pcapng', // if_tsresol 0x88: 2^-8 s
  'gopacket/pcapgo-tests/be/test902.pcapng',
  'pcap-parser/wireshark_samples-test.pcapng', // if_tsresol 9
  'pcapng-test-generator/output_be/difficult/test202.pcapng', // sections in both byte orders
  'pcapplusplus/PcapExamples/too_many_interfaces.pcapng', // 6 and 9 mixed
  'pcapplusplus/PcapExamples/nanosecs_big_endian.pcap',
  'scapy/pfcp.pcap', // obsolete packet blocks
];

/** "1234567890.123456789" -> nanoseconds. */
function epochNs(s: string): bigint {
  const [sec, frac = ''] = s.split('.');
  return BigInt(sec!) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9));
}

describe('timestamps agree with tshark', () => {
  beforeEach((ctx) => needs(ctx, 'tshark'));
  it.each(FILES)('%s', async (path) => {
    const ours = await readPackets(corpusPath(path));
    const theirs = tsharkFields(corpusPath(path), ['frame.number', 'frame.time_epoch'], ['-Y', 'frame.len > 0 && !pcapng']);
    const byFrame = new Map(theirs.map((l) => l.split('\t') as [string, string]).map(([n, t]) => [Number(n), t]));
    expect(ours.length).toBeGreaterThan(0);
    for (const p of ours) {
      const t = byFrame.get(p.frame);
      expect(t, `frame ${p.frame}`).toBeDefined();
      // tshark prints nanoseconds; binary resolutions are floored to the nanosecond on both sides.
      expect(p.timestampNs, `frame ${p.frame}`).toBe(epochNs(t!));
    }
  });
});
