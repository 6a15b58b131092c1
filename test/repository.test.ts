/**
 * The repository stands alone: a fresh clone with nothing beside it runs
 * every test. No tracked file reads or cites the hand-over folder that sits
 * beside the checkout on the development machines (`..` + `/shared`): the
 * public corpus the tests use is vendored in test/corpus, the design lives in
 * docs/DESIGN.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { CORPUS, manifest } from './helpers/corpus.js';
import { CHECK_SEVERITY } from '../src/report/model.js';
import { EXIT_CODES } from '../src/errors.js';

/** Spelled in two pieces, so that this file does not cite it either. */
const OUTSIDE = ['..', 'shared'].join('/');

function tracked(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter((f) => f.length > 0);
}

describe('the repository stands alone', () => {
  it(`no tracked file reads or cites ${OUTSIDE}`, () => {
    const files = tracked();
    expect(files.length).toBeGreaterThan(100);
    const citing = files.filter((f) => existsSync(join(ROOT, f)) && readFileSync(join(ROOT, f)).includes(OUTSIDE));
    expect(citing).toEqual([]);
  });

  it('the corpus the tests read is inside the repository, with its provenance and every source licence', () => {
    expect(CORPUS.startsWith(ROOT)).toBe(true);
    const files = new Set(tracked());
    const entries = manifest();
    expect(entries.length).toBe(272);
    for (const e of entries) expect(files.has(`test/corpus/${e.path}`), e.path).toBe(true);
    const provenance = readFileSync(join(CORPUS, 'PROVENANCE.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t')[0]!);
    for (const e of entries) expect(provenance, e.path).toContain(e.path);
    // Each source folder carries its licence text, as the corpus README's table lists it.
    const readme = readFileSync(join(CORPUS, 'README.md'), 'utf8');
    const folders = new Set(entries.map((e) => e.path.split('/')[0]!));
    for (const folder of folders) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${folder}/\``));
      expect(row, folder).toBeDefined();
      const licenceFiles = [...row!.matchAll(/`([^`]+\/(?:LICENSE[^`]*|COPYING|NOTICE))`/g)].map((m) => m[1]!);
      expect(licenceFiles.length, folder).toBeGreaterThan(0);
      for (const l of licenceFiles) expect(files.has(`test/corpus/${l}`), l).toBe(true);
    }
  });

  it('the design the code comments cite is in the repository', () => {
    const design = readFileSync(join(ROOT, 'docs/DESIGN.md'), 'utf8');
    for (const part of ['## 1. Product contract', '## 2. Correctness rules', '## 3. Architecture']) expect(design).toContain(part);
    const cited = tracked().filter((f) => f.startsWith('src/') && readFileSync(join(ROOT, f), 'utf8').includes('DESIGN.md'));
    expect(cited.length).toBeGreaterThan(5);
    for (const f of cited) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      // Every citation names the file by its path in the repository.
      expect(text.match(/(?<!docs\/)DESIGN\.md/g), f).toBeNull();
    }
  });
});

describe('the contract in docs/DESIGN.md is the one built', () => {
  const design = readFileSync(join(ROOT, 'docs/DESIGN.md'), 'utf8');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  /** check -> severity, from the rows of a markdown checks table ("| `a` `b` | error | ..."). */
  function checksTable(text: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const line of text.split('\n')) {
      const m = /^\| ((?:`[a-z0-9.-]+`[ ,]*)+) \| (error|warning) \|/.exec(line);
      if (m === null) continue;
      for (const c of m[1]!.matchAll(/`([a-z0-9.-]+)`/g)) out.set(c[1]!, m[2]!);
    }
    return out;
  }

  it('every check name, with its severity, in the design and in the README; none that is not built', () => {
    const built = new Map(Object.entries(CHECK_SEVERITY));
    expect(checksTable(design)).toEqual(built);
    expect(checksTable(readme)).toEqual(built);
  });

  it('the exit codes, in the design, the README and --help alike', () => {
    const codes = (text: string): string[] => [...text.matchAll(/^\| (\d+(?:, \d+)*) \| /gm)].map((m) => m[1]!);
    const designCodes = codes(design.slice(design.indexOf('### Exit codes'), design.indexOf('### Report')));
    expect(designCodes).toEqual([...Object.keys(EXIT_CODES), '130, 143']);
    const readmeCodes = codes(readme.slice(readme.indexOf('### Exit codes')));
    expect(readmeCodes).toEqual(designCodes);
  });
});
