package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// Flow analytics: Change.Counts add to counters of the UTC day of the
// change's At, all or nothing with the change (a duplicate adds nothing);
// the same counter twice in one change adds both; FlowStats reads one
// flow's days from..to, both included, ordered by day, version, node, kind
// and exit; it survives reopening.
func testFlowStats(t *testing.T, s *suite) {
	st, path := s.fresh(t)
	ctx := ctxOf(t)
	day := func(n int) time.Time { return model.Day(t0).AddDate(0, 0, n) }
	entered := func(flow string, v int, node string, n uint64) model.Count {
		return model.Count{Flow: flow, Version: v, Node: node, Kind: model.CountEntered, N: n}
	}
	exit := func(node, name string) model.Count {
		return model.Count{Flow: "f", Version: 1, Node: node, Kind: model.CountExit, Exit: name, N: 1}
	}

	if got, err := st.FlowStats(ctx, "f", day(-10), day(10)); len(got) != 0 || err != nil {
		t.Fatalf("FlowStats of an empty store: %v, %v", got, err)
	}
	// Day 0, late in the day (23:59 UTC); in another zone it is day 1 already.
	late := day(1).Add(-time.Minute).In(time.FixedZone("UTC+3", 3*3600))
	commit(t, st, &model.Change{At: late, Counts: []model.Count{
		entered("f", 1, "b", 1), entered("f", 1, "a", 2), exit("a", "cases/0"), exit("a", "cases/0"), exit("a", "default"),
		entered("f", 2, "a", 1), entered("g", 1, "a", 5), entered("f2", 1, "a", 7),
	}})
	commit(t, st, &model.Change{InboundID: "wamid.stats", InboundKey: "1065:stats", At: day(1), Counts: []model.Count{
		entered("f", 1, "a", 1), {Flow: "f", Version: 1, Node: "a", Kind: model.CountSendFailed, N: 1},
	}})
	// A refused change counts nothing.
	err := st.Commit(ctx, &model.Change{InboundID: "wamid.stats", InboundKey: "1065:stats", At: day(1), Counts: []model.Count{entered("f", 1, "a", 100)}})
	if !errors.Is(err, model.ErrDuplicate) {
		t.Fatalf("duplicate commit: %v, want ErrDuplicate", err)
	}
	commit(t, st, &model.Change{At: day(3), Counts: []model.Count{entered("f", 1, "a", 1)}})

	stat := func(d, v int, node string, kind model.CountKind, exit string, n uint64) model.FlowStat {
		return model.FlowStat{Day: day(d), Version: v, Node: node, Kind: kind, Exit: exit, N: n}
	}
	all := []model.FlowStat{
		stat(0, 1, "a", model.CountEntered, "", 2),
		stat(0, 1, "a", model.CountExit, "cases/0", 2),
		stat(0, 1, "a", model.CountExit, "default", 1),
		stat(0, 1, "b", model.CountEntered, "", 1),
		stat(0, 2, "a", model.CountEntered, "", 1),
		stat(1, 1, "a", model.CountEntered, "", 1),
		stat(1, 1, "a", model.CountSendFailed, "", 1),
		stat(3, 1, "a", model.CountEntered, "", 1),
	}
	check := func(st model.Store) {
		t.Helper()
		for _, tc := range []struct {
			name     string
			from, to time.Time
			want     []model.FlowStat
		}{
			{"every day", day(-1), day(5), all},
			{"one day, by any time in it", day(1).Add(13 * time.Hour), day(1).Add(time.Hour), all[5:7]},
			{"from and to included", day(0), day(1), all[:7]},
			{"a day with nothing", day(2), day(2), nil},
			{"to before from", day(3), day(0), nil},
		} {
			got, err := st.FlowStats(ctx, "f", tc.from, tc.to)
			must(t, err)
			if len(got) == 0 {
				got = nil
			}
			sameJSON(t, "FlowStats "+tc.name, got, tc.want)
		}
		got, err := st.FlowStats(ctx, "g", day(0), day(0))
		must(t, err)
		sameJSON(t, "FlowStats of another flow", got, []model.FlowStat{stat(0, 1, "a", model.CountEntered, "", 5)})
	}
	check(st)
	must(t, st.Close())
	check(s.reopen(t, path))
}
