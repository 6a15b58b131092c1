/**
 * The leak check (`addr.untranslated`, error): with rules given, any address
 * the rule table would still translate is a guest-side address left in the
 * output. Looked at in exactly the places the translator rewrites
 * (src/nat/translate.ts): IPv4/IPv6 source and destination, Ethernet/IPv4 ARP
 * sender and target, the IP header quoted by an ICMP/ICMPv6 error, NDP
 * NS/NA/Redirect targets and the Redirect destination. An address only
 * partly captured is not judged, as it could not have been translated. A
 * rule that maps an address onto itself is not a leak.
 */
import * as arp from '../wire/arp.js';
import { NET_ARP, NET_IPV4, NET_IPV6, type DecodeResult } from '../wire/decode.js';
import * as icmpv6 from '../wire/icmpv6.js';
import { IPPROTO_ICMPV6, type IpInfo } from '../wire/ip.js';
import { formatIpv4, formatIpv6 } from '../wire/address.js';
import type { InterfaceMapper } from '../nat/mapper.js';
import type { PacketContext } from './context.js';

export class LeakChecker {
  private readonly scratch = new Uint8Array(16);
  private buf: Uint8Array = new Uint8Array(0);

  /** Checks one decoded packet against the mapper of its interface. */
  check(buf: Uint8Array, v: DataView, d: DecodeResult, mapper: InterfaceMapper, ctx: PacketContext): void {
    if (!mapper.active) return;
    this.buf = buf;
    const capEnd = d.capEnd;
    if (d.net === NET_ARP) {
      const off = d.netOff;
      if (off + arp.FIXED_LEN > capEnd || !arp.isEthernetIpv4(v, off)) return;
      if (off + arp.SPA + 4 <= capEnd) this.v4(v, off + arp.SPA, mapper, ctx, 'ARP sender');
      if (off + arp.TPA + 4 <= capEnd) this.v4(v, off + arp.TPA, mapper, ctx, 'ARP target');
      return;
    }
    if (d.net !== NET_IPV4 && d.net !== NET_IPV6) return;
    this.ip(v, d.ip, capEnd, mapper, ctx, '');
    const ip = d.ip;
    if (d.icmpError && d.inner.version !== 0) {
      this.ip(v, d.inner, ip.dataEnd, mapper, ctx, 'quoted ');
    } else if (ip.version === 6 && ip.proto === IPPROTO_ICMPV6 && ip.l4Off >= 0 && !d.icmpError) {
      const t = d.icmpType;
      const l4 = ip.l4Off;
      const end = ip.dataEnd;
      if (t === icmpv6.NEIGHBOR_SOLICITATION || t === icmpv6.NEIGHBOR_ADVERTISEMENT || t === icmpv6.REDIRECT) {
        if (l4 + icmpv6.NDP_TARGET + 16 <= end) this.v6(l4 + icmpv6.NDP_TARGET, mapper, ctx, 'NDP target');
        if (t === icmpv6.REDIRECT && l4 + icmpv6.NDP_REDIRECT_DEST + 16 <= end) this.v6(l4 + icmpv6.NDP_REDIRECT_DEST, mapper, ctx, 'NDP redirect destination');
      }
    }
  }

  private ip(v: DataView, ip: IpInfo, avail: number, mapper: InterfaceMapper, ctx: PacketContext, prefix: string): void {
    if (ip.version === 4) {
      if (ip.srcOff + 4 <= avail) this.v4(v, ip.srcOff, mapper, ctx, `${prefix}IPv4 source`);
      if (ip.dstOff + 4 <= avail) this.v4(v, ip.dstOff, mapper, ctx, `${prefix}IPv4 destination`);
    } else if (ip.version === 6) {
      if (ip.srcOff + 16 <= avail) this.v6(ip.srcOff, mapper, ctx, `${prefix}IPv6 source`);
      if (ip.dstOff + 16 <= avail) this.v6(ip.dstOff, mapper, ctx, `${prefix}IPv6 destination`);
    }
  }

  private v4(v: DataView, at: number, mapper: InterfaceMapper, ctx: PacketContext, what: string): void {
    const a = v.getUint32(at);
    const m = mapper.map4(a);
    if (m < 0 || m >>> 0 === a) return;
    const from = formatIpv4(a);
    const to = formatIpv4(m >>> 0);
    ctx.add('addr.untranslated', `${what} ${from} is a guest-side address: rule ${mapper.ruleText(mapper.lastRule)} maps it to ${to}`, to, from);
  }

  private v6(at: number, mapper: InterfaceMapper, ctx: PacketContext, what: string): void {
    const b = this.buf;
    const s = this.scratch;
    if (!mapper.map6(b, at, s, 0)) return;
    let same = true;
    for (let i = 0; i < 16; i++) {
      if (b[at + i] !== s[i]) {
        same = false;
        break;
      }
    }
    if (same) return;
    const from = formatIpv6(b, at);
    const to = formatIpv6(s, 0);
    ctx.add('addr.untranslated', `${what} ${from} is a guest-side address: rule ${mapper.ruleText(mapper.lastRule)} maps it to ${to}`, to, from);
  }
}
