// The team's REST API as the admin pages use it: users and API tokens
// (ui/auth/routes.go), agents, queues and canned responses
// (ui/api_inbox.go), and the business numbers a queue may serve
// (ui/api_numbers.go). Every call here is admin-only on the server but
// the numbers, which analysts read too.
import { del, enc, get, post, put } from '../api';

export type Role = 'admin' | 'analyst' | 'agent';
export const ROLES: Role[] = ['admin', 'analyst', 'agent'];

export interface TeamUser {
  email: string;
  name: string;
  roles: Role[];
  created_at: string;
  disabled: boolean;
}

export interface UserChange {
  name?: string;
  roles?: Role[];
  disabled?: boolean;
  password?: string;
}

export type AgentStatus = 'online' | 'away' | 'offline';

export interface Agent {
  email: string;
  name?: string;
  queues: string[];
  capacity: number;
  status: AgentStatus;
  status_at?: string;
  open?: number;
}

export interface Hours {
  timezone: string;
  open: Record<string, string[]>;
}

export interface Queue {
  id: string;
  name?: string;
  hours?: Hours;
  closed_reply?: string;
  /** The business numbers (phone number ids) it serves; none: every number. */
  numbers?: string[];
  known?: boolean;
  open?: boolean;
  waiting?: number;
  assigned?: number;
  agents_online?: number;
  /** Waiting conversations on a number the queue does not serve. */
  off_number?: number;
}

/** BusinessNumber is a number Parley serves, as GET /numbers lists it. */
export interface BusinessNumber {
  key: string;
  phone_number_id?: string;
  display_phone_number?: string;
}

export interface Canned {
  id: string;
  title: string;
  text: string;
  queue?: string;
}

export interface Token {
  id: string;
  name: string;
  email: string;
  created_at: string;
  last_used_at?: string;
  expires_at?: string;
  service: boolean;
}

export const listUsers = async () => (await get<{ users: TeamUser[] }>('/users')).users;
export const createUser = (u: { email: string; name: string; roles: Role[]; password: string }) => post<TeamUser>('/users', u);
export const updateUser = (email: string, ch: UserChange) => put<TeamUser>('/users/' + enc(email), ch);
export const deleteUser = (email: string) => del<void>('/users/' + enc(email));

export const listAgents = async () => (await get<{ agents: Agent[] }>('/inbox/agents')).agents;
export const putAgent = (a: { email: string; name?: string; queues: string[]; capacity: number; status: AgentStatus }) =>
  put<Agent>('/inbox/agents/' + enc(a.email), a);
export const setAgentStatus = (email: string, status: AgentStatus) => put<Agent>('/inbox/agents/' + enc(email) + '/status', { status });
export const deleteAgent = (email: string) => del<void>('/inbox/agents/' + enc(email));

export const listQueues = async () => (await get<{ queues: Queue[] }>('/inbox/queues')).queues;
export const putQueue = (q: { id: string; name?: string; hours?: Hours; closed_reply?: string; numbers?: string[] }) => put<Queue>('/inbox/queues/' + enc(q.id), q);
/** listNumbers lists the business numbers a queue may serve: those with a phone number id. */
export const listNumbers = async () => (await get<{ numbers: BusinessNumber[] }>('/numbers')).numbers.filter((n) => !!n.phone_number_id);
export const deleteQueue = (id: string) => del<void>('/inbox/queues/' + enc(id));

export const listCanned = async () => (await get<{ canned: Canned[] }>('/inbox/canned')).canned;
export const createCanned = (c: Omit<Canned, 'id'>) => post<Canned>('/inbox/canned', c);
export const updateCanned = (c: Canned) => put<Canned>('/inbox/canned/' + enc(c.id), c);
export const deleteCanned = (id: string) => del<void>('/inbox/canned/' + enc(id));

export const listTokens = async () => (await get<{ tokens: Token[] }>('/auth/tokens')).tokens;
export const createToken = (t: { email?: string; name: string; expires_in?: string; service?: boolean }) =>
  post<{ token: Token; secret: string }>('/auth/tokens', t);
export const revokeToken = (id: string) => del<void>('/auth/tokens/' + enc(id));
