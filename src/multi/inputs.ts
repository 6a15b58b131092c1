/**
 * The inputs of a run over many captures: files and directories as given,
 * directories walked recursively for captures (`.pcap`, `.pcapng`, `.cap`,
 * each optionally `.gz`), in one fixed order: sorted by path, so that a run
 * prints the same whatever the order of its arguments, the number of jobs or
 * the shards it was split into (merge-reports sorts the same way).
 *
 * What cannot be an input (a path that does not exist, a pattern the shell
 * left unexpanded because it matched nothing, a directory that holds no
 * capture) is a problem of its own, reported in the run's report like an
 * unreadable file, while the others are still processed.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join, normalize, relative } from 'node:path';
import { errnoWords } from '../errors.js';

/** File names that are captures, when a directory is walked. */
export const CAPTURE_NAME = /\.(pcap|pcapng|cap)(\.gz)?$/i;

export interface InputFile {
  /** The path as reports show it (normalized: "captures/a.pcap"). */
  readonly path: string;
  /** Where an --out-dir output goes, relative to it: the path inside the directory given, or the file's name. */
  readonly relative: string;
}

export interface InputProblem {
  readonly path: string;
  readonly message: string;
}

export interface ExpandedInputs {
  readonly files: InputFile[];
  readonly problems: InputProblem[];
}

/** Byte order of the UTF-16 code units: the same on every machine and locale. */
export function byPath<T extends { path: string }>(a: T, b: T): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function walk(dir: string, base: string, out: InputFile[], seenDirs: Set<string>): void {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return;
  }
  // A symbolic link back up the tree must not loop.
  if (seenDirs.has(real)) return;
  seenDirs.add(real);
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue; // a dangling link
    }
    if (st.isDirectory()) walk(p, base, out, seenDirs);
    else if (st.isFile() && CAPTURE_NAME.test(e.name)) out.push({ path: p, relative: relative(base, p) });
  }
}

/** Expands the arguments into capture files (sorted, each once) and the problems met. */
export function expandInputs(args: readonly string[]): ExpandedInputs {
  const files: InputFile[] = [];
  const problems: InputProblem[] = [];
  for (const arg of args) {
    const path = normalize(arg);
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      const pattern = /[*?[]/.test(arg) ? ' (a pattern that matched no file?)' : '';
      problems.push({ path, message: `${errnoWords(e)}${pattern}` });
      continue;
    }
    if (st.isDirectory()) {
      const found: InputFile[] = [];
      walk(path, path, found, new Set());
      if (found.length === 0) problems.push({ path, message: 'the directory holds no capture (.pcap, .pcapng, .cap, or those .gz)' });
      files.push(...found);
    } else {
      files.push({ path, relative: basename(path) });
    }
  }
  // Each file once (a file named twice, or through two directories), by its real path.
  const seen = new Set<string>();
  const unique = files.filter((f) => {
    let key = f.path;
    try {
      key = realpathSync(f.path);
    } catch {
      // stays its own
    }
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { files: unique.sort(byPath), problems: problems.sort(byPath) };
}
