import { expect } from 'vitest';
import { RuleError } from '../../src/errors.js';

/** Calls fn, expects a RuleError, returns it. */
export function ruleError(fn: () => unknown): RuleError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RuleError);
    return e as RuleError;
  }
  throw new Error('expected a RuleError');
}
