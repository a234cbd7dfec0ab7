-- The event webhooks (engine/events.Store): subscriptions and deliveries.
CREATE TABLE event_subscriptions (
	id   text COLLATE "C" PRIMARY KEY,
	data bytea NOT NULL
);

-- A delivery's record is its JSON (data); seq, state and next_ns are the
-- columns that decide and win over it. next_ns is NULL unless the delivery
-- is pending and due at that time (NULL while it waits for an earlier
-- delivery of its subscription and order key). lease_owner and lease_ns
-- are the claim of the process posting it (ClaimDue), until lease_ns.
CREATE TABLE event_deliveries (
	seq         bigserial PRIMARY KEY,
	sub         text COLLATE "C" NOT NULL,
	order_key   text COLLATE "C" NOT NULL,
	state       text COLLATE "C" NOT NULL,
	next_ns     bigint,
	created_ns  bigint NOT NULL,
	lease_owner text COLLATE "C",
	lease_ns    bigint,
	data        bytea NOT NULL
);
CREATE INDEX event_deliveries_sub ON event_deliveries (sub, seq);
CREATE INDEX event_deliveries_chain ON event_deliveries (sub, order_key, seq) WHERE state = 'pending';
CREATE INDEX event_deliveries_due ON event_deliveries (next_ns, seq) WHERE state = 'pending' AND next_ns IS NOT NULL;
CREATE INDEX event_deliveries_created ON event_deliveries (created_ns) WHERE state <> 'pending';
