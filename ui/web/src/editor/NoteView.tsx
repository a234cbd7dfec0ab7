import { memo } from 'react';
import type { Node, NodeProps } from '@xyflow/react';

export interface NoteData extends Record<string, unknown> {
  noteId: string;
  text: string;
  readOnly: boolean;
  onText: (id: string, text: string) => void;
  onDelete: (id: string) => void;
}

export type NoteNode = Node<NoteData, 'note'>;

/** NoteView draws a sticky note: a comment for the team, not a step of the flow. */
export const NoteView = memo(function NoteView({ data, selected }: NodeProps<NoteNode>) {
  return (
    <div className={`sticky ${selected ? 'selected' : ''}`} data-testid={`sticky-${data.noteId}`}>
      <div className="sticky-head">
        <span>Note</span>
        {!data.readOnly && (
          <button type="button" className="sticky-x nodrag" title="Delete the note" aria-label="Delete the note" onClick={() => data.onDelete(data.noteId)}>
            ×
          </button>
        )}
      </div>
      <textarea
        className="nodrag nowheel"
        value={data.text}
        readOnly={data.readOnly}
        placeholder="A note for the team…"
        aria-label="Note text"
        onChange={(e) => data.onText(data.noteId, e.target.value)}
        data-testid={`sticky-text-${data.noteId}`}
      />
    </div>
  );
});
