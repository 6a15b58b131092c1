/**
 * NAT rule parsing and rule-set validation (docs/DESIGN.md part 1, "Rules").
 *
 * ```
 * RULE    := MAPPING [ '@' SCOPE ]
 * MAPPING := PREFIX '=' PREFIX           10.0.0.0/24=192.168.1.0/24   fd00::/64=fd00:1::/64
 *          | V4 ':' NETMASK ':' V4       172.16.0.0:255.255.255.0:192.168.1.0   (QEMU patch form)
 *          | V4PREFIX ':' V4PREFIX       10.0.0.0/24:192.168.1.0/24             (tcprewrite --pnat form)
 *          | PREFIX                      short form: host network from if_IPv4addr / if_IPv6addr
 * SCOPE   := IFACE | TUNNEL | IFACE '+' TUNNEL
 * IFACE   := if_name | '#'N
 * TUNNEL  := ('vni' | 'key' | 'teid') ':' ( ID [',' ID]... | '*' )
 * ID      := decimal | '0x' hex
 * ```
 *
 * `vni` is the 24-bit VNI of VXLAN, VXLAN-GPE and Geneve and the VSID of
 * NVGRE, `key` the 32-bit GRE key, `teid` the 32-bit GTP-U TEID; `*` is any
 * id of that kind. A tunnel-scoped rule applies only inside a matching tunnel.
 *
 * Every rejection is a `RuleError` whose message is one line of the form
 * `[source: ]rule "TEXT": what is wrong[; the fix]` and whose `column`
 * (0-based, into the trimmed rule text) points at the bad part.
 *
 * Decisions where the contract is silent:
 * - Host bits set in a prefix (10.0.0.5/24) are rejected, as `ip route` does,
 *   with the network address suggested.
 * - The guest prefix needs its length (a bare address is an error suggesting
 *   /32 or a network); the host length may be omitted in both two-prefix forms.
 * - IPv4 addresses must be four decimal parts (no `10.1`, no octal `010.0.0.1`),
 *   IPv6 zone indexes (`%eth0`) are rejected: scope with `@` instead.
 * - Whitespace around `=`, `:`, `@`, `+` and `,` is tolerated.
 * - A scope is a tunnel when it starts with a kind, a protocol's name for one
 *   (`vxlan`, `gre`, `gtp`...) or a near miss (`vnii`), then ":"; all but the
 *   kinds are errors naming the right kind. Other names stay interface names
 *   (`eth0:1`, libpcap's `nflog:5`). A "+" in a scope always introduces a
 *   tunnel (the last "+"): an interface whose name is like `vni:5` or holds a
 *   "+" is reached with `#N`.
 * - Tunnel ids are decimal or 0x hex; a list holds each id once, and `*`
 *   stands alone.
 * - Two rules may map the same guest network when their scopes differ: the
 *   interface scopes differ, or the tunnel scopes share no tunnel (a
 *   different kind or no common id; `*` shares with `*` only, as `all` with
 *   `all`). The first rule given wins where both apply.
 * - 169.254.0.0/16 (IPv4 link-local, RFC 3927) is special too: docs/DESIGN.md part 2
 *   says link-local addresses are never translated.
 */
import ipaddr from 'ipaddr.js';
import { RuleError } from '../errors.js';
import { formatAddress } from '../wire/address.js';
import { GRE_KEY_BITS, TEID_BITS, VNI_BITS, maxOfBits } from '../wire/tunnel.js';

export type Family = 4 | 6;

export type Scope = { kind: 'all' } | { kind: 'name'; name: string } | { kind: 'id'; id: number };

/** The tunnel identifiers a rule can be scoped to: `vni`, `key`, `teid`. */
export type TunnelKind = 'vni' | 'key' | 'teid';

/** A rule's tunnel scope: `vni:5001,5002`, `key:*`. */
export interface TunnelScope {
  readonly kind: TunnelKind;
  /** The ids (unsigned) in the order given, each once; null for `*`, any id of the kind. */
  readonly ids: readonly number[] | null;
}

/** What each tunnel kind names, for messages and range checks (widths: src/wire/tunnel.ts). */
export const TUNNEL_KINDS: Readonly<Record<TunnelKind, { readonly id: string; readonly bits: number; readonly max: number; readonly carriers: string }>> = {
  vni: { id: 'VNI', bits: VNI_BITS, max: maxOfBits(VNI_BITS), carriers: 'VXLAN, VXLAN-GPE, Geneve, NVGRE' },
  key: { id: 'GRE key', bits: GRE_KEY_BITS, max: maxOfBits(GRE_KEY_BITS), carriers: 'GRE' },
  teid: { id: 'TEID', bits: TEID_BITS, max: maxOfBits(TEID_BITS), carriers: 'GTP-U' },
};

/** A network: `bytes` holds the network address (4 or 16 bytes, host bits zero). */
export interface Prefix {
  readonly bytes: Uint8Array;
  readonly length: number;
}

export interface Rule {
  /** The rule as given, trimmed. */
  readonly text: string;
  readonly family: Family;
  readonly guest: Prefix;
  /** null: short form, the host network comes from the interface's address. */
  readonly host: Prefix | null;
  /** The interface scope (`all` when the rule names none, even with a tunnel scope). */
  readonly scope: Scope;
  /** The tunnel scope; absent when the rule applies everywhere (outer headers and every tunnel). */
  readonly tunnel?: TunnelScope;
  /** `rules.txt:12` when the rule came from a rules file. */
  readonly source?: string;
  /** Column (0-based, into `text`) of the guest prefix, for error messages. */
  readonly guestColumn?: number;
  /** Column of the host prefix (of the mapping when the host is implied). */
  readonly hostColumn?: number;
}

const V4_BYTES = 4;
const V6_BYTES = 16;
const BITS_PER_BYTE = 8;
/** Interface ids are 32-bit in pcapng (Enhanced Packet Block). */
export const MAX_INTERFACE_ID = 0xffff_ffff;

export const SCOPE_ALL: Scope = Object.freeze({ kind: 'all' });

// ---------------------------------------------------------------------------
// Prefix arithmetic

export function familyOf(p: Prefix): Family {
  return p.bytes.length === V4_BYTES ? 4 : 6;
}

function maxLength(family: Family): number {
  return (family === 4 ? V4_BYTES : V6_BYTES) * BITS_PER_BYTE;
}

/** The address with every bit after the first `length` cleared (a copy). */
export function networkBytes(addr: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(addr.length);
  for (let i = 0; i < addr.length; i++) {
    const bits = Math.min(Math.max(length - i * BITS_PER_BYTE, 0), BITS_PER_BYTE);
    out[i] = addr[i]! & ((0xff00 >> bits) & 0xff);
  }
  return out;
}

/** True when `a` and `b` agree on their first `length` bits. */
function sameLeadingBits(a: Uint8Array, b: Uint8Array, length: number): boolean {
  const na = networkBytes(a, length);
  const nb = networkBytes(b, length);
  return na.every((v, i) => v === nb[i]);
}

/** Two prefixes overlap when one contains the other (prefixes never partly overlap). */
export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  if (a.bytes.length !== b.bytes.length) return false;
  return sameLeadingBits(a.bytes, b.bytes, Math.min(a.length, b.length));
}

/** `10.0.0.0/24`, `fd00::/64` (RFC 5952 text for IPv6). */
export function formatPrefix(p: Prefix): string {
  return `${formatAddress(p.bytes)}/${p.length}`;
}

function parseCidr(text: string): Prefix {
  const [addr, length] = ipaddr.parseCIDR(text);
  return { bytes: Uint8Array.from(addr.toByteArray()), length };
}

/**
 * Ranges no rule may touch and no mapper ever translates: unspecified,
 * "this network", loopback, link-local, multicast, reserved and limited
 * broadcast [RFC 1122 3.2.1.3, RFC 3927, RFC 5771, RFC 1112 4, RFC 4291 2.4-2.5].
 */
export interface SpecialRange {
  readonly prefix: Prefix;
  readonly what: string;
}

export const SPECIAL_RANGES: readonly SpecialRange[] = [
  { prefix: parseCidr('0.0.0.0/8'), what: '"this network"' },
  { prefix: parseCidr('127.0.0.0/8'), what: 'loopback' },
  { prefix: parseCidr('169.254.0.0/16'), what: 'link-local' },
  { prefix: parseCidr('224.0.0.0/4'), what: 'multicast' },
  { prefix: parseCidr('240.0.0.0/4'), what: 'reserved, with broadcast 255.255.255.255' },
  { prefix: parseCidr('::/128'), what: 'unspecified' },
  { prefix: parseCidr('::1/128'), what: 'loopback' },
  { prefix: parseCidr('fe80::/10'), what: 'link-local' },
  { prefix: parseCidr('ff00::/8'), what: 'multicast' },
];

/** The first special range `p` touches, if any. */
export function specialRangeTouched(p: Prefix): SpecialRange | undefined {
  return SPECIAL_RANGES.find((s) => prefixesOverlap(s.prefix, p));
}

// ---------------------------------------------------------------------------
// Errors

interface Ctx {
  readonly rule: string;
  readonly source: string | undefined;
}

function ruleLabel(rule: string, source: string | undefined): string {
  return `${source ? `${source}: ` : ''}rule ${JSON.stringify(rule)}`;
}

/** Quotes user text so the message stays one line. */
const q = (text: string): string => JSON.stringify(text);

function fail(ctx: Ctx, column: number | undefined, what: string): never {
  throw new RuleError(`${ruleLabel(ctx.rule, ctx.source)}: ${what}`, ctx.rule, column, ctx.source);
}

// ---------------------------------------------------------------------------
// Lexing: pieces of the rule text that remember their column

interface Piece {
  readonly text: string;
  readonly col: number;
}

/** The trimmed piece `text[start, end)` of `p`, with its column. */
function slice(p: Piece, start: number, end = p.text.length): Piece {
  const raw = p.text.slice(start, end);
  const lead = raw.length - raw.trimStart().length;
  return { text: raw.trim(), col: p.col + start + lead };
}

function split(p: Piece, sep: string): Piece[] {
  const out: Piece[] = [];
  let start = 0;
  for (let i = p.text.indexOf(sep); i >= 0; i = p.text.indexOf(sep, start)) {
    out.push(slice(p, start, i));
    start = i + sep.length;
  }
  out.push(slice(p, start));
  return out;
}

// ---------------------------------------------------------------------------
// Addresses and prefixes

interface Address {
  readonly family: Family;
  readonly bytes: Uint8Array;
}

function parseAddress(p: Piece, ctx: Ctx, side: string): Address {
  const t = p.text;
  if (t === '') fail(ctx, p.col, `missing ${side}`);
  const zone = t.indexOf('%');
  if (zone >= 0) {
    fail(ctx, p.col + zone, `zone index ${q(t.slice(zone))} is not allowed; scope the rule with @INTERFACE instead`);
  }
  if (t.includes(':')) {
    if (!ipaddr.IPv6.isValid(t)) fail(ctx, p.col, `${q(t)} is not an IPv6 address`);
    return { family: 6, bytes: Uint8Array.from(ipaddr.IPv6.parse(t).toByteArray()) };
  }
  // Four decimal parts only: inet_aton's "10.1" and octal "010.0.0.1" are not accepted.
  if (!ipaddr.IPv4.isValidFourPartDecimal(t)) {
    const hint = /^[\d.]+$/.test(t) ? ' (write four decimal numbers 0-255, e.g. 10.0.0.0)' : '';
    fail(ctx, p.col, `${q(t)} is not an IPv4 address${hint}`);
  }
  return { family: 4, bytes: Uint8Array.from(ipaddr.IPv4.parse(t).toByteArray()) };
}

/** The prefix length of a contiguous IPv4 netmask, or null. */
function netmaskLength(text: string): number | null {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  return ipaddr.IPv4.parse(text).prefixLengthFromSubnetMask();
}

interface ParsedPrefix extends Address {
  readonly text: string;
  readonly length: number | null;
  /** Column of the '/' (or of where it belongs when the length is omitted). */
  readonly lengthCol: number;
  readonly col: number;
}

function parsePrefixPiece(p: Piece, ctx: Ctx, side: string): ParsedPrefix {
  if (p.text === '') fail(ctx, p.col, `missing ${side} prefix`);
  const slash = p.text.indexOf('/');
  if (slash < 0) {
    const a = parseAddress(p, ctx, `${side} prefix`);
    return { ...a, text: p.text, length: null, lengthCol: p.col + p.text.length, col: p.col };
  }
  const second = p.text.indexOf('/', slash + 1);
  if (second >= 0) fail(ctx, p.col + second, `${q(p.text)} has more than one "/"`);
  const addrPiece = slice(p, 0, slash);
  const a = parseAddress(addrPiece, ctx, `${side} prefix`);
  const lenText = p.text.slice(slash + 1).trim();
  const lengthCol = p.col + slash;
  if (lenText === '') fail(ctx, lengthCol, `missing prefix length after "/"`);
  if (!/^\d+$/.test(lenText)) {
    const asMask = a.family === 4 ? netmaskLength(lenText) : null;
    const hint = asMask !== null ? `; write the netmask as a length: did you mean ${addrPiece.text}/${asMask}?` : '';
    fail(ctx, lengthCol, `prefix length ${q(`/${lenText}`)} is not a number${hint}`);
  }
  const length = Number(lenText);
  const max = maxLength(a.family);
  if (length > max) fail(ctx, lengthCol, `prefix length /${lenText} is too long for IPv${a.family} (at most /${max})`);
  return { ...a, text: p.text, length, lengthCol, col: p.col };
}

/** Rejects host bits and special ranges; returns the prefix. */
function checkNetwork(a: Address, length: number, col: number, ctx: Ctx): Prefix {
  const net = networkBytes(a.bytes, length);
  if (!net.every((v, i) => v === a.bytes[i])) {
    fail(
      ctx,
      col,
      `${formatAddress(a.bytes)}/${length} has host bits set; did you mean ${formatPrefix({ bytes: net, length })}?`,
    );
  }
  const prefix: Prefix = { bytes: net, length };
  const special = specialRangeTouched(prefix);
  if (special) {
    fail(
      ctx,
      col,
      `${formatPrefix(prefix)} touches ${formatPrefix(special.prefix)} (${special.what}), which is never translated`,
    );
  }
  return prefix;
}

// ---------------------------------------------------------------------------
// Mappings

interface Mapping {
  readonly family: Family;
  readonly guest: Prefix;
  readonly host: Prefix | null;
  readonly guestColumn: number;
  readonly hostColumn: number;
}

/** `GUEST=HOST` and tcprewrite's `GUEST:HOST`: the host length may be omitted. */
function parsePair(gp: Piece, hp: Piece, ctx: Ctx): Mapping {
  const g = parsePrefixPiece(gp, ctx, 'guest');
  if (g.length === null) {
    const one = maxLength(g.family);
    fail(ctx, g.lengthCol, `guest prefix ${g.text} has no length (a network like ${g.text}/24, or ${g.text}/${one} for one address)`);
  }
  const guest = checkNetwork(g, g.length, g.col, ctx);
  const h = parsePrefixPiece(hp, ctx, 'host');
  if (h.family !== g.family) {
    fail(ctx, h.col, `mixed address families: guest ${formatPrefix(guest)} is IPv${g.family}, host ${h.text} is IPv${h.family}`);
  }
  if (h.length !== null && h.length !== g.length) {
    fail(ctx, h.lengthCol, `prefix lengths differ (/${g.length} vs /${h.length})`);
  }
  const host = checkNetwork(h, g.length, h.col, ctx);
  return { family: g.family, guest, host, guestColumn: g.col, hostColumn: h.col };
}

/** QEMU's `GUEST:NETMASK:HOST`; the netmask must be contiguous. */
function parseQemu(parts: readonly Piece[], ctx: Ctx): Mapping {
  const [gp, mp, hp] = parts as [Piece, Piece, Piece];
  for (const [p, side] of [[gp, 'guest address'], [mp, 'netmask'], [hp, 'host address']] as const) {
    const slash = p.text.indexOf('/');
    if (slash >= 0) fail(ctx, p.col + slash, `the QEMU form ADDR:NETMASK:ADDR takes no prefix length (in the ${side})`);
  }
  const g = parseAddress(gp, ctx, 'guest address');
  parseAddress(mp, ctx, 'netmask');
  const h = parseAddress(hp, ctx, 'host address');
  const length = netmaskLength(mp.text);
  if (length === null) {
    let hint = '; a netmask is ones then zeros, e.g. 255.255.255.0';
    if (nonzeroMask(gp.text)) hint = `; the netmask goes in the middle: did you mean ${mp.text}:${gp.text}:${hp.text}?`;
    else if (nonzeroMask(hp.text)) hint = `; the netmask goes in the middle: did you mean ${gp.text}:${hp.text}:${mp.text}?`;
    fail(ctx, mp.col, `netmask ${mp.text} is not contiguous${hint}`);
  }
  const guest = checkNetwork(g, length, gp.col, ctx);
  const host = checkNetwork(h, length, hp.col, ctx);
  return { family: 4, guest, host, guestColumn: gp.col, hostColumn: hp.col };
}

function nonzeroMask(text: string): boolean {
  const n = netmaskLength(text);
  return n !== null && n > 0;
}

/** The short form: a guest prefix alone. */
function parseShort(p: Piece, ctx: Ctx): Mapping {
  // `fd00::/64:fd01::/64`: someone used a ':' form with IPv6.
  const colonForm = /\/\d+\s*:/.exec(p.text);
  if (colonForm) {
    const colon = colonForm.index + colonForm[0].length - 1;
    const fixed = `${p.text.slice(0, colon).trim()}=${p.text.slice(colon + 1).trim()}`;
    fail(ctx, p.col + colon, `the ":" forms are IPv4-only; write IPv6 mappings with "=": did you mean ${fixed}?`);
  }
  const g = parsePrefixPiece(p, ctx, 'guest');
  if (g.length === null) {
    const one = maxLength(g.family);
    fail(ctx, g.lengthCol, `guest prefix ${g.text} has no length (a network like ${g.text}/24, or ${g.text}/${one} for one address)`);
  }
  const guest = checkNetwork(g, g.length, g.col, ctx);
  return { family: g.family, guest, host: null, guestColumn: g.col, hostColumn: g.col };
}

/** True when the text before the first ':' is a dotted IPv4 address or prefix (so ':' separates fields). */
function isIpv4ColonForm(text: string): boolean {
  const first = text.slice(0, text.indexOf(':')).trim();
  return first.includes('.') && /^[\d.]+(\/\S*)?$/.test(first);
}

function parseMapping(p: Piece, ctx: Ctx): Mapping {
  if (p.text === '') fail(ctx, p.col, 'missing mapping before "@"');
  if (p.text.startsWith('[')) {
    const m = /^\[([^\]]*)\]\s*:\s*\[([^\]]*)\]$/.exec(p.text);
    const hint = m ? `: did you mean ${m[1]}=${m[2]}?` : '';
    fail(ctx, p.col, `brackets are tcprewrite's IPv6 syntax; write IPv6 mappings as GUEST=HOST${hint}`);
  }
  const eq = p.text.indexOf('=');
  if (eq >= 0) {
    const second = p.text.indexOf('=', eq + 1);
    if (second >= 0) fail(ctx, p.col + second, 'more than one "="');
    return parsePair(slice(p, 0, eq), slice(p, eq + 1), ctx);
  }
  if (p.text.includes(':') && isIpv4ColonForm(p.text)) {
    const parts = split(p, ':');
    if (parts.length === 2) return parsePair(parts[0]!, parts[1]!, ctx);
    if (parts.length === 3) return parseQemu(parts, ctx);
    const third = p.text.split(':', 3).join(':').length;
    fail(ctx, p.col + third, 'too many ":" fields (QEMU form: ADDR:NETMASK:ADDR; tcprewrite form: PREFIX:PREFIX)');
  }
  // Two networks joined by something else than "=" ("10.0.0.0/24-192.168.1.0/24", "a/24 -> b/24").
  const joined = /^([0-9A-Fa-f:.]+\/\d+)(\s*(?:->|-|>|,|;|\s)\s*)([0-9A-Fa-f:.]+(?:\/\d+)?)$/.exec(p.text);
  if (joined !== null) {
    fail(ctx, p.col + joined[1]!.length, `expected "=" between the guest and the host network: did you mean ${joined[1]}=${joined[3]}?`);
  }
  return parseShort(p, ctx);
}

function parseInterface(p: Piece, ctx: Ctx): Scope {
  if (!p.text.startsWith('#')) return { kind: 'name', name: p.text };
  const digits = p.text.slice(1);
  const id = Number(digits);
  if (!/^\d+$/.test(digits) || id > MAX_INTERFACE_ID) {
    fail(ctx, p.col, `interface id ${q(p.text)} is not a number from 0 to ${MAX_INTERFACE_ID} (e.g. @#0 for the first interface)`);
  }
  return { kind: 'id', id };
}

/** `vni:5001`, `key :*`: letters then ":" (so `eth0:1` is never a tunnel). */
const TUNNEL_FORM = /^([A-Za-z]+)\s*:/;

/** Near misses of a kind (`vnii`, `kye`) are taken as tunnels, to be told the kind; farther words are names. */
const MAX_KIND_TYPO = 2;

/** Words people write for a tunnel kind, and the kind they mean. */
const KIND_ALIASES: Readonly<Record<string, TunnelKind>> = {
  vxlan: 'vni',
  gpe: 'vni',
  geneve: 'vni',
  nvgre: 'vni',
  vsid: 'vni',
  gre: 'key',
  gtp: 'teid',
  gtpu: 'teid',
};

/** Levenshtein distance, for the closest tunnel kind to a misspelt one. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length]!;
}

function closestKind(word: string): TunnelKind {
  const lower = word.toLowerCase();
  if (Object.hasOwn(KIND_ALIASES, lower)) return KIND_ALIASES[lower]!;
  const kinds = Object.keys(TUNNEL_KINDS) as TunnelKind[];
  return kinds.reduce((best, k) => (editDistance(lower, k) < editDistance(lower, best) ? k : best));
}

/**
 * True when a scope without "+" is a tunnel: a kind, a protocol's name for
 * one (`vxlan`) or a near miss, then ":". Other words stay interface names:
 * libpcap's `nflog:5` and `nfqueue:0` are interfaces a capture may record.
 */
function looksLikeTunnel(text: string): boolean {
  const form = TUNNEL_FORM.exec(text);
  if (form === null) return false;
  const word = form[1]!.toLowerCase();
  if (Object.hasOwn(KIND_ALIASES, word)) return true;
  return (Object.keys(TUNNEL_KINDS) as TunnelKind[]).some((k) => editDistance(word, k) <= MAX_KIND_TYPO);
}

const KINDS_HELP = `${(Object.keys(TUNNEL_KINDS) as TunnelKind[]).map((k) => `${k}: ${TUNNEL_KINDS[k].carriers}`).join('; ')}`;

/** A tunnel id: decimal or 0x hex, unsigned, at most the kind's maximum. */
function parseTunnelId(p: Piece, kind: TunnelKind, ctx: Ctx): number {
  const what = TUNNEL_KINDS[kind];
  if (!/^(?:\d+|0[xX][0-9A-Fa-f]+)$/.test(p.text)) fail(ctx, p.col, `${what.id} ${q(p.text)} is not a number (decimal, or hex with 0x)`);
  const id = Number(p.text);
  if (id > what.max) fail(ctx, p.col, `${what.id} ${p.text} is out of range: a ${what.id} is ${what.bits} bits, 0 to ${what.max}`);
  return id;
}

/** `KIND:IDS` with `iface` the interface part written before it (for suggestions). */
function parseTunnel(p: Piece, iface: string, ctx: Ctx): TunnelScope {
  const form = TUNNEL_FORM.exec(p.text)!;
  const word = form[1]!;
  const idsPiece = slice(p, form[0].length);
  if (!Object.hasOwn(TUNNEL_KINDS, word)) {
    const fix = `@${iface}${closestKind(word)}:${idsPiece.text}`;
    fail(ctx, p.col, `unknown tunnel kind ${q(word)}: did you mean ${fix}? (${KINDS_HELP}; an interface with this name is @#N)`);
  }
  const kind = word as TunnelKind;
  const what = TUNNEL_KINDS[kind];
  if (idsPiece.text === '') fail(ctx, idsPiece.col, `missing ${what.id} after "${kind}:" (an id like ${kind}:5001, a list like ${kind}:5001,5002, or ${kind}:* for any)`);
  if (idsPiece.text === '*') return { kind, ids: null };
  const ids: number[] = [];
  const texts: string[] = [];
  for (const item of split(idsPiece, ',')) {
    if (item.text === '') fail(ctx, item.col, `empty ${what.id} in the list ${q(idsPiece.text)} (a doubled or trailing ",")`);
    if (item.text === '*') fail(ctx, item.col, `"*" (any ${what.id}) stands alone, not in a list`);
    const id = parseTunnelId(item, kind, ctx);
    const before = ids.indexOf(id);
    if (before >= 0) {
      const as = texts[before] === item.text ? '' : ` (as ${texts[before]} and ${item.text})`;
      fail(ctx, item.col, `${what.id} ${id} is listed twice${as}`);
    }
    ids.push(id);
    texts.push(item.text);
  }
  return { kind, ids };
}

interface Scopes {
  readonly scope: Scope;
  readonly tunnel?: TunnelScope;
}

/** What follows "@": IFACE, TUNNEL or IFACE '+' TUNNEL. */
function parseScopes(p: Piece, atCol: number, ctx: Ctx): Scopes {
  if (p.text === '') fail(ctx, atCol, 'missing interface or tunnel after "@" (a name, #N for an interface id, or e.g. vni:5001)');
  const plus = p.text.lastIndexOf('+');
  if (plus < 0) {
    if (looksLikeTunnel(p.text)) return { scope: SCOPE_ALL, tunnel: parseTunnel(p, '', ctx) };
    return { scope: parseInterface(p, ctx) };
  }
  const ifacePiece = slice(p, 0, plus);
  const tunnelPiece = slice(p, plus + 1);
  if (!TUNNEL_FORM.test(tunnelPiece.text)) {
    fail(ctx, p.col + plus, `"+" must be followed by a tunnel: vni:ID, key:ID or teid:ID (e.g. @tap1+vni:5001); an interface whose name holds "+" is @#N`);
  }
  if (ifacePiece.text === '') fail(ctx, p.col + plus, `missing interface before "+" (a name, or #N; a tunnel alone is @${tunnelPiece.text})`);
  if (looksLikeTunnel(ifacePiece.text)) {
    fail(ctx, ifacePiece.col, `${q(ifacePiece.text)} before "+" is a tunnel, not an interface: a rule has one tunnel scope, after its interface (@IFACE+TUNNEL); an interface with this name is @#N`);
  }
  return { scope: parseInterface(ifacePiece, ctx), tunnel: parseTunnel(tunnelPiece, `${ifacePiece.text}+`, ctx) };
}

// ---------------------------------------------------------------------------
// Public API

/** Parses one rule (surrounding whitespace ignored). Throws RuleError. */
export function parseRule(text: string, source?: string): Rule {
  const rule = text.trim();
  const ctx: Ctx = { rule, source };
  if (rule === '') fail(ctx, 0, 'empty rule');
  const whole: Piece = { text: rule, col: 0 };
  // Interface names may contain odd characters, addresses never contain '@':
  // the scope is what follows the last '@'.
  const at = rule.lastIndexOf('@');
  const mapping = parseMapping(at >= 0 ? slice(whole, 0, at) : whole, ctx);
  const scopes: Scopes = at >= 0 ? parseScopes(slice(whole, at + 1), at, ctx) : { scope: SCOPE_ALL };
  return {
    text: rule,
    family: mapping.family,
    guest: mapping.guest,
    host: mapping.host,
    scope: scopes.scope,
    ...(scopes.tunnel !== undefined ? { tunnel: scopes.tunnel } : {}),
    guestColumn: mapping.guestColumn,
    hostColumn: mapping.hostColumn,
    ...(source !== undefined ? { source } : {}),
  };
}

/**
 * One rule a line; blank lines and `#` comments are skipped. A `#` starts a
 * comment at the start of a line or after whitespace, so `@#3` (interface id)
 * and names like `tap#1` are not comments. Each rule's source is `file:line`
 * (1-based). Does not check the set: call validateRuleSet on all rules.
 */
export function parseRulesFile(content: string, fileName: string): Rule[] {
  const rules: Rule[] = [];
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, i) => {
    const comment = /(^|\s)#/.exec(line);
    const text = (comment ? line.slice(0, comment.index) : line).trim();
    if (text !== '') rules.push(parseRule(text, `${fileName}:${i + 1}`));
  });
  return rules;
}

export function sameScope(a: Scope, b: Scope): boolean {
  if (a.kind === 'name' && b.kind === 'name') return a.name === b.name;
  if (a.kind === 'id' && b.kind === 'id') return a.id === b.id;
  return a.kind === b.kind;
}

export function describeScope(s: Scope): string {
  switch (s.kind) {
    case 'all':
      return 'all interfaces';
    case 'name':
      return `interface ${JSON.stringify(s.name)}`;
    case 'id':
      return `interface #${s.id}`;
  }
}

/**
 * The tunnel two rules' tunnel scopes both apply inside, described
 * (`VNI 5001`, `any GRE key`); '' when neither rule has a tunnel scope (both
 * apply everywhere); null when they share none: one has a tunnel scope and
 * the other not, the kinds differ, their lists have no id in common, or one
 * is `*` and the other a list (as `all` and an interface name are different
 * scopes).
 */
export function sharedTunnel(a: TunnelScope | undefined, b: TunnelScope | undefined): string | null {
  if (a === undefined || b === undefined) return a === b ? '' : null;
  if (a.kind !== b.kind) return null;
  const what = TUNNEL_KINDS[a.kind].id;
  if (a.ids === null || b.ids === null) return a.ids === b.ids ? `any ${what}` : null;
  const common = a.ids.find((id) => b.ids!.includes(id));
  return common === undefined ? null : `${what} ${common}`;
}

/** `rule "TEXT"` plus ` (rules.txt:3)` when it came from a file. */
export function describeRule(r: Rule): string {
  return `rule ${JSON.stringify(r.text)}${r.source ? ` (${r.source})` : ''}`;
}

function failRule(r: Rule, column: number | undefined, what: string): never {
  throw new RuleError(`${ruleLabel(r.text, r.source)}: ${what}`, r.text, column, r.source);
}

/**
 * Checks the set, blaming the later of two conflicting rules:
 * - guest prefixes must not overlap within one scope: the same interface
 *   scope (the same `all`, the same name or the same id) and a tunnel the
 *   two tunnel scopes share (sharedTunnel: both none, both `*` of one kind,
 *   or a common id). Across scopes they may: where both apply, the first
 *   rule given wins. The same guest network behind VNIs 5001 and 5002 (two
 *   clones) mapped onto two host networks is two rules of two scopes.
 * - host prefixes must not overlap in any scope, even two different
 *   interfaces: two guests mapped onto one host network is the very collision
 *   SSNAT exists to remove, and the host-to-guest direction could not tell
 *   them apart. Short-form rules are checked when their host network is known
 *   (RuleTable.mapperFor).
 */
export function validateRuleSet(rules: readonly Rule[]): void {
  rules.forEach((r, i) => {
    for (let j = 0; j < i; j++) {
      const earlier = rules[j]!;
      const tunnel = sameScope(r.scope, earlier.scope) ? sharedTunnel(r.tunnel, earlier.tunnel) : null;
      if (tunnel !== null && prefixesOverlap(r.guest, earlier.guest)) {
        failRule(
          r,
          r.guestColumn,
          `guest prefix ${formatPrefix(r.guest)} overlaps ${formatPrefix(earlier.guest)} of ${describeRule(earlier)} on ${describeScope(r.scope)}${tunnel === '' ? '' : ` inside ${tunnel}`}`,
        );
      }
      if (r.host && earlier.host && prefixesOverlap(r.host, earlier.host)) {
        failRule(
          r,
          r.hostColumn,
          `host prefix ${formatPrefix(r.host)} overlaps ${formatPrefix(earlier.host)} of ${describeRule(earlier)}; two guest networks must not share a host network`,
        );
      }
    }
  });
}

/** Used by the table to report a short-form rule's derived host network. */
export function ruleError(r: Rule, column: number | undefined, what: string): RuleError {
  return new RuleError(`${ruleLabel(r.text, r.source)}: ${what}`, r.text, column, r.source);
}
