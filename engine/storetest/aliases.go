package storetest

import (
	"errors"
	"testing"

	"github.com/parleyhq/parley/engine/model"
)

// Contact aliases: Change.Aliases writes them with the change, all or
// nothing; Alias reads them back; a later alias of the same key replaces
// it; they survive reopening. A key that is no alias is reported so,
// without error.
func testAliases(t *testing.T, s *suite) {
	st, path := s.fresh(t)
	ctx := ctxOf(t)
	c := contact(1)
	oldKey := c.Key
	newNumber := model.NewContactKey("1065", "491700000002")
	newUser := model.NewContactKey("1065", "DE.1234567890")

	if to, ok, err := st.Alias(ctx, newNumber); to != "" || ok || err != nil {
		t.Fatalf("Alias of an empty store: %q, %v, %v", to, ok, err)
	}
	must(t, st.Commit(ctx, &model.Change{InboundID: "wamid.alias1", At: at(0), Contact: c,
		Aliases: map[model.ContactKey]model.ContactKey{newNumber: oldKey}}))
	if to, ok, err := st.Alias(ctx, newNumber); to != oldKey || !ok || err != nil {
		t.Fatalf("Alias after commit: %q, %v, %v; want %q", to, ok, err, oldKey)
	}
	if to, ok, err := st.Alias(ctx, oldKey); to != "" || ok || err != nil {
		t.Fatalf("Alias of the contact's own key: %q, %v, %v", to, ok, err)
	}

	// A refused change writes no alias.
	err := st.Commit(ctx, &model.Change{InboundID: "wamid.alias1", InboundKey: c.Key, At: at(1),
		Aliases: map[model.ContactKey]model.ContactKey{newUser: oldKey}})
	if !errors.Is(err, model.ErrDuplicate) {
		t.Fatalf("duplicate commit: %v, want ErrDuplicate", err)
	}
	if _, ok, err := st.Alias(ctx, newUser); ok || err != nil {
		t.Fatalf("alias of a refused change: %v, %v", ok, err)
	}

	// Without an inbound id or a contact; a later alias replaces one.
	other := contact(2).Key
	must(t, st.Commit(ctx, &model.Change{At: at(2),
		Aliases: map[model.ContactKey]model.ContactKey{newUser: oldKey, newNumber: other}}))
	st.Close()
	st = s.reopen(t, path)
	for k, want := range map[model.ContactKey]model.ContactKey{newUser: oldKey, newNumber: other} {
		if to, ok, err := st.Alias(ctx, k); to != want || !ok || err != nil {
			t.Fatalf("Alias(%s) after reopen: %q, %v, %v; want %q", k, to, ok, err, want)
		}
	}
	if got, err := st.Contact(ctx, oldKey); err != nil || got.Key != oldKey {
		t.Fatalf("contact after reopen: %v, %v", got, err)
	}
}
