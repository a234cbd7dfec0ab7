import { describe, expect, it } from 'vitest';
import { plainError, plainSendError } from './plainErrors';

describe('send errors in plain words', () => {
  it.each([
    [131047, 'Re-engagement message', '24 hours'],
    [131026, 'Message undeliverable', 'cannot receive'],
    [132001, 'Template name does not exist in the translation', 'does not exist'],
    [99999, 'Some Graph text', 'code 99999: Some Graph text'],
  ])('code %i', (code, raw, want) => {
    expect(plainError(code, raw)).toContain(want);
  });
  it('keeps the code for lookup', () => {
    expect(plainError(131050)).toMatch(/\(code 131050\)$/);
  });
  it('says API refusals in words', () => {
    expect(plainSendError(409, 'the 24-hour window is closed: only a template may be sent')).toContain('only an approved template');
    expect(plainSendError(409, 'conversation is no longer handed off to an agent')).toContain('no longer with an agent');
    expect(plainSendError(422, 'template blocked: the contact has not opted in')).toBe('WhatsApp would refuse this: the contact has not opted in');
    expect(plainSendError(500, 'internal error')).toContain('try again');
  });
});
