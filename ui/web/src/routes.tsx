// The app's pages. A page lists the roles that may open it; the nav bar
// shows only those the user may open. New pages (the agents' inbox,
// schedules) are one entry each here.
//
// Sign-in and the flows list are in the main bundle; every other page is
// its own chunk, fetched the first time it is opened (React.lazy), so that
// signing in or opening the inbox never downloads React Flow and dagre,
// which only the editor uses.
import { lazy, type ReactElement } from 'react';
import { FlowsList } from './pages/FlowsList';
import { Account } from './pages/Account';

const EditorPage = lazy(() => import('./editor/EditorPage').then((m) => ({ default: m.EditorPage })));
const InboxPage = lazy(() => import('./inbox/InboxPage').then((m) => ({ default: m.InboxPage })));
const SchedulesPage = lazy(() => import('./schedules/SchedulesPage').then((m) => ({ default: m.SchedulesPage })));
const TemplatesPage = lazy(() => import('./templates/TemplatesPage').then((m) => ({ default: m.TemplatesPage })));
const ContactsPage = lazy(() => import('./contacts/ContactsPage').then((m) => ({ default: m.ContactsPage })));
const SecretsPage = lazy(() => import('./secrets/SecretsPage').then((m) => ({ default: m.SecretsPage })));
const EventsPage = lazy(() => import('./events/EventsPage').then((m) => ({ default: m.EventsPage })));

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
  // Templates (with the numbers' limits) for analysts; contacts, whose list is an admin's, for admins.
  { path: '/templates', nav: 'Templates', roles: ['analyst'], render: () => <TemplatesPage /> },
  { path: '/contacts', nav: 'Contacts', roles: ['admin'], render: () => <ContactsPage /> },
  // Secrets flows send (http steps): admins only, as the API.
  { path: '/secrets', nav: 'Secrets', roles: ['admin'], render: () => <SecretsPage /> },
  // Event webhooks to the business's systems: admins only, as the API.
  { path: '/events', nav: 'Event webhooks', roles: ['admin'], render: () => <EventsPage /> },
  // One's own account, from the name in the top bar.
  { path: '/account', roles: ['analyst', 'agent'], render: () => <Account /> },
];
