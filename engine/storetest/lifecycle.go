package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// Everything acknowledged survives Close and reopening: state, transcript,
// outbox (and its numbering), timers, dedupe keys, flows and versions.
func testReopen(t *testing.T, s *suite) {
	st, path := s.fresh(t)
	ctx := ctxOf(t)
	c := event(1, "wamid.1")
	commit(t, st, c)
	conv := c.Conversations[0]
	must(t, st.SaveFlow(ctx, &model.FlowRecord{ID: "welcome", Name: "Welcome", Draft: []byte(`{"v":"draft"}`)}))
	_, err := st.Publish(ctx, "welcome", []byte(`{"v":1}`), "ana", at(0))
	must(t, err)
	items, err := st.Outbox(ctx, 0, 0)
	must(t, err)
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	for round := range 2 {
		st = s.reopen(t, path)
		if seen, err := st.Seen(ctx, c.Contact.Key, c.InboundID); !seen || err != nil {
			t.Errorf("round %d: Seen = %v, %v", round, seen, err)
		}
		if err := st.Commit(ctx, c); !errors.Is(err, model.ErrDuplicate) {
			t.Errorf("round %d: commit of a committed inbound id: %v", round, err)
		}
		got, err := st.Contact(ctx, c.Contact.Key)
		must(t, err)
		sameJSON(t, "contact", got, c.Contact)
		gotConv, err := st.Conversation(ctx, conv.ID)
		must(t, err)
		sameJSON(t, "conversation", gotConv, conv)
		convs, err := st.Conversations(ctx, c.Contact.Key)
		must(t, err)
		sameJSON(t, "conversations", convs, c.Conversations)
		tr, err := st.Transcript(ctx, conv.ID)
		must(t, err)
		sameJSON(t, "transcript", tr, c.Messages)
		m, err := st.Message(ctx, conv.ID, c.Messages[1].Seq)
		must(t, err)
		sameJSON(t, "message", m, c.Messages[1])
		timers, err := st.DueTimers(ctx, at(24*time.Hour), 0)
		must(t, err)
		sameJSON(t, "timers", timers, c.SetTimers)
		next, ok, err := st.NextTimer(ctx)
		must(t, err)
		if !ok || !next.Equal(c.SetTimers[0].Due) {
			t.Errorf("round %d: NextTimer = %v, %v", round, next, ok)
		}
		rec, err := st.Flow(ctx, "welcome")
		must(t, err)
		if rec.Published != round+1 || string(rec.Draft) != `{"v":"draft"}` {
			t.Errorf("round %d: flow record %+v", round, rec)
		}
		v, err := st.FlowVersion(ctx, "welcome", 1)
		must(t, err)
		if string(v.Doc) != `{"v":1}` {
			t.Errorf("round %d: version 1 is %s", round, v.Doc)
		}
		got2, err := st.Outbox(ctx, 0, 0)
		must(t, err)
		if round == 0 {
			sameJSON(t, "outbox", got2, items)
			// Numbering goes on after a reopen: never a seq handed out before.
			later := conversation(contact(2).Key, 1, at(0))
			commit(t, st, &model.Change{At: at(0), Conversations: []*model.Conversation{later}, Messages: []*model.Message{outbound(later, 1, "after reopen", model.Queued)}})
			all, err := st.Outbox(ctx, 0, 0)
			must(t, err)
			if len(all) != 2 || all[1].Seq <= items[0].Seq {
				t.Fatalf("outbox after reopen and commit: %+v", all)
			}
			items = all
			v2, err := st.Publish(ctx, "welcome", []byte(`{"v":2}`), "ana", at(time.Hour))
			must(t, err)
			if v2.Version != 2 {
				t.Errorf("version published after reopen: %d, want 2", v2.Version)
			}
		} else {
			sameJSON(t, "outbox", got2, items)
			if vs, _ := st.FlowVersions(ctx, "welcome"); len(vs) != 2 {
				t.Errorf("versions after second reopen: %d, want 2", len(vs))
			}
		}
		must(t, st.Close())
	}
}

func testClosed(t *testing.T, s *suite) {
	st, _ := s.fresh(t)
	ctx := ctxOf(t)
	c := event(1, "wamid.1")
	commit(t, st, c)
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	conv := c.Conversations[0]
	calls := []struct {
		name string
		call func() error
	}{
		{"Contact", func() error { _, err := st.Contact(ctx, c.Contact.Key); return err }},
		{"Conversation", func() error { _, err := st.Conversation(ctx, conv.ID); return err }},
		{"Seen", func() error { _, err := st.Seen(ctx, c.Contact.Key, c.InboundID); return err }},
		{"Commit", func() error { return st.Commit(ctx, event(2, "wamid.2")) }},
		{"DueTimers", func() error { _, err := st.DueTimers(ctx, at(time.Hour), 0); return err }},
		{"NextTimer", func() error { _, _, err := st.NextTimer(ctx); return err }},
		{"Message", func() error { _, err := st.Message(ctx, conv.ID, 1); return err }},
		{"Transcript", func() error { _, err := st.Transcript(ctx, conv.ID); return err }},
		{"Outbox", func() error { _, err := st.Outbox(ctx, 0, 0); return err }},
		{"Conversations", func() error { _, err := st.Conversations(ctx, c.Contact.Key); return err }},
		{"SaveFlow", func() error { return st.SaveFlow(ctx, &model.FlowRecord{ID: "welcome"}) }},
		{"Flow", func() error { _, err := st.Flow(ctx, "welcome"); return err }},
		{"Flows", func() error { _, err := st.Flows(ctx); return err }},
		{"Publish", func() error { _, err := st.Publish(ctx, "welcome", []byte(`{}`), "", at(0)); return err }},
		{"FlowVersion", func() error { _, err := st.FlowVersion(ctx, "welcome", 1); return err }},
		{"FlowVersions", func() error { _, err := st.FlowVersions(ctx, "welcome"); return err }},
		{"PruneInbound", func() error { _, err := st.PruneInbound(ctx, at(0)); return err }},
		{"ReachCount", func() error { _, _, err := st.ReachCount(ctx, model.ReachScope, at(0)); return err }},
		{"ReachedSince", func() error { _, err := st.ReachedSince(ctx, model.ReachScope, c.Contact.Key, at(0)); return err }},
		{"SaveTemplates", func() error {
			return st.SaveTemplates(ctx, []model.TemplateRecord{template("welcome", "en_US", "APPROVED")})
		}},
		{"Templates", func() error { _, err := st.Templates(ctx); return err }},
		{"Close", st.Close}, // pinned: a second Close says so
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, model.ErrClosed) {
				t.Errorf("got %v, want ErrClosed", err)
			}
		})
	}
}
