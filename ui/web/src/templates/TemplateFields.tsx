// The fields of a template send, one per part the template takes (its
// shape): a text header's or body's variables (text, currency or date),
// a media header's link, a location, each button that takes a value at its
// position, each card of a carousel, a limited-time offer's end — and the
// template's text as the customer will read it. The editor, the inbox and
// scheduled sends give their own text input (field).
import type { ReactNode } from 'react';
import {
  display,
  kind,
  preview,
  textOf,
  variables,
  withKind,
  withText,
  type TemplateButton,
  type TemplateFill,
  type TemplateParam,
  type TemplateShape,
  type TemplateTexts,
} from './fill';

/** FieldRenderer draws one text input; path is its place in the template ("body/1/text"). */
export type FieldRenderer = (label: string, path: string, value: string, onChange: (v: string) => void, hint?: string) => ReactNode;

function paramPath(prefix: string, i: number, p: TemplateParam | undefined): string {
  const at = `${prefix}/${i}`;
  if (p === undefined || typeof p === 'string') return at;
  if (p.currency) return `${at}/currency/fallback_value`;
  if (p.date_time) return `${at}/date_time/fallback_value`;
  return `${at}/text`;
}

function VarParams(p: { prefix: string; text?: string; params?: TemplateParam[]; field: FieldRenderer; onChange: (ps: TemplateParam[]) => void; kinds?: boolean; testid: string }) {
  const vars = variables(p.text);
  const ps = vars.map((_, i) => p.params?.[i] ?? '');
  const set = (i: number, v: TemplateParam) => p.onChange(ps.map((x, j) => (j === i ? v : x)));
  return (
    <>
      {vars.map((v, i) => {
        const prm = ps[i];
        const k = kind(prm);
        return (
          <div key={`${p.prefix}${i}`} className="template-param" data-testid={`${p.testid}-${i}-param`}>
            {p.field(`{{${v}}}${k !== 'text' ? ` (${k === 'currency' ? 'amount shown as' : 'date shown as'})` : ''}`, paramPath(p.prefix, i, prm), textOf(prm), (x) => set(i, withText(prm, x)))}
            {p.kinds && (
              <div className="template-param-kind">
                <select value={k} onChange={(e) => set(i, withKind(prm, e.target.value))} data-testid={`${p.testid}-${i}-kind`} aria-label={`{{${v}}} kind`}>
                  <option value="text">text</option>
                  <option value="currency">currency</option>
                  <option value="date_time">date</option>
                </select>
                {k === 'currency' && typeof prm === 'object' && prm.currency && (
                  <>
                    {p.field('Currency code', `${p.prefix}/${i}/currency/code`, prm.currency.code, (x) => set(i, { ...prm, currency: { ...prm.currency!, code: x } }))}
                    {p.field('Amount × 1000', `${p.prefix}/${i}/currency/amount_1000`, String(prm.currency.amount_1000 ?? ''), (x) => set(i, { ...prm, currency: { ...prm.currency!, amount_1000: /^\d+$/.test(x) ? Number(x) : x } }), '12.99 → 12990')}
                  </>
                )}
              </div>
            )}
          </div>
        );
      })}
    </>
  );
}

function MediaHeader(p: { prefix: string; format?: string; params?: TemplateParam[]; field: FieldRenderer; onChange: (ps: TemplateParam[]) => void }) {
  const f = (p.format ?? '').toLowerCase();
  if (!f || f === 'text') return null;
  const cur = p.params?.[0];
  if (f === 'location') {
    const loc = (typeof cur === 'object' && cur.location) || { latitude: 0, longitude: 0, name: '', address: '' };
    const set = (x: Partial<typeof loc>) => p.onChange([{ location: { ...loc, ...x } }]);
    return (
      <>
        {p.field('Header location: latitude', `${p.prefix}/0/location/latitude`, String(loc.latitude), (v) => set({ latitude: Number(v) || 0 }))}
        {p.field('Longitude', `${p.prefix}/0/location/longitude`, String(loc.longitude), (v) => set({ longitude: Number(v) || 0 }))}
        {p.field('Place name', `${p.prefix}/0/location/name`, loc.name ?? '', (v) => set({ name: v }))}
        {p.field('Address', `${p.prefix}/0/location/address`, loc.address ?? '', (v) => set({ address: v }))}
      </>
    );
  }
  const m = typeof cur === 'object' ? cur.image ?? cur.video ?? cur.document : undefined;
  return (
    <>
      {p.field(`Header ${f}: link`, `${p.prefix}/0/${f}/link`, m?.link ?? '', (v) => p.onChange([{ [f]: { ...m, link: v, id: undefined } }]), 'a public https link (or {{ expression }})')}
      {f === 'document' && p.field('File name', `${p.prefix}/0/document/filename`, m?.filename ?? '', (v) => p.onChange([{ document: { ...m, filename: v } }]))}
    </>
  );
}

function Buttons(p: { prefix: string; shape?: TemplateShape['buttons']; buttons?: TemplateButton[]; field: FieldRenderer; onChange: (bs: TemplateButton[]) => void }) {
  const bs = p.buttons ?? [];
  return (
    <>
      {bs.map((b, k) => {
        const label = p.shape?.[b.index]?.text || b.type || 'quick_reply';
        const set = (x: Partial<TemplateButton>) => p.onChange(bs.map((y, j) => (j === k ? { ...y, ...x } : y)));
        const at = `${p.prefix}/${k}`;
        switch (b.type) {
          case 'url':
            return <div key={k}>{p.field(`Button ${b.index + 1} “${label}”: end of its URL`, `${at}/text`, b.text ?? '', (v) => set({ text: v }))}</div>;
          case 'copy_code':
            return <div key={k}>{p.field(`Button ${b.index + 1} “${label}”: code to copy`, `${at}/code`, b.code ?? '', (v) => set({ code: v }), 'at most 15 characters')}</div>;
          case 'otp':
            return <div key={k}>{p.field(`Button ${b.index + 1}: one-time password`, `${at}/code`, b.code ?? '', (v) => set({ code: v }), 'the same code as the body')}</div>;
        }
        return <div key={k}>{p.field(`Button ${b.index + 1} “${label}”: payload`, `${at}/payload`, b.payload ?? '', (v) => set({ payload: v }), 'arrives as reply.button_id when tapped')}</div>;
      })}
    </>
  );
}

export function TemplateFields(p: { shape: TemplateShape; value: TemplateFill; field: FieldRenderer; onChange: (f: TemplateFill) => void }) {
  const { shape, value: f } = p;
  const set = (x: Partial<TemplateFill>) => p.onChange({ ...f, ...x });
  return (
    <div className="template-fields" data-testid="template-fields">
      <MediaHeader prefix="header" format={shape.header_format} params={f.header} field={p.field} onChange={(header) => set({ header })} />
      {shape.header_format === 'TEXT' && <VarParams prefix="header" text={shape.header_text} params={f.header} field={p.field} onChange={(header) => set({ header })} testid="template-header" />}
      <VarParams prefix="body" text={shape.body_text} params={f.body} field={p.field} onChange={(body) => set({ body })} kinds testid="template-body" />
      <Buttons prefix="buttons" shape={shape.buttons} buttons={f.buttons} field={p.field} onChange={(buttons) => set({ buttons })} />
      {(shape.cards ?? []).map((c, i) => {
        const card = f.cards?.[i] ?? {};
        const setCard = (x: Partial<typeof card>) => set({ cards: (f.cards ?? []).map((y, j) => (j === i ? { ...y, ...x } : y)) });
        return (
          <fieldset key={i} className="template-card" data-testid={`template-card-${i}`}>
            <legend>Card {i + 1}</legend>
            <MediaHeader prefix={`cards/${i}/header`} format={c.header_format} params={card.header} field={p.field} onChange={(header) => setCard({ header })} />
            <VarParams prefix={`cards/${i}/body`} text={c.body_text} params={card.body} field={p.field} onChange={(body) => setCard({ body })} testid={`template-card-${i}-body`} />
            <Buttons prefix={`cards/${i}/buttons`} shape={c.buttons} buttons={card.buttons} field={p.field} onChange={(buttons) => setCard({ buttons })} />
          </fieldset>
        );
      })}
      {f.offer_expires_at !== undefined &&
        p.field('Offer ends at', 'offer_expires_at', f.offer_expires_at, (v) => set({ offer_expires_at: v }), 'RFC 3339 (2026-12-31T23:59:00Z), Unix milliseconds, or {{ expression }}')}
    </div>
  );
}

/** TemplatePreview shows the template as the customer will read it, its parameters filled in. */
export function TemplatePreview(p: { texts?: TemplateTexts; shape?: TemplateShape; value: TemplateFill }) {
  const v = preview(p.texts, p.shape, p.value);
  return (
    <div className="template-preview" data-testid="template-preview">
      {v.media && <div className="tp-media">{v.media}</div>}
      {v.header && <div className="tp-header">{v.header}</div>}
      <div className="tp-body">{v.body}</div>
      {v.footer && <div className="tp-footer">{v.footer}</div>}
      {v.buttons.length > 0 && <div className="tp-buttons">{v.buttons.join(' ')}</div>}
      {v.cards.map((c, i) => (
        <div key={i} className="tp-card">
          {c.media && <div className="tp-media">{c.media}</div>}
          <div className="tp-body">{c.body}</div>
          {c.buttons.length > 0 && <div className="tp-buttons">{c.buttons.join(' ')}</div>}
        </div>
      ))}
    </div>
  );
}

export { display };
