// A phone-style preview of what the selected node sends: the bubble, its
// header and footer, and its buttons or list as WhatsApp draws them. {{ }}
// are shown as written: what they become depends on the conversation.
import { useEffect, useState } from 'react';
import type { FlowNode, Message, TemplateSummary } from '../types';
import { display, preview } from '../templates/fill';
import { shapeOf, templates } from './TemplatePicker';

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
    <div className="preview-phone" data-testid="phone-preview" aria-label="Preview on a phone">
      <div className="preview-bar">WhatsApp · preview</div>
      <div className="preview-chat">
        {node.type === 'template' ? (
          <TemplateBubble node={node} />
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
      <div className="pv-bubble" data-testid="phone-bubble">
        {m.header && <div className="pv-bubble-header">{m.header}</div>}
        {media && <div className="pv-bubble-media">[{m.type}] {media}</div>}
        {m.type === 'location' && (
          <div className="pv-bubble-media">
            📍 {m.name || ''} {m.latitude},{m.longitude}
          </div>
        )}
        {m.type === 'contacts' && <div className="pv-bubble-media">👤 contact card</div>}
        <div className="pv-bubble-text">{m.text ?? m.caption ?? ''}</div>
        {m.footer && <div className="pv-bubble-footer">{m.footer}</div>}
        {m.type === 'cta_url' && <div className="pv-bubble-button">↗ {m.display_text}</div>}
        {m.type === 'list' && <div className="pv-bubble-button">☰ {m.button}</div>}
      </div>
      {m.type === 'buttons' &&
        (m.buttons ?? []).map((b, i) => (
          <div key={i} className="pv-bubble-reply" data-testid="phone-button">
            {b.title}
          </div>
        ))}
      {m.type === 'list' && (
        <div className="preview-list">
          {(m.sections ?? []).map((s, i) => (
            <div key={i}>
              {s.title && <div className="preview-list-title">{s.title}</div>}
              {s.rows.map((r, j) => (
                <div key={j} className="preview-row" data-testid="phone-row">
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

/** TemplateBubble: the template's own text as the registry has it, its parameters filled in. */
function TemplateBubble({ node }: { node: FlowNode }) {
  const [list, setList] = useState<TemplateSummary[] | null>(null);
  useEffect(() => {
    let live = true;
    void templates().then((l) => live && setList(l));
    return () => {
      live = false;
    };
  }, []);
  const t = node.template;
  const info = t && list?.find((x) => x.name === t.name && x.language === t.language);
  if (!t || !info) {
    return (
      <div className="pv-bubble">
        <div className="pv-bubble-meta">Template {t?.name || '(none chosen)'}</div>
        {(t?.body ?? []).length > 0 && <div className="muted">with {t!.body!.map(display).join(', ')}</div>}
      </div>
    );
  }
  const { name: _n, language: _l, ...fill } = t;
  const v = preview(info.texts, shapeOf(info, t), fill);
  return (
    <>
      <div className="pv-bubble" data-testid="phone-bubble">
        <div className="pv-bubble-meta">Template {t.name}</div>
        {v.media && <div className="pv-bubble-media">[{v.media}]</div>}
        {v.header && <div className="pv-bubble-header">{v.header}</div>}
        <div className="pv-bubble-text">{v.body}</div>
        {v.footer && <div className="pv-bubble-footer">{v.footer}</div>}
      </div>
      {v.buttons.map((b, i) => (
        <div key={i} className="pv-bubble-reply" data-testid="phone-button">
          {b}
        </div>
      ))}
      {v.cards.map((c, i) => (
        <div key={`c${i}`} className="pv-bubble">
          {c.media && <div className="pv-bubble-media">[{c.media}]</div>}
          <div className="pv-bubble-text">{c.body}</div>
          {c.buttons.length > 0 && <div className="pv-bubble-footer">{c.buttons.join(' ')}</div>}
        </div>
      ))}
    </>
  );
}
