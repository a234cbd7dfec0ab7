// The CSV import of contacts with their consent (POST /contacts/import):
// choose a file (or paste it), check it with a dry run — every problem
// with its row, column and reason, next to the row's cells as the file has
// them — and import once the check passes. A file with any problem imports
// nothing. The file's cells are rendered as text.
import { useState } from 'react';
import { importCSV } from './api';
import { columnIndex, importView, parseCSV, type ImportView } from './model';

const maxBytes = 4 << 20; // engine.MaxImportBytes

const columnsHelp = 'phone (or wa_id) or user_id; name, language, tags (a;b), field:<name>, opted_in (true/false), opted_in_at (2026-01-05), source (web_form, sms, in_chat, api, import), purpose';

export function ImportPanel(p: { onClose: () => void; onImported: () => void }) {
  const [csv, setCsv] = useState('');
  const [fileName, setFileName] = useState('');
  const [view, setView] = useState<ImportView | null>(null);
  /** the text the last passing dry run checked: only it may be imported. */
  const [checked, setChecked] = useState<string | null>(null);
  const [busy, setBusy] = useState<'' | 'check' | 'import'>('');
  const [readErr, setReadErr] = useState('');

  function changed(text: string, name: string) {
    setCsv(text);
    setFileName(name);
    setView(null);
    setChecked(null);
  }

  async function pick(file: File | undefined) {
    setReadErr('');
    if (!file) return;
    if (file.size > maxBytes) {
      setReadErr(`${file.name} is ${(file.size / 1048576).toFixed(1)} MB; at most 4 MB per import: split it.`);
      return;
    }
    try {
      changed(await file.text(), file.name);
    } catch (e) {
      setReadErr(`${file.name} could not be read: ${(e as Error).message}`);
    }
  }

  async function run(dry: boolean) {
    setBusy(dry ? 'check' : 'import');
    const text = csv;
    try {
      const answer = await importCSV(text, dry);
      const v = importView(answer, text);
      setView(v);
      setChecked(v.kind === 'summary' && dry ? text : null);
      if (v.kind === 'summary' && !dry) p.onImported();
    } catch (e) {
      setView({ kind: 'error', message: (e as Error).message });
      setChecked(null);
    } finally {
      setBusy('');
    }
  }

  const rows = csv ? Math.max(0, parseCSV(csv).length - 1) : 0;
  const imported = view?.kind === 'summary' && !view.dryRun;
  return (
    <div className="ct-import" data-testid="import-panel">
      <div className="toolbar">
        <h2>Import contacts</h2>
        <span className="spacer" />
        <button onClick={p.onClose} data-testid="import-close">
          Close
        </button>
      </div>
      <p className="hint">
        A CSV file whose first row names the columns: {columnsHelp}. Each opt-in is recorded in the contact's consent history as imported by you. The file is checked first: a file with any problem imports
        nothing.
      </p>
      <div className="row">
        <label className="button" htmlFor="ct-import-file">
          Choose a file…
        </label>
        <input id="ct-import-file" type="file" accept=".csv,text/csv" className="visually-hidden" onChange={(e) => void pick(e.target.files?.[0])} data-testid="import-file" />
        <span className="muted" data-testid="import-file-name">
          {fileName ? `${fileName} · ${rows} row${rows === 1 ? '' : 's'}` : 'or paste the file below'}
        </span>
      </div>
      {readErr && <p className="error">{readErr}</p>}
      <textarea className="mono ct-csv" rows={6} value={csv} onChange={(e) => changed(e.target.value, '')} spellCheck={false} placeholder={'phone,name,tags,opted_in,opted_in_at,source,purpose\n+4915100000001,Ann,vip,true,2026-01-05,web_form,Order updates on WhatsApp'} data-testid="import-text" />
      <div className="row">
        <button disabled={!csv.trim() || !!busy} onClick={() => void run(true)} data-testid="import-check">
          {busy === 'check' ? 'Checking…' : 'Check (dry run)'}
        </button>
        <button className="primary" disabled={checked === null || checked !== csv || !!busy || imported} onClick={() => void run(false)} data-testid="import-run" title={checked === csv ? undefined : 'Check the file first'}>
          {busy === 'import' ? 'Importing…' : view?.kind === 'summary' && view.dryRun ? `Import ${view.result.rows} row${view.result.rows === 1 ? '' : 's'}` : 'Import'}
        </button>
      </div>
      {view && <ImportResultView view={view} />}
    </div>
  );
}

export function ImportResultView({ view }: { view: ImportView }) {
  if (view.kind === 'error')
    return (
      <p className="error" role="alert" data-testid="import-error">
        {view.message}
      </p>
    );
  if (view.kind === 'summary')
    return (
      <div className={`ct-import-summary ${view.dryRun ? 'dry' : 'done'}`} data-testid="import-summary" data-dry-run={view.dryRun}>
        <strong>{view.dryRun ? 'The file is fine.' : 'Imported.'}</strong>
        <ul>
          {view.lines.map((l) => (
            <li key={l}>{l}</li>
          ))}
        </ul>
      </div>
    );
  return (
    <div className="ct-import-problems" data-testid="import-problems">
      <p className="error" role="alert" data-testid="import-problems-summary">
        {view.message}
      </p>
      <table className="list">
        <thead>
          <tr>
            <th className="num">Row</th>
            <th>Column</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {view.rows.flatMap((r) =>
            r.problems.map((x, i) => (
              <tr key={`${r.row}-${i}`} data-testid="import-problem" data-row={r.row} data-column={x.column}>
                <td className="num" data-testid="problem-row">
                  {r.row || 'file'}
                </td>
                <td className="mono" data-testid="problem-column">
                  {x.column || '—'}
                </td>
                <td data-testid="problem-message">
                  {x.message}
                  {i === 0 && r.cells && <RowCells cells={r.cells} header={view.header} bad={r.problems.map((y) => columnIndex(view.header, y.column))} />}
                </td>
              </tr>
            )),
          )}
        </tbody>
      </table>
      {view.more > 0 && <p className="muted">…and {view.more} more problems not listed.</p>}
    </div>
  );
}

/** RowCells shows a row of the file, its bad cells marked. */
function RowCells({ cells, header, bad }: { cells: string[]; header: string[] | null; bad: number[] }) {
  return (
    <div className="ct-cells" data-testid="problem-cells">
      {cells.map((c, i) => (
        <span key={i} className={`ct-cell ${bad.includes(i) ? 'bad' : ''}`} title={header?.[i]}>
          {header?.[i] && <span className="ct-cell-col">{header[i]}</span>}
          {c === '' ? <span className="muted">(empty)</span> : c}
        </span>
      ))}
    </div>
  );
}
