-- Timer claims (model.TimerClaimer, timers.go): the process firing a due
-- timer (owner, as the outbox's) and until when its claim holds, in
-- nanoseconds of the engine's clock. NULL: not claimed.
ALTER TABLE timers ADD COLUMN owner text COLLATE "C", ADD COLUMN lease_ns bigint;

-- The processes sending from the database (model.Peers, peers.go), which
-- share each business number's throughput: live until until_ns, without a
-- gap since joined_ns (nanoseconds of their pacing clocks).
CREATE TABLE live_processes (
	owner     text COLLATE "C" PRIMARY KEY,
	joined_ns bigint NOT NULL,
	until_ns  bigint NOT NULL
);
