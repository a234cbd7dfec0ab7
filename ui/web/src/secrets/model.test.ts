import { describe, expect, it } from 'vitest';
import { maxValueBytes, nameProblem, usage, valueProblem } from './model';

describe('a secret name, as the server checks it', () => {
  it.each([
    ['shop_token', ''],
    ['a', ''],
    ['api2_key', ''],
    ['x'.repeat(64), ''],
    ['', 'A name is required.'],
    ['x'.repeat(65), 'At most 64 characters.'],
    ['Shop', 'A lowercase letter first, then lowercase letters, digits and _.'],
    ['1token', 'A lowercase letter first, then lowercase letters, digits and _.'],
    ['_token', 'A lowercase letter first, then lowercase letters, digits and _.'],
    ['shop-token', 'A lowercase letter first, then lowercase letters, digits and _.'],
    ['tökén', 'A lowercase letter first, then lowercase letters, digits and _.'],
  ])('%j → %j', (name, want) => {
    expect(nameProblem(name)).toBe(want);
  });
});

describe('a secret value', () => {
  it('is 1 byte to 8 KiB, counted as UTF-8', () => {
    expect(valueProblem('')).toBe('A value is required.');
    expect(valueProblem('v'.repeat(maxValueBytes))).toBe('');
    expect(valueProblem('v'.repeat(maxValueBytes + 1))).toBe('At most 8192 bytes; this is 8193.');
    expect(valueProblem('é'.repeat(maxValueBytes / 2 + 1))).toBe('At most 8192 bytes; this is 8194.');
  });
  it('is used as {{ secrets.NAME }}', () => {
    expect(usage('shop_token')).toBe('{{ secrets.shop_token }}');
  });
});
