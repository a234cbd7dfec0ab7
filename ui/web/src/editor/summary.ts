// One-line summaries of nodes and messages for the canvas.
import type { FlowNode, Message } from '../types';

export const TypeLabels: Record<string, string> = {
  send: 'Send',
  wait_reply: 'Wait for reply',
  branch: 'Branch',
  template: 'Template',
  handoff: 'Hand off',
  auto_reply: 'Auto reply',
  set: 'Set variables',
  http: 'Call an API',
};

export const TypeHelp: Record<string, string> = {
  send: 'Send one message',
  wait_reply: 'Ask and wait for the answer',
  branch: 'Go one way or another',
  template: 'Send an approved template (works with the window closed)',
  handoff: 'Hand the conversation to an agent',
  auto_reply: 'Answer by keywords (FAQ)',
  set: 'Set variables',
  http: "Call the business's own systems (an order lookup, a CRM)",
};

function cut(s: string, n = 60): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

export function messageSummary(m: Message | undefined): string {
  if (!m) return '';
  switch (m.type) {
    case 'text':
    case 'buttons':
    case 'list':
    case 'cta_url':
      return cut(m.text ?? '');
    case 'location':
      return `location: ${m.name ?? ''} ${m.latitude ?? ''},${m.longitude ?? ''}`;
    case 'contacts':
      return 'contact card';
  }
  return `${m.type}: ${cut(m.caption || m.media?.link || m.media?.id || '')}`;
}

export function nodeSummary(n: FlowNode): string {
  switch (n.type) {
    case 'send':
      return messageSummary(n.message);
    case 'wait_reply':
      return n.prompt ? messageSummary(n.prompt) : `waits${n.save_as ? ' → ' + n.save_as : ''}${n.timeout ? ' · ' + n.timeout : ''}`;
    case 'branch':
      return `${n.cases?.length ?? 0} case(s)`;
    case 'template':
      return n.template?.name ? `${n.template.name}/${n.template.language}` : 'no template chosen';
    case 'handoff':
      return `queue ${n.queue ?? ''}`;
    case 'auto_reply':
      return `${n.rules?.length ?? 0} rule(s)`;
    case 'set':
      return Object.keys(n.vars ?? {}).join(', ');
    case 'http':
      return `${n.method ?? 'GET'} ${cut(n.url ?? '', 48)}${n.save_as ? ' → ' + n.save_as : ''}`;
  }
  return '';
}
