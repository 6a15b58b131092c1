import { printableLines } from '../errors.js';

/**
 * process.stderr with its write errors ignored. A message that cannot be
 * shown (stderr on a full disk, a pipe whose reader left) must not change
 * the exit code: Node throws an 'error' event nobody listens to, and the
 * uncaught exception exits 1, which here means "verification found
 * errors". A report sent to stderr has a handler of its own (cli/main.ts
 * writeReport).
 */
let guarded = false;

export function stderr(): NodeJS.WriteStream {
  const s = process.stderr;
  if (!guarded) {
    guarded = true;
    s.on('error', () => undefined);
  }
  return s;
}

/**
 * Writes a message on stderr (see `stderr`), its lines as they are and any
 * other control character escaped (`printableLines`): messages quote names from
 * captures and directories, and a terminal must show them, not obey them.
 */
export function say(text: string): void {
  stderr().write(printableLines(text));
}
