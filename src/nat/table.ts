/**
 * The compiled rule table: per capture interface, an `InterfaceMapper` that
 * translates addresses with `mapped = (addr & ~mask) | (net & mask)` without
 * string work or allocation (docs/DESIGN.md part 1 "Rules", part 2).
 *
 * Layout: each applicable rule becomes one entry of (match net, match mask,
 * replacement net) in Int32Arrays, in the order given, so the first entry that
 * matches is the first rule that matches. Values stay in the signed 32-bit
 * domain (`a & m` is an int32, so no heap numbers); map4 converts its result
 * with `>>> 0`.
 *
 * Up to HASH_THRESHOLD entries per family are scanned linearly. Above it,
 * entries are grouped by prefix length, each group an open-addressing hash
 * table keyed by `addr & mask`; a lookup probes every group and keeps the hit
 * with the smallest entry index, so first-match order holds even when
 * prefixes of different lengths overlap (possible across scopes). Groups are
 * sorted by their smallest entry index, so the scan stops as soon as no later
 * group can hold an earlier entry.
 *
 * Tunnel scopes: an interface's mapper holds the rules that apply everywhere;
 * `inTunnel(kind, id)` gives the mapper of the same rules plus those scoped to
 * that tunnel (nested: plus those of every tunnel entered), each compiled as
 * above, once per set of rules, and remembered per (kind, id) in the mapper
 * it was asked of, so the translator's lookups allocate nothing.
 */
import type { CaptureInterface } from '../capture/interface.js';
import { type InterfaceMapper, SCOPE_KEY, SCOPE_TEID, SCOPE_VNI } from './mapper.js';
import {
  type Family,
  type Prefix,
  type Rule,
  type TunnelKind,
  describeRule,
  formatPrefix,
  networkBytes,
  prefixesOverlap,
  ruleError,
  specialRangeTouched,
  validateRuleSet,
} from './rules.js';

export type Direction = 'guest-to-host' | 'host-to-guest';

/** Above this many entries of one family, lookups use the per-length hash tables. */
export const HASH_THRESHOLD = 8;

const WORD_BITS = 32;
const V6_WORDS = 4;
/** Fibonacci hashing multiplier (2^32 / golden ratio). */
const HASH_MULTIPLIER = 0x9e3779b1 | 0;
/** Smallest hash table: 2 bits, so the `>>> (32 - bits)` shift is never 32. */
const MIN_TABLE_BITS = 2;

/** One compiled translation: addresses in `match` become the same host bits in `replace`. */
export interface MapEntry {
  /** Index into the rule list as given (reported as lastRule). */
  readonly ruleIndex: number;
  readonly match: Prefix;
  readonly replace: Prefix;
}

/** The mapper's SCOPE_* number of a rule's tunnel kind. */
export const SCOPE_OF_KIND: Readonly<Record<TunnelKind, number>> = { vni: SCOPE_VNI, key: SCOPE_KEY, teid: SCOPE_TEID };
/** One past the largest SCOPE_* number: per-kind arrays are indexed by it. */
const SCOPE_SLOTS = SCOPE_TEID + 1;

/** The tunnel scope of an entry: SCOPE_* kind, and its ids (unsigned; null: `*`). */
export interface TunnelEntry {
  readonly kind: number;
  readonly ids: readonly number[] | null;
}

// ---------------------------------------------------------------------------
// Word helpers

/** The 32-bit mask of word `word` (0-based) for a prefix of `length` bits, as int32. */
function maskWord(length: number, word: number): number {
  const bits = Math.min(Math.max(length - word * WORD_BITS, 0), WORD_BITS);
  return bits === 0 ? 0 : (-1 << (WORD_BITS - bits)) | 0;
}

/** Big-endian 32-bit word `word` of `bytes`, as int32. */
function readWord(bytes: Uint8Array, off: number): number {
  return (bytes[off]! << 24) | (bytes[off + 1]! << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!;
}

function tableBits(count: number): number {
  let bits = MIN_TABLE_BITS;
  while (1 << bits < count * 2) bits++;
  return bits;
}

/** Hash slot of a (masked) key: top `bits` bits of key * golden ratio. */
function slotOf(key: number, bits: number): number {
  return Math.imul(key, HASH_MULTIPLIER) >>> (WORD_BITS - bits);
}

function mix6(k0: number, k1: number, k2: number, k3: number): number {
  return Math.imul(Math.imul(Math.imul(k0, HASH_MULTIPLIER) ^ k1, HASH_MULTIPLIER) ^ k2, HASH_MULTIPLIER) ^ k3;
}

// ---------------------------------------------------------------------------
// Special addresses: never translated [docs/DESIGN.md part 2; RFC 1122 3.2.1.3, RFC 3927, RFC 4291 2.4]

/** 0/8, 127/8, 169.254/16, 224/4 (multicast), 240/4 (reserved, with 255.255.255.255). */
function isSpecial4(a: number): boolean {
  const top = a >>> 24;
  return top === 0 || top === 127 || top >= 224 || a >>> 16 === 0xa9fe;
}

/** ::, ::1, fe80::/10, ff00::/8. */
function isSpecial6(w0: number, w1: number, w2: number, w3: number): boolean {
  const top = w0 >>> 24;
  if (top === 0xff || w0 >>> 22 === 0x3fa) return true;
  return w0 === 0 && w1 === 0 && w2 === 0 && (w3 === 0 || w3 === 1);
}

// ---------------------------------------------------------------------------
// Compilation

interface Groups {
  /** Per group: mask words (1 or 4 per group). */
  readonly mask: Int32Array;
  /** Per group: the smallest entry index in it. */
  readonly minEntry: Int32Array;
  /** Per group: offset of its table in `slots`, and its log2 size. */
  readonly offset: Int32Array;
  readonly bits: Int32Array;
  /** Entry index + 1, 0 = empty. */
  readonly slots: Int32Array;
}

/**
 * Builds the per-length hash tables. `hash(e)` is the hash of entry e's net;
 * `sameNet(a, b)` compares two entries' nets (same length implied).
 */
function buildGroups(
  lengths: readonly number[],
  words: number,
  hash: (entry: number) => number,
  sameNet: (a: number, b: number) => boolean,
): Groups {
  const byLength = new Map<number, number[]>();
  lengths.forEach((len, e) => {
    const list = byLength.get(len) ?? [];
    list.push(e);
    byLength.set(len, list);
  });
  // Map preserves insertion order: groups come out sorted by their first (smallest) entry.
  const groups = [...byLength.entries()];
  const mask = new Int32Array(groups.length * words);
  const minEntry = new Int32Array(groups.length);
  const offset = new Int32Array(groups.length);
  const bits = new Int32Array(groups.length);
  let total = 0;
  groups.forEach(([len, list], g) => {
    for (let w = 0; w < words; w++) mask[g * words + w] = maskWord(len, w);
    minEntry[g] = list[0]!;
    bits[g] = tableBits(list.length);
    offset[g] = total;
    total += 1 << bits[g]!;
  });
  const slots = new Int32Array(total);
  groups.forEach(([, list], g) => {
    const size = 1 << bits[g]!;
    for (const e of list) {
      let s = slotOf(hash(e), bits[g]!);
      let duplicate = false;
      while (slots[offset[g]! + s] !== 0) {
        // The same net twice: the earlier entry wins, the later one can never match.
        if (sameNet(slots[offset[g]! + s]! - 1, e)) {
          duplicate = true;
          break;
        }
        s = (s + 1) & (size - 1);
      }
      if (!duplicate) slots[offset[g]! + s] = e + 1;
    }
  });
  return { mask, minEntry, offset, bits, slots };
}

/**
 * What the mappers of one interface share when some of its rules are scoped
 * to tunnels: every applicable entry in rule order (`tunnel[i]` null for an
 * entry that applies everywhere), the ids listed per kind, and the mappers
 * compiled so far, one per set of entries (so a nested tunnel that adds
 * nothing, or two paths to the same set, reuse one).
 */
class TunnelRules {
  /**
   * Per SCOPE_* kind: the ids some rule lists (ids outside it are matched by
   * `*` only), as int32 (`id | 0`): a 32-bit id above 2^31 stays a small
   * integer, so looking it up allocates nothing.
   */
  readonly listed: ReadonlyArray<ReadonlySet<number>>;
  readonly #mappers = new Map<string, CompiledMapper>();

  constructor(
    readonly entries: readonly MapEntry[],
    readonly tunnel: ReadonlyArray<TunnelEntry | null>,
    readonly texts: readonly string[],
    readonly hashThreshold: number,
  ) {
    const listed = Array.from({ length: SCOPE_SLOTS }, () => new Set<number>());
    for (const t of tunnel) for (const id of t?.ids ?? []) listed[t!.kind]!.add(id | 0);
    this.listed = listed;
  }

  /** The mapper of the entries flagged in `included` (one byte per entry). */
  mapperOf(included: Uint8Array, active: boolean): CompiledMapper {
    const key = included.join('');
    let m = this.#mappers.get(key);
    if (m === undefined) {
      m = new CompiledMapper(this.entries.filter((_, i) => included[i] === 1), this.texts, this.hashThreshold, this, included, active);
      this.#mappers.set(key, m);
    }
    return m;
  }

  /** `parent`'s entries plus those scoped to (kind, id) (id -1: an id no rule lists, so `*` only). */
  child(parent: CompiledMapper, included: Uint8Array, kind: number, id: number): CompiledMapper {
    const next = included.slice();
    let added = false;
    this.tunnel.forEach((t, i) => {
      if (t === null || t.kind !== kind || next[i] === 1) return;
      if (t.ids === null ? true : id >= 0 && t.ids.includes(id)) {
        next[i] = 1;
        added = true;
      }
    });
    return added ? this.mapperOf(next, true) : parent;
  }
}

/**
 * The mapper for one interface (or for a place inside tunnels on it). A class
 * so the hot methods live on one prototype and the translator's call sites
 * stay monomorphic; both the linear and the hashed paths are in it for the
 * same reason.
 */
class CompiledMapper implements InterfaceMapper {
  readonly active: boolean;
  lastRule = -1;

  /** Null when no rule of the interface is scoped to a tunnel: inTunnel is `this`. */
  private readonly tunnels: TunnelRules | null;
  /** Which of `tunnels.entries` this mapper holds. */
  private readonly included: Uint8Array | null;
  /** Per SCOPE_* kind: the mapper inside each listed id met so far (keyed by `id | 0`), and inside any other id. */
  private readonly byId: Array<Map<number, InterfaceMapper>>;
  private readonly anyId: Array<InterfaceMapper | undefined>;
  private readonly texts: readonly string[];
  // IPv4: one word per entry.
  private readonly n4: number;
  private readonly net4: Int32Array;
  private readonly mask4: Int32Array;
  private readonly repl4: Int32Array;
  private readonly rule4: Int32Array;
  private readonly groups4: Groups | null;
  // IPv6: four words per entry.
  private readonly n6: number;
  private readonly net6: Int32Array;
  private readonly mask6: Int32Array;
  private readonly repl6: Int32Array;
  private readonly rule6: Int32Array;
  private readonly groups6: Groups | null;

  constructor(
    entries: readonly MapEntry[],
    texts: readonly string[],
    hashThreshold: number,
    tunnels: TunnelRules | null = null,
    included: Uint8Array | null = null,
    active = entries.length > 0,
  ) {
    this.texts = texts;
    this.tunnels = tunnels;
    this.included = included;
    this.byId = tunnels === null ? [] : Array.from({ length: SCOPE_SLOTS }, () => new Map<number, InterfaceMapper>());
    this.anyId = tunnels === null ? [] : new Array<InterfaceMapper | undefined>(SCOPE_SLOTS).fill(undefined);
    const v4 = entries.filter((e) => e.match.bytes.length === 4);
    const v6 = entries.filter((e) => e.match.bytes.length === 16);
    this.active = active;

    this.n4 = v4.length;
    this.net4 = new Int32Array(v4.map((e) => readWord(e.match.bytes, 0)));
    this.mask4 = new Int32Array(v4.map((e) => maskWord(e.match.length, 0)));
    this.repl4 = new Int32Array(v4.map((e) => readWord(networkBytes(e.replace.bytes, e.match.length), 0)));
    this.rule4 = new Int32Array(v4.map((e) => e.ruleIndex));
    const net4 = this.net4;
    this.groups4 =
      v4.length > hashThreshold
        ? buildGroups(
            v4.map((e) => e.match.length),
            1,
            (e) => net4[e]!,
            (a, b) => net4[a] === net4[b],
          )
        : null;

    this.n6 = v6.length;
    this.net6 = new Int32Array(v6.length * V6_WORDS);
    this.mask6 = new Int32Array(v6.length * V6_WORDS);
    this.repl6 = new Int32Array(v6.length * V6_WORDS);
    this.rule6 = new Int32Array(v6.map((e) => e.ruleIndex));
    v6.forEach((e, i) => {
      const repl = networkBytes(e.replace.bytes, e.match.length);
      for (let w = 0; w < V6_WORDS; w++) {
        this.net6[i * V6_WORDS + w] = readWord(e.match.bytes, w * 4);
        this.mask6[i * V6_WORDS + w] = maskWord(e.match.length, w);
        this.repl6[i * V6_WORDS + w] = readWord(repl, w * 4);
      }
    });
    const net6 = this.net6;
    const at = (e: number, w: number): number => net6[e * V6_WORDS + w]!;
    this.groups6 =
      v6.length > hashThreshold
        ? buildGroups(
            v6.map((e) => e.match.length),
            V6_WORDS,
            (e) => mix6(at(e, 0), at(e, 1), at(e, 2), at(e, 3)),
            (a, b) => at(a, 0) === at(b, 0) && at(a, 1) === at(b, 1) && at(a, 2) === at(b, 2) && at(a, 3) === at(b, 3),
          )
        : null;
  }

  map4(addr: number): number {
    const a = addr | 0;
    if (this.n4 === 0 || isSpecial4(a)) return -1;
    const e = this.groups4 === null ? this.find4Linear(a) : this.find4Hashed(a, this.groups4);
    if (e < 0) return -1;
    this.lastRule = this.rule4[e]!;
    return ((a & ~this.mask4[e]!) | this.repl4[e]!) >>> 0;
  }

  private find4Linear(a: number): number {
    const net = this.net4;
    const mask = this.mask4;
    for (let i = 0; i < this.n4; i++) if ((a & mask[i]!) === net[i]) return i;
    return -1;
  }

  private find4Hashed(a: number, g: Groups): number {
    const net = this.net4;
    let best = -1;
    for (let i = 0; i < g.minEntry.length; i++) {
      if (best >= 0 && g.minEntry[i]! > best) break;
      const key = a & g.mask[i]!;
      const bits = g.bits[i]!;
      const size1 = (1 << bits) - 1;
      const base = g.offset[i]!;
      for (let s = slotOf(key, bits); ; s = (s + 1) & size1) {
        const slot = g.slots[base + s]!;
        if (slot === 0) break;
        if (net[slot - 1] === key) {
          if (best < 0 || slot - 1 < best) best = slot - 1;
          break;
        }
      }
    }
    return best;
  }

  map6(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): boolean {
    if (this.n6 === 0) return false;
    const w0 = readWord(src, srcOff);
    const w1 = readWord(src, srcOff + 4);
    const w2 = readWord(src, srcOff + 8);
    const w3 = readWord(src, srcOff + 12);
    if (isSpecial6(w0, w1, w2, w3)) return false;
    const e = this.groups6 === null ? this.find6Linear(w0, w1, w2, w3) : this.find6Hashed(w0, w1, w2, w3, this.groups6);
    if (e < 0) return false;
    this.lastRule = this.rule6[e]!;
    const mask = this.mask6;
    const repl = this.repl6;
    const o = e * V6_WORDS;
    writeWord(dst, dstOff, (w0 & ~mask[o]!) | repl[o]!);
    writeWord(dst, dstOff + 4, (w1 & ~mask[o + 1]!) | repl[o + 1]!);
    writeWord(dst, dstOff + 8, (w2 & ~mask[o + 2]!) | repl[o + 2]!);
    writeWord(dst, dstOff + 12, (w3 & ~mask[o + 3]!) | repl[o + 3]!);
    return true;
  }

  private find6Linear(w0: number, w1: number, w2: number, w3: number): number {
    const net = this.net6;
    const mask = this.mask6;
    for (let i = 0, o = 0; i < this.n6; i++, o += V6_WORDS) {
      if (
        (w0 & mask[o]!) === net[o] &&
        (w1 & mask[o + 1]!) === net[o + 1] &&
        (w2 & mask[o + 2]!) === net[o + 2] &&
        (w3 & mask[o + 3]!) === net[o + 3]
      ) {
        return i;
      }
    }
    return -1;
  }

  private find6Hashed(w0: number, w1: number, w2: number, w3: number, g: Groups): number {
    const net = this.net6;
    let best = -1;
    for (let i = 0, m = 0; i < g.minEntry.length; i++, m += V6_WORDS) {
      if (best >= 0 && g.minEntry[i]! > best) break;
      const k0 = w0 & g.mask[m]!;
      const k1 = w1 & g.mask[m + 1]!;
      const k2 = w2 & g.mask[m + 2]!;
      const k3 = w3 & g.mask[m + 3]!;
      const bits = g.bits[i]!;
      const size1 = (1 << bits) - 1;
      const base = g.offset[i]!;
      for (let s = slotOf(mix6(k0, k1, k2, k3), bits); ; s = (s + 1) & size1) {
        const slot = g.slots[base + s]!;
        if (slot === 0) break;
        const o = (slot - 1) * V6_WORDS;
        if (net[o] === k0 && net[o + 1] === k1 && net[o + 2] === k2 && net[o + 3] === k3) {
          if (best < 0 || slot - 1 < best) best = slot - 1;
          break;
        }
      }
    }
    return best;
  }

  ruleText(index: number): string {
    const text = this.texts[index];
    if (text === undefined) throw new RangeError(`no rule with index ${index}`);
    return text;
  }

  inTunnel(kind: number, id: number): InterfaceMapper {
    const tunnels = this.tunnels;
    if (tunnels === null || (kind !== SCOPE_VNI && kind !== SCOPE_KEY && kind !== SCOPE_TEID)) return this;
    // Keyed as int32 (TunnelRules.listed); an id read as signed finds the same rules.
    const key = id | 0;
    const known = this.byId[kind]!.get(key);
    if (known !== undefined) return known;
    if (tunnels.listed[kind]!.has(key)) {
      const m = tunnels.child(this, this.included!, kind, key >>> 0);
      this.byId[kind]!.set(key, m);
      return m;
    }
    let any = this.anyId[kind];
    if (any === undefined) {
      any = tunnels.child(this, this.included!, kind, -1);
      this.anyId[kind] = any;
    }
    return any;
  }
}

function writeWord(dst: Uint8Array, off: number, w: number): void {
  dst[off] = w >>> 24;
  dst[off + 1] = w >>> 16;
  dst[off + 2] = w >>> 8;
  dst[off + 3] = w;
}

/**
 * Compiles entries (in first-match order) into a mapper. `texts[i]` is the
 * text of rule i. `hashThreshold` is exposed for tests that compare the
 * linear and hashed paths.
 */
export function compileMapper(
  entries: readonly MapEntry[],
  texts: readonly string[],
  hashThreshold = HASH_THRESHOLD,
): InterfaceMapper {
  return new CompiledMapper(entries, texts, hashThreshold);
}

/**
 * Compiles one interface's entries (in first-match order) when some are
 * scoped to tunnels (`tunnel[i]` non-null): the returned mapper holds the
 * entries that apply everywhere and is active when any entry applies; its
 * inTunnel adds the scoped ones. Without scoped entries, compileMapper.
 */
export function compileMapperWithTunnels(
  entries: readonly MapEntry[],
  tunnel: ReadonlyArray<TunnelEntry | null>,
  texts: readonly string[],
  hashThreshold = HASH_THRESHOLD,
): InterfaceMapper {
  if (tunnel.every((t) => t === null)) return compileMapper(entries, texts, hashThreshold);
  const rules = new TunnelRules(entries, tunnel, texts, hashThreshold);
  return rules.mapperOf(Uint8Array.from(tunnel, (t) => (t === null ? 1 : 0)), entries.length > 0);
}

// ---------------------------------------------------------------------------
// The table

function applies(rule: Rule, iface: CaptureInterface): boolean {
  switch (rule.scope.kind) {
    case 'all':
      return true;
    case 'name':
      return iface.name !== undefined && rule.scope.name === iface.name;
    case 'id':
      return rule.scope.id === iface.id;
  }
}

function describeInterface(iface: CaptureInterface): string {
  return `interface #${iface.id}${iface.name !== undefined ? ` (${JSON.stringify(iface.name)})` : ''}`;
}

function u32Bytes(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** The interface's recorded addresses of one family, as byte arrays, in option order. */
function interfaceAddresses(iface: CaptureInterface, family: Family): Uint8Array[] {
  return family === 4 ? iface.ipv4.map((a) => u32Bytes(a.addr)) : iface.ipv6.map((a) => a.addr);
}

interface DerivedHost {
  readonly ifaceId: number;
  readonly ruleIndex: number;
  readonly host: Prefix;
}

export class RuleTable {
  readonly #rules: readonly Rule[];
  readonly #texts: readonly string[];
  readonly #direction: Direction;
  /** Host networks of short-form rules, per interface compiled so far. */
  readonly #derived: DerivedHost[] = [];

  /** Validates the set (validateRuleSet) and keeps it; throws RuleError. */
  constructor(rules: readonly Rule[], direction: Direction) {
    validateRuleSet(rules);
    this.#rules = rules;
    this.#texts = rules.map((r) => r.text);
    this.#direction = direction;
  }

  /** The number of rules (rule indexes run from 0 to this, exclusive). */
  get ruleCount(): number {
    return this.#rules.length;
  }

  /**
   * Compiles the mapper for one interface (called once per interface as
   * interfaces appear while streaming). Throws RuleError when a short-form
   * rule applies to an interface that records no usable address of that
   * family, or when the host network it derives is special or overlaps
   * another rule's host network.
   */
  mapperFor(iface: CaptureInterface): InterfaceMapper {
    const entries: MapEntry[] = [];
    const tunnel: Array<TunnelEntry | null> = [];
    this.#rules.forEach((rule, ruleIndex) => {
      if (!applies(rule, iface)) return;
      // Derived now for tunnel-scoped rules too: an error here, never in the middle of a packet.
      const host = rule.host ?? this.#deriveHost(rule, ruleIndex, iface);
      const entry: MapEntry =
        this.#direction === 'guest-to-host'
          ? { ruleIndex, match: rule.guest, replace: host }
          : { ruleIndex, match: host, replace: rule.guest };
      entries.push(entry);
      tunnel.push(rule.tunnel === undefined ? null : { kind: SCOPE_OF_KIND[rule.tunnel.kind], ids: rule.tunnel.ids });
    });
    return compileMapperWithTunnels(entries, tunnel, this.#texts);
  }

  /**
   * Rules whose scope names an interface (by name or #id) that none of `seen`
   * has. A rule scoped to a tunnel alone (`@vni:5001`) names no interface and
   * is never listed; whether a tunnel matched shows in the rule's hits.
   */
  unmatchedScopes(seen: readonly CaptureInterface[]): Rule[] {
    return this.#rules.filter((r) => r.scope.kind !== 'all' && !seen.some((iface) => applies(r, iface)));
  }

  /**
   * Short form: the host network is the first usable address the interface
   * records of the rule's family (if_IPv4addr / if_IPv6addr), masked with the
   * rule's prefix length. The interface's own netmask is not used: the rule's
   * length says how big the network is, the interface address says where it
   * is. Addresses that are special (an fe80:: link-local address usually comes
   * first in if_IPv6addr) are skipped.
   */
  #deriveHost(rule: Rule, ruleIndex: number, iface: CaptureInterface): Prefix {
    const option = rule.family === 4 ? 'if_IPv4addr' : 'if_IPv6addr';
    const candidates = interfaceAddresses(iface, rule.family).map((a) => ({
      addr: a,
      host: { bytes: networkBytes(a, rule.guest.length), length: rule.guest.length },
    }));
    const usable = candidates.find((c) => specialRangeTouched(c.host) === undefined);
    if (!usable) {
      const why = candidates.length === 0 ? `records no IPv${rule.family} address (${option})` : `records no usable IPv${rule.family} address (${option}: ${candidates.map((c) => formatPrefix(c.host)).join(', ')} are special)`;
      throw ruleError(rule, rule.guestColumn, `${describeInterface(iface)} ${why}; give the host network explicitly (GUEST=HOST)`);
    }
    const host = usable.host;
    const clash = (other: Prefix | null): boolean => other !== null && prefixesOverlap(other, host);
    const explicit = this.#rules.find((r) => clash(r.host));
    const derived = this.#derived.find(
      (d) => clash(d.host) && !(d.ifaceId === iface.id && d.ruleIndex === ruleIndex),
    );
    if (explicit || derived) {
      const what = explicit
        ? `${formatPrefix(explicit.host!)} of ${describeRule(explicit)}`
        : `${formatPrefix(derived!.host)} of ${describeRule(this.#rules[derived!.ruleIndex]!)} on interface #${derived!.ifaceId}`;
      throw ruleError(
        rule,
        rule.guestColumn,
        `host network ${formatPrefix(host)} from ${option} of ${describeInterface(iface)} overlaps ${what}; two guest networks must not share a host network`,
      );
    }
    if (!this.#derived.some((d) => d.ifaceId === iface.id && d.ruleIndex === ruleIndex)) {
      this.#derived.push({ ifaceId: iface.id, ruleIndex, host });
    }
    return host;
  }
}
