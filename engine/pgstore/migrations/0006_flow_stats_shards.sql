-- Flow counters split into shards. Every turn of a flow adds to the same
-- few counters (its flow, day, version and nodes), so with one row per
-- counter every commit waited on the row lock of the one before it, held
-- until that one's commit was on disk: measured under load, the wait of
-- most commits (pg_stat_activity: Lock/transactionid on this upsert), and
-- worse the more processes write. A commit now adds to the row of its
-- connection's shard, pg_backend_pid() modulo 1024: transactions running
-- at once are on different connections, so they almost never share a row.
-- FlowStats adds the shards up.
ALTER TABLE flow_stats ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE flow_stats DROP CONSTRAINT flow_stats_pkey;
ALTER TABLE flow_stats ADD PRIMARY KEY (flow, day, version, node, kind, exit, shard);
