import type { Firing } from './api';
import { formatZoned } from './model';

export function FiringStatusBadge({ f }: { f: Firing }) {
  const cls = f.status === 'done' ? 'published' : f.status === 'failed' || f.status === 'missed' ? 'failed' : f.status === 'cancelled' ? '' : 'changed';
  return (
    <span className={`badge ${cls}`} data-testid="firing-status" title={f.reason || undefined}>
      {f.status}
      {f.status === 'waiting' && f.free_at ? ` until ${formatZoned(f.free_at, f.timezone, { offset: false })}` : ''}
    </span>
  );
}
