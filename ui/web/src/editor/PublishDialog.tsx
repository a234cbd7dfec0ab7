// The publish confirmation: what changes against the published version,
// node by node, the warnings (with those only publishing gives), and an
// optional note for the history.
import { useState } from 'react';
import type { DiffNode, FlowDoc, PublishPreview } from '../types';
import { TypeLabels } from './summary';
import { fieldWords, locate } from './pointer';

function nodeName(n: DiffNode): string {
  const t = n.type ? TypeLabels[n.type] ?? n.type : 'node';
  return n.label ? `${t} “${n.label}” (${n.id})` : `${t} ${n.id}`;
}

export function PublishDialog(props: {
  doc: FlowDoc;
  preview: PublishPreview;
  busy: boolean;
  onPublish: (note: string) => void;
  onCancel: () => void;
}) {
  const { preview, doc } = props;
  const [note, setNote] = useState('');
  const d = preview.diff;
  const errors = preview.problems.filter((p) => p.severity === 'error');
  const warnings = preview.problems.filter((p) => p.severity !== 'error');
  const nothing = !preview.changed;
  const first = preview.published_version === 0;
  return (
    <div className="modal" role="dialog" aria-labelledby="publish-title" data-testid="publish-dialog">
      <form
        className="modal-body wide publish-dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (!nothing && !errors.length) props.onPublish(note.trim());
        }}
      >
        <h2 id="publish-title">{first ? 'Publish the first version?' : `Publish version ${preview.published_version + 1}?`}</h2>
        {nothing ? (
          <p data-testid="publish-unchanged">Nothing to publish: the draft is the same as version {preview.published_version}.</p>
        ) : (
          <div className="diff" data-testid="publish-diff">
            <p className="hint">{first ? 'Everything in the draft goes live.' : `Compared with version ${preview.published_version}, which runs now:`}</p>
            {d.added.length > 0 && (
              <section data-testid="diff-added">
                <h3>Added ({d.added.length})</h3>
                <ul>{d.added.map((n) => <li key={n.id} className="diff-add">+ {nodeName(n)}</li>)}</ul>
              </section>
            )}
            {d.removed.length > 0 && (
              <section data-testid="diff-removed">
                <h3>Removed ({d.removed.length})</h3>
                <ul>{d.removed.map((n) => <li key={n.id} className="diff-del">− {nodeName(n)}</li>)}</ul>
              </section>
            )}
            {d.changed.length > 0 && (
              <section data-testid="diff-changed">
                <h3>Changed ({d.changed.length})</h3>
                <ul>
                  {d.changed.map((n) => (
                    <li key={n.id} className="diff-mod">
                      ~ {nodeName(n)}: <span className="muted">{(n.fields ?? []).map((f) => fieldWords(undefined, f)).join(', ')}</span>
                    </li>
                  ))}
                </ul>
              </section>
            )}
            {d.flow.length > 0 && !first && <p data-testid="diff-flow">Flow settings changed: {d.flow.join(', ')}.</p>}
            {!d.added.length && !d.removed.length && !d.changed.length && !d.flow.length && <p data-testid="diff-layout">Only the layout or notes changed.</p>}
          </div>
        )}
        {errors.length > 0 && <p className="error">The draft has {errors.length} error(s): fix them first.</p>}
        {warnings.length > 0 && (
          <section data-testid="publish-warnings">
            <h3>Warnings ({warnings.length})</h3>
            <ul className="problems">
              {warnings.map((p, i) => {
                const loc = locate(doc, p.pointer);
                return (
                  <li key={i} className="warning">
                    <span className="where">{loc.node ?? (p.pointer || 'flow')}</span> <span className="msg">{p.message}</span>
                  </li>
                );
              })}
            </ul>
          </section>
        )}
        {!nothing && (
          <label>
            Note for the history <small>(optional: what changed and why)</small>
            <textarea value={note} maxLength={500} rows={2} onChange={(e) => setNote(e.target.value)} data-testid="publish-note" autoFocus />
          </label>
        )}
        <div className="row">
          <span className="spacer" />
          <button type="button" onClick={props.onCancel} data-close data-testid="publish-cancel">
            Cancel
          </button>
          {!nothing && (
            <button type="submit" className="primary" disabled={props.busy || errors.length > 0} data-testid="publish-confirm">
              Publish
            </button>
          )}
        </div>
      </form>
    </div>
  );
}

/** ConflictDialog asks what to do when someone else saved the draft since it was opened. */
export function ConflictDialog(props: { by?: string; at: string; onReload: () => void; onOverwrite: () => void; onCancel: () => void }) {
  const when = new Date(props.at).toLocaleTimeString();
  return (
    <div className="modal" role="alertdialog" aria-labelledby="conflict-title" data-testid="conflict-dialog">
      <div className="modal-body">
        <h2 id="conflict-title">Someone else changed this flow</h2>
        <p>
          {props.by || 'Someone'} saved the draft at {when}, after you opened it. Your last changes are not saved.
        </p>
        <p className="hint">Reload theirs to see their version (your unsaved changes are dropped), or keep yours to overwrite their changes.</p>
        <div className="row">
          <button type="button" onClick={props.onCancel} data-close>
            Cancel
          </button>
          <span className="spacer" />
          <button type="button" onClick={props.onReload} data-testid="conflict-reload">
            Reload theirs
          </button>
          <button type="button" className="danger" onClick={props.onOverwrite} data-testid="conflict-overwrite">
            Keep mine
          </button>
        </div>
      </div>
    </div>
  );
}
