// The handoff node's queue: typed, or picked from the queues the inbox
// knows that serve the flow's numbers, each with who serves it. A queue nobody created is still allowed
// (it may be created later), with a warning under the field.
import { useEffect, useState } from 'react';
import { Problems, type FieldProblem } from './fields';
import { forNumbers, handoffQueues, matchQueues, queueStatus, served, type HandoffQueue } from './queues';

/** QueuePicker offers the queues that serve the flow's numbers (numbers: the flow's; none: every number). */
export function QueuePicker(p: { value: string | undefined; numbers?: string[]; problems: FieldProblem[]; readOnly?: boolean; onChange: (v: string) => void }) {
  const [queues, setQueues] = useState<HandoffQueue[] | null>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    let live = true;
    void handoffQueues().then((l) => live && setQueues(l));
    return () => {
      live = false;
    };
  }, []);
  const value = p.value ?? '';
  const mine = p.problems.filter((x) => x.field === 'queue');
  const status = queueStatus(value, queues, p.numbers);
  // The server's warning (after a save) says the same as ours: show one,
  // but keep the suggestion's button.
  const showMessage = status && (status.severity === 'ok' || !mine.length);
  const options = queues ? matchQueues(value, forNumbers(queues, p.numbers)) : [];
  function refresh() {
    setOpen(true);
    void handoffQueues(true).then(setQueues); // agents come online and go
  }
  return (
    <div className={`field queue-picker ${mine.some((x) => x.severity === 'error') ? 'invalid' : ''}`} data-field-wrap="queue">
      <div className="field-label">
        <span>Queue</span>
      </div>
      <input
        className="mono"
        value={value}
        placeholder={queues?.length ? 'pick or type a queue' : 'queue id'}
        onChange={(e) => {
          p.onChange(e.target.value);
          setOpen(true);
        }}
        onFocus={refresh}
        onBlur={() => setOpen(false)}
        onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}
        role="combobox"
        aria-expanded={open && options.length > 0}
        aria-autocomplete="list"
        data-field="queue"
        data-testid="field-queue"
      />
      {open && !p.readOnly && options.length > 0 && (
        <ul className="queue-options" role="listbox" data-testid="queue-options">
          {options.map((q) => (
            <li key={q.id} role="option" aria-selected={q.id === value}>
              <button
                type="button"
                // Keep the focus in the field, so the list stays until the pick.
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => {
                  p.onChange(q.id);
                  setOpen(false);
                }}
                data-testid={`queue-option-${q.id}`}
              >
                <span className="mono">{q.id}</span>
                {q.name && q.name !== q.id && <span className="queue-name"> {q.name}</span>}
                <span className={`queue-served ${q.agents ? (q.online ? 'online' : '') : 'warning'}`}> · {served(q)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {status && (showMessage || status.suggestion) && (
        <div className={`hint ${status.severity === 'warning' ? 'warning' : ''}`} data-testid="queue-status">
          {showMessage && status.message}
          {status.suggestion && !p.readOnly && (
            <button type="button" className="link" onClick={() => p.onChange(status.suggestion!)} data-testid="queue-suggestion">
              Use “{status.suggestion}”
            </button>
          )}
        </div>
      )}
      <Problems list={mine} />
    </div>
  );
}
