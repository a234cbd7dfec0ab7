package pgstore_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/engine/model"
)

// TestFlowStatsConcurrentCommits: two processes' commits, many at once,
// all adding to the same counters (as every turn of one flow does), lose
// no increment, and each process reads the whole total. The counters are
// split into shards by connection (migration 6), so commits at once add
// to different rows instead of waiting on one: the rows written are of
// several shards. The counts of a change come in an order that differs
// from change to change; commits sharing a shard still never deadlock.
func TestFlowStatsConcurrentCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	a, b := openAt(t, path), openAt(t, path)
	t.Cleanup(func() { a.Close(); b.Close() })
	ctx := t.Context()

	const workers, commits = 8, 25
	ab := model.Count{Flow: "f", Version: 1, Node: "a", Kind: model.CountEntered, N: 1}
	bb := model.Count{Flow: "f", Version: 1, Node: "b", Kind: model.CountEntered, N: 2}
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for i, st := range []model.Store{a, b, a, b, a, b, a, b, a, b, a, b, a, b, a, b}[:2*workers] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range commits {
				counts := []model.Count{ab, bb}
				if (i+j)%2 == 1 {
					counts = []model.Count{bb, ab}
				}
				if err := st.Commit(ctx, &model.Change{At: t0, Counts: counts}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("commit: %v", err)
	}

	day := model.Day(t0)
	want := []model.FlowStat{
		{Day: day, Version: 1, Node: "a", Kind: model.CountEntered, N: 2 * workers * commits},
		{Day: day, Version: 1, Node: "b", Kind: model.CountEntered, N: 2 * 2 * workers * commits},
	}
	for name, st := range map[string]model.Store{"a": a, "b": b} {
		got, err := st.FlowStats(ctx, "f", day, day)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("process %s: FlowStats = %+v, want %+v", name, got, want)
		}
		for i := range want {
			if !got[i].Day.Equal(want[i].Day) || got[i].Version != want[i].Version || got[i].Node != want[i].Node ||
				got[i].Kind != want[i].Kind || got[i].N != want[i].N {
				t.Fatalf("process %s: FlowStats[%d] = %+v, want %+v", name, i, got[i], want[i])
			}
		}
	}

	schema, _ := schemas.Load(path)
	conn, err := pgx.Connect(ctx, testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var shards int
	if err := conn.QueryRow(ctx, `SELECT count(DISTINCT shard) FROM `+schema.(string)+`.flow_stats WHERE node = 'a'`).Scan(&shards); err != nil {
		t.Fatal(err)
	}
	if shards < 2 {
		t.Errorf("node a's counter is in %d shard(s) after commits from two processes at once, want several", shards)
	}
}
