package storetest

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley/engine/model"
)

// testListContacts pins the contact list: key order, pages that neither
// repeat nor skip, limit <= 0 meaning all, and an empty page after the last.
func testListContacts(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	const n = 7
	for i := n; i >= 1; i-- { // committed out of order on purpose
		commit(t, st, &model.Change{At: at(0), Contact: contact(i)})
	}
	all, err := st.ListContacts(ctx, "", 0)
	must(t, err)
	if len(all) != n {
		t.Fatalf("ListContacts(all) = %d contacts, want %d", len(all), n)
	}
	for i, c := range all {
		if want := contact(i + 1).Key; c.Key != want {
			t.Fatalf("contact %d = %s, want %s (key order)", i, c.Key, want)
		}
	}
	var paged []model.ContactKey
	after := model.ContactKey("")
	for page := 0; ; page++ {
		cs, err := st.ListContacts(ctx, after, 3)
		must(t, err)
		if len(cs) == 0 {
			break
		}
		if len(cs) > 3 {
			t.Fatalf("page %d has %d contacts, limit 3", page, len(cs))
		}
		for _, c := range cs {
			paged = append(paged, c.Key)
		}
		after = cs[len(cs)-1].Key
	}
	if got, want := fmt.Sprint(paged), fmt.Sprint(keys(all)); got != want {
		t.Fatalf("paged keys = %s, want %s", got, want)
	}
	// A key that is not stored still places the page.
	cs, err := st.ListContacts(ctx, all[2].Key+"0", 0)
	must(t, err)
	if len(cs) != n-3 || cs[0].Key != all[3].Key {
		t.Fatalf("ListContacts(after a missing key) started at %v, want %s", keys(cs), all[3].Key)
	}
}

func keys(cs []*model.Contact) []model.ContactKey {
	out := make([]model.ContactKey, len(cs))
	for i, c := range cs {
		out[i] = c.Key
	}
	return out
}
