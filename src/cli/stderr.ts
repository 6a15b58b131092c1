/**
 * process.stderr with its write errors ignored. A message that cannot be
 * shown (stderr on a full disk, a pipe whose reader left) must not change
 * the exit code: Node throws an 'error' event nobody listens to, and the
 * uncaught exception exits 1, which here means "verification found
 * errors". The stream is made on first use, as process.stdout is
 * (cli/main.ts): a pipe behind both (2>&1) must stay blocking while a worker
 * thread writes a capture to fd 1.
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

/** Writes a message on stderr (see `stderr`). */
export function say(text: string): void {
  stderr().write(text);
}
