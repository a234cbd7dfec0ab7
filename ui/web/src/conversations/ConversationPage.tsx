// One conversation of the log, whole: where it is, the variables it
// saved, the path the bot took, and the transcript with each message's
// node, delivery and failure in words; notes (blocks, failures, agents')
// and the http calls a flow made (when the engine records them) in line.
import { useEffect, useState } from 'react';
import { ApiError, enc, get } from '../api';
import { linkProps } from '../router';
import { formatTime } from '../templates/format';
import { plainError } from '../plainErrors';
import { pathOf, who, type ConversationDetail, type TranscriptEntry } from './model';
import { PathList } from './PathList';
import './conversations.css';

export function ConversationPage({ id }: { id: string }) {
  const [d, setD] = useState<ConversationDetail | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    get<ConversationDetail>('/conversations/' + enc(id)).then(setD, (e) =>
      setError(e instanceof ApiError && e.status === 404 ? 'This conversation does not exist, or is not one you may read.' : (e as Error).message),
    );
  }, [id]);
  if (error)
    return (
      <div className="log-page">
        <a {...linkProps('/conversations')}>← Conversations</a>
        <p className="error" role="alert" data-testid="conversation-error">
          {error}
        </p>
      </div>
    );
  if (!d) return <div className="boot">Loading…</div>;
  const c = d.conversation;
  const { path, recorded } = pathOf(d);
  const vars = Object.entries(c.vars ?? {});
  return (
    <div className="log-page" data-testid="conversation">
      <div className="toolbar">
        <a {...linkProps('/conversations')} data-testid="conversation-back">
          ← Conversations
        </a>
        <h1>
          {c.contact.split(':')[1] ?? c.contact} · <span className="mono">{c.flow}</span> <span className="muted">v{c.version}</span>
        </h1>
      </div>
      <dl className="conv-facts" data-testid="conversation-facts">
        <dt>Status</dt>
        <dd>
          <span className={`badge st-${c.status}`} data-testid="conversation-status">
            {c.status}
          </span>
          {c.reason && (
            <span className="error" data-testid="conversation-reason">
              {' '}
              {c.reason}
            </span>
          )}
        </dd>
        <dt>At node</dt>
        <dd className="mono">{c.node}</dd>
        <dt>Started</dt>
        <dd>{formatTime(c.started_at)}</dd>
        <dt>Last activity</dt>
        <dd>{formatTime(c.last_activity_at)}</dd>
        {c.ended_at && (
          <>
            <dt>Ended</dt>
            <dd>{formatTime(c.ended_at)}</dd>
          </>
        )}
        {c.queue && (
          <>
            <dt>Queue</dt>
            <dd>
              {c.queue}
              {c.assignee && ` · ${c.assignee}`}
              {c.outcome && ` · outcome ${c.outcome}`}
            </dd>
          </>
        )}
        <dt>Window</dt>
        <dd>{d.window.open ? `open until ${formatTime(d.window.expires_at)}` : 'closed'}</dd>
        <dt>Business number</dt>
        <dd className="mono">{c.contact.split(':')[0]}</dd>
      </dl>
      {path.length > 0 && (
        <section>
          <h2>Path</h2>
          <p className="hint">
            {recorded
              ? 'Each node the bot ran, in order, with the exit it took or where it stopped (the last 200).'
              : 'The nodes that sent a message, in order, and where the conversation is now (recorded before steps were).'}
          </p>
          <PathList path={path} recorded={recorded} />
        </section>
      )}
      {vars.length > 0 && (
        <section>
          <h2>Variables saved</h2>
          <div className="scroll-x">
            <table className="list" data-testid="conversation-vars">
              <tbody>
                {vars.map(([k, v]) => (
                  <tr key={k}>
                    <td className="mono">{k}</td>
                    <td className="pre">{typeof v === 'string' ? v : JSON.stringify(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      <section>
        <h2>Transcript</h2>
        <ol className="conv-transcript" data-testid="conversation-transcript">
          {d.transcript.map((e) => (
            <Entry key={e.seq} e={e} />
          ))}
        </ol>
      </section>
    </div>
  );
}

function Entry({ e }: { e: TranscriptEntry }) {
  const failed = e.state === 'failed';
  return (
    <li className={`entry dir-${e.direction}${failed ? ' failed' : ''}`} data-testid="transcript-entry" data-dir={e.direction}>
      <div className="entry-head">
        <strong>{who(e)}</strong>
        {e.node && <span className="badge mono">{e.node}</span>}
        <span className="muted">{formatTime(e.at)}</span>
        {e.state && e.direction === 'out' && <span className={`state ${failed ? 'error' : 'muted'}`}>{e.state}</span>}
      </div>
      <div className="entry-text pre">{e.display || e.text}</div>
      {e.call && <HttpCall call={e.call} />}
      {failed && (
        <div className="error" data-testid="entry-error">
          {plainError(e.error_code, e.error)}
        </div>
      )}
    </li>
  );
}

function HttpCall({ call }: { call: Record<string, unknown> }) {
  const s = (k: string) => (call[k] === undefined || call[k] === null ? '' : String(call[k]));
  return (
    <div className="http-call mono" data-testid="entry-http">
      {s('method')} {s('url')} {s('status') && `→ ${s('status')}`} {s('duration_ms') && `(${s('duration_ms')} ms)`}
      {s('error') && <div className="error">{s('error')}</div>}
    </div>
  );
}
