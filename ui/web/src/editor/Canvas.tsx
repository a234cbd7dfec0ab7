import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent as ReactMouseEvent } from 'react';
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  applyNodeChanges,
  useReactFlow,
  useStore,
  type Connection,
  type Edge as RFEdge,
  type EdgeChange,
  type NodeChange,
  MarkerType,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import './canvas.css';
import type { FlowDoc, NodeStats } from '../types';
import { edgesOf, exitsOf } from './graph';
import { FlowNodeView, type CanvasNode } from './FlowNodeView';
import { NoteView, type NoteNode } from './NoteView';
import { NotePrefix, isNoteId, notesOf } from './notes';
import type { ProblemIndex } from './pointer';
import { NodeWidth } from './layout';

const nodeTypes = { flow: FlowNodeView, note: NoteView };

type AnyNode = CanvasNode | NoteNode;

/**
 * FarZoom is the zoom below which nodes are drawn in their level of detail
 * for a whole flow: the name and first line, in type scaled up so that they
 * stay legible (about 11 px on screen) at the zoom "Fit" picks.
 */
export const FarZoom = 0.75;

/** HideExitsZoom is the zoom below which exit labels and analytics are not drawn at all. */
export const HideExitsZoom = 0.45;

/**
 * TinyZoom is the zoom below which no text is drawn: even at its largest
 * (4×) it would be under 9 px on screen, and not painting it keeps a
 * several-hundred-node flow smooth to pan.
 */
export const TinyZoom = 0.19;

/** LodTarget is the on-screen size, over the normal 12 px, that far text is scaled to. */
const LodTarget = 0.9;

export interface CanvasProps {
  doc: FlowDoc;
  readOnly: boolean;
  problems: ProblemIndex;
  activeNode?: string;
  stats?: Record<string, NodeStats>;
  selected: string[];
  onSelect: (ids: string[]) => void;
  onMove: (pos: Map<string, { x: number; y: number }>) => void;
  onConnect: (source: string, handle: string, target: string | undefined) => void;
  /** onDelete removes nodes and disconnects exits, as one undo step. */
  onDelete: (nodes: string[], exits: { source: string; handle: string }[]) => void;
  onDropType: (type: string, x: number, y: number) => void;
  /** sticky notes: text edits, moves and deletions (meta.notes). */
  onNoteText: (id: string, text: string) => void;
  onNotesMove: (pos: Map<string, { x: number; y: number }>) => void;
  onNotesDelete: (ids: string[]) => void;
  /** fitSignal: each new value fits the view once the nodes moved (after an auto-layout). */
  fitSignal: number;
}

/** fallbackPosition places a node without a saved position on a grid. */
function fallbackPosition(i: number) {
  return { x: (i % 6) * 280, y: Math.floor(i / 6) * 200 };
}

export function Canvas(p: CanvasProps) {
  const rf = useReactFlow();
  // Zoomed far out, text is too small to read: not painting it keeps a
  // large flow smooth to pan.
  const far = useStore((s) => s.transform[2] < FarZoom);
  const veryFar = useStore((s) => s.transform[2] < HideExitsZoom);
  const tiny = useStore((s) => s.transform[2] < TinyZoom);
  // Far out, text is drawn larger by this much (in steps, so that zooming
  // re-renders the canvas only now and then).
  const lod = useStore((s) => (s.transform[2] < FarZoom ? Math.min(4, Math.ceil((LodTarget / Math.max(s.transform[2], 0.05)) * 4) / 4) : 1));
  const [nodes, setNodes] = useState<AnyNode[]>([]);
  const [selectedEdges, setSelectedEdges] = useState<Set<string>>(new Set());
  const reconnected = useRef(true);
  const selectedSet = useMemo(() => new Set(p.selected), [p.selected]);
  // Fit the flow in view when it opens; an empty canvas starts at 100 %.
  const [initialFit] = useState(() => p.doc.nodes.length > 0);

  // The document is the truth; canvas nodes are rebuilt from it, reusing
  // the previous object of every node that did not change (React Flow then
  // skips it, which keeps a 300-node flow quick).
  useEffect(() => {
    setNodes((prev) => {
      const byId = new Map(prev.map((n) => [n.id, n]));
      const flowNodes = p.doc.nodes.map((n, i): CanvasNode => {
        const old = byId.get(n.id) as CanvasNode | undefined;
        const position = typeof n.meta?.x === 'number' && typeof n.meta?.y === 'number' ? { x: n.meta.x, y: n.meta.y! } : old?.position ?? fallbackPosition(i);
        const probs = p.problems.byNode.get(n.id);
        const errors = probs?.filter((x) => x.severity === 'error').length ?? 0;
        const warnings = (probs?.length ?? 0) - errors;
        const start = p.doc.start === n.id;
        const active = p.activeNode === n.id;
        const stats = p.stats?.[n.id] ?? (p.stats ? { entered: 0, exits: {}, dropped: {} } : undefined);
        const selected = selectedSet.has(n.id);
        const d = old?.data;
        if (
          old && d && d.node === n && d.start === start && d.errors === errors && d.warnings === warnings && d.active === active &&
          (d.stats === stats || (!d.stats && !stats)) && old.position.x === position.x && old.position.y === position.y && !!old.selected === selected
        ) {
          return old;
        }
        return {
          ...(old ?? {}),
          id: n.id,
          type: 'flow' as const,
          position,
          selected,
          draggable: !p.readOnly,
          data: { node: n, exits: d?.node === n ? d.exits : exitsOf(n), start, errors, warnings, active, stats, messages: probs?.map((x) => `${x.severity}: ${x.message}`) },
        };
      });
      const notes = notesOf(p.doc).map((note): NoteNode => {
        const id = NotePrefix + note.id;
        const old = byId.get(id) as NoteNode | undefined;
        if (old && old.data.text === note.text && old.position.x === note.x && old.position.y === note.y && old.data.readOnly === p.readOnly) return old;
        return {
          ...(old ?? {}),
          id,
          type: 'note' as const,
          position: { x: note.x, y: note.y },
          draggable: !p.readOnly,
          zIndex: -1,
          data: { noteId: note.id, text: note.text, readOnly: p.readOnly, onText: (i, t) => noteText.current(i, t), onDelete: (i) => noteDelete.current([i]) },
        };
      });
      return [...notes, ...flowNodes];
    });
  }, [p.doc, p.problems, p.activeNode, p.stats, selectedSet, p.readOnly]);

  // Notes call back through refs: their data objects outlive a render.
  const noteText = useRef(p.onNoteText);
  noteText.current = p.onNoteText;
  const noteDelete = useRef(p.onNotesDelete);
  noteDelete.current = p.onNotesDelete;

  const fitted = useRef(p.fitSignal);
  useEffect(() => {
    if (fitted.current === p.fitSignal) return;
    fitted.current = p.fitSignal;
    // Two frames: the moved nodes reach React Flow's store in between.
    requestAnimationFrame(() => requestAnimationFrame(() => void rf.fitView({ duration: 200, maxZoom: 1 })));
  }, [p.fitSignal, rf]);

  const edges: RFEdge[] = useMemo(
    () =>
      edgesOf(p.doc).map((e) => ({
        id: e.id,
        source: e.source,
        sourceHandle: e.sourceHandle,
        target: e.target,
        selected: selectedEdges.has(e.id),
        markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
        className: `e-${e.sourceHandle.split('/')[0]}`,
        reconnectable: !p.readOnly,
      })),
    [p.doc, selectedEdges, p.readOnly],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<AnyNode>[]) => {
      const moved = new Map<string, { x: number; y: number }>();
      let selChanged = false;
      for (const c of changes) {
        if (c.type === 'position' && c.dragging === false && c.position) moved.set(c.id, c.position);
        if (c.type === 'select') selChanged = true;
      }
      setNodes((ns) => {
        const next = applyNodeChanges(changes.filter((c) => c.type !== 'remove'), ns);
        if (selChanged) {
          const ids = next.filter((n) => n.selected && !isNoteId(n.id)).map((n) => n.id);
          queueMicrotask(() => p.onSelect(ids));
        }
        if (changes.some((c) => c.type === 'position' && c.dragging === false)) {
          // A drag ended: every node dragged with it is in the batch or selected.
          for (const n of next) if (n.selected && !moved.has(n.id) && n.dragging === false) moved.set(n.id, n.position);
        }
        return next;
      });
      const notesMoved = new Map<string, { x: number; y: number }>();
      for (const [id, pos] of moved) {
        if (isNoteId(id)) {
          notesMoved.set(id.slice(NotePrefix.length), pos);
          moved.delete(id);
        }
      }
      if (moved.size > 0) p.onMove(moved);
      if (notesMoved.size > 0) p.onNotesMove(notesMoved);
    },
    [p],
  );

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    setSelectedEdges((prev) => {
      let next = prev;
      for (const c of changes) {
        if (c.type === 'select') {
          if (next === prev) next = new Set(prev);
          if (c.selected) next.add(c.id);
          else next.delete(c.id);
        }
      }
      return next;
    });
  }, []);

  const onConnect = useCallback((c: Connection) => {
    if (c.source && c.sourceHandle) p.onConnect(c.source, c.sourceHandle, c.target ?? undefined);
  }, [p]);

  const onReconnectStart = useCallback(() => {
    reconnected.current = false;
  }, []);
  const onReconnect = useCallback(
    (old: RFEdge, c: Connection) => {
      reconnected.current = true;
      if (c.source !== old.source || c.sourceHandle !== old.sourceHandle) p.onConnect(old.source, old.sourceHandle!, undefined);
      if (c.source && c.sourceHandle) p.onConnect(c.source, c.sourceHandle, c.target ?? undefined);
    },
    [p],
  );
  const onReconnectEnd = useCallback(
    (_: unknown, old: RFEdge) => {
      // An edge dragged off its target and dropped on nothing is deleted.
      if (!reconnected.current) p.onConnect(old.source, old.sourceHandle!, undefined);
      reconnected.current = true;
    },
    [p],
  );

  const onDelete = useCallback(
    ({ nodes: ns, edges: es }: { nodes: AnyNode[]; edges: RFEdge[] }) => {
      if (p.readOnly) return;
      const notes = ns.filter((n) => isNoteId(n.id)).map((n) => n.id.slice(NotePrefix.length));
      const flowNodes = ns.filter((n) => !isNoteId(n.id)).map((n) => n.id);
      if (notes.length) p.onNotesDelete(notes);
      if (flowNodes.length || es.length) {
        p.onDelete(
          flowNodes,
          es.map((e) => ({ source: e.source, handle: e.sourceHandle! })),
        );
      }
      setSelectedEdges(new Set());
    },
    [p],
  );

  // A double click on a node brings it to the middle at 100 % (or closer).
  const onNodeDoubleClick = useCallback(
    (_: unknown, n: AnyNode) => {
      if (isNoteId(n.id)) return;
      void rf.setCenter(n.position.x + NodeWidth / 2, n.position.y + (n.measured?.height ?? 120) / 2, { zoom: Math.max(1, rf.getZoom()), duration: 200 });
    },
    [rf],
  );

  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes('application/x-parley-node')) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    }
  }, []);
  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData('application/x-parley-node');
      if (!type || p.readOnly) return;
      e.preventDefault();
      const pos = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      p.onDropType(type, pos.x, pos.y);
    },
    [p, rf],
  );

  // A press on the canvas takes the keyboard from the properties panel:
  // Delete, Ctrl+V and Ctrl+Z then act on the flow, not on the field last
  // typed in (which read as "Delete did nothing" and "undo undid my fix").
  const takeKeyboard = useCallback((e: ReactMouseEvent) => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body || (e.currentTarget as HTMLElement).contains(el)) return;
    if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable) el.blur();
  }, []);

  return (
    <div onMouseDownCapture={takeKeyboard} className={`canvas ${far ? 'far' : ''} ${veryFar ? 'very-far' : ''} ${tiny ? 'tiny' : ''}`} style={{ ['--lod' as string]: lod }} data-testid="canvas" data-lod={lod} onDragOver={onDragOver} onDrop={onDrop}>
      <ReactFlow<AnyNode, RFEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onReconnect={onReconnect}
        onReconnectStart={onReconnectStart}
        onReconnectEnd={onReconnectEnd}
        onDelete={onDelete}
        onNodeDoubleClick={onNodeDoubleClick}
        nodesConnectable={!p.readOnly}
        nodesDraggable={!p.readOnly}
        edgesReconnectable={!p.readOnly}
        deleteKeyCode={p.readOnly ? null : ['Delete', 'Backspace']}
        multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
        minZoom={0.05}
        maxZoom={2}
        onlyRenderVisibleElements
        fitView={initialFit}
        fitViewOptions={{ maxZoom: 1 }}
        defaultViewport={{ x: 40, y: 40, zoom: 1 }}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={20} />
        <MiniMap pannable zoomable nodeStrokeWidth={3} data-testid="minimap" />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
