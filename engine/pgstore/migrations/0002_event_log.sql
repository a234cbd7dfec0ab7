-- The event log (engine.EventLog): a commit's Change.Events, in order.
CREATE TABLE event_log (
	seq  bigserial PRIMARY KEY,
	data bytea NOT NULL
);
