package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// ListConversations filters by status, flow, contact and number, lists newest
// activity first (ties by id, descending), and pages by cursor: following
// the cursors visits every match once, in order, and ends with "".
func testListConversations(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)

	// Three contacts, of which contact 1's key is a prefix of contact 10's,
	// with conversations of two flows in every status; two share an
	// activity time, so the id decides between them.
	contactOf := func(n int) *model.Contact {
		switch n {
		case 10:
			c := contact(1)
			c.Key += "0"
			return c
		case 4: // on another business number
			c := contact(4)
			c.Key, c.PhoneNumberID = model.NewContactKey("2077", c.WaID), "2077"
			return c
		}
		return contact(n)
	}
	type conv struct {
		contact  int
		n        int
		flow     string
		status   model.Status
		activity time.Duration
	}
	convs := []conv{
		{1, 1, "order-status", model.Ended, 1 * time.Hour},
		{1, 2, "order-status", model.Waiting, 9 * time.Hour},
		{10, 1, "survey", model.Expired, 2 * time.Hour},
		{10, 2, "survey", model.Agent, 7 * time.Hour},
		{10, 3, "order-status", model.Waiting, 7 * time.Hour},
		{2, 1, "survey", model.Failed, 3 * time.Hour},
		{2, 2, "survey", model.Active, 8 * time.Hour},
		{2, 3, "order-status", model.Ended, 4 * time.Hour},
		{4, 1, "survey", model.Ended, 5 * time.Hour},
	}
	all := map[string]*model.Conversation{}
	for _, c := range convs {
		ct := contactOf(c.contact)
		cv := conversation(ct.Key, c.n, at(0))
		cv.Flow, cv.Status, cv.LastActivityAt = c.flow, c.status, at(c.activity)
		if c.status == model.Failed {
			cv.Reason = "step budget exhausted"
		}
		commit(t, st, &model.Change{At: at(0), Contact: ct, Conversations: []*model.Conversation{cv}})
		all[cv.ID] = cv
	}
	// A later commit that moves a conversation's activity moves it in the
	// listing and does not list it twice.
	// So does one whose status and flow change: it leaves the listings of
	// what it was.
	moved := all[conversationID(contactOf(1).Key, 1)]
	moved.LastActivityAt, moved.Status = at(10*time.Hour), model.Waiting
	commit(t, st, &model.Change{At: at(0), Conversations: []*model.Conversation{moved}})
	refiled := all[conversationID(contactOf(4).Key, 1)]
	refiled.Flow = "order-status"
	commit(t, st, &model.Change{At: at(0), Conversations: []*model.Conversation{refiled}})
	refiled.Status = model.Waiting
	commit(t, st, &model.Change{At: at(0), Conversations: []*model.Conversation{refiled}})
	refiled.Status = model.Ended
	commit(t, st, &model.Change{At: at(0), Conversations: []*model.Conversation{refiled}})

	id := func(contactN, n int) string { return conversationID(contactOf(contactN).Key, n) }
	tests := []struct {
		name   string
		filter model.ConversationFilter
		want   []string
	}{
		{"everything, newest activity first, ties by id descending", model.ConversationFilter{},
			[]string{id(1, 1), id(1, 2), id(2, 2), id(10, 3), id(10, 2), id(4, 1), id(2, 3), id(2, 1), id(10, 1)}},
		{"status", model.ConversationFilter{Status: model.Waiting}, []string{id(1, 1), id(1, 2), id(10, 3)}},
		{"status it left", model.ConversationFilter{Status: model.Ended}, []string{id(4, 1), id(2, 3)}},
		{"flow", model.ConversationFilter{Flow: "survey"}, []string{id(2, 2), id(10, 2), id(2, 1), id(10, 1)}},
		{"flow it moved to", model.ConversationFilter{Flow: "order-status"}, []string{id(1, 1), id(1, 2), id(10, 3), id(4, 1), id(2, 3)}},
		{"status and flow", model.ConversationFilter{Status: model.Waiting, Flow: "order-status"}, []string{id(1, 1), id(1, 2), id(10, 3)}},
		{"number", model.ConversationFilter{Number: "2077"}, []string{id(4, 1)}},
		{"number and status", model.ConversationFilter{Number: "1065", Status: model.Ended}, []string{id(2, 3)}},
		{"unknown number", model.ConversationFilter{Number: "3088"}, nil},
		{"contact, not its neighbour by prefix", model.ConversationFilter{Contact: contactOf(1).Key}, []string{id(1, 1), id(1, 2)}},
		{"contact and flow", model.ConversationFilter{Contact: contactOf(10).Key, Flow: "survey"}, []string{id(10, 2), id(10, 1)}},
		{"status, flow and contact", model.ConversationFilter{Status: model.Ended, Flow: "order-status", Contact: contact(2).Key}, []string{id(2, 3)}},
		{"no match", model.ConversationFilter{Status: model.Agent, Flow: "order-status"}, nil},
		{"unknown contact", model.ConversationFilter{Contact: contact(3).Key}, nil},
		{"unknown flow", model.ConversationFilter{Flow: "goodbye"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One page with no limit, then pages of every size: the same
			// conversations in the same order.
			got, next, err := st.ListConversations(ctx, tc.filter)
			must(t, err)
			if next != "" {
				t.Errorf("next cursor %q after a listing without limit", next)
			}
			if ids := idsOf(got); !slices.Equal(ids, tc.want) {
				t.Fatalf("got %v\nwant %v", ids, tc.want)
			}
			for _, c := range got {
				sameJSON(t, "listed conversation "+c.ID, c, all[c.ID])
			}
			for limit := 1; limit <= len(tc.want)+1; limit++ {
				f := tc.filter
				f.Limit = limit
				var paged []string
				for page := 0; ; page++ {
					if page > len(tc.want) {
						t.Fatalf("limit %d: paging does not end", limit)
					}
					got, next, err := st.ListConversations(ctx, f)
					must(t, err)
					if len(got) > limit {
						t.Fatalf("limit %d: a page of %d", limit, len(got))
					}
					paged = append(paged, idsOf(got)...)
					if next == "" {
						break
					}
					f.Cursor = next
				}
				if !slices.Equal(paged, tc.want) {
					t.Errorf("limit %d: pages gave %v\nwant %v", limit, paged, tc.want)
				}
			}
		})
	}

	// A full last page says so: no cursor to an empty page.
	if _, next, err := st.ListConversations(ctx, model.ConversationFilter{Status: model.Waiting, Limit: 3}); next != "" || err != nil {
		t.Errorf("exactly full page: next %q, %v; want \"\", nil", next, err)
	}

	for _, bad := range []string{"%%%", "bm90IGEgY3Vyc29y", model.ConversationCursor(&model.Conversation{})} {
		if _, _, err := st.ListConversations(ctx, model.ConversationFilter{Cursor: bad}); !errors.Is(err, model.ErrInvalidCursor) {
			t.Errorf("cursor %q: got %v, want ErrInvalidCursor", bad, err)
		}
	}
	if got, _, err := st.ListConversations(ctx, model.ConversationFilter{Contact: "1065:4915\x00"}); len(got) != 0 || err != nil {
		t.Errorf("contact with a NUL byte: %d, %v; want none", len(got), err)
	}
}

func idsOf(convs []*model.Conversation) []string {
	var ids []string
	for _, c := range convs {
		ids = append(ids, c.ID)
	}
	return ids
}
