-- A flow's head (published version, archived) as columns, and a change
-- counter: the shared-store flow refresh (FlowHeadsSince) reads one row
-- when no flow changed, and only the heads of those that did, never the
-- drafts. A trigger keeps the columns: every write of a flow record, by
-- this version or by an older one still running in a rolling upgrade,
-- takes its head from the record and the next number of flow_clock's one
-- row, whose row lock, held to the commit, numbers the writes in their
-- commit order.
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

CREATE FUNCTION flows_head() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
	rec jsonb := convert_from(NEW.data, 'UTF8')::jsonb;
BEGIN
	NEW.published := coalesce((rec ->> 'published')::integer, 0);
	NEW.archived := coalesce((rec ->> 'archived')::boolean, false);
	UPDATE flow_clock SET n = n + 1 RETURNING n INTO NEW.changed;
	RETURN NEW;
END
$$;
CREATE TRIGGER flows_head BEFORE INSERT OR UPDATE ON flows FOR EACH ROW EXECUTE FUNCTION flows_head();
