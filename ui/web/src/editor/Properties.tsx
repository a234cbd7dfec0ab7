// The properties panel: every field of the selected node, by type.
import { useEffect, useState } from 'react';
import type { FlowDoc, FlowNode, Message } from '../types';
import { DurationField, ExpressionField, NodeSelect, NumberField, Problems, SelectField, TextArea, TextField, type FieldProblem } from './fields';
import { choicesOf, exitsOf, setExit } from './graph';
import { convertMessage, MessageEditor } from './MessageEditor';
import { fieldProblems } from './pointer';
import { TemplatePicker } from './TemplatePicker';
import { HttpEditor } from './HttpEditor';
import { QueuePicker } from './QueuePicker';
import { TypeHelp, TypeLabels } from './summary';

export interface PropertiesProps {
  doc: FlowDoc;
  node: FlowNode;
  problems: FieldProblem[];
  vars: string[];
  readOnly: boolean;
  onChange: (n: FlowNode, key: string) => void;
  onRename: (to: string) => void;
  onSetStart: () => void;
  onDelete: () => void;
}

const idRe = /^[a-z0-9_]{1,64}$/;

/** knownVars lists what a message may interpolate: contact fields, flow and node variables. */
export function knownVars(doc: FlowDoc): string[] {
  const vs = new Set<string>(Object.keys(doc.vars ?? {}));
  for (const n of doc.nodes) {
    if (n.save_as) vs.add(n.save_as);
    if (n.type === 'set') for (const k of Object.keys(n.vars ?? {})) vs.add(k);
  }
  return ['contact.name', 'contact.wa_id', 'reply.text', 'reply.title', ...[...vs].sort().map((v) => `vars.${v}`)];
}

export function Properties(p: PropertiesProps) {
  const n = p.node;
  const nodeIds = p.doc.nodes.map((x) => x.id);
  const set = (patch: Partial<FlowNode>, key: string) => p.onChange({ ...n, ...patch }, `${n.id}:${key}`);
  const unset = (k: keyof FlowNode, key: string) => {
    const c = { ...n };
    delete c[k];
    p.onChange(c, `${n.id}:${key}`);
  };
  const msg = (k: 'message' | 'prompt' | 'retry') => (m: Message, key: string) => set({ [k]: m } as Partial<FlowNode>, key);
  const exit = (handle: string, label = handle) => {
    const e = exitsOf(n).find((x) => x.handle === handle);
    return (
      <NodeSelect
        key={handle}
        label={`→ ${label}`}
        field={handle}
        value={e?.target}
        nodes={nodeIds}
        self={n.id}
        problems={p.problems}
        testid={`exit-${handle}`}
        onChange={(t) => p.onChange(setExit(n, handle, t), `${n.id}:exit:${handle}`)}
      />
    );
  };
  const probs = p.problems;

  return (
    <fieldset className="properties" disabled={p.readOnly} data-testid="properties">
      <div className="props-head">
        <div>
          <strong>{TypeLabels[n.type] ?? n.type}</strong>
          <div className="hint">{TypeHelp[n.type]}</div>
        </div>
        <span className="spacer" />
        {p.doc.start === n.id ? (
          <span className="pill start">start</span>
        ) : (
          <button type="button" className="small" onClick={p.onSetStart} data-testid="set-start">
            Make start
          </button>
        )}
        <button type="button" className="small danger" onClick={p.onDelete} data-testid="delete-node">
          Delete
        </button>
      </div>
      <IdField id={n.id} taken={nodeIds} onRename={p.onRename} />
      <TextField
        label="Label (its name on the canvas and in warnings)"
        field="meta/label"
        value={typeof n.meta?.label === 'string' ? n.meta.label : ''}
        placeholder={n.id}
        problems={probs}
        onChange={(v) => {
          const meta = { ...(n.meta ?? {}) };
          if (v) meta.label = v;
          else delete meta.label;
          p.onChange({ ...n, meta }, `${n.id}:label`);
        }}
      />
      <Problems list={probs.filter((x) => x.field === '' || x.field === 'type')} />

      {n.type === 'send' && (
        <>
          <MessageEditor message={n.message ?? { type: 'text', text: '' }} path="message" problems={probs} vars={p.vars} onChange={msg('message')} />
          {exit('next')}
          {exit('on_window_closed')}
          {exit('on_error', 'on_error (the message cannot be delivered)')}
        </>
      )}

      {n.type === 'wait_reply' && (
        <>
          <Optional label="Prompt (sent before waiting)" on={!!n.prompt} testid="toggle-prompt" onToggle={(on) => (on ? set({ prompt: convertMessage(undefined, 'text') }, 'prompt') : unset('prompt', 'prompt'))}>
            {n.prompt && <MessageEditor message={n.prompt} path="prompt" problems={probs} vars={p.vars} onChange={msg('prompt')} />}
          </Optional>
          <TextField label="Save the reply as variable" field="save_as" value={n.save_as} mono problems={probs} onChange={(v) => (v ? set({ save_as: v }, 'save_as') : unset('save_as', 'save_as'))} />
          <SelectField
            label="Accept"
            field="accept"
            value={n.accept ?? 'any'}
            problems={probs}
            onChange={(v) => (v === 'any' ? unset('accept', 'accept') : set({ accept: v }, 'accept'))}
            options={['any', 'text', 'number', 'button', 'list', 'location', 'media'].map((v) => ({ value: v, label: v }))}
          />
          <ExpressionField label="Valid when (expression)" field="valid" value={n.valid} problems={probs} placeholder="reply.number > 0" onChange={(v) => (v ? set({ valid: v }, 'valid') : unset('valid', 'valid'))} />
          <Optional label="Retry message (on a reply that does not fit)" on={!!n.retry} onToggle={(on) => (on ? set({ retry: convertMessage(undefined, 'text') }, 'retry') : unset('retry', 'retry'))}>
            {n.retry && <MessageEditor message={n.retry} path="retry" problems={probs} vars={p.vars} onChange={msg('retry')} />}
          </Optional>
          <NumberField label="Max retries" field="max_retries" value={n.max_retries} min={0} max={100} step={1} problems={probs} onChange={(v) => (v === undefined ? unset('max_retries', 'max_retries') : set({ max_retries: v }, 'max_retries'))} />
          <DurationField label="Timeout" field="timeout" value={n.timeout} problems={probs} onChange={(v) => (v ? set({ timeout: v }, 'timeout') : unset('timeout', 'timeout'))} hint="no reply within it → on_timeout" />
          {choicesOf(n).map((c) => exit(c.handle, `${c.label} (when chosen)`))}
          {exit('next', choicesOf(n).length ? 'next (any other answer)' : 'next')}
          {exit('on_invalid')}
          {exit('on_timeout')}
          {exit('on_window_closing/next', 'on_window_closing')}
          {n.on_window_closing && (
            <DurationField
              label="…taken this long before the 24 h window closes"
              field="on_window_closing/before"
              value={n.on_window_closing.before}
              problems={probs}
              onChange={(v) => set({ on_window_closing: { ...n.on_window_closing!, before: v ?? '' } }, 'owc_before')}
            />
          )}
          {exit('on_window_closed')}
          {exit('on_error', 'on_error (the prompt cannot be delivered)')}
        </>
      )}

      {n.type === 'branch' && (
        <>
          <div className="subsection">
            <div className="field-label">
              <span>Cases (the first true one wins)</span>
            </div>
            {(n.cases ?? []).map((c, i) => {
              const upd = (patch: Partial<typeof c>, key: string) => set({ cases: (n.cases ?? []).map((x, j) => (j === i ? { ...x, ...patch } : x)) }, `cases/${i}/${key}`);
              return (
                <div className="item" key={i} data-testid={`case-${i}`}>
                  <ExpressionField label={`Case ${i + 1}: when`} field={`cases/${i}/when`} value={c.when} problems={probs} onChange={(v) => upd({ when: v }, 'when')} />
                  <TextField label="Label" field={`cases/${i}/label`} value={c.label} problems={probs} onChange={(v) => upd({ label: v || undefined }, 'label')} />
                  {exit(`cases/${i}/next`, 'then go to')}
                  <div className="row">
                    <button type="button" className="small" disabled={i === 0} onClick={() => set({ cases: move(n.cases ?? [], i, i - 1) }, 'cases')}>
                      ↑
                    </button>
                    <button type="button" className="small" disabled={i === (n.cases?.length ?? 0) - 1} onClick={() => set({ cases: move(n.cases ?? [], i, i + 1) }, 'cases')}>
                      ↓
                    </button>
                    <button type="button" className="small danger" onClick={() => set({ cases: (n.cases ?? []).filter((_, j) => j !== i) }, 'cases')}>
                      Remove
                    </button>
                  </div>
                </div>
              );
            })}
            <button type="button" className="small" onClick={() => set({ cases: [...(n.cases ?? []), { when: '', next: '' }] }, 'cases')} data-testid="add-case">
              + Case
            </button>
            <Problems list={probs.filter((x) => x.field === 'cases')} />
          </div>
          {exit('default')}
        </>
      )}

      {n.type === 'template' && (
        <>
          <TemplatePicker
            value={n.template ?? { name: '', language: 'en_US' }}
            problems={fieldProblems(probs, 'template')}
            vars={p.vars}
            onChange={(t, key) => {
              const c = { ...t };
              if (!c.header?.length) delete c.header;
              if (!c.body?.length) delete c.body;
              if (!c.buttons?.length) delete c.buttons;
              set({ template: c }, key);
            }}
          />
          {exit('next')}
          {exit('on_blocked')}
          {exit('on_error', 'on_error (sent, but not delivered)')}
        </>
      )}

      {n.type === 'handoff' && (
        <>
          <QueuePicker value={n.queue} numbers={p.doc.numbers} problems={probs} readOnly={p.readOnly} onChange={(v) => set({ queue: v }, 'queue')} />
          <Optional label="Message to the customer" on={!!n.message} onToggle={(on) => (on ? set({ message: convertMessage(undefined, 'text') }, 'message') : unset('message', 'message'))}>
            {n.message && <MessageEditor message={n.message} path="message" problems={probs} vars={p.vars} onChange={msg('message')} />}
          </Optional>
          <TextArea label="Note for the agent" field="note" value={n.note} vars={p.vars} rows={2} problems={probs} onChange={(v) => (v ? set({ note: v }, 'note') : unset('note', 'note'))} />
          <NumberField label="Priority" field="priority" value={n.priority} min={0} max={1000} step={1} problems={probs} onChange={(v) => (v === undefined ? unset('priority', 'priority') : set({ priority: v }, 'priority'))} />
          <DurationField label="No agent after" field="no_agent_after" value={n.no_agent_after} problems={probs} onChange={(v) => (v ? set({ no_agent_after: v }, 'no_agent_after') : unset('no_agent_after', 'no_agent_after'))} hint="no agent takes it within this → on_no_agent" />
          {exit('next', 'next (after the agent resolves)')}
          {exit('on_no_agent')}
        </>
      )}

      {n.type === 'auto_reply' && <AutoReply n={n} probs={probs} vars={p.vars} set={set} unset={unset} exit={exit} />}

      {n.type === 'http' && <HttpEditor n={n} probs={probs} vars={p.vars} set={set} unset={unset} exit={exit} />}

      {n.type === 'set' && (
        <>
          <VarsEditor vars={n.vars ?? {}} probs={probs} onChange={(v, key) => set({ vars: v }, key)} />
          {exit('next')}
        </>
      )}
    </fieldset>
  );
}

function move<T>(list: T[], from: number, to: number): T[] {
  const c = list.slice();
  const [x] = c.splice(from, 1);
  c.splice(to, 0, x);
  return c;
}

function Optional(p: { label: string; on: boolean; onToggle: (on: boolean) => void; children: React.ReactNode; testid?: string }) {
  return (
    <div className="subsection optional">
      <label className="check">
        <input type="checkbox" checked={p.on} onChange={(e) => p.onToggle(e.target.checked)} data-testid={p.testid} /> {p.label}
      </label>
      {p.on && p.children}
    </div>
  );
}

/** IdField renames a node when the new id is valid and free (on blur or Enter). */
function IdField({ id, taken, onRename }: { id: string; taken: string[]; onRename: (to: string) => void }) {
  const [v, setV] = useState(id);
  useEffect(() => {
    setV(id);
  }, [id]);
  const err = v === id ? '' : !idRe.test(v) ? 'a–z, 0–9 and _, at most 64' : taken.includes(v) ? 'taken by another node' : '';
  const commit = () => {
    if (v !== id && !err) onRename(v);
  };
  return (
    <div className={`field ${err ? 'invalid' : ''}`}>
      <div className="field-label">
        <span>Id</span>
      </div>
      <input className="mono" value={v} onChange={(e) => setV(e.target.value)} onBlur={commit} onKeyDown={(e) => e.key === 'Enter' && commit()} data-testid="field-id" />
      {err && <div className="hint error">{err}</div>}
    </div>
  );
}

function VarsEditor({ vars, probs, onChange }: { vars: Record<string, string>; probs: FieldProblem[]; onChange: (v: Record<string, string>, key: string) => void }) {
  const entries = Object.entries(vars);
  const rebuild = (es: [string, string][]) => Object.fromEntries(es);
  return (
    <div className="subsection">
      <div className="field-label">
        <span>Variables (name = expression)</span>
      </div>
      {entries.map(([k, v], i) => (
        <div className="item" key={i}>
          <input className="mono" value={k} onChange={(e) => onChange(rebuild(entries.map((x, j) => (j === i ? [e.target.value, x[1]] : x))), `vars/${i}/k`)} data-testid={`var-name-${i}`} />
          <ExpressionField label="=" field={`vars/${k}`} value={v} problems={probs} onChange={(nv) => onChange(rebuild(entries.map((x, j) => (j === i ? [x[0], nv] : x))), `vars/${i}/v`)} />
          <button type="button" className="small danger" onClick={() => onChange(rebuild(entries.filter((_, j) => j !== i)), 'vars')}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" className="small" onClick={() => onChange({ ...vars, [`var${entries.length + 1}`]: "''" }, 'vars')}>
        + Variable
      </button>
      <Problems list={probs.filter((x) => x.field === 'vars')} />
    </div>
  );
}

const days = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function AutoReply({ n, probs, vars, set, unset, exit }: {
  n: FlowNode;
  probs: FieldProblem[];
  vars: string[];
  set: (patch: Partial<FlowNode>, key: string) => void;
  unset: (k: keyof FlowNode, key: string) => void;
  exit: (handle: string, label?: string) => React.ReactNode;
}) {
  const rules = n.rules ?? [];
  const def = n.default && typeof n.default === 'object' ? n.default : undefined;
  return (
    <>
      <div className="subsection">
        <div className="field-label">
          <span>Rules (the first match answers)</span>
        </div>
        {rules.map((r, i) => {
          const kind = r.keywords ? 'keywords' : r.pattern !== undefined ? 'pattern' : 'when';
          const upd = (patch: Partial<typeof r>, key: string) => set({ rules: rules.map((x, j) => (j === i ? { ...x, ...patch } : x)) }, `rules/${i}/${key}`);
          return (
            <div className="item" key={i}>
              <SelectField
                label={`Rule ${i + 1} matches by`}
                field={`rules/${i}/kind`}
                value={kind}
                options={[{ value: 'keywords', label: 'keywords' }, { value: 'pattern', label: 'regular expression' }, { value: 'when', label: 'expression' }]}
                onChange={(k) => {
                  const base = { reply: r.reply, next: r.next };
                  const nr = k === 'keywords' ? { ...base, keywords: [''] } : k === 'pattern' ? { ...base, pattern: '.*' } : { ...base, when: 'true' };
                  set({ rules: rules.map((x, j) => (j === i ? nr : x)) }, `rules/${i}`);
                }}
              />
              {kind === 'keywords' && (
                <TextField label="Keywords (comma-separated)" field={`rules/${i}/keywords`} value={r.keywords?.join(', ')} problems={probs} onChange={(v) => upd({ keywords: v.split(',').map((s) => s.trim()) }, 'keywords')} />
              )}
              {kind === 'pattern' && <TextField label="Pattern (RE2)" field={`rules/${i}/pattern`} value={r.pattern} mono problems={probs} onChange={(v) => upd({ pattern: v }, 'pattern')} />}
              {kind === 'when' && <ExpressionField label="When" field={`rules/${i}/when`} value={r.when} problems={probs} onChange={(v) => upd({ when: v }, 'when')} />}
              <MessageEditor message={r.reply} path={`rules/${i}/reply`} problems={probs} vars={vars} onChange={(m, key) => upd({ reply: m }, key)} />
              {exit(`rules/${i}/next`, 'then go to')}
              <button type="button" className="small danger" onClick={() => set({ rules: rules.filter((_, j) => j !== i) }, 'rules')}>
                Remove rule
              </button>
            </div>
          );
        })}
        <button type="button" className="small" onClick={() => set({ rules: [...rules, { keywords: ['hours'], reply: { type: 'text', text: '' } }] }, 'rules')}>
          + Rule
        </button>
      </div>
      <Optional label="Default reply (no rule matched)" on={!!def} onToggle={(on) => (on ? set({ default: { reply: { type: 'text', text: '' } } }, 'default') : unset('default', 'default'))}>
        {def && (
          <>
            <MessageEditor message={def.reply} path="default/reply" problems={probs} vars={vars} onChange={(m, key) => set({ default: { ...def, reply: m } }, key)} />
            {exit('default/next', 'then go to')}
          </>
        )}
      </Optional>
      <Optional
        label="Opening hours"
        on={!!n.hours}
        onToggle={(on) => (on ? set({ hours: { timezone: 'UTC', open: { mon: ['09:00-17:00'] }, closed_reply: { type: 'text', text: 'We are closed.' } } }, 'hours') : unset('hours', 'hours'))}
      >
        {n.hours && (
          <>
            <TextField label="Time zone" field="hours/timezone" value={n.hours.timezone} mono problems={probs} onChange={(v) => set({ hours: { ...n.hours!, timezone: v } }, 'hours/tz')} />
            {days.map((d) => (
              <TextField
                key={d}
                label={d}
                field={`hours/open/${d}`}
                value={n.hours!.open[d]?.join(', ')}
                mono
                placeholder="09:00-17:30, 18:00-20:00"
                problems={probs}
                onChange={(v) => {
                  const open = { ...n.hours!.open };
                  const ranges = v.split(',').map((s) => s.trim()).filter(Boolean);
                  if (ranges.length) open[d] = ranges;
                  else delete open[d];
                  set({ hours: { ...n.hours!, open } }, `hours/${d}`);
                }}
              />
            ))}
            <MessageEditor message={n.hours.closed_reply} path="hours/closed_reply" problems={probs} vars={vars} onChange={(m, key) => set({ hours: { ...n.hours!, closed_reply: m } }, key)} />
            {exit('hours/closed_next', 'when closed, go to')}
          </>
        )}
      </Optional>
      {exit('next')}
    </>
  );
}
