/**
 * `export nft`: the rules as an nftables script that does on the host's taps,
 * live, what the offline rewrite does to a capture (issue 24).
 *
 * One `table netdev` with, per device, an ingress chain (frames from the
 * guest: guest to host) and an egress chain (frames to the guest: host to
 * guest, Linux 5.16 and later). Each chain rewrites the IPv4 and IPv6 source
 * and destination and the Ethernet/IPv4 ARP sender and target protocol
 * addresses with one payload statement per field, keeping host bits:
 * `ip saddr set ip saddr & 0.0.0.255 | 192.168.11.0` (nft 1.0.6 accepts the
 * bitwise form; the kernel computes `(addr & hostmask) ^ net` and updates the
 * IP header and TCP/UDP/ICMPv6 pseudo-header checksums itself).
 *
 * Decisions:
 * - The script opens with `table netdev T {}` + `delete table netdev T` and
 *   then the table: `nft -f` runs a file as one transaction, so loading it
 *   twice leaves one table, and a failed load leaves the old one.
 * - Special addresses need no exclusions: the rule parser refuses any prefix
 *   that touches a special range (rules.ts SPECIAL_RANGES), so no prefix here
 *   covers one, on either side.
 * - Only rules with a device name: a rule for every interface has no device
 *   to hook, `@#N` is a capture's interface id, a short-form rule's host
 *   network comes from a capture. Each is one line, exit 2.
 * - No tunnel scopes (`@tap0+vni:5001`): nft 1.0.6 rewrites the outer headers
 *   only (later versions can match inner headers, none can set them), so a
 *   rule for the packets inside a tunnel belongs on the device where the
 *   tunnel ends (a vxlan device's packets are the inner ones). One line, exit
 *   2, checked first: adding @DEVICE would not help.
 * - nft applies a chain's rules one after another, where the offline mapper
 *   applies the first matching rule once: when a rule's target network on a
 *   device is another rule's match network there, an address would be
 *   translated twice. Such a set is refused (exit 2) rather than exported
 *   wrong.
 */
import { UsageError, shownName } from '../errors.js';
import { formatAddress } from '../wire/address.js';
import { type Prefix, type Rule, formatPrefix, prefixesOverlap, ruleError, SPECIAL_RANGES } from './rules.js';

/** Linux IFNAMSIZ (16) less the terminating NUL. */
export const MAX_DEVICE_NAME_BYTES = 15;

/** The table the script (re)creates unless --table says otherwise. */
export const DEFAULT_TABLE = 'ssnat';

/** Why the kernel (dev_valid_name) or nft's quoted string would refuse a device name, or null. */
export function deviceNameProblem(name: string): string | null {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_DEVICE_NAME_BYTES) return `it is ${bytes} bytes long, and Linux allows at most ${MAX_DEVICE_NAME_BYTES}`;
  if (name === '.' || name === '..') return `Linux refuses "." and ".." as names`;
  const bad = /[/:\s"]/.exec(name);
  if (bad !== null) {
    const what = bad[0] === '"' ? 'a double quote (nft cannot quote it)' : bad[0] === '/' ? 'a "/"' : bad[0] === ':' ? 'a ":"' : 'whitespace';
    return `it holds ${what}, which ${bad[0] === '"' ? 'nft' : 'Linux'} refuses in a device name`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it holds a control character';
  return null;
}

/** nft 1.0.6's identifier (scanner.l `string`), which table and chain names must be unquoted. */
const NFT_IDENTIFIER = /^[A-Za-z_.][A-Za-z0-9/_.-]*$/;
/** --table: a plain name (no keyword check: nft's own error names a keyword). */
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export function checkTableName(name: string): void {
  if (!TABLE_NAME.test(name) || name.length > 255) {
    throw new UsageError(`--table ${JSON.stringify(name)} is not an nft table name: use letters, digits and _, starting with a letter (e.g. ssnat)`);
  }
}

/** What the live ruleset leaves out, each with its consequence and remedy: the script's header and stderr. */
export interface LiveGap {
  readonly what: string;
  readonly consequence: string;
  readonly remedy: string;
}

export const GAP_NDP: LiveGap = {
  what: 'IPv6 neighbour discovery: NS/NA/Redirect target addresses (nft 1.0.6 has no field for them and cannot ask the kernel to update the ICMPv6 checksum of a raw rewrite); link-layer address options stay, as offline',
  consequence: 'a solicitation crosses the tap naming an address the other side does not own, so IPv6 neighbour resolution between guest and host fails',
  remedy: 'static neighbours on both sides: on the host `ip -6 neigh replace HOST_SIDE_ADDR lladdr GUEST_MAC dev TAP nud permanent`, in the guest `ip -6 neigh replace GATEWAY lladdr TAP_MAC dev eth0 nud permanent`',
};

export const GAP_ICMP: LiveGap = {
  what: 'ICMP and ICMPv6 errors: the packet quoted inside (RFC 5508), and the gateway of an ICMP Redirect (nft rewrites only the outer header)',
  consequence: 'the guest receives errors quoting its host-side address, which its stack may not match to the connection (port unreachable unseen, path MTU discovery stalls)',
  remedy: 'none with stateless rules; keep guest MTUs at the path MTU, or use the host\'s stateful NAT, which translates quoted headers',
};

export const GAP_OTHER: LiveGap = {
  what: 'RARP, ARP of other hardware than Ethernet, and DCCP checksums (the kernel updates TCP, UDP, UDP-Lite and ICMPv6 checksums only)',
  consequence: 'such frames cross the tap with guest-side addresses, DCCP with a checksum that no longer checks',
  remedy: 'none needed on a QEMU tap, which carries Ethernet ARP; do not run DCCP across the translation',
};

export const GAP_TUNNELS: LiveGap = {
  what: 'packets inside tunnels (IP-in-IP, GRE, VXLAN): only the outer header is translated, as in the offline rewrite',
  consequence: 'the inner packets keep the guest-side addresses',
  remedy: 'end the tunnel in the guest or on the host, or give the inner networks distinct addresses',
};

export type NftMode = 'stateless' | 'conntrack-zones';

export interface NftExport {
  readonly script: string;
  /** What the ruleset leaves out, for stderr: one line each. */
  readonly gaps: readonly LiveGap[];
  /** What must be done outside nft (conntrack-zones: policy routes), for stderr: one line. */
  readonly needs?: string;
}

interface Mapping {
  readonly rule: Rule;
  readonly guest: Prefix;
  readonly host: Prefix;
}

interface Device {
  readonly name: string;
  readonly mappings: Mapping[];
}

/** The rules grouped by device, in the order devices first appear; refuses what nft cannot do. */
function devicesOf(rules: readonly Rule[], stateless: boolean): Device[] {
  const devices = new Map<string, Device>();
  for (const r of rules) {
    const mapping = `${formatPrefix(r.guest)}=${r.host ? formatPrefix(r.host) : 'HOST'}`;
    if (r.tunnel !== undefined) {
      const end = r.tunnel.kind === 'vni' ? `vxlan${r.tunnel.ids?.[0] ?? 0}` : r.tunnel.kind === 'key' ? 'gre1' : 'gtp1';
      throw ruleError(
        r,
        undefined,
        `export nft cannot limit a rule to a tunnel: nftables rewrites only the outer headers, not the packets inside VXLAN, Geneve, GRE or GTP-U; put the rule without its tunnel scope on the device where the tunnel ends, whose packets are the inner ones (e.g. ${mapping}@${end}), or rewrite captures offline`,
      );
    }
    const example = `${mapping}@tap0`;
    if (r.scope.kind === 'all') throw ruleError(r, undefined, `export nft needs the device the rule goes on: add @DEVICE (e.g. ${example})`);
    if (r.scope.kind === 'id') throw ruleError(r, undefined, `export nft needs a device name, not a capture's interface id #${r.scope.id}: write the tap's name (e.g. ${example})`);
    if (r.host === null) throw ruleError(r, undefined, `export nft needs the host network, which only a capture's interface address gives the short form: write GUEST=HOST (e.g. ${formatPrefix(r.guest)}=HOST/${r.guest.length}@${r.scope.name})`);
    const problem = deviceNameProblem(r.scope.name);
    if (problem !== null) throw ruleError(r, undefined, `device name ${JSON.stringify(r.scope.name)} cannot be hooked: ${problem}`);
    const d = devices.get(r.scope.name) ?? { name: r.scope.name, mappings: [] };
    for (const m of stateless ? d.mappings : []) {
      if (prefixesOverlap(r.guest, m.host) || prefixesOverlap(r.host, m.guest)) {
        throw ruleError(
          r,
          undefined,
          `on device ${JSON.stringify(d.name)} one network is both a guest and a host network (with rule ${JSON.stringify(m.rule.text)}): nft applies a chain's rules one after another and would translate such an address twice; map onto networks no other rule of the device matches`,
        );
      }
    }
    d.mappings.push({ rule: r, guest: r.guest, host: r.host });
    devices.set(d.name, d);
  }
  return [...devices.values()];
}

/** The host-bits mask of a prefix: `0.0.0.255` for a /24. */
function hostMask(p: Prefix): string {
  const bytes = new Uint8Array(p.bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.min(Math.max(p.length - i * 8, 0), 8);
    bytes[i] = ~(0xff00 >> bits) & 0xff;
  }
  return formatAddress(bytes);
}

/** `FIELD set FIELD & HOSTMASK | NET` (or `FIELD set ADDR` for a single address). */
function setTo(field: string, to: Prefix): string {
  const full = to.bytes.length * 8;
  if (to.length === full) return `${field} set ${formatAddress(to.bytes)}`;
  return `${field} set ${field} & ${hostMask(to)} | ${formatAddress(to.bytes)}`;
}

/** One direction's statements: each field of each mapping, `from` matched, `to` written. */
function statements(mappings: readonly Mapping[], way: 'in' | 'out'): string[] {
  const lines: string[] = [];
  for (const m of mappings) {
    const from = way === 'in' ? m.guest : m.host;
    const to = way === 'in' ? m.host : m.guest;
    const match = formatPrefix(from).replace(/\/(32|128)$/, '');
    if (from.bytes.length === 4) {
      for (const f of ['ip saddr', 'ip daddr']) lines.push(`${f} ${match} ${setTo(f, to)}`);
      for (const f of ['arp saddr ip', 'arp daddr ip']) lines.push(`arp htype 1 arp ptype ip arp hlen 6 arp plen 4 ${f} ${match} ${setTo(f, to)}`);
    } else {
      for (const f of ['ip6 saddr', 'ip6 daddr']) lines.push(`${f} ${match} ${setTo(f, to)}`);
    }
  }
  return lines;
}

/** Unique unquoted chain names: `from_tap0`/`to_tap0`, a number where the name cannot be an identifier. */
function chainNames(devices: readonly Device[]): string[] {
  const used = new Set<string>();
  return devices.map((d, i) => {
    let base = NFT_IDENTIFIER.test(`dev_${d.name}`) ? d.name : `dev${i}`;
    while (used.has(base)) base = `${base}_${i}`;
    used.add(base);
    return base;
  });
}

/** The canonical text of a mapping (rule texts may hold line breaks around "="; a file name, anything: one comment line). */
function mappingText(m: Mapping, device: string): string {
  return `${formatPrefix(m.guest)}=${formatPrefix(m.host)}@${device}${m.rule.source ? `  (${shownName(m.rule.source)})` : ''}`;
}

/** Comment lines of at most `width` characters: `# PREFIX text...`, continued under the text. */
function wrap(prefix: string, text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = `# ${prefix}`;
  const indent = ' '.repeat(line.length);
  let empty = true;
  for (const w of text.split(' ')) {
    if (!empty && line.length + 1 + w.length > width) {
      lines.push(line);
      line = `#${indent.slice(1)}${w}`;
    } else line = empty ? `${line}${w}` : `${line} ${w}`;
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** One line for stderr: what, consequence, remedy. */
export function gapLine(g: LiveGap): string {
  return `the live ruleset does not translate ${g.what}; consequence: ${g.consequence}; remedy: ${g.remedy}`;
}

/** The nft script for the rules (validated as a set already). Throws RuleError for what nft cannot hook. */
export function exportNft(rules: readonly Rule[], table = DEFAULT_TABLE, mode: NftMode = 'stateless'): NftExport {
  checkTableName(table);
  if (rules.length === 0) throw new UsageError('export nft needs rules: give --rule GUEST=HOST@DEVICE or --rules-file FILE');
  if (mode === 'conntrack-zones') return exportZones(rules, table);
  const devices = devicesOf(rules, true);
  const names = chainNames(devices);
  const hasV6 = rules.some((r) => r.family === 6);
  const gaps = [...(hasV6 ? [GAP_NDP] : []), GAP_ICMP, GAP_OTHER, GAP_TUNNELS];
  const specials = SPECIAL_RANGES.map((s) => formatPrefix(s.prefix)).join(', ');

  const out: string[] = [];
  out.push('# ssnat-rewrite export nft: stateless static NAT on the host\'s taps, from the rules');
  devices.forEach((d) => d.mappings.forEach((m) => out.push(`#   ${mappingText(m, d.name)}`)));
  out.push(
    '# Load as root with `nft -f FILE` (the egress hook needs Linux 5.16 or later). It replaces',
    `# table netdev ${table} in one transaction: loading it again leaves one table.`,
    '# Per device, chain from_DEV (ingress: guest to host) and chain to_DEV (egress: host to guest)',
    '# rewrite IPv4, IPv6 and ARP addresses keeping host bits; the kernel updates the checksums.',
    ...wrap('', `Special addresses are never translated, as offline: no rule may touch ${specials}.`),
    '#',
    '# Not translated here, unlike the offline rewrite (`ssnat-rewrite verify` names such frames):',
  );
  for (const g of gaps) {
    out.push(...wrap('- ', g.what));
    out.push(...wrap('  consequence: ', g.consequence));
    out.push(...wrap('  remedy: ', g.remedy));
  }
  out.push('', `table netdev ${table} {}`, `delete table netdev ${table}`, `table netdev ${table} {`);
  devices.forEach((d, i) => {
    const dev = `"${d.name}"`; // deviceNameProblem: no '"' in it
    if (i > 0) out.push('');
    out.push(`\tchain from_${names[i]} {`, `\t\ttype filter hook ingress device ${dev} priority 0; policy accept;`);
    for (const s of statements(d.mappings, 'in')) out.push(`\t\t${s}`);
    out.push('\t}', '', `\tchain to_${names[i]} {`, `\t\ttype filter hook egress device ${dev} priority 0; policy accept;`);
    for (const s of statements(d.mappings, 'out')) out.push(`\t\t${s}`);
    out.push('\t}');
  });
  out.push('}', '');
  return { script: out.join('\n'), gaps };
}

// ---------------------------------------------------------------------------
// --mode conntrack-zones: the host's own stateful NAT, one conntrack zone per tap

/** Policy routing tables of conntrack-zones: table ZONE_TABLE_BASE + zone. */
export const ZONE_TABLE_BASE = 1000;

export const GAP_ZONES: LiveGap = {
  what: 'connections the host opens to a guest, and traffic the host forwards for the guests: the NAT is on the input hook, so only what the guests send to the host itself is translated (and its replies)',
  consequence: 'the host cannot reach a clone by its host-side address, and the clones\' traffic routed beyond the host still collides',
  remedy: 'use the stateless ruleset (export nft without --mode) where the host must reach the clones or route their traffic',
};

/**
 * The stateful alternative (issue 24): conntrack keeps the clones apart
 * instead of rewriting every frame. In a raw-priority prerouting chain each
 * tap's packets get the tap's conntrack zone for the original direction
 * (`ct original zone set iifname map`), so identical tuples from different
 * clones are different connections; the reply direction stays in the default
 * zone, where the source NAT below made its tuples unique, so replies find
 * their connection without a zone of their own. A NAT input chain maps each
 * tap's guest networks onto its host networks (`snat ip prefix to ip saddr
 * map`, host bits kept), so the host's sockets see distinct peers. Replies
 * are un-NATed in the output path, where the kernel routes them again by
 * their guest address: the output route chain marks them with their
 * connection's zone, and policy routes (printed, not loaded: nft cannot)
 * send mark Z out of the tap of zone Z.
 */
/** A device name as one shell word: as it is when plain, else in single quotes. */
function shellWord(name: string): string {
  return /^[A-Za-z0-9_.@%+=,-]+$/.test(name) ? name : `'${name.replaceAll("'", `'\\''`)}'`;
}

function exportZones(rules: readonly Rule[], table: string): NftExport {
  const devices = devicesOf(rules, false);
  if (devices.length > 0xffff) throw new UsageError(`--mode conntrack-zones: ${devices.length} devices, and conntrack has 65535 zones`);
  const routes: string[] = [];
  devices.forEach((d, i) => {
    const zone = i + 1;
    for (const v of [4, 6] as const) {
      const ms = d.mappings.filter((m) => (m.guest.bytes.length === 4) === (v === 4));
      if (ms.length === 0) continue;
      const ip = v === 4 ? 'ip' : 'ip -6';
      routes.push(`${ip} rule add fwmark ${zone} lookup ${ZONE_TABLE_BASE + zone}`);
      for (const m of ms) routes.push(`${ip} route add ${formatPrefix(m.guest)} dev ${shellWord(d.name)} table ${ZONE_TABLE_BASE + zone}`);
      for (const m of ms) routes.push(`${ip} route add ${formatPrefix(m.host)} dev ${shellWord(d.name)}`);
    }
  });
  const out: string[] = [];
  out.push('# ssnat-rewrite export nft --mode conntrack-zones: the host\'s stateful NAT keeps the clones apart,');
  out.push('# one conntrack zone per tap, from the rules');
  devices.forEach((d) => d.mappings.forEach((m) => out.push(`#   ${mappingText(m, d.name)}`)));
  out.push(
    `# Load as root with \`nft -f FILE\`. It replaces table inet ${table} in one transaction: loading it`,
    '# again leaves one table.',
    '# Zone Z (1, 2, ...: the devices in order) is the tap\'s for the connections its guest opens; the',
    '# guest networks are mapped onto the tap\'s host networks as they reach the host (host bits kept).',
    '# Each tap carries the guests\' gateway address (e.g. ip addr add 10.0.0.1/24 dev tap0). Needed',
    '# too, and nft cannot set them: routes that send replies (marked with their zone) to their tap:',
    ...routes.map((r) => `#   ${r}`),
    '#',
    '# Not translated here:',
  );
  out.push(...wrap('- ', GAP_ZONES.what), ...wrap('  consequence: ', GAP_ZONES.consequence), ...wrap('  remedy: ', GAP_ZONES.remedy));
  const zones = devices.length === 1 ? '1' : `1-${devices.length}`;
  const zoneMap = devices.map((d, i) => `"${d.name}" : ${i + 1}`).join(', ');
  out.push(
    '',
    `table inet ${table} {}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '	chain zone_in {',
    '		type filter hook prerouting priority raw; policy accept;',
    `		ct original zone set iifname map { ${zoneMap} }`,
    '	}',
    '',
    '	chain mark_out {',
    '		type route hook output priority mangle; policy accept;',
    `		ct original zone ${zones} meta mark set ct original zone`,
    '	}',
    '',
    '	chain snat_in {',
    '		type nat hook input priority 100; policy accept;',
  );
  for (const d of devices) {
    for (const m of d.mappings) {
      const f = m.guest.bytes.length === 4 ? 'ip' : 'ip6';
      out.push(`		iifname "${d.name}" snat ${f} prefix to ${f} saddr map { ${formatPrefix(m.guest)} : ${formatPrefix(m.host)} }`);
    }
  }
  out.push('	}', '}', '');
  return { script: out.join('\n'), gaps: [GAP_ZONES], needs: `conntrack-zones needs policy routes nft cannot set (listed in the script too): ${routes.join('; ')}` };
}
