#!/usr/bin/env node
/**
 * Makes dist/ssnat-rewrite.cache, the V8 code cache of the CLI bundle that
 * bin/load-cli.cjs hands to V8: the bundle is compiled, then trained by
 * rewrites (pcapng and pcap), a verify and --help on a shipped fixture (so
 * that the functions those runs use are compiled, lazily, as a user's run
 * would), and the bytecode of everything compiled by then is saved. Run by
 * bundle-cli.mjs with stdout discarded.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachePath, loadCli } from '../bin/load-cli.cjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = join(root, 'fixtures/golden/collision/host.pcapng');
const tmp = mkdtempSync(join(tmpdir(), 'ssnat-code-cache-'));
const { cli, script } = loadCli(false);
const rule = '10.0.0.0/24=192.168.1.0/24';
const runs = [
  ['rewrite', fixture, join(tmp, 'out.pcapng'), '-r', rule, '-q'],
  // A pcap too (converted first): the bench's and most tools' format has a walk of its own.
  ['rewrite', fixture, join(tmp, 'in.pcap'), '--format', 'pcap', '-q'],
  ['rewrite', join(tmp, 'in.pcap'), join(tmp, 'out.pcap'), '-r', rule, '-q'],
  ['verify', fixture, '--report', 'json'],
  ['verify', fixture, '-r', rule],
  ['--help'],
];
try {
  for (const args of runs) await cli.main([process.execPath, 'ssnat-rewrite', ...args]);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exitCode = 0;
writeFileSync(cachePath, script.createCachedData());
