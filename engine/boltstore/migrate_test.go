package boltstore

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// testdata/v1.db.gz is a version-1 file written by the version-1 code
// (commit f9d7ab3's boltstore.Open and Commit, compacted): for n < 60,
// benchEventOf(m, true) for m = n, n+benchContacts, n+2*benchContacts,
// committed one by one, so 60 contacts with three events each. v1Events
// is that list.
func v1Events() []*model.Change {
	var out []*model.Change
	for n := range 60 {
		for _, m := range []int{n, n + benchContacts, n + 2*benchContacts} {
			out = append(out, benchEventOf(m, true))
		}
	}
	return out
}

func v1File(t *testing.T) string {
	t.Helper()
	f, err := os.Open("testdata/v1.db.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "parley.db")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, z); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// same compares what was committed with what reads back, through JSON,
// as the store keeps it.
func same(t *testing.T, what string, want, got any) {
	t.Helper()
	w, _ := json.Marshal(want)
	g, _ := json.Marshal(got)
	var wv, gv any
	json.Unmarshal(w, &wv)
	json.Unmarshal(g, &gv)
	if !reflect.DeepEqual(wv, gv) {
		t.Errorf("%s:\nwant %s\n got %s", what, w, g)
	}
}

// checkV1 reads back, through the Store, every record the v1 events wrote.
func checkV1(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	events := v1Events()
	contacts := map[model.ContactKey]*model.Change{} // the last event of each
	transcripts := map[string][]*model.Message{}
	var queued []*model.Message
	for _, c := range events {
		contacts[c.Contact.Key] = c
		for _, m := range c.Messages {
			transcripts[m.Conversation] = append(transcripts[m.Conversation], m)
			if m.Direction == model.Out && m.State == model.Queued {
				queued = append(queued, m)
			}
		}
		if seen, err := s.Seen(ctx, c.Contact.Key, c.InboundID); !seen || err != nil {
			t.Errorf("inbound %s not seen after migration (%v)", c.InboundID, err)
		}
	}
	for key, c := range contacts {
		got, err := s.Contact(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "contact "+string(key), c.Contact, got)
		conv := c.Conversations[0]
		gotConv, err := s.Conversation(ctx, conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "conversation "+conv.ID, conv, gotConv)
		convs, err := s.Conversations(ctx, key)
		if err != nil || len(convs) != 1 {
			t.Fatalf("Conversations(%s) = %d, %v", key, len(convs), err)
		}
		same(t, "Conversations "+string(key), conv, convs[0])
		listed, _, err := s.ListConversations(ctx, model.ConversationFilter{Contact: key})
		if err != nil || len(listed) != 1 || listed[0].ID != conv.ID {
			t.Fatalf("ListConversations(%s) = %v, %v", key, listed, err)
		}
		tr, err := s.Transcript(ctx, conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "transcript "+conv.ID, transcripts[conv.ID], tr)
		for _, m := range transcripts[conv.ID] {
			got, err := s.Message(ctx, m.Conversation, m.Seq)
			if err != nil {
				t.Fatal(err)
			}
			same(t, fmt.Sprintf("message %s #%d", m.Conversation, m.Seq), m, got)
		}
	}
	all, err := s.ListContacts(ctx, "", 0)
	if err != nil || len(all) != len(contacts) {
		t.Fatalf("ListContacts = %d contacts, %v; want %d", len(all), err, len(contacts))
	}
	if !slices.IsSortedFunc(all, func(a, b *model.Contact) int { return cmpKey(a.Key, b.Key) }) {
		t.Error("ListContacts out of key order")
	}
	list, _, err := s.ListConversations(ctx, model.ConversationFilter{})
	if err != nil || len(list) != len(contacts) {
		t.Fatalf("ListConversations = %d, %v; want %d", len(list), err, len(contacts))
	}
	// The outbox points at the migrated messages, in the order queued.
	items, err := s.Outbox(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(queued) {
		t.Fatalf("outbox has %d items, want %d", len(items), len(queued))
	}
	for i, it := range items {
		same(t, fmt.Sprintf("outbox item %d", it.Seq), queued[i], it.Message)
	}
	timers, err := s.DueTimers(ctx, maxTime, 0)
	if err != nil || len(timers) == 0 {
		t.Fatalf("timers after migration: %d, %v", len(timers), err)
	}
}

func cmpKey(a, b model.ContactKey) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// checkMigrated asserts the file is at schema 2 with no trace of schema 1.
func checkMigrated(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keySchema); string(v) != string(u64(schemaVersion)) {
			t.Errorf("schema %x after migration", v)
		}
		if meta.Get(keyMigrating) != nil {
			t.Error("migration marker left")
		}
		for _, name := range [][]byte{legacyContacts, legacyConversations, legacyMessages, legacyByContact} {
			if tx.Bucket(name) != nil {
				t.Errorf("bucket %s left", name)
			}
		}
		return nil
	})
}

func TestMigrateV1(t *testing.T) {
	path := v1File(t)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	checkV1(t, s)
	// The migrated store takes the next event of a migrated contact.
	next := benchEventOf(3*benchContacts, true)
	if err := s.Commit(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	tr, err := s.Transcript(t.Context(), next.Conversations[0].ID)
	if err != nil || len(tr) != 8 {
		t.Fatalf("transcript after a new event: %d messages, %v", len(tr), err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkMigrated(t, path)
	s, err = Open(path) // a migrated file opens as it is
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// A migration cut short after any of its transactions goes on at the next
// Open: every record is read back whole.
func TestMigrateV1Interrupted(t *testing.T) {
	defer func(n int) { migrateChunk = n }(migrateChunk)
	migrateChunk = 25 // 180 contacts' records... several transactions
	for steps := range 8 {
		t.Run(fmt.Sprint("steps=", steps), func(t *testing.T) {
			path := v1File(t)
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(initBuckets); err != nil {
				t.Fatal(err)
			}
			for range steps {
				if _, err := migrateStep(db); err != nil {
					t.Fatal(err)
				}
			}
			db.Close() // as if the process died here
			s, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			checkV1(t, s)
			s.Close()
			checkMigrated(t, path)
		})
	}
}

// A version-1 file with a conversation of another contact, one of no
// contact and one whose id has no '#': the cases the engine does not make,
// written in the version-1 layout directly.
func TestMigrateV1OddConversations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	convs := []*model.Conversation{
		{ID: "1065:a#1", Contact: "1065:b", Flow: "f"},
		{ID: "1065:a#2", Contact: "1065:a", Flow: "f"},
		{ID: "loose", Flow: "f"},
		{ID: "#7", Contact: "1065:a", Flow: "f"},
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range append([][]byte{legacyContacts, legacyConversations, legacyByContact, legacyMessages}, allBuckets...) {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		tx.Bucket(bucketMeta).Put(keySchema, u64(1))
		for _, k := range []string{"1065:a", "1065:b"} {
			v, _ := json.Marshal(model.Contact{Key: model.ContactKey(k)})
			tx.Bucket(legacyContacts).Put([]byte(k), v)
		}
		for _, c := range convs {
			v, _ := json.Marshal(c)
			tx.Bucket(legacyConversations).Put([]byte(c.ID), v)
			if c.Contact != "" {
				tx.Bucket(legacyByContact).Put(otherContactKey(c.Contact, c.ID), present)
			}
			for seq := uint64(1); seq <= 3; seq++ {
				v, _ := json.Marshal(model.Message{Conversation: c.ID, Seq: seq})
				k := append(prefix(c.ID), u64(seq)...)
				tx.Bucket(legacyMessages).Put(k, v)
				if seq == 3 {
					n, _ := tx.Bucket(bucketOutbox).NextSequence()
					tx.Bucket(bucketOutbox).Put(u64(n), k)
				}
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	ids := func(cs []*model.Conversation) (out []string) {
		for _, c := range cs {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		return out
	}
	for key, want := range map[model.ContactKey][]string{"1065:a": {"#7", "1065:a#2"}, "1065:b": {"1065:a#1"}} {
		got, err := s.Conversations(ctx, key)
		if err != nil || !slices.Equal(ids(got), want) {
			t.Errorf("Conversations(%s) = %v, %v; want %v", key, ids(got), err, want)
		}
	}
	for _, c := range convs {
		if got, err := s.Conversation(ctx, c.ID); err != nil || got.Contact != c.Contact {
			t.Errorf("Conversation(%s) = %v, %v", c.ID, got, err)
		}
		if tr, err := s.Transcript(ctx, c.ID); err != nil || len(tr) != 3 {
			t.Errorf("Transcript(%s) = %d, %v", c.ID, len(tr), err)
		}
	}
	items, err := s.Outbox(ctx, 0, 0)
	if err != nil || len(items) != len(convs) {
		t.Fatalf("outbox: %d, %v", len(items), err)
	}
	for i, it := range items {
		if it.Message.Conversation != convs[i].ID || it.Message.Seq != 3 {
			t.Errorf("outbox item %d is %s #%d", i, it.Message.Conversation, it.Message.Seq)
		}
	}
	if cs, err := s.ListContacts(ctx, "", 0); err != nil || len(cs) != 2 {
		t.Errorf("ListContacts = %d, %v", len(cs), err)
	}
	if all, _, err := s.ListConversations(ctx, model.ConversationFilter{}); err != nil || len(all) != len(convs) {
		t.Errorf("ListConversations = %d, %v", len(all), err)
	}
}

// A schema-2 file keeps its inbound ids in the inbound bucket: after Open
// (schema 3) they are still seen and refuse their message again, new ids go
// to their contact's group, and PruneInbound forgets both kinds.
func TestSchema2InboundIDs(t *testing.T) {
	s, path := openTest(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := t0.Add(-48 * time.Hour)
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put(keySchema, u64(2)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketInbound).Put([]byte("wamid.v2"), appendTime(nil, old)); err != nil {
			return err
		}
		return tx.Bucket(bucketInboundByTime).Put(inboundTimeKey(old, "wamid.v2"), present)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if err := s.view(ctx, func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySchema); string(v) != string(u64(schemaVersion)) {
			t.Errorf("schema after Open: %x, want %d", v, schemaVersion)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if seen, err := s.Seen(ctx, sender, "wamid.v2"); !seen || err != nil {
		t.Errorf("schema-2 id: Seen = %v, %v", seen, err)
	}
	if err := s.Commit(ctx, change("wamid.v2", 1)); !errors.Is(err, model.ErrDuplicate) {
		t.Errorf("schema-2 id again: %v, want ErrDuplicate", err)
	}
	if err := s.Commit(ctx, change("wamid.v3", 2)); err != nil {
		t.Fatal(err)
	}
	if err := s.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketData).Get(keysIn(tx).inbound(sender, "wamid.v3")) == nil {
			t.Error("new id not in its contact's group")
		}
		if tx.Bucket(bucketInbound).Get([]byte("wamid.v3")) != nil {
			t.Error("new id written to the schema-2 bucket")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PruneInbound(ctx, t0.Add(time.Hour)); n != 2 || err != nil {
		t.Errorf("prune: %d, %v; want 2, nil", n, err)
	}
	for _, id := range []string{"wamid.v2", "wamid.v3"} {
		if seen, err := s.Seen(ctx, sender, id); seen || err != nil {
			t.Errorf("%s after prune: Seen = %v, %v", id, seen, err)
		}
	}
}
