/**
 * What the command line reads before a run starts: the rules (from -r and
 * --rules-file) and the input path, each checked so that a mistake gets one
 * line that says what to do (exit 2 for usage, 3 for an input that cannot be
 * read), before any output is touched.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { CaptureError, UsageError, errnoWords } from '../errors.js';
import { parseRule, parseRulesFile, validateRuleSet, type Rule } from '../nat/rules.js';
import type { CaptureFormat } from '../capture/record.js';
import { isGzip } from '../capture/gzip.js';
import { sniffFormat } from '../capture/reader.js';

/** The command names, for "did you mean" on an input that does not exist. */
const COMMANDS = ['rewrite', 'verify', 'merge-reports', 'export'];

/** Levenshtein distance, for suggestions (short strings only). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/** What a file that is a capture, not text, holds: for a rules file given by mistake. */
function looksLikeCapture(head: Buffer): string | null {
  if (isGzip(head)) return 'gzip data';
  const sniffed = sniffFormat(new DataView(head.buffer, head.byteOffset, head.byteLength));
  return sniffed === null ? null : `a ${sniffed.format} capture`;
}

/** Reads a rules file, refusing what is not one with a line that says what it is. */
function readRulesFile(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new UsageError(`rules file ${path}: ${errnoWords(e)}`);
  }
  if (st.isDirectory()) throw new UsageError(`rules file ${path} is a directory: give a text file with one rule per line`);
  let bytes: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      // A rules file is small; more than 16 MB is surely something else.
      const buf = Buffer.allocUnsafe(16 << 20);
      let n = 0;
      for (let r; n < buf.length && (r = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += r;
      if (n === buf.length) throw new UsageError(`rules file ${path} is larger than 16 MB: give a text file with one rule per line`);
      bytes = buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`rules file ${path}: ${errnoWords(e)}`);
  }
  const what = looksLikeCapture(bytes) ?? (bytes.includes(0) ? 'binary data' : null);
  if (what !== null) throw new UsageError(`rules file ${path} holds ${what}, not rules: give a text file with one rule per line`);
  return bytes.toString('utf8');
}

/** The rules of -r and --rules-file (the file's first), validated as one set. */
export function loadRules(opts: { rule?: string[]; rulesFile?: string }): Rule[] {
  const rules: Rule[] = [];
  if (opts.rulesFile !== undefined) {
    const fromFile = parseRulesFile(readRulesFile(opts.rulesFile), opts.rulesFile);
    if (fromFile.length === 0) throw new UsageError(`rules file ${opts.rulesFile} has no rules (only blank lines and # comments)`);
    rules.push(...fromFile);
  }
  for (const r of opts.rule ?? []) rules.push(parseRule(r));
  validateRuleSet(rules);
  return rules;
}

/**
 * Checks an input path before anything else happens: it exists (or it is a
 * misspelt command), it is not a directory, it can be opened. '-' is stdin.
 */
export function checkInput(input: string, command: 'rewrite' | 'verify'): void {
  if (input === '-') return;
  let st;
  try {
    st = statSync(input);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !input.includes('/') && !input.includes('.')) {
      const near = COMMANDS.find((c) => distance(c, input) <= 2);
      if (near !== undefined) {
        throw new UsageError(`${input}: no such file or command; did you mean the command '${near}'? (ssnat-rewrite ${near} ...)`);
      }
    }
    throw new CaptureError(errnoWords(e), { file: input });
  }
  if (st.isDirectory()) {
    const how = command === 'verify' ? 'give a capture file' : 'give a capture file, or rewrite every capture in it with --out-dir DIR';
    throw new UsageError(`input ${input} is a directory: ${how}`);
  }
}

/**
 * The output format an output's name asks for: .pcapng, or .pcap/.cap (each
 * also with .gz after it), as editcap and tshark users expect; null when the
 * name says nothing (another extension, stdout, a descriptor).
 */
export function formatFromName(output: string): CaptureFormat | null {
  if (output === '-') return null;
  const name = basename(output).toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.pcapng') || name.endsWith('.ntar')) return 'pcapng';
  if (name.endsWith('.pcap') || name.endsWith('.cap')) return 'pcap';
  return null;
}
