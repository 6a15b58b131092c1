/**
 * The README keeps its promises: the quick start's command works and gives
 * the kernel's frames, and every library example prints what the README
 * says it prints.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPackets } from './helpers/capture.js';
import { BIN, ROOT } from './helpers/cli.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  expect(start).toBeGreaterThan(0);
  const end = README.indexOf('\n## ', start + 4);
  return README.slice(start, end < 0 ? undefined : end);
}

describe('README', () => {
  it('quick start: exactly two commands, install-and-run then npm test', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(section('Quick start'))![1]!.trim().split('\n');
    expect(block).toHaveLength(2);
    expect(block[0]).toMatch(/^npm install && npx ssnat-rewrite /);
    expect(block[1]).toBe('npm test');
    // CI runs that same command, in a fresh clone with nothing beside it, with every tool required.
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    expect(ci).toMatch(/\ngit clone -q "\$repo" "\$work\/ssnat-rewrite"\ncd "\$work\/ssnat-rewrite"\n/);
    expect(ci).toMatch(/\nexport SSNAT_REQUIRE_TOOLS=1\nnpm test\n/);
  });

  it("quick start: the command runs and its frames are the kernel's on tap1", async () => {
    const line = /```sh\n([\s\S]*?)```/.exec(section('Quick start'))![1]!.trim().split('\n')[0]!;
    const args = line.replace(/^npm install && npx ssnat-rewrite /, '').split(/\s+/);
    execFileSync(process.execPath, [BIN, ...args, '-q'], { cwd: ROOT });
    const out = args[1]!;
    const ours = await readPackets(out);
    const kernel = (await readPackets(join(ROOT, 'fixtures/golden/ssnat/host.pcapng'))).filter((p) => p.interfaceId === 1);
    expect(ours.map((p) => Buffer.from(p.data).toString('hex'))).toEqual(kernel.map((p) => Buffer.from(p.data).toString('hex')));
  });

  const lib = section('Library');
  const examples = [...lib.matchAll(/```js\n([\s\S]*?)```\s*```text\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!] as const);
  it('has its library examples', () => {
    expect(examples.length).toBe(3);
  });
  it.each(examples.map((e, i) => [i + 1, e[0], e[1]] as const))('library example %i prints what the README says', (i, code, output) => {
    // Inside the package, `import ... from 'ssnat-rewrite'` resolves to this package (self-reference).
    const dir = join(ROOT, '.readme-examples');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `example-${i}.mjs`);
    writeFileSync(file, code);
    const stdout = execFileSync(process.execPath, [file], { cwd: ROOT }).toString();
    expect(stdout).toBe(output);
  });
});
