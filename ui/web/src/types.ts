import type { TemplateFill, TemplateShape, TemplateTexts } from './templates/fill';
// The flow document (format parley/flow@1, docs/flow-format.md) as the
// editor holds it. The editor keeps every field it does not know as is:
// node objects are plain JSON, typed loosely on purpose.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Message {
  type: string;
  text?: string;
  preview_url?: boolean;
  header?: string;
  footer?: string;
  media?: { link?: string; id?: string };
  caption?: string;
  filename?: string;
  latitude?: number;
  longitude?: number;
  name?: string;
  address?: string;
  contacts?: Json[];
  buttons?: { id: string; title: string; next?: string }[];
  button?: string;
  sections?: { title?: string; rows: { id: string; title: string; description?: string; next?: string }[] }[];
  display_text?: string;
  url?: string;
}

/** A template node's template (docs/flow-format.md, "Template parameters"). */
export interface TemplateRef extends TemplateFill {
  name: string;
  language: string;
}

export interface FlowNode {
  id: string;
  type: string;
  meta?: { x?: number; y?: number; [k: string]: Json | undefined };
  message?: Message;
  prompt?: Message;
  save_as?: string;
  accept?: string;
  valid?: string;
  retry?: Message;
  max_retries?: number;
  on_invalid?: string;
  timeout?: string;
  on_timeout?: string;
  on_window_closing?: { before: string; next: string };
  cases?: { when: string; next: string; label?: string }[];
  // branch: a node id; auto_reply: {reply, next?}
  default?: string | { reply: Message; next?: string };
  template?: TemplateRef;
  on_blocked?: string;
  queue?: string;
  note?: string;
  priority?: number;
  no_agent_after?: string;
  on_no_agent?: string;
  rules?: { keywords?: string[]; pattern?: string; when?: string; reply: Message; next?: string }[];
  hours?: { timezone: string; open: Record<string, string[]>; closed_reply: Message; closed_next?: string };
  vars?: Record<string, string>;
  // http
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: Json;
  retries?: number;
  next?: string;
  on_window_closed?: string;
  on_error?: string;
}

export interface FlowDoc {
  format: string;
  id: string;
  name?: string;
  language?: string;
  start: string;
  expire_after?: string;
  reengage?: string;
  vars?: Record<string, Json>;
  triggers?: { type: string; keywords?: string[] }[];
  interrupts?: { keywords: string[]; goto: string }[];
  /** Business phone number ids whose customers the triggers answer; absent: all. */
  numbers?: string[];
  nodes: FlowNode[];
  meta?: Record<string, Json>;
}

export interface Problem {
  severity: 'error' | 'warning' | string;
  pointer: string;
  message: string;
}

export interface User {
  email: string;
  name: string;
  roles: string[];
}

export interface FlowSummary {
  id: string;
  name: string;
  status: 'draft' | 'published' | 'changed' | string;
  published_version: number;
  draft_updated_at?: string;
  draft_updated_by?: string;
  /** the draft's revision: a save sends it back as ?base= (409 when someone saved since). */
  draft_rev?: number;
  archived: boolean;
}

export interface FlowDetail extends FlowSummary {
  draft: FlowDoc | null;
}

export interface SavedFlow extends FlowSummary {
  valid: boolean;
  problems: Problem[];
}

export interface VersionSummary {
  flow: string;
  version: number;
  published_at: string;
  published_by?: string;
  note?: string;
}

export interface DiffNode {
  id: string;
  type?: string;
  label?: string;
  fields?: string[];
}

export interface FlowDiff {
  added: DiffNode[];
  removed: DiffNode[];
  changed: DiffNode[];
  flow: string[];
  layout?: boolean;
}

export interface PublishPreview {
  draft_rev: number;
  published_version: number;
  changed: boolean;
  diff: FlowDiff;
  problems: Problem[];
}

/** DraftConflictInfo is a 409's body: the draft as it is now. */
export interface DraftConflictInfo {
  error: string;
  draft_rev: number;
  draft_updated_by?: string;
  draft_updated_at: string;
}

export interface TemplateSummary {
  name: string;
  language: string;
  category: string;
  status: string;
  header_params: number;
  body_params: number;
  quick_replies: number;
  parameter_format?: string;
  /** What a send fills, part by part; absent for a template recorded before shapes were. */
  shape?: TemplateShape;
  texts?: TemplateTexts;
}

export interface ChatMessage {
  seq: number;
  dir: 'in' | 'out' | 'note';
  sender?: string;
  at?: string;
  node?: string;
  inbound?: Record<string, Json>;
  message?: Message;
  template?: TemplateRef;
  text?: string;
  state?: string;
  /** an http step's attempt, on a note */
  call?: { method: string; url: string; status: number; duration_ms: number; error?: string; attempt: number; key: string; retry?: string };
}

export interface TestChat {
  id: string;
  flow: string;
  now: string;
  status: string;
  node: string;
  vars: Record<string, Json>;
  window: { open: boolean; closes_at?: string };
  messages: ChatMessage[];
  /** how the chat's http calls are answered: made for real, or by the analyst */
  calls?: 'real' | 'hand';
  /** in a "hand" chat, the call waiting for its answer (secrets masked) */
  held_call?: HeldCall;
}

export interface HeldCall {
  node: string;
  key: string;
  attempt: number;
  retries: number;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface NodeStats {
  entered: number;
  exits: Record<string, number>;
  dropped: { ended?: number; expired?: number; failed?: number };
  sends?: { sent?: number; delivered?: number; read?: number; failed?: number };
}

export interface Analytics {
  from: string;
  to: string;
  nodes: Record<string, NodeStats>;
}

/** A pause of WhatsApp sends (GET /api/v1/sending; docs/delivery.md). */
export interface SendingPause {
  number: string; // "" for every number
  code: number;
  reason: string;
  action: string;
  needs_action: boolean;
  since: string;
  next_probe: string;
  probes: number;
}
