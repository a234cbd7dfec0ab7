// Package boltstore is the embedded model.Store: one bbolt file, buckets
// per kind, keys chosen so that every hot read is one lookup or a short
// range scan.
//
// # Buckets
//
//	contact_data              a customer's records together, under group 0x00 (keys.go):
//	                            group 0x00 'k' → Contact (JSON), owner = contact key
//	                            group 0x00 'c' suffix 0x00 'r' → Conversation (JSON)
//	                            group 0x00 'c' suffix 0x00 'm' seq (8 bytes BE) → Message (JSON)
//	                            group 0x00 'i' inbound id → committed at (8 bytes), owner =
//	                              the key the message named (Change.InboundKey)
//	                            slot 0x00 'a' → owner, in a slot group
//	                          where a conversation's owner is its id up to the last '#'
//	                          (the contact key, for ids the engine makes) and suffix the
//	                          rest; the group is the owner's slot (0xff + its number in
//	                          16 hex digits, in order of creation: groups.go) or, for an
//	                          owner first written before schema 5, the owner itself
//	contact_groups            owner → its slot group in contact_data
//	contact_conversations     contact key 0x00 conversation id → 1, only for a conversation
//	                          whose contact is not its group
//	outbox                    sequence (8 bytes BE) → contact_data key of a queued message,
//	                          with 0x00 in front while claimed (being sent)
//	timers                    due (8 bytes) kind 0x00 conversation id 0x00 node → Timer (JSON)
//	inbound                   inbound message id → committed at (8 bytes), as schema 2
//	                          kept them; read until pruned, never written
//	inbound_by_time           committed at (8 bytes) inbound message id → 'i' group
//	                          (1 for an id in inbound); PruneInbound deletes its front
//	                          and moves meta's inbound_forgotten_before (inbound.go)
//	flows                     flow id → FlowRecord (JSON)
//	flow_versions             flow id 0x00 version (4 bytes BE) → FlowVersion (JSON)
//	templates                 template name 0x00 language → TemplateRecord (JSON)
//	contact_aliases           contact key → contact key it stands for
//	reach                     scope 0x00 time (8 bytes) contact key → 1 (messaging limit, reach.go)
//	reach_by_contact          scope 0x00 contact key 0x00 time (8 bytes) → 1; PruneReach
//	                          deletes the front of reach and moves meta's
//	                          reach_forgotten_before (reach_prune.go)
//	flow_stats                flow id 0x00 day (yyyymmdd, 4 bytes BE) version (4 bytes BE) node 0x00 kind (1 byte) exit → count (8 bytes BE; stats.go)
//	conversation_index        's' status 0x00 activity time id → status 0x00 flow 0x00
//	                          contact (index.go); beside each conversation record,
//	                          contact_data keeps what it is indexed under (sub-kind 'x')
//	contacts_by_wa_id         wa_id 0x00 contact key → 1, for contacts not keyed by their
//	                          wa_id (index.go)
//	events_log                sequence (8 bytes BE) → model.Event (JSON): Change.Events, made
//	                          by the first commit that records one; it and the event
//	                          webhooks' events_* buckets are listed in events.go
//	meta                      "schema" → schema version (8 bytes BE); "inbound_forgotten_before"
//	                          → the time (8 bytes) before which inbound ids are forgotten,
//	                          stored or not (inbound.go); "reach_forgotten_before" → the
//	                          same for reaches; "migrating_from_1" → 1
//	                          while Open moves a version-1 file's records (migrate.go);
//	                          "indexing_from" while Open builds schema 4's indexes
//	                          (migrate_index.go)
//
// One event rewrites its contact and conversation and appends messages:
// in contact_data these are neighbours (the conversation's record right
// after its newest message, the contact's right after its last
// conversation), so the event dirties one or two leaf pages there instead
// of one in each of three buckets. No index maps a conversation to its
// contact: the engine's conversation ids are contact key + "#" + n, so the
// id names its owner, and contact_groups the owner's group. (A contact's
// tenth conversation, "#10", sorts before "#2": from then on the contact
// record is a transcript away from the active conversation, one page more
// per event.) Groups are numbered in order of creation, so a new
// customer's records are appended at the right edge of contact_data
// rather than at a random place of a tree of every customer ever seen
// (groups.go).
//
// Times in keys are UnixNano, big-endian with the sign bit flipped, so byte
// order is time order. So DueTimers and NextTimer read the front of timers
// and start-up never scans conversations; PruneInbound reads and deletes
// the front of inbound_by_time, never the ids in contact_data (inbound.go);
// a transcript and a flow's versions are each one range scan; a contact's
// conversations are a range scan of its group that seeks past each
// transcript; ListContacts seeks from group to group and merges the owners
// of contact_groups;
// ListConversations reads a range of conversation_index backwards (index.go)
// and ContactsByWaID one of contacts_by_wa_id. Reads that grow with the
// history are only those that must: ListContacts' walk of every contact
// (schedules' audiences), Check, and the retention's prune (retention.go),
// which deletes it.
// Ids, keys, timer kinds and nodes must not contain a NUL byte, which ends
// their part of a composite key, and contact keys and conversation ids must
// not start with byte 0xff, which starts a slot's name; times stored in
// keys must lie between the years 1678 and 2262.
//
// # Group commit
//
// Every write (Commit, SaveFlow, Publish, SaveTemplates,
// PruneInbound) goes to one committer goroutine, which applies all the
// writes queued at that moment, up to a cap (WithMaxBatch), in one bbolt
// transaction: one fsync for all of them, then every waiter is answered.
// There is no delay: a write to an idle store commits at once; under load,
// writes queue while the previous fsync runs and the next batch takes them
// all. A Change is encoded to JSON by the goroutine calling Commit, so the
// committer only moves bytes.
//
// Within a batch, writes apply in order and each sees the ones before it.
// A write first checks, reading only, whether it must be refused: a Change
// whose inbound id is stored — by an earlier batch or earlier in the same
// batch — gets model.ErrDuplicate; one that appends over a stored message,
// or updates a missing one, gets an error too. A refused write has written
// nothing, and the rest of the batch commits. Any failure while writing
// aborts the transaction instead, and every write of the batch is retried
// in a transaction of its own, so one bad write cannot fail the others.
//
// # Sharp edges
//
//   - A write whose ctx ends after the committer took it may still commit,
//     though the caller got ctx.Err(). A Change with an inbound id can be
//     retried: a second commit is refused with model.ErrDuplicate. Other
//     writes cannot tell: a Publish retried so may make two versions.
//   - Commit appends Change.Messages and never over a stored message: one
//     already stored at (Conversation, Seq) refuses the change. Rewriting
//     is what Change.Updates are for.
//   - The freelist is written at each commit, so that Open reads it
//     instead of every page of the file (bbolt's NoFreelistSync, which
//     schema 3 used, made start-up grow with the file). A file last
//     written without it is scanned once, at the first Open.
//   - One process at a time: Open fails with ErrLocked when another holds
//     the file.
//   - Open checks a file that exists before bbolt maps it (check.go), and
//     refuses an empty, truncated, damaged or foreign one with ErrDamaged:
//     bbolt itself would fault or panic on it, or start empty over a
//     0-byte file. The check reads every page of a file up to 64 MB, and
//     the meta pages and bucket roots of a larger one; Check (`parley
//     check`) reads every page and compares the indexes with the records.
//   - Close commits the writes already queued, waits for running reads, and
//     closes the file; every call after it returns model.ErrClosed.
package boltstore
