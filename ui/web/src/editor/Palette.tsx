import { NodeTypes } from './graph';
import { TypeHelp, TypeLabels } from './summary';

/** Palette offers every node type: drag one onto the canvas, or click to add it at the centre. */
export function Palette({ onAdd, onAddNote }: { onAdd: (type: string) => void; onAddNote?: () => void }) {
  return (
    <div className="palette" data-testid="palette">
      <div className="palette-title">Add a step</div>
      {NodeTypes.map((t) => (
        <button
          key={t}
          className={`palette-item t-${t}`}
          draggable
          title={TypeHelp[t]}
          onDragStart={(e) => {
            e.dataTransfer.setData('application/x-parley-node', t);
            e.dataTransfer.effectAllowed = 'copy';
          }}
          onClick={() => onAdd(t)}
          data-testid={`palette-${t}`}
        >
          {TypeLabels[t]}
        </button>
      ))}
      {onAddNote && (
        <button className="palette-item palette-note" title="A sticky note for the team: not a step of the flow" onClick={onAddNote} data-testid="palette-note">
          Note
        </button>
      )}
    </div>
  );
}
