package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/parleyhq/parley/engine"
)

// retentionEvery is how often the retention looks for conversations to
// delete: often enough that each pass is small, rarely enough that an idle
// store is not read for nothing.
const retentionEvery = 10 * time.Minute

// runRetention deletes, a first time at start and then every
// retentionEvery, the conversations that are done (ended, expired, failed)
// and were last active more than keep ago, with their transcripts
// (boltstore's and pgstore's PruneConversations: small transactions
// between the commits; on PostgreSQL every process runs it, and each
// deletes what the others have not taken).
// It returns when ctx ends. A pass that fails is logged and tried again at
// the next one.
func runRetention(ctx context.Context, store conversationPruner, clock engine.Clock, keep time.Duration, log *slog.Logger) error {
	for {
		start := time.Now()
		n, err := store.PruneConversations(ctx, clock.Now().Add(-keep))
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Error("retention: deleting old conversations", "err", err, "deleted", n)
		case n > 0:
			log.Info("retention: deleted old conversations", "deleted", n, "older_than", keep.String(), "took", time.Since(start).Round(time.Millisecond).String())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(retentionEvery):
		}
	}
}
