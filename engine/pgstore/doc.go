// Package pgstore is Parley's PostgreSQL backend (PARLEY_STORE=postgres://…):
// model.Store and the subsystems' records over jackc/pgx, for several
// Parley processes sharing one database (model.SharedStore).
//
// Its files, by job:
//
//   - store.go: Open, the pools and the versioned migrations
//     (migrations/*.sql, applied at start under an advisory lock);
//   - engine.go: Commit (one transaction, the contact's advisory lock,
//     inbound dedupe by primary key) and the engine's reads; flows, with
//     FlowHeadsSince (model.FlowHeads: the shared refresh's one-row read);
//   - lease.go: the contacts' locks across processes and the outbox
//     claims' leases;
//   - records.go, events.go: the inbox's, sign-in's, schedules',
//     quarantine's, secrets' and event webhooks' records;
//   - retention.go: PruneConversations, in batches that never wait for a
//     commit, safe with several processes pruning at once;
//   - check.go: Check, the integrity check of `parley check --store`;
//   - dump.go: DumpCommand, the pg_dump of `parley backup --store`.
package pgstore
