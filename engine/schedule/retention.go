package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultRetention is how long a finished firing keeps its per-contact
// records (one Send per contact of the audience: about 1 MB for 5,000
// contacts). Delivery and read receipts have long arrived by then; the
// firing itself, its counts and its frozen delivery are kept for good.
const DefaultRetention = 30 * 24 * time.Hour

// pruneEvery is how often Tick looks for firings past the retention
// period, and prunePerCall how many one Prune deals with, so that pruning
// never holds the committer for long.
const (
	pruneEvery   = time.Hour
	prunePerCall = 20
)

var errEnough = errors.New("enough")

// Prune deals with up to prunePerCall firings finished longer ago than the
// retention period: it freezes each one's delivery (Report's figures as
// they stand) into the firing and deletes its per-contact records, in one
// transaction per firing. Their report then reads the same; only the
// per-contact list (Sends) is gone. It returns how many it pruned.
func (s *Scheduler) Prune(ctx context.Context) (int, error) {
	if s.opts.Retention < 0 {
		return 0, nil
	}
	cutoff := s.now().Add(-s.opts.Retention)
	var due []string
	err := s.records.ViewSchedules(ctx, func(tx Tx) error {
		due = due[:0]
		err := tx.Firings(func(f *Firing) error {
			// A missed firing sent nothing: it has nothing to prune.
			if f.Status.Finished() && f.Status != Missed && f.Delivery == nil && !f.FinishedAt.IsZero() && f.FinishedAt.Before(cutoff) {
				due = append(due, f.ID)
			}
			if len(due) == prunePerCall {
				return errEnough
			}
			return nil
		})
		if errors.Is(err, errEnough) {
			return nil
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("schedule: finding firings to prune: %w", err)
	}
	for i, id := range due {
		if err := s.prune(ctx, id); err != nil {
			return i, err
		}
	}
	if len(due) > 0 {
		s.log.Info("schedule firings pruned", "firings", len(due), "retention", s.opts.Retention)
	}
	return len(due), nil
}

// prune freezes one firing's delivery and deletes its Send records.
func (s *Scheduler) prune(ctx context.Context, id string) error {
	d, err := s.delivery(ctx, id)
	if err != nil {
		return fmt.Errorf("schedule: pruning %s: %w", id, err)
	}
	err = s.records.UpdateSchedules(ctx, func(tx Tx) error {
		f, err := tx.Firing(id)
		if err != nil || f == nil || f.Delivery != nil {
			return err
		}
		if err := tx.DeleteSends(id); err != nil {
			return err
		}
		frozen := d
		f.Delivery = &frozen
		return tx.PutFiring(f)
	})
	if err != nil {
		return fmt.Errorf("schedule: pruning %s: %w", id, err)
	}
	return nil
}
