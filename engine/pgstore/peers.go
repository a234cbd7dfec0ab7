package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/engine/model"
)

var _ model.Peers = (*Store)(nil)

// Heartbeat implements model.Peers: the store's owner is live until now
// plus ttl (a row of live_processes), and the count is of the rows live
// at now. Times are the callers' pacing clocks: processes on several
// machines need clocks in step to well within ttl (NTP's milliseconds
// against engine.PaceTTL's seconds). Rows that ran out ttl ago are
// deleted.
func (s *Store) Heartbeat(ctx context.Context, now time.Time, ttl time.Duration) (int, time.Time, error) {
	var live, joined int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		// A beat lost in a crash of the database is made again at the
		// next: the commit need not wait for the disk.
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO live_processes (owner, joined_ns, until_ns) VALUES ($1, $2, $3)
			ON CONFLICT (owner) DO UPDATE SET until_ns = excluded.until_ns,
				joined_ns = CASE WHEN live_processes.until_ns < excluded.joined_ns THEN excluded.joined_ns ELSE live_processes.joined_ns END
			RETURNING joined_ns`, s.owner, ns(now), ns(now.Add(ttl))).Scan(&joined); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM live_processes WHERE until_ns < $1`, ns(now.Add(-ttl))); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM live_processes WHERE until_ns >= $1`, ns(now)).Scan(&live)
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	return int(live), time.Unix(0, joined).UTC(), nil
}

// Leave implements model.Peers: the owner's row goes, and the others
// count one process fewer at their next beat.
func (s *Store) Leave(ctx context.Context) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM live_processes WHERE owner = $1`, s.owner)
		return err
	})
}
