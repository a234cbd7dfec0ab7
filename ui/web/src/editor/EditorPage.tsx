// The flow editor: canvas, palette, properties and side panels, with an
// autosaved draft, undo/redo, the clipboard and keyboard shortcuts.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { ApiError, enc, get, post, put } from '../api';
import { linkProps, navigate } from '../router';
import { statusText } from '../pages/FlowsList';
import type { DraftConflictInfo, FlowDetail, FlowDoc, FlowNode, FlowSummary, NodeStats, Problem, PublishPreview, SavedFlow, VersionSummary } from '../types';
import { Canvas } from './Canvas';
import { addNode, connect, deleteNodes, exitsOf, hasPositions, moveNodes, newNode, pasteNodes, renameNode, replaceNode, uniqueId } from './graph';
import { initHistory, push, redo, redoLabel, undo, undoLabel, type History } from './history';
import { layout, NodeWidth, nodeHeight } from './layout';
import { indexProblems } from './pointer';
import { Palette } from './Palette';
import { knownVars, Properties } from './Properties';
import { ProblemsPanel } from './ProblemsPanel';
import { VersionsPanel } from './VersionsPanel';
import { TestChatPanel } from './TestChat';
import { FlowSettings } from './FlowSettings';
import { AnalyticsBar } from './AnalyticsBar';
import { ConflictDialog, PublishDialog } from './PublishDialog';
import { NodeSearch } from './NodeSearch';
import { PhonePreview } from './PhonePreview';
import { addNote, deleteNotes, updateNote } from './notes';

/** SaveDelayMs is how long the editor waits after the last edit before saving the draft. */
export const SaveDelayMs = 700;

type Tab = 'props' | 'problems' | 'versions' | 'test' | 'flow';
type SaveState = 'saved' | 'pending' | 'saving' | 'error' | 'conflict';

export function EditorPage(props: { flowId: string; version?: number }) {
  return (
    <ReactFlowProvider>
      <Editor {...props} />
    </ReactFlowProvider>
  );
}

let clipboard: FlowNode[] = [];

/** editLabel words an edit of the properties panel by its key ("greet:message/text" → "edit greet: message/text"). */
function editLabel(key?: string): string {
  if (!key) return 'edit';
  const i = key.indexOf(':');
  if (i < 0) return `edit ${key}`;
  const node = key.slice(0, i);
  const field = key.slice(i + 1).replace(/^exit:/, 'exit ');
  return `edit ${node}: ${field}`;
}

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el) return false;
  return el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable;
}

function Editor({ flowId, version }: { flowId: string; version?: number }) {
  const readOnly = version !== undefined;
  const rf = useReactFlow();
  const [hist, setHist] = useState<History<FlowDoc> | null>(null);
  const [loadError, setLoadError] = useState('');
  const [summary, setSummary] = useState<FlowSummary | null>(null);
  const [versionInfo, setVersionInfo] = useState<VersionSummary | null>(null);
  const [checked, setChecked] = useState<{ doc: FlowDoc; problems: Problem[] } | null>(null);
  const [saveState, setSaveState] = useState<SaveState>('saved');
  const [saveError, setSaveError] = useState('');
  const [selected, setSelected] = useState<string[]>([]);
  const [tab, setTab] = useState<Tab>('props');
  const [focus, setFocus] = useState<{ node: string; field: string; seq: number } | null>(null);
  const [activeNode, setActiveNode] = useState<string | undefined>();
  const [stats, setStats] = useState<Record<string, NodeStats> | undefined>();
  const [notice, setNotice] = useState('');
  const [openedAt] = useState(() => performance.now());
  const saved = useRef<FlowDoc | null>(null);
  // The draft revision this editor's document is based on (409 when someone else saved since).
  const baseRev = useRef(0);
  const [conflict, setConflict] = useState<DraftConflictInfo | null>(null);
  const [conflictOpen, setConflictOpen] = useState(false);
  const [preview, setPreview] = useState<PublishPreview | null>(null);
  const [publishing, setPublishing] = useState(false);
  // Bumped when a save ends with the document changed meanwhile (an undo
  // back to what was saved before, say): the autosave looks again.
  const [saveTick, setSaveTick] = useState(0);
  const saving = useRef<Promise<void>>(Promise.resolve());
  const doc = hist?.present ?? null;
  const docRef = useRef<FlowDoc | null>(null);
  docRef.current = doc;
  const histRef = useRef<History<FlowDoc> | null>(null);
  histRef.current = hist;

  // Load the draft, or a published version read-only.
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        let d: FlowDoc;
        if (readOnly) {
          const v = await get<VersionSummary & { doc: FlowDoc }>(`/flows/${enc(flowId)}/versions/${version}`);
          d = v.doc;
          if (live) setVersionInfo(v);
          const f = await get<FlowDetail>(`/flows/${enc(flowId)}`);
          if (live) setSummary(f);
        } else {
          const f = await get<FlowDetail>(`/flows/${enc(flowId)}`);
          d = f.draft ?? { format: 'parley/flow@1', id: flowId, start: '', nodes: [] };
          baseRev.current = f.draft_rev ?? 0;
          if (live) setSummary(f);
        }
        if (!Array.isArray(d.nodes)) d = { ...d, nodes: [] };
        if (!hasPositions(d)) d = moveNodes(d, layout(d));
        if (!live) return;
        saved.current = d;
        setHist(initHistory(d));
        const v = await post<{ problems: Problem[] }>('/flows/validate', d);
        if (live) setChecked({ doc: d, problems: v.problems });
      } catch (e) {
        if (live) setLoadError((e as Error).message);
      }
    })();
    return () => {
      live = false;
    };
  }, [flowId, version, readOnly]);

  // Mark when the canvas first painted the flow (load-to-interactive, in ms
  // since the page's navigation): the browser tests read it.
  const hasDoc = doc !== null;
  useEffect(() => {
    if (!hasDoc) return;
    const id = requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        const w = window as unknown as { __parleyReady?: { at: number; sinceOpen: number } };
        w.__parleyReady = { at: performance.now(), sinceOpen: performance.now() - openedAt };
      }),
    );
    return () => cancelAnimationFrame(id);
  }, [hasDoc, openedAt]);

  const saveNow = useCallback(async () => {
    const run = async () => {
      const d = docRef.current;
      if (!d || readOnly || d === saved.current) return;
      setSaveState('saving');
      try {
        const r = await put<SavedFlow>(`/flows/${enc(flowId)}?base=${baseRev.current}`, d);
        saved.current = d;
        baseRev.current = r.draft_rev ?? baseRev.current;
        setSummary(r);
        setChecked({ doc: d, problems: r.problems });
        setSaveError('');
        setSaveState(docRef.current === d ? 'saved' : 'pending');
        if (docRef.current !== d) setSaveTick((t) => t + 1);
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) {
          // Someone else saved the draft: ask, never overwrite silently.
          setConflict(e.body as DraftConflictInfo);
          setConflictOpen(true);
          setSaveState('conflict');
          return;
        }
        setSaveState('error');
        setSaveError((e as Error).message);
      }
    };
    saving.current = saving.current.then(run);
    return saving.current;
  }, [flowId, readOnly]);

  // Autosave: a debounced PUT of the draft after each edit. Undoing back to
  // what is saved leaves nothing to save ("Editing…" must not stick); a
  // conflict waits for the analyst's answer.
  useEffect(() => {
    if (!doc || readOnly || conflict) return;
    if (doc === saved.current) {
      setSaveState((s) => (s === 'pending' ? 'saved' : s));
      return;
    }
    setSaveState('pending');
    const t = setTimeout(() => void saveNow(), SaveDelayMs);
    return () => clearTimeout(t);
  }, [doc, readOnly, saveNow, conflict, saveTick]);

  // Leaving with unsaved work: save it on the way out.
  useEffect(() => {
    const h = (e: BeforeUnloadEvent) => {
      if (docRef.current !== saved.current && !readOnly) {
        void saveNow();
        e.preventDefault();
      }
    };
    window.addEventListener('beforeunload', h);
    return () => window.removeEventListener('beforeunload', h);
  }, [readOnly, saveNow]);

  const edit = useCallback(
    (fn: (d: FlowDoc) => FlowDoc, key?: string, label?: string) => {
      if (readOnly) return;
      setHist((h) => (h ? push(h, fn(h.present), key, Date.now(), label ?? editLabel(key)) : h));
    },
    [readOnly],
  );

  const problems = useMemo(() => (checked ? indexProblems(checked.doc, checked.problems) : indexProblems({ format: '', id: '', start: '', nodes: [] }, [])), [checked]);

  const centre = useCallback(() => {
    const el = document.querySelector('.canvas');
    const r = el?.getBoundingClientRect();
    if (!r) return { x: 0, y: 0 };
    const p = rf.screenToFlowPosition({ x: r.left + r.width / 2, y: r.top + r.height / 2 });
    return { x: p.x - 110, y: p.y - 40 };
  }, [rf]);

  const addType = useCallback(
    (type: string, x?: number, y?: number) => {
      if (!doc) return;
      const id = uniqueId(new Set(doc.nodes.map((n) => n.id)), type);
      let at: { x: number; y: number };
      if (x !== undefined && y !== undefined) at = { x, y };
      else {
        // A click adds the node after the selected one, else at the centre of the view.
        const after = selected.length === 1 ? doc.nodes.find((n) => n.id === selected[0]) : undefined;
        at = after?.meta && typeof after.meta.x === 'number' ? { x: after.meta.x + NodeWidth + 80, y: after.meta.y ?? 0 } : centre();
        // …below any node already there, so that none hides another.
        const h = nodeHeight(exitsOf(newNode(type, id, 0, 0)).length);
        const overlaps = (py: number) =>
          doc.nodes.some((n) => {
            const nx = n.meta?.x ?? 0;
            const ny = n.meta?.y ?? 0;
            return at.x < nx + NodeWidth + 20 && nx < at.x + NodeWidth + 20 && py < ny + nodeHeight(exitsOf(n).length) + 20 && ny < py + h + 20;
          });
        for (let i = 0; i < 50 && overlaps(at.y); i++) at = { x: at.x, y: at.y + 40 };
      }
      edit((d) => addNode(d, newNode(type, id, at.x, at.y)), undefined, `add ${id}`);
      setSelected([id]);
      setTab('props');
      // Keep the new node in sight.
      const el = document.querySelector('.canvas')?.getBoundingClientRect();
      const nh = nodeHeight(exitsOf(newNode(type, id, 0, 0)).length);
      if (el) {
        const tl = rf.flowToScreenPosition(at);
        const br = rf.flowToScreenPosition({ x: at.x + NodeWidth, y: at.y + nh });
        if (tl.x < el.left || tl.y < el.top || br.x > el.right || br.y > el.bottom) {
          void rf.setCenter(at.x + NodeWidth / 2, at.y + nh / 2, { zoom: rf.getZoom(), duration: 150 });
        }
      }
    },
    [doc, selected, centre, edit, rf],
  );

  const copy = useCallback(() => {
    if (!doc) return;
    const set = new Set(selected);
    clipboard = structuredClone(doc.nodes.filter((n) => set.has(n.id)));
    try {
      void navigator.clipboard?.writeText(JSON.stringify(clipboard, null, 2)).catch(() => {});
    } catch {
      /* the app's own clipboard is enough */
    }
  }, [doc, selected]);

  const paste = useCallback(() => {
    const d = docRef.current;
    if (!clipboard.length || readOnly || !d) return;
    // The copies and their ids are made here, not in a state updater: React
    // may run an updater later (or twice), and the selection must be the
    // copies at once, so that Delete right after a paste deletes them.
    const r = pasteNodes(d, clipboard, 40, 40);
    const n = r.ids.length;
    setHist((h) => (h ? push(h, h.present === d ? r.doc : pasteNodes(h.present, clipboard, 40, 40).doc, undefined, Date.now(), `paste ${n} node${n === 1 ? '' : 's'}`) : h));
    // The clipboard moves on, so that pasting again steps further.
    clipboard = clipboard.map((c) => ({ ...c, meta: { ...(c.meta ?? {}), x: (c.meta?.x ?? 0) + 40, y: (c.meta?.y ?? 0) + 40 } }));
    setSelected(r.ids);
  }, [readOnly]);

  // Undo and redo say what they did.
  const doUndo = useCallback(() => {
    const h = histRef.current;
    if (!h || readOnly || !h.past.length) return;
    setNotice(`Undone: ${undoLabel(h)}.`);
    setHist(undo(h));
  }, [readOnly]);
  const doRedo = useCallback(() => {
    const h = histRef.current;
    if (!h || readOnly || !h.future.length) return;
    setNotice(`Redone: ${redoLabel(h)}.`);
    setHist(redo(h));
  }, [readOnly]);

  const [fitSignal, setFitSignal] = useState(0);
  const [chatOpened, setChatOpened] = useState(false);
  useEffect(() => {
    if (tab === 'test') setChatOpened(true);
  }, [tab]);
  const autoLayout = useCallback(() => {
    edit((d) => moveNodes(d, layout(d)), undefined, 'auto-layout');
    setFitSignal((n) => n + 1);
  }, [edit]);

  // Keyboard shortcuts (outside text fields, where the browser's own undo works).
  useEffect(() => {
    const h = (e: KeyboardEvent) => {
      if (isTyping(e.target)) return;
      const mod = e.ctrlKey || e.metaKey;
      const k = e.key.toLowerCase();
      if (mod && k === 'z' && !e.shiftKey) doUndo();
      else if (mod && ((k === 'z' && e.shiftKey) || k === 'y')) doRedo();
      else if (mod && k === 'c') copy();
      else if (mod && k === 'v') paste();
      else if (mod && k === 'd') {
        copy();
        paste();
      } else if (mod && k === 's') void saveNow();
      else if (mod && e.shiftKey && k === 'l') autoLayout();
      else if (e.shiftKey && e.key === '!') void rf.fitView({ duration: 200 });
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', h);
    return () => window.removeEventListener('keydown', h);
  }, [copy, paste, saveNow, autoLayout, rf, readOnly, doUndo, doRedo]);

  const focusProblem = useCallback(
    (node: string | undefined, field: string) => {
      if (!node) {
        setTab('flow');
        return;
      }
      setSelected([node]);
      setTab('props');
      setFocus({ node, field, seq: Date.now() });
      const n = rf.getNode(node);
      if (n) void rf.setCenter(n.position.x + 110, n.position.y + 60, { zoom: Math.max(rf.getZoom(), 0.8), duration: 250 });
    },
    [rf],
  );

  // Focus the field a problem names, once the panel shows it.
  useEffect(() => {
    if (!focus) return;
    const t = setTimeout(() => {
      const panel = document.querySelector('[data-testid="properties"]');
      let el: HTMLElement | null = null;
      for (let f = focus.field; f && !el; f = f.includes('/') ? f.slice(0, f.lastIndexOf('/')) : '') {
        el = panel?.querySelector<HTMLElement>(`[data-field="${CSS.escape(f)}"]`) ?? null;
      }
      if (el) {
        el.scrollIntoView({ block: 'center' });
        el.focus();
      }
    }, 30);
    return () => clearTimeout(t);
  }, [focus]);

  // Publishing asks first: the diff against the published version, the
  // warnings, and a note for the history.
  const publish = useCallback(async () => {
    await saveNow();
    setNotice('');
    if (conflict) {
      setConflictOpen(true);
      return;
    }
    try {
      setPreview(await get<PublishPreview>(`/flows/${enc(flowId)}/publish-preview`));
    } catch (e) {
      setNotice((e as Error).message);
    }
  }, [flowId, saveNow, conflict]);

  const confirmPublish = useCallback(
    async (note: string) => {
      if (!preview) return;
      setPublishing(true);
      try {
        const r = await post<{ version: number; unchanged?: boolean; problems: Problem[] }>(`/flows/${enc(flowId)}/publish`, { note, draft_rev: preview.draft_rev });
        setPreview(null);
        setNotice(r.unchanged ? `Nothing to publish: the draft is version ${r.version}.` : `Published version ${r.version}.`);
        setSummary(await get<FlowDetail>(`/flows/${enc(flowId)}`));
      } catch (e) {
        setPreview(null);
        if (e instanceof ApiError && e.status === 422) {
          const body = e.body as { problems?: Problem[] };
          if (docRef.current) setChecked({ doc: docRef.current, problems: body.problems ?? [] });
          setTab('problems');
          setNotice('Not published: fix the errors first.');
        } else if (e instanceof ApiError && e.status === 409) {
          setNotice('Not published: the draft changed since you confirmed. Check the changes and publish again.');
        } else setNotice((e as Error).message);
      } finally {
        setPublishing(false);
      }
    },
    [flowId, preview],
  );

  // A conflict answered: take their draft, or save ours over it.
  const reloadTheirs = useCallback(async () => {
    try {
      const f = await get<FlowDetail>(`/flows/${enc(flowId)}`);
      let d = f.draft ?? { format: 'parley/flow@1', id: flowId, start: '', nodes: [] };
      if (!Array.isArray(d.nodes)) d = { ...d, nodes: [] };
      if (!hasPositions(d)) d = moveNodes(d, layout(d));
      baseRev.current = f.draft_rev ?? 0;
      saved.current = d;
      setSummary(f);
      setHist(initHistory(d));
      setSelected([]);
      setConflict(null);
      setConflictOpen(false);
      setSaveState('saved');
      setNotice(`Reloaded the draft as ${f.draft_updated_by || 'the other editor'} saved it.`);
      const v = await post<{ problems: Problem[] }>('/flows/validate', d);
      setChecked({ doc: d, problems: v.problems });
    } catch (e) {
      setNotice((e as Error).message);
    }
  }, [flowId]);
  const overwrite = useCallback(() => {
    if (!conflict) return;
    baseRev.current = conflict.draft_rev;
    setConflict(null);
    setConflictOpen(false);
    void saveNow();
  }, [conflict, saveNow]);

  const rollback = useCallback(
    async (n: number) => {
      setNotice('');
      try {
        const r = await post<{ version: number }>(`/flows/${enc(flowId)}/publish?version=${n}`);
        setNotice(`Version ${n} published again as version ${r.version}.`);
        if (readOnly) {
          navigate(`/flows/${enc(flowId)}`);
          return;
        }
        await saveNow();
        const f = await get<FlowDetail>(`/flows/${enc(flowId)}`);
        setSummary(f);
        baseRev.current = f.draft_rev ?? baseRev.current;
        // A draft with nothing unpublished became the rolled-back document: show it.
        if (f.draft && JSON.stringify(f.draft) !== JSON.stringify(saved.current)) {
          let d = f.draft;
          if (!hasPositions(d)) d = moveNodes(d, layout(d));
          saved.current = d;
          setHist(initHistory(d));
          setSelected([]);
          const v = await post<{ problems: Problem[] }>('/flows/validate', d);
          setChecked({ doc: d, problems: v.problems });
        }
      } catch (e) {
        if (e instanceof ApiError && e.status === 422) setNotice(`Version ${n} no longer validates: ${e.message}`);
        else setNotice((e as Error).message);
      }
    },
    [flowId, readOnly, saveNow],
  );

  const copyIntoDraft = useCallback(async () => {
    if (!doc) return;
    await put<SavedFlow>(`/flows/${enc(flowId)}`, doc);
    navigate(`/flows/${enc(flowId)}`);
  }, [doc, flowId]);

  const vars = useMemo(() => (doc ? knownVars(doc) : []), [doc]);
  const onSelect = useCallback((ids: string[]) => setSelected((prev) => (prev.length === ids.length && prev.every((x, i) => x === ids[i]) ? prev : ids)), []);
  const onMove = useCallback(
    (pos: Map<string, { x: number; y: number }>) => edit((d) => moveNodes(d, pos), undefined, pos.size === 1 ? `move ${[...pos.keys()][0]}` : `move ${pos.size} nodes`),
    [edit],
  );
  const onConnect = useCallback(
    (s: string, h: string, t: string | undefined) => edit((d) => connect(d, s, h, t), undefined, t ? `connect ${s} → ${t}` : `disconnect ${s}`),
    [edit],
  );
  const onDelete = useCallback(
    (ids: string[], exits: { source: string; handle: string }[]) => {
      const what = ids.length ? (ids.length === 1 ? `delete ${ids[0]}` : `delete ${ids.length} nodes`) : exits.length === 1 ? `disconnect ${exits[0].source}` : `delete ${exits.length} connections`;
      edit((d) => deleteNodes(exits.reduce((x, e) => connect(x, e.source, e.handle, undefined), d), ids), undefined, what);
      setSelected([]);
    },
    [edit],
  );
  const onDropType = useCallback((type: string, x: number, y: number) => addType(type, x, y), [addType]);
  const onNoteText = useCallback((id: string, text: string) => edit((d) => updateNote(d, id, { text }), `note:${id}`, `edit note ${id}`), [edit]);
  const onNotesMove = useCallback(
    (pos: Map<string, { x: number; y: number }>) => edit((d) => [...pos].reduce((x, [id, p]) => updateNote(x, id, p), d), undefined, 'move a note'),
    [edit],
  );
  const onNotesDelete = useCallback((ids: string[]) => edit((d) => deleteNotes(d, ids), undefined, ids.length === 1 ? 'delete a note' : `delete ${ids.length} notes`), [edit]);
  const addStickyNote = useCallback(() => {
    const at = centre();
    edit((d) => addNote(d, at.x, at.y).doc, undefined, 'add a note');
  }, [centre, edit]);
  // Jump to a node found by search: select it, bring it to the middle at a
  // readable zoom, and flash it.
  const jumpTo = useCallback(
    (id: string) => {
      setSelected([id]);
      setTab('props');
      const n = rf.getNode(id);
      if (n) void rf.setCenter(n.position.x + NodeWidth / 2, n.position.y + (n.measured?.height ?? 120) / 2, { zoom: Math.max(rf.getZoom(), 1), duration: 250 });
      const el = document.querySelector(`[data-node-id="${CSS.escape(id)}"]`);
      el?.classList.add('found');
      setTimeout(() => el?.classList.remove('found'), 1500);
    },
    [rf],
  );

  if (loadError) return <div className="error page-error" data-testid="editor-error">{loadError}</div>;
  if (!doc || !hist) return <div className="boot">Loading flow…</div>;

  const node = selected.length === 1 ? doc.nodes.find((n) => n.id === selected[0]) : undefined;
  const errors = problems.errors;
  return (
    <div className="editor" data-testid="editor">
      <div className="toolbar editor-bar">
        <a {...linkProps('/flows')} className="back">
          ← Flows
        </a>
        <h1 data-testid="flow-title">{doc.name || doc.id}</h1>
        {summary && (
          <span className={`badge ${summary.status}`} data-testid="flow-status">
            {statusText(summary)}
          </span>
        )}
        {readOnly ? (
          <span className="badge readonly" data-testid="readonly-banner">
            version {version}
            {versionInfo ? ` · ${new Date(versionInfo.published_at).toLocaleString()}${versionInfo.published_by ? ' by ' + versionInfo.published_by : ''}` : ''} · read-only
          </span>
        ) : (
          <span className={`save ${saveState}`} data-testid="save-state" title={saveError} onClick={() => conflict && setConflictOpen(true)}>
            {{ saved: 'Saved', pending: 'Editing…', saving: 'Saving…', error: 'Not saved: ' + saveError, conflict: 'Not saved: someone else changed the draft' }[saveState]}
          </span>
        )}
        <span className="spacer" />
        {!readOnly && (
          <>
            <button onClick={doUndo} disabled={!hist.past.length} title={hist.past.length ? `Undo ${undoLabel(hist)} (Ctrl+Z)` : 'Nothing to undo'} aria-label={hist.past.length ? `Undo ${undoLabel(hist)}` : 'Undo'} data-testid="undo">
              ↶
            </button>
            <button onClick={doRedo} disabled={!hist.future.length} title={hist.future.length ? `Redo ${redoLabel(hist)} (Ctrl+Shift+Z)` : 'Nothing to redo'} aria-label={hist.future.length ? `Redo ${redoLabel(hist)}` : 'Redo'} data-testid="redo">
              ↷
            </button>
            <button onClick={autoLayout} title="Auto-layout (Ctrl+Shift+L)" data-testid="auto-layout">
              Layout
            </button>
          </>
        )}
        <button onClick={() => void rf.fitView({ duration: 200 })} title="Fit view (Shift+1)" data-testid="fit-view">
          Fit
        </button>
        <NodeSearch nodes={doc.nodes} onJump={jumpTo} />
        <AnalyticsBar flowId={flowId} onStats={setStats} />
        <button className={errors ? 'err-count' : 'ok-count'} onClick={() => setTab('problems')} data-testid="problems-count">
          {errors} error{errors === 1 ? '' : 's'} · {problems.warnings} warning{problems.warnings === 1 ? '' : 's'}
        </button>
        {readOnly ? (
          <>
            <button onClick={() => void copyIntoDraft()} data-testid="copy-into-draft">
              Copy into draft
            </button>
            <button className="primary" onClick={() => void rollback(version!)} data-testid="rollback-this">
              Roll back to this version
            </button>
          </>
        ) : (
          <button className="primary" onClick={() => void publish()} disabled={errors > 0 || saveState === 'error'} title={errors ? 'Fix the errors to publish' : 'Publish a new version (you confirm the changes first)'} data-testid="publish">
            Publish…
          </button>
        )}
      </div>
      {notice && (
        <div className="notice" data-testid="notice" onClick={() => setNotice('')}>
          {notice}
        </div>
      )}
      {preview && <PublishDialog doc={doc} preview={preview} busy={publishing} onPublish={(n) => void confirmPublish(n)} onCancel={() => setPreview(null)} />}
      {conflict && conflictOpen && (
        <ConflictDialog by={conflict.draft_updated_by} at={conflict.draft_updated_at} onReload={() => void reloadTheirs()} onOverwrite={overwrite} onCancel={() => setConflictOpen(false)} />
      )}
      <p className="narrow-screen" data-testid="narrow-screen">
        The flow editor needs a wider screen: at least 768 pixels. Open it on a computer or a tablet in landscape; the other pages work on a phone.
      </p>
      <div className="editor-body">
        {!readOnly && <Palette onAdd={(t) => addType(t)} onAddNote={addStickyNote} />}
        <Canvas
          doc={doc}
          readOnly={readOnly}
          problems={problems}
          activeNode={activeNode}
          stats={stats}
          selected={selected}
          onSelect={onSelect}
          onMove={onMove}
          onConnect={onConnect}
          onDelete={onDelete}
          onDropType={onDropType}
          onNoteText={onNoteText}
          onNotesMove={onNotesMove}
          onNotesDelete={onNotesDelete}
          fitSignal={fitSignal}
        />
        <aside className="side">
          <div className="tabs" role="tablist">
            {(
              [
                ['props', 'Properties'],
                ['problems', `Problems${checked?.problems.length ? ` (${checked.problems.length})` : ''}`],
                ['flow', 'Flow'],
                ['versions', 'Versions'],
                ['test', 'Test chat'],
              ] as [Tab, string][]
            ).map(([t, label]) => (
              <button key={t} role="tab" className={tab === t ? 'active' : ''} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
                {label}
              </button>
            ))}
          </div>
          <div className="side-body">
            {tab === 'props' &&
              (node ? (
                <>
                  <PhonePreview node={node} />
                  <Properties
                    key={node.id}
                    doc={doc}
                    node={node}
                    problems={problems.byNode.get(node.id) ?? []}
                    vars={vars}
                    readOnly={readOnly}
                    onChange={(n, key) => edit((d) => replaceNode(d, node.id, n), key)}
                    onRename={(to) => {
                      edit((d) => renameNode(d, node.id, to), undefined, `rename ${node.id} to ${to}`);
                      setSelected([to]);
                    }}
                    onSetStart={() => edit((d) => ({ ...d, start: node.id }), undefined, `make ${node.id} the start`)}
                    onDelete={() => onDelete([node.id], [])}
                  />
                </>
              ) : (
                <div className="empty">
                  <p>{selected.length > 1 ? `${selected.length} nodes selected.` : 'Select a node to edit it.'}</p>
                  {!readOnly && (
                    <ul className="shortcuts">
                      <li>Drag a node type from the palette, or click it to add it at the centre.</li>
                      <li>Drag from an exit's handle to a node to connect; drag an edge's end to move or drop it.</li>
                      <li>Delete / Backspace deletes; Ctrl+C, Ctrl+V, Ctrl+D copy, paste, duplicate.</li>
                      <li>Ctrl+Z / Ctrl+Shift+Z undo and redo; Ctrl+S saves now; Ctrl+Shift+L lays out; Shift+1 fits; a double click on a node zooms to it.</li>
                      <li>Ctrl+K or / finds a node by its name or its words; Escape closes a dialog.</li>
                      <li>A button or list row of a wait has its own exit: drag from it to where that choice leads.</li>
                    </ul>
                  )}
                </div>
              ))}
            {tab === 'problems' && <ProblemsPanel doc={checked?.doc ?? doc} problems={checked?.problems ?? []} onFocus={focusProblem} />}
            {tab === 'flow' && <FlowSettings doc={doc} readOnly={readOnly} problems={problems.flow} onChange={(d, key) => edit(() => d, key)} />}
            {tab === 'versions' && <VersionsPanel flowId={flowId} current={version} published={summary?.published_version ?? 0} onRollback={rollback} />}
            {/* Kept mounted on other tabs: leaving the tab must not end the chat. */}
            {(tab === 'test' || chatOpened) && (
              <div hidden={tab !== 'test'}>
                <TestChatPanel flowId={flowId} doc={doc} startNode={selected.length === 1 ? selected[0] : undefined} onActive={setActiveNode} />
              </div>
            )}
          </div>
        </aside>
      </div>
    </div>
  );
}

