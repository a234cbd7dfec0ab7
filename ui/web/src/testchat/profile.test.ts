import { describe, expect, it } from 'vitest';
import { defaultProfile, fillTemplate, profileOf } from './profile';

describe('the test customer', () => {
  it('reads tags and typed fields', () => {
    const r = profileOf({ ...defaultProfile, name: ' Ana ', language: 'pt_BR', tags: 'vip, , late', fields: 'city: Porto\norders: 3\nvip: true\nnote: 3 pizzas', optedIn: false });
    expect(r.profile).toEqual({ name: 'Ana', language: 'pt_BR', tags: ['vip', 'late'], fields: { city: 'Porto', orders: 3, vip: true, note: '3 pizzas' }, opted_in: false });
  });
  it('names a bad line', () => {
    expect(profileOf({ ...defaultProfile, fields: 'city Porto' }).error).toContain('name: value');
    expect(profileOf({ ...defaultProfile, fields: 'my city: Porto' }).error).toContain('not a field name');
  });
});

describe('template text', () => {
  it('fills numbered and named parameters', () => {
    expect(fillTemplate('Hi {{1}}, order {{2}} ships {{ 2 }}', ['Ann', '#42'])).toBe('Hi Ann, order #42 ships #42');
    expect(fillTemplate('Hi {{name}}, see you {{day}}; bye {{name}}', ['Ann', 'Friday'])).toBe('Hi Ann, see you Friday; bye Ann');
    expect(fillTemplate('Hi {{1}} and {{3}}', ['Ann'])).toBe('Hi Ann and {{3}}');
  });
});
