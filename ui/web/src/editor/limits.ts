// WhatsApp's length limits on message fields, as schemas/flow.schema.json
// states them (docs/whatsapp.md §2.3, §4.5). Meta counts characters, not
// bytes or UTF-16 units: an emoji is one.

export const Limits = {
  text: 4096,
  interactiveBody: 1024,
  header: 60,
  footer: 60,
  buttonTitle: 20,
  buttonId: 256,
  maxButtons: 3,
  listButton: 20,
  sectionTitle: 24,
  rowTitle: 24,
  rowDescription: 72,
  rowId: 200,
  maxRows: 10,
  maxSections: 10,
  caption: 1024,
  ctaDisplay: 20,
} as const;

/** chars counts characters as Meta and JSON Schema do: code points. */
export function chars(s: string | undefined): number {
  if (!s) return 0;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export type CounterState = 'ok' | 'near' | 'over';

/** counter says how a field stands against its limit: near from 90 %. */
export function counter(s: string | undefined, limit: number): { n: number; state: CounterState } {
  const n = chars(s);
  return { n, state: n > limit ? 'over' : n >= Math.ceil(limit * 0.9) ? 'near' : 'ok' };
}

/** totalRows counts the rows of a list message over all its sections. */
export function totalRows(sections: { rows: unknown[] }[] | undefined): number {
  return (sections ?? []).reduce((n, s) => n + (s.rows?.length ?? 0), 0);
}
