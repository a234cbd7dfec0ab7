// The agents' inbox: queues with counts, "mine" / "unassigned" / all,
// one conversation whole (transcript with delivery ticks and failure
// reasons, contact, consent, tags, window countdown), a reply box that
// offers free-form only while the window is open and templates after,
// notes, canned responses, claim, transfer and resolve. New messages and
// assignments arrive live over server-sent events; EventSource reconnects
// by itself after a restart, and a "reset" reloads everything.
//
// On a phone (narrow screen) the list and the conversation take the whole
// width in turn. The keyboard reaches everything (SHORTCUTS in keys.ts,
// listed by "?"); the tab's title counts unread messages, and with the
// agent's permission a browser notification says a message arrived while
// the tab is hidden (no customer text in it: it shows on lock screens).
//
// Customer text is only ever rendered as React text: never as HTML.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, enc, get, post, put } from '../api';
import { plainError, plainSendError } from '../plainErrors';
import { typingNotifier } from './typing';
import { isTyping, neighbour, notificationText, SHORTCUTS, titleWithUnread } from './keys';
import { OFF_NUMBER, transferQueues } from './queues';
import type { AgentView, Canned, ConversationView, Entry, Item, LiveEvent, Me, QueueView, TemplateOption } from './types';
import { blank, incomplete, shapeFromCounts, type TemplateFill } from '../templates/fill';
import { TemplateFields, TemplatePreview, type FieldRenderer } from '../templates/TemplateFields';

type View = 'mine' | 'unassigned' | 'all';

export function InboxPage() {
  const [me, setMe] = useState<Me | null>(null);
  const [queues, setQueues] = useState<QueueView[]>([]);
  const [agents, setAgents] = useState<AgentView[]>([]);
  const [view, setView] = useState<View>('mine');
  const [queue, setQueue] = useState('');
  const [items, setItems] = useState<Item[]>([]);
  const [selected, setSelected] = useState('');
  const [conv, setConv] = useState<ConversationView | null>(null);
  const [live, setLive] = useState(false);
  const [error, setError] = useState('');
  const [help, setHelp] = useState(false);
  const [notify, setNotify] = useState<NotificationPermission | 'unsupported'>(() => ('Notification' in window ? Notification.permission : 'unsupported'));
  const selectedRef = useRef('');
  selectedRef.current = selected;
  const itemsRef = useRef<Item[]>([]);
  itemsRef.current = items;

  const loadLists = useCallback(async () => {
    try {
      const q = new URLSearchParams({ view });
      if (queue) q.set('queue', queue);
      const [m, qs, list, ags] = await Promise.all([
        get<Me>('/inbox/me'),
        get<{ queues: QueueView[] }>('/inbox/queues'),
        get<{ conversations: Item[] }>('/inbox/conversations?' + q.toString()),
        get<{ agents: AgentView[] }>('/inbox/agents'),
      ]);
      setMe(m);
      setQueues(qs.queues);
      setItems(list.conversations);
      setAgents(ags.agents);
    } catch (e) {
      setError(String((e as Error).message));
    }
  }, [view, queue]);

  const loadConv = useCallback(async (id: string) => {
    if (!id) {
      setConv(null);
      return;
    }
    try {
      setConv(await get<ConversationView>('/inbox/conversations/' + enc(id)));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        setSelected('');
        setConv(null);
      } else setError(String((e as Error).message));
    }
  }, []);

  useEffect(() => {
    void loadLists();
  }, [loadLists]);
  useEffect(() => {
    void loadConv(selected);
  }, [selected, loadConv]);

  // Live events: refresh what they touch, at most every 150 ms.
  const refresh = useRef({ lists: false, conv: false, timer: 0 });
  const loaders = useRef({ loadLists, loadConv });
  loaders.current = { loadLists, loadConv };
  useEffect(() => {
    const es = new EventSource('/api/v1/inbox/events');
    const schedule = () => {
      const r = refresh.current;
      if (r.timer) return;
      r.timer = window.setTimeout(() => {
        const { lists, conv } = r;
        r.lists = r.conv = false;
        r.timer = 0;
        if (lists) void loaders.current.loadLists();
        if (conv && selectedRef.current) void loaders.current.loadConv(selectedRef.current);
      }, 150);
    };
    es.onopen = () => setLive(true);
    es.onerror = () => setLive(false);
    es.onmessage = (m) => {
      let ev: LiveEvent;
      try {
        ev = JSON.parse(m.data) as LiveEvent;
      } catch {
        return;
      }
      setLive(true);
      const r = refresh.current;
      if (ev.type === 'hello') return;
      const text = notificationText(ev, selectedRef.current, document.hidden);
      if (text && 'Notification' in window && Notification.permission === 'granted') {
        try {
          new Notification('Parley inbox', { body: text, tag: ev.conversation || 'inbox' });
        } catch {
          /* some browsers allow notifications only from a service worker */
        }
      }
      r.lists = true;
      if (ev.type === 'reset' || (ev.conversation && ev.conversation === selectedRef.current)) r.conv = true;
      schedule();
    };
    return () => {
      es.close();
      window.clearTimeout(refresh.current.timer);
    };
  }, []);

  const act = async (fn: () => Promise<unknown>) => {
    setError('');
    try {
      await fn();
    } catch (e) {
      setError(e instanceof ApiError ? plainSendError(e.status, e.message) : String((e as Error).message));
    }
    await loadLists();
    await loadConv(selectedRef.current);
  };

  // The tab's title counts what waits for the agent, in another tab too.
  const unread = (me?.unread.mine ?? 0) + (me?.unread.waiting ?? 0);
  useEffect(() => {
    const before = document.title;
    document.title = titleWithUnread('Inbox · Parley', unread);
    return () => {
      document.title = before;
    };
  }, [unread]);

  // Keyboard shortcuts (keys.ts), outside the fields.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === 'Escape') {
        if (help) setHelp(false);
        else if (isTyping(e.target)) (e.target as HTMLElement).blur();
        else if (selectedRef.current) {
          setSelected('');
          window.setTimeout(() => document.querySelector<HTMLElement>('[data-testid="inbox-item"]')?.focus(), 0);
        }
        return;
      }
      if (isTyping(e.target)) return;
      const list = itemsRef.current.map((i) => i.conversation);
      switch (e.key) {
        case 'j':
        case 'k': {
          const id = neighbour(list, selectedRef.current, e.key === 'j' ? 1 : -1);
          if (id) {
            e.preventDefault();
            setSelected(id);
          }
          break;
        }
        case 'r':
        case '/':
          e.preventDefault(); // the reply box is focused on the key's release, so the key is not typed into it
          break;
        case '?':
          setHelp((h) => !h);
          break;
        case '1':
        case '2':
        case '3':
          setView((['mine', 'unassigned', 'all'] as View[])[Number(e.key) - 1]);
          break;
      }
    };
    const onKeyUp = (e: KeyboardEvent) => {
      if (e.metaKey || e.ctrlKey || e.altKey || isTyping(e.target)) return;
      if (e.key === 'r' || e.key === '/') document.querySelector<HTMLElement>('[data-testid="reply-text"], [data-testid="reply-template"]')?.focus();
    };
    window.addEventListener('keydown', onKey);
    window.addEventListener('keyup', onKeyUp);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('keyup', onKeyUp);
    };
  }, [help]);

  const counts = me?.unread;
  return (
    <div className={'inbox ' + (selected ? 'has-conv' : 'no-conv')} data-testid="inbox">
      <aside className="inbox-side">
        <div className="inbox-me">
          <span className={'live ' + (live ? 'on' : 'off')} data-testid="inbox-live" title={live ? 'live' : 'reconnecting…'}>
            {live ? '● live' : '○ reconnecting…'}
          </span>
          {me?.agent && (
            <label>
              Status{' '}
              <select
                data-testid="inbox-status"
                value={me.agent.status}
                onChange={(e) => void act(() => put('/inbox/me/status', { status: e.target.value }))}
              >
                <option value="online">online</option>
                <option value="away">away</option>
                <option value="offline">offline</option>
              </select>
            </label>
          )}
          {me?.agent && (
            <small className="muted">
              {me.agent.open}/{me.agent.capacity} open
            </small>
          )}
          <span className="spacer" />
          {notify === 'default' && (
            <button className="small" onClick={() => void Notification.requestPermission().then(setNotify)} data-testid="inbox-notify" title="Be told of new messages while this tab is in the background">
              Notify me
            </button>
          )}
          <button className="small" onClick={() => setHelp((h) => !h)} aria-expanded={help} data-testid="inbox-shortcuts-toggle" title="Keyboard shortcuts (?)">
            ⌨ ?
          </button>
        </div>
        {help && (
          <div className="inbox-shortcuts" role="dialog" aria-label="Keyboard shortcuts" data-testid="inbox-shortcuts">
            <strong>Keyboard shortcuts</strong>
            <dl>
              {SHORTCUTS.map(([k, what]) => (
                <div key={k}>
                  <dt>
                    <kbd>{k}</kbd>
                  </dt>
                  <dd>{what}</dd>
                </div>
              ))}
            </dl>
          </div>
        )}
        <div className="tabs inbox-tabs">
          {(['mine', 'unassigned', 'all'] as View[]).map((v) => (
            <button key={v} className={view === v ? 'active' : ''} data-testid={'inbox-view-' + v} onClick={() => setView(v)}>
              {v === 'mine' ? 'Mine' : v === 'unassigned' ? 'Unassigned' : 'All'}
              {v === 'mine' && counts && counts.mine > 0 && <span className="badge">{counts.mine}</span>}
              {v === 'unassigned' && counts && counts.waiting > 0 && <span className="badge">{counts.waiting}</span>}
            </button>
          ))}
        </div>
        <ul className="inbox-queues" data-testid="inbox-queues">
          <li className={queue === '' ? 'active' : ''} onClick={() => setQueue('')} {...pressable(() => setQueue(''))}>
            All queues
          </li>
          {queues.map((q) => (
            <li key={q.id} className={queue === q.id ? 'active' : ''} onClick={() => setQueue(q.id)} {...pressable(() => setQueue(q.id))} data-testid={'queue-' + q.id}>
              {q.name || q.id} <small className="muted">{q.open ? '' : '(closed) '}</small>
              <span className="pill">{q.waiting} waiting</span> <span className="pill">{q.assigned} open</span>
              {!!q.off_number && (
                <>
                  {' '}
                  <span className="badge changed" title={OFF_NUMBER} data-testid="queue-off-number">
                    {q.off_number} on other numbers
                  </span>
                </>
              )}
            </li>
          ))}
        </ul>
        <ul className="inbox-list" data-testid="inbox-list">
          {items.length === 0 && <li className="muted">Nothing here.</li>}
          {items.map((it) => (
            <li
              key={it.conversation}
              data-testid="inbox-item"
              data-conv={it.conversation}
              className={(selected === it.conversation ? 'active ' : '') + (it.assignee ? '' : 'waiting')}
              onClick={() => setSelected(it.conversation)}
              {...pressable(() => setSelected(it.conversation))}
              aria-current={selected === it.conversation ? 'true' : undefined}
              aria-label={`${it.name || it.contact}${it.unread > 0 ? `, ${it.unread} unread` : ''}`}
            >
              <div className="row">
                <strong>{it.name || it.contact}</strong>
                <span className="spacer" />
                {it.unread > 0 && (
                  <span className="badge" data-testid="inbox-unread">
                    {it.unread}
                  </span>
                )}
              </div>
              <div className="muted small">
                {it.queue}
                {it.priority ? ` · priority ${it.priority}` : ''} · {it.assignee ? it.assignee : 'waiting'}
                {it.off_number && (
                  <>
                    {' '}
                    <span className="badge changed" title={OFF_NUMBER} data-testid="inbox-off-number">
                      other number
                    </span>
                  </>
                )}
              </div>
              {it.preview && <div className="preview">{it.preview}</div>}
            </li>
          ))}
        </ul>
      </aside>
      <section className="inbox-main">
        {error && (
          <div className="error" data-testid="inbox-error">
            {error}
          </div>
        )}
        {conv ? (
          <ConversationPane conv={conv} me={me} agents={agents} queues={queues} act={act} onBack={() => setSelected('')} />
        ) : (
          <div className="empty">Pick a conversation (j and k move through them; ? lists the keys).</div>
        )}
      </section>
    </div>
  );
}

function ConversationPane(props: {
  conv: ConversationView;
  me: Me | null;
  agents: AgentView[];
  queues: QueueView[];
  act: (fn: () => Promise<unknown>) => Promise<void>;
  onBack: () => void;
}) {
  const { conv, me, agents, queues, act, onBack } = props;
  const id = conv.conversation.id;
  const base = '/inbox/conversations/' + enc(id);
  const handedOff = conv.conversation.status === 'agent';
  const mine = conv.inbox?.assignee === me?.email;
  const [outcome, setOutcome] = useState('');
  const [note, setNote] = useState('');
  const [tags, setTags] = useState(conv.contact.tags.join(', '));
  const [tq, setTq] = useState('');
  const [ta, setTa] = useState('');
  useEffect(() => {
    setTags(conv.contact.tags.join(', '));
  }, [conv.contact.tags]);
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [conv.transcript.length]);

  return (
    <div className="inbox-conv" data-testid="inbox-conv" data-conv={id}>
      <header className="inbox-conv-head">
        <button className="small inbox-back" onClick={onBack} data-testid="inbox-back" aria-label="Back to the conversations">
          ←
        </button>
        <div className="inbox-conv-title">
          <h2 data-testid="conv-name">{conv.contact.name || conv.contact.key}</h2>
          <div className="muted small">
            {conv.contact.wa_id && <>+{conv.contact.wa_id} · </>}
            {conv.number && (
              <>
                on{' '}
                <span data-testid="conv-number">
                  {conv.number.display_phone_number ? '+' + conv.number.display_phone_number : conv.number.phone_number_id}
                </span>{' '}
                ·{' '}
              </>
            )}
            flow {conv.conversation.flow} · <span data-testid="conv-status">{conv.conversation.status}</span>
            {conv.inbox && <> · queue {conv.inbox.queue} · {conv.inbox.assignee ? 'with ' + conv.inbox.assignee : 'waiting'}</>}
            {conv.inbox?.off_number && (
              <>
                {' '}
                <span className="badge changed" title={OFF_NUMBER} data-testid="conv-off-number">
                  queue of another number
                </span>
              </>
            )}
            {conv.conversation.outcome && <> · outcome {conv.conversation.outcome}</>}
          </div>
          {conv.inbox?.note && (
            <div className="note" data-testid="conv-note">
              {conv.inbox.note}
            </div>
          )}
        </div>
        <span className="spacer" />
        <Countdown window={conv.window} />
      </header>
      <div className="inbox-body">
        <div className="inbox-transcript" data-testid="inbox-transcript">
          {conv.transcript.map((m) => (
            <Bubble key={m.seq} m={m} mediaURL={'/api/v1' + base + '/media/' + m.seq} />
          ))}
          <div ref={end} />
        </div>
        <aside className="inbox-contact" data-testid="inbox-contact">
          <h3>Contact</h3>
          <div className="small">
            Consent:{' '}
            <span data-testid="contact-consent">
              {conv.contact.opted_out ? 'opted out' : conv.contact.opted_in ? 'opted in' : 'no opt-in'}
              {conv.contact.marketing_opt_out ? ', no marketing' : ''}
            </span>
          </div>
          <label className="small">
            Tags
            <input data-testid="contact-tags" value={tags} onChange={(e) => setTags(e.target.value)} disabled={!handedOff} />
          </label>
          <button
            disabled={!handedOff}
            data-testid="contact-tags-save"
            onClick={() => void act(() => put(base + '/tags', { tags: tags.split(',').map((t) => t.trim()).filter(Boolean) }))}
          >
            Save tags
          </button>
          {handedOff && (
            <>
              <h3>Actions</h3>
              {!conv.inbox?.assignee && (
                <button data-testid="conv-claim" onClick={() => void act(() => post(base + '/claim'))}>
                  Claim
                </button>
              )}
              <div className="transfer">
                <select data-testid="transfer-queue" value={tq} onChange={(e) => setTq(e.target.value)}>
                  <option value="">same queue</option>
                  {transferQueues(queues, conv.inbox?.phone_number_id).map((q) => (
                    <option key={q.id} value={q.id}>
                      {q.name || q.id}
                    </option>
                  ))}
                </select>
                <select data-testid="transfer-agent" value={ta} onChange={(e) => setTa(e.target.value)}>
                  <option value="">any agent</option>
                  {agents.map((a) => (
                    <option key={a.email} value={a.email}>
                      {a.name || a.email} ({a.status})
                    </option>
                  ))}
                </select>
                <button
                  data-testid="transfer-go"
                  disabled={!tq && !ta}
                  onClick={() => void act(() => post(base + '/transfer', { queue: tq, agent: ta }))}
                >
                  Transfer
                </button>
              </div>
              <div className="resolve">
                <input data-testid="resolve-outcome" placeholder="outcome (optional)" value={outcome} onChange={(e) => setOutcome(e.target.value)} />
                <button data-testid="resolve-go" onClick={() => void act(() => post(base + '/resolve', { outcome }))}>
                  Resolve → back to the bot
                </button>
              </div>
            </>
          )}
        </aside>
      </div>
      {handedOff && (
        <footer className="inbox-reply">
          <ReplyBox conv={conv} base={base} act={act} disabled={!mine && !me?.admin && !!conv.inbox?.assignee} />
          <div className="inbox-note-box">
            <textarea data-testid="note-text" placeholder="Internal note (the customer never sees it)" value={note} onChange={(e) => setNote(e.target.value)} />
            <button
              data-testid="note-add"
              disabled={!note.trim()}
              onClick={() =>
                void act(async () => {
                  await post(base + '/notes', { text: note });
                  setNote('');
                })
              }
            >
              Add note
            </button>
          </div>
        </footer>
      )}
    </div>
  );
}

/** ReplyBox: free-form (with canned responses) inside the window; a template picker outside. */
function ReplyBox(props: { conv: ConversationView; base: string; act: (fn: () => Promise<unknown>) => Promise<void>; disabled: boolean }) {
  const { conv, base, act, disabled } = props;
  const [text, setText] = useState('');
  const [canned, setCanned] = useState<Canned[]>([]);
  const [templates, setTemplates] = useState<TemplateOption[]>([]);
  const [tpl, setTpl] = useState('');
  // A field per part the chosen template takes (templates/TemplateFields).
  const [fill, setFill] = useState<TemplateFill>({});
  const freeform = conv.reply.freeform;
  const sendText = () =>
    void act(async () => {
      await post(base + '/reply', { text });
      setText('');
    });
  // While the agent types, the customer sees "typing…" (the server sends it
  // at most every few seconds, only while the window is open).
  const typing = useMemo(() => typingNotifier(() => post(base + '/typing')), [base]);
  useEffect(() => {
    const q = conv.inbox?.queue ? '?queue=' + enc(conv.inbox.queue) : '';
    get<{ canned: Canned[] }>('/inbox/canned' + q).then((r) => setCanned(r.canned), () => setCanned([]));
    get<{ templates: TemplateOption[] }>('/inbox/templates?conversation=' + enc(conv.conversation.id)).then((r) => setTemplates(r.templates), () => setTemplates([]));
  }, [conv.inbox?.queue, conv.conversation.id, freeform]);
  const refused = templates.filter((t) => t.refused);
  const chosen = templates.find((t) => t.name + '/' + t.language === tpl);
  const shape = chosen && (chosen.shape ?? shapeFromCounts(chosen.header_params, chosen.body_params, chosen.quick_replies));
  const missing = incomplete(fill);

  if (freeform) {
    return (
      <div className="inbox-reply-box" data-testid="reply-freeform">
        {canned.length > 0 && (
          <select data-testid="reply-canned" value="" onChange={(e) => setText(canned.find((c) => c.id === e.target.value)?.text ?? text)}>
            <option value="">Canned responses…</option>
            {canned.map((c) => (
              <option key={c.id} value={c.id}>
                {c.title}
              </option>
            ))}
          </select>
        )}
        <textarea
          data-testid="reply-text"
          placeholder="Reply to the customer"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            typing(e.target.value);
          }}
          onKeyDown={(e) => {
            // Enter sends, Shift+Enter is a new line; not while an input
            // method is composing a character.
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              if (!disabled && text.trim()) sendText();
            }
          }}
          aria-label="Reply to the customer (Enter sends, Shift+Enter for a new line)"
          disabled={disabled}
        />
        <button data-testid="reply-send" disabled={disabled || !text.trim()} onClick={sendText} title="Enter">
          Send
        </button>
      </div>
    );
  }
  return (
    <div className="inbox-reply-box" data-testid="reply-templates">
      <div className="notice" data-testid="reply-closed">
        {conv.reply.reason ?? 'The 24-hour window is closed'}: pick an approved template.
      </div>
      <select
        data-testid="reply-template"
        value={tpl}
        onChange={(e) => {
          setTpl(e.target.value);
          const t = templates.find((x) => x.name + '/' + x.language === e.target.value);
          setFill(t ? blank(t.shape ?? shapeFromCounts(t.header_params, t.body_params, t.quick_replies)) : {});
        }}
      >
        <option value="">Template…</option>
        {templates.map((t) => (
          <option key={t.name + '/' + t.language} value={t.name + '/' + t.language} disabled={!!t.refused} title={t.refused}>
            {t.name} ({t.language}){t.refused ? ' — would be refused' : ''}
          </option>
        ))}
      </select>
      {refused.length > 0 && (
        <ul className="small tpl-refused" data-testid="template-refused">
          {refused.map((t) => (
            <li key={t.name + '/' + t.language} data-name={t.name}>
              <strong>{t.name}</strong> would be refused: {t.refused}
            </li>
          ))}
        </ul>
      )}
      {chosen && shape && <TemplatePreview texts={chosen.texts} shape={shape} value={fill} />}
      {chosen && shape && <TemplateFields shape={shape} value={fill} field={inboxField} onChange={setFill} />}
      <button
        data-testid="template-send"
        disabled={disabled || !chosen || missing}
        title={chosen && missing ? 'Fill in every parameter' : undefined}
        onClick={() =>
          void act(async () => {
            await post(base + '/template', { name: chosen!.name, language: chosen!.language, ...fill });
            setTpl('');
            setFill({});
          })
        }
      >
        Send template
      </button>
    </div>
  );
}

/** inboxField: a labelled input per part of a template (data-testid "template-body-0", "template-buttons-1-text"…). */
const inboxField: FieldRenderer = (label, path, value, onChange, hint) => {
  const id = 'template-' + path.replace(/\/(text|currency\/fallback_value|date_time\/fallback_value)$/, '').replace(/\//g, '-');
  return (
    <label key={path} className="template-param-field">
      <span className="muted">{label}</span>
      <input data-testid={id} aria-label={label} title={hint} value={value} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
};

const ticks: Record<string, string> = { queued: '…', sending: '…', accepted: '✓', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '✗', unknown: '?' };

function Bubble({ m, mediaURL }: { m: Entry; mediaURL: string }) {
  const who = m.sender === 'customer' ? 'customer' : m.sender.startsWith('agent:') ? m.sender.slice(6) : m.sender;
  const loc = m.inbound?.location;
  return (
    <div className={'bubble inbox-msg ' + m.direction + ' ' + (m.sender.startsWith('agent:') ? 'agent' : m.sender)} data-testid="msg" data-dir={m.direction}>
      <div className="small muted">
        {who} · {new Date(m.at).toLocaleTimeString()}
      </div>
      {!loc && !m.inbound?.media && (
        <div className="msg-text" data-testid="msg-text">
          {m.display ?? m.text}
        </div>
      )}
      {loc && (
        <a href={`https://www.openstreetmap.org/?mlat=${loc.latitude}&mlon=${loc.longitude}`} target="_blank" rel="noreferrer noopener">
          📍 {loc.name ?? `${loc.latitude}, ${loc.longitude}`}
        </a>
      )}
      {m.inbound?.media && <Media type={m.inbound.type} media={m.inbound.media} url={mediaURL} />}
      {m.direction === 'out' && m.state && (
        <div className={'small ' + (m.state === 'failed' ? 'st-failed' : m.state === 'read' ? 'read' : 'muted')} data-testid="msg-state" title={m.state}>
          {ticks[m.state] ?? m.state} {m.state}
          {m.state === 'failed' && <> — {plainError(m.error_code, m.error)}</>}
        </div>
      )}
    </div>
  );
}

/**
 * Media shows what a customer sent: pictures and stickers inline, audio and
 * video with players, anything else as a download. The server fetches it from
 * WhatsApp on demand and serves documents as attachments only.
 */
function Media({ type, media, url }: { type: string; media: NonNullable<NonNullable<Entry['inbound']>['media']>; url: string }) {
  const [failed, setFailed] = useState(false);
  const caption = media.caption && <div className="small" data-testid="msg-caption">{media.caption}</div>;
  if (!media.id || failed) {
    return (
      <div className="small muted" data-testid="msg-media">
        {type} {media.mime_type ?? ''} {failed && '(could not be fetched from WhatsApp)'}
        {caption}
      </div>
    );
  }
  let body;
  switch (type) {
    case 'image':
    case 'sticker':
      body = <img className="msg-image" src={url} alt={media.caption || type} loading="lazy" onError={() => setFailed(true)} />;
      break;
    case 'audio':
      body = <audio controls preload="none" src={url} onError={() => setFailed(true)} />;
      break;
    case 'video':
      body = <video className="msg-image" controls preload="none" src={url} onError={() => setFailed(true)} />;
      break;
    default:
      body = (
        <a href={url} download>
          📎 {media.caption || type} {media.mime_type ? `(${media.mime_type})` : ''}
        </a>
      );
  }
  return (
    <div data-testid="msg-media" data-type={type}>
      {body}
      {type !== 'document' && caption}
    </div>
  );
}

/** Countdown shows the 24-hour window ticking down, by the second. */
function Countdown({ window: w }: { window: ConversationView['window'] }) {
  const [now, setNow] = useState(Date.now());
  const [at] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const left = Math.max(0, w.remaining_seconds - Math.floor((now - at) / 1000));
  if (!w.open || left === 0) {
    return (
      <span className="pill warning" data-testid="inbox-window">
        window closed
      </span>
    );
  }
  const h = Math.floor(left / 3600);
  const mm = Math.floor((left % 3600) / 60);
  const ss = left % 60;
  return (
    <span className="pill ok" data-testid="inbox-window" title={w.expires_at}>
      window {h}h {String(mm).padStart(2, '0')}m {String(ss).padStart(2, '0')}s
    </span>
  );
}

/** pressable makes a list row reachable and pressable by keyboard: Tab to it, Enter or Space. */
function pressable(fn: () => void) {
  return {
    tabIndex: 0,
    role: 'button',
    onKeyDown: (e: React.KeyboardEvent) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        fn();
      }
    },
  };
}
