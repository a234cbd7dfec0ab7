// A phone-style preview of what the selected node sends: the bubble, its
// header and footer, and its buttons or list as WhatsApp draws them. {{ }}
// are shown as written: what they become depends on the conversation.
import type { FlowNode, Message } from '../types';

function messageOf(n: FlowNode): Message | undefined {
  switch (n.type) {
    case 'send':
    case 'handoff':
      return n.message;
    case 'wait_reply':
      return n.prompt;
  }
  return undefined;
}

export function PhonePreview({ node }: { node: FlowNode }) {
  const m = messageOf(node);
  if (!m && node.type !== 'template') return null;
  return (
    <div className="phone" data-testid="phone-preview" aria-label="Preview on a phone">
      <div className="phone-bar">WhatsApp · preview</div>
      <div className="phone-chat">
        {node.type === 'template' ? (
          <div className="bubble">
            <div className="bubble-meta">Template {node.template?.name || '(none chosen)'}</div>
            {(node.template?.body ?? []).length > 0 && <div className="muted">with {node.template!.body!.join(', ')}</div>}
          </div>
        ) : (
          m && <Bubble m={m} />
        )}
      </div>
    </div>
  );
}

function Bubble({ m }: { m: Message }) {
  const media = m.media?.link || m.media?.id;
  return (
    <>
      <div className="bubble" data-testid="phone-bubble">
        {m.header && <div className="bubble-header">{m.header}</div>}
        {media && <div className="bubble-media">[{m.type}] {media}</div>}
        {m.type === 'location' && (
          <div className="bubble-media">
            📍 {m.name || ''} {m.latitude},{m.longitude}
          </div>
        )}
        {m.type === 'contacts' && <div className="bubble-media">👤 contact card</div>}
        <div className="bubble-text">{m.text ?? m.caption ?? ''}</div>
        {m.footer && <div className="bubble-footer">{m.footer}</div>}
        {m.type === 'cta_url' && <div className="bubble-button">↗ {m.display_text}</div>}
        {m.type === 'list' && <div className="bubble-button">☰ {m.button}</div>}
      </div>
      {m.type === 'buttons' &&
        (m.buttons ?? []).map((b, i) => (
          <div key={i} className="bubble-reply" data-testid="phone-button">
            {b.title}
          </div>
        ))}
      {m.type === 'list' && (
        <div className="phone-list">
          {(m.sections ?? []).map((s, i) => (
            <div key={i}>
              {s.title && <div className="phone-list-title">{s.title}</div>}
              {s.rows.map((r, j) => (
                <div key={j} className="phone-row" data-testid="phone-row">
                  <div>{r.title}</div>
                  {r.description && <div className="muted">{r.description}</div>}
                </div>
              ))}
            </div>
          ))}
        </div>
      )}
    </>
  );
}
