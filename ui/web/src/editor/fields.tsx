// Form fields of the properties panel. Every field carries data-field (its
// path inside the node) so that a problem's pointer can focus it, and
// shows the problems found at that path.
import { useRef, useState, type ReactNode } from 'react';
import { counter } from './limits';
import { DurationUnits, joinDuration, parseDuration, splitDuration, type DurationUnit } from './duration';
import type { Problem } from '../types';

export type FieldProblem = Problem & { field: string };

export function Problems({ list }: { list: FieldProblem[] }) {
  if (!list.length) return null;
  return (
    <ul className="field-problems">
      {list.map((p, i) => (
        <li key={i} className={p.severity} data-testid="field-problem">
          {p.message}
        </li>
      ))}
    </ul>
  );
}

export function Counter({ value, limit }: { value: string | undefined; limit: number }) {
  const c = counter(value, limit);
  return (
    <span className={`counter ${c.state}`} data-testid="counter">
      {c.n}/{limit}
    </span>
  );
}

interface Base {
  label: string;
  field: string;
  problems?: FieldProblem[];
  hint?: ReactNode;
  testid?: string;
}

function Wrap({ label, field, problems, hint, extra, children }: Base & { extra?: ReactNode; children: ReactNode }) {
  const mine = (problems ?? []).filter((p) => p.field === field);
  return (
    <div className={`field ${mine.some((p) => p.severity === 'error') ? 'invalid' : ''}`} data-field-wrap={field}>
      <div className="field-label">
        <span>{label}</span>
        {extra}
      </div>
      {children}
      {hint && <div className="hint">{hint}</div>}
      <Problems list={mine} />
    </div>
  );
}

export function TextField(p: Base & { value: string | undefined; onChange: (v: string) => void; limit?: number; placeholder?: string; mono?: boolean }) {
  return (
    <Wrap {...p} extra={p.limit ? <Counter value={p.value} limit={p.limit} /> : undefined}>
      <input
        className={p.mono ? 'mono' : ''}
        value={p.value ?? ''}
        placeholder={p.placeholder}
        onChange={(e) => p.onChange(e.target.value)}
        data-field={p.field}
        data-testid={p.testid ?? `field-${p.field}`}
      />
    </Wrap>
  );
}

export function NumberField(p: Base & { value: number | undefined; onChange: (v: number | undefined) => void; min?: number; max?: number; step?: number }) {
  return (
    <Wrap {...p}>
      <input
        type="number"
        value={p.value ?? ''}
        min={p.min}
        max={p.max}
        step={p.step ?? 'any'}
        onChange={(e) => p.onChange(e.target.value === '' ? undefined : Number(e.target.value))}
        data-field={p.field}
        data-testid={p.testid ?? `field-${p.field}`}
      />
    </Wrap>
  );
}

/** TextArea is a message text with a counter and an "insert variable" menu. */
export function TextArea(p: Base & { value: string | undefined; onChange: (v: string) => void; limit?: number; vars?: string[]; rows?: number }) {
  const ref = useRef<HTMLTextAreaElement>(null);
  function insert(expr: string) {
    const el = ref.current;
    const v = p.value ?? '';
    const at = el ? el.selectionStart : v.length;
    const end = el ? el.selectionEnd : v.length;
    const ins = `{{ ${expr} }}`;
    p.onChange(v.slice(0, at) + ins + v.slice(end));
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(at + ins.length, at + ins.length);
    });
  }
  return (
    <Wrap
      {...p}
      extra={
        <>
          {p.vars && (
            <select className="insert-var" value="" onChange={(e) => e.target.value && insert(e.target.value)} data-testid={`insert-var-${p.field}`} title="Insert a variable">
              <option value="">{'{{ }} insert…'}</option>
              {p.vars.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          )}
          {p.limit && <Counter value={p.value} limit={p.limit} />}
        </>
      }
    >
      <textarea ref={ref} rows={p.rows ?? 3} value={p.value ?? ''} onChange={(e) => p.onChange(e.target.value)} data-field={p.field} data-testid={p.testid ?? `field-${p.field}`} />
    </Wrap>
  );
}

/** ExpressionField is an expr-lang expression: its errors come from the server's validator. */
export function ExpressionField(p: Base & { value: string | undefined; onChange: (v: string) => void; placeholder?: string }) {
  const local = quickCheck(p.value ?? '');
  return (
    <Wrap {...p} hint={local ? <span className="error">{local}</span> : p.hint}>
      <input
        className="mono expr"
        value={p.value ?? ''}
        placeholder={p.placeholder ?? "reply.button_id == 'yes'"}
        spellCheck={false}
        onChange={(e) => p.onChange(e.target.value)}
        data-field={p.field}
        data-testid={p.testid ?? `field-${p.field}`}
      />
    </Wrap>
  );
}

/** quickCheck catches unbalanced brackets and quotes at once, before the server says more. */
export function quickCheck(s: string): string {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (ch === '(' || ch === '[' || ch === '{') stack.push(ch);
    else if (ch in pairs) {
      if (stack.pop() !== pairs[ch]) return `unexpected ${ch}`;
    }
  }
  if (quote) return `unclosed ${quote}`;
  if (stack.length) return `unclosed ${stack[stack.length - 1]}`;
  return '';
}

/** DurationField edits a Go duration as a number and a unit (or as text when it is not one number). */
export function DurationField(p: Base & { value: string | undefined; onChange: (v: string | undefined) => void }) {
  const split = splitDuration(p.value);
  const [raw, setRaw] = useState(!split && !!p.value);
  const [unit, setUnit] = useState<DurationUnit>(split?.unit ?? 'h');
  const bad = p.value && parseDuration(p.value) === null;
  return (
    <Wrap {...p} hint={bad ? <span className="error">not a duration (e.g. 30m, 1h30m, 25h)</span> : p.hint}>
      {raw ? (
        <div className="row">
          <input className="mono" value={p.value ?? ''} onChange={(e) => p.onChange(e.target.value || undefined)} data-field={p.field} data-testid={p.testid ?? `field-${p.field}`} />
          <button type="button" className="small" onClick={() => setRaw(false)} disabled={!splitDuration(p.value) && !!p.value}>
            simple
          </button>
        </div>
      ) : (
        <div className="row duration">
          <input
            type="number"
            min={0}
            value={split?.n ?? ''}
            onChange={(e) => p.onChange(e.target.value === '' ? undefined : joinDuration(Number(e.target.value), split?.unit ?? unit) || undefined)}
            data-field={p.field}
            data-testid={p.testid ?? `field-${p.field}`}
          />
          <select
            value={split?.unit ?? unit}
            onChange={(e) => {
              const u = e.target.value as DurationUnit;
              setUnit(u);
              if (split) p.onChange(joinDuration(split.n, u));
            }}
            data-testid={`${p.testid ?? `field-${p.field}`}-unit`}
          >
            {DurationUnits.map((u) => (
              <option key={u} value={u}>
                {{ s: 'seconds', m: 'minutes', h: 'hours', d: 'days' }[u]}
              </option>
            ))}
          </select>
          <button type="button" className="small" onClick={() => setRaw(true)} title="Type a Go duration such as 1h30m">
            text
          </button>
        </div>
      )}
    </Wrap>
  );
}

export function SelectField(p: Base & { value: string | undefined; onChange: (v: string) => void; options: { value: string; label: string }[] }) {
  return (
    <Wrap {...p}>
      <select value={p.value ?? ''} onChange={(e) => p.onChange(e.target.value)} data-field={p.field} data-testid={p.testid ?? `field-${p.field}`}>
        {p.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Wrap>
  );
}

/** NodeSelect picks the node an exit leads to. */
export function NodeSelect(p: Base & { value: string | undefined; onChange: (v: string | undefined) => void; nodes: string[]; self?: string }) {
  const options = [{ value: '', label: '— none —' }, ...p.nodes.map((id) => ({ value: id, label: id === p.self ? `${id} (itself)` : id }))];
  if (p.value && !p.nodes.includes(p.value)) options.push({ value: p.value, label: `${p.value} (missing)` });
  return <SelectField {...p} options={options} onChange={(v) => p.onChange(v || undefined)} />;
}
