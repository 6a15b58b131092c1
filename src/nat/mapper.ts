/**
 * The contract between the compiled rule table (src/nat/table.ts) and the
 * packet translator (src/nat/translate.ts): per capture interface, a mapper
 * that answers "what does this address become?" without string work or
 * allocation.
 */
import type { TunnelInfo } from '../wire/tunnel.js';

/** Tunnel identifier kinds a rule can be scoped to (InterfaceMapper.inTunnel). */
export const SCOPE_VNI = 1; // VXLAN, VXLAN-GPE, Geneve VNI, NVGRE VSID
export const SCOPE_KEY = 2; // GRE key
export const SCOPE_TEID = 3; // GTP-U TEID

/**
 * The mapper for the packet inside tunnel `t`, entered from `m`: the rules
 * scoped to its GRE key, then to its VNI (an NVGRE tunnel has both), then
 * to its TEID, added by `inTunnel`.
 */
export function mapperInside(m: InterfaceMapper, t: TunnelInfo): InterfaceMapper {
  let inside = m;
  if (t.key >= 0) inside = inside.inTunnel(SCOPE_KEY, t.key);
  if (t.vni >= 0) inside = inside.inTunnel(SCOPE_VNI, t.vni);
  if (t.teid >= 0) inside = inside.inTunnel(SCOPE_TEID, t.teid);
  return inside;
}

export interface InterfaceMapper {
  /**
   * False when no rule applies on this interface, scoped to a tunnel or not:
   * the translator can skip the packet. An interface's mapper whose rules are
   * all tunnel-scoped is active though its map4/map6 match nothing: only
   * inTunnel's mappers do.
   */
  readonly active: boolean;
  /**
   * Index (into the rule list as given) of the rule that matched in the last
   * successful map4/map6 call on this mapper object (each mapper inTunnel
   * returns has its own); -1 before any match.
   */
  readonly lastRule: number;
  /**
   * Maps an IPv4 address given as an unsigned 32-bit number. Returns the
   * translated address (unsigned), or -1 when no rule matches or the address
   * is special (0/8, 127/8, 169.254/16 link-local, 224/4 and 240/4 incl. 255.255.255.255)
   * and must stay as it is.
   */
  map4(addr: number): number;
  /**
   * Maps the IPv6 address at src[srcOff..srcOff+16) and writes the result to
   * dst[dstOff..dstOff+16). Returns true when a rule matched (dst written),
   * false when none did or the address is special (dst untouched).
   * src and dst may be the same buffer but must not partly overlap.
   */
  map6(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): boolean;
  /** The rule text (as given by the user) of rule `index`, for annotations and reports. */
  ruleText(index: number): string;
  /**
   * The mapper for the packet inside a tunnel whose identifier is `id` (unsigned) of `kind` (SCOPE_*), entered
   * from this mapper's place: this mapper's rules plus the rules of this interface scoped to that tunnel, in the
   * order given. Returns `this` when no scoped rule matches. Never allocates after the first call per
   * (kind, id) listed in some rule (ids matched only by `*` share one mapper per kind).
   */
  inTunnel(kind: number, id: number): InterfaceMapper;
}
