import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { formatTime } from '../templates/format';
import { PathList } from './PathList';
import { pathOf, stepOutcome, type ConversationDetail, type TranscriptEntry } from './model';

const entry = (x: Partial<TranscriptEntry>): TranscriptEntry => ({ seq: 1, direction: 'out', sender: 'bot', at: '', text: '', display: '', ...x });

function detail(steps?: ConversationDetail['conversation']['steps'], labels?: Record<string, string>): ConversationDetail {
  return {
    conversation: {
      id: 'p:1#1', contact: 'p:1', flow: 'f', version: 1, node: 'ask', status: 'waiting',
      started_at: '2026-01-05T10:00:00Z', last_activity_at: '2026-01-05T10:00:00Z', steps,
    },
    window: { open: true, remaining_seconds: 0 },
    transcript: [entry({ node: 'hello' }), entry({ node: 'ask' })],
    labels,
  };
}

const at = '2026-01-05T10:00:00Z';

describe('the path', () => {
  it('is the recorded steps, with labels, when there are some', () => {
    const { path, recorded } = pathOf(
      detail(
        [
          { node: 'keep', exit: 'next', at },
          { node: 'route', exit: 'cases/0', at },
          { node: 'ask', stop: 'waiting', at },
        ],
        { ask: 'Ask the size' },
      ),
    );
    expect(recorded).toBe(true);
    expect(path.map((s) => s.node)).toEqual(['keep', 'route', 'ask']);
    expect(path[2].label).toBe('Ask the size');
    expect(path[0].label).toBeUndefined();
  });
  it('falls back to the transcript for an older conversation', () => {
    const { path, recorded } = pathOf(detail(undefined, { hello: 'Greet' }));
    expect(recorded).toBe(false);
    expect(path).toEqual([{ node: 'hello', label: 'Greet' }, { node: 'ask', label: undefined }]);
  });
  it('says how each step left its node', () => {
    expect(stepOutcome({ node: 'a', exit: 'cases/1' })).toBe('→ cases/1');
    expect(stepOutcome({ node: 'a', stop: 'waiting' })).toBe('waits for a reply');
    expect(stepOutcome({ node: 'a', stop: 'failed', reason: 'node "a" crashed' })).toBe('failed: node "a" crashed');
    expect(stepOutcome({ node: 'a' })).toBe('');
  });
});

describe('PathList', () => {
  it('renders each step with its label, exit and time', () => {
    const { path, recorded } = pathOf(
      detail(
        [
          { node: 'keep', exit: 'next', at },
          { node: 'route', exit: 'default', at },
          { node: 'call', stop: 'failed', reason: 'no <answer>', at },
        ],
        { route: 'Big order?' },
      ),
    );
    const html = renderToStaticMarkup(createElement(PathList, { path, recorded }));
    expect(html.match(/data-testid="path-step"/g)).toHaveLength(3);
    expect(html).toContain('Big order? <span class="mono muted">route</span>');
    expect(html).toContain('→ default');
    expect(html).toContain('<li class="failed"');
    expect(html).toContain('failed: no &lt;answer&gt;');
    expect(html).not.toContain('<answer>');
    expect(formatTime(at)).not.toBe('');
    expect(html).toContain(formatTime(at));
  });
  it('renders an older conversation as the nodes the transcript names', () => {
    const { path, recorded } = pathOf(detail());
    const html = renderToStaticMarkup(createElement(PathList, { path, recorded }));
    expect(html).toContain('class="conv-path"');
    expect(html.match(/data-testid="path-step"/g)).toHaveLength(2);
    expect(html).not.toContain('step-outcome');
  });
});
