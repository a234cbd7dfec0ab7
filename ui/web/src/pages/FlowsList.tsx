import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ApiError, enc, get, post, put } from '../api';
import { download, flowJSON } from '../download';
import { emptyFlow } from '../editor/graph';
import { linkProps, navigate } from '../router';
import type { FlowDetail, FlowDoc, FlowSummary, SavedFlow } from '../types';

const idPattern = /^[a-z0-9_]{1,64}$/;

/** statusText is a flow's state for people: draft, published vN, changes unpublished. */
export function statusText(f: Pick<FlowSummary, 'status' | 'published_version'>): string {
  switch (f.status) {
    case 'draft':
      return 'draft';
    case 'published':
      return `published v${f.published_version}`;
    case 'changed':
      return `published v${f.published_version} · changes unpublished`;
  }
  return f.status;
}

export function FlowsList() {
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [error, setError] = useState('');
  const [showArchived, setShowArchived] = useState(false);
  const [dialog, setDialog] = useState<null | { kind: 'new' } | { kind: 'duplicate'; from: string } | { kind: 'import' } | { kind: 'export'; id: string; text: string }>(null);

  const load = useCallback(async () => {
    try {
      const r = await get<{ flows: FlowSummary[] }>('/flows');
      setFlows(r.flows);
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function act(fn: () => Promise<unknown>) {
    setError('');
    try {
      await fn();
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  }

  async function exportFlow(id: string) {
    const f = await get<FlowDetail>(`/flows/${enc(id)}`);
    setDialog({ kind: 'export', id, text: flowJSON(f.draft) });
  }

  const visible = (flows ?? []).filter((f) => showArchived || !f.archived);
  return (
    <div className="flows-page">
      <div className="toolbar">
        <h1>Flows</h1>
        <span className="spacer" />
        <label className="check">
          <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} data-testid="show-archived" /> Show archived
        </label>
        <button onClick={() => setDialog({ kind: 'import' })} data-testid="import-flow">
          Import JSON
        </button>
        <button className="primary" onClick={() => setDialog({ kind: 'new' })} data-testid="new-flow">
          New flow
        </button>
      </div>
      {error && <p className="error" data-testid="flows-error">{error}</p>}
      {flows === null ? (
        <p>Loading…</p>
      ) : visible.length === 0 ? (
        <p className="empty" data-testid="flows-empty">No flows yet. Create one, or import a flow's JSON.</p>
      ) : (
        <table className="list" data-testid="flows-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Id</th>
              <th>Status</th>
              <th>Last edit</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {visible.map((f) => (
              <tr key={f.id} data-testid={`flow-row-${f.id}`} className={f.archived ? 'archived' : ''}>
                <td>
                  <a {...linkProps(`/flows/${enc(f.id)}`)} data-testid={`open-flow-${f.id}`}>
                    {f.name || f.id}
                  </a>
                </td>
                <td className="mono">{f.id}</td>
                <td>
                  <span className={`badge ${f.status}`} data-testid={`flow-status-${f.id}`}>
                    {statusText(f)}
                  </span>
                  {f.archived && <span className="badge archived">archived</span>}
                </td>
                <td className="muted">
                  {f.draft_updated_at ? new Date(f.draft_updated_at).toLocaleString() : ''} {f.draft_updated_by ? `by ${f.draft_updated_by}` : ''}
                </td>
                <td className="actions">
                  <a className="button" {...linkProps(`/flows/${enc(f.id)}/analytics`)} data-testid={`analytics-${f.id}`}>
                    Analytics
                  </a>
                  <button onClick={() => setDialog({ kind: 'duplicate', from: f.id })} data-testid={`duplicate-${f.id}`}>
                    Duplicate
                  </button>
                  <button onClick={() => act(() => exportFlow(f.id))} data-testid={`export-${f.id}`}>
                    Export
                  </button>
                  <button onClick={() => act(() => post(`/flows/${enc(f.id)}/${f.archived ? 'unarchive' : 'archive'}`))} data-testid={`archive-${f.id}`}>
                    {f.archived ? 'Unarchive' : 'Archive'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {dialog?.kind === 'new' && (
        <NewFlowDialog
          title="New flow"
          taken={flows ?? []}
          onCancel={() => setDialog(null)}
          onCreate={async (id, name) => {
            await put<SavedFlow>(`/flows/${enc(id)}`, emptyFlow(id, name));
            navigate(`/flows/${enc(id)}`);
          }}
        />
      )}
      {dialog?.kind === 'duplicate' && (
        <NewFlowDialog
          title={`Duplicate ${dialog.from}`}
          taken={flows ?? []}
          initialId={dialog.from + '_copy'}
          onCancel={() => setDialog(null)}
          onCreate={async (id, name) => {
            const src = await get<FlowDetail>(`/flows/${enc(dialog.from)}`);
            const doc: FlowDoc = { ...(src.draft as FlowDoc), id, name };
            await put<SavedFlow>(`/flows/${enc(id)}`, doc);
            setDialog(null);
            await load();
          }}
        />
      )}
      {dialog?.kind === 'import' && (
        <ImportDialog
          taken={flows ?? []}
          onCancel={() => setDialog(null)}
          onImported={async (id) => {
            setDialog(null);
            await load();
            navigate(`/flows/${enc(id)}`);
          }}
        />
      )}
      {dialog?.kind === 'export' && (
        <div className="modal" role="dialog" data-testid="export-dialog">
          <div className="modal-body wide">
            <h2>Export {dialog.id}</h2>
            <textarea readOnly value={dialog.text} rows={20} className="mono" data-testid="export-json" />
            <div className="row">
              <button className="primary" onClick={() => download(`${dialog.id}.json`, dialog.text)} data-testid="export-download">
                Download
              </button>
              <button onClick={() => void navigator.clipboard?.writeText(dialog.text)}>Copy</button>
              <span className="spacer" />
              <button onClick={() => setDialog(null)} data-testid="export-close">
                Close
              </button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}

function NewFlowDialog(props: {
  title: string;
  taken: FlowSummary[];
  initialId?: string;
  onCancel: () => void;
  onCreate: (id: string, name: string) => Promise<void>;
}) {
  const [id, setId] = useState(props.initialId ?? '');
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const clash = props.taken.some((f) => f.id === id);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!idPattern.test(id)) return setError('An id is 1–64 of a–z, 0–9 and _.');
    if (clash) return setError('A flow with this id exists.');
    try {
      await props.onCreate(id, name || id);
    } catch (err) {
      setError((err as Error).message);
    }
  }
  return (
    <div className="modal" role="dialog">
      <form className="modal-body" onSubmit={submit} data-testid="new-flow-form">
        <h2>{props.title}</h2>
        <label>
          Id <small>(a–z, 0–9, _; stays the same across versions)</small>
          <input value={id} onChange={(e) => setId(e.target.value)} data-testid="new-flow-id" autoFocus required />
        </label>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} data-testid="new-flow-name" />
        </label>
        {error && <p className="error">{error}</p>}
        <div className="row">
          <button className="primary" data-testid="new-flow-create">
            Create
          </button>
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}

function ImportDialog(props: { taken: FlowSummary[]; onCancel: () => void; onImported: (id: string) => Promise<void> }) {
  const [text, setText] = useState('');
  const [asId, setAsId] = useState('');
  const [error, setError] = useState('');
  const [confirm, setConfirm] = useState(false);

  async function readFile(f: File | undefined) {
    if (f) setText(await f.text());
  }
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    let doc: FlowDoc;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      return setError('Not JSON: ' + (err as Error).message);
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return setError('A flow is a JSON object.');
    const id = asId || doc.id;
    if (!idPattern.test(id ?? '')) return setError('The flow needs an id of a–z, 0–9 and _ (give one below).');
    doc = { ...doc, id };
    if (props.taken.some((f) => f.id === id) && !confirm) {
      setConfirm(true);
      return setError(`Flow ${id} exists: import again to replace its draft (published versions stay).`);
    }
    try {
      await put<SavedFlow>(`/flows/${enc(id)}`, doc);
      await props.onImported(id);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }
  return (
    <div className="modal" role="dialog">
      <form className="modal-body wide" onSubmit={submit} data-testid="import-form">
        <h2>Import a flow</h2>
        <input type="file" accept="application/json,.json" onChange={(e) => void readFile(e.target.files?.[0])} data-testid="import-file" />
        <textarea rows={14} className="mono" placeholder="…or paste the flow's JSON" value={text} onChange={(e) => setText(e.target.value)} data-testid="import-json" />
        <label>
          Import as id <small>(blank: the document's own id)</small>
          <input value={asId} onChange={(e) => { setAsId(e.target.value); setConfirm(false); }} data-testid="import-id" />
        </label>
        {error && <p className="error" data-testid="import-error">{error}</p>}
        <div className="row">
          <button className="primary" data-testid="import-submit">
            {confirm ? 'Replace draft' : 'Import'}
          </button>
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
