/** tshark, the reference: per-frame checksum verdicts (0 bad, 1 good, 2 unverified). */
import { execFile, execFileSync } from 'node:child_process';

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
