/**
 * Wireshark agrees with our rewrites: for corpus captures rewritten through
 * the CLI with rules that match their busiest IPv4 /24 and IPv6 /64, tshark
 * finds exactly the checksum errors the input had, and no others; and
 * rewriting back (host-to-guest) gives the input bytes again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPackets } from '../helpers/capture.js';
import { cli, tempDir } from '../helpers/cli.js';
import { corpusPath, manifest } from '../helpers/corpus.js';
import { rulesForCapture } from '../helpers/survey.js';
import { needs } from '../helpers/tools.js';
import { tsharkChecksums } from '../helpers/tshark.js';

/** Rules mapping the capture's busiest IPv4 /24 and IPv6 /64 to networks it does not use. */
async function rulesFor(path: string): Promise<string[]> {
  return rulesForCapture(await readPackets(path));
}

// The captures whose checksums, link types and ICMP errors make a rewrite interesting.
const picked = manifest()
  .filter((e) => !e.damaged && e.packets > 0 && e.packets <= 6000)
  .filter((e) => /bad_\w+_cksum|udp_zero_cksum|icmp_error|icmpv6|fragment|LINUX_SLL|NULL|RAW|IPV4|IPV6|vlan|qinq|arp/.test(e.notes + e.linkTypes));

describe('tshark judges rewritten captures exactly as it judged their inputs', () => {
  let changed = 0;
  let withRules = 0;
  it('tests a broad sample', () => {
    expect(picked.length).toBeGreaterThan(60);
  });

  it.for(picked.map((e) => e.path))('%s', async (path, ctx) => {
    needs(ctx, 'tshark');
    const input = corpusPath(path);
    const rules = await rulesFor(input);
    if (rules.length === 0) return; // only ARP or link-local: nothing for this test to translate
    withRules++;
    const dir = tempDir();
    const out = join(dir, 'out');
    const back = join(dir, 'back');
    const args = rules.flatMap((r) => ['-r', r]);
    const r = cli([input, out, ...args, '-q']);
    // Nothing on stderr but, said even with -q, a rule that rewrote nothing (its address only in a header ssnat-rewrite cannot read).
    expect(r.stderr.split('\n').filter((l) => l !== '' && !/^ssnat-rewrite: warning: rule "[^"]+" matched no address/.test(l))).toEqual([]);
    expect(r.code).toBe(0);
    const [before, after] = await Promise.all([tsharkChecksums(input), tsharkChecksums(out)]);
    expect(after).toEqual(before);
    // And back again: host-to-guest restores every byte.
    expect(cli([out, back, ...args, '-d', 'host-to-guest', '-q']).code).toBe(0);
    expect(Buffer.compare(readFileSync(back), readFileSync(input))).toBe(0);
    if (Buffer.compare(readFileSync(out), readFileSync(input)) !== 0) changed++;
  });

  // The rules matched: nearly every capture changed (a few have their only addresses in cut headers).
  afterAll(() => {
    expect(withRules).toBeGreaterThan(100);
    expect(changed).toBeGreaterThan(withRules * 0.95);
  });
});
