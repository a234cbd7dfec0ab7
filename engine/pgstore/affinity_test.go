package pgstore_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/pgstore"
)

// TestSendAffinity: with WithSendAffinity, an entry another process
// queued is left to it (not listed) until the affinity has passed since
// it was queued; then every process lists it and may claim it (its
// queuer died or fell behind). The queuer lists its own at once, and so
// does a store without the option.
func TestSendAffinity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	a := openAtWith(t, path, pgstore.WithOwner("proc-a"), pgstore.WithSendAffinity(time.Minute))
	b := openAtWith(t, path, pgstore.WithOwner("proc-b"), pgstore.WithSendAffinity(time.Minute))
	plain := openAtWith(t, path, pgstore.WithOwner("proc-c"))
	t.Cleanup(func() { a.Close(); b.Close(); plain.Close() })
	ctx := t.Context()

	fromA := queue(t, a, "c1", 2)
	fromB := queue(t, b, "c2", 1)
	listed := func(st *pgstore.Store) []uint64 {
		t.Helper()
		items, err := st.Outbox(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for _, it := range items {
			seqs = append(seqs, it.Seq)
		}
		return seqs
	}
	all := append(slices.Clone(fromA), fromB...)
	for _, tc := range []struct {
		name string
		st   *pgstore.Store
		want []uint64
	}{
		{"a, before the affinity", a, fromA},
		{"b, before the affinity", b, fromB},
		{"a store without affinity", plain, all},
	} {
		if got := listed(tc.st); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Outbox = %v, want %v", tc.name, got, tc.want)
		}
	}

	// The affinity passes for a's entries (moved rather than waited for):
	// b lists them and claims the first.
	if _, err := b.Pool().Exec(ctx, `UPDATE outbox SET queued_at = now() - interval '61 seconds' WHERE origin = 'proc-a'`); err != nil {
		t.Fatal(err)
	}
	if got := listed(b); !slices.Equal(got, all) {
		t.Fatalf("b after a's affinity: Outbox = %v, want %v", got, all)
	}
	if err := claim(b, t, fromA[0]); err != nil {
		t.Fatalf("b's claim of a's entry after the affinity: %v", err)
	}
	// b's claim is b's: a no longer lists that entry, and the one behind
	// it stays in order (a claim of it finds the earlier one held).
	if got := listed(a); !slices.Equal(got, fromA[1:]) {
		t.Fatalf("a after b's claim: Outbox = %v, want %v", got, fromA[1:])
	}
	if err := claim(a, t, fromA[1]); !errors.Is(err, model.ErrClaimedElsewhere) {
		t.Fatalf("a's claim behind b's = %v, want ErrClaimedElsewhere", err)
	}
}
