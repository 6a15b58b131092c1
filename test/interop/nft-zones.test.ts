/**
 * `export nft --mode conntrack-zones`, live (issue 24): three clones with one
 * IP, one MAC, the same DNS query id and source port, behind tap0..tap2 of a
 * host running dnsmasq, whose taps all carry the clones' gateway address. With the exported
 * table (and the policy routes its header lists) every clone gets its answer
 * (A over IPv4, AAAA over IPv6) and its RST from a closed TCP port; with the zone chain
 * emptied only the first clone does. Root only (namespaces); about 15 s
 * (test/interop/nft-zones.sh).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, type TestContext } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { needs } from '../helpers/tools.js';

function ready(ctx: TestContext): void {
  needs(ctx, 'nft', 'ip', 'python3');
  if (process.getuid?.() !== 0) ctx.skip('needs root (network namespaces)');
  if (spawnSync('ip', ['netns', 'list']).status !== 0) ctx.skip('ip netns does not work here');
}

const expected = (clone: number, ok: boolean): string[] =>
  [['10.0.0.1', 50], ['fd00::1', 62]].flatMap(([gw, n]) => [`clone${clone} ${gw} udp ${ok ? `answer ${n}` : 'timeout'}`, `clone${clone} ${gw} tcp ${ok ? 'refused' : 'timeout'}`]);

describe('export nft --mode conntrack-zones, live in namespaces', () => {
  it('every clone gets its answer with the zones; without them only the first', { timeout: 60_000 }, (ctx) => {
    ready(ctx);
    const dir = tempDir();
    const script = join(dir, 'zones.nft');
    const rules = [0, 1, 2].flatMap((i) => ['-r', `10.0.0.0/24=192.168.1${i}.0/24@tap${i}`, '-r', `fd00::/64=fd00:1${i}::/64@tap${i}`]);
    const exported = cli(['export', 'nft', '--mode', 'conntrack-zones', '-q', '-o', script, ...rules]);
    expect([exported.code, exported.stderr]).toEqual([0, '']);
    const run = (zones: 0 | 1) => spawnSync(join(ROOT, 'test/interop/nft-zones.sh'), [script, String(zones)], { encoding: 'utf8', timeout: 40_000 });
    const withZones = run(1);
    expect([withZones.status, withZones.stderr]).toEqual([0, '']);
    expect(withZones.stdout.trim().split('\n')).toEqual([...expected(0, true), ...expected(1, true), ...expected(2, true)]);
    const without = run(0);
    expect([without.status, without.stderr]).toEqual([0, '']);
    expect(without.stdout.trim().split('\n')).toEqual([...expected(0, true), ...expected(1, false), ...expected(2, false)]);
  });
});
