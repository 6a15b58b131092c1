/**
 * JUnit XML stays parseable whatever the text in it: XML 1.0 cannot hold
 * control characters or lone surrogates at all, and a file name (the suite's
 * name in a run over many captures) may have any.
 */
import { describe, expect, it } from 'vitest';
import { renderJunit } from '../../src/report/junit.js';
import type { Report } from '../../src/report/model.js';

function report(path: string, message: string): Report {
  return {
    tool: 'ssnat-rewrite',
    version: '0.1.0',
    command: 'verify',
    input: { path, format: 'pcap', interfaces: [{ id: 0, linkType: 1 }] },
    direction: 'guest-to-host',
    rules: [],
    summary: { packets: 1, rewritten: 0, undecodable: 0, checksums: { verified: 0, bad: 1, unverifiable: 0 }, errors: 1, warnings: 0, collisions: 0 },
    verdict: { result: 'failed', exitCode: 1, strict: false, why: '1 error' },
    findings: [{ frame: 1, interface: 0, check: 'udp.checksum', severity: 'error', message }],
    collisions: [],
  };
}

describe('JUnit escaping', () => {
  it('controls and lone surrogates are written as \\xNN / \\uNNNN, the five specials as entities', () => {
    const xml = renderJunit(report('caps/a\u0001b"<&>.pcap', 'bad\u0000 \u0008 \uD800 \uDC00 pair \uD83D\uDE00 ok'));
    expect(xml).toContain('name="ssnat-rewrite verify caps/a\\x01b&quot;&lt;&amp;&gt;.pcap"');
    expect(xml).toContain('bad\\x00 \\x08 \\ud800 \\udc00 pair \uD83D\uDE00 ok');
    // Nothing XML 1.0 forbids is left (tab, newline and carriage return are allowed).
    expect(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(xml)).toBe(false);
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(xml)).toBe(false);
  });
});
