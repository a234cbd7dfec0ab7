-- A flow's head (published version, archived) as columns, and a change
-- counter: the shared-store flow refresh (FlowHeadsSince) reads one row
-- when no flow changed, and only the heads of those that did, never the
-- drafts. flow_clock's one row is incremented by every write of a flow
-- record, whose changed column takes the new value: its row lock, held to
-- the commit, numbers the writes in their commit order.
ALTER TABLE flows
	ADD COLUMN published integer NOT NULL DEFAULT 0,
	ADD COLUMN archived  boolean NOT NULL DEFAULT false,
	ADD COLUMN changed   bigint  NOT NULL DEFAULT 1;
UPDATE flows SET
	published = coalesce((convert_from(data, 'UTF8')::jsonb ->> 'published')::integer, 0),
	archived  = coalesce((convert_from(data, 'UTF8')::jsonb ->> 'archived')::boolean, false);
CREATE INDEX flows_changed ON flows (changed);

CREATE TABLE flow_clock (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	n   bigint NOT NULL
);
INSERT INTO flow_clock (n) VALUES (1);
