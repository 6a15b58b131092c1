/**
 * The kernel's VXLAN as the oracle, live (issue 23): fixtures/capture/vxlan.sh runs in network
 * namespaces into a temporary folder (four underlays, NAT off and on: about 30 s) and the claim
 * of test/golden/vxlan.test.ts is checked on the fresh captures: our rewrite of each NAT-off
 * capture is the NAT-on one (outer IPv4 ID and header checksum masked, the ICMP error's quote
 * ours to translate), the reverse gives the NAT-off one back. The fresh captures are also the
 * golden ones under the same masks: the replay is deterministic and the fixtures are what this
 * kernel does today. Root only (namespaces), and a kernel with the vxlan module.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPackets } from '../helpers/capture.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';
import { differences, expectedIcmpError, forwardProblems, icmpErrorFields, reverseProblems, UNDERLAYS } from '../helpers/vxlan-oracle.js';

const GOLDEN = join(ROOT, 'fixtures/golden/vxlan');

describe('the kernel\'s VXLAN, live in namespaces', () => {
  it('fresh captures from vxlan.sh: our rewrite is the kernel\'s NAT on every underlay, both ways, and the captures are the golden ones', { timeout: 120_000 }, async (ctx) => {
    needs(ctx, 'nft', 'ip', 'ethtool', 'python3', 'dumpcap', 'tshark');
    if (process.getuid?.() !== 0) ctx.skip('needs root (network namespaces)');
    if (spawnSync('ip', ['netns', 'list']).status !== 0) ctx.skip('ip netns does not work here');
    spawnSync('modprobe', ['-q', 'vxlan']);
    if (!existsSync('/sys/module/vxlan')) ctx.skip('the kernel has no vxlan module');
    const out = tempDir();
    const run = spawnSync(join(ROOT, 'fixtures/capture/vxlan.sh'), ['all'], {
      env: { ...process.env, OUT: out, VX_TAG: String(process.pid) },
      encoding: 'utf8',
      timeout: 100_000,
    });
    expect(run.status, run.stderr).toBe(0);
    for (const u of UNDERLAYS) {
      for (const phase of ['nat-off', 'nat-on']) {
        const fresh = await readPackets(join(out, `${u.name}-${phase}.pcapng`));
        const golden = await readPackets(join(GOLDEN, `${u.name}-${phase}.pcapng`));
        expect(differences(fresh, golden, [], ['fresh', 'golden']), `${u.name}-${phase}`).toEqual([]);
      }
      const off = join(out, `${u.name}-nat-off.pcapng`);
      const on = join(out, `${u.name}-nat-on.pcapng`);
      const work = tempDir();
      expect(await forwardProblems(off, on, work), u.name).toEqual([]);
      expect(icmpErrorFields(join(work, 'ours.pcapng')), u.name).toEqual(expectedIcmpError(u, ['192.168.11.2', '192.168.11.1']));
      expect(await reverseProblems(off, on, work), u.name).toEqual([]);
    }
  });
});
