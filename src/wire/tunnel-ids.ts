/**
 * The largest identifier of each tunnel kind a rule can be scoped to
 * (src/nat/rules.ts TUNNEL_KINDS), by the identifier's width on the wire.
 */

/** 24 bits: the VXLAN VNI [RFC 7348 5], the VXLAN-GPE VNI [draft-ietf-nvo3-vxlan-gpe 3], the Geneve VNI [RFC 8926 3.4], the NVGRE VSID [RFC 7637 3.2]. */
export const VNI_BITS = 24;
/** 32 bits: the GRE Key field [RFC 2890 2.1]. */
export const GRE_KEY_BITS = 32;
/** 32 bits: the GTP-U Tunnel Endpoint Identifier [3GPP TS 29.281 5.1]. */
export const TEID_BITS = 32;

/** The largest unsigned value of `bits` bits (up to 32). */
export function maxOfBits(bits: number): number {
  return 2 ** bits - 1;
}
