/**
 * The inputs of a run over many captures: files and directories as given,
 * directories walked recursively for captures, in one fixed order: sorted
 * by path, so that a run prints the same whatever the order of its
 * arguments, the number of jobs or the shards it was split into
 * (merge-reports sorts the same way).
 *
 * A walk finds captures by name (`.pcap`, `.pcapng`, `.cap`, each optionally
 * `.gz`) and by content: a regular file with another name whose first bytes
 * are a capture's (src/capture/sniff.ts: pcap, pcapng, or their gzip) is one
 * too, since `tcpdump -w` writes whatever name it is given, often none.
 * Every other file is skipped, and counted (`skipped`), so that the run can
 * say how many it passed over.
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
import { sniffFile } from '../capture/sniff.js';

/** File names that are captures, when a directory is walked. */
export const CAPTURE_NAME = /\.(pcap|pcapng|cap)(\.gz)?$/i;

export interface InputFile {
  /** The path as reports show it (normalized: "captures/a.pcap"). */
  readonly path: string;
  /** Where an --out-dir output goes, relative to it: the path inside the directory given, or the file's name. */
  readonly relative: string;
  /** The directory given whose walk found it (undefined: the file was given by name). */
  readonly walked?: string;
}

export interface InputProblem {
  readonly path: string;
  readonly message: string;
}

export interface ExpandedInputs {
  readonly files: InputFile[];
  readonly problems: InputProblem[];
  /** Files the walks passed over: neither named as captures nor starting as one (or not regular files, which a walk does not open). */
  readonly skipped: number;
}

/** Files a walk passed over, per directory given: by real path, so that a file met twice (a directory and one inside it, given both) counts once. */
interface WalkCounts {
  skipped: Set<string>;
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
 * that cannot be read as a file, go to `problems`. A regular file of another
 * name is taken when its first bytes are a capture's; every other file is
 * passed over and counted.
 */
function walk(dir: string, base: string, out: InputFile[], problems: InputProblem[], seenDirs: Set<string>, counts: WalkCounts): void {
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
    if (st.isDirectory()) walk(p, base, out, problems, seenDirs, counts);
    else if (named && st.isFile()) out.push({ path: p, relative: relative(base, p), walked: base });
    // Opening a FIFO would wait for a writer, and a device may never end: a walk reads regular files only.
    else if (named) problems.push({ path: p, message: `${kindOf(st)}, which a directory walk does not read: give it by name to read it` });
    else if (st.isFile() && startsAsCapture(p)) out.push({ path: p, relative: relative(base, p), walked: base });
    else counts.skipped.add(realOr(p));
  }
}

function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** A file without a capture's name whose first bytes are a capture's; one that cannot be read is not judged (skipped, counted). */
function startsAsCapture(path: string): boolean {
  try {
    return sniffFile(path) !== null;
  } catch {
    return false;
  }
}

/** Expands the arguments into capture files (sorted, each once) and the problems met. */
export function expandInputs(args: readonly string[]): ExpandedInputs {
  const files: InputFile[] = [];
  const problems: InputProblem[] = [];
  const skipped = new Set<string>();
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
      const counts: WalkCounts = { skipped: new Set() };
      walk(path, path, found, met, new Set(), counts);
      for (const s of counts.skipped) skipped.add(s);
      if (found.length === 0 && met.length === 0) {
        const n = counts.skipped.size;
        const what =
          n === 0
            ? 'it holds no file'
            : `none of its ${n === 1 ? 'one file is' : `${n} files is`} a capture, by name (.pcap, .pcapng, .cap, or those .gz) or by its first bytes (pcap, pcapng, or their gzip)`;
        problems.push({ path, message: `the directory holds no capture: ${what}` });
      }
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
  return { files: unique.sort(byPath), problems: distinct.sort(byPath), skipped: skipped.size };
}
