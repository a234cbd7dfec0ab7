import { useState } from 'react';
import type { FlowDoc, Json } from '../types';
import { DurationField, NodeSelect, Problems, TextField, type FieldProblem } from './fields';

/** FlowSettings edits the flow's own fields: name, start, expiry, re-engagement, numbers, triggers, interrupts, variables. */
export function FlowSettings({ doc, readOnly, problems, onChange }: { doc: FlowDoc; readOnly: boolean; problems: FieldProblem[]; onChange: (d: FlowDoc, key: string) => void }) {
  const ids = doc.nodes.map((n) => n.id);
  const set = (patch: Partial<FlowDoc>, key: string) => {
    const d = { ...doc, ...patch } as Record<string, unknown>;
    for (const k of Object.keys(patch)) if (d[k] === undefined || d[k] === '') delete d[k];
    if (d.start === undefined) d.start = '';
    onChange(d as unknown as FlowDoc, `flow:${key}`);
  };
  const triggers = doc.triggers ?? [];
  const interrupts = doc.interrupts ?? [];
  return (
    <fieldset className="properties" disabled={readOnly} data-testid="flow-settings">
      <TextField label="Flow id" field="id" value={doc.id} mono problems={problems} onChange={() => {}} hint="fixed: a flow keeps its id across versions" />
      <TextField label="Name" field="name" value={doc.name} problems={problems} onChange={(v) => set({ name: v }, 'name')} testid="flow-name" />
      <TextField label="Language" field="language" value={doc.language} mono problems={problems} onChange={(v) => set({ language: v }, 'language')} placeholder="en_US" />
      <NodeSelect label="Start node" field="start" value={doc.start} nodes={ids} problems={problems} onChange={(v) => set({ start: v ?? '' }, 'start')} testid="flow-start" />
      <DurationField label="Expire an idle conversation after" field="expire_after" value={doc.expire_after} problems={problems} onChange={(v) => set({ expire_after: v }, 'expire_after')} hint="default 72h" />
      <NodeSelect label="Re-engage (a free-form send meets a closed window)" field="reengage" value={doc.reengage} nodes={ids} problems={problems} onChange={(v) => set({ reengage: v }, 'reengage')} />
      <TextField
        label="Answers on numbers (phone number ids, comma-separated)"
        field="numbers"
        value={doc.numbers?.join(', ')}
        mono
        problems={problems}
        onChange={(v) => set({ numbers: v.trim() === '' ? undefined : v.split(',').map((s) => s.trim()) }, 'numbers')}
        hint="empty: every number Parley serves"
        testid="flow-numbers"
      />
      <div className="subsection">
        <div className="field-label">
          <span>Triggers (how a conversation starts this flow)</span>
        </div>
        {triggers.map((t, i) => (
          <div className="item" key={i}>
            <select value={t.type} onChange={(e) => set({ triggers: triggers.map((x, j) => (j === i ? (e.target.value === 'keyword' ? { type: 'keyword', keywords: x.keywords ?? [''] } : { type: e.target.value }) : x)) }, `triggers/${i}`)}>
              <option value="keyword">keyword</option>
              <option value="any">any message</option>
              <option value="referral">click-to-WhatsApp ad</option>
            </select>
            {t.type === 'keyword' && (
              <TextField
                label="Keywords (comma-separated)"
                field={`triggers/${i}/keywords`}
                value={t.keywords?.join(', ')}
                problems={problems}
                onChange={(v) => set({ triggers: triggers.map((x, j) => (j === i ? { ...x, keywords: v.split(',').map((s) => s.trim()) } : x)) }, `triggers/${i}/kw`)}
              />
            )}
            <button type="button" className="small danger" onClick={() => set({ triggers: triggers.filter((_, j) => j !== i) }, 'triggers')}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" className="small" onClick={() => set({ triggers: [...triggers, { type: 'keyword', keywords: [''] }] }, 'triggers')} data-testid="add-trigger">
          + Trigger
        </button>
      </div>
      <div className="subsection">
        <div className="field-label">
          <span>Interrupts (keywords that jump anywhere)</span>
        </div>
        {interrupts.map((it, i) => (
          <div className="item" key={i}>
            <TextField
              label="Keywords"
              field={`interrupts/${i}/keywords`}
              value={it.keywords.join(', ')}
              problems={problems}
              onChange={(v) => set({ interrupts: interrupts.map((x, j) => (j === i ? { ...x, keywords: v.split(',').map((s) => s.trim()) } : x)) }, `interrupts/${i}/kw`)}
            />
            <NodeSelect label="Go to" field={`interrupts/${i}/goto`} value={it.goto} nodes={ids} problems={problems} onChange={(v) => set({ interrupts: interrupts.map((x, j) => (j === i ? { ...x, goto: v ?? '' } : x)) }, `interrupts/${i}/goto`)} />
            <button type="button" className="small danger" onClick={() => set({ interrupts: interrupts.filter((_, j) => j !== i) }, 'interrupts')}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" className="small" onClick={() => set({ interrupts: [...interrupts, { keywords: ['agent'], goto: ids[0] ?? '' }] }, 'interrupts')} data-testid="add-interrupt">
          + Interrupt
        </button>
      </div>
      <VarsJSON value={doc.vars} problems={problems} onChange={(v) => set({ vars: v }, 'vars')} />
      <Problems list={problems.filter((p) => p.field === '')} />
    </fieldset>
  );
}

function VarsJSON({ value, problems, onChange }: { value: Record<string, Json> | undefined; problems: FieldProblem[]; onChange: (v: Record<string, Json> | undefined) => void }) {
  const [text, setText] = useState(() => JSON.stringify(value ?? {}, null, 2));
  const [err, setErr] = useState('');
  return (
    <div className="field">
      <div className="field-label">
        <span>Initial variables (JSON object)</span>
      </div>
      <textarea
        className="mono"
        rows={4}
        value={text}
        data-field="vars"
        onChange={(e) => {
          setText(e.target.value);
          try {
            const v = JSON.parse(e.target.value);
            if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('an object is expected');
            setErr('');
            onChange(Object.keys(v).length ? v : undefined);
          } catch (x) {
            setErr((x as Error).message);
          }
        }}
      />
      {err && <div className="hint error">{err}</div>}
      <Problems list={problems.filter((p) => p.field.startsWith('vars'))} />
    </div>
  );
}
