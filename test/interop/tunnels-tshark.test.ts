/**
 * Issue 23's proof for every encapsulation the kernel here cannot make: the scapy-built captures of
 * fixtures/tunnels/ (see fixtures/README.md) rewritten with one rule pair, and tshark as the judge, layer by
 * layer: every address in the rules' prefixes mapped at every depth (ICMP quotes included), no checksum
 * verdict changed at any depth or occurrence, every frame's lengths kept, and the reverse rewrite giving the
 * input back byte for byte. The outputs must also equal fixtures/tunnels/expected/ byte for byte: the same
 * traffic built by the generator with the mapped addresses and every checksum computed afresh, without any
 * of ssnat-rewrite's code. With --tunnels off only the outermost header changes. The bad-input capture passes
 * through unchanged with one finding per frame. And the generator rebuilds every fixture byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { readPackets } from '../helpers/capture.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { addressFields, checksumVerdicts, tsharkLayers } from '../helpers/tshark.js';

const TUNNELS = join(ROOT, 'fixtures/tunnels');
const RULES = ['--rule', '10.0.0.0/24=192.168.11.0/24', '--rule', 'fd00::/64=fd00:11::/64'];

const GUEST4 = ipaddr.parseCIDR('10.0.0.0/24');
const GUEST6 = ipaddr.parseCIDR('fd00::/64');
const HOST4 = ipaddr.IPv4.parse('192.168.11.0').toByteArray();
const HOST6 = ipaddr.IPv6.parse('fd00:11::').toByteArray();

/** The rules applied to one address (tshark's text form, RFC 5952 for IPv6): the host network's bits, the host bits kept. */
function mapAddress(text: string): string {
  const a = ipaddr.parse(text);
  if (a.kind() === 'ipv4' && (a as ipaddr.IPv4).match(GUEST4)) {
    const b = a.toByteArray();
    return ipaddr.fromByteArray([...HOST4.slice(0, 3), b[3]!]).toString();
  }
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).match(GUEST6)) {
    const b = a.toByteArray();
    return ipaddr.fromByteArray([...HOST6.slice(0, 8), ...b.slice(8)]).toString();
  }
  return text;
}

function isGuest(text: string): boolean {
  return mapAddress(text) !== text;
}

/** 'q:ip.src=10.0.0.2' -> 'q:ip.src=192.168.11.2'. */
function mapField(f: string): string {
  const at = f.indexOf('=');
  return f.slice(0, at + 1) + mapAddress(f.slice(at + 1));
}

interface Case {
  readonly file: string;
  /** More ssnat-rewrite options (rewrite, reverse and verify). */
  readonly args?: readonly string[];
  /** More tshark options. */
  readonly tshark?: readonly string[];
  /** Every input frame has one of these tunnel layers as tshark decodes it, so that the comparison looks inside them. */
  readonly layers: readonly string[];
  /** What the rewrite and its reverse say on stderr with -q: a rule that rewrote nothing. */
  readonly stderr?: string;
  /** verify of the output: its exit code, its error findings ('frame check'), and the frames one more check names, with its severity. */
  readonly verify: { readonly code: number; readonly errors: readonly string[]; readonly check?: readonly [string, string, readonly number[]] };
}

const CLEAN = { code: 0, errors: [] } as const;

const GOOD: readonly Case[] = [
  { file: 'vxlan.pcap', layers: ['vxlan'], verify: CLEAN },
  { file: 'vxlan-8472.pcap', args: ['--vxlan-port', '8472'], tshark: ['-d', 'udp.port==8472,vxlan'], layers: ['vxlan'], verify: CLEAN },
  { file: 'vxlan-gpe.pcap', layers: ['vxlan'], verify: CLEAN },
  { file: 'geneve.pcap', layers: ['geneve'], verify: CLEAN },
  { file: 'gre.pcap', layers: ['gre'], verify: CLEAN },
  { file: 'erspan.pcap', layers: ['erspan'], verify: CLEAN },
  { file: 'pptp.pcap', layers: ['ppp'], verify: CLEAN },
  { file: 'gre-udp.pcap', layers: ['gre'], verify: CLEAN },
  { file: 'ipip.pcap', layers: [], verify: CLEAN }, // IP in IP: the two IP layers
  { file: 'gtpu.pcap', layers: ['gtp'], verify: CLEAN },
  { file: 'nested.pcapng', layers: ['vxlan', 'gre'], verify: CLEAN },
  // UDP checksum 0 over IPv6 stays 0: tshark calls it illegal before and after; verify a warning, since RFC 6935 allows it on a tunnel.
  {
    file: 'zero-csum.pcap',
    layers: ['vxlan', 'geneve'],
    verify: { code: 0, errors: [], check: ['udp.checksum-zero-tunnel', 'warning', [2, 4, 6, 8, 10, 12, 14, 15, 16, 17]] },
  },
  // The inner TCP checksums made bad stay exactly as bad: errors, exit 1.
  { file: 'bad-inner-tcp.pcap', layers: ['vxlan', 'geneve'], stderr: 'ssnat-rewrite: warning: rule "fd00::/64=fd00:11::/64" matched no address\n', verify: { code: 1, errors: ['1 tcp.checksum', '3 tcp.checksum'] } },
];

interface VerifyReport {
  verdict: { exitCode: number };
  summary: Record<string, unknown>;
  findings: { frame: number; check: string; severity: string; message: string }[];
}

/**
 * verify of a capture, with the flow checks off: the fixtures replay one guest's flows in every encapsulation
 * (a catalogue, not clones), which the tunnel lanes rightly call collisions, and a reply built in another
 * tunnel than its request a wrong clone (test/verify/tunnel-lanes.test.ts proves those checks).
 */
function verifyJson(file: string, args: readonly string[]): { code: number | null; report: VerifyReport } {
  const r = cli(['verify', file, ...RULES, ...args, '--ignore', 'flow.*', '--report', 'json', '--max-findings', '0']);
  return { code: r.code, report: JSON.parse(r.stdout.toString()) as VerifyReport };
}

/** tshark's judgement of a translation of one capture: (a) addresses mapped at every depth, (b) verdicts kept, (c) lengths kept. */
async function judge(c: Case, input: string, out: string): Promise<void> {
    const [before, after] = await Promise.all([tsharkLayers(input, c.tshark), tsharkLayers(out, c.tshark)]);
    expect(after.length).toBe(before.length);
    for (const [i, f] of before.entries()) {
      const g = after[i]!;
      const where = `${c.file} frame ${f.number}`;
      // The tunnel is decoded by tshark (else nothing inside would be compared): its layer, and an IP or ARP
      // layer inside the outer IP one; and the frame holds a guest address.
      if (c.layers.length > 0) expect(f.layers.some((x) => c.layers.includes(x.proto)), `${where}: ${c.layers.join(' or ')}`).toBe(true);
      expect(f.layers.filter((x) => !x.quoted && ['ip', 'ipv6', 'arp'].includes(x.proto)).length, where).toBeGreaterThanOrEqual(2);
      const addrs = addressFields(f);
      expect(addrs.some((a) => isGuest(a.slice(a.indexOf('=') + 1))), `${where}: a guest address`).toBe(true);
      // (a) Every address in the prefixes mapped, at every depth and in every quote; no other changed.
      expect(addressFields(g), where).toEqual(addrs.map(mapField));
      // (b) No checksum verdict changed, per protocol and occurrence.
      expect(checksumVerdicts(g), where).toEqual(checksumVerdicts(f));
      // (c) Lengths kept.
      expect([g.len, g.caplen], where).toEqual([f.len, f.caplen]);
    }
}

describe('mapAddress', () => {
  it('maps the prefixes, keeping host bits, in the form tshark prints, and leaves other addresses alone', () => {
    expect(['10.0.0.2', '10.0.0.255', 'fd00::2', 'fd00::c8', 'fd00::1:2:3:4'].map(mapAddress)).toEqual([
      '192.168.11.2',
      '192.168.11.255',
      'fd00:11::2',
      'fd00:11::c8',
      'fd00:11::1:2:3:4',
    ]);
    expect(['10.0.1.2', '198.51.100.1', 'fd00:0:0:1::2', 'ff02::1:ff00:1', '2001:db8::1'].map(mapAddress)).toEqual([
      '10.0.1.2',
      '198.51.100.1',
      'fd00:0:0:1::2',
      'ff02::1:ff00:1',
      '2001:db8::1',
    ]);
  });
});

describe('tshark judges tunnelled captures rewritten at every depth', () => {
  it.for(GOOD)('$file', async (c, ctx) => {
    needs(ctx, 'tshark');
    const input = join(TUNNELS, c.file);
    const dir = tempDir();
    const out = join(dir, `out-${c.file}`);
    const back = join(dir, `back-${c.file}`);
    const args = c.args ?? [];
    const r = cli([input, out, ...RULES, ...args, '-q']);
    expect(r.stderr).toBe(c.stderr ?? '');
    expect(r.code).toBe(0);

    await judge(c, input, out);

    // (d) The reverse direction gives the input back byte for byte.
    const rb = cli([out, back, ...RULES, ...args, '-d', 'host-to-guest', '-q']);
    expect(rb.stderr).toBe(c.stderr ?? '');
    expect(rb.code).toBe(0);
    expect(Buffer.compare(readFileSync(back), readFileSync(input))).toBe(0);

    // verify of the output: no guest address left anywhere, and exactly the errors the input was built with.
    const v = verifyJson(out, args);
    expect(v.report.findings.filter((x) => x.check === 'addr.untranslated')).toEqual([]);
    expect(v.report.findings.filter((x) => x.severity === 'error').map((x) => `${x.frame} ${x.check}`)).toEqual(c.verify.errors);
    if (c.verify.check) {
      const [check, severity, frames] = c.verify.check;
      const named = v.report.findings.filter((x) => x.check === check);
      expect(named.map((x) => x.frame)).toEqual(frames);
      expect(new Set(named.map((x) => x.severity))).toEqual(new Set([severity]));
    }
    expect(v.code).toBe(c.verify.code);
  });

  it('checks what the captures are meant to hold: tunnels 3 deep, quotes, cut frames, every kind of verdict', async (ctx) => {
    needs(ctx, 'tshark');
    const [nested, erspan, zero, bad] = await Promise.all([
      tsharkLayers(join(TUNNELS, 'nested.pcapng')),
      tsharkLayers(join(TUNNELS, 'erspan.pcap')),
      tsharkLayers(join(TUNNELS, 'zero-csum.pcap')),
      tsharkLayers(join(TUNNELS, 'bad-inner-tcp.pcap')),
    ]);
    // nested.pcapng frame 2: VXLAN over IPv6, VXLAN over IPv6 (guest addresses), VXLAN over IPv4 (guest addresses), ARP.
    expect(nested[1]!.layers.filter((l) => l.proto === 'vxlan')).toHaveLength(3);
    expect(addressFields(nested[1]!).filter((a) => /^(ip|ipv6)\.(src|dst)=/.test(a))).toEqual([
      'ipv6.src=2001:db8::1',
      'ipv6.dst=2001:db8::2',
      'ipv6.src=fd00::100',
      'ipv6.dst=fd00::101',
      'ip.src=10.0.0.100',
      'ip.dst=10.0.0.101',
    ]);
    // nested.pcapng frame 21: GRE (C) / IPv6 / GRE (K) / IPv4 / GRE (C) / IPv4 / ICMP error quoting a guest datagram.
    expect(checksumVerdicts(nested[20]!)).toEqual({ ip: ['1', '1', '1', 'q1'], gre: ['1', '-', '1'], icmp: ['1'], udp: ['q1'] });
    expect(erspan.filter((f) => f.caplen < f.len).map((f) => f.number)).toEqual([5, 11, 18, 20, 24]);
    expect(zero.map((f) => checksumVerdicts(f).udp![0])).toEqual(['3', '4', '3', '4', '3', '4', '3', '4', '3', '4', '3', '4', '3', '4', '4', '4', '4', '1', '1']);
    expect(bad.map((f) => checksumVerdicts(f).tcp)).toEqual([['0'], ['1'], ['0'], ['1']]);
  });
});

describe('--tunnels off keeps every tunnel opaque: only the outermost IP header is translated', () => {
  it.for(['vxlan.pcap', 'gre.pcap', 'ipip.pcap'])('%s', async (file, ctx) => {
    needs(ctx, 'tshark');
    const input = join(TUNNELS, file);
    const dir = tempDir();
    const out = join(dir, file);
    const back = join(dir, `back-${file}`);
    const r = cli([input, out, ...RULES, '--tunnels', 'off', '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [before, after] = await Promise.all([tsharkLayers(input), tsharkLayers(out)]);
    expect(after.length).toBe(before.length);
    let translated = 0;
    for (const [i, f] of before.entries()) {
      const outer = f.layers.findIndex((l) => l.proto === 'ip' || l.proto === 'ipv6');
      const want = f.layers.flatMap((l, at) =>
        l.fields.filter(([, v]) => isIP(v) !== 0).map(([n, v]) => `${l.quoted ? 'q:' : ''}${n}=${at === outer ? mapAddress(v) : v}`),
      );
      if (want.join() !== addressFields(f).join()) translated++;
      expect(addressFields(after[i]!), `${file} frame ${f.number}`).toEqual(want);
      expect(checksumVerdicts(after[i]!), `${file} frame ${f.number}`).toEqual(checksumVerdicts(f));
    }
    // The frames whose underlay is in the rule's prefixes (and only those) changed.
    expect(translated).toBeGreaterThanOrEqual(6);
    expect(cli([out, back, ...RULES, '--tunnels', 'off', '-d', 'host-to-guest', '-q']).code).toBe(0);
    expect(Buffer.compare(readFileSync(back), readFileSync(input))).toBe(0);
  });
});

describe('the expected captures are what tshark must see in a translation', () => {
  // Guards fixtures/tunnels/expected/ (and the judge): an output equal to them passes every tshark comparison.
  it.for(GOOD)('$file', async (c, ctx) => {
    needs(ctx, 'tshark');
    await judge(c, join(TUNNELS, c.file), join(TUNNELS, 'expected', c.file));
  });
});

describe('the rewrite gives the independently built expected captures byte for byte', () => {
  it.for(GOOD)('$file', async (c) => {
    const input = join(TUNNELS, c.file);
    const expected = join(TUNNELS, 'expected', c.file);
    const out = join(tempDir(), c.file);
    const r = cli([input, out, ...RULES, ...(c.args ?? []), '-q']);
    expect(r.code).toBe(0);
    // Frame by frame first, for a readable difference; then the whole file (headers, blocks).
    const [got, want] = await Promise.all([readPackets(out), readPackets(expected)]);
    expect(got.length).toBe(want.length);
    for (const [i, w] of want.entries()) {
      expect(Buffer.from(got[i]!.data).toString('hex'), `${c.file} frame ${w.frame}`).toBe(Buffer.from(w.data).toString('hex'));
    }
    expect(Buffer.compare(readFileSync(out), readFileSync(expected))).toBe(0);
  });
});

describe('fixtures/capture/tunnels.py', () => {
  it('rebuilds the committed captures and their expected outputs byte for byte', (ctx) => {
    needs(ctx, 'scapy');
    const dir = tempDir();
    const script = join(ROOT, 'fixtures/capture/tunnels.py');
    execFileSync('/usr/bin/python3', [script, dir], { stdio: 'ignore' });
    execFileSync('/usr/bin/python3', [script, '--mapped', join(dir, 'expected')], { stdio: 'ignore' });
    const names = (d: string) => readdirSync(d).filter((n) => /\.pcap(ng)?$/.test(n)).sort();
    expect(names(dir)).toEqual(names(TUNNELS));
    expect(names(join(dir, 'expected'))).toEqual(names(join(TUNNELS, 'expected')));
    expect(names(join(dir, 'expected'))).toEqual(GOOD.map((c) => c.file).sort());
    for (const n of names(TUNNELS)) expect(Buffer.compare(readFileSync(join(dir, n)), readFileSync(join(TUNNELS, n))), n).toBe(0);
    for (const n of names(join(TUNNELS, 'expected'))) {
      expect(Buffer.compare(readFileSync(join(dir, 'expected', n)), readFileSync(join(TUNNELS, 'expected', n))), `expected/${n}`).toBe(0);
    }
  });
});

describe('bad tunnel input passes through unchanged, with one finding per frame', () => {
  it('bad.pcap', () => {
    const input = join(TUNNELS, 'bad.pcap');
    const out = join(tempDir(), 'out.pcap');
    const r = cli([input, out, ...RULES, '-q']);
    // The guest addresses are all inside the undecodable tunnels: neither rule rewrote any.
    expect(r.stderr).toBe(
      'ssnat-rewrite: warning: rule "10.0.0.0/24=192.168.11.0/24" matched no address\n' +
        'ssnat-rewrite: warning: rule "fd00::/64=fd00:11::/64" matched no address\n',
    );
    expect(r.code).toBe(0);
    expect(Buffer.compare(readFileSync(out), readFileSync(input))).toBe(0);
    // One finding per frame, each a warning: the packet is counted undecodable and left as it is.
    const v = verifyJson(input, []);
    expect(v.report.findings.map((x) => `${x.frame} ${x.check} ${x.severity}: ${x.message}`)).toEqual([
      '1 packet.undecodable warning: vxlan: header runs past the datagram (at byte 42 of the frame)',
      '2 packet.undecodable warning: gtp-u: length runs past the datagram (at byte 42 of the frame)',
      '3 packet.undecodable warning: geneve: header runs past the datagram (at byte 42 of the frame)',
      '4 packet.undecodable warning: geneve: options run past the datagram (at byte 42 of the frame)',
      '5 packet.undecodable warning: gre: version is neither 0 nor 1 (at byte 34 of the frame)',
      '6 packet.undecodable warning: tunnel: nested deeper than the limit (--max-tunnel-depth, 8 unless given) (at byte 226 of the frame)',
    ]);
    expect(v.report.summary).toMatchObject({ packets: 6, undecodable: 6, errors: 0, warnings: 6 });
    expect(v.code).toBe(0);
  });
});
