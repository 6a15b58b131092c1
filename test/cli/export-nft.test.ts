/**
 * `export nft` (issue 24): the exact script for a small rule set, nft 1.0.6
 * accepting every script it makes (`nft -c -f` in a throwaway namespace that
 * has the devices), loading twice leaving one table, and the exit-2 lines.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { SPECIAL_RANGES, formatPrefix, parseRule } from '../../src/nat/rules.js';
import { exportNft as exportNftScript } from '../../src/nat/nft.js';

const GAP_LINES = [
  'ssnat-rewrite: note: the live ruleset does not translate IPv6 neighbour discovery: NS/NA/Redirect target addresses (nft 1.0.6 has no field for them and cannot ask the kernel to update the ICMPv6 checksum of a raw rewrite); link-layer address options stay, as offline; consequence: a solicitation crosses the tap naming an address the other side does not own, so IPv6 neighbour resolution between guest and host fails; remedy: static neighbours on both sides: on the host `ip -6 neigh replace HOST_SIDE_ADDR lladdr GUEST_MAC dev TAP nud permanent`, in the guest `ip -6 neigh replace GATEWAY lladdr TAP_MAC dev eth0 nud permanent`',
  "ssnat-rewrite: note: the live ruleset does not translate ICMP and ICMPv6 errors: the packet quoted inside (RFC 5508), and the gateway of an ICMP Redirect (nft rewrites only the outer header); consequence: the guest receives errors quoting its host-side address, which its stack may not match to the connection (port unreachable unseen, path MTU discovery stalls); remedy: none with stateless rules; keep guest MTUs at the path MTU, or use the host's stateful NAT, which translates quoted headers",
  'ssnat-rewrite: note: the live ruleset does not translate RARP, ARP of other hardware than Ethernet, and DCCP checksums (the kernel updates TCP, UDP, UDP-Lite and ICMPv6 checksums only); consequence: such frames cross the tap with guest-side addresses, DCCP with a checksum that no longer checks; remedy: none needed on a QEMU tap, which carries Ethernet ARP; do not run DCCP across the translation',
  'ssnat-rewrite: note: the live ruleset does not translate packets inside tunnels (IP-in-IP, GRE, VXLAN): only the outer header is translated, as in the offline rewrite; consequence: the inner packets keep the guest-side addresses; remedy: end the tunnel in the guest or on the host, or give the inner networks distinct addresses',
];

/** Reviewed by hand: rules file first (its lines named), then -r; a /32 is a plain set. */
const GOLDEN = `# ssnat-rewrite export nft: stateless static NAT on the host's taps, from the rules
#   10.0.0.0/24=192.168.11.0/24@tap0  (RULES:2)
#   fd00::/64=fd00:11::/64@tap0  (RULES:3)
#   10.0.0.2/32=198.51.100.7/32@tap1
# Load as root with \`nft -f FILE\` (the egress hook needs Linux 5.16 or later). It replaces
# table netdev ssnat in one transaction: loading it again leaves one table.
# Per device, chain from_DEV (ingress: guest to host) and chain to_DEV (egress: host to guest)
# rewrite IPv4, IPv6 and ARP addresses keeping host bits; the kernel updates the checksums.
# Special addresses are never translated, as offline: no rule may touch 0.0.0.0/8, 127.0.0.0/8,
# 169.254.0.0/16, 224.0.0.0/4, 240.0.0.0/4, ::/128, ::1/128, fe80::/10, ff00::/8.
#
# Not translated here, unlike the offline rewrite (\`ssnat-rewrite verify\` names such frames):
# - IPv6 neighbour discovery: NS/NA/Redirect target addresses (nft 1.0.6 has no field for them and
#   cannot ask the kernel to update the ICMPv6 checksum of a raw rewrite); link-layer address
#   options stay, as offline
#   consequence: a solicitation crosses the tap naming an address the other side does not own, so
#                IPv6 neighbour resolution between guest and host fails
#   remedy: static neighbours on both sides: on the host \`ip -6 neigh replace HOST_SIDE_ADDR lladdr
#           GUEST_MAC dev TAP nud permanent\`, in the guest \`ip -6 neigh replace GATEWAY lladdr
#           TAP_MAC dev eth0 nud permanent\`
# - ICMP and ICMPv6 errors: the packet quoted inside (RFC 5508), and the gateway of an ICMP Redirect
#   (nft rewrites only the outer header)
#   consequence: the guest receives errors quoting its host-side address, which its stack may not
#                match to the connection (port unreachable unseen, path MTU discovery stalls)
#   remedy: none with stateless rules; keep guest MTUs at the path MTU, or use the host's stateful
#           NAT, which translates quoted headers
# - RARP, ARP of other hardware than Ethernet, and DCCP checksums (the kernel updates TCP, UDP,
#   UDP-Lite and ICMPv6 checksums only)
#   consequence: such frames cross the tap with guest-side addresses, DCCP with a checksum that no
#                longer checks
#   remedy: none needed on a QEMU tap, which carries Ethernet ARP; do not run DCCP across the
#           translation
# - packets inside tunnels (IP-in-IP, GRE, VXLAN): only the outer header is translated, as in the
#   offline rewrite
#   consequence: the inner packets keep the guest-side addresses
#   remedy: end the tunnel in the guest or on the host, or give the inner networks distinct
#           addresses

table netdev ssnat {}
delete table netdev ssnat
table netdev ssnat {
\tchain from_tap0 {
\t\ttype filter hook ingress device "tap0" priority 0; policy accept;
\t\tip saddr 10.0.0.0/24 ip saddr set ip saddr & 0.0.0.255 | 192.168.11.0
\t\tip daddr 10.0.0.0/24 ip daddr set ip daddr & 0.0.0.255 | 192.168.11.0
\t\tarp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ip 10.0.0.0/24 arp saddr ip set arp saddr ip & 0.0.0.255 | 192.168.11.0
\t\tarp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp daddr ip 10.0.0.0/24 arp daddr ip set arp daddr ip & 0.0.0.255 | 192.168.11.0
\t\tip6 saddr fd00::/64 ip6 saddr set ip6 saddr & ::ffff:ffff:ffff:ffff | fd00:11::
\t\tip6 daddr fd00::/64 ip6 daddr set ip6 daddr & ::ffff:ffff:ffff:ffff | fd00:11::
\t}

\tchain to_tap0 {
\t\ttype filter hook egress device "tap0" priority 0; policy accept;
\t\tip saddr 192.168.11.0/24 ip saddr set ip saddr & 0.0.0.255 | 10.0.0.0
\t\tip daddr 192.168.11.0/24 ip daddr set ip daddr & 0.0.0.255 | 10.0.0.0
\t\tarp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ip 192.168.11.0/24 arp saddr ip set arp saddr ip & 0.0.0.255 | 10.0.0.0
\t\tarp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp daddr ip 192.168.11.0/24 arp daddr ip set arp daddr ip & 0.0.0.255 | 10.0.0.0
\t\tip6 saddr fd00:11::/64 ip6 saddr set ip6 saddr & ::ffff:ffff:ffff:ffff | fd00::
\t\tip6 daddr fd00:11::/64 ip6 daddr set ip6 daddr & ::ffff:ffff:ffff:ffff | fd00::
\t}

\tchain from_tap1 {
\t\ttype filter hook ingress device "tap1" priority 0; policy accept;
\t\tip saddr 10.0.0.2 ip saddr set 198.51.100.7
\t\tip daddr 10.0.0.2 ip daddr set 198.51.100.7
\t\tarp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ip 10.0.0.2 arp saddr ip set 198.51.100.7
\t\tarp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp daddr ip 10.0.0.2 arp daddr ip set 198.51.100.7
\t}

\tchain to_tap1 {
\t\ttype filter hook egress device "tap1" priority 0; policy accept;
\t\tip saddr 198.51.100.7 ip saddr set 10.0.0.2
\t\tip daddr 198.51.100.7 ip daddr set 10.0.0.2
\t\tarp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp saddr ip 198.51.100.7 arp saddr ip set 10.0.0.2
\t\tarp htype 1 arp ptype ip arp hlen 6 arp plen 4 arp daddr ip 198.51.100.7 arp daddr ip set 10.0.0.2
\t}
}
`;

function exportNft(args: string[]) {
  const r = cli(['export', 'nft', ...args]);
  return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr };
}

describe('export nft: the script', () => {
  it('is exactly the reviewed text for a small rule set, the gaps said once each on stderr', () => {
    const dir = tempDir();
    const rules = join(dir, 'rules.txt');
    writeFileSync(rules, '# clone 0\n10.0.0.0/24=192.168.11.0/24@tap0\nfd00::/64 = fd00:11::/64 @tap0\n');
    const r = exportNft(['--rules-file', rules, '-r', '10.0.0.2/32=198.51.100.7@tap1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(GOLDEN.replaceAll('RULES', rules));
    expect(r.stderr).toBe(GAP_LINES.map((l) => `${l}\n`).join(''));
  });

  it('a rules file whose name holds a line break stays one comment line (nothing of it can become nft input)', () => {
    const dir = tempDir();
    const rules = join(dir, 'r\ntable ip evil {}\n.txt');
    writeFileSync(rules, '10.0.0.0/24=192.168.11.0/24@tap0\n');
    const r = exportNft(['-q', '--rules-file', rules]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[1]).toBe(`#   10.0.0.0/24=192.168.11.0/24@tap0  (${JSON.stringify(`${rules}:1`).replaceAll('\\n', '\\n')})`);
    expect(r.stdout).not.toMatch(/^table ip evil/m);
  });

  it('IPv4 only: no NDP gap; -q keeps stderr empty; -o writes the same bytes atomically, replacing the old script', () => {
    const dir = tempDir();
    const out = join(dir, 'ssnat.nft');
    writeFileSync(out, 'old');
    const args = ['-r', '10.0.0.0/24=192.168.11.0/24@tap0'];
    const printed = exportNft(args);
    expect(printed.stderr).toBe(GAP_LINES.slice(1).map((l) => `${l}\n`).join(''));
    expect(printed.stdout).not.toContain('neighbour');
    const written = exportNft([...args, '-q', '-o', out]);
    expect([written.code, written.stdout, written.stderr]).toEqual([0, '', '']);
    expect(readFileSync(out, 'utf8')).toBe(printed.stdout);
    expect(readdirSync(dir)).toEqual(['ssnat.nft']);
  });

  it('--table names the table in all three statements', () => {
    const r = exportNft(['-q', '--table', 'clones2', '-r', '10.0.0.0/24=192.168.11.0/24@tap0']);
    expect(r.stdout).toContain('\ntable netdev clones2 {}\ndelete table netdev clones2\ntable netdev clones2 {\n');
    expect(r.stdout).toContain('# table netdev clones2 in one transaction');
  });
});

describe('export nft: help and outputs', () => {
  it('--help lists the command; export --help its options and example', () => {
    expect(cli(['--help']).stdout.toString()).toContain("export nft [options] --rule GUEST=HOST@DEVICE ...  print the rules as a live nftables ruleset for the host's taps");
    const help = cli(['export', '--help']).stdout.toString();
    for (const o of ['-r, --rule <rule>', '--rules-file <file>', '--table <name>', '-o, --output <file>', '-q, --quiet']) expect(help).toContain(o);
    expect(help).toContain('$ sudo nft -f ssnat.nft');
  });

  it('-o into a missing directory is exit 4; over a capture, exit 2; nothing written either way', () => {
    const dir = tempDir();
    const rule = ['-q', '-r', '10.0.0.0/24=192.168.11.0/24@tap0'];
    const missing = exportNft([...rule, '-o', join(dir, 'no/x.nft')]);
    expect([missing.code, missing.stdout, missing.stderr]).toEqual([4, '', `ssnat-rewrite: cannot write nft script ${join(dir, 'no/x.nft')}: directory ${join(dir, 'no')} does not exist; create it first\n`]);
    const cap = join(dir, 'c.pcap');
    const bytes = Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex');
    writeFileSync(cap, bytes);
    const over = exportNft([...rule, '-o', cap]);
    expect([over.code, over.stderr]).toEqual([2, `ssnat-rewrite: nft script ${cap} holds a pcap capture: refusing to replace a capture with a script; name another file for the script\n`]);
    expect(readFileSync(cap)).toEqual(bytes);
    expect(readdirSync(dir)).toEqual(['c.pcap']);
  });
});

describe('export nft: what it refuses, exit 2 with one line', () => {
  const cases: Array<[string, string[], string]> = [
    ['no device scope', ['-r', '10.0.0.0/24=192.168.11.0/24'], 'rule "10.0.0.0/24=192.168.11.0/24": export nft needs the device the rule goes on: add @DEVICE (e.g. 10.0.0.0/24=192.168.11.0/24@tap0)'],
    ['an interface id', ['-r', '10.0.0.0/24=192.168.11.0/24@#1'], 'rule "10.0.0.0/24=192.168.11.0/24@#1": export nft needs a device name, not a capture\'s interface id #1: write the tap\'s name (e.g. 10.0.0.0/24=192.168.11.0/24@tap0)'],
    ['the short form', ['-r', 'fd00::/64@tap0'], 'rule "fd00::/64@tap0": export nft needs the host network, which only a capture\'s interface address gives the short form: write GUEST=HOST (e.g. fd00::/64=HOST/64@tap0)'],
    ['a name too long', ['-r', '10.0.0.0/24=192.168.11.0/24@tap0123456789abcd'], 'rule "10.0.0.0/24=192.168.11.0/24@tap0123456789abcd": device name "tap0123456789abcd" cannot be hooked: it is 17 bytes long, and Linux allows at most 15'],
    ['16 bytes of UTF-8', ['-r', '10.0.0.0/24=192.168.11.0/24@täp456789012345'], 'rule "10.0.0.0/24=192.168.11.0/24@täp456789012345": device name "täp456789012345" cannot be hooked: it is 16 bytes long, and Linux allows at most 15'],
    ['a slash', ['-r', '10.0.0.0/24=192.168.11.0/24@tap/0'], 'rule "10.0.0.0/24=192.168.11.0/24@tap/0": device name "tap/0" cannot be hooked: it holds a "/", which Linux refuses in a device name'],
    ['a colon', ['-r', '10.0.0.0/24=192.168.11.0/24@eth0:1'], 'rule "10.0.0.0/24=192.168.11.0/24@eth0:1": device name "eth0:1" cannot be hooked: it holds a ":", which Linux refuses in a device name'],
    ['a space', ['-r', '10.0.0.0/24=192.168.11.0/24@tap 0'], 'rule "10.0.0.0/24=192.168.11.0/24@tap 0": device name "tap 0" cannot be hooked: it holds whitespace, which Linux refuses in a device name'],
    ['a double quote', ['-r', '10.0.0.0/24=192.168.11.0/24@tap"0'], 'rule "10.0.0.0/24=192.168.11.0/24@tap\\"0": device name "tap\\"0" cannot be hooked: it holds a double quote (nft cannot quote it), which nft refuses in a device name'],
    ['dot-dot', ['-r', '10.0.0.0/24=192.168.11.0/24@..'], 'rule "10.0.0.0/24=192.168.11.0/24@..": device name ".." cannot be hooked: Linux refuses "." and ".." as names'],
    [
      'a network both guest and host on one device',
      ['-r', '10.0.0.0/24=10.0.1.0/24@tap0', '-r', '10.0.1.0/24=10.0.2.0/24@tap0'],
      'rule "10.0.1.0/24=10.0.2.0/24@tap0": on device "tap0" one network is both a guest and a host network (with rule "10.0.0.0/24=10.0.1.0/24@tap0"): nft applies a chain\'s rules one after another and would translate such an address twice; map onto networks no other rule of the device matches',
    ],
    [
      'a tunnel scope (VXLAN)',
      ['-r', '10.0.0.0/24=192.168.11.0/24@tap0+vni:5001,5002'],
      'rule "10.0.0.0/24=192.168.11.0/24@tap0+vni:5001,5002": export nft cannot limit a rule to a tunnel: nftables rewrites only the outer headers, not the packets inside VXLAN, Geneve, GRE or GTP-U; put the rule without its tunnel scope on the device where the tunnel ends, whose packets are the inner ones (e.g. 10.0.0.0/24=192.168.11.0/24@vxlan5001), or rewrite captures offline',
    ],
    [
      'a tunnel scope without a device, in conntrack-zones mode too',
      ['--mode', 'conntrack-zones', '-r', '10.0.0.0/24=192.168.11.0/24@tap0', '-r', 'fd00::/64=fd00:12::/64@key:*'],
      'rule "fd00::/64=fd00:12::/64@key:*": export nft cannot limit a rule to a tunnel: nftables rewrites only the outer headers, not the packets inside VXLAN, Geneve, GRE or GTP-U; put the rule without its tunnel scope on the device where the tunnel ends, whose packets are the inner ones (e.g. fd00::/64=fd00:12::/64@gre1), or rewrite captures offline',
    ],
    ['no rules', [], 'export nft needs rules: give --rule GUEST=HOST@DEVICE or --rules-file FILE'],
    ['a bad table name', ['--table', 'my table', '-r', '10.0.0.0/24=192.168.11.0/24@tap0'], '--table "my table" is not an nft table name: use letters, digits and _, starting with a letter (e.g. ssnat)'],
  ];
  it.each(cases)('%s', (_what, args, line) => {
    const r = exportNft(args);
    expect([r.code, r.stdout, r.stderr]).toEqual([2, '', `ssnat-rewrite: ${line}\n`]);
  });

  it('a tunnel scope from a rules file: the file and line named, nothing written', () => {
    const dir = tempDir();
    const rules = join(dir, 'tunnels.txt');
    writeFileSync(rules, '10.0.0.0/24=192.168.11.0/24@tap0\n# clone 2 behind its GTP-U tunnels\n10.0.0.0/24=192.168.12.0/24@#1+teid:1,2,3\n');
    const out = join(dir, 'o.nft');
    const r = exportNft(['--rules-file', rules, '-o', out]);
    expect([r.code, r.stdout, r.stderr]).toEqual([
      2,
      '',
      `ssnat-rewrite: ${rules}:3: rule "10.0.0.0/24=192.168.12.0/24@#1+teid:1,2,3": export nft cannot limit a rule to a tunnel: nftables rewrites only the outer headers, not the packets inside VXLAN, Geneve, GRE or GTP-U; put the rule without its tunnel scope on the device where the tunnel ends, whose packets are the inner ones (e.g. 10.0.0.0/24=192.168.12.0/24@gtp1), or rewrite captures offline\n`,
    ]);
    expect(existsSync(out)).toBe(false);
    // A bad tunnel scope in the file is the parser's line, with the file and line, and the caret under it.
    writeFileSync(rules, '10.0.0.0/24=192.168.11.0/24@tap0+vxlan:5001\n');
    const bad = exportNft(['--rules-file', rules]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe(
      `ssnat-rewrite: ${rules}:1: rule "10.0.0.0/24=192.168.11.0/24@tap0+vxlan:5001": unknown tunnel kind "vxlan": did you mean @tap0+vni:5001? (vni: VXLAN, VXLAN-GPE, Geneve, NVGRE; key: GRE; teid: GTP-U; an interface with this name is @#N)`,
    );
  });

  it('another format than nft', () => {
    const r = cli(['export', 'iptables', '-r', '10.0.0.0/24=192.168.11.0/24@tap0']);
    expect([r.code, r.stdout.length, r.stderr]).toEqual([2, 0, 'ssnat-rewrite: export "iptables": the one format is nft (ssnat-rewrite export nft --rule GUEST=HOST@DEVICE ...)\n']);
  });

  it('the same network on two devices is fine (each device has its own chains), a rule file line is named', () => {
    const dir = tempDir();
    const rules = join(dir, 'r.txt');
    writeFileSync(rules, '10.0.0.0/24=192.168.11.0/24\n');
    const r = exportNft(['--rules-file', rules]);
    expect([r.code, r.stderr]).toEqual([2, `ssnat-rewrite: ${rules}:1: rule "10.0.0.0/24=192.168.11.0/24": export nft needs the device the rule goes on: add @DEVICE (e.g. 10.0.0.0/24=192.168.11.0/24@tap0)\n`]);
    const out = join(dir, 'o.nft');
    const same = exportNft(['--rules-file', rules, '-o', rules]);
    expect(same.code).toBe(2);
    expect(readFileSync(rules, 'utf8')).toBe('10.0.0.0/24=192.168.11.0/24\n');
    expect(existsSync(out)).toBe(false);
  });
});

// ---------------------------------------------------------------------------
// nft itself: `nft -c -f` and real loads, in a namespace made for the test

const NS = `ssnx-exp-${process.pid}`;
let nsReady = false;

function canNamespace(ctx: TestContext): void {
  needs(ctx, 'nft', 'ip');
  if (process.getuid?.() !== 0) ctx.skip('needs root (network namespaces, nft)');
  if (!nsReady) ctx.skip('could not create a network namespace here');
}

function inNs(cmd: string, args: string[], input?: string) {
  return spawnSync('ip', ['netns', 'exec', NS, cmd, ...args], { input, encoding: 'utf8' });
}

/** Taps in the namespace (tuntap: no module needed), by name. */
function addTaps(names: readonly string[]): void {
  for (const n of names) {
    const r = spawnSync('ip', ['-n', NS, 'tuntap', 'add', 'dev', n, 'mode', 'tap']);
    if (r.status !== 0) throw new Error(`ip tuntap add ${n}: ${r.stderr.toString()}`);
  }
}

function nftCheck(script: string) {
  return inNs('nft', ['-c', '-f', '-'], script);
}

beforeAll(() => {
  if (process.getuid?.() !== 0) return;
  try {
    execFileSync('ip', ['netns', 'add', NS], { stdio: 'ignore' });
    nsReady = true;
  } catch {
    nsReady = false;
  }
});
afterAll(() => {
  if (nsReady) spawnSync('ip', ['netns', 'del', NS]);
});

describe('export nft: nft 1.0.6 accepts what it makes', () => {
  const ODD = ['tap0', 'tap#1', 'vm-1.a_b', 'x$y{z};', "it's", 'back\\slash', 'ü-tap', '123', 'a,b=c', 'tap-15-bytes-ok', '-', '.x'];

  it('odd device names, each with IPv4 and IPv6 rules, pass nft -c; the chains are unique', (ctx) => {
    canNamespace(ctx);
    addTaps(ODD);
    const args = ODD.flatMap((d, i) => ['-r', `10.0.0.0/24=10.1.${i}.0/24@${d}`, '-r', `fd00::/64=fd00:1:${i}::/64@${d}`]);
    const r = exportNft(['-q', ...args]);
    expect(r.code).toBe(0);
    const check = nftCheck(r.stdout);
    expect([check.status, check.stderr]).toEqual([0, '']);
    const chains = [...r.stdout.matchAll(/^\tchain (\S+) \{$/gm)].map((m) => m[1]);
    expect(new Set(chains).size).toBe(chains.length);
    expect(chains).toContain('from_tap0');
    expect(chains).toContain('to_vm-1.a_b');
  });

  it('100 taps, IPv4 only and IPv6 only, pass nft -c; loading twice leaves one table with every chain', (ctx) => {
    canNamespace(ctx);
    const taps = Array.from({ length: 100 }, (_, i) => `ssnxt${i}`);
    addTaps(taps);
    const v4 = exportNft(['-q', ...taps.flatMap((t, i) => ['-r', `10.0.0.0/24=172.16.${i}.0/24@${t}`])]);
    const v6 = exportNft(['-q', '--table', 'six', ...taps.flatMap((t, i) => ['-r', `fd00::/64=fd00:${(i + 1).toString(16)}::/64@${t}`])]);
    for (const s of [v4, v6]) {
      expect(s.code).toBe(0);
      const check = nftCheck(s.stdout);
      expect([check.status, check.stderr]).toEqual([0, '']);
    }
    expect(v6.stdout).not.toContain(' ip saddr');
    expect(v4.stdout).not.toContain('ip6 ');
    for (let load = 0; load < 2; load++) {
      const r = inNs('nft', ['-f', '-'], v4.stdout);
      expect([r.status, r.stderr]).toEqual([0, '']);
    }
    const listed = inNs('nft', ['list', 'tables']).stdout;
    expect(listed).toBe('table netdev ssnat\n');
    const chains = inNs('nft', ['list', 'table', 'netdev', 'ssnat']).stdout.match(/^\tchain /gm) ?? [];
    expect(chains).toHaveLength(200);
    // what the kernel holds is the bitwise form: listed by nft 1.0.6 as "& NET|HOSTMASK | NET"
    expect(inNs('nft', ['list', 'chain', 'netdev', 'ssnat', 'from_ssnxt7']).stdout).toContain('ip saddr 10.0.0.0/24 ip saddr set ip saddr & 172.16.7.255 | 172.16.7.0');
    inNs('nft', ['delete', 'table', 'netdev', 'ssnat']);
  });

  it('prefixes of every length the rules accept (IPv4 /3../32, IPv6 /2../128) pass nft -c', (ctx) => {
    canNamespace(ctx);
    // The shortest prefixes that touch no special range: 192.0.0.0/3 (and 32.0.0.0/3), 4000::/2 and 8000::/2.
    expect(() => parseRule('128.0.0.0/2=192.0.0.0/2@x')).toThrow(/touches 169.254.0.0\/16/);
    expect(() => parseRule('0.0.0.0/1=128.0.0.0/1@x')).toThrow(/touches/);
    expect(() => parseRule('::/1=8000::/1@x')).toThrow(/touches/);
    expect(SPECIAL_RANGES.map((s) => formatPrefix(s.prefix))).toContain('240.0.0.0/4');
    // Host networks must not overlap anywhere, so each length is its own script, with its own table, in one file.
    addTaps(['ssnxlen']);
    const rules = [
      ...Array.from({ length: 30 }, (_, i) => `192.0.0.0/${i + 3}=32.0.0.0/${i + 3}@ssnxlen`),
      ...Array.from({ length: 127 }, (_, i) => `4000::/${i + 2}=8000::/${i + 2}@ssnxlen`),
    ];
    const scripts = rules.map((rule, i) => exportNftScript([parseRule(rule)], `len${i}`).script);
    expect(scripts[0]).toContain('\t\tip saddr 192.0.0.0/3 ip saddr set ip saddr & 31.255.255.255 | 32.0.0.0\n');
    expect(scripts[29]).toContain('\t\tip saddr 192.0.0.0 ip saddr set 32.0.0.0\n');
    expect(scripts[30]).toContain('\t\tip6 daddr 8000::/2 ip6 daddr set ip6 daddr & 3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff | 4000::\n');
    expect(scripts[155]).toContain('\t\tip6 saddr 4000::/127 ip6 saddr set ip6 saddr & ::1 | 8000::\n');
    expect(scripts[156]).toContain('\t\tip6 saddr 4000:: ip6 saddr set 8000::\n');
    const r = { stdout: scripts.join('\n') };
    const check = nftCheck(r.stdout);
    expect([check.status, check.stderr]).toEqual([0, '']);
  });
});

describe('export nft --mode conntrack-zones', () => {
  /** Reviewed by hand: one zone per device in order, the routes nft cannot set in the header, a name quoted for the shell. */
  const ZONES = `# ssnat-rewrite export nft --mode conntrack-zones: the host's stateful NAT keeps the clones apart,
# one conntrack zone per tap, from the rules
#   10.0.0.0/24=192.168.11.0/24@tap0
#   fd00::/64=fd00:11::/64@tap0
#   10.0.0.2/32=198.51.100.7/32@x$y
# Load as root with \`nft -f FILE\`. It replaces table inet ssnat in one transaction: loading it
# again leaves one table.
# Zone Z (1, 2, ...: the devices in order) is the tap's for the connections its guest opens; the
# guest networks are mapped onto the tap's host networks as they reach the host (host bits kept).
# Each tap carries the guests' gateway address (e.g. ip addr add 10.0.0.1/24 dev tap0). Needed
# too, and nft cannot set them: routes that send replies (marked with their zone) to their tap:
#   ip rule add fwmark 1 lookup 1001
#   ip route add 10.0.0.0/24 dev tap0 table 1001
#   ip route add 192.168.11.0/24 dev tap0
#   ip -6 rule add fwmark 1 lookup 1001
#   ip -6 route add fd00::/64 dev tap0 table 1001
#   ip -6 route add fd00:11::/64 dev tap0
#   ip rule add fwmark 2 lookup 1002
#   ip route add 10.0.0.2/32 dev 'x$y' table 1002
#   ip route add 198.51.100.7/32 dev 'x$y'
#
# Not translated here:
# - connections the host opens to a guest, and traffic the host forwards for the guests: the NAT is
#   on the input hook, so only what the guests send to the host itself is translated (and its
#   replies)
#   consequence: the host cannot reach a clone by its host-side address, and the clones' traffic
#                routed beyond the host still collides
#   remedy: use the stateless ruleset (export nft without --mode) where the host must reach the
#           clones or route their traffic

table inet ssnat {}
delete table inet ssnat
table inet ssnat {
\tchain zone_in {
\t\ttype filter hook prerouting priority raw; policy accept;
\t\tct original zone set iifname map { "tap0" : 1, "x$y" : 2 }
\t}

\tchain mark_out {
\t\ttype route hook output priority mangle; policy accept;
\t\tct original zone 1-2 meta mark set ct original zone
\t}

\tchain snat_in {
\t\ttype nat hook input priority 100; policy accept;
\t\tiifname "tap0" snat ip prefix to ip saddr map { 10.0.0.0/24 : 192.168.11.0/24 }
\t\tiifname "tap0" snat ip6 prefix to ip6 saddr map { fd00::/64 : fd00:11::/64 }
\t\tiifname "x$y" snat ip prefix to ip saddr map { 10.0.0.2/32 : 198.51.100.7/32 }
\t}
}
`;
  const ZONES_STDERR = `ssnat-rewrite: note: conntrack-zones needs policy routes nft cannot set (listed in the script too): ip rule add fwmark 1 lookup 1001; ip route add 10.0.0.0/24 dev tap0 table 1001; ip route add 192.168.11.0/24 dev tap0; ip -6 rule add fwmark 1 lookup 1001; ip -6 route add fd00::/64 dev tap0 table 1001; ip -6 route add fd00:11::/64 dev tap0; ip rule add fwmark 2 lookup 1002; ip route add 10.0.0.2/32 dev 'x$y' table 1002; ip route add 198.51.100.7/32 dev 'x$y'
ssnat-rewrite: note: the live ruleset does not translate connections the host opens to a guest, and traffic the host forwards for the guests: the NAT is on the input hook, so only what the guests send to the host itself is translated (and its replies); consequence: the host cannot reach a clone by its host-side address, and the clones' traffic routed beyond the host still collides; remedy: use the stateless ruleset (export nft without --mode) where the host must reach the clones or route their traffic
`;

  it('is exactly the reviewed text, its routes and its gap said once on stderr', () => {
    const r = exportNft(['--mode', 'conntrack-zones', '-r', '10.0.0.0/24=192.168.11.0/24@tap0', '-r', 'fd00::/64=fd00:11::/64@tap0', '-r', '10.0.0.2/32=198.51.100.7@x$y']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, ZONES, ZONES_STDERR]);
  });

  it('a network both guest and host on one device is fine here (the NAT applies once); a bad mode is exit 2', () => {
    const r = exportNft(['-q', '--mode', 'conntrack-zones', '-r', '10.0.0.0/24=10.0.1.0/24@tap0', '-r', '10.0.1.0/24=10.0.2.0/24@tap0']);
    expect(r.code).toBe(0);
    const bad = exportNft(['--mode', 'stateful', '-r', '10.0.0.0/24=192.168.11.0/24@tap0']);
    expect([bad.code, bad.stdout]).toEqual([2, '']);
    expect(bad.stderr).toContain("option '--mode <mode>' argument 'stateful' is invalid. Allowed choices are stateless, conntrack-zones.");
  });

  it('nft -c accepts it for odd names and 100 taps; loading twice leaves one table', (ctx) => {
    canNamespace(ctx);
    const odd = ['tap0', 'tap#1', 'x$y{z};', "it's", 'back\\slash', 'ü-tap', '123'];
    const many = Array.from({ length: 100 }, (_, i) => `t${i}`);
    for (const names of [odd, many]) {
      const r = exportNft(['-q', '--mode', 'conntrack-zones', ...names.flatMap((d, i) => ['-r', `10.0.0.0/24=10.${1 + (i >> 8)}.${i & 255}.0/24@${d}`, '-r', `fd00::/64=fd00:1:${i.toString(16)}::/64@${d}`])]);
      expect(r.code).toBe(0);
      const check = nftCheck(r.stdout);
      expect([check.status, check.stderr]).toEqual([0, '']);
    }
    const r = exportNft(['-q', '--mode', 'conntrack-zones', '--table', 'zones', '-r', '10.0.0.0/24=192.168.11.0/24@tap0']);
    expect(r.stdout).toContain('\t\tct original zone 1 meta mark set ct original zone\n');
    for (let load = 0; load < 2; load++) expect(inNs('nft', ['-f', '-'], r.stdout).status).toBe(0);
    expect(inNs('nft', ['list', 'tables']).stdout).toBe('table inet zones\n');
    inNs('nft', ['delete', 'table', 'inet', 'zones']);
  });
});
