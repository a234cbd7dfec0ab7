package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/quarantine"
	"github.com/parleyhq/parley/engine/schedule"
	"github.com/parleyhq/parley/engine/secrets"
	"github.com/parleyhq/parley/ui/auth"
)

var (
	_ inbox.Records      = (*Store)(nil)
	_ auth.Records       = (*Store)(nil)
	_ schedule.Records   = (*Store)(nil)
	_ quarantine.Records = (*Store)(nil)
	_ secrets.Records    = (*Store)(nil)
)

// The subsystems' tables hold (key, data) rows: getRow, putRow, delRow
// and allRows work on them inside a transaction. Table names come from
// this package only, never from input.

func getRow[T any](ctx context.Context, tx pgx.Tx, table string, key any) (*T, error) {
	var data []byte
	err := tx.QueryRow(ctx, `SELECT data FROM `+table+` WHERE key = $1`, key).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("pgstore: decoding %s %v: %w", table, key, err)
	}
	return v, nil
}

func putRow(ctx context.Context, tx pgx.Tx, table string, key, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO `+table+` (key, data) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET data = excluded.data`, key, data)
	return err
}

func delRow(ctx context.Context, tx pgx.Tx, table string, key any) (bool, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE key = $1`, key)
	return tag.RowsAffected() > 0, err
}

// allRows decodes every row of table, by key, calling fn with each.
func allRows[T any](ctx context.Context, tx pgx.Tx, table string, fn func(key []byte, v *T) error) error {
	rows, err := tx.Query(ctx, `SELECT key, data FROM `+table+` ORDER BY key`)
	if err != nil {
		return err
	}
	var key any
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&key, &data}, func() error {
		var k []byte
		switch x := key.(type) {
		case string:
			k = []byte(x)
		case []byte:
			k = x
		}
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return fmt.Errorf("pgstore: decoding %s %q: %w", table, k, err)
		}
		return fn(k, v)
	})
	return err
}

func list[T any](ctx context.Context, tx pgx.Tx, table string) ([]*T, error) {
	out := []*T{}
	err := allRows(ctx, tx, table, func(_ []byte, v *T) error { out = append(out, v); return nil })
	return out, err
}

// deleteWhere deletes the rows of table match holds for; table is keyed
// by bytea.
func deleteWhere[T any](ctx context.Context, tx pgx.Tx, table string, match func(*T) bool) (int, error) {
	var keys [][]byte
	if err := allRows(ctx, tx, table, func(k []byte, v *T) error {
		if match(v) {
			keys = append(keys, k)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	_, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE key = ANY($1)`, keys)
	return len(keys), err
}

// Inbox (inbox.Records).

// putIn and delIn write an inbox record and tell the other processes'
// inboxes in the same transaction (feed.go).
func (s *Store) putIn(ctx context.Context, table, key string, v any, kind inbox.NoteKind) error {
	if err := checkKey(table+" key", key); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := putRow(ctx, tx, table, key, v); err != nil {
			return err
		}
		return s.notifyInbox(ctx, tx, []inbox.Note{{Kind: kind, ID: key}})
	})
}

func (s *Store) delIn(ctx context.Context, table, key string, kind inbox.NoteKind) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		if ok, err = delRow(ctx, tx, table, key); err != nil || !ok {
			return err
		}
		return s.notifyInbox(ctx, tx, []inbox.Note{{Kind: kind, ID: key}})
	})
	return ok, err
}

func listIn[T any](ctx context.Context, s *Store, table string) ([]*T, error) {
	var out []*T
	err := s.view(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = list[T](ctx, tx, table)
		return err
	})
	return out, err
}

// PutAgent stores an agent's profile (inbox.Records).
func (s *Store) PutAgent(ctx context.Context, a *inbox.Agent) error {
	return s.putIn(ctx, "inbox_agents", a.Email, a, inbox.NoteAgent)
}

// DeleteAgent removes an agent's profile (inbox.Records).
func (s *Store) DeleteAgent(ctx context.Context, email string) (bool, error) {
	return s.delIn(ctx, "inbox_agents", email, inbox.NoteAgent)
}

// Agents lists the agents' profiles (inbox.Records).
func (s *Store) Agents(ctx context.Context) ([]*inbox.Agent, error) {
	return listIn[inbox.Agent](ctx, s, "inbox_agents")
}

// PutQueue stores a queue (inbox.Records).
func (s *Store) PutQueue(ctx context.Context, q *inbox.Queue) error {
	return s.putIn(ctx, "inbox_queues", q.ID, q, inbox.NoteQueue)
}

// DeleteQueue removes a queue (inbox.Records).
func (s *Store) DeleteQueue(ctx context.Context, id string) (bool, error) {
	return s.delIn(ctx, "inbox_queues", id, inbox.NoteQueue)
}

// Queues lists the queues (inbox.Records).
func (s *Store) Queues(ctx context.Context) ([]*inbox.Queue, error) {
	return listIn[inbox.Queue](ctx, s, "inbox_queues")
}

// PutCanned stores a canned response (inbox.Records).
func (s *Store) PutCanned(ctx context.Context, c *inbox.Canned) error {
	return s.putIn(ctx, "inbox_canned", c.ID, c, inbox.NoteCanned)
}

// DeleteCanned removes a canned response (inbox.Records).
func (s *Store) DeleteCanned(ctx context.Context, id string) (bool, error) {
	return s.delIn(ctx, "inbox_canned", id, inbox.NoteCanned)
}

// CannedResponses lists the canned responses (inbox.Records).
func (s *Store) CannedResponses(ctx context.Context) ([]*inbox.Canned, error) {
	return listIn[inbox.Canned](ctx, s, "inbox_canned")
}

// SaveRead records a read mark; the larger seq wins (inbox.Records).
func (s *Store) SaveRead(ctx context.Context, conv string, seq uint64) error {
	if err := checkKey("conversation id", conv); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO inbox_reads (conversation, seq) VALUES ($1, $2)
			ON CONFLICT (conversation) DO UPDATE SET seq = greatest(inbox_reads.seq, excluded.seq)`, conv, int64(seq)); err != nil {
			return err
		}
		return s.notifyInbox(ctx, tx, []inbox.Note{{Kind: inbox.NoteRead, ID: conv, Seq: seq}})
	})
}

// Reads returns every read mark (inbox.Records).
func (s *Store) Reads(ctx context.Context) (map[string]uint64, error) {
	out := map[string]uint64{}
	err := s.view(ctx, func(tx pgx.Tx) error {
		clear(out)
		rows, err := tx.Query(ctx, `SELECT conversation, seq FROM inbox_reads`)
		if err != nil {
			return err
		}
		var conv string
		var seq int64
		_, err = pgx.ForEachRow(rows, []any{&conv, &seq}, func() error { out[conv] = uint64(seq); return nil })
		return err
	})
	return out, err
}

// ForgetReads deletes read marks (inbox.Records).
func (s *Store) ForgetReads(ctx context.Context, convs []string) error {
	if len(convs) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM inbox_reads WHERE conversation = ANY($1)`, convs)
		return err
	})
}

// Sign-in (auth.Records).

// UpdateAuth runs fn in a transaction holding the auth lock of the
// database: atomic with every other UpdateAuth, in every process.
func (s *Store) UpdateAuth(ctx context.Context, fn func(auth.Tx) error) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockAuth); err != nil {
			return err
		}
		return fn(authTx{ctx, tx})
	})
}

// ViewAuth runs fn on one snapshot (auth.Records).
func (s *Store) ViewAuth(ctx context.Context, fn func(auth.Tx) error) error {
	return s.view(ctx, func(tx pgx.Tx) error { return fn(authTx{ctx, tx}) })
}

type authTx struct {
	ctx context.Context
	tx  pgx.Tx
}

func (t authTx) User(email string) (*auth.UserRecord, error) {
	return getRow[auth.UserRecord](t.ctx, t.tx, "auth_users", email)
}

func (t authTx) Users() ([]*auth.UserRecord, error) {
	return list[auth.UserRecord](t.ctx, t.tx, "auth_users")
}

func (t authTx) AnyUser() (bool, error) {
	var ok bool
	err := t.tx.QueryRow(t.ctx, `SELECT EXISTS (SELECT 1 FROM auth_users)`).Scan(&ok)
	return ok, err
}

func (t authTx) PutUser(r *auth.UserRecord) error {
	if err := checkKey("user email", r.Email); err != nil {
		return err
	}
	return putRow(t.ctx, t.tx, "auth_users", r.Email, r)
}

func (t authTx) DeleteUser(email string) (bool, error) {
	return delRow(t.ctx, t.tx, "auth_users", email)
}

func (t authTx) Session(key []byte) (*auth.SessionRecord, error) {
	return getRow[auth.SessionRecord](t.ctx, t.tx, "auth_sessions", key)
}

func (t authTx) PutSession(key []byte, r *auth.SessionRecord) error {
	return putRow(t.ctx, t.tx, "auth_sessions", key, r)
}

func (t authTx) DeleteSession(key []byte) error {
	_, err := delRow(t.ctx, t.tx, "auth_sessions", key)
	return err
}

func (t authTx) DeleteSessions(match func(*auth.SessionRecord) bool) (int, error) {
	return deleteWhere(t.ctx, t.tx, "auth_sessions", match)
}

func (t authTx) Token(key []byte) (*auth.Token, error) {
	return getRow[auth.Token](t.ctx, t.tx, "auth_tokens", key)
}

func (t authTx) Tokens() ([]*auth.Token, error) {
	return list[auth.Token](t.ctx, t.tx, "auth_tokens")
}

func (t authTx) PutToken(key []byte, tok *auth.Token) error {
	return putRow(t.ctx, t.tx, "auth_tokens", key, tok)
}

func (t authTx) DeleteTokens(match func(*auth.Token) bool) (int, error) {
	return deleteWhere(t.ctx, t.tx, "auth_tokens", match)
}

// Schedules (schedule.Records).

// UpdateSchedules runs fn in a transaction holding the schedules lock of
// the database: atomic with every other UpdateSchedules, in every process,
// so a firing is claimed once cluster-wide.
func (s *Store) UpdateSchedules(ctx context.Context, fn func(schedule.Tx) error) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockSchedules); err != nil {
			return err
		}
		return fn(schedTx{ctx, tx})
	})
}

// ViewSchedules runs fn on one snapshot (schedule.Records).
func (s *Store) ViewSchedules(ctx context.Context, fn func(schedule.Tx) error) error {
	return s.view(ctx, func(tx pgx.Tx) error { return fn(schedTx{ctx, tx}) })
}

type schedTx struct {
	ctx context.Context
	tx  pgx.Tx
}

func (t schedTx) Schedule(id string) (*schedule.Schedule, error) {
	return getRow[schedule.Schedule](t.ctx, t.tx, "schedule_defs", id)
}

func (t schedTx) Schedules() ([]*schedule.Schedule, error) {
	return list[schedule.Schedule](t.ctx, t.tx, "schedule_defs")
}

func (t schedTx) PutSchedule(sc *schedule.Schedule) error {
	if err := checkKey("schedule id", sc.ID); err != nil {
		return err
	}
	return putRow(t.ctx, t.tx, "schedule_defs", sc.ID, sc)
}

func (t schedTx) DeleteSchedule(id string) (bool, error) {
	return delRow(t.ctx, t.tx, "schedule_defs", id)
}

func (t schedTx) Firing(id string) (*schedule.Firing, error) {
	var data []byte
	err := t.tx.QueryRow(t.ctx, `SELECT data FROM schedule_firings WHERE id = $1`, id).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	f := &schedule.Firing{}
	return f, json.Unmarshal(data, f)
}

func (t schedTx) PutFiring(f *schedule.Firing) error {
	if err := checkKey("firing id", f.ID); err != nil {
		return err
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO schedule_firings (id, schedule, at_ns, active, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET schedule = excluded.schedule, at_ns = excluded.at_ns, active = excluded.active, data = excluded.data`,
		f.ID, f.Schedule, ns(f.At), !f.Status.Finished(), data)
	return err
}

func (t schedTx) firings(sql string, args ...any) ([]*schedule.Firing, error) {
	rows, err := t.tx.Query(t.ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out, err := collect[schedule.Firing](rows, "firing")
	if out == nil {
		out = []*schedule.Firing{}
	}
	return out, err
}

func (t schedTx) FiringsOf(id string, limit int) ([]*schedule.Firing, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	return t.firings(`SELECT data FROM schedule_firings WHERE schedule = $1 ORDER BY id DESC LIMIT $2`, id, limit)
}

func (t schedTx) Firings(fn func(*schedule.Firing) error) error {
	rows, err := t.tx.Query(t.ctx, `SELECT data FROM schedule_firings ORDER BY id`)
	if err != nil {
		return err
	}
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		f := &schedule.Firing{}
		if err := json.Unmarshal(data, f); err != nil {
			return err
		}
		return fn(f)
	})
	return err
}

func (t schedTx) Active() ([]*schedule.Firing, error) {
	return t.firings(`SELECT data FROM schedule_firings WHERE active ORDER BY at_ns, id`)
}

func (t schedTx) PutSend(firing string, sd *schedule.Send) error {
	data, err := json.Marshal(sd)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO schedule_sends (firing, contact, data) VALUES ($1, $2, $3)
		ON CONFLICT (firing, contact) DO UPDATE SET data = excluded.data`, firing, string(sd.Contact), data)
	return err
}

func (t schedTx) Sends(firing string, fn func(*schedule.Send) error) error {
	rows, err := t.tx.Query(t.ctx, `SELECT data FROM schedule_sends WHERE firing = $1 ORDER BY contact`, firing)
	if err != nil {
		return err
	}
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
		sd := &schedule.Send{}
		if err := json.Unmarshal(data, sd); err != nil {
			return err
		}
		return fn(sd)
	})
	return err
}

func (t schedTx) DeleteSends(firing string) error {
	_, err := t.tx.Exec(t.ctx, `DELETE FROM schedule_sends WHERE firing = $1`, firing)
	return err
}

// Quarantine (quarantine.Records).

// KeepQuarantined stores items under the next sequence numbers and drops
// the items MaxItems below the last (quarantine.Records).
func (s *Store) KeepQuarantined(ctx context.Context, items []quarantine.Item) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		var last int64
		for _, it := range items {
			it.Seq = 0
			data, err := json.Marshal(it)
			if err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `INSERT INTO quarantine (data) VALUES ($1) RETURNING seq`, data).Scan(&last); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `DELETE FROM quarantine WHERE seq <= $1`, last-quarantine.MaxItems)
		return err
	})
}

// Quarantined lists items, newest first (quarantine.Records).
func (s *Store) Quarantined(ctx context.Context, limit int) ([]quarantine.Item, error) {
	items := []quarantine.Item{}
	err := s.view(ctx, func(tx pgx.Tx) error {
		items = items[:0]
		rows, err := tx.Query(ctx, `SELECT seq, data FROM quarantine ORDER BY seq DESC LIMIT $1`, limit)
		if err != nil {
			return err
		}
		var seq int64
		var data []byte
		_, err = pgx.ForEachRow(rows, []any{&seq, &data}, func() error {
			var it quarantine.Item
			if err := json.Unmarshal(data, &it); err != nil {
				return err
			}
			it.Seq = uint64(seq)
			items = append(items, it)
			return nil
		})
		return err
	})
	return items, err
}

// Secrets (secrets.Records).

// PutSecret stores r, keeping a stored name's creation (secrets.Records).
func (s *Store) PutSecret(ctx context.Context, r secrets.Record) (secrets.Record, bool, error) {
	if err := checkKey("secret name", r.Name); err != nil {
		return secrets.Record{}, false, err
	}
	var stored secrets.Record
	var created bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockSecrets); err != nil {
			return err
		}
		old, err := getRow[secrets.Record](ctx, tx, "secrets", r.Name)
		if err != nil {
			return err
		}
		stored, created = r, old == nil
		if old != nil {
			stored.CreatedAt, stored.CreatedBy = old.CreatedAt, old.CreatedBy
		}
		return putRow(ctx, tx, "secrets", r.Name, stored)
	})
	return stored, created, err
}

// Secret returns the record of name (secrets.Records).
func (s *Store) Secret(ctx context.Context, name string) (secrets.Record, bool, error) {
	var r *secrets.Record
	err := s.view(ctx, func(tx pgx.Tx) error {
		var err error
		r, err = getRow[secrets.Record](ctx, tx, "secrets", name)
		return err
	})
	if err != nil || r == nil {
		return secrets.Record{}, false, err
	}
	return *r, true, nil
}

// ListSecrets returns every record, by name (secrets.Records).
func (s *Store) ListSecrets(ctx context.Context) ([]secrets.Record, error) {
	rs, err := listIn[secrets.Record](ctx, s, "secrets")
	out := []secrets.Record{}
	for _, r := range rs {
		out = append(out, *r)
	}
	return out, err
}

// DeleteSecret deletes name (secrets.Records).
func (s *Store) DeleteSecret(ctx context.Context, name string) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockSecrets); err != nil {
			return err
		}
		var err error
		ok, err = delRow(ctx, tx, "secrets", name)
		return err
	})
	return ok, err
}
