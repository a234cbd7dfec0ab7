package quarantine_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/quarantine"
)

// Keep keeps the last MaxItems items, each clipped to MaxItemBytes, and
// List answers them newest first, also after a restart.
func TestKeepCapsAndLists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	q := quarantine.New(st)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var batch []quarantine.Item
	for i := range quarantine.MaxItems + 5 {
		text, clipped := quarantine.Clip(map[string]string{"id": fmt.Sprint("wamid.", i)})
		batch = append(batch, quarantine.Item{At: at, Field: "messages", Reason: "bad_id", Item: text, Clipped: clipped})
	}
	if err := q.Keep(t.Context(), batch[:10]); err != nil {
		t.Fatal(err)
	}
	if err := q.Keep(t.Context(), batch[10:]); err != nil {
		t.Fatal(err)
	}
	huge, clipped := quarantine.Clip(map[string]string{"id": strings.Repeat("x", 10_000)})
	if len(huge) != quarantine.MaxItemBytes || !clipped {
		t.Fatalf("Clip of 10 KB: %d bytes, clipped %v", len(huge), clipped)
	}
	st.Close()

	st, err = boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	items, err := quarantine.New(st).List(t.Context(), quarantine.MaxItems+100)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != quarantine.MaxItems {
		t.Fatalf("%d items kept, want %d", len(items), quarantine.MaxItems)
	}
	first, last := items[0], items[len(items)-1]
	if first.Seq != quarantine.MaxItems+5 || !strings.Contains(first.Item, fmt.Sprint("wamid.", quarantine.MaxItems+4)) ||
		last.Seq != 6 || !strings.Contains(last.Item, "wamid.5\"") || !first.At.Equal(at) {
		t.Fatalf("newest %+v, oldest %+v", first, last)
	}
}
