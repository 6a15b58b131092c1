/**
 * --annotate: every rewritten packet carries a pcapng comment naming the
 * change and the rule, which Wireshark shows as frame.comment; the packet
 * bytes are exactly those of a run without --annotate.
 */
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { readPackets } from '../helpers/capture.js';
import { cli, tempDir } from '../helpers/cli.js';
import { corpusPath } from '../helpers/corpus.js';
import { needs } from '../helpers/tools.js';
import { tsharkFields } from '../helpers/tshark.js';

describe('--annotate', () => {
  beforeEach((ctx) => needs(ctx, 'tshark'));

  it('comments each rewritten frame; Wireshark filters them with frame.comment', async () => {
    const dir = tempDir();
    const input = corpusPath('pcapplusplus/PacketExamples/IcmpPackets.pcap'); // pcapng despite its name
    const plain = join(dir, 'plain.pcapng');
    const annotated = join(dir, 'annotated.pcapng');
    const rule = '10.0.0.0/8=11.0.0.0/8';
    const r = cli([input, annotated, '-r', rule, '--annotate', '--report', 'json', '-q']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.toString());
    expect(cli([input, plain, '-r', rule, '-q']).code).toBe(0);

    const comments = tsharkFields(annotated, ['frame.number', 'frame.comment'], ['-Y', 'frame.comment contains "ssnat"']);
    expect(comments.length).toBe(report.summary.rewritten);
    expect(comments.length).toBeGreaterThan(5);
    for (const line of comments) {
      expect(line).toMatch(/^\d+\tssnat: ipv4\.(src|dst) 10\.\d+\.\d+\.\d+>11\.\d+\.\d+\.\d+ \(rule 10\.0\.0\.0\/8=11\.0\.0\.0\/8\)/);
    }
    // The frames themselves are those of the plain run, byte for byte.
    const [a, p] = await Promise.all([readPackets(annotated), readPackets(plain)]);
    expect(a.map((x) => Buffer.from(x.data).toString('hex'))).toEqual(p.map((x) => Buffer.from(x.data).toString('hex')));
    expect(a.map((x) => x.timestampNs)).toEqual(p.map((x) => x.timestampNs));
  });

  it('names the quoted header of an ICMP error', () => {
    const dir = tempDir();
    const out = join(dir, 'o.pcapng');
    expect(cli([corpusPath('pcapplusplus/PacketExamples/IcmpPackets.pcap'), out, '-r', '10.0.0.0/8=11.0.0.0/8', '--annotate', '-q']).code).toBe(0);
    const inner = tsharkFields(out, ['frame.comment'], ['-Y', 'frame.comment contains "icmp.inner-ipv4"']);
    expect(inner.length).toBeGreaterThan(0);
  });

  it('a pcap input is annotated into pcapng, which tshark shows with every comment', () => {
    const dir = tempDir();
    const out = join(dir, 'o.pcapng');
    const r = cli([corpusPath('dpkt/dns_icmp.pcap'), out, '-r', '192.168.0.0/16=10.9.0.0/16', '--annotate']);
    expect(r.code).toBe(0);
    expect(r.stderr.split('\n')[0]).toBe('ssnat-rewrite: note: the input is pcap, which cannot hold comments: the output is written as pcapng');
    expect(tsharkFields(out, ['frame.comment'], ['-Y', 'frame.comment contains "ssnat"']).length).toBe(32);
  });
});
