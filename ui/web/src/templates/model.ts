// The Templates page's logic, apart from React: the create form ↔ Meta's
// creation body, Meta's rules checked as you type (docs/whatsapp.md §4.5;
// the sandbox's review applies the same ones), the server's errors put on
// their fields, and how statuses and qualities are coloured.
import { ApiError } from '../api';
import type { Button, Category, Component, NewTemplate } from './api';

export const categories: Category[] = ['UTILITY', 'MARKETING', 'AUTHENTICATION'];
export const languages = ['en_US', 'en_GB', 'en', 'de', 'fr', 'es', 'es_MX', 'it', 'nl', 'pt_BR', 'pt_PT', 'tr', 'pl', 'id', 'hi', 'ar', 'ru', 'zh_CN', 'ja', 'ko'];

// Meta's limits.
export const maxName = 512;
export const maxBody = 1024;
export const maxHeader = 60;
export const maxFooter = 60;
export const maxButtons = 10;
export const maxButtonText = 25;
export const maxURLButtons = 2;
export const maxPhoneButtons = 1;

export interface ButtonForm {
  type: Button['type'];
  text: string;
  url: string;
  phone: string;
}

export interface Form {
  name: string;
  language: string;
  category: Category | '';
  format: 'POSITIONAL' | 'NAMED';
  header: string;
  body: string;
  footer: string;
  buttons: ButtonForm[];
  /** example values, by "header:<param>" and "body:<param>". */
  examples: Record<string, string>;
}

export const emptyForm = (): Form => ({ name: '', language: 'en_US', category: '', format: 'POSITIONAL', header: '', body: '', footer: '', buttons: [], examples: {} });

export interface Problem {
  /** name, language, category, header, body, footer, buttons, buttons[0].text, example.body.1 … */
  field: string;
  message: string;
  level: 'error' | 'warning';
}

/** chars counts characters as Meta does (code points, as Go's RuneCount). */
export const chars = (s: string) => [...s].length;

const varRE = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;
const braceRE = /\{\{([^{}]*)\}\}/g;
const adjacentRE = /\}\}\s*\{\{/;

/** params is the distinct parameter names of a text ("1", "name"), in order of first use. */
export function params(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(varRE)) if (!out.includes(m[1])) out.push(m[1]);
  return out;
}

/** suggestName turns a name into one Meta accepts ("Order Shipped!" → "order_shipped"). */
export function suggestName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, maxName);
}

/** checkText checks a header's or body's text: parameter syntax, order and adjacency. */
function checkText(field: 'header' | 'body', text: string, format: Form['format'], out: Problem[]) {
  const err = (message: string) => out.push({ field, message, level: 'error' });
  for (const m of text.matchAll(braceRE)) {
    if (!/^\s*[A-Za-z0-9_]+\s*$/.test(m[1])) {
      err(`${m[0]} is not a parameter: write {{1}}, {{2}}, … or {{name}}.`);
      return;
    }
  }
  const opens = (text.match(/\{\{/g) ?? []).length;
  const closes = (text.match(/\}\}/g) ?? []).length;
  if (opens !== closes) err('A parameter is not closed: every {{ needs its }}.');
  if (adjacentRE.test(text)) err('Two parameters are next to each other (like {{1}}{{2}}): Meta refuses that; put text or punctuation between them.');
  const ps = params(text);
  if (format === 'POSITIONAL') {
    const named = ps.find((p) => !/^\d+$/.test(p));
    if (named) err(`{{${named}}} is a named parameter: positional parameters are {{1}}, {{2}}, … (or choose named parameters).`);
    else {
      const bad = ps.findIndex((p, i) => p !== String(i + 1));
      if (bad >= 0) err(`Positional parameters must be numbered {{1}}, {{2}}, … in order: {{${ps[bad]}}} should be {{${bad + 1}}}.`);
    }
  } else {
    const bad = ps.find((p) => !/^[a-z][a-z0-9_]*$/.test(p));
    if (bad) err(`{{${bad}}}: named parameters are lowercase letters, digits and underscores, starting with a letter.`);
  }
}

/** check is every rule the form breaks now; errors stop the submit, warnings do not. */
export function check(f: Form): Problem[] {
  const out: Problem[] = [];
  const err = (field: string, message: string) => out.push({ field, message, level: 'error' });
  const warn = (field: string, message: string) => out.push({ field, message, level: 'warning' });

  if (!f.name) err('name', 'A name is required.');
  else if (!/^[a-z0-9_]+$/.test(f.name)) {
    const s = suggestName(f.name);
    err('name', `Only lowercase letters, digits and underscores${s && s !== f.name ? `: try ${s}` : ''}.`);
  } else if (chars(f.name) > maxName) err('name', `At most ${maxName} characters.`);

  if (!f.language.trim()) err('language', 'A language is required (en_US, de, pt_BR …).');
  else if (!/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/.test(f.language)) err('language', 'A language code as Meta writes it: en_US, de, pt_BR …');

  if (!f.category) err('category', 'Choose a category: Meta prices and reviews templates by it.');

  if (f.header) {
    checkText('header', f.header, f.format, out);
    if (chars(f.header) > maxHeader) err('header', `The header is ${chars(f.header)} characters; at most ${maxHeader}.`);
    if (params(f.header).length > 1) err('header', 'A header takes at most one parameter.');
  }

  if (!f.body.trim()) err('body', 'The body is required.');
  else {
    checkText('body', f.body, f.format, out);
    const n = chars(f.body);
    if (n > maxBody) err('body', `The body is ${n} characters; Meta allows at most ${maxBody}.`);
    const t = f.body.trim();
    if (/^\{\{[^{}]*\}\}/.test(t) || /\{\{[^{}]*\}\}[.!?]?$/.test(t)) warn('body', 'Meta may refuse a body that starts or ends with a parameter: put some text around it.');
  }

  if (f.footer) {
    if (chars(f.footer) > maxFooter) err('footer', `The footer is ${chars(f.footer)} characters; at most ${maxFooter}.`);
    if (/\{\{/.test(f.footer)) err('footer', 'A footer takes no parameters.');
  }

  if (f.buttons.length > maxButtons) err('buttons', `At most ${maxButtons} buttons.`);
  if (f.buttons.filter((b) => b.type === 'URL').length > maxURLButtons) err('buttons', `At most ${maxURLButtons} URL buttons.`);
  if (f.buttons.filter((b) => b.type === 'PHONE_NUMBER').length > maxPhoneButtons) err('buttons', `At most ${maxPhoneButtons} phone number button.`);
  const seen = new Set<string>();
  f.buttons.forEach((b, i) => {
    const at = `buttons[${i}]`;
    if (!b.text.trim()) err(`${at}.text`, 'A button needs its text.');
    else if (chars(b.text) > maxButtonText) err(`${at}.text`, `At most ${maxButtonText} characters.`);
    else if (seen.has(b.text.trim().toLowerCase())) err(`${at}.text`, 'Two buttons have this text: Meta wants them different.');
    seen.add(b.text.trim().toLowerCase());
    if (b.type === 'URL') {
      if (/\{\{/.test(b.url)) err(`${at}.url`, 'This form takes a fixed URL (no parameter).');
      else if (!/^https?:\/\/[^\s/$.?#][^\s]*$/i.test(b.url.trim())) err(`${at}.url`, 'A web address starting with https://');
      else if (b.url.length > 2000) err(`${at}.url`, 'At most 2000 characters.');
    }
    if (b.type === 'PHONE_NUMBER' && !/^\+?[0-9]{6,20}$/.test(b.phone.replace(/[\s-]/g, ''))) err(`${at}.phone_number`, 'A phone number with its country code: +4930123456.');
  });
  // Quick replies and the other buttons may not be interleaved (Meta groups them).
  const kinds = f.buttons.map((b) => (b.type === 'QUICK_REPLY' ? 'q' : 'c')).join('');
  if (/q+c+q|c+q+c/.test(kinds)) err('buttons', 'Meta wants quick replies together: put them all before (or after) the other buttons.');

  for (const part of ['header', 'body'] as const) {
    for (const p of params(f[part])) {
      if (!(f.examples[`${part}:${p}`] ?? '').trim()) err(`example.${part}.${p}`, `Meta reviews templates with an example for every parameter: give one for {{${p}}}.`);
    }
  }
  return out;
}

/** problemsFor is the problems of one field (or of its parts: "buttons" has "buttons[0].text"). */
export function problemsFor(ps: Problem[], field: string): Problem[] {
  return ps.filter((p) => p.field === field || p.field.startsWith(field + '.') || p.field.startsWith(field + '['));
}

export const hasErrors = (ps: Problem[]) => ps.some((p) => p.level === 'error');

/** build is Meta's creation body for the form (POST /templates). */
export function build(f: Form): NewTemplate {
  const components: Component[] = [];
  const ex = (part: string, p: string) => (f.examples[`${part}:${p}`] ?? '').trim();
  const named = f.format === 'NAMED';
  if (f.header) {
    const ps = params(f.header);
    const c: Component = { type: 'HEADER', format: 'TEXT', text: f.header };
    if (ps.length) c.example = named ? { header_text_named_params: ps.map((p) => ({ param_name: p, example: ex('header', p) })) } : { header_text: ps.map((p) => ex('header', p)) };
    components.push(c);
  }
  const body: Component = { type: 'BODY', text: f.body };
  const bps = params(f.body);
  if (bps.length) body.example = named ? { body_text_named_params: bps.map((p) => ({ param_name: p, example: ex('body', p) })) } : { body_text: [bps.map((p) => ex('body', p))] };
  components.push(body);
  if (f.footer) components.push({ type: 'FOOTER', text: f.footer });
  if (f.buttons.length) {
    components.push({
      type: 'BUTTONS',
      buttons: f.buttons.map((b): Button => {
        if (b.type === 'URL') return { type: 'URL', text: b.text.trim(), url: b.url.trim() };
        if (b.type === 'PHONE_NUMBER') return { type: 'PHONE_NUMBER', text: b.text.trim(), phone_number: b.phone.replace(/[\s-]/g, '') };
        return { type: 'QUICK_REPLY', text: b.text.trim() };
      }),
    });
  }
  const t: NewTemplate = { name: f.name, language: f.language.trim(), category: f.category, components };
  if (named) t.parameter_format = 'NAMED';
  return t;
}

/** counts is how many parameters and quick replies the template will have. */
export function counts(f: Form) {
  return { header: params(f.header).length, body: params(f.body).length, quickReplies: f.buttons.filter((b) => b.type === 'QUICK_REPLY').length };
}

export interface ServerErrors {
  /** messages by field (name, language, category, body). */
  fields: Record<string, string>;
  /** the message when it names no field. */
  general: string;
}

/**
 * serverErrors puts a refused create on its fields. The API answers 400
 * "invalid template: it needs name, category, a BODY component" for what is
 * missing, and 422 "Meta refused the template: …" with Meta's words (a name
 * and language that already exist, a category Meta does not know …).
 */
export function serverErrors(e: unknown): ServerErrors {
  const msg = e instanceof Error ? e.message : String(e);
  const fields: Record<string, string> = {};
  const needs = /it needs (.+)$/.exec(msg);
  if (needs) {
    for (const part of needs[1].split(/,\s*/)) {
      const f = /body/i.test(part) ? 'body' : /^(name|language|category)$/.test(part.trim()) ? part.trim() : '';
      if (f) fields[f] = `Required (the server: ${msg}).`;
    }
  } else if (e instanceof ApiError && (e.status === 422 || e.status === 400)) {
    if (/already exists/i.test(msg)) fields.name = msg;
    else if (/\bcategory\b/i.test(msg)) fields.category = msg;
    else if (/\blanguage\b/i.test(msg)) fields.language = msg;
    else if (/\bname\b/i.test(msg)) fields.name = msg;
    else if (/\bbody\b/i.test(msg)) fields.body = msg;
  }
  return { fields, general: Object.keys(fields).length ? '' : msg };
}

/** statusTone is the badge colour of a template status. */
export function statusTone(status: string): 'ok' | 'pending' | 'bad' | 'warn' | 'none' {
  switch (status) {
    case 'APPROVED':
      return 'ok';
    case 'PENDING':
    case 'IN_APPEAL':
    case 'PENDING_DELETION':
      return 'pending';
    case 'REJECTED':
    case 'DISABLED':
    case 'DELETED':
      return 'bad';
    case 'PAUSED':
    case 'FLAGGED':
    case 'LIMIT_EXCEEDED':
      return 'warn';
  }
  return 'none';
}

/** qualityTone is the colour of a quality rating (GREEN, YELLOW, RED, UNKNOWN). */
export function qualityTone(q: string | undefined): 'ok' | 'warn' | 'bad' | 'none' {
  return q === 'GREEN' || q === 'HIGH' ? 'ok' : q === 'YELLOW' || q === 'MEDIUM' ? 'warn' : q === 'RED' || q === 'LOW' ? 'bad' : 'none';
}

/** describeChange writes one history entry in words. */
export function describeChange(c: { kind: string; from?: string; to: string; event?: string; reason?: string }): string {
  const what = c.kind === 'status' ? 'Status' : c.kind === 'quality' ? 'Quality' : c.kind === 'category' ? 'Category' : c.kind;
  let s = c.from ? `${what} ${c.from} → ${c.to}` : `${what} ${c.to}`;
  if (c.event && c.event !== c.to) s += ` (${c.event})`;
  if (c.reason && c.reason !== 'NONE') s += ` · ${c.reason}`;
  return s;
}
