import { describe, expect, it } from 'vitest';
import { typingNotifier } from './typing';

describe('typingNotifier', () => {
  it('tells the server at most once per interval, only when something is typed', async () => {
    let clock = 0;
    const calls: number[] = [];
    const notify = typingNotifier(async () => calls.push(clock), 10_000, () => clock);
    const steps: [number, string][] = [
      [0, ''], // nothing typed yet
      [0, 'h'],
      [1_000, 'he'],
      [9_999, 'hel'],
      [10_000, 'hell'],
      [15_000, 'hello'],
      [20_000, '   '], // only spaces
      [21_000, 'hello!'],
    ];
    for (const [t, text] of steps) {
      clock = t;
      notify(text);
    }
    await Promise.resolve();
    expect(calls).toEqual([0, 10_000, 21_000]);
  });

  it('tries again at the next keystroke after a failure', async () => {
    let clock = 0;
    let tries = 0;
    const notify = typingNotifier(
      async () => {
        tries++;
        throw new Error('offline');
      },
      10_000,
      () => clock,
    );
    notify('a');
    await new Promise((r) => setTimeout(r, 0));
    clock = 500;
    notify('ab');
    expect(tries).toBe(2);
  });
});
