// What a template send fills, part by part, and how it reads filled in:
// shared by the editor's template node, the inbox's template picker and
// scheduled sends. The shapes mirror the flow format's template parameters
// (docs/flow-format.md, "Template parameters") and the registry's
// TemplateShape (engine/model/template_model.go).

/** A text parameter is a string; any other an object with one value. */
export type TemplateParam =
  | string
  | {
      name?: string;
      text?: string;
      currency?: { code: string; amount_1000: number | string; fallback_value: string };
      date_time?: { fallback_value: string };
      image?: TemplateMedia;
      video?: TemplateMedia;
      document?: TemplateMedia;
      location?: { latitude: number; longitude: number; name?: string; address?: string };
    };

export interface TemplateMedia {
  link?: string;
  id?: string;
  filename?: string;
}

/** A button: with a type, index is its position among all the template's buttons. */
export interface TemplateButton {
  type?: 'quick_reply' | 'url' | 'copy_code' | 'otp';
  index: number;
  payload?: string;
  text?: string;
  code?: string;
}

export interface TemplateCard {
  header?: TemplateParam[];
  body?: TemplateParam[];
  buttons?: TemplateButton[];
}

/** The parts of a template send: a flow's TemplateRef without name and language. */
export interface TemplateFill {
  header?: TemplateParam[];
  body?: TemplateParam[];
  buttons?: TemplateButton[];
  cards?: TemplateCard[];
  offer_expires_at?: string;
}

export interface ShapeButton {
  type: string;
  dynamic?: boolean;
  text?: string;
}

export interface CardShape {
  header_format?: string;
  body_text?: string;
  buttons?: ShapeButton[];
}

/** What the registry knows a template takes (GET /templates → shape). */
export interface TemplateShape {
  parameter_format?: string;
  header_format?: string;
  header_text?: string;
  body_text?: string;
  buttons?: ShapeButton[];
  cards?: CardShape[];
  offer_expires?: boolean;
  limited_time_offer?: boolean;
}

export interface TemplateTexts {
  header?: string;
  body?: string;
  footer?: string;
}

const variable = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** variables are a text's distinct variables in order of appearance ("1", "first_name"). */
export function variables(text: string | undefined): string[] {
  const out: string[] = [];
  for (const m of (text ?? '').matchAll(variable)) if (!out.includes(m[1])) out.push(m[1]);
  return out;
}

/** kind is a parameter's kind: text, currency, date_time, image, video, document or location. */
export function kind(p: TemplateParam | undefined): string {
  if (p === undefined || typeof p === 'string') return 'text';
  for (const k of ['currency', 'date_time', 'image', 'video', 'document', 'location'] as const) if (p[k]) return k;
  return 'text';
}

/** display is a parameter as the customer reads it: text, fallback value, link or place. */
export function display(p: TemplateParam | undefined): string {
  if (p === undefined) return '';
  if (typeof p === 'string') return p;
  if (p.currency) return p.currency.fallback_value;
  if (p.date_time) return p.date_time.fallback_value;
  if (p.location) return `${p.location.latitude},${p.location.longitude}${p.location.name ? ' ' + p.location.name : ''}`;
  const m = p.image ?? p.video ?? p.document;
  if (m) return m.link || m.id || '';
  return p.text ?? '';
}

/** textOf is a text-like parameter's editable text (text, or a currency's or date's fallback). */
export function textOf(p: TemplateParam | undefined): string {
  if (p === undefined) return '';
  if (typeof p === 'string') return p;
  return p.currency?.fallback_value ?? p.date_time?.fallback_value ?? p.text ?? '';
}

/** withText sets a text-like parameter's text, keeping its name and kind. */
export function withText(p: TemplateParam | undefined, v: string): TemplateParam {
  if (p === undefined || typeof p === 'string') return v;
  if (p.currency) return { ...p, currency: { ...p.currency, fallback_value: v } };
  if (p.date_time) return { ...p, date_time: { fallback_value: v } };
  return p.name ? { name: p.name, text: v } : v;
}

/** withKind turns a body parameter into text, currency or date_time, keeping its name and text. */
export function withKind(p: TemplateParam | undefined, k: string): TemplateParam {
  const name = typeof p === 'object' ? p.name : undefined;
  const t = textOf(p);
  const named = (x: Exclude<TemplateParam, string>) => (name ? { name, ...x } : x);
  if (k === 'currency') {
    const amount = typeof p === 'object' && p.currency ? p.currency.amount_1000 : '';
    const code = typeof p === 'object' && p.currency ? p.currency.code : 'EUR';
    return named({ currency: { code, amount_1000: amount, fallback_value: t } });
  }
  if (k === 'date_time') return named({ date_time: { fallback_value: t } });
  return name ? { name, text: t } : t;
}

function blankHeader(format: string | undefined, text: string | undefined, named: boolean, prev: TemplateParam[] | undefined): TemplateParam[] | undefined {
  switch (format) {
    case undefined:
    case '':
      return undefined;
    case 'TEXT': {
      const ps = blankVars(text, named, prev);
      return ps.length ? ps : undefined;
    }
    case 'LOCATION': {
      const old = prev?.[0];
      if (typeof old === 'object' && old.location) return [old];
      return [{ location: { latitude: 0, longitude: 0, name: '', address: '' } }];
    }
  }
  const k = format.toLowerCase() as 'image' | 'video' | 'document';
  const old = prev?.[0];
  const m = typeof old === 'object' ? old.image ?? old.video ?? old.document : undefined;
  return [{ [k]: { link: m?.link ?? '', ...(k === 'document' && m?.filename ? { filename: m.filename } : {}) } }];
}

function blankVars(text: string | undefined, named: boolean, prev: TemplateParam[] | undefined): TemplateParam[] {
  return variables(text).map((v, i) => {
    const byName = prev?.find((p) => typeof p === 'object' && p.name === v);
    const old = byName ?? prev?.[i];
    if (!named) return old !== undefined && typeof old === 'object' && old.name ? withText(undefined, textOf(old)) : old ?? '';
    if (old !== undefined && typeof old === 'object' && (old.currency || old.date_time)) return { ...old, name: v };
    return { name: v, text: textOf(old) };
  });
}

function blankButtons(shape: ShapeButton[] | undefined, prev: TemplateButton[] | undefined): TemplateButton[] | undefined {
  const out: TemplateButton[] = [];
  (shape ?? []).forEach((b, i) => {
    const old = prev?.find((x) => x.type && x.index === i);
    switch (b.type) {
      case 'QUICK_REPLY':
        out.push({ type: 'quick_reply', index: i, payload: old?.payload ?? '' });
        break;
      case 'URL':
        if (b.dynamic) out.push({ type: 'url', index: i, text: old?.text ?? '' });
        break;
      case 'COPY_CODE':
        out.push({ type: 'copy_code', index: i, code: old?.code ?? '' });
        break;
      case 'OTP':
        out.push({ type: 'otp', index: i, code: old?.code ?? '' });
        break;
    }
  });
  return out.length ? out : undefined;
}

/**
 * blank is what a send of a template with this shape fills, every part
 * empty, keeping what prev already filled where it still fits: a named
 * variable by its name, a positional one by its place, a button by its
 * position. Buttons come out typed, at their real positions.
 */
export function blank(shape: TemplateShape, prev: TemplateFill = {}): TemplateFill {
  const named = shape.parameter_format === 'NAMED';
  const out: TemplateFill = {};
  const header = blankHeader(shape.header_format, shape.header_text, named, prev.header);
  if (header) out.header = header;
  const body = blankVars(shape.body_text, named, prev.body);
  if (body.length) out.body = body;
  const buttons = blankButtons(shape.buttons, migrateButtons(shape.buttons, prev.buttons));
  if (buttons) out.buttons = buttons;
  if (shape.cards?.length) {
    out.cards = shape.cards.map((c, i) => {
      const old = prev.cards?.[i];
      const card: TemplateCard = {};
      const h = blankHeader(c.header_format, '', named, old?.header);
      if (h) card.header = h;
      const b = blankVars(c.body_text, named, old?.body);
      if (b.length) card.body = b;
      const bs = blankButtons(c.buttons, old?.buttons);
      if (bs) card.buttons = bs;
      return card;
    });
  }
  if (shape.offer_expires || shape.limited_time_offer) out.offer_expires_at = prev.offer_expires_at ?? '';
  return out;
}

/**
 * migrateButtons rewrites buttons without a type (whose index counted
 * quick replies only) as typed quick replies at their real position.
 */
export function migrateButtons(shape: ShapeButton[] | undefined, bs: TemplateButton[] | undefined): TemplateButton[] | undefined {
  if (!bs) return bs;
  const qr = (shape ?? []).map((b, i) => (b.type === 'QUICK_REPLY' ? i : -1)).filter((i) => i >= 0);
  return bs.map((b) => (b.type ? b : { type: 'quick_reply', index: qr[b.index] ?? b.index, payload: b.payload ?? '' }));
}

function fill(text: string | undefined, vars: string[], ps: TemplateParam[] | undefined, named: boolean): string {
  if (!text) return '';
  const values = new Map<string, string>();
  vars.forEach((v, i) => {
    const p = named ? ps?.find((x) => typeof x === 'object' && x.name === v) ?? ps?.[i] : ps?.[i];
    const d = display(p);
    if (d) values.set(v, d);
  });
  return text.replace(variable, (m, v: string) => values.get(v) ?? m);
}

export interface Preview {
  header: string;
  media: string; // a media or location header, as "image: link"
  body: string;
  footer: string;
  buttons: string[];
  cards: { media: string; body: string; buttons: string[] }[];
}

/**
 * preview is the template's real text with the send's parameters filled
 * in (a variable left empty stays {{…}}; a flow's own {{ expression }}
 * shows as written).
 */
export function preview(texts: TemplateTexts | undefined, shape: TemplateShape | undefined, f: TemplateFill): Preview {
  const named = shape?.parameter_format === 'NAMED';
  const headerText = shape?.header_text ?? texts?.header ?? '';
  const bodyText = shape?.body_text ?? texts?.body ?? '';
  const hf = shape?.header_format ?? '';
  const media = hf && hf !== 'TEXT' ? `${hf.toLowerCase()}: ${display(f.header?.[0]) || '(not given)'}` : '';
  const buttonLabel = (b: ShapeButton, i: number, given: TemplateButton[] | undefined) => {
    const g = given?.find((x) => x.type && x.index === i);
    const v = g ? g.payload || g.text || g.code : '';
    return `[${b.text || b.type.toLowerCase()}${v ? ' → ' + v : ''}]`;
  };
  return {
    header: hf === 'TEXT' || (!hf && headerText) ? fill(headerText, variables(headerText), f.header, named) : '',
    media,
    body: fill(bodyText, variables(bodyText), f.body, named),
    footer: texts?.footer ?? '',
    buttons: (shape?.buttons ?? []).map((b, i) => buttonLabel(b, i, migrateButtons(shape?.buttons, f.buttons))),
    cards: (shape?.cards ?? []).map((c, i) => {
      const card = f.cards?.[i];
      return {
        media: c.header_format ? `${c.header_format.toLowerCase()}: ${display(card?.header?.[0]) || '(not given)'}` : '',
        body: fill(c.body_text, variables(c.body_text), card?.body, named),
        buttons: (c.buttons ?? []).map((b, j) => buttonLabel(b, j, card?.buttons)),
      };
    }),
  };
}

function numbered(n: number): string {
  return Array.from({ length: n }, (_, i) => `{{${i + 1}}}`).join(' ');
}

/**
 * shapeFromCounts is the shape of a template the registry knows by its
 * counts only (recorded before shapes were): a text header and a body with
 * that many variables, that many quick replies.
 */
export function shapeFromCounts(header: number, body: number, quickReplies: number): TemplateShape {
  return {
    parameter_format: 'POSITIONAL',
    header_format: header > 0 ? 'TEXT' : '',
    header_text: numbered(header),
    body_text: numbered(body),
    buttons: Array.from({ length: quickReplies }, () => ({ type: 'QUICK_REPLY' })),
  };
}

/** shapeFromFill is the shape a send fits exactly: for a template the registry does not know. */
export function shapeFromFill(f: TemplateFill): TemplateShape {
  const named = [...(f.header ?? []), ...(f.body ?? [])].some((p) => typeof p === 'object' && !!p.name);
  const vars = (ps: TemplateParam[] | undefined) =>
    (ps ?? []).map((p, i) => `{{${typeof p === 'object' && p.name ? p.name : i + 1}}}`).join(' ');
  const hk = f.header?.length ? kind(f.header[0]) : '';
  const buttons: ShapeButton[] = [];
  for (const b of migrateButtons(undefined, f.buttons) ?? []) {
    while (buttons.length <= b.index) buttons.push({ type: 'QUICK_REPLY' });
    buttons[b.index] = { type: b.type === 'url' ? 'URL' : (b.type ?? 'quick_reply').toUpperCase(), dynamic: b.type === 'url' };
  }
  return {
    parameter_format: named ? 'NAMED' : 'POSITIONAL',
    header_format: !hk ? '' : ['text', 'currency', 'date_time'].includes(hk) ? 'TEXT' : hk.toUpperCase(),
    header_text: vars(f.header),
    body_text: vars(f.body),
    buttons,
    offer_expires: f.offer_expires_at !== undefined,
  };
}

/** incomplete reports whether some part of a send is still empty (WhatsApp refuses empty parameters). */
export function incomplete(f: TemplateFill): boolean {
  const params = (ps: TemplateParam[] | undefined) => (ps ?? []).some((p) => !display(p).trim());
  const buttons = (bs: TemplateButton[] | undefined) => (bs ?? []).some((b) => b.type && b.type !== 'quick_reply' && !(b.text || b.code || '').trim());
  return (
    params(f.header) ||
    params(f.body) ||
    buttons(f.buttons) ||
    (f.cards ?? []).some((c) => params(c.header) || params(c.body) || buttons(c.buttons)) ||
    (f.offer_expires_at !== undefined && !f.offer_expires_at.trim())
  );
}
