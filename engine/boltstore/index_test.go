package boltstore

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
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
		key := model.NewContactKey("1065", fmt.Sprint("4917", i))
		cv := &model.Conversation{ID: string(key) + "#1", Contact: key, Flow: "common", Status: model.Waiting, LastActivityAt: t0.Add(time.Duration(i) * time.Minute)}
		if i%5 == 0 {
			cv.Flow = "rare"
			want = append([]string{cv.ID}, want...)
		}
		if err := s.Commit(ctx, &model.Change{At: t0, Contact: &model.Contact{Key: key}, Conversations: []*model.Conversation{cv}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []model.ConversationFilter{{Flow: "rare", Limit: 2}, {Flow: "rare", Status: model.Waiting, Limit: 1}} {
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

// ContactsByWaID finds a wa_id's contacts on every business number: those
// keyed by it without an index entry, those keyed otherwise (a user id)
// through contacts_by_wa_id, and not a contact whose number changed away.
func TestContactsByWaID(t *testing.T) {
	s, _ := openTest(t)
	ctx := t.Context()
	const wa = "491701234567"
	contacts := []*model.Contact{
		{Key: model.NewContactKey("1065", wa), PhoneNumberID: "1065", WaID: wa},
		{Key: model.NewContactKey("2077", wa), PhoneNumberID: "2077", WaID: wa},
		{Key: model.NewContactKey("2077", "US.123456"), PhoneNumberID: "2077", WaID: wa, UserID: "US.123456"},
		{Key: model.NewContactKey("3088", "US.777"), PhoneNumberID: "3088", WaID: wa, UserID: "US.777"},
		{Key: model.NewContactKey("1065", "491709999999"), PhoneNumberID: "1065", WaID: "491709999999"},
	}
	for _, c := range contacts {
		if err := s.Commit(ctx, &model.Change{At: t0, Contact: c}); err != nil {
			t.Fatal(err)
		}
	}
	moved := *contacts[3] // changed number: no longer wa's
	moved.WaID = "491700000000"
	if err := s.Commit(ctx, &model.Change{At: t0, Contact: &moved}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ContactsByWaID(ctx, wa)
	if err != nil {
		t.Fatal(err)
	}
	var keys []model.ContactKey
	for _, c := range got {
		keys = append(keys, c.Key)
	}
	want := []model.ContactKey{contacts[0].Key, contacts[1].Key, contacts[2].Key}
	if !slices.Equal(keys, want) {
		t.Errorf("ContactsByWaID = %v, want %v", keys, want)
	}
	if got, _ := s.ContactsByWaID(ctx, "491700000000"); len(got) != 1 || got[0].Key != moved.Key {
		t.Errorf("the changed number's contacts: %v", got)
	}
}
