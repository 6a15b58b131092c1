/**
 * Typed errors. Every error this project raises on purpose is an `SsnatError`
 * with a stable `code`, the exit code the CLI uses for it, and where known the
 * file, byte offset and frame number it concerns. The CLI prints
 * `formatError(e)` as one line and exits with `e.exitCode`; anything else that
 * escapes is a bug.
 */

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;
export const EXIT_INPUT = 3;
export const EXIT_OUTPUT = 4;
/** A bug: an error no layer raised on purpose (sysexits.h EX_SOFTWARE). */
export const EXIT_INTERNAL = 70;

/** The documented exit codes (docs/DESIGN.md part 1, README, --help), in order. */
export const EXIT_CODES: Readonly<Record<number, string>> = {
  [EXIT_OK]: 'success',
  [EXIT_FINDINGS]: 'verification found errors (or warnings, with --strict)',
  [EXIT_USAGE]: 'usage or rule error',
  [EXIT_INPUT]: 'input unreadable or malformed',
  [EXIT_OUTPUT]: 'an output could not be written',
  [EXIT_INTERNAL]: 'a bug (an internal error; the message asks for a report)',
};

export type ErrorCode =
  | 'usage' // bad command line
  | 'rule' // rule text or rule set rejected
  | 'input' // capture unreadable or malformed
  | 'output'; // an output cannot be written

export interface ErrorWhere {
  file?: string | undefined;
  offset?: number | undefined;
  frame?: number | undefined;
}

export class SsnatError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  file: string | undefined;
  readonly offset: number | undefined;
  readonly frame: number | undefined;

  constructor(code: ErrorCode, exitCode: number, message: string, where: ErrorWhere = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.file = where.file;
    this.offset = where.offset;
    this.frame = where.frame;
  }
}

/** Command-line misuse (exit 2). */
export class UsageError extends SsnatError {
  constructor(message: string) {
    super('usage', EXIT_USAGE, message);
  }
}

/**
 * A rule, or the set of rules, was rejected (exit 2). `rule` is the rule text
 * as given; `column` (0-based) points at the bad part when there is one;
 * `source` names the rules file and line when the rule came from a file.
 */
export class RuleError extends SsnatError {
  readonly rule: string | undefined;
  readonly column: number | undefined;
  readonly source: string | undefined;

  constructor(message: string, rule?: string, column?: number, source?: string) {
    super('rule', EXIT_USAGE, message);
    this.rule = rule;
    this.column = column;
    this.source = source;
  }
}

/** The capture cannot be read: bad magic, bad lengths, unsupported version (exit 3). */
export class CaptureError extends SsnatError {
  constructor(message: string, where: ErrorWhere = {}) {
    super('input', EXIT_INPUT, message, where);
  }
}

/** An output cannot be written: missing directory, read-only file system, full disk (exit 4: nothing is left behind). */
export class OutputError extends SsnatError {
  constructor(message: string, where: ErrorWhere = {}) {
    super('output', EXIT_OUTPUT, message, where);
  }
}

/** What a system error code means, in words ("no space left on device"), for one-line messages. */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENXIO: 'no such device or address (a FIFO without a reader, or a socket)',
  EPIPE: 'the reader went away',
  ECONNREFUSED: 'connection refused',
  EBADF: 'bad file descriptor',
  EINVAL: 'invalid argument',
};

/** System calls that read: a failure there is the input's side (exit 3); any other's is an output's (exit 4). */
const READING_SYSCALLS: ReadonlySet<string> = new Set(['open', 'read', 'stat', 'fstat', 'lstat', 'scandir', 'opendir']);
/** Errors only a bug of ours causes (a closed descriptor, a bad pointer): an internal error, never "cannot read" a file. */
const PROGRAMMING_ERRORS: ReadonlySet<string> = new Set(['EBADF', 'EFAULT']);

/**
 * A Node system error that no layer worded itself (EACCES from an input's
 * open(), EIO from a read), as the typed error it stands for: a CaptureError
 * when the call was reading, else an OutputError, saying which path and why
 * in words. Null for anything that is not a system error (a bug).
 */
export function fromSystemError(e: unknown): SsnatError | null {
  const err = e as NodeJS.ErrnoException | null;
  if (err === null || typeof err !== 'object' || typeof err.code !== 'string' || typeof err.syscall !== 'string' || PROGRAMMING_ERRORS.has(err.code)) return null;
  const reading = READING_SYSCALLS.has(err.syscall);
  const message = `cannot ${reading ? 'read' : 'write'}${typeof err.path === 'string' ? ` ${shownName(err.path)}` : ''}: ${errnoWords(err)}`;
  return reading ? new CaptureError(message) : new OutputError(message);
}

/** "no space left on device" for a Node system error; its message for anything else. */
export function errnoWords(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && ERRNO_WORDS[code] !== undefined) return ERRNO_WORDS[code]!;
  return e instanceof Error ? e.message : String(e);
}

/** The bidirectional controls, as the inside of a regular expression's character class (the report formats escape them too). */
export const BIDI_CONTROLS = '\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';

/**
 * Control characters: C0 (a newline, ESC), DEL and C1 (U+009B is CSI to
 * some terminals). A terminal acts on them: a newline breaks a message's one
 * line, and ESC starts a sequence that can clear the screen, set the window
 * title or fill the clipboard (OSC 52). And the bidirectional controls
 * (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069), which reorder what is
 * shown after them ("Trojan Source", CVE-2021-42574): a name could make a
 * line read as something it does not say. File names, interface names and
 * comments come from captures and directories nobody here wrote.
 */
const CONTROL = new RegExp(`[\\x00-\\x1f\\x7f-\\x9f${BIDI_CONTROLS}]`);
const CONTROLS = new RegExp(CONTROL.source, 'g');
/** The same but the line feed: for text of several lines. */
const CONTROLS_BUT_LINE_FEED = new RegExp(`[\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f${BIDI_CONTROLS}]`, 'g');
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };

/** A name with a control character: it would not fit on one line of a message, and a terminal would act on it. */
export function hasControlCharacter(name: string): boolean {
  return CONTROL.test(name);
}

/** `c` as JSON spells it inside a string (\n, \u001b), and C1 too, which JSON.stringify leaves as it is. */
export function escapeControl(c: string): string {
  return SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Text from outside (a message that embeds a path, an interface name, a
 * rule) made safe to print on one line of a terminal: each control
 * character spelt as JSON spells it; anything else as it is.
 */
export function printable(text: string): string {
  return CONTROL.test(text) ? text.replace(CONTROLS, escapeControl) : text;
}

/** `printable` for text of several lines: its line feeds kept, every other control character escaped. */
export function printableLines(text: string): string {
  return text.replace(CONTROLS_BUT_LINE_FEED, escapeControl);
}

/** A file name as messages and text reports show it: as it is, or, with a control character, quoted and escaped as JSON spells it. */
export function shownName(name: string): string {
  return CONTROL.test(name) ? printable(JSON.stringify(name)) : name;
}

/** One line: `file: byte offset N (frame F): message`; a file name with a control character is shown quoted and escaped (shownName), the message's control characters escaped (printable). */
export function formatError(e: SsnatError): string {
  const where: string[] = [];
  if (e.offset !== undefined) where.push(`byte offset ${e.offset}`);
  if (e.frame !== undefined) where.push(`frame ${e.frame}`);
  let head = e.file === undefined ? '' : shownName(e.file);
  if (where.length > 0) head += (head ? ': ' : '') + where.join(', ');
  const message = printable(e.message);
  return head ? `${head}: ${message}` : message;
}
