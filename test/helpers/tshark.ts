/** tshark, the reference: per-frame checksum verdicts (0 bad, 1 good, 2 unverified). */
import { execFile, execFileSync } from 'node:child_process';
import { isIP } from 'node:net';

export const TSHARK_CHECKSUM_ARGS = [
  '-n',
  '-o', 'ip.check_checksum:TRUE',
  '-o', 'udp.check_checksum:TRUE',
  '-o', 'tcp.check_checksum:TRUE',
  '-T', 'fields',
  '-e', 'frame.number',
  '-e', 'ip.checksum.status',
  '-e', 'udp.checksum.status',
  '-e', 'tcp.checksum.status',
  '-e', 'icmp.checksum.status',
  '-e', 'icmpv6.checksum.status',
];

/** Per frame, the checksum status fields as tshark prints them (multi-valued fields joined by ','); `extra`: more tshark options. */
export function tsharkChecksums(file: string, extra: readonly string[] = []): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('tshark', ['-r', file, ...extra, ...TSHARK_CHECKSUM_ARGS], { maxBuffer: 1 << 28, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout) => {
      // tshark exits 2 on files it cannot read entirely; what it printed is still the verdicts.
      if (err && stdout.length === 0) reject(err);
      else resolve(stdout.split('\n').filter((l) => l.length > 0));
    });
  });
}

export function tsharkFields(file: string, fields: string[], extra: string[] = []): string[] {
  const out = execFileSync('tshark', ['-r', file, '-n', ...extra, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out.toString().split('\n').filter((l) => l.length > 0);
}

/** The lines of `tsharkChecksums` output that have a bad (0) verdict in any field, inner headers included. */
export function badVerdicts(lines: readonly string[]): string[] {
  return lines.filter((l) => l.split('\t').slice(1).some((f) => f.split(',').includes('0')));
}

/** One protocol layer of a frame as tshark's PDML shows it. */
export interface PdmlLayer {
  readonly proto: string;
  /** Inside an ICMP or ICMPv6 error's quote: a layer tshark nests in its `icmp`/`icmpv6` layer. */
  readonly quoted: boolean;
  /** This layer's fields (those of fields included, not those of layers nested in it), in order. */
  readonly fields: (readonly [name: string, show: string])[];
}

export interface PdmlFrame {
  readonly number: number;
  /** Original (on the wire) and captured lengths. */
  readonly len: number;
  readonly caplen: number;
  /** Every layer in tshark's tree order: outer first, tunnel layers in order, a quote's layers after their ICMP layer. */
  readonly layers: PdmlLayer[];
}

const XML_ENTITIES: Record<string, string> = { quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' };

function xmlText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|quot|apos|lt|gt|amp);/g, (_, e: string) =>
    e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(parseInt(e.slice(1), 10)) : XML_ENTITIES[e]!,
  );
}

function xmlAttr(attrs: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name.replace('.', '\\.')}="([^"]*)"`).exec(attrs);
  return m ? xmlText(m[1]!) : undefined;
}

/**
 * tshark's `-T pdml` output as frames of layers. Unlike `-T fields`, which joins a field's occurrences,
 * this keeps each layer apart: tunnel layers are top-level siblings in order, and the headers an ICMP or
 * ICMPv6 error quotes are nested in its layer (`quoted`).
 */
export function parsePdml(xml: string): PdmlFrame[] {
  const frames: PdmlFrame[] = [];
  let layers: PdmlLayer[] | null = null;
  const stack: PdmlLayer[] = [];
  const tag = /<(\/?)(packet|proto|field)\b((?:[^>"]|"[^"]*")*)>/g;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const [, close, kind, attrs = ''] = m;
    const selfClosing = attrs.endsWith('/');
    if (kind === 'packet') {
      if (!close) {
        layers = [];
        stack.length = 0;
      } else if (layers) {
        const frame = layers.find((l) => l.proto === 'frame');
        const field = (n: string) => Number(frame?.fields.find(([f]) => f === n)?.[1] ?? NaN);
        frames.push({ number: field('frame.number'), len: field('frame.len'), caplen: field('frame.cap_len'), layers });
        layers = null;
      }
    } else if (kind === 'proto' && layers) {
      if (close) {
        stack.pop();
        continue;
      }
      const layer: PdmlLayer = { proto: xmlAttr(attrs, 'name') ?? '', quoted: stack.some((l) => l.proto === 'icmp' || l.proto === 'icmpv6'), fields: [] };
      layers.push(layer);
      if (!selfClosing) stack.push(layer);
    } else if (kind === 'field' && !close && stack.length > 0) {
      const name = xmlAttr(attrs, 'name');
      if (name) stack[stack.length - 1]!.fields.push([name, xmlAttr(attrs, 'show') ?? '']);
    }
  }
  return frames;
}

/** Every frame of a capture as `parsePdml` gives it, with IP, UDP and TCP checksums judged; `extra`: more tshark options. */
export function tsharkLayers(file: string, extra: readonly string[] = []): Promise<PdmlFrame[]> {
  return new Promise((resolve, reject) => {
    const args = ['-r', file, '-n', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', ...extra, '-T', 'pdml'];
    execFile('tshark', args, { maxBuffer: 1 << 30, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout) => {
      if (err && stdout.length === 0) reject(err);
      else resolve(parsePdml(stdout));
    });
  });
}

/** The protocols whose `<proto>.checksum.status` tshark reports. */
export const CHECKSUM_PROTOCOLS = ['ip', 'udp', 'tcp', 'icmp', 'icmpv6', 'gre'] as const;

/**
 * A frame's checksum verdicts per protocol, one entry per occurrence of the protocol in layer order (outer
 * first, then each tunnel depth): tshark's status (0 bad, 1 good, 2 unverified, 3 not present, 4 illegal),
 * '-' for an occurrence without one (a header cut short; GRE without the C bit), and a 'q' before it for an
 * occurrence inside an ICMP/ICMPv6 quote. E.g. VXLAN carrying an ICMP error: { ip: ['1', '1', 'q1'],
 * udp: ['1', 'q1'], icmp: ['1'] }. Protocols that do not occur are left out.
 */
export function checksumVerdicts(frame: PdmlFrame): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const layer of frame.layers) {
    if (!(CHECKSUM_PROTOCOLS as readonly string[]).includes(layer.proto)) continue;
    const status = layer.fields.find(([f]) => f === `${layer.proto}.checksum.status`)?.[1] ?? '-';
    (out[layer.proto] ??= []).push((layer.quoted ? 'q' : '') + status);
  }
  return out;
}

/** `checksumVerdicts` of every frame of a capture, in frame order. */
export async function tsharkVerdictsByOccurrence(file: string, extra: readonly string[] = []): Promise<Record<string, string[]>[]> {
  return (await tsharkLayers(file, extra)).map(checksumVerdicts);
}

/**
 * Every field of a frame whose value is an IPv4 or IPv6 address, in layer order, as 'name=value' ('q:' before
 * it inside an ICMP/ICMPv6 quote): the IP headers' addresses at every depth, ARP's, NDP targets, and the hidden
 * duplicates tshark adds for filtering (ip.addr, ip.src_host, ...).
 */
export function addressFields(frame: PdmlFrame): string[] {
  const out: string[] = [];
  for (const layer of frame.layers) {
    for (const [name, show] of layer.fields) {
      if (isIP(show) !== 0) out.push(`${layer.quoted ? 'q:' : ''}${name}=${show}`);
    }
  }
  return out;
}
