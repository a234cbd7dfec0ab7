/**
 * How often, at most, the reply box tells the server the agent is typing:
 * WhatsApp shows "typing…" for up to 25 s, so every 10 s keeps it up.
 */
export const TYPING_EVERY_MS = 10_000;

/**
 * typingNotifier returns what the reply box calls on every keystroke: it
 * calls send when the agent has typed something, at most once per everyMs.
 * A failed send is ignored (the indicator is a nicety) and does not hold
 * the next one back.
 */
export function typingNotifier(send: () => Promise<unknown>, everyMs = TYPING_EVERY_MS, now: () => number = Date.now): (text: string) => void {
  let last = -Infinity;
  return (text: string) => {
    if (!text.trim()) return;
    const t = now();
    if (t - last < everyMs) return;
    last = t;
    send().catch(() => {
      last = -Infinity;
    });
  };
}
