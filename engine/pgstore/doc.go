// Package pgstore is Parley's PostgreSQL backend (jackc/pgx v5): the
// engine's Store and the subsystems' records (inbox, sign-in, schedules,
// quarantine, secrets, event webhooks) in one database, which several
// Parley processes may share (model.SharedStore). `parley serve` uses it
// when PARLEY_STORE is a postgres:// URL; bbolt stays the default.
//
// # Schema
//
// The migrations in migrations/ are numbered (0001_init.sql, …) and
// applied at Open, those not applied yet, in order, under a database-wide
// advisory lock, so processes starting together apply each once
// (table schema_migrations records them). Two files of one number are
// refused: a number is never reused, a later change is a new file.
// Records are their JSON; the columns beside it are what orders, filters
// and claims.
//
// # Several processes
//
// What each process would otherwise trust its memory for, the database
// decides (docs/design.md, "Several processes"):
//
//   - A contact's turn holds its session advisory lock in every process
//     (LockContact, lease.go); a commit takes its contact's transaction
//     lock and deduplicates the inbound id by primary key.
//   - An outbox entry is claimed by its owner with a lease (lease.go):
//     another owner's live claim is not listed; once it runs out, the next
//     claimer settles the send as unknown, never sending it twice.
//   - Due timers are claimed with FOR UPDATE SKIP LOCKED and a lease
//     (ClaimTimers, timers.go; model.TimerClaimer): processes fire
//     different timers, a dead process's are taken over after
//     engine.TimerLease, and a restart under the same owner takes its own
//     back at once.
//   - Event deliveries are claimed the same way (ClaimDue, events.go).
//   - The messaging limit is checked and recorded in the claim's commit,
//     under the portfolio's lock (reserveReach, engine.go).
//   - Each number's throughput is shared: every dispatcher beats in table
//     live_processes (Heartbeat, peers.go; model.Peers) and paces at the
//     number's rate divided by the processes live.
//   - Flows published elsewhere are found by a one-row read
//     (FlowHeadsSince, engine.go; model.FlowHeads): a trigger numbers
//     every write of a flow record in flow_clock.
//   - The inbox's views are tied together by a feed (Feed, feed.go;
//     inbox.Feed): commits and record writes that touch the inbox send a
//     NOTIFY of ids in their own transaction, each process listens on a
//     connection of its own and reads those rows again, and that
//     connection holds the inbox's lead, a session advisory lock: one
//     process at a time makes the assignment passes.
//
// A Store's owner names its claims and its heartbeat: WithOwner gives a
// name that stays across restarts (serve: host and data directory);
// without it, a random one. Leases of outbox claims last DefaultLease,
// or the URL's parley_lease (LeaseParam).
//
// # Retention, checks and backups
//
// PruneConversations (retention.go) deletes old done conversations in
// batches taken FOR UPDATE SKIP LOCKED, passing over, without waiting, what
// a turn or a commit holds: several processes prune at once. Check
// (check.go) is `parley check --store`: one read-only snapshot beside the
// running processes. DumpCommand (dump.go) is `parley backup --store`'s
// pg_dump.
//
// # Connections
//
// A Store holds up to PoolConns connections for its reads and commits
// (pool_max_conns changes it) and LockConns more for contacts' locks.
// Its inbox feed, when run, holds one more, outside both pools.
package pgstore
