import type { TemplateShape } from '../templates/fill';
// The inbox API's shapes (ui/api_inbox.go, ui/inbox_sse.go).

export interface AgentView {
  email: string;
  name?: string;
  queues: string[];
  capacity: number;
  status: 'online' | 'away' | 'offline';
  open: number;
}

export interface QueueView {
  id: string;
  name?: string;
  known: boolean;
  open: boolean;
  waiting: number;
  assigned: number;
  agents_online: number;
  /** The business numbers it serves; none: every number. */
  numbers?: string[];
  /** Waiting conversations on a number it does not serve. */
  off_number?: number;
}

export interface Item {
  conversation: string;
  contact: string;
  /** The business number the conversation is on. */
  phone_number_id?: string;
  name?: string;
  queue: string;
  priority?: number;
  note?: string;
  handoff_at: string;
  assignee?: string;
  unread: number;
  last_activity_at: string;
  preview?: string;
  /** Its queue does not serve its number: no agent of the queue gets it (an admin moves it). */
  off_number?: boolean;
}

export interface Entry {
  seq: number;
  direction: 'in' | 'out' | 'note';
  sender: string;
  at: string;
  node?: string;
  /** The scripts' rendering ("text: hi", "button: [yes:Yes]"). */
  text: string;
  /** The message as a person reads it ("hi", "Yes"). */
  display?: string;
  inbound?: {
    type: string;
    text?: string;
    media?: { id?: string; mime_type?: string; caption?: string; link?: string };
    location?: { latitude: number; longitude: number; name?: string; address?: string };
  };
  state?: string;
  error_code?: number;
  error?: string;
  /** The customer edited (inbound is the new content) or deleted it. */
  edited_at?: string;
  revoked_at?: string;
}

export interface ConversationView {
  conversation: { id: string; status: string; queue?: string; assignee?: string; outcome?: string; note?: string; flow: string };
  inbox?: Item;
  contact: {
    key: string;
    name?: string;
    wa_id?: string;
    tags: string[];
    opted_in: boolean;
    opted_out: boolean;
    marketing_opt_out: boolean;
    consent: { at: string; kind: string; source?: string }[];
  };
  window: { open: boolean; expires_at?: string; remaining_seconds: number };
  /** The business number the conversation is on. */
  number?: { phone_number_id: string; display_phone_number?: string };
  reply: { freeform: boolean; template: boolean; reason?: string };
  transcript: Entry[];
}

export interface Me {
  email: string;
  name: string;
  admin: boolean;
  agent?: AgentView;
  unread: { mine: number; waiting: number };
}

export interface Canned {
  id: string;
  title: string;
  text: string;
  queue?: string;
}

export interface TemplateOption {
  name: string;
  language: string;
  category?: string;
  header_params: number;
  body_params: number;
  quick_replies: number;
  /** The template's words, variables unfilled. */
  texts?: { header?: string; body?: string; footer?: string };
  /** What a send fills, part by part (absent for a template recorded before shapes were). */
  shape?: TemplateShape;
  /** Why sending it in this conversation now would be refused (none: it may go). */
  refused?: string;
}

export interface LiveEvent {
  id?: string;
  type: string;
  conversation?: string;
  queue?: string;
  assignee?: string;
  unread?: number;
}
