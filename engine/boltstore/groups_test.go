package boltstore

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// groupOf is the contact_data group of owner as stored.
func groupOf(t *testing.T, s *Store, owner string) []byte {
	t.Helper()
	var g []byte
	if err := s.db.View(func(tx *bolt.Tx) error {
		g = bytes.Clone(keysIn(tx).group(owner))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return g
}

// checkRecords reads back the contact, conversation and transcript of the
// last change of each contact in cs, and lists every contact in key order.
func checkRecords(t *testing.T, s *Store, cs []*model.Change) {
	t.Helper()
	ctx := t.Context()
	last := map[model.ContactKey]*model.Change{}
	msgs := map[string][]*model.Message{}
	for _, c := range cs {
		last[c.Contact.Key] = c
		msgs[c.Conversations[0].ID] = append(msgs[c.Conversations[0].ID], c.Messages...)
	}
	var keys []string
	for key, c := range last {
		keys = append(keys, string(key))
		ct, err := s.Contact(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "contact "+string(key), c.Contact, ct)
		conv, err := s.Conversation(ctx, c.Conversations[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "conversation "+conv.ID, c.Conversations[0], conv)
		tr, err := s.Transcript(ctx, conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "transcript of "+conv.ID, msgs[conv.ID], tr)
		if seen, err := s.Seen(ctx, key, c.InboundID); !seen || err != nil {
			t.Errorf("Seen(%s) = %v, %v", c.InboundID, seen, err)
		}
	}
	slices.Sort(keys)
	var listed []string
	after := model.ContactKey("")
	for { // pages of 7: each page merges named groups and slots from after
		page, err := s.ListContacts(ctx, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range page {
			listed = append(listed, string(ct.Key))
		}
		if len(page) < 7 {
			break
		}
		after = page[len(page)-1].Key
	}
	if !slices.Equal(listed, keys) {
		t.Errorf("ListContacts in pages: %d contacts %v…, want %d %v…", len(listed), listed[:min(3, len(listed))], len(keys), keys[:min(3, len(keys))])
	}
	for key, c := range last {
		found, err := s.ContactsByWaID(ctx, c.Contact.WaID)
		if err != nil || len(found) != 1 || found[0].Key != key {
			t.Errorf("ContactsByWaID(%s) = %d contacts, %v; want %s", c.Contact.WaID, len(found), err, key)
		}
		break
	}
}

// New customers' records go to slots numbered in order of their first
// write, whatever their keys: the right edge of contact_data.
func TestNewOwnersGetSlotsInOrder(t *testing.T) {
	s, path := openTest(t)
	var cs []*model.Change
	for n := range 40 {
		for _, m := range []int{n, n + benchContacts} { // a second event each
			cs = append(cs, benchEventOf(m, true))
		}
	}
	for _, c := range cs {
		if err := s.Commit(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	var prev []byte
	for i := 0; i < len(cs); i += 2 { // first events, in commit order
		g := groupOf(t, s, string(cs[i].Contact.Key))
		if !isSlot(g) {
			t.Fatalf("contact %s is in group %q, want a slot", cs[i].Contact.Key, g)
		}
		if bytes.Compare(g, prev) <= 0 {
			t.Errorf("contact %s made %dth has slot %q, not after %q", cs[i].Contact.Key, i/2+1, g, prev)
		}
		prev = g
	}
	checkRecords(t, s, cs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Check(path)
	if err != nil || !r.OK() {
		t.Fatalf("Check: %v, %+v", err, r)
	}
	if r.Contacts != 40 || r.Conversations != 40 || r.Messages != 160 {
		t.Errorf("Check counted %d contacts, %d conversations, %d messages; want 40, 40, 160", r.Contacts, r.Conversations, r.Messages)
	}
}

// testdata/v4.db.gz is a schema-4 file written by the schema-4 code
// (commit 7a5ea2b's Open and Commit): for n < 40, benchEventOf(m, true)
// for m = n and n+benchContacts, committed one by one. Open takes it to
// schema 5 without moving a record: its customers stay in groups named by
// their keys and go on there; customers new to it get slots.
func TestSchema4File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	gunzip(t, "testdata/v4.db.gz", path)
	var cs []*model.Change
	for n := range 40 {
		for _, m := range []int{n, n + benchContacts} {
			cs = append(cs, benchEventOf(m, true))
		}
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keySchema); !bytes.Equal(v, u64(schemaVersion)) {
			t.Errorf("schema %x after Open, want %d", v, schemaVersion)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	checkRecords(t, s, cs)
	// A redelivery of a schema-4 message is still a duplicate.
	if err := s.Commit(t.Context(), benchEventOf(5, true)); !errors.Is(err, model.ErrDuplicate) {
		t.Errorf("a schema-4 message again: %v, want a duplicate", err)
	}
	// An old customer's next event stays in its named group; a new
	// customer gets a slot.
	old := benchEventOf(2*benchContacts+3, true)
	fresh := benchEventOf(2*benchContacts+40, true) // contact 40: not in the file
	for _, c := range []*model.Change{old, fresh} {
		if err := s.Commit(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	if g := groupOf(t, s, string(old.Contact.Key)); isSlot(g) {
		t.Errorf("an old customer moved to slot %q", g)
	}
	if g := groupOf(t, s, string(fresh.Contact.Key)); !isSlot(g) {
		t.Errorf("a new customer is in group %q, want a slot", g)
	}
	checkRecords(t, s, cs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err := Check(path); err != nil || !r.OK() {
		t.Fatalf("Check: %v, %+v", err, r)
	}
}

func gunzip(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, z); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
