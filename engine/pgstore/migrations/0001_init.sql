-- Parley's PostgreSQL schema, version 1. Times that order or filter are
-- bigint nanoseconds since the Unix epoch (Go's time has nanoseconds,
-- PostgreSQL's timestamps microseconds); records are their JSON, as bytea.
-- Text keys are COLLATE "C": they order byte by byte, as bbolt's keys do.

CREATE TABLE contacts (
	key  text COLLATE "C" PRIMARY KEY,
	data bytea NOT NULL
);

CREATE TABLE aliases (
	alias text COLLATE "C" PRIMARY KEY,
	key   text COLLATE "C" NOT NULL
);

CREATE TABLE conversations (
	id          text COLLATE "C" PRIMARY KEY,
	contact     text COLLATE "C" NOT NULL,
	flow        text COLLATE "C" NOT NULL,
	status      text COLLATE "C" NOT NULL,
	started_ns  bigint NOT NULL,
	activity_ns bigint NOT NULL,
	data        bytea NOT NULL
);
CREATE INDEX conversations_contact ON conversations (contact, started_ns, id);
CREATE INDEX conversations_activity ON conversations (activity_ns DESC, id DESC);
CREATE INDEX conversations_status ON conversations (status, activity_ns DESC, id DESC);
CREATE INDEX conversations_flow ON conversations (flow, activity_ns DESC, id DESC);

CREATE TABLE messages (
	conversation text COLLATE "C" NOT NULL,
	seq          bigint NOT NULL,
	data         bytea NOT NULL,
	PRIMARY KEY (conversation, seq)
);

-- The outbox. A claimed entry is being sent (engine.Change.Claim); owner
-- and lease_until say by which process, until when (lease.go).
CREATE TABLE outbox (
	seq          bigserial PRIMARY KEY,
	conversation text COLLATE "C" NOT NULL,
	msg_seq      bigint NOT NULL,
	claimed      boolean NOT NULL DEFAULT false,
	owner        text,
	lease_until  timestamptz
);

CREATE TABLE timers (
	due_ns       bigint NOT NULL,
	kind         text COLLATE "C" NOT NULL,
	conversation text COLLATE "C" NOT NULL,
	node         text COLLATE "C" NOT NULL,
	data         bytea NOT NULL,
	PRIMARY KEY (due_ns, kind, conversation, node)
);

-- Inbound message ids committed, by the contact key they came under:
-- dedupe by primary key, in the commit's transaction.
CREATE TABLE inbound (
	contact text COLLATE "C" NOT NULL,
	id      text COLLATE "C" NOT NULL,
	at_ns   bigint NOT NULL,
	PRIMARY KEY (contact, id)
);
CREATE INDEX inbound_at ON inbound (at_ns);

CREATE TABLE flows (
	id   text COLLATE "C" PRIMARY KEY,
	data bytea NOT NULL
);

CREATE TABLE flow_versions (
	flow    text COLLATE "C" NOT NULL,
	version integer NOT NULL,
	data    bytea NOT NULL,
	PRIMARY KEY (flow, version)
);

CREATE TABLE templates (
	name     text COLLATE "C" NOT NULL,
	language text COLLATE "C" NOT NULL,
	data     bytea NOT NULL,
	PRIMARY KEY (name, language)
);

CREATE TABLE phone_numbers (
	key  text COLLATE "C" PRIMARY KEY,
	data bytea NOT NULL
);

CREATE TABLE reach (
	scope   text COLLATE "C" NOT NULL,
	at_ns   bigint NOT NULL,
	contact text COLLATE "C" NOT NULL,
	PRIMARY KEY (scope, at_ns, contact)
);
CREATE INDEX reach_contact ON reach (scope, contact, at_ns);

CREATE TABLE flow_stats (
	flow    text COLLATE "C" NOT NULL,
	day     integer NOT NULL,
	version integer NOT NULL,
	node    text COLLATE "C" NOT NULL,
	kind    smallint NOT NULL,
	exit    text COLLATE "C" NOT NULL,
	n       bigint NOT NULL,
	PRIMARY KEY (flow, day, version, node, kind, exit)
);

-- The subsystems' records (inbox.Records, auth.Records,
-- schedule.Records, quarantine.Records, secrets.Records).
CREATE TABLE inbox_agents (key text COLLATE "C" PRIMARY KEY, data bytea NOT NULL);
CREATE TABLE inbox_queues (key text COLLATE "C" PRIMARY KEY, data bytea NOT NULL);
CREATE TABLE inbox_canned (key text COLLATE "C" PRIMARY KEY, data bytea NOT NULL);
CREATE TABLE inbox_reads (conversation text COLLATE "C" PRIMARY KEY, seq bigint NOT NULL);

CREATE TABLE auth_users (key text COLLATE "C" PRIMARY KEY, data bytea NOT NULL);
CREATE TABLE auth_sessions (key bytea PRIMARY KEY, data bytea NOT NULL);
CREATE TABLE auth_tokens (key bytea PRIMARY KEY, data bytea NOT NULL);

CREATE TABLE schedule_defs (key text COLLATE "C" PRIMARY KEY, data bytea NOT NULL);
CREATE TABLE schedule_firings (
	id       text COLLATE "C" PRIMARY KEY,
	schedule text COLLATE "C" NOT NULL,
	at_ns    bigint NOT NULL,
	active   boolean NOT NULL,
	data     bytea NOT NULL
);
CREATE INDEX schedule_firings_of ON schedule_firings (schedule, id);
CREATE INDEX schedule_firings_active ON schedule_firings (at_ns, id) WHERE active;
CREATE TABLE schedule_sends (
	firing  text COLLATE "C" NOT NULL,
	contact text COLLATE "C" NOT NULL,
	data    bytea NOT NULL,
	PRIMARY KEY (firing, contact)
);

CREATE TABLE quarantine (seq bigserial PRIMARY KEY, data bytea NOT NULL);

CREATE TABLE secrets (key text COLLATE "C" PRIMARY KEY, data bytea NOT NULL);
