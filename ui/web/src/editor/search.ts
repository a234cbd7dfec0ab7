// Finding a node by what an analyst remembers of it: its id, its label,
// its type or the words of its messages.
import type { FlowNode } from '../types';
import { nodeSummary, TypeLabels } from './summary';

export interface SearchHit {
  id: string;
  title: string;
  detail: string;
}

/** MaxHits caps the list a search shows. */
export const MaxHits = 8;

function texts(n: FlowNode): string[] {
  const out: string[] = [n.id, TypeLabels[n.type] ?? n.type];
  if (typeof n.meta?.label === 'string') out.push(n.meta.label);
  for (const m of [n.message, n.prompt, n.retry]) {
    if (!m) continue;
    out.push(m.text ?? '', m.header ?? '', m.footer ?? '', m.caption ?? '');
    for (const b of m.buttons ?? []) out.push(b.title);
    for (const s of m.sections ?? []) for (const r of s.rows) out.push(r.title, r.description ?? '');
  }
  if (n.template?.name) out.push(n.template.name);
  if (n.queue) out.push(n.queue);
  if (n.save_as) out.push(n.save_as);
  for (const c of n.cases ?? []) out.push(c.label ?? '', c.when);
  for (const r of n.rules ?? []) out.push(...(r.keywords ?? []));
  return out;
}

const fold = (s: string) =>
  s
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '');

/**
 * searchNodes finds nodes whose id, label, type or texts hold every word of
 * the query; ids and labels that start with it come first.
 */
export function searchNodes(nodes: FlowNode[], query: string): SearchHit[] {
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const scored: { hit: SearchHit; score: number }[] = [];
  nodes.forEach((n, i) => {
    const all = texts(n).map(fold);
    const hay = all.join(' \u0000 ');
    if (!words.every((w) => hay.includes(w))) return;
    const label = typeof n.meta?.label === 'string' ? n.meta.label : '';
    const q = words.join(' ');
    let score = i / 10000; // document order breaks ties
    if (fold(n.id) === q || fold(label) === q) score -= 3;
    else if (fold(n.id).startsWith(q) || fold(label).startsWith(q)) score -= 2;
    else if (fold(n.id).includes(q) || fold(label).includes(q)) score -= 1;
    scored.push({ hit: { id: n.id, title: label ? `${label} (${n.id})` : n.id, detail: `${TypeLabels[n.type] ?? n.type} · ${nodeSummary(n)}` }, score });
  });
  return scored
    .sort((a, b) => a.score - b.score)
    .slice(0, MaxHits)
    .map((s) => s.hit);
}
