package boltstore

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
)

// A filter the index does not cover (a flow) reads at most listScanCap
// entries a page: pages may come short, even empty, but carry a cursor,
// and following them lists every match once, in order.
func TestListScanCap(t *testing.T) {
	defer func(n int) { listScanCap = n }(listScanCap)
	listScanCap = 3
	s, _ := openTest(t)
	ctx := t.Context()
	var want []string
	for i := range 30 {
		key := engine.NewContactKey("1065", fmt.Sprint("4917", i))
		cv := &engine.Conversation{ID: string(key) + "#1", Contact: key, Flow: "common", Status: engine.Waiting, LastActivityAt: t0.Add(time.Duration(i) * time.Minute)}
		if i%5 == 0 {
			cv.Flow = "rare"
			want = append([]string{cv.ID}, want...)
		}
		if err := s.Commit(ctx, &engine.Change{At: t0, Contact: &engine.Contact{Key: key}, Conversations: []*engine.Conversation{cv}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []engine.ConversationFilter{{Flow: "rare", Limit: 2}, {Flow: "rare", Status: engine.Waiting, Limit: 1}} {
		var got []string
		pages := 0
		for {
			convs, next, err := s.ListConversations(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if pages++; pages > 30 {
				t.Fatal("paging does not end")
			}
			for _, c := range convs {
				got = append(got, c.ID)
			}
			if next == "" {
				break
			}
			f.Cursor = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: pages gave %v\nwant %v", f, got, want)
		}
		if pages < 4 {
			t.Errorf("%+v: %d pages: the cap cut none short", f, pages)
		}
	}
}
