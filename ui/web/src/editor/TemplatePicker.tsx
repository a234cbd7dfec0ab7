// Picks a template from the registry (GET /templates) and gives a field
// per part the template takes, with the template's text filled in.
import { useEffect, useState } from 'react';
import { get } from '../api';
import type { TemplateRef, TemplateSummary } from '../types';
import { TextArea, TextField, type FieldProblem, Problems } from './fields';
import { blank, migrateButtons, shapeFromCounts, shapeFromFill, type TemplateShape } from '../templates/fill';
import { TemplateFields, TemplatePreview, type FieldRenderer } from '../templates/TemplateFields';

let cache: Promise<TemplateSummary[]> | null = null;
/** templates loads the registry once per page (reload() forgets it). */
export function templates(reload = false): Promise<TemplateSummary[]> {
  if (!cache || reload) cache = get<{ templates: TemplateSummary[] }>('/templates').then((r) => r.templates ?? []).catch(() => []);
  return cache;
}

/** shapeOf is what the editor knows a template takes: the registry's shape, else its counts, else the node's own fill. */
export function shapeOf(info: TemplateSummary | undefined, t: TemplateRef): TemplateShape {
  if (info?.shape) return info.shape;
  if (info) return shapeFromCounts(info.header_params, info.body_params, info.quick_replies);
  return shapeFromFill(t);
}

/**
 * TemplatePicker chooses a template from the registry and gives a field per
 * part it takes (TemplateFields): header (text, media or location), body
 * variables by name or place (text, currency or date), each button that
 * takes a value at its real position, each carousel card, an offer's end;
 * and shows the template's own text with the parameters filled in.
 */
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
  const shape = shapeOf(info, t);
  const { name, language, ...fill } = t;
  const legacy = (t.buttons ?? []).some((b) => !b.type);

  function choose(k: string) {
    const s = list?.find((x) => `${x.name}/${x.language}` === k);
    if (!s) return;
    p.onChange({ name: s.name, language: s.language, ...blank(shapeOf(s, t), fill) }, 'template');
  }
  const field: FieldRenderer = (label, path, value, onChange, hint) =>
    path.startsWith('body/') || path.includes('/body/') ? (
      <TextArea key={path} label={label} field={`template/${path}`} value={value} vars={p.vars} rows={1} problems={p.problems} hint={hint} onChange={(v) => onChange(v)} />
    ) : (
      <TextField key={path} label={label} field={`template/${path}`} value={value} problems={p.problems} hint={hint} onChange={(v) => onChange(v)} />
    );
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
        <TextField label="Name" field="template/name" value={name} mono problems={p.problems} onChange={(v) => p.onChange({ ...t, name: v }, 'template/name')} />
        <TextField label="Language" field="template/language" value={language} mono problems={p.problems} onChange={(v) => p.onChange({ ...t, language: v }, 'template/language')} />
      </details>
      {t.name && <TemplatePreview texts={info?.texts} shape={shape} value={fill} />}
      {legacy && info && (
        <div className="hint warning" data-testid="template-legacy-buttons">
          Buttons written without a type count quick replies only.{' '}
          <button type="button" className="small" onClick={() => p.onChange({ ...t, buttons: migrateButtons(shape.buttons, t.buttons) }, 'template/buttons')}>
            Write them at their real position
          </button>
        </div>
      )}
      <TemplateFields shape={shape} value={{ ...fill, buttons: legacy ? migrateButtons(shape.buttons, fill.buttons) : fill.buttons }} field={field} onChange={(f) => p.onChange({ name, language, ...f }, 'template')} />
      <Problems list={p.problems.filter((x) => x.field === 'template')} />
    </div>
  );
}
