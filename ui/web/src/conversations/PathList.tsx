// The path the bot took through a conversation: each node run with its
// label, the exit it took (or why it stopped there) and when, as the
// engine records them; for an older conversation, the nodes the
// transcript names.
import { formatTime } from '../templates/format';
import { stepOutcome, type PathStep } from './model';

export function PathList({ path, recorded }: { path: PathStep[]; recorded: boolean }) {
  if (!recorded)
    return (
      <ol className="conv-path" data-testid="conversation-path">
        {path.map((s, i) => (
          <li key={i} className="mono" data-testid="path-step">
            {s.label ? `${s.label} (${s.node})` : s.node}
          </li>
        ))}
      </ol>
    );
  return (
    <ol className="conv-steps" data-testid="conversation-path">
      {path.map((s, i) => (
        <li key={i} className={s.stop === 'failed' ? 'failed' : undefined} data-testid="path-step">
          <span className="step-node">
            {s.label ? (
              <>
                {s.label} <span className="mono muted">{s.node}</span>
              </>
            ) : (
              <span className="mono">{s.node}</span>
            )}
          </span>
          <span className={s.stop === 'failed' ? 'error' : s.exit ? 'mono' : 'muted'} data-testid="step-outcome">
            {stepOutcome(s)}
          </span>
          <span className="muted nowrap">{formatTime(s.at)}</span>
        </li>
      ))}
    </ol>
  );
}
