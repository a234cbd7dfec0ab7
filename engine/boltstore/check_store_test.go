package boltstore

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// Check finds nothing wrong with a file only commits and the retention
// wrote, and names each inconsistency planted in one.
func TestCheck(t *testing.T) {
	s, path := openTest(t)
	ctx := t.Context()
	for i := range 40 {
		c := change(fmt.Sprint("wamid.", i), i)
		c.Contact.WaID = fmt.Sprint("49300", i) // not the key's: indexed
		if i%2 == 0 {
			c.Conversations[0].Status, c.Messages[0].State, c.SetTimers = model.Ended, model.Sent, nil
		}
		if err := s.Commit(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Check(path); !errors.Is(err, ErrInUse) {
		t.Errorf("Check of an open file: %v, want ErrInUse", err)
	}
	if n, err := s.PruneConversations(ctx, t0.Add(time.Hour)); n != 20 || err != nil {
		t.Fatalf("PruneConversations = %d, %v; want 20", n, err)
	}
	s.Close()
	r, err := Check(path)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Conversations != 20 || r.Contacts != 40 || r.Outbox != 20 || r.IndexEntries != 20 {
		t.Fatalf("clean file: %+v", r)
	}

	// Plant: an index entry gone, a stale one, an outbox item of a missing
	// message, a contact without its wa_id entry.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bucketConvIndex)
		k, _ := idx.Cursor().First()
		if err := idx.Delete(k); err != nil {
			return err
		}
		if err := idx.Put(append(indexPrefix(dimStatus, "ended"), append(timeBound(t0), "1065:nobody#1"...)...), []byte("ended\x00f\x001065:nobody")); err != nil {
			return err
		}
		if err := tx.Bucket(bucketOutbox).Put(u64(999), named(messageDKey("1065:nobody#1", 1))); err != nil {
			return err
		}
		w := tx.Bucket(bucketContactsByWaID)
		k, _ = w.Cursor().First()
		return w.Delete(k)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	r, err = Check(path)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(r.Problems, "\n")
	for _, want := range []string{"conversation_index entry", "1065:nobody#1\", which is not stored", "outbox item 999", "no contacts_by_wa_id entry"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems do not mention %q:\n%s", want, all)
		}
	}
	if r.OK() {
		t.Error("OK with problems planted")
	}
}
