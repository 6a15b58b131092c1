/**
 * The inputs of a run over many captures: files and directories as given,
 * directories walked recursively for captures (`.pcap`, `.pcapng`, `.cap`,
 * each optionally `.gz`), in one fixed order: sorted by path, so that a run
 * prints the same whatever the order of its arguments, the number of jobs or
 * the shards it was split into (merge-reports sorts the same way).
 *
 * What cannot be an input (a path that does not exist, a pattern the shell
 * left unexpanded because it matched nothing, a directory that holds no
 * capture or cannot be read, a capture's name on a dangling link or on
 * something that is not a file) is a problem of its own, reported in the
 * run's report like an unreadable file, while the others are still
 * processed: a suite's capture is never left out without a word.
 */
import { readdirSync, readlinkSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
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

/** What a file that is not a regular one is, in words. */
function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** Why the entry `e` at `p`, named as a capture, could not be looked at (stat failed with `err`). */
function unreachable(p: string, e: Dirent, err: unknown): string {
  if (!e.isSymbolicLink()) return errnoWords(err);
  let target = '?';
  try {
    target = readlinkSync(p);
  } catch {
    // said without its target
  }
  return `a symbolic link to ${target}, which cannot be followed: ${errnoWords(err)}`;
}

/**
 * Walks `dir` for captures (into `out`, each with its path relative to
 * `base`); a directory that cannot be read, and an entry named as a capture
 * that cannot be read as a file, go to `problems`. Other names are not ours
 * to judge and are passed over.
 */
function walk(dir: string, base: string, out: InputFile[], problems: InputProblem[], seenDirs: Set<string>): void {
  let real: string;
  let entries: Dirent[];
  try {
    real = realpathSync(dir);
    // A symbolic link back up the tree must not loop.
    if (seenDirs.has(real)) return;
    seenDirs.add(real);
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (e) {
    problems.push({ path: dir, message: `cannot read the directory: ${errnoWords(e)}; the captures in it were not looked at` });
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    const named = CAPTURE_NAME.test(e.name);
    let st: Stats;
    try {
      st = statSync(p);
    } catch (err) {
      // A directory that can be listed but not searched (r--) lists names it cannot look up: captures, or directories that may hold some.
      if (named) problems.push({ path: p, message: unreachable(p, e, err) });
      else if (e.isDirectory()) problems.push({ path: p, message: `cannot look into the directory: ${errnoWords(err)}; the captures in it were not looked at` });
      continue;
    }
    if (st.isDirectory()) walk(p, base, out, problems, seenDirs);
    else if (named && st.isFile()) out.push({ path: p, relative: relative(base, p) });
    // Opening a FIFO would wait for a writer, and a device may never end: a walk reads regular files only.
    else if (named) problems.push({ path: p, message: `${kindOf(st)}, which a directory walk does not read: give it by name to read it` });
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
      const met: InputProblem[] = [];
      walk(path, path, found, met, new Set());
      if (found.length === 0 && met.length === 0) problems.push({ path, message: 'the directory holds no capture (.pcap, .pcapng, .cap, or those .gz)' });
      files.push(...found);
      problems.push(...met);
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
  // Each problem once too (a directory given, and one inside it).
  const said = new Set<string>();
  const distinct = problems.filter((p) => {
    if (said.has(p.path)) return false;
    said.add(p.path);
    return true;
  });
  return { files: unique.sort(byPath), problems: distinct.sort(byPath) };
}
