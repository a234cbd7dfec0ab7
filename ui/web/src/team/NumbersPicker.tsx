// The queue form's "Numbers": which business numbers' conversations the
// queue serves (engine/inbox/doc.go). None chosen is every number, and
// says so; a number the queue names that Parley no longer serves is shown
// so it can be taken off (the server refuses to save it).
import type { BusinessNumber } from './api';
import { numberChoices, numbersText, toggleNumber } from './model';

export function NumbersPicker({ known, value, onChange }: { known: BusinessNumber[]; value: string[]; onChange: (v: string[]) => void }) {
  const choices = numberChoices(known, value);
  return (
    <div className="field" data-testid="queue-numbers-field">
      <span className="field-label">Numbers</span>
      <span className="numbers" role="group" aria-label="Business numbers the queue serves">
        <label className="check">
          <input type="checkbox" checked={value.length === 0} disabled={value.length === 0} onChange={() => onChange([])} data-testid="queue-numbers-all" />
          All numbers
        </label>
        {choices.map((c) => (
          <label key={c.id} className="check" title={c.id}>
            <input
              type="checkbox"
              checked={value.includes(c.id)}
              onChange={(e) => onChange(toggleNumber(value, c.id, e.target.checked))}
              data-testid="queue-number"
              data-id={c.id}
            />
            {c.label}
            {!c.served && <span className="badge changed">not served</span>}
          </label>
        ))}
      </span>
      <span className="hint" data-testid="queue-numbers-summary">
        {value.length === 0
          ? 'All numbers: the queue’s agents get conversations on every business number.'
          : `Only ${numbersText(value, known)}: the queue’s agents get and see conversations on ${value.length === 1 ? 'this number' : 'these numbers'} only; a handoff here from another number waits for an admin.`}
      </span>
    </div>
  );
}
