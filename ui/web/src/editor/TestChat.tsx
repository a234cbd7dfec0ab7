// The test chat: a phone that talks to the flow as a sandbox customer,
// with a clock that can be moved on to test timeouts, the 24-hour window
// and expiry. Every text here is the customer's or the flow's: rendered
// as text, never as HTML.
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { del, enc, get, post } from '../api';
import type { ChatMessage, FlowDoc, HeldCall, Json, Message, TestChat } from '../types';
import { mediaOf, sizeText } from './media';
import { display } from '../templates/fill';

/** PollMs refreshes an open chat, for statuses that arrive after the answer. */
const PollMs = 1500;

export function TestChatPanel({ flowId, doc, startNode, onActive }: { flowId: string; doc: FlowDoc; startNode?: string; onActive: (id: string | undefined) => void }) {
  const [chat, setChat] = useState<TestChat | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [from, setFrom] = useState<'start' | 'selected'>('start');
  const [calls, setCalls] = useState<'real' | 'hand'>('real');
  const chatRef = useRef<TestChat | null>(null);
  chatRef.current = chat;

  useEffect(() => {
    onActive(chat && chat.status !== 'ended' ? chat.node : undefined);
  }, [chat, onActive]);

  // Close the session when the panel goes away.
  useEffect(
    () => () => {
      const c = chatRef.current;
      if (c) void del(`/test/${enc(c.id)}`).catch(() => {});
      onActive(undefined);
    },
    [onActive],
  );

  useEffect(() => {
    if (!chat) return;
    const t = setInterval(() => {
      get<TestChat>(`/test/${enc(chat.id)}`)
        .then((c) => setChat((prev) => (prev && prev.id === c.id && (prev.messages.length !== c.messages.length || JSON.stringify(prev) !== JSON.stringify(c)) ? c : prev)))
        .catch(() => {});
    }, PollMs);
    return () => clearInterval(t);
  }, [chat?.id]); // eslint-disable-line react-hooks/exhaustive-deps

  const run = useCallback(async (fn: () => Promise<TestChat | null>) => {
    setBusy(true);
    setError('');
    try {
      const c = await fn();
      if (c) setChat(c);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }, []);

  const start = () =>
    run(async () => {
      if (chat) await del(`/test/${enc(chat.id)}`).catch(() => {});
      const body: { doc: FlowDoc; node?: string; calls?: string } = { doc, calls };
      if (from === 'selected' && startNode) body.node = startNode;
      return post<TestChat>(`/flows/${enc(flowId)}/test`, body);
    });
  const reply = (body: Record<string, Json>) => chat && run(() => post<TestChat>(`/test/${enc(chat.id)}/reply`, body));
  const advance = (duration: string) => chat && run(() => post<TestChat>(`/test/${enc(chat.id)}/advance`, { duration }));
  const answer = (body: Record<string, Json>) => chat && run(() => post<TestChat>(`/test/${enc(chat.id)}/call`, body));
  const stop = () =>
    run(async () => {
      if (chat) await del(`/test/${enc(chat.id)}`).catch(() => {});
      setChat(null);
      return null;
    });

  return (
    <div className="testchat" data-testid="testchat">
      <div className="row">
        <select value={from} onChange={(e) => setFrom(e.target.value as 'start' | 'selected')} data-testid="chat-from">
          <option value="start">from the start ({doc.start || 'none'})</option>
          <option value="selected" disabled={!startNode}>
            from the selected node{startNode ? ` (${startNode})` : ''}
          </option>
        </select>
        <select value={calls} onChange={(e) => setCalls(e.target.value as 'real' | 'hand')} data-testid="chat-calls" title="How the flow's http calls are answered (from the next start)">
          <option value="real">make real calls</option>
          <option value="hand">answer calls by hand</option>
        </select>
        <button className="primary" onClick={() => void start()} disabled={busy} data-testid="chat-start">
          {chat ? 'Restart' : 'Start'}
        </button>
        {chat && (
          <button onClick={() => void stop()} data-testid="chat-stop">
            Stop
          </button>
        )}
      </div>
      {error && <p className="error" data-testid="chat-error">{error}</p>}
      {chat && (
        <>
          <div className="chat-state" data-testid="chat-state">
            <span className={`badge st-${chat.status}`} data-testid="chat-status">
              {chat.status}
            </span>
            <span>
              at <b data-testid="chat-node">{chat.node || '—'}</b>
            </span>
            <span className="muted" data-testid="chat-now" title="simulated time">
              clock {fmtTime(chat.now)}
            </span>
            <span className={chat.window.open ? 'ok' : 'warning'} data-testid="chat-window">
              window {chat.window.open ? `open until ${fmtTime(chat.window.closes_at)}` : 'closed'}
            </span>
          </div>
          <Clock onAdvance={(d) => void advance(d)} busy={busy || !!chat.held_call} />
          {chat.held_call && <HeldCallForm call={chat.held_call} busy={busy} onAnswer={(b) => void answer(b)} />}
          <Phone chat={chat} busy={busy} onReply={(b) => void reply(b)} />
          <details className="vars" open>
            <summary>Variables</summary>
            <table data-testid="chat-vars">
              <tbody>
                {Object.entries(chat.vars ?? {}).map(([k, v]) => (
                  <tr key={k}>
                    <td className="mono">{k}</td>
                    <td className="mono">{JSON.stringify(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
      {!chat && <p className="hint">Talk to this draft as a customer would, in the sandbox: nothing reaches WhatsApp. The clock is simulated: move it on to see timeouts, the window closing and expiry.</p>}
    </div>
  );
}

/** HeldCallForm shows the call waiting for the analyst's answer, as it would be sent (secrets masked), and takes the answer. */
function HeldCallForm({ call, busy, onAnswer }: { call: HeldCall; busy: boolean; onAnswer: (b: Record<string, Json>) => void }) {
  const [status, setStatus] = useState('200');
  const [body, setBody] = useState('');
  const code = Number(status);
  const valid = Number.isInteger(code) && code >= 100 && code <= 599;
  return (
    <div className="held-call" data-testid="chat-held-call">
      <div>
        <b>Answer this call</b>{' '}
        <span className="muted">
          (node <span className="mono">{call.node}</span>, attempt {call.attempt} of {call.retries + 1})
        </span>
      </div>
      <div className="mono" data-testid="held-call-request">
        {call.method} {call.url}
      </div>
      {Object.entries(call.headers ?? {}).map(([k, v]) => (
        <div key={k} className="mono small muted">
          {k}: {v}
        </div>
      ))}
      {call.body && <pre className="mono small" data-testid="held-call-body">{call.body}</pre>}
      <div className="row">
        <label>
          Status <input className="mono small-input" value={status} onChange={(e) => setStatus(e.target.value)} data-testid="held-call-status" />
        </label>
      </div>
      <textarea className="mono" rows={3} placeholder='Body, e.g. {"status": "shipped"}' value={body} onChange={(e) => setBody(e.target.value)} data-testid="held-call-answer-body" />
      <div className="row">
        <button className="primary small" disabled={busy || !valid} onClick={() => onAnswer({ status: code, body })} data-testid="held-call-answer">
          Answer {valid ? code : ''}
        </button>
        <button className="small" disabled={busy} onClick={() => onAnswer({ error: 'timeout' })} data-testid="held-call-timeout">
          Timeout
        </button>
        <button className="small" disabled={busy} onClick={() => onAnswer({ error: 'network' })} data-testid="held-call-network">
          Network error
        </button>
      </div>
    </div>
  );
}

function fmtTime(s: string | undefined): string {
  if (!s) return '';
  const d = new Date(s);
  return isNaN(d.getTime()) ? s : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function Clock({ onAdvance, busy }: { onAdvance: (d: string) => void; busy: boolean }) {
  const [custom, setCustom] = useState('30m');
  return (
    <div className="clock row" data-testid="chat-clock">
      <span className="muted">Advance clock</span>
      {['1m', '1h', '23h', '25h', '72h'].map((d) => (
        <button key={d} className="small" disabled={busy} onClick={() => onAdvance(d)} data-testid={`advance-${d}`}>
          +{d}
        </button>
      ))}
      <input className="mono small-input" value={custom} onChange={(e) => setCustom(e.target.value)} data-testid="advance-custom" />
      <button className="small" disabled={busy || !custom} onClick={() => onAdvance(custom)} data-testid="advance-go">
        Go
      </button>
    </div>
  );
}

function Phone({ chat, busy, onReply }: { chat: TestChat; busy: boolean; onReply: (b: Record<string, Json>) => void }) {
  const [text, setText] = useState('');
  const [attach, setAttach] = useState(false);
  // A file the analyst picked: described to the flow, never uploaded.
  const [file, setFile] = useState<File | null>(null);
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Block body: scrollIntoView returns a promise in recent browsers, and an effect must return nothing or a cleanup.
    void end.current?.scrollIntoView({ block: 'end' });
  }, [chat.messages.length]);
  const send = (e: FormEvent) => {
    e.preventDefault();
    if (!text) return;
    onReply({ text });
    setText('');
  };
  const last = [...chat.messages].reverse().find((m) => m.dir === 'out');
  return (
    <div className="phone" data-testid="phone">
      <div className="phone-screen" data-testid="chat-messages">
        {chat.messages.map((m) => (
          <Bubble key={m.seq} m={m} live={m === last && (chat.status === 'waiting' || chat.status === 'active')} busy={busy} onReply={onReply} />
        ))}
        <div ref={end} />
      </div>
      {attach && (
        <div className="attach" data-testid="chat-attach">
          <button className="small" onClick={() => onReply({ location: { latitude: 53.3498, longitude: -6.2603, name: 'Dublin' } })} data-testid="send-location">
            Location
          </button>
          {(['image', 'audio', 'video', 'document'] as const).map((k) => (
            <button key={k} className="small" onClick={() => onReply({ media: { kind: k, caption: text || undefined } as unknown as Json })} data-testid={`send-${k}`}>
              {k}
            </button>
          ))}
          <label className="button small" title="Send a file's description: its kind, type and name">
            File…
            <input
              type="file"
              hidden
              data-testid="chat-file"
              onChange={(e) => {
                setFile(e.target.files?.[0] ?? null);
                e.target.value = '';
              }}
            />
          </label>
          {file && (
            <div className="attach-file" data-testid="chat-file-pending">
              <span>
                [{mediaOf(file).kind}] <span className="text">{file.name}</span>{' '}
                <span className="muted">
                  ({file.type || 'unknown type'}, {sizeText(file.size)})
                </span>
              </span>
              <button
                className="small primary"
                disabled={busy}
                onClick={() => {
                  onReply({ media: mediaOf(file, text) as unknown as Json });
                  setFile(null);
                  setText('');
                }}
                data-testid="chat-file-send"
              >
                Send as {mediaOf(file).kind}
              </button>
              <button className="small" onClick={() => setFile(null)} title="Drop this file" data-testid="chat-file-drop">
                ✕
              </button>
            </div>
          )}
          <p className="hint" data-testid="chat-file-hint">
            The file itself is not uploaded: the flow gets what WhatsApp's webhook says of it — its kind, type, the caption typed below and, for a document, its name.
          </p>
        </div>
      )}
      <form className="composer" onSubmit={send}>
        <button type="button" className="small" onClick={() => setAttach(!attach)} title="Location or media" data-testid="chat-attach-toggle">
          +
        </button>
        <input value={text} onChange={(e) => setText(e.target.value)} placeholder="Type as the customer…" data-testid="chat-input" disabled={busy} />
        <button className="primary small" disabled={busy || !text} data-testid="chat-send">
          Send
        </button>
      </form>
    </div>
  );
}

function Bubble({ m, live, busy, onReply }: { m: ChatMessage; live: boolean; busy: boolean; onReply: (b: Record<string, Json>) => void }) {
  if (m.dir === 'note' && m.call) {
    const c = m.call;
    const ok = !c.error && c.status >= 200 && c.status < 300;
    return (
      <div className={`note call ${ok ? 'ok' : 'failed'}`} data-testid="chat-call" title={`Idempotency-Key ${c.key}`}>
        <span className="mono">
          {c.method} {c.url}
        </span>{' '}
        → {c.error ? c.error : c.status} · {c.duration_ms} ms{c.attempt > 1 ? ` · attempt ${c.attempt}` : ''}
        {c.retry ? ' · retrying' : ''}
      </div>
    );
  }
  if (m.dir === 'note') {
    return (
      <div className="note" data-testid="chat-note">
        {m.text}
      </div>
    );
  }
  const cls = `bubble ${m.dir}`;
  return (
    <div className={cls} data-testid={`chat-${m.dir}`} data-node={m.node ?? ''}>
      {m.dir === 'in' ? <Inbound v={m.inbound} text={m.text} /> : m.template ? <TemplateView t={m.template} live={live} busy={busy} onReply={onReply} /> : m.message ? <OutMessage msg={m.message} live={live} busy={busy} onReply={onReply} /> : <span>{m.text}</span>}
      <div className="meta">
        {m.node && <span className="mono">{m.node}</span>} {m.at && fmtTime(m.at)} {m.state && <span className={`st-${m.state}`}>{stateMark(m.state)}</span>}
      </div>
    </div>
  );
}

function stateMark(s: string): string {
  return { queued: 'queued', sent: '✓', delivered: '✓✓', read: '✓✓ read', failed: 'failed', unknown: '?' }[s] ?? s;
}

/** Inbound renders what the customer sent (a flows.Reply), whatever its shape. */
function Inbound({ v, text }: { v?: Record<string, Json>; text?: string }) {
  if (!v) return <span>{text}</span>;
  const o = v as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === 'string' ? x : '');
  if (o.location) {
    const l = o.location as Record<string, unknown>;
    return (
      <span>
        Location: {str(l.name)} {String(l.latitude)},{String(l.longitude)}
      </span>
    );
  }
  if (o.media) {
    const m = o.media as Record<string, unknown>;
    return (
      <span>
        [{str(o.type) || 'media'}] {str(m.filename) && <span className="text">{str(m.filename)} </span>}
        {str(m.caption) && <span className="text">{str(m.caption)}</span>}
        {str(m.mime_type) && <span className="muted mime"> {str(m.mime_type)}</span>}
      </span>
    );
  }
  if (o.button_id || o.list_id) return <span className="text">{str(o.title) || str(o.button_id) || str(o.list_id)}</span>;
  if (typeof o.text === 'string') return <span className="text">{o.text}</span>;
  return <span className="mono">{JSON.stringify(v)}</span>;
}

function OutMessage({ msg, live, busy, onReply }: { msg: Message; live: boolean; busy: boolean; onReply: (b: Record<string, Json>) => void }) {
  const [open, setOpen] = useState(false);
  const header = msg.header ? <div className="m-header">{msg.header}</div> : null;
  const footer = msg.footer ? <div className="m-footer">{msg.footer}</div> : null;
  switch (msg.type) {
    case 'text':
      return <span className="text">{msg.text}</span>;
    case 'buttons':
      return (
        <>
          {header}
          <span className="text">{msg.text}</span>
          {footer}
          <div className="m-buttons">
            {(msg.buttons ?? []).map((b) => (
              <button key={b.id} disabled={!live || busy} onClick={() => onReply({ button_id: b.id })} data-testid={`chat-button-${b.id}`}>
                {b.title}
              </button>
            ))}
          </div>
        </>
      );
    case 'list':
      return (
        <>
          {header}
          <span className="text">{msg.text}</span>
          {footer}
          <div className="m-buttons">
            <button disabled={!live || busy} onClick={() => setOpen(!open)} data-testid="chat-list-open">
              ≡ {msg.button}
            </button>
          </div>
          {open && live && (
            <div className="m-list">
              {(msg.sections ?? []).map((s, i) => (
                <div key={i}>
                  {s.title && <div className="m-section">{s.title}</div>}
                  {s.rows.map((r) => (
                    <button key={r.id} disabled={busy} onClick={() => onReply({ list_id: r.id })} data-testid={`chat-row-${r.id}`}>
                      <b>{r.title}</b>
                      {r.description && <small>{r.description}</small>}
                    </button>
                  ))}
                </div>
              ))}
            </div>
          )}
        </>
      );
    case 'cta_url':
      return (
        <>
          {header}
          <span className="text">{msg.text}</span>
          {footer}
          <div className="m-buttons">
            <a href={safeURL(msg.url)} target="_blank" rel="noreferrer noopener">
              {msg.display_text} →
            </a>
          </div>
        </>
      );
    case 'location':
      return (
        <span>
          Location: {msg.name} {msg.address} ({msg.latitude}, {msg.longitude})
        </span>
      );
    case 'contacts':
      return <span>[contact card]</span>;
  }
  return (
    <span>
      [{msg.type}] {msg.media?.link ?? msg.media?.id} {msg.caption && <span className="text">{msg.caption}</span>}
    </span>
  );
}

/** safeURL lets only http(s) links be followed: a flow's URL must not run script. */
export function safeURL(u: string | undefined): string | undefined {
  return u && /^https?:\/\//i.test(u) ? u : undefined;
}

function TemplateView({ t, live, busy, onReply }: { t: NonNullable<ChatMessage['template']>; live: boolean; busy: boolean; onReply: (b: Record<string, Json>) => void }) {
  const params = [...(t.header ?? []), ...(t.body ?? [])].map(display);
  // Quick replies of the template and of its carousel cards can be tapped; other buttons only show.
  const buttons = [...(t.buttons ?? []), ...(t.cards ?? []).flatMap((c) => c.buttons ?? [])];
  return (
    <div className="template-msg" data-testid="chat-template">
      <div className="m-header">
        Template <span className="mono">{t.name}</span> ({t.language})
      </div>
      {params.length > 0 && <div className="text">{params.join(' | ')}</div>}
      {t.cards && t.cards.length > 0 && <div className="text small muted">{t.cards.length} cards</div>}
      {buttons.length > 0 && (
        <div className="m-buttons">
          {buttons.map((b, i) =>
            !b.type || b.type === 'quick_reply' ? (
              <button key={i} disabled={!live || busy || !b.payload} onClick={() => onReply({ button_id: b.payload ?? '' })} data-testid={`chat-qr-${b.payload}`}>
                {b.payload}
              </button>
            ) : (
              <span key={i} className="pill" title={b.type}>
                {b.type === 'url' ? `link …${b.text ?? ''}` : `${b.type}: ${b.code ?? ''}`}
              </span>
            ),
          )}
        </div>
      )}
    </div>
  );
}
