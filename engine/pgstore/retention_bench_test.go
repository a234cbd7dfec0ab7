package pgstore_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// BenchmarkPruneConversations: the retention deleting 20,000 old ended
// conversations of 3 messages each (made by SQL, as the engine's commits
// lay them out), in its batches of 500, while one writer commits to a
// live conversation in a loop: conversations deleted per second, and the
// writer's commit latency during the prune against the same writer's
// alone (no prune) just before.
func BenchmarkPruneConversations(b *testing.B) {
	st := openAt(b, filepath.Join(b.TempDir(), "db"))
	b.Cleanup(func() { st.Close() })
	ctx := b.Context()
	const n = 20_000
	seq := 0
	// commits commits a message to a live conversation until stop, and
	// returns each commit's latency.
	commits := func(stop <-chan struct{}) []time.Duration {
		key := model.ContactKey("100:live")
		var lat []time.Duration
		for {
			select {
			case <-stop:
				return lat
			default:
			}
			seq++
			c := &model.Change{At: t0, Contact: &model.Contact{Key: key, Conversation: "live#1"},
				Conversations: []*model.Conversation{{ID: "live#1", Contact: key, Flow: "f", Status: model.Waiting, StartedAt: t0, LastActivityAt: t0, Seq: uint64(seq)}},
				Messages:      []*model.Message{{Conversation: "live#1", Seq: uint64(seq), Contact: key, Direction: model.In, State: model.Received, At: t0}}}
			start := time.Now()
			if err := st.Commit(ctx, c); err != nil {
				b.Error(err)
				return lat
			}
			lat = append(lat, time.Since(start))
		}
	}
	pct := func(lat []time.Duration, p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		s := slices.Clone(lat)
		slices.Sort(s)
		return float64(s[int(p*float64(len(s)-1))].Microseconds()) / 1000
	}
	for b.Loop() {
		b.StopTimer()
		for _, sql := range []string{
			`INSERT INTO contacts (key, data) SELECT '100:' || i, convert_to(json_build_object('key', '100:' || i, 'conversation', '100:' || i || '#1')::text, 'UTF8') FROM generate_series(1, $1::int) i WHERE $2::bigint IS NOT NULL`,
			`INSERT INTO conversations (id, contact, flow, status, started_ns, activity_ns, data)
				SELECT '100:' || i || '#1', '100:' || i, 'f', 'ended', $2::bigint, $2::bigint + i, '{}' FROM generate_series(1, $1::int) i`,
			`INSERT INTO messages (conversation, seq, data) SELECT '100:' || i || '#1', m, '{"text":"a message of a few words"}' FROM generate_series(1, $1::int) i, generate_series(1, 3) m WHERE $2::bigint IS NOT NULL`,
		} {
			if _, err := st.Pool().Exec(ctx, sql, n, oldDone.UnixNano()); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := st.Pool().Exec(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
		stop := make(chan struct{})
		go func() { time.Sleep(2 * time.Second); close(stop) }()
		alone := commits(stop)

		var wg sync.WaitGroup
		stop = make(chan struct{})
		var during []time.Duration
		wg.Add(1)
		go func() { defer wg.Done(); during = commits(stop) }()
		b.StartTimer()
		start := time.Now()
		got, err := st.PruneConversations(ctx, cutoff)
		took := time.Since(start)
		b.StopTimer()
		close(stop)
		wg.Wait()
		if err != nil || got != n {
			b.Fatalf("pruned %d, %v; want %d", got, err, n)
		}
		b.ReportMetric(float64(n)/took.Seconds(), "convs/s")
		b.ReportMetric(pct(alone, 0.5), "commit-p50-alone-ms")
		b.ReportMetric(pct(alone, 0.99), "commit-p99-alone-ms")
		b.ReportMetric(pct(during, 0.5), "commit-p50-pruning-ms")
		b.ReportMetric(pct(during, 0.99), "commit-p99-pruning-ms")
		b.ReportMetric(float64(slices.Max(append(during, 0)).Microseconds())/1000, "commit-max-pruning-ms")
		if _, err := st.Pool().Exec(context.Background(), `DELETE FROM contacts WHERE key <> '100:live'`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
