/**
 * The preallocated results are reused for every packet (docs/DESIGN.md
 * part 3: `reset()` returns them to their fresh state): after decoding or
 * translating a rich frame (QinQ, IPv6 extension headers, ICMP errors with
 * a quote, NDP), reset() leaves each one deeply equal to a new one, typed
 * arrays and the quoted packet's IpInfo included.
 */
import { describe, expect, it } from 'vitest';
import { parseRule } from '../../src/nat/rules.js';
import { RuleTable } from '../../src/nat/table.js';
import { TranslateResult, Translator } from '../../src/nat/translate.js';
import { DecodeResult, PacketDecoder } from '../../src/wire/decode.js';
import { IpInfo } from '../../src/wire/ip.js';
import { redirectWithHeader, richFrames } from '../helpers/rich-frames.js';
import { wlanFromEthernet } from '../helpers/wlan-build.js';

const mapper = new RuleTable(['10.0.0.0/24=192.168.1.0/24', 'fd00::/64=fd00:1::/64'].map((r) => parseRule(r)), 'guest-to-host').mapperFor({
  id: 0,
  index: 0,
  name: undefined,
  linkType: 1,
  snapLength: 0,
  ipv4: [],
  ipv6: [],
});

/** DecodeResult.reset's arguments for a new object's values. */
const FRESH: [number, number, number, number] = [-1, 0, 0, 0];

describe('reset() returns a reused result to its fresh state', () => {
  it.each(richFrames().map((f, i) => [i, f] as const))('frame %i: IpInfo, DecodeResult', (_, frame) => {
    const dec = new PacketDecoder();
    const d = dec.decode(frame, 0, frame.length, frame.length, 1);
    expect(d).not.toStrictEqual(new DecodeResult());
    d.ip.reset();
    expect(d.ip).toStrictEqual(new IpInfo());
    d.inner.reset();
    expect(d.inner).toStrictEqual(new IpInfo());
    dec.decode(frame, 0, frame.length, frame.length, 1);
    d.reset(...FRESH);
    expect(d).toStrictEqual(new DecodeResult());
  });

  it.each(richFrames().map((f, i) => [i, f] as const))('frame %i: TranslateResult', (_, frame) => {
    const tr = new Translator();
    const r = tr.translate(frame.slice(), 0, frame.length, frame.length, 1, mapper);
    expect(r.count).toBeGreaterThan(0);
    r.reset();
    expect(r).toStrictEqual(new TranslateResult());
  });

  it('802.11 (FCS, data padding, MAC offsets, an A-MSDU body) and an NDP Redirected Header quote: reset() leaves a fresh result', () => {
    const dec = new PacketDecoder();
    const frames: Array<[Uint8Array, number]> = [
      [wlanFromEthernet(richFrames()[0]!, { qos: true, datapad: true, fcs: true }), 127],
      [wlanFromEthernet(richFrames()[0]!, { amsdu: true, fcs: true }), 127],
      [redirectWithHeader(), 1],
    ];
    for (const [f, lt] of frames) {
      const d = dec.decode(f, 0, f.length, f.length, lt);
      expect(d).not.toStrictEqual(new DecodeResult());
      d.reset(...FRESH);
      expect(d).toStrictEqual(new DecodeResult());
    }
  });

  it('the quote of an ICMP error does not outlive its packet', () => {
    const [qinq, , icmpError4] = richFrames();
    const dec = new PacketDecoder();
    dec.decode(icmpError4!, 0, icmpError4!.length, icmpError4!.length, 1);
    const d = dec.decode(qinq!, 0, qinq!.length, qinq!.length, 1);
    expect(d.inner).toStrictEqual(new IpInfo());
  });
});
