import { useEffect, useMemo, useRef, useState } from 'react';
import type { FlowNode } from '../types';
import { searchNodes } from './search';

/** NodeSearch finds a node by its name or its words and jumps to it (Ctrl+K or / focus it). */
export function NodeSearch({ nodes, onJump }: { nodes: FlowNode[]; onJump: (id: string) => void }) {
  const [q, setQ] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const hits = useMemo(() => searchNodes(nodes, q), [nodes, q]);
  useEffect(() => setActive(0), [q]);
  useEffect(() => {
    const h = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement | null;
      const typing = el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable);
      if (((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') || (!typing && e.key === '/')) {
        e.preventDefault();
        input.current?.focus();
        input.current?.select();
      }
    };
    window.addEventListener('keydown', h);
    return () => window.removeEventListener('keydown', h);
  }, []);
  const jump = (id: string) => {
    onJump(id);
    setOpen(false);
    input.current?.blur();
  };
  return (
    <div className="node-search" role="search">
      <input
        ref={input}
        type="search"
        value={q}
        placeholder="Find a node… (Ctrl+K)"
        aria-label="Find a node"
        onChange={(e) => {
          setQ(e.target.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, hits.length - 1));
          else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
          else if (e.key === 'Enter' && hits[active]) jump(hits[active].id);
          else if (e.key === 'Escape') {
            setOpen(false);
            input.current?.blur();
          } else return;
          e.preventDefault();
          e.stopPropagation();
        }}
        data-testid="node-search"
      />
      {open && q.trim() !== '' && (
        <ul className="search-hits" role="listbox" data-testid="search-hits">
          {hits.length === 0 && <li className="muted">No node matches.</li>}
          {hits.map((h, i) => (
            <li
              key={h.id}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                jump(h.id);
              }}
              data-testid={`search-hit-${h.id}`}
            >
              <strong>{h.title}</strong>
              <span className="muted">{h.detail}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
