package engine_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// surveyFlow has a way out of every kind: a button wait with a branch
// behind it, an invalid answer, a timeout whose free-form nudge finds the
// window closed and takes on_window_closed to a template, and an expiry.
const surveyFlow = `{"format": "parley/flow@1", "id": "survey", "start": "menu", "expire_after": "48h",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "menu", "type": "wait_reply", "accept": "button", "save_as": "happy", "max_retries": 0,
   "prompt": {"type": "buttons", "text": "Happy?", "buttons": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]},
   "on_invalid": "sorry", "timeout": "25h", "on_timeout": "nudge", "next": "route"},
  {"id": "route", "type": "branch", "cases": [{"when": "vars.happy == 'yes'", "next": "thanks", "label": "happy"}], "default": "bye"},
  {"id": "thanks", "type": "send", "message": {"type": "text", "text": "thanks"}},
  {"id": "bye", "type": "send", "message": {"type": "text", "text": "bye"}},
  {"id": "sorry", "type": "wait_reply", "prompt": {"type": "text", "text": "tell us more"}, "save_as": "more", "next": "bye"},
  {"id": "nudge", "type": "send", "message": {"type": "text", "text": "still there?"}, "on_window_closed": "tpl"},
  {"id": "tpl", "type": "template", "template": {"name": "come_back", "language": "en"}}
 ]}`

// statsHarness is a harness whose registry approves the survey's template.
func statsHarness(t *testing.T) *harness {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := templates.NewSet()
	reg.ApproveFlowTemplates(flows.MustParse([]byte(surveyFlow)))
	h := &harness{t: t, ctx: t.Context(), clock: engine.NewManualClock(t0), store: st}
	h.eng, err = engine.New(h.ctx, engine.Options{Store: st, Clock: h.clock, Templates: reg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	h.publish(surveyFlow)
	return h
}

// tap sends a tap on a button.
func (h *harness) tap(waID, id string) {
	h.t.Helper()
	h.seq++
	if _, err := h.eng.HandleInbound(h.ctx, &engine.Inbound{
		PhoneNumberID: phone, ID: fmt.Sprintf("wamid.tap.%d", h.seq), WaID: waID, At: h.clock.Now(),
		Reply: flows.Reply{Type: flows.ReplyButton, ButtonID: id, Title: id},
	}); err != nil {
		h.t.Fatal(err)
	}
}

// status applies a status webhook to the message node sent to waID.
func (h *harness) status(waID, node, status string, code int) {
	h.t.Helper()
	conv := h.conv(waID)
	ms, err := h.store.Transcript(h.ctx, conv.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, m := range ms {
		if m.Direction != model.Out || m.Node != node {
			continue
		}
		st := &whatsapp.Status{ID: "wamid.out", Status: status, BizOpaqueCallbackData: fmt.Sprintf("%s|%d|%s", m.Conversation, m.Seq, m.Node)}
		if code != 0 {
			st.Errors = []whatsapp.Error{{Code: code, Title: "failed"}}
		}
		if err := h.eng.HandleStatus(h.ctx, st); err != nil {
			h.t.Fatal(err)
		}
		return
	}
	h.t.Fatalf("%s was sent nothing by node %s", waID, node)
}

func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.clock.Set(h.clock.Now().Add(d))
	if _, err := h.eng.FireDueTimers(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

// TestAnalyticsCountsEveryPath runs the survey down each of its paths and
// checks every counter, exactly: entries, exits by name, drop-offs and the
// delivery of each node's messages, per UTC day.
func TestAnalyticsCountsEveryPath(t *testing.T) {
	h := statsHarness(t)
	for _, wa := range []string{"a", "b", "c", "d"} {
		h.say(wa, "hi")
	}
	if _, err := h.eng.UpdateContact(h.ctx, model.NewContactKey(phone, "d"), func(c *model.Contact) { c.OptedIn = true }); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(t0.Add(time.Minute))
	h.tap("a", "yes") // menu → route → cases/0 → thanks: ended
	h.tap("b", "no")  // menu → route → default → bye: ended
	h.say("c", "meh") // menu → on_invalid → sorry, waits until it expires
	// A redelivered webhook counts nothing again: c's first message
	// (the third said) comes again, late.
	h.sayID("c", "wamid.3", "hi")

	// Statuses: each counted once, when the message's state moves on.
	h.status("a", "menu", whatsapp.StatusSent, 0)
	h.status("a", "menu", whatsapp.StatusDelivered, 0)
	h.status("a", "menu", whatsapp.StatusRead, 0)
	h.status("a", "menu", whatsapp.StatusRead, 0)      // again: nothing
	h.status("a", "menu", whatsapp.StatusDelivered, 0) // late: nothing
	h.status("a", "thanks", whatsapp.StatusRead, 0)    // sent and delivered were skipped
	h.status("b", "bye", whatsapp.StatusFailed, 131000)
	h.status("b", "bye", whatsapp.StatusFailed, 131000)

	h.advance(25 * time.Hour) // day 2: d times out; the window is closed, so the template goes
	h.status("d", "tpl", whatsapp.StatusDelivered, 0)
	h.advance(24 * time.Hour) // day 3: c expires

	type node = engine.NodeStats
	ex := func(kv ...any) map[string]uint64 {
		m := map[string]uint64{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = uint64(kv[i+1].(int))
		}
		return m
	}
	day1 := map[string]*engine.NodeStats{
		"menu":   {Entered: 4, Exits: ex("next", 2, "on_invalid", 1), Sends: engine.SendStats{Sent: 1, Delivered: 1, Read: 1}},
		"route":  {Entered: 2, Exits: ex("cases/0", 1, "default", 1)},
		"thanks": {Entered: 1, Exits: ex(), Dropped: engine.DropStats{Ended: 1}, Sends: engine.SendStats{Sent: 1, Delivered: 1, Read: 1}},
		"bye":    {Entered: 1, Exits: ex(), Dropped: engine.DropStats{Ended: 1}, Sends: engine.SendStats{Failed: 1}},
		"sorry":  {Entered: 1, Exits: ex()},
	}
	day2 := map[string]*engine.NodeStats{
		"menu":  {Exits: ex("on_timeout", 1)},
		"nudge": {Entered: 1, Exits: ex("on_window_closed", 1)},
		"tpl":   {Entered: 1, Exits: ex(), Dropped: engine.DropStats{Ended: 1}, Sends: engine.SendStats{Sent: 1, Delivered: 1}},
	}
	day3 := map[string]*engine.NodeStats{
		"sorry": {Exits: ex(), Dropped: engine.DropStats{Expired: 1}},
	}
	all := map[string]*engine.NodeStats{
		"menu":   {Entered: 4, Exits: ex("next", 2, "on_invalid", 1, "on_timeout", 1), Sends: engine.SendStats{Sent: 1, Delivered: 1, Read: 1}},
		"route":  day1["route"],
		"thanks": day1["thanks"],
		"bye":    day1["bye"],
		"sorry":  {Entered: 1, Exits: ex(), Dropped: engine.DropStats{Expired: 1}},
		"nudge":  day2["nudge"],
		"tpl":    day2["tpl"],
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		version  int
		want     map[string]*node
	}{
		{"day 1", t0, t0, 0, day1},
		{"day 2", t0.Add(24 * time.Hour), t0.Add(24 * time.Hour), 0, day2},
		{"day 3", t0.Add(48 * time.Hour), t0.Add(48 * time.Hour), 1, day3},
		{"all days", t0.Add(-24 * time.Hour), t0.Add(72 * time.Hour), 1, all},
		{"another version", t0, t0.Add(72 * time.Hour), 2, map[string]*node{}},
		{"a day before", t0.Add(-24 * time.Hour), t0.Add(-24 * time.Hour), 0, map[string]*node{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := h.eng.FlowAnalytics(h.ctx, "survey", tc.from, tc.to, tc.version)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.MarshalIndent(a.Nodes, "", "  ")
			want, _ := json.MarshalIndent(tc.want, "", "  ")
			if string(got) != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestAnalyticsCountsChoiceExits: a wait's buttons with exits of their own
// are counted by choice ("prompt/buttons/1"), a choice without one as next.
func TestAnalyticsCountsChoiceExits(t *testing.T) {
	h := newHarness(t, `{"format": "parley/flow@1", "id": "menu", "start": "menu", "triggers": [{"type": "any"}],
	 "nodes": [
	  {"id": "menu", "type": "wait_reply", "accept": "button", "save_as": "choice",
	   "prompt": {"type": "buttons", "text": "What?", "buttons": [{"id": "order", "title": "Order", "next": "order"}, {"id": "track", "title": "Track", "next": "track"}, {"id": "other", "title": "Other"}]},
	   "retry": {"type": "text", "text": "Please tap a button."}, "next": "other"},
	  {"id": "order", "type": "send", "message": {"type": "text", "text": "order"}},
	  {"id": "track", "type": "send", "message": {"type": "text", "text": "track"}},
	  {"id": "other", "type": "send", "message": {"type": "text", "text": "other"}}
	 ]}`)
	for _, wa := range []string{"a", "b", "c", "d"} {
		h.say(wa, "hi")
	}
	h.tap("a", "track")
	h.tap("b", "track")
	h.say("c", "order") // typed: the same as a tap
	h.tap("d", "other")
	a, err := h.eng.FlowAnalytics(h.ctx, "menu", t0.Add(-time.Hour), t0.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(a.Nodes["menu"].Exits)
	if want := `{"next":1,"prompt/buttons/0":1,"prompt/buttons/1":2}`; string(got) != want {
		t.Errorf("menu's exits %s, want %s", got, want)
	}
	for node, n := range map[string]uint64{"order": 1, "track": 2, "other": 1} {
		if s := a.Nodes[node]; s == nil || s.Entered != n {
			t.Errorf("%s entered %+v, want %d", node, s, n)
		}
	}
}
