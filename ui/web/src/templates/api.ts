// The templates and numbers APIs (ui/api_templates.go, ui/api_numbers.go)
// as the Templates page uses them. Times are RFC 3339 strings.
import { enc, get, post } from '../api';

export type Category = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';

/** Template is a template in the listing (GET /templates). */
export interface Template {
  name: string;
  language: string;
  category: string;
  status: string;
  quality?: string;
  rejected_reason?: string;
  parameter_format?: string;
  header_params: number;
  body_params: number;
  quick_replies: number;
  id?: string;
  /** known from a webhook only: not sendable until the next sync. */
  incomplete?: boolean;
  updated_at?: string;
}

/** TemplateChange is one change of status, quality or category. */
export interface TemplateChange {
  at: string;
  kind: 'status' | 'quality' | 'category' | string;
  from?: string;
  to: string;
  event?: string;
  reason?: string;
  detail?: string;
  source: string;
}

export interface TemplateDetail extends Template {
  /** The template's words as Meta shows them, variables unfilled. */
  texts?: { header?: string; body?: string; footer?: string };
  buttons: { type: string; text?: string }[];
  history: TemplateChange[];
}

/** NewTemplate is Meta's creation body (whatsapp.Template), as POST /templates takes it. */
export interface NewTemplate {
  name: string;
  language: string;
  category: string;
  parameter_format?: 'POSITIONAL' | 'NAMED';
  components: Component[];
}

export interface Component {
  type: 'HEADER' | 'BODY' | 'FOOTER' | 'BUTTONS';
  format?: 'TEXT';
  text?: string;
  example?: {
    header_text?: string[];
    body_text?: string[][];
    header_text_named_params?: { param_name: string; example: string }[];
    body_text_named_params?: { param_name: string; example: string }[];
  };
  buttons?: Button[];
}

export interface Button {
  type: 'QUICK_REPLY' | 'URL' | 'PHONE_NUMBER';
  text: string;
  url?: string;
  phone_number?: string;
}

/** NumberView is a business number with its limit and usage (engine.NumberView). */
export interface NumberView {
  key: string;
  phone_number_id?: string;
  display_phone_number?: string;
  waba_id?: string;
  tier?: string;
  tier_limit?: number;
  tier_at?: string;
  quality_event?: string;
  flagged?: boolean;
  quality_at?: string;
  restrictions?: { restriction_type: string; expiration?: string }[];
  updated_at?: string;
  /** 0: no limit. */
  limit: number;
  limit_source: string;
  pinned: boolean;
  usage: number;
  next_free_at?: string;
  restricted_until?: string;
}

export const listTemplates = () => get<{ templates: Template[] | null; synced_at?: string }>('/templates').then((r) => ({ templates: r.templates ?? [], syncedAt: r.synced_at ?? '' }));
export const getTemplate = (name: string, language: string) => get<TemplateDetail>(`/templates/${enc(name)}/${enc(language)}`);
export const createTemplate = (t: NewTemplate) => post<TemplateDetail>('/templates', t);
export const listNumbers = () => get<{ numbers: NumberView[] | null }>('/numbers').then((r) => r.numbers ?? []);
