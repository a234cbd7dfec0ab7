// Edits one WhatsApp message of any type, with live counters at Meta's limits.
import type { Message } from '../types';
import { NumberField, SelectField, TextArea, TextField, Problems, type FieldProblem } from './fields';
import { Limits, totalRows } from './limits';
import { fieldProblems } from './pointer';

export const MessageTypes = ['text', 'buttons', 'list', 'cta_url', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts'];

/** convertMessage changes a message's type, keeping its text where the new type has one. */
export function convertMessage(m: Message | undefined, type: string): Message {
  const text = m?.text ?? m?.caption ?? '';
  switch (type) {
    case 'text':
      return { type, text };
    case 'buttons':
      return { type, text, buttons: m?.buttons?.length ? m.buttons : [{ id: 'yes', title: 'Yes' }] };
    case 'list':
      return { type, text, button: m?.button || 'Choose', sections: m?.sections?.length ? m.sections : [{ title: '', rows: [{ id: 'one', title: 'One' }] }] };
    case 'cta_url':
      return { type, text, display_text: m?.display_text || 'Open', url: m?.url || 'https://' };
    case 'image':
    case 'video':
      return { type, media: m?.media ?? { link: 'https://' }, caption: text || undefined };
    case 'document':
      return { type, media: m?.media ?? { link: 'https://' }, caption: text || undefined, filename: m?.filename };
    case 'audio':
    case 'sticker':
      return { type, media: m?.media ?? { link: 'https://' } };
    case 'location':
      return { type, latitude: m?.latitude ?? 0, longitude: m?.longitude ?? 0, name: m?.name, address: m?.address };
    case 'contacts':
      return { type, contacts: m?.contacts ?? [{ name: { formatted_name: 'Support', first_name: 'Support' }, phones: [{ phone: '+15550000000', type: 'WORK' }] }] };
  }
  return { type };
}

/** clean drops optional fields left empty, so the document stays minimal. */
function clean(m: Message): Message {
  const c = { ...m } as Record<string, unknown>;
  for (const k of ['header', 'footer', 'caption', 'filename', 'name', 'address']) if (c[k] === '' || c[k] === undefined) delete c[k];
  if (c.preview_url === false) delete c.preview_url;
  return c as unknown as Message;
}

export interface MessageEditorProps {
  message: Message;
  /** the message's path inside the node ("message", "prompt"). */
  path: string;
  problems: FieldProblem[];
  vars: string[];
  onChange: (m: Message, key: string) => void;
}

export function MessageEditor({ message: m, path, problems, vars, onChange }: MessageEditorProps) {
  const set = (patch: Partial<Message>, key: string) => onChange(clean({ ...m, ...patch }), `${path}/${key}`);
  const f = (k: string) => `${path}/${k}`;
  const probs = fieldProblems(problems, path);
  const isInteractive = m.type === 'buttons' || m.type === 'list' || m.type === 'cta_url';
  const isMedia = ['image', 'video', 'audio', 'document', 'sticker'].includes(m.type);
  return (
    <div className="message-editor" data-testid={`message-${path}`}>
      <SelectField
        label="Message type"
        field={f('type')}
        value={m.type}
        problems={probs}
        onChange={(t) => onChange(convertMessage(m, t), f('type'))}
        options={MessageTypes.map((t) => ({ value: t, label: t }))}
      />
      {isInteractive && <TextField label="Header" field={f('header')} value={m.header} limit={Limits.header} problems={probs} onChange={(v) => set({ header: v }, 'header')} />}
      {(m.type === 'text' || isInteractive) && (
        <TextArea
          label={m.type === 'text' ? 'Text' : 'Body'}
          field={f('text')}
          value={m.text}
          limit={m.type === 'text' ? Limits.text : Limits.interactiveBody}
          vars={vars}
          problems={probs}
          rows={m.type === 'text' ? 4 : 3}
          onChange={(v) => set({ text: v }, 'text')}
        />
      )}
      {m.type === 'text' && (
        <label className="check">
          <input type="checkbox" checked={!!m.preview_url} onChange={(e) => set({ preview_url: e.target.checked }, 'preview_url')} /> Show link preview
        </label>
      )}
      {isInteractive && <TextField label="Footer" field={f('footer')} value={m.footer} limit={Limits.footer} problems={probs} onChange={(v) => set({ footer: v }, 'footer')} />}
      {m.type === 'buttons' && <ButtonsEditor m={m} path={path} problems={probs} set={set} />}
      {m.type === 'list' && <ListEditor m={m} path={path} problems={probs} set={set} />}
      {m.type === 'cta_url' && (
        <>
          <TextField label="Button text" field={f('display_text')} value={m.display_text} limit={Limits.ctaDisplay} problems={probs} onChange={(v) => set({ display_text: v }, 'display_text')} />
          <TextField label="URL" field={f('url')} value={m.url} problems={probs} onChange={(v) => set({ url: v }, 'url')} placeholder="https://…" />
        </>
      )}
      {isMedia && <MediaEditor m={m} path={path} problems={probs} set={set} vars={vars} />}
      {m.type === 'location' && (
        <>
          <NumberField label="Latitude" field={f('latitude')} value={m.latitude} min={-90} max={90} problems={probs} onChange={(v) => set({ latitude: v ?? 0 }, 'latitude')} />
          <NumberField label="Longitude" field={f('longitude')} value={m.longitude} min={-180} max={180} problems={probs} onChange={(v) => set({ longitude: v ?? 0 }, 'longitude')} />
          <TextField label="Name" field={f('name')} value={m.name} problems={probs} onChange={(v) => set({ name: v }, 'name')} />
          <TextField label="Address" field={f('address')} value={m.address} problems={probs} onChange={(v) => set({ address: v }, 'address')} />
        </>
      )}
      {m.type === 'contacts' && <ContactsEditor m={m} path={path} problems={probs} set={set} />}
      <Problems list={probs.filter((p) => p.field === path)} />
    </div>
  );
}

type Setter = (patch: Partial<Message>, key: string) => void;
interface SubProps {
  m: Message;
  path: string;
  problems: FieldProblem[];
  set: Setter;
}

function ButtonsEditor({ m, path, problems, set }: SubProps) {
  const bs = m.buttons ?? [];
  const upd = (i: number, patch: Partial<{ id: string; title: string }>, key: string) =>
    set({ buttons: bs.map((b, j) => (j === i ? { ...b, ...patch } : b)) }, `buttons/${i}/${key}`);
  return (
    <div className="subsection">
      <div className="field-label">
        <span>Buttons</span>
        <span className={`counter ${bs.length > Limits.maxButtons ? 'over' : ''}`}>
          {bs.length}/{Limits.maxButtons}
        </span>
      </div>
      {bs.map((b, i) => (
        <div className="item" key={i} data-testid={`button-row-${i}`}>
          <TextField label="Id" field={`${path}/buttons/${i}/id`} value={b.id} limit={Limits.buttonId} problems={problems} mono onChange={(v) => upd(i, { id: v }, 'id')} />
          <TextField label="Title" field={`${path}/buttons/${i}/title`} value={b.title} limit={Limits.buttonTitle} problems={problems} onChange={(v) => upd(i, { title: v }, 'title')} />
          <button type="button" className="small danger" onClick={() => set({ buttons: bs.filter((_, j) => j !== i) }, 'buttons')}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" className="small" disabled={bs.length >= Limits.maxButtons} onClick={() => set({ buttons: [...bs, { id: `b${bs.length + 1}`, title: `Option ${bs.length + 1}` }] }, 'buttons')} data-testid="add-button">
        + Button
      </button>
      <Problems list={problems.filter((p) => p.field === `${path}/buttons`)} />
    </div>
  );
}

function ListEditor({ m, path, problems, set }: SubProps) {
  const secs = m.sections ?? [];
  const rows = totalRows(secs);
  const setSecs = (s: typeof secs, key: string) => set({ sections: s }, key);
  return (
    <div className="subsection">
      <TextField label="List button" field={`${path}/button`} value={m.button} limit={Limits.listButton} problems={problems} onChange={(v) => set({ button: v }, 'button')} />
      <div className="field-label">
        <span>Sections</span>
        <span className={`counter ${rows > Limits.maxRows ? 'over' : rows >= Limits.maxRows ? 'near' : 'ok'}`} data-testid="rows-counter" title="rows in all sections">
          {rows}/{Limits.maxRows} rows
        </span>
      </div>
      {secs.map((s, si) => (
        <div className="item section" key={si} data-testid={`section-${si}`}>
          <TextField
            label={`Section ${si + 1} title`}
            field={`${path}/sections/${si}/title`}
            value={s.title}
            limit={Limits.sectionTitle}
            problems={problems}
            onChange={(v) => setSecs(secs.map((x, j) => (j === si ? { ...x, title: v } : x)), `sections/${si}/title`)}
          />
          {s.rows.map((r, ri) => {
            const updRow = (patch: Partial<typeof r>, key: string) =>
              setSecs(secs.map((x, j) => (j === si ? { ...x, rows: x.rows.map((y, k) => (k === ri ? { ...y, ...patch } : y)) } : x)), `sections/${si}/rows/${ri}/${key}`);
            const rp = `${path}/sections/${si}/rows/${ri}`;
            return (
              <div className="item row-item" key={ri}>
                <TextField label="Row id" field={`${rp}/id`} value={r.id} limit={Limits.rowId} mono problems={problems} onChange={(v) => updRow({ id: v }, 'id')} />
                <TextField label="Row title" field={`${rp}/title`} value={r.title} limit={Limits.rowTitle} problems={problems} onChange={(v) => updRow({ title: v }, 'title')} />
                <TextField label="Description" field={`${rp}/description`} value={r.description} limit={Limits.rowDescription} problems={problems} onChange={(v) => updRow({ description: v || undefined }, 'description')} />
                <button type="button" className="small danger" onClick={() => setSecs(secs.map((x, j) => (j === si ? { ...x, rows: x.rows.filter((_, k) => k !== ri) } : x)), 'sections')}>
                  Remove row
                </button>
              </div>
            );
          })}
          <div className="row">
            <button
              type="button"
              className="small"
              disabled={rows >= Limits.maxRows}
              onClick={() => setSecs(secs.map((x, j) => (j === si ? { ...x, rows: [...x.rows, { id: `row${rows + 1}`, title: `Row ${rows + 1}` }] } : x)), 'sections')}
              data-testid={`add-row-${si}`}
            >
              + Row
            </button>
            <button type="button" className="small danger" onClick={() => setSecs(secs.filter((_, j) => j !== si), 'sections')}>
              Remove section
            </button>
          </div>
        </div>
      ))}
      <button
        type="button"
        className="small"
        disabled={secs.length >= Limits.maxSections || rows >= Limits.maxRows}
        onClick={() => setSecs([...secs, { title: `Section ${secs.length + 1}`, rows: [{ id: `row${rows + 1}`, title: `Row ${rows + 1}` }] }], 'sections')}
        data-testid="add-section"
      >
        + Section
      </button>
    </div>
  );
}

function MediaEditor({ m, path, problems, set, vars }: SubProps & { vars: string[] }) {
  const byId = m.media?.id !== undefined;
  return (
    <div className="subsection">
      <div className="row">
        <label className="check">
          <input type="radio" checked={!byId} onChange={() => set({ media: { link: m.media?.link ?? 'https://' } }, 'media')} /> Link
        </label>
        <label className="check">
          <input type="radio" checked={byId} onChange={() => set({ media: { id: m.media?.id ?? '' } }, 'media')} /> Uploaded media id
        </label>
      </div>
      {byId ? (
        <TextField label="Media id" field={`${path}/media/id`} value={m.media?.id} mono problems={problems} onChange={(v) => set({ media: { id: v } }, 'media')} />
      ) : (
        <TextField label="Link" field={`${path}/media/link`} value={m.media?.link} problems={problems} onChange={(v) => set({ media: { link: v } }, 'media')} placeholder="https://…" />
      )}
      {(m.type === 'image' || m.type === 'video' || m.type === 'document') && (
        <TextArea label="Caption" field={`${path}/caption`} value={m.caption} limit={Limits.caption} vars={vars} rows={2} problems={problems} onChange={(v) => set({ caption: v }, 'caption')} />
      )}
      {m.type === 'document' && <TextField label="File name" field={`${path}/filename`} value={m.filename} problems={problems} onChange={(v) => set({ filename: v }, 'filename')} />}
    </div>
  );
}

function ContactsEditor({ m, path, problems, set }: SubProps) {
  const text = JSON.stringify(m.contacts ?? [], null, 2);
  return (
    <div className="field">
      <div className="field-label">
        <span>Contacts (Cloud API contact objects, JSON)</span>
      </div>
      <textarea
        className="mono"
        rows={6}
        defaultValue={text}
        data-field={`${path}/contacts`}
        onBlur={(e) => {
          try {
            const v = JSON.parse(e.target.value);
            if (Array.isArray(v)) set({ contacts: v }, 'contacts');
          } catch {
            /* kept as typed until it parses */
          }
        }}
      />
      <Problems list={problems.filter((p) => p.field.startsWith(`${path}/contacts`))} />
    </div>
  );
}
