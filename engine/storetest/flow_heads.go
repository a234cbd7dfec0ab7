package storetest

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// A store that tells which flow records changed (model.FlowHeads) lists
// every head from mark 0, none (and the same mark) when nothing was
// written since, and then only the records written: a draft's save, a
// publish, an archive, each with the record's published version and
// archived flag; marks survive reopening.
func testFlowHeads(t *testing.T, s *suite) {
	st, path := s.fresh(t)
	fh, ok := st.(model.FlowHeads)
	if !ok {
		t.Skip("the store does not implement model.FlowHeads")
	}
	ctx := ctxOf(t)
	heads, mark, err := fh.FlowHeadsSince(ctx, 0)
	must(t, err)
	if len(heads) != 0 {
		t.Fatalf("heads of an empty store: %v", heads)
	}
	for _, id := range []string{"a", "b", "c"} {
		must(t, st.SaveFlow(ctx, &model.FlowRecord{ID: id, Draft: []byte(`{"draft":"` + id + `"}`)}))
	}
	_, err = st.Publish(ctx, "b", []byte(`{"v":1}`), "ana", at(0))
	must(t, err)
	all, m1, err := fh.FlowHeadsSince(ctx, 0)
	must(t, err)
	sameJSON(t, "every head", all, []model.FlowHead{{ID: "a"}, {ID: "b", Published: 1}, {ID: "c"}})
	if m1 <= mark {
		t.Fatalf("the mark did not move on: %d, then %d", mark, m1)
	}
	none, m2, err := fh.FlowHeadsSince(ctx, m1)
	must(t, err)
	if len(none) != 0 || m2 != m1 {
		t.Fatalf("nothing written: heads %v, mark %d (was %d)", none, m2, m1)
	}

	must(t, st.SaveFlow(ctx, &model.FlowRecord{ID: "c", Draft: []byte(`{"draft":"c2"}`), Archived: true}))
	_, err = st.Publish(ctx, "a", []byte(`{"v":1}`), "ana", at(time.Hour))
	must(t, err)
	changed, m3, err := fh.FlowHeadsSince(ctx, m1)
	must(t, err)
	sameJSON(t, "heads changed", changed, []model.FlowHead{{ID: "a", Published: 1}, {ID: "c", Archived: true}})
	must(t, st.Close())

	st = s.reopen(t, path)
	fh = st.(model.FlowHeads)
	if none, m4, err := fh.FlowHeadsSince(ctx, m3); len(none) != 0 || m4 != m3 || err != nil {
		t.Fatalf("after reopening, nothing written: heads %v, mark %d (was %d), %v", none, m4, m3, err)
	}
}
