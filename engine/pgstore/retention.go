package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/engine/model"
)

// pruneBatch caps the conversations one retention transaction deletes,
// each with its transcript: a transaction of milliseconds, so that what
// it locks is held that long at most. A variable for the tests.
var pruneBatch = 500

// pruneLockTimeout bounds any wait of a retention transaction for a lock
// (it takes none it could wait for but the rows of messages a commit is
// updating): past it, the pass fails and the next one tries again.
const pruneLockTimeout = "2s"

// doneStatuses are the statuses of conversations the retention may
// delete: a conversation in them never runs again.
var doneStatuses = []model.Status{model.Ended, model.Expired, model.Failed}

// PruneConversations deletes the conversations that are done (ended,
// expired or failed) and whose last activity is before before, each with
// its transcript and inbox read mark, and returns how many it deleted. As
// boltstore's, it keeps a conversation with an outbound message still in
// the outbox (queued or being sent), rewrites a contact whose current
// conversation it deletes to have none, and keeps contacts themselves.
//
// It walks each done status through the index by status and activity,
// oldest first, in transactions of at most pruneBatch conversations, and
// never waits for a commit: it takes the conversations' rows with FOR
// UPDATE SKIP LOCKED, and passes over (until the next pass) a conversation
// whose contact's lock is held, by a turn (LockContact) or a commit
// (Commit's lock), or whose contact's row is locked. So several processes
// may run it at once, each deleting what the others have not taken, and
// what a transaction has deleted stays deleted if a later one fails or
// ctx ends.
func (s *Store) PruneConversations(ctx context.Context, before time.Time) (int, error) {
	if err := s.live(ctx); err != nil {
		return 0, err
	}
	total := 0
	for _, status := range doneStatuses {
		cur := pruneCursor{at: math.MinInt64}
		for {
			b, err := s.pruneBatchOf(ctx, status, ns(before), cur)
			total += b.deleted
			if err != nil {
				return total, fmt.Errorf("pgstore: retention of %s conversations: %w", status, err)
			}
			if !b.more {
				break
			}
			cur = b.next
		}
	}
	return total, nil
}

// pruneCursor is where a status's walk resumes: after this activity and id.
type pruneCursor struct {
	at int64
	id string
}

// pruned is what one retention transaction did.
type pruned struct {
	deleted int
	more    bool // a full batch: the walk goes on after next
	next    pruneCursor
}

// pruneBatchOf deletes, in one transaction, what it may of the next
// pruneBatch conversations of status last active before before, after cur.
func (s *Store) pruneBatchOf(ctx context.Context, status model.Status, before int64, cur pruneCursor) (pruned, error) {
	var b pruned
	err := s.tx(ctx, func(tx pgx.Tx) error {
		b = pruned{}
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+pruneLockTimeout+`'`); err != nil {
			return err
		}
		// The candidates, their rows locked; rows a commit holds are
		// skipped.
		rows, err := tx.Query(ctx, `SELECT id, contact, activity_ns FROM conversations
			WHERE status = $1 AND activity_ns < $2 AND (activity_ns, id) > ($3, $4::text COLLATE "C")
			ORDER BY activity_ns, id LIMIT $5 FOR UPDATE SKIP LOCKED`,
			string(status), before, cur.at, cur.id, pruneBatch)
		if err != nil {
			return err
		}
		var ids, contacts []string
		var id, contact string
		var at int64
		if _, err := pgx.ForEachRow(rows, []any{&id, &contact, &at}, func() error {
			ids, contacts = append(ids, id), append(contacts, contact)
			b.next = pruneCursor{at: at, id: id}
			return nil
		}); err != nil {
			return err
		}
		b.more = len(ids) == pruneBatch
		if len(ids) == 0 {
			return nil
		}
		// The contacts no turn nor commit holds, taken for the rest of
		// the transaction (a turn or commit that starts now waits for its
		// end): no new message can be queued to their conversations.
		free, err := tryContacts(ctx, tx, contacts)
		if err != nil {
			return err
		}
		// Their rows, unless a commit (of another lock key, an alias's)
		// holds one.
		current, err := lockContactRows(ctx, tx, free)
		if err != nil {
			return err
		}
		// What is still in the outbox, read after the locks: a commit
		// that queued a message before them is seen.
		rows, err = tx.Query(ctx, `SELECT DISTINCT conversation FROM outbox WHERE conversation = ANY($1)`, ids)
		if err != nil {
			return err
		}
		sending, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		var gone []string
		for i, id := range ids {
			if free[contacts[i]] && !slices.Contains(sending, id) {
				gone = append(gone, id)
			}
		}
		if len(gone) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `DELETE FROM messages WHERE conversation = ANY($1)`, gone); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM inbox_reads WHERE conversation = ANY($1)`, gone); err != nil {
			return err
		}
		for key, ct := range current {
			if ct.Conversation == "" || !slices.Contains(gone, ct.Conversation) {
				continue
			}
			ct.Conversation = ""
			data, err := json.Marshal(ct)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE contacts SET data = $2 WHERE key = $1`, key, data); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `DELETE FROM conversations WHERE id = ANY($1)`, gone)
		if err != nil {
			return err
		}
		b.deleted = int(tag.RowsAffected())
		return nil
	})
	return b, err
}

// tryContacts takes, without waiting, the turn's and the commit's locks of
// each contact (LockContact's session lock and Commit's transaction lock
// conflict with these transaction locks) and returns those it took.
func tryContacts(ctx context.Context, tx pgx.Tx, contacts []string) (map[string]bool, error) {
	keys := slices.Clone(contacts)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	rows, err := tx.Query(ctx, `SELECT k, pg_try_advisory_xact_lock($2, hashtext(k)) AND pg_try_advisory_xact_lock($3, hashtext(k))
		FROM unnest($1::text[]) AS k`, keys, classContact, classCommit)
	if err != nil {
		return nil, err
	}
	free := map[string]bool{}
	var k string
	var ok bool
	_, err = pgx.ForEachRow(rows, []any{&k, &ok}, func() error {
		if ok {
			free[k] = true
		}
		return nil
	})
	return free, err
}

// lockContactRows locks the rows of the free contacts that nothing else
// holds and returns them decoded; a contact whose row another transaction
// holds is taken out of free. A contact with no row stays free.
func lockContactRows(ctx context.Context, tx pgx.Tx, free map[string]bool) (map[string]*model.Contact, error) {
	keys := make([]string, 0, len(free))
	for k := range free {
		keys = append(keys, k)
	}
	slices.Sort(keys) // one order for every pruner
	rows, err := tx.Query(ctx, `SELECT key, data FROM contacts WHERE key = ANY($1) ORDER BY key FOR UPDATE SKIP LOCKED`, keys)
	if err != nil {
		return nil, err
	}
	out := map[string]*model.Contact{}
	var key string
	var data []byte
	if _, err := pgx.ForEachRow(rows, []any{&key, &data}, func() error {
		ct := &model.Contact{}
		if err := json.Unmarshal(data, ct); err != nil {
			return fmt.Errorf("decoding contact %q: %w", key, err)
		}
		out[key] = ct
		return nil
	}); err != nil {
		return nil, err
	}
	if len(out) == len(keys) {
		return out, nil
	}
	// Those not returned are either missing (free) or held (not).
	rows, err = tx.Query(ctx, `SELECT key FROM contacts WHERE key = ANY($1)`, keys)
	if err != nil {
		return nil, err
	}
	exist, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, k := range exist {
		if out[k] == nil {
			delete(free, k)
		}
	}
	return out, nil
}
