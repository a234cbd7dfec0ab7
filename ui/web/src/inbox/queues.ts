// Which queues a conversation may move to: those that serve its business
// number (a queue serves the numbers it lists, or every number when it
// lists none; engine/inbox/doc.go). The server refuses the others.
import type { QueueView } from './types';

/** serves reports whether queue q serves conversations on business number id. */
export function serves(q: Pick<QueueView, 'numbers'>, id: string | undefined): boolean {
  return !q.numbers?.length || !id || q.numbers.includes(id);
}

/** transferQueues are the queues a conversation on number id may be transferred to. */
export function transferQueues(queues: QueueView[], id: string | undefined): QueueView[] {
  return queues.filter((q) => serves(q, id));
}

/** OFF_NUMBER says, for the badge's title, what an off-number conversation is. */
export const OFF_NUMBER = 'Its queue does not serve the business number it is on: no agent of the queue gets it. Transfer it to a queue of its number.';
