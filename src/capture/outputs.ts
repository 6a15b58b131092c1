/**
 * Every path a run writes (the capture output, `--report-file`, `verify
 * --annotate`) is precious: this module decides how each is written and
 * refuses, before the first byte is read, what would destroy something.
 *
 * - A regular file (or a name that does not exist yet) is written to a
 *   temporary file beside it and renamed into place at the end, so a failed
 *   or interrupted run leaves nothing behind. An existing capture output is
 *   replaced only with `force`; an existing report file without it, unless
 *   it holds a capture (`checkReplace`).
 * - A symbolic link stays a link: its final target is what is replaced,
 *   atomically, beside the target (a dangling link's target is created).
 * - A FIFO, a character device (`/dev/null`, `/dev/stdout` on a pipe) or a
 *   socket is written straight through, as tcpdump and editcap write them:
 *   no temporary file, no rename, no `force` needed. Nothing that is not a
 *   regular file is ever unlinked or renamed over.
 * - A directory or a block device is refused; so is a terminal, for a capture.
 * - No output may be an input or another output, through links, hard links
 *   or `/dev/stdout` alike (the null device excepted: writing twice to
 *   nothing loses nothing).
 * - The directory an output goes to must exist and be writable, checked up
 *   front so that a long run does not fail at its end (exit 4).
 */
import { accessSync, constants, fstatSync, lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isatty } from 'node:tty';
import { OutputError, UsageError, errnoWords } from '../errors.js';
import { noteOutputDirectory } from './target.js';
import { sniffFile, sniffedWords, type Sniffed } from './sniff.js';

/** What a written path is for, as messages name it. */
export type OutputRole = 'output' | '--report-file' | '--annotate output' | 'nft script';

export interface PlannedOutput {
  readonly role: OutputRole;
  /** The path as given ('-' for stdout). */
  readonly given: string;
  /**
   * How it is written: `fd` (an open descriptor: '-' is stdout, and so are
   * /dev/stdout, /dev/fd/N and /proc/self/fd/N); `special` (a FIFO, a
   * character device or a socket, opened and written straight through);
   * `file` (atomically, at `target`).
   */
  readonly kind: 'fd' | 'special' | 'file';
  /** The path written: symbolic links resolved to their final target ('-' for a descriptor). */
  readonly target: string;
  /** `fd`: the descriptor. */
  readonly fd: number;
  /** A socket is connected to rather than opened. */
  readonly socket: boolean;
  /** Identity of what is there now (device, inode), when something is. */
  readonly id: string | null;
  /** A regular file is there now, which the run would replace (see `checkReplace`). */
  readonly replaces: boolean;
  /** --force was given. */
  readonly force: boolean;
}

/** Identity of a file for "is it the same file" checks: device and inode. */
export function identity(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

function statOrNull(f: () => Stats): Stats | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/** The null device (`nul`: its stat): writing to it twice is harmless. */
function isNullDevice(st: Stats | null, nul: Stats | null): boolean {
  return st !== null && st.isCharacterDevice() && nul !== null && st.rdev === nul.rdev;
}

/** The descriptor a path names (/dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N), or -1. */
function descriptorOf(path: string): number {
  if (path === '/dev/stdout') return 1;
  if (path === '/dev/stderr') return 2;
  const m = /^\/(?:dev\/fd|proc\/(self|\d+)\/fd)\/(\d+)$/.exec(path);
  if (m === null || (m[1] !== undefined && m[1] !== 'self' && Number(m[1]) !== process.pid)) return -1;
  return Number(m[2]);
}

/**
 * Follows a chain of symbolic links by hand (each resolved against its own
 * directory) to the first path that is not a link, does not exist, or names
 * one of our descriptors (the kernel's /proc/self/fd links must not be
 * followed: they lead to "pipe:[...]" or to the file behind the descriptor).
 */
function followLinks(path: string): string {
  let p = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    if (descriptorOf(p) >= 0) return p;
    const st = statOrNull(() => lstatSync(p));
    if (st === null || !st.isSymbolicLink()) return p;
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw new UsageError(`${path}: too many levels of symbolic links`);
}

/**
 * Checks that the directory a file goes into exists and can be written
 * (exit 4 otherwise); returns the file's path with that directory's real
 * path, so that two names of one file compare equal.
 */
function checkDirectory(role: OutputRole, given: string, target: string): string {
  const dir = dirname(target);
  const st = statOrNull(() => statSync(dir));
  if (st === null) throw new OutputError(`cannot write ${role} ${given}: directory ${dir} does not exist; create it first`);
  if (!st.isDirectory()) throw new OutputError(`cannot write ${role} ${given}: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new OutputError(`cannot write ${role} ${given}: directory ${dir}: ${errnoWords(e)}`);
  }
  const real = realpathSync(dir);
  // Noted where outputs are planned, the main thread: the temporary file may be made by a worker thread, whose notes a signal here would not see.
  noteOutputDirectory(real);
  return join(real, basename(target));
}

/**
 * Decides how one output path is written and refuses what must not be
 * written to. `binary`: the output is a capture (a terminal is refused).
 */
export function planOutput(role: OutputRole, given: string, force: boolean, binary: boolean): PlannedOutput {
  if (given.endsWith('/')) throw new UsageError(`${role} ${given} names a directory: give a file name`);
  const path = given === '-' ? '/dev/stdout' : followLinks(given);
  const fd = descriptorOf(path);
  if (fd >= 0) {
    const st = statOrNull(() => fstatSync(fd));
    if (st === null) throw new OutputError(`cannot write ${role} ${given}: descriptor ${fd} is not open`);
    if (binary && isatty(fd)) {
      throw new UsageError(`refusing to write a binary capture to a terminal; redirect ${fd === 1 ? 'stdout' : `descriptor ${fd}`} or name a file for the ${role}`);
    }
    return { role, given, kind: 'fd', target: '-', fd, socket: false, id: identity(st), replaces: false, force };
  }
  const st = statOrNull(() => statSync(path));
  if (st === null) {
    return { role, given, kind: 'file', target: checkDirectory(role, given, path), fd: -1, socket: false, id: null, replaces: false, force };
  }
  if (st.isDirectory()) {
    throw new UsageError(`${role} ${given} is a directory: give a file name${role === 'output' ? ' (or --out-dir DIR for many inputs)' : ''}`);
  }
  if (st.isBlockDevice()) throw new UsageError(`${role} ${given} is a block device: refusing to write a capture or a report onto a disk`);
  if (st.isFIFO() || st.isCharacterDevice() || st.isSocket()) {
    return { role, given, kind: 'special', target: path, fd: -1, socket: st.isSocket(), id: identity(st), replaces: false, force };
  }
  // Whether it may be replaced is checkReplace's to say, once it is known not to be an input (one refusal, the one that matters).
  return { role, given, kind: 'file', target: checkDirectory(role, given, path), fd: -1, socket: false, id: identity(st), replaces: true, force };
}

/**
 * Refuses to replace what must not be replaced. A capture output or an
 * --annotate copy that exists needs --force. A report file is replaced
 * without it, as pytest --junitxml and jest-junit replace theirs on a CI
 * re-run (atomically: a temporary file renamed over it), unless it holds a
 * capture, which a report never replaces, --force or not: that is a
 * capture named where the report was meant to go.
 */
export function checkReplace(outputs: readonly PlannedOutput[]): void {
  for (const o of outputs) {
    if (!o.replaces) continue;
    // A text output (a report, export nft's script) is replaced as a report file is.
    if (o.role !== '--report-file' && o.role !== 'nft script') {
      if (!o.force) throw new UsageError(`${o.role} ${o.given} exists; pass --force to replace it`);
      continue;
    }
    let held: Sniffed | null = null;
    try {
      held = sniffFile(o.target);
    } catch (e) {
      throw new OutputError(`cannot write ${o.role} ${o.given}: cannot read what is there now: ${errnoWords(e)}`);
    }
    if (held !== null) {
      const kind = o.role === 'nft script' ? 'script' : 'report';
      throw new UsageError(`${o.role} ${o.given} holds ${sniffedWords(held)}: refusing to replace a capture with a ${kind}; name another file for the ${kind}`);
    }
  }
}

/** An input as the collision checks see it: its path ('-' for stdin). */
function inputIdentity(input: string): { id: string | null; real: string | null } {
  if (input === '-') {
    // A socket on stdin and stdout is one two-way channel (inetd, socat), not one file read and written.
    const st = statOrNull(() => fstatSync(0));
    return { id: st === null || st.isSocket() ? null : identity(st), real: null };
  }
  const st = statOrNull(() => statSync(input));
  let real: string | null = null;
  try {
    real = realpathSync(input);
  } catch {
    real = resolve(input);
  }
  return { id: st === null ? null : identity(st), real };
}

/**
 * Refuses an output that is an input, or two outputs that are one file:
 * compared by identity (device and inode, so hard links and /dev/stdout
 * count) and by resolved path (for files that do not exist yet). The
 * outputs are indexed once, so a run over ten thousand captures costs ten
 * thousand lookups, not a hundred million comparisons; the pair named is
 * the one a plain double loop would find first. Then, only then, what may
 * not be replaced (`checkReplace`): the same input and output with --force
 * or without it gets the one refusal that matters.
 */
export function checkDistinct(inputs: readonly string[], outputs: readonly PlannedOutput[]): void {
  const nul = statOrNull(() => statSync('/dev/null'));
  const counted = outputs.map((o) => !(o.kind === 'special' && isNullDevice(statOrNull(() => statSync(o.target)), nul)));
  /** The first output with each identity, and with each path written (descriptors have none). */
  const byId = new Map<string, number>();
  const byPath = new Map<string, number>();
  /** The lowest earlier output that output `b` is the same file as, or -1. */
  const earlier: number[] = [];
  outputs.forEach((o, b) => {
    let a = -1;
    if (counted[b]) {
      const x = o.id === null ? undefined : byId.get(o.id);
      const y = o.kind === 'fd' ? undefined : byPath.get(o.target);
      a = Math.min(x ?? Infinity, y ?? Infinity);
      if (a === Infinity) a = -1;
      if (o.id !== null && !byId.has(o.id)) byId.set(o.id, b);
      if (o.kind !== 'fd' && !byPath.has(o.target)) byPath.set(o.target, b);
    }
    earlier.push(a);
  });
  for (const input of inputs) {
    const i = inputIdentity(input);
    const x = i.id === null ? undefined : byId.get(i.id);
    const y = i.real === null ? undefined : byPath.get(i.real);
    if (x === undefined && y === undefined) continue;
    const o = outputs[Math.min(x ?? Infinity, y ?? Infinity)]!;
    const samePath = i.real !== null && o.kind !== 'fd' && i.real === o.target;
    const via = input === '-' || (samePath && resolve(o.given) === resolve(input)) ? '' : ' (through a link or another name)';
    const what = input === '-' ? 'standard input' : `the input ${input}`;
    throw new UsageError(`${o.role} ${o.given} is ${what}${via}: refusing to overwrite what is being read; choose another path`);
  }
  // The pair with the lowest first output, then the lowest second one.
  let first = -1;
  let second = -1;
  for (let b = 0; b < outputs.length; b++) {
    const a = earlier[b]!;
    if (a >= 0 && (first < 0 || a < first)) [first, second] = [a, b];
  }
  if (first >= 0) {
    const [x, y] = [outputs[first]!, outputs[second]!];
    throw new UsageError(`${y.role} ${y.given} and ${x.role} ${x.given} are the same file: give each output its own path`);
  }
  checkReplace(outputs);
}
