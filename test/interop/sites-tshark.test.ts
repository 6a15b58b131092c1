/**
 * The address sites issue #14 added, held to tshark: a capture with an NDP
 * Redirect whose Redirected Header option quotes a whole UDP datagram,
 * RARP, ARP of IEEE 802 and InfiniBand hardware, IPv4/UDP and ARP in 802.3
 * frames with LLC/SNAP, an ICMP error with an RFC 4884 extension and an
 * ICMP Redirect (its gateway address), is
 * rewritten with rules; tshark then shows every address translated (the
 * quoted ones included) and every checksum it judges good, as they were.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyFile } from '../../src/api.js';
import { cli, tempDir } from '../helpers/cli.js';
import { icmpRedirect4, redirectWithHeader, rarpReply } from '../helpers/rich-frames.js';
import { badVerdicts, tsharkChecksums, tsharkFields } from '../helpers/tshark.js';
import { needs } from '../helpers/tools.js';
import { be16, be32, concat, ether, hex, icmpMsg, ip4, ipv4L4, udp, writePcap } from '../helpers/wire-build.js';

const RULES = ['10.0.0.0/24=192.168.1.0/24', 'fd00::/64=fd00:1::/64'];
const ADDRESSES = ['frame.number', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4', 'icmp.redir_gw'];
const data = Uint8Array.from({ length: 24 }, (_, i) => i + 1);

function frames(): Uint8Array[] {
  const arp = (htype: number, hw: Uint8Array) =>
    ether(0x0806, concat(be16(htype), be16(0x0800), Uint8Array.of(hw.length, 4), be16(1), hw, be32(ip4('10.0.0.2')), new Uint8Array(hw.length), be32(ip4('10.0.0.1'))), hex('ffffffffffff'));
  const snapIp = concat(hex('aaaa03000000'), be16(0x0800), ipv4L4(ip4('10.0.0.2'), ip4('8.8.8.8'), 17, udp(2345, 5000, data)));
  const snapArp = concat(hex('aaaa03000000'), be16(0x0806), hex('0001 0800 06 04 0001 525400123456'), be32(ip4('10.0.0.2')), new Uint8Array(6), be32(ip4('10.0.0.1')));
  const quoted = ipv4L4(ip4('10.0.0.2'), ip4('8.8.8.8'), 17, udp(2345, 5000, new Uint8Array(200)));
  const rfc4884 = icmpMsg(3, 3, 0x00200000, concat(quoted.subarray(0, 128), hex('2000000000080101 0a000001')));
  return [
    redirectWithHeader(),
    rarpReply(),
    arp(6, hex('525400123456')),
    arp(32, Uint8Array.from({ length: 20 }, (_, i) => 0x80 + i)),
    ether(snapIp.length, snapIp),
    ether(snapArp.length, snapArp),
    ether(0x0800, ipv4L4(ip4('8.8.8.8'), ip4('10.0.0.2'), 1, rfc4884)),
    icmpRedirect4(),
  ];
}

describe('tshark sees the new address sites translated, with good checksums', () => {
  it('Redirected Header, RARP, IEEE 802 and InfiniBand ARP, 802.3 LLC/SNAP, an RFC 4884 error, an ICMP Redirect', async (ctx) => {
    needs(ctx, 'tshark');
    const dir = tempDir();
    const input = join(dir, 'in.pcap');
    const out = join(dir, 'out.pcap');
    writePcap(input, 1, frames());
    const r = cli([input, out, ...RULES.flatMap((x) => ['-r', x]), '-q']);
    expect(r.stderr).toBe('');
    const before = tsharkFields(input, ADDRESSES);
    const after = tsharkFields(out, ADDRESSES);
    expect(before.join('\n')).toMatch(/10\.0\.0\.|fd00::/);
    // Every guest address tshark shows (outer, quoted, ARP/RARP protocol addresses) became a host one.
    expect(after.join('\n')).not.toMatch(/(^|[\t,])10\.0\.0\.\d+|(^|[\t,])fd00::/);
    expect(after).toEqual(before.map((l) => l.replace(/\b10\.0\.0\./g, '192.168.1.').replace(/(^|[\t,])fd00::/g, '$1fd00:1::')));
    const [cb, ca] = await Promise.all([tsharkChecksums(input), tsharkChecksums(out)]);
    expect(badVerdicts(cb)).toEqual([]);
    expect(ca).toEqual(cb);
    // The quoted UDP of the Redirected Header is judged (and good) by tshark on both.
    expect(cb[0]).toMatch(/^1\t\t1\t\t\t1$/);
    // verify with the rules: nothing left behind; without: nothing wrong.
    expect((await verifyFile(out, { rules: RULES })).findings).toEqual([]);
    expect((await verifyFile(input)).findings).toEqual([]);
  });
});
