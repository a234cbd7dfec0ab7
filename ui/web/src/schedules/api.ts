import type { TemplateFill } from '../templates/fill';
// The schedules API (ui/api_schedules.go, engine/schedule/model.go) as the
// page uses it. Times are RFC 3339 strings; fire times come in the
// schedule's zone (their offset is that zone's).
import { enc, get, post, put, del } from '../api';

export type ActionKind = 'start_flow' | 'send_template';

/** A scheduled template: every part a flow's template node takes (docs/flow-format.md). */
export interface ScheduleTemplate extends TemplateFill {
  name: string;
  language: string;
}

export interface ScheduleAction {
  kind: ActionKind | string;
  flow?: string;
  template?: ScheduleTemplate;
}

/** ScheduleInput is what POST /schedules and PUT /schedules/:id take. */
export interface ScheduleInput {
  name: string;
  cron: string;
  timezone: string;
  action: ScheduleAction;
  audience?: string;
  busy?: string;
  paused?: boolean;
}

export interface Schedule extends ScheduleInput {
  id: string;
  busy: string;
  paused: boolean;
  created_at: string;
  created_by?: string;
  updated_at: string;
  updated_by?: string;
  cursor: string;
  /** the next five fire times, in the schedule's zone; none while paused. */
  next_fires: string[];
}

export type FiringStatus = 'running' | 'waiting' | 'done' | 'missed' | 'failed' | 'cancelled';

export interface Counts {
  audience: number;
  sent: number;
  skipped?: Record<string, number> | null;
  failed?: Record<string, number> | null;
}

export interface Firing {
  id: string;
  schedule: string;
  name: string;
  at: string;
  manual?: boolean;
  by?: string;
  status: FiringStatus | string;
  reason?: string;
  free_at?: string;
  claimed_at: string;
  finished_at?: string;
  action: ScheduleAction;
  audience?: string;
  busy: string;
  timezone: string;
  cursor?: string;
  counts: Counts;
  /** Frozen when the per-contact records were pruned after the retention period. */
  delivery?: Delivery;
}

export interface Delivery {
  queued: number;
  accepted: number;
  delivered: number;
  read: number;
  failed?: Record<string, number> | null;
  unknown: number;
  no_message: number;
}

export interface Report {
  firing: Firing;
  delivery: Delivery;
}

export interface Send {
  contact: string;
  outcome: 'sent' | 'skipped' | 'failed' | string;
  reason?: string;
  detail?: string;
  conversation?: string;
  seq?: number;
  reach?: boolean;
  at: string;
}

const base = '/schedules';

export const listSchedules = () => get<{ schedules: Schedule[] }>(base).then((r) => r.schedules ?? []);
export const getSchedule = (id: string) => get<Schedule>(`${base}/${enc(id)}`);
export const createSchedule = (s: ScheduleInput) => post<Schedule>(base, s);
export const updateSchedule = (id: string, s: ScheduleInput) => put<Schedule>(`${base}/${enc(id)}`, s);
export const deleteSchedule = (id: string) => del<null>(`${base}/${enc(id)}`);
export const setPaused = (id: string, paused: boolean) => post<Schedule>(`${base}/${enc(id)}/${paused ? 'pause' : 'resume'}`);
export const runNow = (id: string) => post<Firing>(`${base}/${enc(id)}/run`);
export const previewFires = (cron: string, timezone: string) =>
  post<{ next_fires: string[] }>(`${base}/preview`, { cron, timezone }).then((r) => r.next_fires ?? []);
/** How many contacts an audience expression selects now (and how many of them consent rules would skip). */
export type AudienceCount = { matching: number; total: number; no_consent: number; opted_out: number; unreachable: number };
export const countAudience = (audience: string) => post<AudienceCount>(`${base}/audience`, { audience });
export const listFirings = (id: string, limit = 50) =>
  get<{ firings: Firing[] }>(`${base}/${enc(id)}/firings?limit=${limit}`).then((r) => r.firings ?? []);
export const getReport = (id: string, firing: string) => get<Report>(`${base}/${enc(id)}/firings/${enc(firing)}`);
export const listSends = (id: string, firing: string, after = '', limit = 100) =>
  get<{ sends: Send[] }>(`${base}/${enc(id)}/firings/${enc(firing)}/sends?limit=${limit}${after ? `&after=${enc(after)}` : ''}`).then(
    (r) => r.sends ?? [],
  );
