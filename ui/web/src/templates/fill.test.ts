import { describe, expect, it } from 'vitest';
import { blank, display, incomplete, migrateButtons, preview, shapeFromCounts, shapeFromFill, variables, withKind, type TemplateShape } from './fill';

const orderUpdate: TemplateShape = {
  parameter_format: 'NAMED',
  header_format: 'TEXT',
  header_text: 'Order {{order_number}}',
  body_text: 'Hi {{first_name}}, your order of {{total}} ships on {{ship_date}}.',
  buttons: [{ type: 'URL', dynamic: true, text: 'Track it' }, { type: 'QUICK_REPLY', text: 'Talk to us' }],
};

describe('template fill', () => {
  it('finds variables in order, once each', () => {
    expect(variables('{{2}} {{1}} {{2}} {{ name }}')).toEqual(['2', '1', 'name']);
  });

  it('makes a blank fill of every part, named, buttons at their real position', () => {
    expect(blank(orderUpdate)).toEqual({
      header: [{ name: 'order_number', text: '' }],
      body: [
        { name: 'first_name', text: '' },
        { name: 'total', text: '' },
        { name: 'ship_date', text: '' },
      ],
      buttons: [
        { type: 'url', index: 0, text: '' },
        { type: 'quick_reply', index: 1, payload: '' },
      ],
    });
  });

  it('keeps what was filled: names by name, untyped quick replies moved to their position', () => {
    const f = blank(orderUpdate, { body: [{ name: 'ship_date', text: 'Friday' }, 'Ann'], buttons: [{ index: 0, payload: 'help' }] });
    expect(f.body?.[2]).toEqual({ name: 'ship_date', text: 'Friday' });
    expect(f.buttons?.[1]).toEqual({ type: 'quick_reply', index: 1, payload: 'help' });
  });

  it('reads untyped buttons as counting quick replies', () => {
    expect(migrateButtons(orderUpdate.buttons, [{ index: 0, payload: 'x' }])).toEqual([{ type: 'quick_reply', index: 1, payload: 'x' }]);
  });

  it('previews the template text filled in', () => {
    const f = blank(orderUpdate);
    f.header = [{ name: 'order_number', text: 'A-1' }];
    f.body = [{ name: 'first_name', text: '{{ contact.name }}' }, withKind({ name: 'total', text: '€42.50' }, 'currency'), { name: 'ship_date', text: '' }];
    const p = preview({ footer: 'Thanks' }, orderUpdate, f);
    expect(p.header).toBe('Order A-1');
    expect(p.body).toBe('Hi {{ contact.name }}, your order of €42.50 ships on {{ship_date}}.');
    expect(p.footer).toBe('Thanks');
    expect(p.buttons).toEqual(['[Track it]', '[Talk to us]']);
    expect(incomplete(f)).toBe(true);
  });

  it('fills media headers, carousels and offers', () => {
    const shape: TemplateShape = {
      header_format: 'IMAGE',
      body_text: '{{1}}',
      cards: [{ header_format: 'IMAGE', body_text: '{{1}}', buttons: [{ type: 'QUICK_REPLY' }] }],
      offer_expires: true,
    };
    const f = blank(shape);
    expect(f.header).toEqual([{ image: { link: '' } }]);
    expect(f.cards).toEqual([{ header: [{ image: { link: '' } }], body: [''], buttons: [{ type: 'quick_reply', index: 0, payload: '' }] }]);
    expect(f.offer_expires_at).toBe('');
    expect(display({ location: { latitude: 1, longitude: 2, name: 'Shop' } })).toBe('1,2 Shop');
  });

  it('makes shapes from counts and from a fill', () => {
    expect(blank(shapeFromCounts(1, 2, 1))).toEqual({ header: [''], body: ['', ''], buttons: [{ type: 'quick_reply', index: 0, payload: '' }] });
    const s = shapeFromFill({ body: [{ name: 'a', text: 'x' }], buttons: [{ type: 'url', index: 1, text: 'y' }] });
    expect(s.parameter_format).toBe('NAMED');
    expect(s.buttons?.[1]).toEqual({ type: 'URL', dynamic: true });
  });
});
