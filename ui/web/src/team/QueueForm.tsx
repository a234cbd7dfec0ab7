// The queue form of the Team pages: id, name, the business numbers the
// queue serves, business hours and the closed reply. The server checks
// again and has the last word (an unknown number is a 400 naming it).
import { useState, type FormEvent } from 'react';
import * as T from './api';
import { hoursText, idProblem, parseHours, plain } from './model';
import { NumbersPicker } from './NumbersPicker';
import { Section } from './Section';

/** QueueForm adds or edits a queue; numbers are the business numbers it may serve. */
export function QueueForm({ queue, numbers, onSaved }: { queue: T.Queue | null; numbers: T.BusinessNumber[]; onSaved: (q: T.Queue) => void }) {
  const [id, setId] = useState(queue?.id ?? '');
  const [served, setServed] = useState<string[]>(queue?.numbers ?? []);
  const [name, setName] = useState(queue?.name ?? '');
  const [tz, setTz] = useState(queue?.hours?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC');
  const [hours, setHours] = useState(hoursText(queue?.hours));
  const [closed, setClosed] = useState(queue?.closed_reply ?? '');
  const [error, setError] = useState('');
  const idErr = id ? idProblem(id) : '';
  const parsed = parseHours(hours, tz);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (idProblem(id) || parsed.error) return;
    try {
      onSaved(await T.putQueue({ id, name, hours: parsed.hours, closed_reply: closed, numbers: served }));
    } catch (err) {
      setError(plain(err));
    }
  }
  return (
    <Section title={queue ? `Edit queue ${queue.id}` : 'Add a queue'} testid="queue-form">
      <form className="team-form" onSubmit={submit}>
        <label>
          Id (as the flow’s handoff names it)
          <input value={id} onChange={(e) => setId(e.target.value.trim())} disabled={!!queue} required data-testid="queue-id" />
        </label>
        {idErr && <p className="hint error">{idErr}</p>}
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} data-testid="queue-name" />
        </label>
        <NumbersPicker known={numbers} value={served} onChange={setServed} />
        <label>
          Time zone
          <input value={tz} onChange={(e) => setTz(e.target.value)} placeholder="Europe/Dublin" data-testid="queue-timezone" />
        </label>
        <label>
          Business hours, one weekday a line (empty: always open)
          <textarea rows={4} value={hours} onChange={(e) => setHours(e.target.value)} placeholder={'mon 09:00-17:30\ntue 09:00-13:00 14:00-17:30'} data-testid="queue-hours" />
        </label>
        {parsed.error && <p className="hint error" data-testid="queue-hours-error">{parsed.error}</p>}
        <label>
          Closed reply ({'{{opens}}'} becomes when the queue next opens; empty: the default)
          <textarea rows={2} value={closed} onChange={(e) => setClosed(e.target.value)} maxLength={1024} data-testid="queue-closed-reply" />
        </label>
        {error && (
          <p className="error" role="alert" data-testid="queue-form-error">
            {error}
          </p>
        )}
        <button className="primary" disabled={!id || !!idErr || !!parsed.error} data-testid="queue-save">
          Save queue
        </button>
      </form>
    </Section>
  );
}
