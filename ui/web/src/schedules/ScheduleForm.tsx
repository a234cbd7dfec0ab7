// Create or edit a schedule: when (cron + zone, with the next five fire
// times previewed in that zone as you type), what (start a flow, or send a
// template with parameters over the contact), and to whom (an audience
// expression). The server's field errors show on their fields.
import { useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { get } from '../api';
import type { FlowSummary, TemplateSummary } from '../types';
import { countAudience, createSchedule, previewFires, updateSchedule, type AudienceCount, type Schedule } from './api';
import { cronPresets, describeCron, errorFor, fieldError, formOf, formatZoned, inputOf, zoneNames, browserZone, type FieldError, type Form } from './model';
import { blank, shapeFromCounts, shapeFromFill } from '../templates/fill';
import { TemplateFields, TemplatePreview, type FieldRenderer } from '../templates/TemplateFields';
import { relative } from '../templates/format';

const zoneListId = 'schedule-zones';

export function ScheduleForm(p: { schedule: Schedule | null; onSaved: (s: Schedule) => void; onCancel: () => void }) {
  const [f, setF] = useState<Form>(() => formOf(p.schedule, browserZone()));
  const [saveErr, setSaveErr] = useState<FieldError | null>(null);
  const [busy, setBusy] = useState(false);
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [templates, setTemplates] = useState<TemplateSummary[] | null>(null);
  const zones = useMemo(zoneNames, []);
  const preview = usePreview(f.cron, f.timezone);
  const audience = useAudience(f.audience);

  useEffect(() => {
    let live = true;
    get<{ flows: FlowSummary[] }>('/flows')
      .then((r) => live && setFlows(r.flows ?? []))
      .catch(() => live && setFlows([]));
    get<{ templates: TemplateSummary[] }>('/templates')
      .then((r) => live && setTemplates(r.templates ?? []))
      .catch(() => live && setTemplates([]));
    return () => {
      live = false;
    };
  }, []);

  /** set changes one field, and forgets a save error about it. */
  function set<K extends keyof Form>(k: K, v: Form[K], field: string = k) {
    setF((x) => ({ ...x, [k]: v }));
    if (saveErr && (!saveErr.field || errorFor(saveErr, field) || errorFor(saveErr, 'action'))) setSaveErr(null);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setSaveErr(null);
    try {
      const body = inputOf(f);
      const saved = p.schedule ? await updateSchedule(p.schedule.id, body) : await createSchedule(body);
      p.onSaved(saved);
    } catch (err) {
      setSaveErr(fieldError(err));
      // Show the field at fault (or the form's error), wherever it is.
      requestAnimationFrame(() => document.querySelector('.sched-form [role="alert"]')?.scrollIntoView({ block: 'center' }));
    } finally {
      setBusy(false);
    }
  }

  const published = (flows ?? []).filter((x) => x.published_version > 0 && !x.archived);
  const tInfo = templates?.find((t) => t.name === f.template.name && t.language === f.template.language);
  const tKey = f.template.name ? `${f.template.name}/${f.template.language}` : '';
  const tShape = tInfo ? tInfo.shape ?? shapeFromCounts(tInfo.header_params, tInfo.body_params, tInfo.quick_replies) : shapeFromFill(f.template);
  function chooseTemplate(k: string) {
    const s = templates?.find((t) => `${t.name}/${t.language}` === k);
    if (!s) return set('template', { name: '', language: '' }, 'action.template');
    const { name: _n, language: _l, ...prev } = f.template;
    set('template', { name: s.name, language: s.language, ...blank(s.shape ?? shapeFromCounts(s.header_params, s.body_params, s.quick_replies), prev) }, 'action.template');
  }
  // A part's field is named as the server names it in errors: body/1/text → action.template.body[1].text.
  const schedField = (path: string) => 'action.template' + path.split('/').map((x) => (/^\d+$/.test(x) ? `[${x}]` : `.${x}`)).join('');
  const field: FieldRenderer = (label, path, value, onChange, hint) => {
    const err = errorFor(saveErr, schedField(path)) || errorFor(saveErr, schedField(path.replace(/\/(text|currency\/fallback_value|date_time\/fallback_value)$/, '')));
    const id = 'sched-param-' + path.replace(/\/(text|currency\/fallback_value|date_time\/fallback_value)$/, '').replace(/\//g, '-').replace(/^buttons-(\d+)-(payload|code)$/, 'button-$1').replace(/^buttons-(\d+)$/, 'button-$1');
    return (
      <Field key={path} label={label} error={err} hint={hint ?? (path === 'body/0' ? paramExpr : undefined)}>
        <input className="mono" value={value} onChange={(e) => onChange(e.target.value)} data-testid={id} placeholder={path.startsWith('body') ? '{{ name }}' : undefined} />
      </Field>
    );
  };

  const cronErr = errorFor(saveErr, 'cron') || errorFor(preview.err, 'cron');
  const zoneErr = errorFor(saveErr, 'timezone') || errorFor(preview.err, 'timezone');
  const words = describeCron(f.cron);
  // Errors of one parameter ("action.template.body[0]") show on it; the rest of the action's on the template.
  const templateErr = saveErr && !/\[\d+\]/.test(saveErr.field) ? errorFor(saveErr, 'action') : '';
  const general = saveErr && !['name', 'cron', 'timezone', 'audience', 'action'].some((k) => errorFor(saveErr, k)) ? saveErr.message : '';
  const paramExpr = <>Text, with {'{{ }}'} expressions over the contact: <code>{'{{ name }}'}</code>, <code>{'{{ fields.slot }}'}</code></>;

  return (
    <form className="sched-form" onSubmit={submit} data-testid="schedule-form" noValidate>
      <div className="toolbar">
        <h2>{p.schedule ? `Edit ${p.schedule.name}` : 'New schedule'}</h2>
      </div>
      <Field label="Name" error={errorFor(saveErr, 'name')} testid="name-error">
        <input value={f.name} onChange={(e) => set('name', e.target.value)} placeholder="Appointment reminder" data-testid="sched-name" autoFocus maxLength={200} />
      </Field>

      <fieldset className="sched-section">
        <legend>When</legend>
        <div className="sched-when">
          <Field label="Cron expression" error={cronErr} testid="cron-error" hint={words ? <span data-testid="cron-words">{words}</span> : 'minute hour day-of-month month day-of-week, or @daily, @hourly, @every 90m'}>
            <div className="row">
              <input className="mono" value={f.cron} onChange={(e) => set('cron', e.target.value)} data-testid="sched-cron" spellCheck={false} />
              <select value="" onChange={(e) => e.target.value && set('cron', e.target.value)} className="preset" data-testid="sched-preset" aria-label="Presets">
                <option value="">Presets…</option>
                {cronPresets.map((x) => (
                  <option key={x.cron} value={x.cron}>
                    {x.label}
                  </option>
                ))}
              </select>
            </div>
          </Field>
          <Field label="Time zone" error={zoneErr} testid="timezone-error" hint="IANA name, e.g. Europe/Berlin; fire times follow its daylight saving.">
            <input value={f.timezone} onChange={(e) => set('timezone', e.target.value)} list={zoneListId} data-testid="sched-timezone" spellCheck={false} />
            <datalist id={zoneListId}>
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </Field>
        </div>
        <div className="preview" data-testid="sched-preview">
          <div className="preview-head">
            Next five fire times in <strong data-testid="preview-zone">{f.timezone.trim() || 'UTC'}</strong>
            {preview.loading && <span className="muted"> · checking…</span>}
          </div>
          {preview.err ? (
            <p className="muted" data-testid="preview-none">
              {preview.err.field ? 'No preview until the expression and zone are valid.' : preview.err.message}
            </p>
          ) : (
            <ol data-testid="preview-list">
              {preview.times.map((t) => (
                <li key={t} data-testid="preview-fire" data-iso={t}>
                  <span>{formatZoned(t, f.timezone.trim() || 'UTC')}</span> <span className="muted">{relative(t, Date.now())}</span>
                </li>
              ))}
            </ol>
          )}
        </div>
      </fieldset>

      <fieldset className="sched-section">
        <legend>What</legend>
        <div className="row">
          <label className="check">
            <input type="radio" name="kind" checked={f.kind === 'start_flow'} onChange={() => set('kind', 'start_flow', 'action')} data-testid="sched-kind-flow" /> Start a flow
          </label>
          <label className="check">
            <input type="radio" name="kind" checked={f.kind === 'send_template'} onChange={() => set('kind', 'send_template', 'action')} data-testid="sched-kind-template" /> Send a template
          </label>
        </div>
        {f.kind === 'start_flow' ? (
          <Field label="Flow" error={errorFor(saveErr, 'action')} testid="action-error" hint="A published flow, started at its start node (which normally opens with a template).">
            <select value={f.flow} onChange={(e) => set('flow', e.target.value, 'action.flow')} data-testid="sched-flow">
              <option value="">{flows === null ? 'Loading…' : published.length ? '— choose —' : 'No published flow'}</option>
              {f.flow && !published.some((x) => x.id === f.flow) && <option value={f.flow}>{f.flow} (not published)</option>}
              {published.map((x) => (
                <option key={x.id} value={x.id}>
                  {x.name || x.id} · v{x.published_version}
                </option>
              ))}
            </select>
          </Field>
        ) : (
          <>
            <Field label="Template" error={templateErr} testid="action-error">
              <select value={tInfo ? tKey : ''} onChange={(e) => chooseTemplate(e.target.value)} data-testid="sched-template">
                <option value="">{templates === null ? 'Loading…' : templates.length ? '— choose —' : 'No template in the registry'}</option>
                {(templates ?? []).map((t) => (
                  <option key={`${t.name}/${t.language}`} value={`${t.name}/${t.language}`}>
                    {t.name} ({t.language}) · {t.status}
                    {t.category ? ` · ${t.category}` : ''}
                  </option>
                ))}
              </select>
              {!tInfo && f.template.name && <div className="hint warning">{tKey} is not in the registry.</div>}
              {tInfo && tInfo.status !== 'APPROVED' && <div className="hint warning">Status {tInfo.status}: it is sent only once Meta approves it.</div>}
            </Field>
            {f.template.name && (
              <>
                <TemplatePreview texts={tInfo?.texts} shape={tShape} value={f.template} />
                <TemplateFields
                  shape={tShape}
                  value={f.template}
                  field={field}
                  onChange={(x) => set('template', { name: f.template.name, language: f.template.language, ...x }, 'action.template')}
                />
              </>
            )}
          </>
        )}
      </fieldset>

      <fieldset className="sched-section">
        <legend>To whom</legend>
        <Field
          label="Audience"
          error={errorFor(saveErr, 'audience') || errorFor(audience.err, 'audience')}
          testid="audience-error"
          hint={
            <>
              A true/false expression over each contact; empty is every contact. Fields: <code>name</code> <code>wa_id</code> <code>language</code> <code>tags</code> <code>fields.…</code>{' '}
              <code>opted_in</code> <code>opted_out</code> <code>window_open</code> <code>last_inbound_at</code> <code>now</code>. Example: <code>{'"vip" in tags && fields.city == "Berlin"'}</code>. Consent is
              enforced whatever it says: only contacts opted in, and not opted out, are sent to.
            </>
          }
        >
          <textarea className="mono expr" rows={2} value={f.audience} onChange={(e) => set('audience', e.target.value)} data-testid="sched-audience" spellCheck={false} />
        </Field>
        {audience.count && (
          <p className="hint" data-testid="audience-count">
            Selects <strong>{audience.count.matching}</strong> of {audience.count.total} contacts now
            {audience.count.matching > 0 &&
              `; of them ${audience.count.no_consent} not opted in, ${audience.count.opted_out} opted out and ${audience.count.unreachable} unreachable would be skipped`}
            .
          </p>
        )}
        <p className="hint">A contact already in a running conversation is skipped and recorded as busy.</p>
      </fieldset>

      {general && (
        <p className="error" data-testid="form-error" role="alert">
          {general}
        </p>
      )}
      <div className="row">
        <button className="primary" disabled={busy} data-testid="sched-save">
          {busy ? 'Saving…' : p.schedule ? 'Save changes' : 'Create schedule'}
        </button>
        <button type="button" onClick={p.onCancel} data-testid="sched-cancel">
          Cancel
        </button>
        {p.schedule && <span className="hint">Changing the expression or zone counts the next fire time from the moment you save.</span>}
      </div>
    </form>
  );
}

function Field(p: { label: string; error?: string; hint?: ReactNode; testid?: string; children: ReactNode }) {
  return (
    <div className={`field ${p.error ? 'invalid' : ''}`}>
      <div className="field-label">
        <span>{p.label}</span>
      </div>
      {p.children}
      {p.error ? (
        <div className="hint error" data-testid={p.testid ?? 'field-error'} role="alert">
          {p.error}
        </div>
      ) : (
        p.hint && <div className="hint">{p.hint}</div>
      )}
    </div>
  );
}

/** useAudience asks the server how many contacts the expression selects, 400 ms after the last change. */
function useAudience(expr: string) {
  const [state, setState] = useState<{ count: AudienceCount | null; err: FieldError | null }>({ count: null, err: null });
  const seq = useRef(0);
  useEffect(() => {
    const n = ++seq.current;
    const timer = setTimeout(() => {
      countAudience(expr.trim())
        .then((count) => n === seq.current && setState({ count, err: null }))
        .catch((e) => n === seq.current && setState({ count: null, err: fieldError(e) }));
    }, 400);
    return () => clearTimeout(timer);
  }, [expr]);
  return state;
}

/** usePreview asks the server for the next fire times, 300 ms after the last change. */
function usePreview(cron: string, zone: string) {
  const [state, setState] = useState<{ times: string[]; err: FieldError | null; loading: boolean }>({ times: [], err: null, loading: false });
  const seq = useRef(0);
  useEffect(() => {
    const n = ++seq.current;
    if (!cron.trim()) {
      setState({ times: [], err: { field: 'cron', message: 'A cron expression is required.' }, loading: false });
      return;
    }
    setState((s) => ({ ...s, loading: true }));
    const timer = setTimeout(() => {
      previewFires(cron.trim(), zone.trim() || 'UTC')
        .then((times) => n === seq.current && setState({ times, err: null, loading: false }))
        .catch((e) => n === seq.current && setState({ times: [], err: fieldError(e), loading: false }));
    }, 300);
    return () => clearTimeout(timer);
  }, [cron, zone]);
  return state;
}
