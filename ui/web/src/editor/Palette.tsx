import { NodeTypes } from './graph';
import { TypeHelp, TypeLabels } from './summary';

/** Palette offers every node type: drag one onto the canvas, or click to add it at the centre. */
export function Palette({ onAdd }: { onAdd: (type: string) => void }) {
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
    </div>
  );
}
