/** The vendored public corpus (test/corpus, see its README) and its MANIFEST. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const CORPUS = fileURLToPath(new URL('../corpus/', import.meta.url));

export interface ManifestEntry {
  path: string;
  format: string;
  linkTypes: string;
  packets: number;
  notes: string;
  /** Flagged damaged by an independent parser or by Wireshark's tools. */
  damaged: boolean;
}

export function corpusPath(rel: string): string {
  return join(CORPUS, rel);
}

export function manifest(): ManifestEntry[] {
  const lines = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [path, , , format, linkTypes, packets, notes] = line.split('\t') as [string, string, string, string, string, string, string];
    return {
      path,
      format,
      linkTypes,
      packets: Number(packets),
      notes,
      damaged: /STRUCT-ERR|CAPINFOS-ERR|TSHARK-ERR|TSHARK:CUT-SHORT|TSHARK:DAMAGED/.test(notes),
    };
  });
}
