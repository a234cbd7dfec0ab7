package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/model"
)

// The event webhooks' store (events.Store) in the tables of migration
// 0003. Every change of the deliveries' chains (enqueue, an attempt's
// outcome, replay, hurry, delete) runs under the lockDeliveries advisory
// lock, so that two processes never both decide a chain's next delivery;
// a claim (ClaimDue) only sets a due delivery's lease, under its row lock.

var (
	_ events.Store   = (*Store)(nil)
	_ events.Claimer = (*Store)(nil)
)

// nullNS is t as next_ns: NULL for the zero time.
func nullNS(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := ns(t)
	return &n
}

// PutSubscription implements events.Store.
func (s *Store) PutSubscription(ctx context.Context, sub events.Subscription) error {
	if err := checkKey("subscription id", sub.ID); err != nil {
		return err
	}
	data, err := json.Marshal(sub)
	if err != nil {
		return fmt.Errorf("pgstore: subscription %s: %w", sub.ID, err)
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO event_subscriptions (id, data) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET data = excluded.data`, sub.ID, data)
		return err
	})
}

// Subscription implements events.Store.
func (s *Store) Subscription(ctx context.Context, id string) (events.Subscription, bool, error) {
	var sub events.Subscription
	var data []byte
	err := s.view(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT data FROM event_subscriptions WHERE id = $1`, id).Scan(&data)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return sub, false, nil
	}
	if err != nil {
		return sub, false, err
	}
	if err := json.Unmarshal(data, &sub); err != nil {
		return sub, false, fmt.Errorf("pgstore: subscription %s: %w", id, err)
	}
	return sub, true, nil
}

// Subscriptions implements events.Store.
func (s *Store) Subscriptions(ctx context.Context) ([]events.Subscription, error) {
	var out []events.Subscription
	err := s.view(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT data FROM event_subscriptions ORDER BY id`)
		if err != nil {
			return err
		}
		var data []byte
		_, err = pgx.ForEachRow(rows, []any{&data}, func() error {
			var sub events.Subscription
			if err := json.Unmarshal(data, &sub); err != nil {
				return fmt.Errorf("pgstore: subscription: %w", err)
			}
			out = append(out, sub)
			return nil
		})
		return err
	})
	return out, err
}

// DeleteSubscription implements events.Store.
func (s *Store) DeleteSubscription(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockDeliveries); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM event_subscriptions WHERE id = $1`, id)
		if err != nil {
			return err
		}
		ok = tag.RowsAffected() > 0
		_, err = tx.Exec(ctx, `DELETE FROM event_deliveries WHERE sub = $1`, id)
		return err
	})
	return ok, err
}

// deliveryCols are the columns scanDelivery reads, in its order.
const deliveryCols = `seq, state, next_ns, data`

// scanDelivery reads a row of deliveryCols; the columns win over the JSON.
func scanDelivery(row pgx.CollectableRow) (events.Delivery, error) {
	var d events.Delivery
	var seq int64
	var state string
	var next *int64
	var data []byte
	if err := row.Scan(&seq, &state, &next, &data); err != nil {
		return d, err
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return d, fmt.Errorf("pgstore: delivery %d: %w", seq, err)
	}
	d.Seq, d.State, d.NextAt = uint64(seq), events.State(state), time.Time{}
	if next != nil {
		d.NextAt = time.Unix(0, *next).UTC()
	}
	return d, nil
}

// queryDeliveries runs a query of deliveryCols.
func queryDeliveries(ctx context.Context, tx pgx.Tx, sql string, args ...any) ([]events.Delivery, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanDelivery)
}

// Enqueue implements events.Store. Only the deliveries of events this
// transaction takes out of the log are stored: two processes fanning out
// overlapping batches at once store each event's deliveries once.
func (s *Store) Enqueue(ctx context.Context, upTo uint64, ds []events.Delivery) error {
	if upTo > math.MaxInt64 {
		upTo = math.MaxInt64
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockDeliveries); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM event_log WHERE seq <= $1 RETURNING data`, int64(upTo))
		if err != nil {
			return err
		}
		taken := map[string]bool{}
		var data []byte
		if _, err := pgx.ForEachRow(rows, []any{&data}, func() error {
			var ev model.Event
			if err := json.Unmarshal(data, &ev); err != nil {
				return fmt.Errorf("pgstore: logged event: %w", err)
			}
			taken[ev.ID] = true
			return nil
		}); err != nil {
			return err
		}
		if len(taken) == 0 {
			return nil
		}
		b := &pgx.Batch{}
		for _, d := range ds {
			if !taken[d.Event.ID] {
				continue
			}
			if err := checkKey("subscription id", d.Subscription); err != nil {
				return err
			}
			d.Seq, d.State = 0, events.Pending
			data, err := json.Marshal(d)
			if err != nil {
				return fmt.Errorf("pgstore: delivery of %s: %w", d.Event.ID, err)
			}
			// Due at NextAt unless its chain has a pending delivery.
			b.Queue(`INSERT INTO event_deliveries (sub, order_key, state, next_ns, created_ns, data)
				SELECT $1, $2, 'pending', CASE WHEN EXISTS (SELECT 1 FROM event_deliveries
					WHERE sub = $1 AND order_key = $2 AND state = 'pending') THEN NULL ELSE $3::bigint END, $4, $5`,
				d.Subscription, d.OrderKey, nullNS(d.NextAt), ns(d.CreatedAt), data)
		}
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// Due implements events.Store. It does not look at claims: ClaimDue is
// what a delivering process calls.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]events.Delivery, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	var out []events.Delivery
	err := s.view(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = queryDeliveries(ctx, tx, `SELECT `+deliveryCols+` FROM event_deliveries
			WHERE state = 'pending' AND next_ns IS NOT NULL AND next_ns <= $1 ORDER BY next_ns, seq LIMIT $2`, ns(now), limit)
		return err
	})
	return out, err
}

// ClaimDue implements events.Claimer: up to limit due deliveries that no
// live claim holds, each claimed for the store's owner until now plus its
// lease (DefaultLease, or the URL's parley_lease). Rows another
// transaction is claiming are skipped (FOR UPDATE SKIP LOCKED), so two
// processes claiming at once take different deliveries. Only the first
// pending delivery of a chain is ever due, so a contact's order holds
// across processes. UpdateDelivery ends the claim; a claim whose owner
// died runs out, and the delivery is claimed again.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, limit int) ([]events.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []events.Delivery
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = queryDeliveries(ctx, tx, `UPDATE event_deliveries SET lease_owner = $1, lease_ns = $2
			WHERE seq IN (SELECT seq FROM event_deliveries
				WHERE state = 'pending' AND next_ns IS NOT NULL AND next_ns <= $3 AND (lease_ns IS NULL OR lease_ns < $3)
				ORDER BY next_ns, seq LIMIT $4 FOR UPDATE SKIP LOCKED)
			RETURNING `+deliveryCols, s.owner, ns(now.Add(s.lease)), ns(now), limit)
		return err
	})
	slices.SortFunc(out, func(a, b events.Delivery) int {
		if c := a.NextAt.Compare(b.NextAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
	return out, err
}

// NextDue implements events.Store.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next *int64
	err := s.view(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT min(next_ns) FROM event_deliveries WHERE state = 'pending' AND next_ns IS NOT NULL`).Scan(&next)
	})
	if err != nil || next == nil {
		return time.Time{}, false, err
	}
	return time.Unix(0, *next).UTC(), true, nil
}

// Delivery implements events.Store.
func (s *Store) Delivery(ctx context.Context, seq uint64) (events.Delivery, bool, error) {
	if seq > math.MaxInt64 {
		return events.Delivery{}, false, nil
	}
	var ds []events.Delivery
	err := s.view(ctx, func(tx pgx.Tx) error {
		var err error
		ds, err = queryDeliveries(ctx, tx, `SELECT `+deliveryCols+` FROM event_deliveries WHERE seq = $1`, int64(seq))
		return err
	})
	if err != nil || len(ds) == 0 {
		return events.Delivery{}, false, err
	}
	return ds[0], true, nil
}

// locked reads one delivery for update; nil when there is none.
func locked(ctx context.Context, tx pgx.Tx, seq uint64) (*events.Delivery, error) {
	if seq > math.MaxInt64 {
		return nil, nil
	}
	ds, err := queryDeliveries(ctx, tx, `SELECT `+deliveryCols+` FROM event_deliveries WHERE seq = $1 FOR UPDATE`, int64(seq))
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return &ds[0], nil
}

// write stores d's record and columns, and ends any claim on it.
func write(ctx context.Context, tx pgx.Tx, d *events.Delivery) error {
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("pgstore: delivery %d: %w", d.Seq, err)
	}
	_, err = tx.Exec(ctx, `UPDATE event_deliveries SET state = $2, next_ns = $3, lease_owner = NULL, lease_ns = NULL, data = $4
		WHERE seq = $1`, int64(d.Seq), string(d.State), nullNS(d.NextAt), data)
	return err
}

// UpdateDelivery implements events.Store. It ends the delivery's claim.
func (s *Store) UpdateDelivery(ctx context.Context, d events.Delivery) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx pgx.Tx) error {
		ok = false
		if err := lock(ctx, tx, lockDeliveries); err != nil {
			return err
		}
		old, err := locked(ctx, tx, d.Seq)
		if err != nil || old == nil || old.State != events.Pending {
			return err
		}
		d.Subscription, d.OrderKey = old.Subscription, old.OrderKey
		if d.State != events.Pending {
			d.NextAt = time.Time{}
		}
		if err := write(ctx, tx, &d); err != nil {
			return err
		}
		ok = true
		if d.State == events.Pending {
			return nil
		}
		return release(ctx, tx, d.Subscription, d.OrderKey, d.DoneAt)
	})
	return ok, err
}

// release makes the first pending delivery of the chain, if any, due at
// at (now when at is zero), unless it is due already (a replay made it so).
func release(ctx context.Context, tx pgx.Tx, sub, order string, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	_, err := tx.Exec(ctx, `UPDATE event_deliveries SET next_ns = $3 WHERE seq = (SELECT seq FROM event_deliveries
		WHERE sub = $1 AND order_key = $2 AND state = 'pending' ORDER BY seq LIMIT 1) AND next_ns IS NULL`, sub, order, ns(at))
	return err
}

// Deliveries implements events.Store.
func (s *Store) Deliveries(ctx context.Context, sub string, state events.State, before uint64, limit int) ([]events.Delivery, error) {
	if before == 0 || before > math.MaxInt64 {
		before = math.MaxInt64
	}
	if limit <= 0 {
		limit = math.MaxInt32
	}
	out := []events.Delivery{}
	err := s.view(ctx, func(tx pgx.Tx) error {
		ds, err := queryDeliveries(ctx, tx, `SELECT `+deliveryCols+` FROM event_deliveries
			WHERE sub = $1 AND ($2 = '' OR state = $2) AND seq < $3 ORDER BY seq DESC LIMIT $4`, sub, string(state), int64(before), limit)
		if ds != nil {
			out = ds
		}
		return err
	})
	return out, err
}

// Replay implements events.Store.
func (s *Store) Replay(ctx context.Context, sub string, seqs []uint64, now, giveUp time.Time) (int, error) {
	var n int
	err := s.tx(ctx, func(tx pgx.Tx) error {
		n = 0
		if err := lock(ctx, tx, lockDeliveries); err != nil {
			return err
		}
		list := seqs
		if list == nil {
			rows, err := tx.Query(ctx, `SELECT seq FROM event_deliveries WHERE sub = $1 AND state = 'failed' ORDER BY seq`, sub)
			if err != nil {
				return err
			}
			got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil {
				return err
			}
			for _, seq := range got {
				list = append(list, uint64(seq))
			}
		}
		for _, seq := range list {
			d, err := locked(ctx, tx, seq)
			if err != nil {
				return err
			}
			if d == nil || d.Subscription != sub || d.State == events.Pending {
				continue
			}
			var busy bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM event_deliveries WHERE sub = $1 AND order_key = $2 AND state = 'pending')`,
				d.Subscription, d.OrderKey).Scan(&busy); err != nil {
				return err
			}
			d.State, d.DoneAt, d.GiveUpAt, d.NextAt = events.Pending, time.Time{}, giveUp, now
			if busy {
				d.NextAt = time.Time{}
			}
			if err := write(ctx, tx, d); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Hurry implements events.Store.
func (s *Store) Hurry(ctx context.Context, sub string, now time.Time) (int, error) {
	var n int
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockDeliveries); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE event_deliveries SET next_ns = $2
			WHERE sub = $1 AND state = 'pending' AND next_ns IS NOT NULL AND next_ns > $2`, sub, ns(now))
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}

// CountPending implements events.Store.
func (s *Store) CountPending(ctx context.Context, max int) (int, error) {
	if max <= 0 {
		max = math.MaxInt32
	}
	var n int
	err := s.view(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM event_deliveries WHERE state = 'pending' LIMIT $1) p`, max).Scan(&n)
	})
	return n, err
}

// PruneDeliveries implements events.Store.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	var n int
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM event_deliveries WHERE state <> 'pending' AND created_ns < $1`, ns(before))
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}
