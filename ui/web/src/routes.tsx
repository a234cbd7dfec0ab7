// The app's pages. A page lists the roles that may open it; the nav bar
// shows only those the user may open. New pages (the agents' inbox,
// schedules) are one entry each here.
import type { ReactElement } from 'react';
import { FlowsList } from './pages/FlowsList';
import { EditorPage } from './editor/EditorPage';
import { InboxPage } from './inbox/InboxPage';
import { SchedulesPage } from './schedules/SchedulesPage';

export interface Route {
  path: string;
  /** nav label; pages without one are reached by links only. */
  nav?: string;
  roles: string[];
  render: (params: Record<string, string>) => ReactElement;
}

export const routes: Route[] = [
  { path: '/flows', nav: 'Flows', roles: ['analyst'], render: () => <FlowsList /> },
  { path: '/flows/:id', roles: ['analyst'], render: (p) => <EditorPage key={p.id} flowId={p.id} /> },
  { path: '/flows/:id/versions/:n', roles: ['analyst'], render: (p) => <EditorPage key={p.id + '@' + p.n} flowId={p.id} version={Number(p.n)} /> },
  { path: '/inbox', nav: 'Inbox', roles: ['agent'], render: () => <InboxPage /> },
  { path: '/schedules', nav: 'Schedules', roles: ['analyst'], render: () => <SchedulesPage /> },
];
