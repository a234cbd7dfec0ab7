// Create a template: name, language, category, header / body / footer and
// buttons, with Meta's rules checked as you type (model.ts: check) and a
// preview of the message. Nothing that breaks a rule is sent; what the
// server still refuses shows on its field. Every text is rendered as text.
import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { createTemplate, type TemplateDetail } from './api';
import { build, categories, chars, check, counts, emptyForm, hasErrors, languages, maxBody, maxButtons, maxFooter, maxHeader, params, problemsFor, serverErrors, type ButtonForm, type Form, type Problem, type ServerErrors } from './model';

const langListId = 'template-languages';

export function TemplateForm(p: { onCreated: (t: TemplateDetail) => void; onCancel: () => void }) {
  const [f, setF] = useState<Form>(emptyForm);
  const [touched, setTouched] = useState<Set<string>>(() => new Set());
  const [all, setAll] = useState(false);
  const [server, setServer] = useState<ServerErrors | null>(null);
  const [busy, setBusy] = useState(false);
  const problems = useMemo(() => check(f), [f]);
  const n = counts(f);

  function set<K extends keyof Form>(k: K, v: Form[K], field: string = k) {
    setF((x) => ({ ...x, [k]: v }));
    setTouched((t) => (t.has(field) ? t : new Set(t).add(field)));
    if (server) setServer(null);
  }
  function setButton(i: number, b: Partial<ButtonForm>, field: string) {
    set(
      'buttons',
      f.buttons.map((x, j) => (j === i ? { ...x, ...b } : x)),
      field,
    );
  }
  function setExample(key: string, v: string) {
    set('examples', { ...f.examples, [key]: v }, `example.${key.replace(':', '.')}`);
  }

  /** shown is what to show on a field: its problems once touched (all after a submit), then the server's word. */
  function shown(field: string): Problem[] {
    const ps = problemsFor(problems, field).filter((x) => all || touched.has(x.field) || touched.has(field) || x.level === 'warning');
    const s = server?.fields[field];
    return s ? [...ps, { field, message: s, level: 'error' }] : ps;
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setAll(true);
    setServer(null);
    if (hasErrors(problems)) {
      requestAnimationFrame(() => document.querySelector('.tpl-form [role="alert"]')?.scrollIntoView({ block: 'center' }));
      return;
    }
    setBusy(true);
    try {
      p.onCreated(await createTemplate(build(f)));
    } catch (err) {
      setServer(serverErrors(err));
      requestAnimationFrame(() => document.querySelector('.tpl-form [role="alert"]')?.scrollIntoView({ block: 'center' }));
    } finally {
      setBusy(false);
    }
  }

  function addButton(type: ButtonForm['type']) {
    set('buttons', [...f.buttons, { type, text: '', url: '', phone: '' }], 'buttons');
  }

  const examples: { key: string; label: string }[] = [
    ...params(f.header).map((x) => ({ key: `header:${x}`, label: `Header {{${x}}}` })),
    ...params(f.body).map((x) => ({ key: `body:${x}`, label: `Body {{${x}}}` })),
  ];
  const errorCount = problems.filter((x) => x.level === 'error').length;

  return (
    <form className="tpl-form" onSubmit={submit} data-testid="template-form" noValidate>
      <div className="toolbar">
        <h2>New template</h2>
      </div>
      <p className="hint">Meta reviews every template before it can be sent; in the sandbox the review takes a moment. Only APPROVED templates are sent.</p>
      <div className="tpl-grid">
        <div className="tpl-fields">
          <Field label="Name" problems={shown('name')} testid="tpl-name-problems" hint="lowercase letters, digits and underscores: order_shipped">
            <input value={f.name} onChange={(e) => set('name', e.target.value)} data-testid="tpl-name" spellCheck={false} autoFocus className="mono" />
          </Field>
          <div className="tpl-two">
            <Field label="Language" problems={shown('language')} testid="tpl-language-problems">
              <input value={f.language} onChange={(e) => set('language', e.target.value)} list={langListId} data-testid="tpl-language" spellCheck={false} className="mono" />
              <datalist id={langListId}>
                {languages.map((l) => (
                  <option key={l} value={l} />
                ))}
              </datalist>
            </Field>
            <Field label="Category" problems={shown('category')} testid="tpl-category-problems">
              <select value={f.category} onChange={(e) => set('category', e.target.value as Form['category'])} data-testid="tpl-category">
                <option value="">— choose —</option>
                {categories.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          <Field label="Parameters">
            <div className="row">
              <label className="check">
                <input type="radio" name="tpl-format" checked={f.format === 'POSITIONAL'} onChange={() => set('format', 'POSITIONAL', 'body')} data-testid="tpl-format-positional" /> numbered {'{{1}}, {{2}}'}
              </label>
              <label className="check">
                <input type="radio" name="tpl-format" checked={f.format === 'NAMED'} onChange={() => set('format', 'NAMED', 'body')} data-testid="tpl-format-named" /> named {'{{first_name}}'}
              </label>
            </div>
          </Field>
          <Field label="Header (optional text)" problems={shown('header')} testid="tpl-header-problems" counter={`${chars(f.header)} / ${maxHeader}`}>
            <input value={f.header} onChange={(e) => set('header', e.target.value)} data-testid="tpl-header" placeholder="Your order {{1}}" />
          </Field>
          <Field label="Body" problems={shown('body')} testid="tpl-body-problems" counter={<span data-testid="tpl-body-count" className={chars(f.body) > maxBody ? 'error' : ''}>{`${chars(f.body)} / ${maxBody}`}</span>} hint="Parameters are filled in at send time: {{1}}, {{2}}, … in order, with text between them.">
            <textarea rows={5} value={f.body} onChange={(e) => set('body', e.target.value)} data-testid="tpl-body" placeholder="Hi {{1}}, your order {{2}} has shipped." />
          </Field>
          <Field label="Footer (optional)" problems={shown('footer')} testid="tpl-footer-problems" counter={`${chars(f.footer)} / ${maxFooter}`}>
            <input value={f.footer} onChange={(e) => set('footer', e.target.value)} data-testid="tpl-footer" placeholder="Reply STOP to opt out" />
          </Field>
          {examples.length > 0 && (
            <fieldset className="tpl-section" data-testid="tpl-examples">
              <legend>Examples for Meta's review</legend>
              {examples.map((x) => (
                <Field key={x.key} label={x.label} problems={shown(`example.${x.key.replace(':', '.')}`)} testid={`tpl-example-problems-${x.key.replace(':', '-')}`}>
                  <input value={f.examples[x.key] ?? ''} onChange={(e) => setExample(x.key, e.target.value)} data-testid={`tpl-example-${x.key.replace(':', '-')}`} />
                </Field>
              ))}
            </fieldset>
          )}
          <fieldset className="tpl-section">
            <legend>Buttons</legend>
            {shown('buttons')
              .filter((x) => x.field === 'buttons')
              .map((x, i) => (
                <div key={i} className={`hint ${x.level}`} role={x.level === 'error' ? 'alert' : undefined} data-testid="tpl-buttons-problems">
                  {x.message}
                </div>
              ))}
            {f.buttons.length === 0 && <p className="hint">No buttons. Quick replies come back as the customer's answer; URL and phone buttons open a page or a call.</p>}
            {f.buttons.map((b, i) => (
              <div key={i} className="tpl-button" data-testid="tpl-button-row">
                <span className="badge">{b.type === 'QUICK_REPLY' ? 'quick reply' : b.type === 'URL' ? 'URL' : 'phone'}</span>
                <Field label="Text" problems={shown(`buttons[${i}].text`)} testid={`tpl-button-problems-${i}`}>
                  <input value={b.text} onChange={(e) => setButton(i, { text: e.target.value }, `buttons[${i}].text`)} data-testid={`tpl-button-text-${i}`} />
                </Field>
                {b.type === 'URL' && (
                  <Field label="URL" problems={shown(`buttons[${i}].url`)}>
                    <input value={b.url} onChange={(e) => setButton(i, { url: e.target.value }, `buttons[${i}].url`)} data-testid={`tpl-button-url-${i}`} placeholder="https://" />
                  </Field>
                )}
                {b.type === 'PHONE_NUMBER' && (
                  <Field label="Phone number" problems={shown(`buttons[${i}].phone_number`)}>
                    <input value={b.phone} onChange={(e) => setButton(i, { phone: e.target.value }, `buttons[${i}].phone_number`)} data-testid={`tpl-button-phone-${i}`} placeholder="+4930123456" />
                  </Field>
                )}
                <button type="button" className="small danger" onClick={() => set('buttons', f.buttons.filter((_, j) => j !== i), 'buttons')} data-testid={`tpl-button-remove-${i}`}>
                  Remove
                </button>
              </div>
            ))}
            <div className="row">
              <button type="button" className="small" disabled={f.buttons.length >= maxButtons} onClick={() => addButton('QUICK_REPLY')} data-testid="tpl-add-quick-reply">
                + Quick reply
              </button>
              <button type="button" className="small" disabled={f.buttons.length >= maxButtons} onClick={() => addButton('URL')} data-testid="tpl-add-url">
                + URL
              </button>
              <button type="button" className="small" disabled={f.buttons.length >= maxButtons} onClick={() => addButton('PHONE_NUMBER')} data-testid="tpl-add-phone">
                + Phone number
              </button>
            </div>
          </fieldset>
        </div>
        <aside className="tpl-preview-col">
          <div className="field-label">Preview</div>
          <Preview f={f} />
          <p className="hint" data-testid="tpl-counts">
            {n.header} header parameter{n.header === 1 ? '' : 's'} · {n.body} body parameter{n.body === 1 ? '' : 's'} · {n.quickReplies} quick repl{n.quickReplies === 1 ? 'y' : 'ies'}
          </p>
        </aside>
      </div>
      {server?.general && (
        <p className="error" role="alert" data-testid="tpl-form-error">
          {server.general}
        </p>
      )}
      {all && errorCount > 0 && (
        <p className="error" role="alert" data-testid="tpl-refused">
          Not submitted: {errorCount} problem{errorCount === 1 ? '' : 's'} to fix first.
        </p>
      )}
      <div className="row">
        <button className="primary" disabled={busy} data-testid="tpl-submit">
          {busy ? 'Submitting…' : 'Submit for review'}
        </button>
        <button type="button" onClick={p.onCancel} data-testid="tpl-cancel">
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Preview is the message as a phone shows it, parameters filled with their examples. */
function Preview({ f }: { f: Form }) {
  const fill = (part: 'header' | 'body', text: string) => text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (m, x: string) => f.examples[`${part}:${x}`]?.trim() || m);
  if (!f.body && !f.header && !f.footer && !f.buttons.length) return <div className="tpl-bubble empty">The message appears here as you write it.</div>;
  return (
    <div className="tpl-phone" data-testid="tpl-preview">
      <div className="tpl-bubble">
        {f.header && <div className="tpl-bubble-header">{fill('header', f.header)}</div>}
        <div className="tpl-bubble-body">{fill('body', f.body)}</div>
        {f.footer && <div className="tpl-bubble-footer">{f.footer}</div>}
      </div>
      {f.buttons.map((b, i) => (
        <div key={i} className="tpl-bubble-button">
          {b.type === 'URL' ? '↗ ' : b.type === 'PHONE_NUMBER' ? '✆ ' : '↩ '}
          {b.text || '…'}
        </div>
      ))}
    </div>
  );
}

function Field(p: { label: string; problems?: Problem[]; hint?: ReactNode; counter?: ReactNode; testid?: string; children: ReactNode }) {
  const errs = p.problems ?? [];
  const invalid = errs.some((x) => x.level === 'error');
  return (
    <div className={`field ${invalid ? 'invalid' : ''}`}>
      <div className="field-label">
        <span>{p.label}</span>
        {p.counter && <span className="counter">{p.counter}</span>}
      </div>
      {p.children}
      {errs.length > 0 ? (
        <div data-testid={p.testid ?? 'field-problems'}>
          {errs.map((x, i) => (
            <div key={i} className={`hint ${x.level}`} role={x.level === 'error' ? 'alert' : undefined}>
              {x.message}
            </div>
          ))}
        </div>
      ) : (
        p.hint && <div className="hint">{p.hint}</div>
      )}
    </div>
  );
}
