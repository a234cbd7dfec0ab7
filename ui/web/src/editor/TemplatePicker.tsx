// Picks a template from the registry (GET /templates) and gives a field
// per parameter: header, body, and each quick-reply button's payload.
import { useEffect, useState } from 'react';
import { get } from '../api';
import type { TemplateRef, TemplateSummary } from '../types';
import { TextArea, TextField, type FieldProblem, Problems } from './fields';

let cache: Promise<TemplateSummary[]> | null = null;
/** templates loads the registry once per page (reload() forgets it). */
export function templates(reload = false): Promise<TemplateSummary[]> {
  if (!cache || reload) cache = get<{ templates: TemplateSummary[] }>('/templates').then((r) => r.templates ?? []).catch(() => []);
  return cache;
}

/** resize makes a parameter list exactly n long. */
export function resize(list: string[] | undefined, n: number): string[] {
  const out = (list ?? []).slice(0, n);
  while (out.length < n) out.push('');
  return out;
}

export function TemplatePicker(p: { value: TemplateRef; problems: FieldProblem[]; vars: string[]; onChange: (t: TemplateRef, key: string) => void }) {
  const [list, setList] = useState<TemplateSummary[] | null>(null);
  useEffect(() => {
    let live = true;
    void templates().then((l) => live && setList(l));
    return () => {
      live = false;
    };
  }, []);
  const t = p.value;
  const info = list?.find((x) => x.name === t.name && x.language === t.language);
  const key = t.name ? `${t.name}/${t.language}` : '';

  function choose(k: string) {
    const s = list?.find((x) => `${x.name}/${x.language}` === k);
    if (!s) return;
    const next: TemplateRef = { name: s.name, language: s.language };
    if (s.header_params > 0) next.header = resize(t.header, s.header_params);
    if (s.body_params > 0) next.body = resize(t.body, s.body_params);
    if (s.quick_replies > 0) next.buttons = Array.from({ length: s.quick_replies }, (_, i) => ({ index: i, payload: t.buttons?.find((b) => b.index === i)?.payload ?? '' }));
    p.onChange(next, 'template');
  }
  const headerN = info ? info.header_params : t.header?.length ?? 0;
  const bodyN = info ? info.body_params : t.body?.length ?? 0;
  const buttonsN = info ? info.quick_replies : t.buttons?.length ?? 0;
  return (
    <div className="subsection template-picker">
      <div className="field" data-field-wrap="template">
        <div className="field-label">
          <span>Template</span>
          <button type="button" className="small" onClick={() => void templates(true).then(setList)}>
            Refresh
          </button>
        </div>
        <select value={info ? key : ''} onChange={(e) => choose(e.target.value)} data-field="template/name" data-testid="template-select">
          <option value="">{list === null ? 'Loading…' : list.length ? '— choose —' : 'No template in the registry'}</option>
          {(list ?? []).map((s) => (
            <option key={`${s.name}/${s.language}`} value={`${s.name}/${s.language}`}>
              {s.name} ({s.language}) · {s.status}
              {s.category ? ` · ${s.category}` : ''}
            </option>
          ))}
        </select>
        {info && info.status !== 'APPROVED' && <div className="hint warning">Status {info.status}: it is sent only once Meta approves it.</div>}
        {!info && t.name && <div className="hint warning">{key} is not in the registry.</div>}
      </div>
      <details>
        <summary>Name and language by hand</summary>
        <TextField label="Name" field="template/name" value={t.name} mono problems={p.problems} onChange={(v) => p.onChange({ ...t, name: v }, 'template/name')} />
        <TextField label="Language" field="template/language" value={t.language} mono problems={p.problems} onChange={(v) => p.onChange({ ...t, language: v }, 'template/language')} />
      </details>
      {Array.from({ length: headerN }, (_, i) => (
        <TextField key={`h${i}`} label="Header parameter" field={`template/header/${i}`} value={t.header?.[i]} problems={p.problems} onChange={(v) => p.onChange({ ...t, header: resize(t.header, headerN).map((x, j) => (j === i ? v : x)) }, `template/header/${i}`)} />
      ))}
      {Array.from({ length: bodyN }, (_, i) => (
        <TextArea
          key={`b${i}`}
          label={`Body parameter {{${i + 1}}}`}
          field={`template/body/${i}`}
          value={t.body?.[i]}
          vars={p.vars}
          rows={1}
          problems={p.problems}
          onChange={(v) => p.onChange({ ...t, body: resize(t.body, bodyN).map((x, j) => (j === i ? v : x)) }, `template/body/${i}`)}
        />
      ))}
      {Array.from({ length: buttonsN }, (_, i) => {
        const bs = Array.from({ length: buttonsN }, (_, j) => ({ index: j, payload: t.buttons?.find((b) => b.index === j)?.payload ?? '' }));
        return (
          <TextField
            key={`q${i}`}
            label={`Quick reply ${i + 1} payload`}
            field={`template/buttons/${i}/payload`}
            value={bs[i].payload}
            mono
            problems={p.problems}
            hint="arrives as reply.button_id when tapped"
            onChange={(v) => p.onChange({ ...t, buttons: bs.map((b, j) => (j === i ? { ...b, payload: v } : b)) }, `template/buttons/${i}`)}
          />
        );
      })}
      <Problems list={p.problems.filter((x) => x.field === 'template')} />
    </div>
  );
}
