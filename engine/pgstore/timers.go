package pgstore

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/engine/model"
)

var _ model.TimerClaimer = (*Store)(nil)

// ClaimTimers implements model.TimerClaimer: up to limit timers due at
// or before now that no other owner's claim holds at now, each claimed
// for the store's owner until now plus lease. Rows another transaction is
// claiming are skipped (FOR UPDATE SKIP LOCKED), so two processes
// claiming at once take different timers rather than waiting for each
// other. Leases are in the engine's time (now), as the event deliveries'
// (ClaimDue). Commit deletes a fired timer, claim and all; setting a timer
// again (the same due time, kind, conversation and node) keeps its claim.
func (s *Store) ClaimTimers(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]model.Timer, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	var out []model.Timer
	err := s.tx(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		// A claim lost in a crash of the database is only claimed again:
		// the commit need not wait for the disk.
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `UPDATE timers SET owner = $1, lease_ns = $2
			WHERE (due_ns, kind, conversation, node) IN (SELECT due_ns, kind, conversation, node FROM timers
				WHERE due_ns <= $3 AND (lease_ns IS NULL OR lease_ns < $3 OR owner = $1)
				ORDER BY due_ns, kind, conversation, node LIMIT $4 FOR UPDATE SKIP LOCKED)
			RETURNING data`, s.owner, ns(now.Add(lease)), ns(now), limit)
		if err != nil {
			return err
		}
		ts, err := collect[model.Timer](rows, "timer")
		if err != nil {
			return err
		}
		for _, t := range ts {
			out = append(out, *t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// RETURNING has no order: DueTimers' (the primary key's, byte order).
	slices.SortFunc(out, func(a, b model.Timer) int {
		return cmp.Or(a.Due.Compare(b.Due), strings.Compare(string(a.Kind), string(b.Kind)),
			strings.Compare(a.Conversation, b.Conversation), strings.Compare(a.Node, b.Node))
	})
	return out, nil
}
