package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parleyhq/parley/engine/model"
)

// Reads run in a read-only transaction each, on one snapshot: they see
// every commit acknowledged before they started, never part of one.

func notFound(what, id string) error {
	return fmt.Errorf("pgstore: %s %q: %w", what, id, model.ErrNotFound)
}

// hasNUL reports whether a key holds a NUL byte: no stored key does
// (PostgreSQL text cannot), so reads of one find nothing.
func hasNUL(keys ...string) bool {
	for _, k := range keys {
		if strings.IndexByte(k, 0) >= 0 {
			return true
		}
	}
	return false
}

// getOne decodes the one row's data of a query into v, or ErrNotFound.
func (s *Store) getOne(ctx context.Context, v any, what, id, sql string, args ...any) error {
	if hasNUL(id) {
		if err := s.live(ctx); err != nil {
			return err
		}
		return notFound(what, id)
	}
	return s.read(ctx, func(q querier) error {
		var data []byte
		err := q.QueryRow(ctx, sql, args...).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(what, id)
		}
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("pgstore: decoding %s %q: %w", what, id, err)
		}
		return nil
	})
}

// collect decodes the data column of every row into a new T.
func collect[T any](rows pgx.Rows, what string) ([]*T, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*T, error) {
		var data []byte
		if err := r.Scan(&data); err != nil {
			return nil, err
		}
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return nil, fmt.Errorf("pgstore: decoding %s: %w", what, err)
		}
		return v, nil
	})
}

// queryAll runs a query in a view and decodes its rows' data.
func queryAll[T any](ctx context.Context, s *Store, what, sql string, args ...any) ([]*T, error) {
	var out []*T
	err := s.read(ctx, func(q querier) error {
		rows, err := q.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		out, err = collect[T](rows, what)
		return err
	})
	return out, err
}

// Contact returns a contact, or model.ErrNotFound.
func (s *Store) Contact(ctx context.Context, key model.ContactKey) (*model.Contact, error) {
	c := &model.Contact{}
	if err := s.getOne(ctx, c, "contact", string(key), `SELECT data FROM contacts WHERE key = $1`, string(key)); err != nil {
		return nil, err
	}
	return c, nil
}

// Conversation returns a conversation, or model.ErrNotFound.
func (s *Store) Conversation(ctx context.Context, id string) (*model.Conversation, error) {
	c := &model.Conversation{}
	if err := s.getOne(ctx, c, "conversation", id, `SELECT data FROM conversations WHERE id = $1`, id); err != nil {
		return nil, err
	}
	return c, nil
}

// ListContacts returns a page of contacts, by key.
func (s *Store) ListContacts(ctx context.Context, after model.ContactKey, limit int) ([]*model.Contact, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	if hasNUL(string(after)) {
		after = model.ContactKey(strings.ReplaceAll(string(after), "\x00", ""))
	}
	return queryAll[model.Contact](ctx, s, "contact", `SELECT data FROM contacts WHERE key > $1 ORDER BY key LIMIT $2`, string(after), limit)
}

// Alias returns the contact key an alias points at.
func (s *Store) Alias(ctx context.Context, key model.ContactKey) (model.ContactKey, bool, error) {
	var to string
	if hasNUL(string(key)) {
		return "", false, s.live(ctx)
	}
	err := s.read(ctx, func(q querier) error {
		err := q.QueryRow(ctx, `SELECT key FROM aliases WHERE alias = $1`, string(key)).Scan(&to)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	return model.ContactKey(to), to != "", err
}

// Seen reports whether an inbound id was committed under key.
func (s *Store) Seen(ctx context.Context, key model.ContactKey, inboundID string) (bool, error) {
	var seen bool
	if hasNUL(string(key), inboundID) {
		return false, s.live(ctx)
	}
	err := s.read(ctx, func(q querier) error {
		return q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM inbound WHERE contact = $1 AND id = $2)`, string(key), inboundID).Scan(&seen)
	})
	return seen, err
}

// Commit makes c durable in one transaction, all or nothing (see
// boltstore's Commit for the rules of a change, which are the same). The
// transaction first takes an advisory lock on the change's contact, so
// commits of one contact run one at a time in every process sharing the
// database; the inbound id is deduplicated by the primary key of table
// inbound, in the same transaction. Queued messages enter the outbox in
// order; commits running in parallel may make their sequence numbers
// visible out of order (a reader that has seen n may later find a smaller
// one), which is why the engine's dispatcher, on a SharedStore, reads the
// whole outbox rather than what follows the highest number it saw. A
// reach with a Limit is recorded only within it (reserveReach), or the
// change is refused with model.ErrOverLimit. A change that writes a
// conversation that is or was handed off, or a message of one, tells the
// other processes' inboxes in the same transaction (feed.go).
func (s *Store) Commit(ctx context.Context, c *model.Change) error {
	if err := s.live(ctx); err != nil {
		return err
	}
	w, err := encode(c)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error { return w.apply(ctx, s, tx) })
}

// change is a Change encoded for its statements.
type change struct {
	c        *model.Change
	lockKey  string
	inbound  string
	inKey    string
	at       time.Time
	contact  []byte
	convs    [][]byte
	msgs     [][]byte
	updates  [][]byte
	setTimer [][]byte
}

func encode(c *model.Change) (*change, error) {
	w := &change{c: c, at: c.At}
	if w.at.IsZero() {
		w.at = time.Now()
	}
	if c.Contact != nil {
		if err := checkKey("contact key", string(c.Contact.Key)); err != nil {
			return nil, err
		}
		v, err := json.Marshal(c.Contact)
		if err != nil {
			return nil, fmt.Errorf("pgstore: contact %s: %w", c.Contact.Key, err)
		}
		w.contact, w.lockKey = v, string(c.Contact.Key)
	}
	if c.InboundID != "" {
		key := c.InboundKey
		if key == "" && c.Contact != nil {
			key = c.Contact.Key
		}
		if err := checkKey("inbound key", string(key)); err != nil {
			return nil, fmt.Errorf("pgstore: change of inbound %s: %w", c.InboundID, err)
		}
		if err := checkKey("inbound id", c.InboundID); err != nil {
			return nil, err
		}
		w.inbound, w.inKey = c.InboundID, string(key)
		if w.lockKey == "" {
			w.lockKey = string(key)
		}
	}
	for _, conv := range c.Conversations {
		if conv == nil {
			return nil, errors.New("pgstore: nil conversation in change")
		}
		if err := checkKey("conversation id", conv.ID); err != nil {
			return nil, err
		}
		v, err := json.Marshal(conv)
		if err != nil {
			return nil, fmt.Errorf("pgstore: conversation %s: %w", conv.ID, err)
		}
		w.convs = append(w.convs, v)
		if w.lockKey == "" {
			w.lockKey = string(conv.Contact)
		}
	}
	for i, m := range c.Messages {
		if m == nil {
			return nil, errors.New("pgstore: nil message in change")
		}
		if err := checkKey("message conversation", m.Conversation); err != nil {
			return nil, err
		}
		for _, o := range c.Messages[:i] {
			if o.Conversation == m.Conversation && o.Seq == m.Seq {
				return nil, fmt.Errorf("pgstore: message %s #%d twice in one change", m.Conversation, m.Seq)
			}
		}
		v, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("pgstore: message %s #%d: %w", m.Conversation, m.Seq, err)
		}
		w.msgs = append(w.msgs, v)
	}
	for _, m := range c.Updates {
		if m == nil {
			return nil, errors.New("pgstore: nil message update in change")
		}
		v, err := json.Marshal(m)
		if err != nil {
			return nil, fmt.Errorf("pgstore: message %s #%d: %w", m.Conversation, m.Seq, err)
		}
		w.updates = append(w.updates, v)
	}
	for _, t := range c.SetTimers {
		if err := checkKey("timer conversation", t.Conversation); err != nil {
			return nil, err
		}
		v, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("pgstore: timer of %s: %w", t.Conversation, err)
		}
		w.setTimer = append(w.setTimer, v)
	}
	for from, to := range c.Aliases {
		if err := checkKey("alias contact key", string(from)); err != nil {
			return nil, err
		}
		if err := checkKey("aliased contact key", string(to)); err != nil {
			return nil, err
		}
	}
	for _, r := range c.Reached {
		if err := checkKey("reach scope", r.Scope); err != nil {
			return nil, err
		}
		if err := checkKey("reach contact key", string(r.Contact)); err != nil {
			return nil, err
		}
	}
	for _, n := range c.Counts {
		if err := checkKey("counted flow id", n.Flow); err != nil {
			return nil, err
		}
		if n.Version < 0 || n.Version > math.MaxInt32 {
			return nil, fmt.Errorf("pgstore: counted version %d out of range", n.Version)
		}
	}
	return w, nil
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func (w *change) apply(ctx context.Context, s *Store, tx pgx.Tx) error {
	c := w.c
	if w.lockKey != "" {
		if err := lockKey(ctx, tx, classCommit, w.lockKey); err != nil {
			return err
		}
	}
	if w.inbound != "" {
		tag, err := tx.Exec(ctx, `INSERT INTO inbound (contact, id, at_ns) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, w.inKey, w.inbound, ns(w.at))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return model.ErrDuplicate
		}
	}
	// Each statement that writes a conversation or a message also
	// returns the conversation's status (before the write, for the
	// conversation itself): the inbox's feed is told of the ones that are
	// or were handed off (feed.go).
	var inbox inboxNotes
	b := &pgx.Batch{}
	if w.contact != nil {
		b.Queue(`INSERT INTO contacts (key, data) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET data = excluded.data`, string(c.Contact.Key), w.contact)
	}
	for i, conv := range c.Conversations {
		b.Queue(`WITH old AS (SELECT status FROM conversations WHERE id = $1)
			INSERT INTO conversations (id, contact, flow, status, started_ns, activity_ns, data) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (id) DO UPDATE SET contact = excluded.contact, flow = excluded.flow, status = excluded.status,
			started_ns = excluded.started_ns, activity_ns = excluded.activity_ns, data = excluded.data
			RETURNING (SELECT status FROM old)`,
			conv.ID, string(conv.Contact), conv.Flow, string(conv.Status), ns(conv.StartedAt), ns(conv.LastActivityAt), w.convs[i]).
			QueryRow(func(r pgx.Row) error {
				var old *string
				if err := r.Scan(&old); err != nil {
					return err
				}
				inbox.status(conv.ID, string(conv.Status))
				if old != nil {
					inbox.status(conv.ID, *old)
				}
				return nil
			})
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	for i, m := range c.Messages {
		var status *string
		err := tx.QueryRow(ctx, `INSERT INTO messages (conversation, seq, data) VALUES ($1, $2, $3)
			RETURNING (SELECT status FROM conversations WHERE id = $1)`, m.Conversation, int64(m.Seq), w.msgs[i]).Scan(&status)
		if err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("pgstore: message %s #%d is already stored", m.Conversation, m.Seq)
			}
			return err
		}
		if status != nil {
			inbox.status(m.Conversation, *status)
		}
	}
	for i, m := range c.Updates {
		var status *string
		err := tx.QueryRow(ctx, `UPDATE messages SET data = $3 WHERE conversation = $1 AND seq = $2
			RETURNING (SELECT status FROM conversations WHERE id = $1)`, m.Conversation, int64(m.Seq), w.updates[i]).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("pgstore: update of message %s #%d: %w", m.Conversation, m.Seq, model.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if status != nil {
			inbox.status(m.Conversation, *status)
		}
	}
	if len(c.Claim) > 0 {
		// Row locks, in sequence order (no deadlock between two claims).
		seqs := make([]int64, len(c.Claim))
		for i, q := range c.Claim {
			seqs[i] = int64(q)
		}
		slices.Sort(seqs)
		// elsewhere: claimed by another owner whose lease runs, or
		// behind an earlier entry of its conversation not claimed in this
		// change.
		rows, err := tx.Query(ctx, `SELECT o.seq, o.claimed,
				o.claimed AND o.owner IS DISTINCT FROM $2 AND o.lease_until > now(),
				EXISTS (SELECT 1 FROM outbox e WHERE e.conversation = o.conversation AND e.seq < o.seq AND NOT e.seq = ANY($1))
			FROM outbox o WHERE o.seq = ANY($1) ORDER BY o.seq FOR UPDATE OF o`, seqs, s.owner)
		if err != nil {
			return err
		}
		type state struct{ claimed, held, behind bool }
		states := map[int64]state{}
		var seq int64
		var st state
		_, err = pgx.ForEachRow(rows, []any{&seq, &st.claimed, &st.held, &st.behind}, func() error { states[seq] = st; return nil })
		if err != nil {
			return err
		}
		for _, q := range seqs {
			st, ok := states[q]
			switch {
			case !ok:
				return fmt.Errorf("pgstore: claim of outbox item %d: gone: %w", q, model.ErrNotQueued)
			case st.held || (st.behind && !st.claimed):
				return fmt.Errorf("pgstore: claim of outbox item %d: %w", q, model.ErrClaimedElsewhere)
			case st.claimed:
				return fmt.Errorf("pgstore: claim of outbox item %d: %w", q, model.ErrClaimed)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE outbox SET claimed = true, owner = $2, lease_until = now() + make_interval(secs => $3) WHERE seq = ANY($1)`,
			seqs, s.owner, s.lease.Seconds()); err != nil {
			return err
		}
	}
	if len(c.Unclaim) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE outbox SET claimed = false, owner = NULL, lease_until = NULL WHERE seq = ANY($1)`, u64s(c.Unclaim)); err != nil {
			return err
		}
	}
	if len(c.Dequeue) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM outbox WHERE seq = ANY($1)`, u64s(c.Dequeue)); err != nil {
			return err
		}
	}
	b = &pgx.Batch{}
	for _, t := range c.DeleteTimers {
		b.Queue(`DELETE FROM timers WHERE due_ns = $1 AND kind = $2 AND conversation = $3 AND node = $4`, ns(t.Due), string(t.Kind), t.Conversation, t.Node)
	}
	for i, t := range c.SetTimers {
		b.Queue(`INSERT INTO timers (due_ns, kind, conversation, node, data) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (due_ns, kind, conversation, node) DO UPDATE SET data = excluded.data`, ns(t.Due), string(t.Kind), t.Conversation, t.Node, w.setTimer[i])
	}
	for from, to := range c.Aliases {
		b.Queue(`INSERT INTO aliases (alias, key) VALUES ($1, $2) ON CONFLICT (alias) DO UPDATE SET key = excluded.key`, string(from), string(to))
	}
	if err := reserveReach(ctx, tx, c.Reached); err != nil {
		return err
	}
	for _, r := range c.Reached {
		if r.Limit > 0 {
			continue // recorded by reserveReach
		}
		b.Queue(`INSERT INTO reach (scope, at_ns, contact) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, r.Scope, ns(r.At), string(r.Contact))
	}
	day := dayNumber(w.at)
	// Each counter in the shard of this connection (migration 6): commits
	// running at once add to different rows instead of queueing on one.
	// In key order, so that two commits sharing a shard take its rows in
	// the same order and never deadlock.
	for _, n := range sortedCounts(c.Counts) {
		if n.N == 0 {
			continue
		}
		b.Queue(`INSERT INTO flow_stats (flow, day, version, node, kind, exit, shard, n) VALUES ($1, $2, $3, $4, $5, $6, pg_backend_pid() % `+flowStatShards+`, $7)
			ON CONFLICT (flow, day, version, node, kind, exit, shard) DO UPDATE SET n = flow_stats.n + excluded.n`,
			n.Flow, day, n.Version, n.Node, int16(n.Kind), n.Exit, int64(n.N))
	}
	// The inbox's notes ride in this batch, not a round trip of their
	// own: NOTIFY is delivered at commit wherever it stands in the
	// transaction.
	s.queueNotes(b, inbox.notes(c))
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	if len(c.Events) > 0 {
		// Under a lock held to the commit: a change's events get
		// consecutive numbers, and numbers become visible in their
		// order, so that a reader after n never misses one below.
		if err := lock(ctx, tx, lockEvents); err != nil {
			return err
		}
		b = &pgx.Batch{}
		for _, ev := range c.Events {
			data, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("pgstore: event %s: %w", ev.ID, err)
			}
			b.Queue(`INSERT INTO event_log (data) VALUES ($1)`, data)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	queued := false
	for _, m := range c.Messages {
		queued = queued || (m.Direction == model.Out && m.State == model.Queued)
	}
	if queued {
		b = &pgx.Batch{}
		for _, m := range c.Messages {
			if m.Direction == model.Out && m.State == model.Queued {
				b.Queue(`INSERT INTO outbox (conversation, msg_seq, origin, queued_at) VALUES ($1, $2, $3, now())`, m.Conversation, int64(m.Seq), s.owner)
			}
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	return nil
}

func u64s(xs []uint64) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}

// dayNumber is t's UTC day as yyyymmdd.
func dayNumber(t time.Time) int32 {
	y, m, d := t.UTC().Date()
	return int32(y*10000 + int(m)*100 + d)
}

func dayOf(n int32) time.Time {
	return time.Date(int(n/10000), time.Month(n/100%100), int(n%100), 0, 0, 0, 0, time.UTC)
}

// DueTimers returns up to limit timers due at or before now, earliest
// first.
func (s *Store) DueTimers(ctx context.Context, now time.Time, limit int) ([]model.Timer, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	ts, err := queryAll[model.Timer](ctx, s, "timer", `SELECT data FROM timers WHERE due_ns <= $1 ORDER BY due_ns, kind, conversation, node LIMIT $2`, ns(now), limit)
	if err != nil {
		return nil, err
	}
	out := make([]model.Timer, len(ts))
	for i, t := range ts {
		out[i] = *t
	}
	return out, nil
}

// NextTimer returns the earliest timer's due time.
func (s *Store) NextTimer(ctx context.Context) (time.Time, bool, error) {
	var due *int64
	err := s.read(ctx, func(q querier) error {
		return q.QueryRow(ctx, `SELECT min(due_ns) FROM timers`).Scan(&due)
	})
	if err != nil || due == nil {
		return time.Time{}, false, err
	}
	return time.Unix(0, *due).UTC(), true, nil
}

// Message returns one transcript message.
func (s *Store) Message(ctx context.Context, conversation string, seq uint64) (*model.Message, error) {
	m := &model.Message{}
	if seq > math.MaxInt64 {
		return nil, notFound("message", fmt.Sprintf("%s #%d", conversation, seq))
	}
	if err := s.getOne(ctx, m, "message", fmt.Sprintf("%s #%d", conversation, seq), `SELECT data FROM messages WHERE conversation = $1 AND seq = $2`, conversation, int64(seq)); err != nil {
		return nil, err
	}
	return m, nil
}

// Transcript returns a conversation's messages in order.
func (s *Store) Transcript(ctx context.Context, conversation string) ([]*model.Message, error) {
	if hasNUL(conversation) {
		return nil, s.live(ctx)
	}
	out, err := queryAll[model.Message](ctx, s, "message", `SELECT data FROM messages WHERE conversation = $1 ORDER BY seq`, conversation)
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

// Outbox returns up to limit queued messages after seq, in order; a
// claimed entry's message reads as Sending.
func (s *Store) Outbox(ctx context.Context, after uint64, limit int) ([]model.OutboxItem, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	if after >= math.MaxInt64 {
		return nil, s.live(ctx)
	}
	var out []model.OutboxItem
	err := s.read(ctx, func(tx querier) error {
		out = out[:0]
		// Not the entries another owner holds under a running lease,
		// nor, with WithSendAffinity, those another owner queued less
		// than the affinity ago (its to send).
		rows, err := tx.Query(ctx, `SELECT o.seq, o.claimed, m.data FROM outbox o LEFT JOIN messages m ON m.conversation = o.conversation AND m.seq = o.msg_seq
			WHERE o.seq > $1 AND NOT (o.claimed AND o.owner IS DISTINCT FROM $3 AND o.lease_until > now())
				AND NOT ($4 > 0 AND NOT o.claimed AND o.origin IS DISTINCT FROM $3 AND o.queued_at > now() - make_interval(secs => $4))
			ORDER BY o.seq LIMIT $2`, int64(after), limit, s.owner, s.affinity.Seconds())
		if err != nil {
			return err
		}
		var seq int64
		var claimed bool
		var data []byte
		_, err = pgx.ForEachRow(rows, []any{&seq, &claimed, &data}, func() error {
			if data == nil {
				return fmt.Errorf("pgstore: outbox item %d: its message is missing", seq)
			}
			m := &model.Message{}
			if err := json.Unmarshal(data, m); err != nil {
				return fmt.Errorf("pgstore: outbox item %d: %w", seq, err)
			}
			if claimed && m.State == model.Queued {
				m.State = model.Sending
			}
			out = append(out, model.OutboxItem{Seq: uint64(seq), Message: m})
			return nil
		})
		return err
	})
	return out, err
}

// Conversations lists a contact's conversations, oldest first.
func (s *Store) Conversations(ctx context.Context, contact model.ContactKey) ([]*model.Conversation, error) {
	if hasNUL(string(contact)) {
		return nil, s.live(ctx)
	}
	out, err := queryAll[model.Conversation](ctx, s, "conversation", `SELECT data FROM conversations WHERE contact = $1 ORDER BY started_ns, id`, string(contact))
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

// ListConversations lists a page of conversations, newest activity
// first, through the indexes by activity.
func (s *Store) ListConversations(ctx context.Context, f model.ConversationFilter) ([]*model.Conversation, string, error) {
	cursorNS, cursorID := int64(math.MaxInt64), "\U0010FFFF"
	hasCursor := false
	if f.Cursor != "" {
		c, err := model.ParseCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		cursorNS, cursorID, hasCursor = ns(c.At), c.ID, true
	}
	if hasNUL(string(f.Status), f.Flow, string(f.Contact), f.Number, cursorID) {
		return []*model.Conversation{}, "", s.live(ctx)
	}
	limit := math.MaxInt32
	if f.Limit > 0 {
		limit = f.Limit + 1
	}
	out, err := queryAll[model.Conversation](ctx, s, "conversation", `SELECT data FROM conversations
		WHERE ($1 = '' OR status = $1) AND ($2 = '' OR flow = $2) AND ($3 = '' OR contact = $3)
		AND ($8 = '' OR split_part(contact, ':', 1) = $8)
		AND (NOT $4 OR (activity_ns, id) < ($5, $6::text COLLATE "C"))
		ORDER BY activity_ns DESC, id DESC LIMIT $7`,
		string(f.Status), f.Flow, string(f.Contact), hasCursor, cursorNS, cursorID, limit, f.Number)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
		next = model.ConversationCursor(out[len(out)-1])
	}
	if out == nil {
		out = []*model.Conversation{}
	}
	return out, next, nil
}

// SaveFlow stores a flow record; its Published is the latest version
// stored, whatever r says.
func (s *Store) SaveFlow(ctx context.Context, r *model.FlowRecord) error {
	if r == nil {
		return errors.New("pgstore: nil flow record")
	}
	if err := checkKey("flow id", r.ID); err != nil {
		return err
	}
	rec := *r
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockKey(ctx, tx, classFlow, rec.ID); err != nil {
			return err
		}
		var last int32
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM flow_versions WHERE flow = $1`, rec.ID).Scan(&last); err != nil {
			return err
		}
		rec.Published = int(last)
		return putFlow(ctx, tx, &rec)
	})
}

// putFlow writes a flow record. Its head's columns and change number
// (FlowHeadsSince) are the trigger's (migration 0005): they follow the
// record whoever writes it.
func putFlow(ctx context.Context, tx pgx.Tx, rec *model.FlowRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO flows (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data`, rec.ID, v)
	return err
}

// Flow returns a flow record.
func (s *Store) Flow(ctx context.Context, id string) (*model.FlowRecord, error) {
	r := &model.FlowRecord{}
	if err := s.getOne(ctx, r, "flow", id, `SELECT data FROM flows WHERE id = $1`, id); err != nil {
		return nil, err
	}
	return r, nil
}

// Flows lists every flow record, by id.
func (s *Store) Flows(ctx context.Context) ([]*model.FlowRecord, error) {
	out, err := queryAll[model.FlowRecord](ctx, s, "flow", `SELECT data FROM flows ORDER BY id`)
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

var (
	_ model.VersionNoter = (*Store)(nil)
	_ model.EventLog     = (*Store)(nil)
)

// EventsAfter returns up to limit logged events after seq (model.EventLog).
func (s *Store) EventsAfter(ctx context.Context, after uint64, limit int) ([]model.LoggedEvent, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	if after >= math.MaxInt64 {
		return nil, s.live(ctx)
	}
	var out []model.LoggedEvent
	err := s.view(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT seq, data FROM event_log WHERE seq > $1 ORDER BY seq LIMIT $2`, int64(after), limit)
		if err != nil {
			return err
		}
		var seq int64
		var data []byte
		_, err = pgx.ForEachRow(rows, []any{&seq, &data}, func() error {
			var ev model.Event
			if err := json.Unmarshal(data, &ev); err != nil {
				return fmt.Errorf("pgstore: logged event %d: %w", seq, err)
			}
			out = append(out, model.LoggedEvent{Seq: uint64(seq), Event: ev})
			return nil
		})
		return err
	})
	return out, err
}

// Publish stores doc as the flow's next version.
func (s *Store) Publish(ctx context.Context, id string, doc []byte, by string, at time.Time) (*model.FlowVersion, error) {
	return s.PublishNoted(ctx, id, doc, by, "", at)
}

// PublishNoted is Publish with the version's note (model.VersionNoter).
func (s *Store) PublishNoted(ctx context.Context, id string, doc []byte, by, note string, at time.Time) (*model.FlowVersion, error) {
	if err := checkKey("flow id", id); err != nil {
		return nil, err
	}
	var out model.FlowVersion
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lockKey(ctx, tx, classFlow, id); err != nil {
			return err
		}
		var last int32
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM flow_versions WHERE flow = $1`, id).Scan(&last); err != nil {
			return err
		}
		if last == math.MaxInt32 {
			return fmt.Errorf("pgstore: flow %s has no version number left", id)
		}
		out = model.FlowVersion{Flow: id, Version: int(last) + 1, Doc: slices.Clone(doc), PublishedAt: at, PublishedBy: by, Note: note}
		v, err := json.Marshal(&out)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO flow_versions (flow, version, data) VALUES ($1, $2, $3)`, id, out.Version, v); err != nil {
			return err
		}
		rec := model.FlowRecord{ID: id, Draft: out.Doc, DraftAt: at, DraftBy: by}
		var old []byte
		err = tx.QueryRow(ctx, `SELECT data FROM flows WHERE id = $1`, id).Scan(&old)
		switch {
		case err == nil:
			rec = model.FlowRecord{}
			if err := json.Unmarshal(old, &rec); err != nil {
				return fmt.Errorf("pgstore: decoding flow %s: %w", id, err)
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		rec.Published = out.Version
		return putFlow(ctx, tx, &rec)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// FlowVersion returns one published version.
func (s *Store) FlowVersion(ctx context.Context, id string, version int) (*model.FlowVersion, error) {
	v := &model.FlowVersion{}
	if version < 1 || version > math.MaxInt32 {
		if err := s.live(ctx); err != nil {
			return nil, err
		}
		return nil, notFound("flow version", fmt.Sprintf("%s v%d", id, version))
	}
	if err := s.getOne(ctx, v, "flow version", fmt.Sprintf("%s v%d", id, version), `SELECT data FROM flow_versions WHERE flow = $1 AND version = $2`, id, int32(version)); err != nil {
		return nil, err
	}
	return v, nil
}

// FlowVersions lists a flow's versions, oldest first.
func (s *Store) FlowVersions(ctx context.Context, id string) ([]*model.FlowVersion, error) {
	if hasNUL(id) {
		return nil, s.live(ctx)
	}
	out, err := queryAll[model.FlowVersion](ctx, s, "flow version", `SELECT data FROM flow_versions WHERE flow = $1 ORDER BY version`, id)
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

// PruneInbound forgets inbound ids committed before t.
func (s *Store) PruneInbound(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM inbound WHERE at_ns < $1`, ns(before))
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// SaveTemplates stores template records, all or none.
func (s *Store) SaveTemplates(ctx context.Context, rs []model.TemplateRecord) error {
	b := &pgx.Batch{}
	for i := range rs {
		r := &rs[i]
		if err := checkKey("template name", r.Name); err != nil {
			return err
		}
		if err := checkKey("template language", r.Language); err != nil {
			return fmt.Errorf("%w (template %s)", err, r.Name)
		}
		v, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("pgstore: template %s/%s: %w", r.Name, r.Language, err)
		}
		b.Queue(`INSERT INTO templates (name, language, data) VALUES ($1, $2, $3) ON CONFLICT (name, language) DO UPDATE SET data = excluded.data`, r.Name, r.Language, v)
	}
	return s.tx(ctx, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
}

// Templates lists every template record, by name then language.
func (s *Store) Templates(ctx context.Context) ([]model.TemplateRecord, error) {
	rs, err := queryAll[model.TemplateRecord](ctx, s, "template", `SELECT data FROM templates ORDER BY name, language`)
	if err != nil {
		return nil, err
	}
	var out []model.TemplateRecord
	for _, r := range rs {
		out = append(out, *r)
	}
	return out, nil
}

// reserveReach records the reaches of rs that carry a Limit, each only if
// it keeps its scope within the limit: under the scope's advisory lock,
// held to the end of the transaction, so that the count and the record are
// one step for every process sharing the database. A reach that would pass
// the limit refuses the whole change with model.ErrOverLimit. The scope's
// lock is taken after the contact's (apply's classCommit) and before the
// event log's (lockEvents), in every commit, and by nothing else, so two
// transactions cannot wait for each other.
func reserveReach(ctx context.Context, tx pgx.Tx, rs []model.Reach) error {
	for _, r := range rs {
		if r.Limit <= 0 {
			continue
		}
		if err := lockKey(ctx, tx, classReach, r.Scope); err != nil {
			return err
		}
		since := ns(r.At.Add(-model.LimitWindow + time.Nanosecond))
		var reached bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reach WHERE scope = $1 AND contact = $2 AND at_ns >= $3)`,
			r.Scope, string(r.Contact), since).Scan(&reached); err != nil {
			return err
		}
		if !reached {
			// Counted up to the limit only: past it the answer is the same.
			var n int64
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT DISTINCT contact FROM reach WHERE scope = $1 AND at_ns >= $2 LIMIT $3) l`,
				r.Scope, since, int64(r.Limit)).Scan(&n); err != nil {
				return err
			}
			if n >= int64(r.Limit) {
				return fmt.Errorf("pgstore: reaching %s: %w (%d unique customers in the last 24 h)", r.Contact, model.ErrOverLimit, r.Limit)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO reach (scope, at_ns, contact) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, r.Scope, ns(r.At), string(r.Contact)); err != nil {
			return err
		}
	}
	return nil
}

// ReachCount counts the unique contacts of scope reached since since.
func (s *Store) ReachCount(ctx context.Context, scope string, since time.Time) (int, time.Time, error) {
	var n int64
	var oldest *int64
	err := s.view(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*), min(latest) FROM (SELECT max(at_ns) AS latest FROM reach WHERE scope = $1 AND at_ns >= $2 GROUP BY contact) l`,
			scope, ns(since)).Scan(&n, &oldest)
	})
	if err != nil || n == 0 {
		return 0, time.Time{}, err
	}
	return int(n), time.Unix(0, *oldest).UTC(), nil
}

// ReachedSince reports whether contact has a reach of scope since since.
func (s *Store) ReachedSince(ctx context.Context, scope string, contact model.ContactKey, since time.Time) (bool, error) {
	var ok bool
	if hasNUL(scope, string(contact)) {
		return false, s.live(ctx)
	}
	err := s.view(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reach WHERE scope = $1 AND contact = $2 AND at_ns >= $3)`, scope, string(contact), ns(since)).Scan(&ok)
	})
	return ok, err
}

// Reaches returns every reach of scope since since, oldest first.
func (s *Store) Reaches(ctx context.Context, scope string, since time.Time) ([]model.Reach, error) {
	var out []model.Reach
	err := s.view(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT at_ns, contact FROM reach WHERE scope = $1 AND at_ns >= $2 ORDER BY at_ns, contact`, scope, ns(since))
		if err != nil {
			return err
		}
		var at int64
		var contact string
		_, err = pgx.ForEachRow(rows, []any{&at, &contact}, func() error {
			out = append(out, model.Reach{Scope: scope, At: time.Unix(0, at).UTC(), Contact: model.ContactKey(contact)})
			return nil
		})
		return err
	})
	return out, err
}

// PruneReach forgets the reaches made before t.
func (s *Store) PruneReach(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM reach WHERE at_ns < $1`, ns(before))
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}

// SaveNumber stores a phone number record.
func (s *Store) SaveNumber(ctx context.Context, r model.NumberRecord) error {
	if err := checkKey("phone number key", r.Key); err != nil {
		return err
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO phone_numbers (key, data) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET data = excluded.data`, r.Key, v)
		return err
	})
}

// Numbers lists every phone number record, by key.
func (s *Store) Numbers(ctx context.Context) ([]model.NumberRecord, error) {
	rs, err := queryAll[model.NumberRecord](ctx, s, "phone number", `SELECT data FROM phone_numbers ORDER BY key`)
	if err != nil {
		return nil, err
	}
	var out []model.NumberRecord
	for _, r := range rs {
		out = append(out, *r)
	}
	return out, nil
}

// flowStatShards is the number of rows each flow counter is split into
// (migration 6), as SQL text.
const flowStatShards = "1024"

// sortedCounts returns counts in the order of flow_stats' key, leaving
// counts as it was.
func sortedCounts(counts []model.Count) []model.Count {
	if len(counts) < 2 {
		return counts
	}
	out := slices.Clone(counts)
	slices.SortStableFunc(out, func(a, b model.Count) int {
		return cmp.Or(cmp.Compare(a.Flow, b.Flow), cmp.Compare(a.Version, b.Version), cmp.Compare(a.Node, b.Node),
			cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Exit, b.Exit))
	})
	return out
}

// FlowStats returns a flow's counters of the UTC days from from's to to's.
func (s *Store) FlowStats(ctx context.Context, flow string, from, to time.Time) ([]model.FlowStat, error) {
	var out []model.FlowStat
	err := s.view(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT day, version, node, kind, exit, sum(n)::bigint FROM flow_stats WHERE flow = $1 AND day BETWEEN $2 AND $3
			GROUP BY day, version, node, kind, exit ORDER BY day, version, node, kind, exit`, flow, dayNumber(from), dayNumber(to))
		if err != nil {
			return err
		}
		var day, version int32
		var node, exit string
		var kind int16
		var n int64
		_, err = pgx.ForEachRow(rows, []any{&day, &version, &node, &kind, &exit, &n}, func() error {
			out = append(out, model.FlowStat{Day: dayOf(day), Version: int(version), Node: node, Kind: model.CountKind(kind), Exit: exit, N: uint64(n)})
			return nil
		})
		return err
	})
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

var _ model.FlowHeads = (*Store)(nil)

// FlowHeadsSince returns the heads of the flow records written after mark
// (model.FlowHeads), by id, and flow_clock's number, in one statement
// (one snapshot): when nothing was written since mark, it reads
// flow_clock's one row and no flow. A mark past the clock's (a database
// restored to an earlier state) reads every head.
func (s *Store) FlowHeadsSince(ctx context.Context, mark uint64) ([]model.FlowHead, uint64, error) {
	if err := s.live(ctx); err != nil {
		return nil, 0, err
	}
	m := int64(min(mark, math.MaxInt64))
	// flows is read only when the clock has moved past mark: the lateral
	// subquery's condition on c.n is a one-time filter (OFFSET 0 keeps the
	// planner from flattening it; EXPLAIN shows flows' scan "never
	// executed").
	rows, err := s.pool.Query(ctx, `SELECT c.n, f.id, f.published, f.archived FROM flow_clock c
		LEFT JOIN LATERAL (SELECT id, published, archived FROM flows WHERE c.n > $1 AND changed > $1 OFFSET 0) f ON true`, m)
	if err != nil {
		return nil, 0, s.wrap(err)
	}
	var out []model.FlowHead
	var n int64
	var id *string
	var published *int32
	var archived *bool
	if _, err := pgx.ForEachRow(rows, []any{&n, &id, &published, &archived}, func() error {
		if id != nil {
			out = append(out, model.FlowHead{ID: *id, Published: int(*published), Archived: *archived})
		}
		return nil
	}); err != nil {
		return nil, 0, s.wrap(err)
	}
	if n < m { // the clock went back: every head
		return s.FlowHeadsSince(ctx, 0)
	}
	// Sorted here: an ORDER BY costs the statement milliseconds (a sort
	// node, even of one row), 200 times the statement itself.
	slices.SortFunc(out, func(a, b model.FlowHead) int { return strings.Compare(a.ID, b.ID) })
	return out, uint64(n), nil
}
