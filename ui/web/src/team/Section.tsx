// A titled panel of the team pages, holding a form.
import type { ReactNode } from 'react';

export function Section({ title, children, testid }: { title: string; children: ReactNode; testid?: string }) {
  return (
    <section className="team-section" data-testid={testid}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}
