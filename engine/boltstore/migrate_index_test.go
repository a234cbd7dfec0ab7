package boltstore

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// listings are what the indexes answer: every filter's listing and the
// phone number lookups.
func listings(t *testing.T, s *Store) map[string][]string {
	t.Helper()
	ctx := t.Context()
	out := map[string][]string{}
	for _, f := range []model.ConversationFilter{{}, {Status: model.Waiting}, {Status: model.Ended}, {Flow: "bench"},
		{Status: model.Waiting, Flow: "bench"}, {Number: "1065"}, {Limit: 7}} {
		convs, _, err := s.ListConversations(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range convs {
			out[fmt.Sprint(f)] = append(out[fmt.Sprint(f)], c.ID)
		}
	}
	for n := range 5 {
		cs, err := s.ContactsByWaID(ctx, benchEventOf(n, true).Contact.WaID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			out["wa "+fmt.Sprint(n)] = append(out["wa "+fmt.Sprint(n)], string(c.Key))
		}
	}
	return out
}

// unindex makes the file at path one of schema 3: no index buckets, nothing
// beside the conversation records.
func unindex(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketConvIndex, bucketContactsByWaID} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		data := tx.Bucket(bucketData)
		var del [][]byte
		names := &ownerNames{data: data}
		if err := data.ForEach(func(k, _ []byte) error {
			if d, ok := names.parse(k); ok && d.kind == kindConversation && d.sub == kindIndexed {
				del = append(del, bytes.Clone(k))
			}
			return nil
		}); err != nil {
			return err
		}
		if len(del) == 0 {
			t.Error("no conversation was indexed")
		}
		for _, k := range del {
			if err := data.Delete(k); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, u64(3))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A schema-3 file gets its indexes at Open, in steps, and a crash between
// steps (steps run, then the file closed) leaves one the next Open finishes:
// the listings are those of a file indexed from the start.
func TestMigrateIndexes(t *testing.T) {
	defer func(n int) { indexChunk = n }(indexChunk)
	indexChunk = 7
	for _, steps := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("steps=%d", steps), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "parley.db")
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range v1Events() {
				if err := s.Commit(t.Context(), c); err != nil {
					t.Fatal(err)
				}
			}
			want := listings(t, s)
			if len(want["{    0 }"]) != 60 {
				t.Fatalf("listing of everything: %d conversations, want 60", len(want["{    0 }"]))
			}
			s.Close()
			unindex(t, path)
			if steps > 0 {
				db, err := bolt.Open(path, 0o600, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Update(initBuckets); err != nil {
					t.Fatal(err)
				}
				for range steps {
					if done, err := indexStep(db); err != nil || done {
						t.Fatalf("indexStep: done %v, %v", done, err)
					}
				}
				db.Close()
			}
			s, err = Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			same(t, "listings after indexing", want, listings(t, s))
			if err := s.view(t.Context(), func(tx *bolt.Tx) error {
				if tx.Bucket(bucketMeta).Get(keyIndexing) != nil {
					t.Error("indexing_from left after Open")
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
