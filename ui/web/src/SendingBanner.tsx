// SendingBanner tells everyone signed in that WhatsApp sends are paused
// (docs/delivery.md): bots' and agents' messages wait in the queue until it
// passes. It says what to do when someone must act, and lets an admin
// resume once the cause is fixed.
import { useCallback, useEffect, useState } from 'react';
import { get, post } from './api';
import { hasRole } from './session';
import type { SendingPause, User } from './types';

/** How often the banner asks whether sending is paused. */
const pollMs = 15_000;

export function SendingBanner({ user }: { user: User }) {
  const [paused, setPaused] = useState<SendingPause[]>([]);
  const load = useCallback(async () => {
    try {
      setPaused((await get<{ paused: SendingPause[] }>('/sending')).paused ?? []);
    } catch {
      /* keep what was known: the next poll tries again */
    }
  }, []);
  useEffect(() => {
    void load();
    const id = setInterval(() => void load(), pollMs);
    return () => clearInterval(id);
  }, [load]);

  if (paused.length === 0) return null;
  const admin = hasRole(user, 'admin');
  return (
    <div className="sending-banner" role="alert" data-testid="sending-banner">
      {paused.map((p) => (
        <div key={p.number} className={p.needs_action ? 'sending-pause needs-action' : 'sending-pause'}>
          <strong>
            WhatsApp sending paused{p.number ? ` for number ${p.number}` : ''} since {new Date(p.since).toLocaleTimeString()}
          </strong>{' '}
          <span title={p.reason}>(error {p.code || 'no answer'})</span>.{' '}
          {p.needs_action ? <>To do: {p.action}.</> : <>Parley resumes by itself once WhatsApp answers again.</>} Messages are kept
          and go out in order once it is over.
          {admin && (
            <button
              className="link"
              data-testid="sending-resume"
              onClick={async () => {
                await post('/sending/resume', { number: p.number });
                await load();
              }}
            >
              Resume now
            </button>
          )}
        </div>
      ))}
    </div>
  );
}
