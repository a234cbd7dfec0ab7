// The http node's form: method, url, headers, body, timeout, retries,
// save_as, and a "Try" button that makes the request once with sample
// values (POST /flows/try-http: secrets are resolved on the server and
// come back as ***).
import { useState, type ReactNode } from 'react';
import { ApiError, post } from '../api';
import type { FlowNode, Json } from '../types';
import { DurationField, NumberField, Problems, SelectField, TextArea, TextField, type FieldProblem } from './fields';

interface TryResult {
  call: { method: string; url: string; status: number; duration_ms: number; error?: string; key: string };
  headers?: Record<string, string>;
  body?: string;
  saved: { status: number; json: Json; text: string };
  ok: boolean;
  problems?: string[];
}

export function HttpEditor(p: {
  n: FlowNode;
  probs: FieldProblem[];
  vars: string[];
  set: (patch: Partial<FlowNode>, key: string) => void;
  unset: (k: keyof FlowNode, key: string) => void;
  exit: (handle: string, label?: string) => ReactNode;
}) {
  const { n, probs, set, unset } = p;
  const headers = Object.entries(n.headers ?? {});
  const bodyMode = n.body === undefined ? 'none' : typeof n.body === 'string' ? 'text' : 'json';
  const [jsonText, setJsonText] = useState(() => (bodyMode === 'json' ? JSON.stringify(n.body, null, 2) : '{\n  "phone": "{{ contact.wa_id }}"\n}'));
  const [jsonError, setJsonError] = useState('');
  const setHeaders = (es: [string, string][], key: string) => (es.length ? set({ headers: Object.fromEntries(es) }, key) : unset('headers', key));
  return (
    <>
      <SelectField
        label="Method"
        field="method"
        value={n.method ?? 'GET'}
        problems={probs}
        testid="http-method"
        onChange={(v) => set({ method: v }, 'method')}
        options={['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((v) => ({ value: v, label: v }))}
      />
      <TextField label="URL" field="url" value={n.url} mono problems={probs} testid="http-url" placeholder="https://shop.example.com/api/orders/{{ vars.order_id }}" onChange={(v) => set({ url: v }, 'url')} />
      <div className="hint">Write the host out; {'{{ }}'} may fill the path and query (values are URL-escaped). Secrets: {'{{ secrets.NAME }}'}.</div>
      <div className="subsection">
        <div className="field-label">
          <span>Headers</span>
        </div>
        {headers.map(([k, v], i) => (
          <div className="item" key={i}>
            <TextField label="Name" field={`headers/${k}`} value={k} mono problems={[]} testid={`http-header-name-${i}`} onChange={(nk) => setHeaders(headers.map((x, j) => (j === i ? [nk, x[1]] : x)), `headers/${i}/k`)} />
            <TextField label="Value" field={`headers/${k}`} value={v} mono problems={probs} testid={`http-header-value-${i}`} onChange={(nv) => setHeaders(headers.map((x, j) => (j === i ? [x[0], nv] : x)), `headers/${i}/v`)} />
            <button type="button" className="small danger" onClick={() => setHeaders(headers.filter((_, j) => j !== i), 'headers')}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" className="small" data-testid="http-add-header" onClick={() => setHeaders([...headers, ['Authorization', 'Bearer {{ secrets.token }}']], 'headers')}>
          + Header
        </button>
        <Problems list={probs.filter((x) => x.field === 'headers')} />
      </div>
      <SelectField
        label="Body"
        field="body"
        value={bodyMode}
        problems={probs}
        testid="http-body-mode"
        onChange={(m) => {
          if (m === 'none') unset('body', 'body');
          else if (m === 'text') set({ body: typeof n.body === 'string' ? n.body : '' }, 'body');
          else {
            try {
              set({ body: JSON.parse(jsonText) as Json }, 'body');
            } catch {
              set({ body: {} }, 'body');
            }
          }
        }}
        options={[
          { value: 'none', label: 'none' },
          { value: 'json', label: 'JSON (string values may hold {{ }})' },
          { value: 'text', label: 'text' },
        ]}
      />
      {bodyMode === 'text' && <TextArea label="Body text" field="body" value={n.body as string} vars={p.vars} rows={3} problems={probs} onChange={(v) => set({ body: v }, 'body')} />}
      {bodyMode === 'json' && (
        <div className={`field ${jsonError ? 'invalid' : ''}`}>
          <div className="field-label">
            <span>Body JSON</span>
          </div>
          <textarea
            className="mono"
            rows={6}
            value={jsonText}
            data-testid="http-body-json"
            onChange={(e) => {
              setJsonText(e.target.value);
              try {
                const v = JSON.parse(e.target.value) as Json;
                setJsonError('');
                set({ body: v }, 'body');
              } catch (err) {
                setJsonError((err as Error).message);
              }
            }}
          />
          {jsonError && <div className="hint error">not JSON yet: {jsonError}</div>}
          <Problems list={probs.filter((x) => x.field.startsWith('body/'))} />
        </div>
      )}
      <DurationField label="Timeout per attempt" field="timeout" value={n.timeout} problems={probs} onChange={(v) => (v ? set({ timeout: v }, 'timeout') : unset('timeout', 'timeout'))} hint="default 10s, at most 30s" />
      <NumberField label="Retries" field="retries" value={n.retries} min={0} max={5} step={1} problems={probs} onChange={(v) => (v ? set({ retries: v }, 'retries') : unset('retries', 'retries'))} />
      <div className="hint">after a network error, a timeout, a 429 or a 5xx, with growing backoff</div>
      <TextField label="Save the result as variable" field="save_as" value={n.save_as} mono problems={probs} onChange={(v) => (v ? set({ save_as: v }, 'save_as') : unset('save_as', 'save_as'))} />
      <div className="hint">{'{status, json, text}'}: e.g. vars.{n.save_as || 'result'}.json.status</div>
      {p.exit('next', 'next (a 2xx answer)')}
      {p.exit('on_error', 'on_error (anything else)')}
      <TryPanel n={n} />
    </>
  );
}

/** TryPanel makes the node's request once with sample variables. */
function TryPanel({ n }: { n: FlowNode }) {
  const [vars, setVars] = useState('{}');
  const [busy, setBusy] = useState(false);
  const [res, setRes] = useState<TryResult | null>(null);
  const [err, setErr] = useState('');
  const run = async () => {
    setBusy(true);
    setErr('');
    setRes(null);
    try {
      let sample: Json = {};
      try {
        sample = JSON.parse(vars || '{}') as Json;
      } catch {
        throw new Error('the sample variables are not JSON');
      }
      setRes(await post<TryResult>('/flows/try-http', { node: n, vars: sample, contact: { wa_id: '15551234567', name: 'Alex' } }));
    } catch (e) {
      setErr(e instanceof ApiError || e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="subsection" data-testid="http-try">
      <div className="field-label">
        <span>Try it (one real call with sample values)</span>
      </div>
      <textarea className="mono" rows={2} value={vars} onChange={(e) => setVars(e.target.value)} placeholder='{"order_id": "A-17"}' data-testid="http-try-vars" />
      <button type="button" className="small" onClick={run} disabled={busy} data-testid="http-try-run">
        {busy ? 'Calling…' : 'Try'}
      </button>
      {err && <div className="hint error">{err}</div>}
      {res && (
        <div className="try-result" data-testid="http-try-result">
          <div className="mono">
            {res.call.method} {res.call.url} → {res.call.error ? res.call.error : res.call.status} ({res.call.duration_ms} ms) — {res.ok ? 'next' : 'on_error'}
          </div>
          <pre className="mono">{JSON.stringify(res.saved, null, 2).slice(0, 4000)}</pre>
          {res.problems?.map((x, i) => (
            <div key={i} className="hint warning">
              {x}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
