/**
 * Prints one plain closing line, "vitest: N passed, N failed, N skipped",
 * after vitest's own summary, so that tools that read closing lines (CI
 * dashboards) count the tests without knowing vitest's format. Tests skipped
 * because an external tool is missing (test/helpers/tools.ts) are named:
 * "vitest: 1400 passed, 0 failed, 43 skipped (43 for a missing tool: tshark; apt-get install tshark)".
 */
import type { Reporter, TestModule } from 'vitest/node';
import { MISSING_TOOL } from './helpers/tools.js';

export default class PlainSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    let forTools = 0;
    const reasons = new Set<string>();
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        const r = t.result();
        if (r.state === 'passed') passed++;
        else if (r.state === 'failed') failed++;
        else {
          skipped++;
          if (r.state === 'skipped' && r.note?.startsWith(MISSING_TOOL)) {
            forTools++;
            reasons.add(r.note.slice(MISSING_TOOL.length));
          }
        }
      }
      // A module that failed to load has no tests to count: count it as one failure.
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) failed++;
    }
    const why = forTools > 0 ? ` (${forTools} for a missing tool: ${[...reasons].join('; ')})` : '';
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed, ${skipped} skipped${why}\n`);
  }
}
