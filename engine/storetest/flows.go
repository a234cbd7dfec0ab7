package storetest

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

func testFlows(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	if recs, err := st.Flows(ctx); len(recs) != 0 || err != nil {
		t.Fatalf("Flows of an empty store: %d, %v", len(recs), err)
	}

	draft := &model.FlowRecord{ID: "order-status", Name: "Order status", Draft: []byte(`{"id":"order-status","v":"draft 1"}`), DraftAt: at(0), DraftBy: "ana"}
	must(t, st.SaveFlow(ctx, draft))
	got, err := st.Flow(ctx, draft.ID)
	must(t, err)
	sameJSON(t, "saved draft", got, draft)

	docs := []string{`{"v":1}`, `{"v":2}`, `{"v":3}`}
	for i, doc := range docs {
		v, err := st.Publish(ctx, draft.ID, []byte(doc), "ana", at(time.Duration(i)*time.Hour))
		must(t, err)
		want := &model.FlowVersion{Flow: draft.ID, Version: i + 1, Doc: []byte(doc), PublishedAt: at(time.Duration(i) * time.Hour), PublishedBy: "ana"}
		sameJSON(t, fmt.Sprint("published version ", i+1), v, want)
		rec, err := st.Flow(ctx, draft.ID)
		must(t, err)
		if rec.Published != i+1 {
			t.Errorf("after publish %d: Published = %d", i+1, rec.Published)
		}
		if string(rec.Draft) != string(draft.Draft) {
			t.Errorf("publish changed an existing record's draft to %s", rec.Draft)
		}
	}

	// Saving a record read before the publishes (Published 0) keeps the
	// latest version: Published belongs to Publish.
	stale := *draft
	stale.Draft, stale.Archived = []byte(`{"v":"draft 2"}`), true
	must(t, st.SaveFlow(ctx, &stale))
	rec, err := st.Flow(ctx, draft.ID)
	must(t, err)
	stale.Published = len(docs)
	sameJSON(t, "record after saving a stale copy", rec, &stale)

	// Versions are immutable: neither a new draft nor a new version changes them.
	for i, doc := range docs {
		v, err := st.FlowVersion(ctx, draft.ID, i+1)
		must(t, err)
		if string(v.Doc) != doc || v.Version != i+1 || v.Flow != draft.ID {
			t.Errorf("version %d: got %s (v%d of %s), want %s", i+1, v.Doc, v.Version, v.Flow, doc)
		}
	}
	vs, err := st.FlowVersions(ctx, draft.ID)
	must(t, err)
	if len(vs) != len(docs) {
		t.Fatalf("%d versions, want %d", len(vs), len(docs))
	}
	for i, v := range vs {
		if v.Version != i+1 || string(v.Doc) != docs[i] {
			t.Errorf("FlowVersions[%d]: v%d %s", i, v.Version, v.Doc)
		}
	}

	// Publishing a flow without a record creates one; "order-status-2"
	// shares a prefix with "order-status" and must not see its versions.
	v, err := st.Publish(ctx, "order-status-2", []byte(`{"v":"other"}`), "bo", at(0))
	must(t, err)
	if v.Version != 1 {
		t.Errorf("first version of a new flow: %d, want 1", v.Version)
	}
	rec, err = st.Flow(ctx, "order-status-2")
	must(t, err)
	if rec.ID != "order-status-2" || rec.Published != 1 {
		t.Errorf("record created by Publish: %+v", rec)
	}
	must(t, st.SaveFlow(ctx, &model.FlowRecord{ID: "a-first", Name: "First"}))
	recs, err := st.Flows(ctx)
	must(t, err)
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != "[a-first order-status order-status-2]" {
		t.Errorf("Flows = %v, want by id", ids)
	}
	if vs, _ := st.FlowVersions(ctx, draft.ID); len(vs) != len(docs) {
		t.Errorf("versions of %s after publishing another flow: %d", draft.ID, len(vs))
	}
}

// Concurrent publishes of one flow get distinct versions 1..n.
func testConcurrentPublish(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	const n = 32
	var wg sync.WaitGroup
	versions := make(chan int, n)
	for i := range n {
		wg.Go(func() {
			v, err := st.Publish(ctx, "welcome", []byte(fmt.Sprintf(`{"by":%d}`, i)), fmt.Sprint("user", i), at(0))
			if err != nil {
				t.Error(err)
				return
			}
			versions <- v.Version
		})
	}
	wg.Wait()
	close(versions)
	var got []int
	for v := range versions {
		got = append(got, v)
	}
	sort.Ints(got)
	for i, v := range got {
		if v != i+1 {
			t.Fatalf("versions %v, want 1..%d each once", got, n)
		}
	}
	rec, err := st.Flow(ctx, "welcome")
	must(t, err)
	if rec.Published != n {
		t.Errorf("Published = %d, want %d", rec.Published, n)
	}
}
