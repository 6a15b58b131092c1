import { describe, expect, it } from 'vitest';
import { count, num } from '../../src/report/numbers.js';

describe('numbers in words', () => {
  it('groups thousands as en-US does, on every magnitude and sign, fractions kept', () => {
    for (const n of [0, 7, 999, 1000, 12345, 999999, 1000000, 1234567890, 2 ** 53 - 1, -1, -1000, -1234567]) {
      expect(num(n), String(n)).toBe(n.toLocaleString('en-US'));
    }
    expect(num(1234.5)).toBe('1,234.5');
    expect(num(0.25)).toBe('0.25');
  });

  it('says one and many', () => {
    expect(count(1, 'error')).toBe('1 error');
    expect(count(0, 'error')).toBe('0 errors');
    expect(count(1234, 'packet')).toBe('1,234 packets');
    expect(count(2, 'address', 'addresses')).toBe('2 addresses');
  });
});
