import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import { build, chars, check, counts, describeChange, emptyForm, hasErrors, params, problemsFor, serverErrors, statusTone, suggestName, type Form } from './model';

const form = (over: Partial<Form> = {}): Form => ({
  ...emptyForm(),
  name: 'order_shipped',
  category: 'UTILITY',
  body: 'Your order {{1}} has shipped.',
  examples: { 'body:1': 'A-1' },
  ...over,
});

const errs = (f: Form, field: string) => problemsFor(check(f), field).filter((p) => p.level === 'error').map((p) => p.message);

describe("Meta's rules, checked as you type", () => {
  it('accepts a good template', () => {
    expect(check(form())).toEqual([]);
  });

  it('wants the name lowercase alphanumerics and underscores, and suggests one', () => {
    expect(errs(form({ name: 'Order-Shipped' }), 'name')).toEqual(['Only lowercase letters, digits and underscores: try order_shipped.']);
    expect(errs(form({ name: 'order shipped!' }), 'name')[0]).toContain('try order_shipped');
    expect(errs(form({ name: '<b>x</b>' }), 'name')[0]).toContain('Only lowercase');
    expect(errs(form({ name: '' }), 'name')).toEqual(['A name is required.']);
    expect(errs(form({ name: 'order_2026' }), 'name')).toEqual([]);
    expect(suggestName('  Spring Sale 2026! ')).toBe('spring_sale_2026');
  });

  it('refuses adjacent parameters, with or without space between them', () => {
    const f = form({ body: 'Hi {{1}}{{2}}, welcome.', examples: { 'body:1': 'Ann', 'body:2': 'B' } });
    expect(errs(f, 'body').some((m) => m.includes('next to each other'))).toBe(true);
    expect(hasErrors(check(f))).toBe(true);
    expect(errs(form({ body: 'Hi {{1}} {{2}}, welcome.', examples: { 'body:1': 'a', 'body:2': 'b' } }), 'body').some((m) => m.includes('next to each other'))).toBe(true);
    expect(errs(form({ body: 'Hi {{1}}, code {{2}}.', examples: { 'body:1': 'a', 'body:2': 'b' } }), 'body')).toEqual([]);
  });

  it('counts the body in characters (code points), at most 1024', () => {
    expect(errs(form({ body: 'x'.repeat(1024) }), 'body')).toEqual([]);
    expect(errs(form({ body: 'x'.repeat(1025) }), 'body')).toEqual(['The body is 1025 characters; Meta allows at most 1024.']);
    expect(chars('😀'.repeat(1024))).toBe(1024);
    expect(errs(form({ body: '😀'.repeat(1024) }), 'body')).toEqual([]);
  });

  it('wants positional parameters numbered in order, named ones lowercase', () => {
    expect(errs(form({ body: 'Hi {{2}}, ok.', examples: { 'body:2': 'x' } }), 'body')[0]).toContain('{{2}} should be {{1}}');
    expect(errs(form({ body: 'Hi {{name}}, ok.', examples: { 'body:name': 'x' } }), 'body')[0]).toContain('named parameter');
    expect(errs(form({ format: 'NAMED', body: 'Hi {{first_name}}, ok.', examples: { 'body:first_name': 'Ann' } }), 'body')).toEqual([]);
    expect(errs(form({ format: 'NAMED', body: 'Hi {{First}}, ok.', examples: { 'body:First': 'Ann' } }), 'body')[0]).toContain('lowercase');
    expect(errs(form({ body: 'Hi {{first name}}, ok.' }), 'body')[0]).toContain('is not a parameter');
    expect(errs(form({ body: 'Hi {{1}, ok.' }), 'body')[0]).toContain('not closed');
  });

  it('wants an example for every parameter', () => {
    expect(errs(form({ examples: {} }), 'example.body.1')[0]).toContain('{{1}}');
  });

  it('checks header, footer and buttons', () => {
    expect(errs(form({ header: 'Order {{1}} {{2}}', examples: { 'body:1': 'a', 'header:1': 'x', 'header:2': 'y' } }), 'header')).toContain('A header takes at most one parameter.');
    expect(errs(form({ footer: 'Reply {{1}}' }), 'footer')).toEqual(['A footer takes no parameters.']);
    expect(errs(form({ footer: 'x'.repeat(61) }), 'footer')[0]).toContain('at most 60');
    const b = (type: 'QUICK_REPLY' | 'URL' | 'PHONE_NUMBER', text: string, url = '', phone = '') => ({ type, text, url, phone });
    expect(errs(form({ buttons: [b('QUICK_REPLY', 'x'.repeat(26))] }), 'buttons')[0]).toContain('At most 25');
    expect(errs(form({ buttons: [b('QUICK_REPLY', 'Yes'), b('QUICK_REPLY', 'yes')] }), 'buttons')[0]).toContain('Two buttons');
    expect(errs(form({ buttons: [b('URL', 'Track', 'ftp://x')] }), 'buttons[0].url')[0]).toContain('https://');
    expect(errs(form({ buttons: [b('PHONE_NUMBER', 'Call', '', 'abc')] }), 'buttons[0].phone_number')[0]).toContain('country code');
    expect(errs(form({ buttons: [b('QUICK_REPLY', 'A'), b('URL', 'B', 'https://x.test'), b('QUICK_REPLY', 'C')] }), 'buttons')[0]).toContain('together');
    expect(errs(form({ buttons: Array.from({ length: 11 }, (_, i) => b('QUICK_REPLY', `r${i}`)) }), 'buttons')[0]).toBe('At most 10 buttons.');
  });

  it('warns, without refusing, of a body that starts or ends with a parameter', () => {
    const ps = check(form({ body: 'Your code is {{1}}' }));
    expect(ps.map((p) => p.level)).toEqual(['warning']);
    expect(hasErrors(ps)).toBe(false);
  });

  it('lists parameters once each, in order', () => {
    expect(params('{{1}} and {{ 2 }} and {{1}} and {{name}}')).toEqual(['1', '2', 'name']);
  });
});

describe("Meta's creation body", () => {
  it('builds header, body, footer and buttons with their examples', () => {
    const f = form({
      header: 'Order {{1}}',
      body: 'Hi {{1}}, your order ships {{2}}.',
      footer: 'Acme',
      examples: { 'header:1': 'A-1', 'body:1': 'Ann', 'body:2': 'today' },
      buttons: [
        { type: 'QUICK_REPLY', text: ' Track ', url: '', phone: '' },
        { type: 'URL', text: 'Web', url: 'https://acme.test/o', phone: '' },
        { type: 'PHONE_NUMBER', text: 'Call', url: '', phone: '+49 30-123456' },
      ],
    });
    expect(build(f)).toEqual({
      name: 'order_shipped',
      language: 'en_US',
      category: 'UTILITY',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}', example: { header_text: ['A-1'] } },
        { type: 'BODY', text: 'Hi {{1}}, your order ships {{2}}.', example: { body_text: [['Ann', 'today']] } },
        { type: 'FOOTER', text: 'Acme' },
        {
          type: 'BUTTONS',
          buttons: [
            { type: 'QUICK_REPLY', text: 'Track' },
            { type: 'URL', text: 'Web', url: 'https://acme.test/o' },
            { type: 'PHONE_NUMBER', text: 'Call', phone_number: '+4930123456' },
          ],
        },
      ],
    });
    expect(counts(f)).toEqual({ header: 1, body: 2, quickReplies: 1 });
  });

  it('builds named parameters with their names', () => {
    const t = build(form({ format: 'NAMED', body: 'Hi {{first_name}}.', examples: { 'body:first_name': 'Ann' } }));
    expect(t.parameter_format).toBe('NAMED');
    expect(t.components).toEqual([{ type: 'BODY', text: 'Hi {{first_name}}.', example: { body_text_named_params: [{ param_name: 'first_name', example: 'Ann' }] } }]);
  });

  it('leaves out an empty header, footer and buttons', () => {
    expect(build(form({ body: 'Thanks!', examples: {} })).components).toEqual([{ type: 'BODY', text: 'Thanks!' }]);
  });
});

describe("the server's errors on their fields", () => {
  it('puts what is missing on each field', () => {
    const e = new ApiError(400, 'invalid template: it needs name, category, a BODY component', null);
    const s = serverErrors(e);
    expect(Object.keys(s.fields).sort()).toEqual(['body', 'category', 'name']);
    expect(s.general).toBe('');
  });
  it("puts Meta's refusal of an existing name on the name", () => {
    const s = serverErrors(new ApiError(422, 'Meta refused the template: Invalid parameter — Content in this language already exists for template order_update (code 100)', null));
    expect(s.fields.name).toContain('already exists');
  });
  it('keeps anything else general', () => {
    expect(serverErrors(new ApiError(502, 'the Graph API failed: timeout', null))).toEqual({ fields: {}, general: 'the Graph API failed: timeout' });
    expect(serverErrors(new ApiError(503, 'no template registry is configured', null)).general).toContain('no template registry');
  });
});

describe('statuses', () => {
  it('colours them', () => {
    expect(['APPROVED', 'PENDING', 'REJECTED', 'PAUSED', 'DISABLED', 'X'].map(statusTone)).toEqual(['ok', 'pending', 'bad', 'warn', 'bad', 'none']);
  });
  it('writes a change in words', () => {
    expect(describeChange({ kind: 'status', from: 'PENDING', to: 'REJECTED', reason: 'INVALID_FORMAT' })).toBe('Status PENDING → REJECTED · INVALID_FORMAT');
    expect(describeChange({ kind: 'quality', to: 'GREEN' })).toBe('Quality GREEN');
  });
});
