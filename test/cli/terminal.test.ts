/**
 * Names from captures and directories reach a terminal as text, never as
 * control sequences. A pcapng interface name or a file name may hold ESC
 * (which starts sequences that clear the screen, set the window title or fill
 * the clipboard), BEL, a newline or U+009B (CSI to some terminals): the text
 * report, every message on stderr and the JSON report show each one escaped
 * as JSON spells it, and the JSON report still gives the name back exactly.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { printable, shownName } from '../../src/errors.js';
import { renderJson } from '../../src/report/json.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { epb, idb, shb } from '../helpers/pcapng-build.js';
import { smallReport } from '../helpers/reports.js';

/** Sets the window title, clears the screen, puts a command on the clipboard (OSC 52), starts a C1 CSI, breaks the line, reverses what follows. */
const HOSTILE = '\x1b]0;PWNED\x07\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07\u009b31m\nline2\u202egnp';
/** How it is shown. */
const SHOWN = '\\u001b]0;PWNED\\u0007\\u001b[2J\\u001b]52;c;cm0gLXJmIH4=\\u0007\\u009b31m\\nline2\\u202egnp';
/** A control character anywhere but at the end of a line, or a bidirectional one. */
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

/** One packet on an interface of a link type nothing decodes (USER0), named `name`: its finding names the interface. */
function hostileCapture(dir: string): string {
  const p = join(dir, 'hostile.pcapng');
  writeFileSync(p, Buffer.concat([shb(true), idb(HOSTILE, true, 147), epb(0, new Uint8Array(40).fill(0x41), true, 0)]));
  return p;
}

const FINDING = `1 packet(s) on interface 0 (${SHOWN}) have link type 147 (USER0), which ssnat-rewrite does not decode: nothing in them was checked`;

describe('text from outside is escaped before a terminal sees it', () => {
  it('printable and shownName spell control characters as JSON does, C1 and DEL too, and leave everything else', () => {
    expect(printable(HOSTILE)).toBe(SHOWN);
    expect(printable('tap1 — ünïcode\t\r\b\f\x7f\x00')).toBe('tap1 — ünïcode\\t\\r\\b\\f\\u007f\\u0000');
    expect(printable('plain')).toBe('plain');
    // Bidirectional controls reorder what follows them: "gnp.pcap" would show as "pacp.png".
    expect(printable('x\u202egnp.pcap \u2066a\u2069 \u200f\u061c')).toBe('x\\u202egnp.pcap \\u2066a\\u2069 \\u200f\\u061c');
    expect(printable('שלום tap1 مرحبا')).toBe('שלום tap1 مرحبا');
    expect(shownName('/tmp/a b.pcap')).toBe('/tmp/a b.pcap');
    expect(shownName('/tmp/a"\n\u009b.pcap')).toBe('"/tmp/a\\"\\n\\u009b.pcap"');
  });

  it('the JSON report escapes DEL and C1, which JSON.stringify leaves raw, and parses back to the same strings', () => {
    const r = smallReport();
    r.input.path = `/tmp/x\u009b\x7f\u202e${HOSTILE}.pcapng`;
    const text = renderJson(r);
    expect(CONTROL.test(text)).toBe(false);
    expect(text).toContain(`"path": "/tmp/x\\u009b\\u007f\\u202e${SHOWN}.pcapng"`);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(r)));
  });

  it('an interface name from the capture: in the text report, the findings on stderr, a rule error and the JSON report', () => {
    const dir = tempDir();
    const input = hostileCapture(dir);
    const text = cli(['verify', input]);
    expect(text.code).toBe(0);
    const out = text.stdout.toString();
    expect(CONTROL.test(out)).toBe(false);
    expect(out.split('\n')).toContain(`  frame 1 if 0: ${FINDING}; they pass unchanged`);

    const rewrite = cli([input, join(dir, 'out.pcapng'), '-r', '10.0.0.0/24=192.168.1.0/24']);
    expect(rewrite.code).toBe(0);
    expect(CONTROL.test(rewrite.stderr)).toBe(false);
    expect(rewrite.stderr.split('\n')).toContain(`warning: frame 1: capture.unsupported-link: ${FINDING} or translated; they pass unchanged`);

    const scoped = cli([input, join(dir, 'scoped.pcapng'), '-r', '10.0.0.0/24=192.168.1.0/24@tap1']);
    expect(scoped.code).toBe(2);
    expect(scoped.stderr).toBe(`ssnat-rewrite: rule "10.0.0.0/24=192.168.1.0/24@tap1" names an interface the capture does not have (it has: ${SHOWN} (#0))\n`);

    const json = cli(['verify', input, '--report', 'json']);
    expect(CONTROL.test(json.stdout.toString())).toBe(false);
    expect(JSON.parse(json.stdout.toString()).input.interfaces[0].name).toBe(HOSTILE);

    // JUnit and HTML go to stdout too when no --report-file is given: JUnit spells controls \xNN (XML cannot hold
    // C0 at all), the HTML page as the text report does; both keep their own line breaks.
    const junit = cli(['verify', input, '--report', 'junit']).stdout.toString();
    expect(CONTROL.test(junit)).toBe(false);
    expect(junit).toContain('interface 0 (\\x1b]0;PWNED\\x07\\x1b[2J\\x1b]52;c;cm0gLXJmIH4=\\x07\\x9b31m\nline2\\u202egnp)');
    const html = cli(['verify', input, '--report', 'html']).stdout.toString();
    expect(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202e]/.test(html)).toBe(false);
    expect(html).toContain(`interface 0 (${SHOWN.replace('\\nline2', '\nline2')})`);
  });

  it('file names from a directory: the report of many captures, an unreadable one, and rewrite --out-dir', () => {
    const dir = tempDir();
    const suite = join(dir, 'suite');
    mkdirSync(suite);
    const name = `clone\x1b[31m\u009b\nB.pcapng`;
    copyFileSync(join(ROOT, 'fixtures/golden/ssnat/guest1.pcapng'), join(suite, name));
    writeFileSync(join(suite, 'cut\x07.pcapng'), readFileSync(join(ROOT, 'fixtures/golden/ssnat/guest1.pcapng')).subarray(0, 20));
    const shown = (n: string): string => shownName(join(suite, n));
    expect(shown(name)).toBe(`"${suite}/clone\\u001b[31m\\u009b\\nB.pcapng"`);

    const v = cli(['verify', suite]);
    expect(v.code).toBe(3);
    const out = v.stdout.toString();
    expect(CONTROL.test(out)).toBe(false);
    expect(out.split('\n').slice(1, 3)).toEqual([
      `  ok          ${shown(name)}: 28 packets, 0 errors, 0 warnings, 0 collisions`,
      `  UNREADABLE  ${shown('cut\x07.pcapng')}: file ends after 20 bytes, inside the first section header block`,
    ]);

    const r = cli(['--out-dir', join(dir, 'out'), suite, '-r', '10.0.0.0/24=192.168.11.0/24']);
    expect(r.code).toBe(3);
    expect(CONTROL.test(r.stderr)).toBe(false);
    expect(r.stderr.split('\n')).toContain(`ssnat-rewrite: ${shown(name)}: 28 packets, 19 rewritten -> ${shownName(join(dir, 'out', name))}`);
  });
});
