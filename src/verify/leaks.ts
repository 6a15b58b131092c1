/**
 * The leak check (`addr.untranslated`, error): with rules given, any address
 * the rule table would still translate is a guest-side address left in the
 * output.
 *
 * The translator itself finds them: the check copies the frame's captured
 * bytes into a scratch buffer, translates the copy with the interface's
 * mapper through a translator of its own (its own decoder, `details` on),
 * and reports each rewrite it records, in the order it made them. So the
 * check looks at exactly the address sites the translator rewrites
 * (src/nat/translate.ts: IP source and destination, Ethernet/IPv4 ARP
 * sender and target, the header quoted by an ICMP/ICMPv6 error, NDP targets
 * and the Redirect destination) under exactly its conditions: an address
 * only partly captured is not judged, as it could not have been translated,
 * and a rule that maps an address onto itself is not a leak (the translator
 * records no unchanged address). The packet's own bytes are never written.
 *
 * The sites the translator leaves alone on purpose (IPv4 route options,
 * IPv6 routing headers, tunnelled packets, an error quoted in an error,
 * 802.11 A-MSDUs; src/nat/untranslated.ts) are walked too, by the same
 * translation of the copy: a guest-side address there is reported as in a
 * place "not translated by ssnat-rewrite", for no rewrite will fix it.
 *
 * Cost per packet on an interface with rules: one copy of the captured
 * bytes (word by word through DataViews: no allocation) and one
 * `Translator.rewrite`, whose direct path takes the common Ethernet/IPv4
 * TCP/UDP packet without the general decoder.
 */
import type { InterfaceMapper } from '../nat/mapper.js';
import { KIND_LABELS, Translator } from '../nat/translate.js';
import { UntranslatedSites } from '../nat/untranslated.js';
import type { DecodeResult } from '../wire/decode.js';
import type { TunnelSettings } from '../wire/tunnel.js';
import type { PacketContext } from './context.js';

/** How a message says the address sits where no rewrite changes it. */
export const NOT_TRANSLATED = 'not translated by ssnat-rewrite';

/** Initial scratch size: a full-size Ethernet frame and then some; grown to the largest frame seen. */
const SCRATCH_BYTES = 4096;

export class LeakChecker {
  /** The side the rules translate from: guest-side addresses left in a host-side capture (guest-to-host), or host-side ones left in a guest-side capture (-d host-to-guest). */
  side: 'guest' | 'host' = 'guest';
  private readonly translator = new Translator();
  private readonly sites = new UntranslatedSites();
  private scratch = new Uint8Array(SCRATCH_BYTES);
  private scratchView = new DataView(this.scratch.buffer);

  constructor() {
    this.translator.fcs = false;
    this.translator.untranslated = this.sites;
  }

  /** Tunnels looked into as the run looks into them (--tunnels, --vxlan-port). */
  tunnels(s: TunnelSettings): void {
    this.translator.decoder.setTunnels(s);
  }

  /** Counts, per rule, the guest-side addresses found (the report's ruleHits). */
  countRuleHits(rules: number): void {
    this.translator.countRuleHits(rules);
  }

  /** Guest-side addresses found per rule (indexed as the rules were given). */
  get ruleHits(): Float64Array {
    return this.translator.ruleHits;
  }

  /**
   * Checks one decoded packet (`v` a DataView over its buffer, `d` its
   * decode) against the mapper of its interface.
   */
  check(v: DataView, d: DecodeResult, mapper: InterfaceMapper, ctx: PacketContext): void {
    if (!mapper.active) return;
    const len = d.capLen;
    if (len > this.scratch.length) this.grow(len);
    this.copy(v, d.off, len);
    const sites = this.sites;
    sites.reset();
    const r = this.translator.rewrite(this.scratch, 0, len, d.origLen, d.linkType, mapper);
    for (let i = 0; i < r.count; i++) {
      const from = r.oldText(i);
      const to = r.newText(i);
      const t = r.tunnels[i];
      ctx.add('addr.untranslated', `${KIND_LABELS[r.kinds[i]!]} ${from}${t === null ? '' : ` inside ${t}`} is a ${this.side}-side address: rule ${mapper.ruleText(r.rules[i]!)} maps it to ${to}`, to, from);
    }
    for (let i = 0; i < sites.count; i++) {
      const to = sites.mappedText(i);
      ctx.add('addr.untranslated', `${sites.describe(i)} (${NOT_TRANSLATED}) is a ${this.side}-side address: rule ${mapper.ruleText(sites.rules[i]!)} maps it to ${to}`, to, sites.addressText(i));
    }
    if (sites.more > 0) ctx.add('addr.untranslated', `and ${sites.more} more ${this.side}-side address(es) in places ssnat-rewrite does not translate`);
  }

  /** Copies `len` bytes at `from` in `v` to the start of the scratch buffer. */
  private copy(v: DataView, from: number, len: number): void {
    const s = this.scratchView;
    let i = 0;
    for (const end16 = len - 15; i < end16; i += 16) {
      s.setInt32(i, v.getInt32(from + i));
      s.setInt32(i + 4, v.getInt32(from + i + 4));
      s.setInt32(i + 8, v.getInt32(from + i + 8));
      s.setInt32(i + 12, v.getInt32(from + i + 12));
    }
    for (; i + 4 <= len; i += 4) s.setInt32(i, v.getInt32(from + i));
    for (; i < len; i++) s.setUint8(i, v.getUint8(from + i));
  }

  private grow(len: number): void {
    let n = this.scratch.length;
    while (n < len) n *= 2;
    this.scratch = new Uint8Array(n);
    this.scratchView = new DataView(this.scratch.buffer);
  }
}
