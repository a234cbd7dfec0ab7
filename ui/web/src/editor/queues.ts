// The handoff node's queue picker: the queues the inbox knows (GET
// /inbox/handoff-queues), which of them match what is typed, and whether
// the queue chosen has anyone to answer. The server's own warning comes
// with the draft's problems after a save; this one shows as the analyst
// types.
import { get } from '../api';

/** HandoffQueue is a queue a handoff may name: created, served, or both. */
export interface HandoffQueue {
  id: string;
  name?: string;
  created: boolean;
  agents: number; // agents who serve it, whatever their status
  online: boolean; // one of them is online now
  numbers?: string[]; // the business numbers it serves; none: every number
}

let cache: Promise<HandoffQueue[]> | null = null;
/** handoffQueues loads the queues once per page (reload() forgets them); none on error. */
export function handoffQueues(reload = false): Promise<HandoffQueue[]> {
  if (!cache || reload) cache = get<{ queues: HandoffQueue[] }>('/inbox/handoff-queues').then((r) => r.queues ?? []).catch(() => []);
  return cache;
}

/**
 * matchQueues is the picker's list: those whose id or name holds the value
 * (case folded), the exact one first; every queue for an empty value or
 * one nothing holds (a typo: the queue meant is in the list).
 */
export function matchQueues(value: string, queues: HandoffQueue[]): HandoffQueue[] {
  const v = value.trim().toLowerCase();
  if (!v) return queues;
  const hits = queues.filter((q) => q.id.toLowerCase().includes(v) || (q.name ?? '').toLowerCase().includes(v));
  if (!hits.length) return queues;
  return hits.sort((a, b) => Number(b.id === value) - Number(a.id === value));
}

/**
 * forNumbers keeps the queues that serve at least one of a flow's numbers
 * (none: the flow answers on every number, and every queue serves some).
 */
export function forNumbers(queues: HandoffQueue[], numbers: string[] | undefined): HandoffQueue[] {
  if (!numbers?.length) return queues;
  return queues.filter((q) => !q.numbers?.length || numbers.some((n) => q.numbers!.includes(n)));
}

/** missingNumbers are the flow's numbers queue q does not serve (none for a flow on every number: the server checks that one). */
export function missingNumbers(q: HandoffQueue, numbers: string[] | undefined): string[] {
  if (!numbers?.length || !q.numbers?.length) return [];
  return numbers.filter((n) => !q.numbers!.includes(n));
}

/** served says who answers a queue, in a few words. */
export function served(q: HandoffQueue): string {
  if (!q.agents) return 'no agent';
  return `${q.agents} agent${q.agents === 1 ? '' : 's'}${q.online ? ', one online' : ', none online now'}`;
}

/** QueueStatus is what the picker says under the field. */
export interface QueueStatus {
  severity: 'ok' | 'warning';
  message: string;
  suggestion?: string; // a known queue the value is likely a typo of
}

/**
 * queueStatus says whether a handoff's queue has agents: nothing for an
 * empty value or before the queues are loaded; a warning for a queue that
 * leaves out some of the flow's numbers (its agents never get those
 * customers), and for a queue no agent serves, created or not (customers
 * would wait with nobody to answer), with the nearest known queue for a
 * likely typo.
 */
export function queueStatus(value: string, queues: HandoffQueue[] | null, numbers?: string[]): QueueStatus | null {
  if (!value || !queues) return null;
  const q = queues.find((x) => x.id === value);
  const missing = q ? missingNumbers(q, numbers) : [];
  if (q && missing.length) {
    const which =
      missing.length === numbers!.length
        ? 'serves none of this flow’s numbers'
        : `does not serve ${missing.join(', ')}, ${missing.length === 1 ? 'a number' : 'numbers'} this flow answers on`;
    return {
      severity: 'warning',
      message: `"${value}" ${which}: customers there would wait for an admin to move them. Pick a queue of the flow’s numbers, or add them to the queue on the Queues page.`,
    };
  }
  if (q && q.agents > 0) return { severity: 'ok', message: `Served by ${served(q)}.` };
  if (q) return { severity: 'warning', message: `No agent serves "${value}": customers would wait with nobody to answer. Add it to an agent on the Agents page.` };
  const suggestion = closest(value, queues.map((x) => x.id));
  return {
    severity: 'warning',
    message: suggestion
      ? `"${value}" is no queue and no agent serves it; did you mean "${suggestion}"?`
      : `"${value}" is a new queue: no agent serves it yet. Create it on the Queues page and give it agents before publishing.`,
    suggestion: suggestion || undefined,
  };
}

const far = 3;

/** closest is the candidate nearest to s by edit distance (a swap of neighbours is one edit) when one is near enough and alone, else "" (as the server's "did you mean"). */
export function closest(s: string, candidates: string[]): string {
  let best = '';
  let bestD = far;
  let ties = 0;
  for (const c of candidates) {
    if (c.toLowerCase() === s.toLowerCase()) return c;
    const d = editDistance(s, c);
    if (d >= far) continue;
    if (d < bestD) [best, bestD, ties] = [c, d, 0];
    else if (d === bestD) ties++;
  }
  return ties > 0 ? '' : best;
}

/** editDistance is the optimal string alignment distance, capped at far. */
function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  if (x.length > 64 || y.length > 64 || Math.abs(x.length - y.length) >= far) return far;
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return Math.min(d[x.length][y.length], far);
}
