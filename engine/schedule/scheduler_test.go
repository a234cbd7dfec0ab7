package schedule

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// at is t0's day (or a later one) at hh:mm UTC.
func at(day, hour, minute int) time.Time {
	return time.Date(2026, 1, 5+day, hour, minute, 0, 0, time.UTC)
}

func sameCounts(t *testing.T, got Counts, want Counts) {
	t.Helper()
	norm := func(m map[string]int) map[string]int {
		if m == nil {
			return map[string]int{}
		}
		return m
	}
	if got.Audience != want.Audience || got.Sent != want.Sent || !maps.Equal(norm(got.Skipped), norm(want.Skipped)) || !maps.Equal(norm(got.Failed), norm(want.Failed)) {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}

// everyoneOnce checks that each of keys got exactly one scheduled message
// and nobody else got any.
func everyoneOnce(t *testing.T, got map[model.ContactKey]int, keys []model.ContactKey) {
	t.Helper()
	if len(got) != len(keys) {
		t.Errorf("%d contacts got a message, want %d: %v", len(got), len(keys), got)
	}
	for _, k := range keys {
		if got[k] != 1 {
			t.Errorf("%s got %d message(s), want 1", k, got[k])
		}
	}
}

// A firing claimed just before a crash is neither repeated nor lost: after
// the restart it fans out once, and later ticks claim nothing more.
func TestRestartBetweenClaimAndFanOut(t *testing.T) {
	w := newWorld(t, 0)
	keys := w.contacts(10)
	sc := w.create(reminder())

	w.clock.Set(at(0, 9, 0).Add(10 * time.Second))
	if err := w.s.claimDue(w.ctx, sc, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	fs := w.firings(sc.ID)
	if len(fs) != 1 || fs[0].Status != Running || fs[0].Counts.Audience != 0 {
		t.Fatalf("after the claim: %+v", fs)
	}

	w.reopen() // the crash: the claim is all that was written
	w.tick()
	w.tick()
	w.clock.Advance(time.Minute)
	w.tick()

	fs = w.firings(sc.ID)
	if len(fs) != 1 || fs[0].Status != Done || !fs[0].At.Equal(at(0, 9, 0)) {
		t.Fatalf("firings: %+v", fs)
	}
	sameCounts(t, fs[0].Counts, Counts{Audience: 10, Sent: 10})
	everyoneOnce(t, w.scheduled(), keys)
}

// A crash after the engine committed some sends and before the batch's
// record: the batch runs again, the dedupe keys find the sends made, and
// nobody gets a second message.
func TestRestartBetweenSendAndRecord(t *testing.T) {
	w := newWorld(t, 0)
	keys := w.contacts(10)
	sc := w.create(reminder())
	w.clock.Set(at(0, 9, 0))
	if err := w.s.claimDue(w.ctx, sc, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f := w.firings(sc.ID)[0]
	// What the crashed process had done: three sends committed, no record.
	for _, k := range keys[:3] {
		_, err := w.eng.SendTemplateOnce(w.ctx, engine.Initiation{Contact: k, DedupeKey: "sched:" + f.ID + ":" + string(k)},
			flows.TemplateSend{Name: "reminder", Language: "en", Body: flows.TextParams("x", "y")})
		if err != nil {
			t.Fatal(err)
		}
	}

	w.reopen()
	w.tick()

	f = w.firings(sc.ID)[0]
	sameCounts(t, f.Counts, Counts{Audience: 10, Sent: 10})
	everyoneOnce(t, w.scheduled(), keys)
	sends, err := w.s.Sends(w.ctx, f.ID, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, sd := range sends {
		if sd.Outcome != OutcomeSent || sd.Conversation == "" || sd.Seq == 0 {
			t.Errorf("send record %+v: want sent with its message", sd)
		}
	}
}

// Downtime across a fire time: the latest missed fire time runs once if
// within the grace period, every other is recorded missed.
func TestDowntimeAcrossFiring(t *testing.T) {
	for _, c := range []struct {
		name   string
		back   time.Time // when Parley runs again
		grace  time.Duration
		want   []FiringStatus // newest first
		sent   int
		reason string // in the newest missed firing
	}{
		{name: "back 40 minutes late, within the grace period: runs once", back: at(0, 9, 40), want: []FiringStatus{Done}, sent: 3},
		{name: "back 90 minutes late: missed", back: at(0, 10, 30), want: []FiringStatus{Missed}, reason: "past the grace period of 1h0m0s"},
		{name: "down three days, back 20 minutes after the fourth: three missed, one run",
			back: at(3, 9, 20), want: []FiringStatus{Done, Missed, Missed, Missed}, sent: 3},
		{name: "a grace of 2h covers 90 minutes", back: at(0, 10, 30), grace: 2 * time.Hour, want: []FiringStatus{Done}, sent: 3},
		{name: "negative grace: never late", back: at(0, 9, 1), grace: -1, want: []FiringStatus{Missed}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, 0)
			w.opts.Grace = c.grace
			w.reopen()
			w.contacts(3)
			sc := w.create(reminder())
			w.store.Close() // down
			w.clock.Set(c.back)
			w.open()
			w.tick()
			fs := w.firings(sc.ID)
			var got []FiringStatus
			sent := 0
			for _, f := range fs {
				got = append(got, f.Status)
				sent += f.Counts.Sent
			}
			if !equalStatuses(got, c.want) || sent != c.sent {
				t.Fatalf("firings %v with %d sent, want %v with %d", got, sent, c.want, c.sent)
			}
			for _, f := range fs {
				if f.Status == Missed && c.reason != "" && !contains(f.Reason, c.reason) {
					t.Errorf("missed reason %q, want it to say %q", f.Reason, c.reason)
				}
			}
			w.tick() // nothing more
			if n := len(w.firings(sc.ID)); n != len(c.want) {
				t.Errorf("a second tick made %d firings, want %d", n, len(c.want))
			}
		})
	}
}

func equalStatuses(a, b []FiringStatus) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// Pause: no firing while paused, the paused period is not caught up on
// resume, the next fire time runs.
func TestPauseResume(t *testing.T) {
	w := newWorld(t, 0)
	keys := w.contacts(4)
	sc := w.create(reminder())
	w.clock.Set(at(0, 8, 30))
	if _, err := w.s.SetPaused(w.ctx, sc.ID, true, "tester"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.RunNow(w.ctx, sc.ID, "tester"); !errors.Is(err, ErrPaused) {
		t.Errorf("run now while paused: %v, want ErrPaused", err)
	}
	w.clock.Set(at(0, 9, 30))
	w.tick()
	if fs := w.firings(sc.ID); len(fs) != 0 {
		t.Fatalf("paused, yet fired: %+v", fs)
	}
	if _, err := w.s.SetPaused(w.ctx, sc.ID, false, "tester"); err != nil {
		t.Fatal(err)
	}
	w.tick()
	if fs := w.firings(sc.ID); len(fs) != 0 {
		t.Fatalf("resumed, and the paused 09:00 was caught up: %+v", fs)
	}
	w.clock.Set(at(1, 9, 0))
	w.tick()
	fs := w.firings(sc.ID)
	if len(fs) != 1 || fs[0].Status != Done || !fs[0].At.Equal(at(1, 9, 0)) {
		t.Fatalf("firings: %+v", fs)
	}
	everyoneOnce(t, w.scheduled(), keys)
}

// The fan-out's rules: the audience expression, consent, reachability,
// a marketing opt-out, a running conversation.
func TestFanOutSkips(t *testing.T) {
	w := newWorld(t, 0)
	patient := func(c *model.Contact) { c.Tags = []string{"patient"} }
	sent := w.contact("15550000001", patient)
	w.contact("15550000002", func(c *model.Contact) { patient(c); c.OptedIn = false })
	w.contact("15550000003", func(c *model.Contact) { patient(c); c.OptedOut = true })
	w.contact("15550000004", func(c *model.Contact) { patient(c); c.Unreachable = true })
	w.contact("15550000005", func(c *model.Contact) { patient(c); c.MarketingOptOut = true })
	w.contact("15550000006", nil) // not a patient: not in the audience
	busy := w.contact("15550000007", patient)
	const waitFlow = `{"format": "parley/flow@1", "id": "chat", "name": "Chat", "start": "ask", "triggers": [{"type": "any"}],
	 "nodes": [{"id": "ask", "type": "wait_reply", "save_as": "x", "next": "bye"}, {"id": "bye", "type": "send", "message": {"type": "text", "text": "bye"}}]}`
	if _, p, err := w.eng.Publish(w.ctx, []byte(waitFlow), "t"); err != nil {
		t.Fatal(err, p.Err())
	}
	if _, err := w.eng.HandleInbound(w.ctx, &engine.Inbound{PhoneNumberID: phone, ID: "wamid.in1", WaID: "15550000007", At: w.clock.Now(),
		Reply: flows.Reply{Type: flows.MsgText, Text: "hi"}}); err != nil {
		t.Fatal(err)
	}

	offer := Schedule{Name: "Offer", Cron: "0 9 * * *", Audience: `"patient" in tags`,
		Action: Action{Kind: ActionSendTemplate, Template: &Template{Name: "offer", Language: "en"}}}
	sc := w.create(offer)
	w.clock.Set(at(0, 9, 0))
	w.tick()
	f := w.firings(sc.ID)[0]
	sameCounts(t, f.Counts, Counts{Audience: 6, Sent: 1, Skipped: map[string]int{
		SkipNoConsent: 1, SkipOptedOut: 1, SkipUnreachable: 1, SkipMarketingOptOut: 1, SkipBusy: 1,
	}})
	got := w.scheduled()
	if len(got) != 1 || got[sent] != 1 || got[busy] != 0 {
		t.Errorf("scheduled messages: %v", got)
	}
}

// Over the messaging limit the rest waits — nothing is queued past it —
// and goes on when the moving 24 h frees places; a paused schedule's
// waiting firing stays where it is until resumed.
func TestFanOutWaitsForTheLimit(t *testing.T) {
	w := newWorld(t, 3)
	keys := w.contacts(8)
	sc := w.create(reminder())
	w.clock.Set(at(0, 9, 0))
	w.tick()
	f := w.firings(sc.ID)[0]
	if f.Status != Waiting || f.Counts.Sent != 3 || len(w.scheduled()) != 3 {
		t.Fatalf("firing %+v, want waiting with 3 sent; scheduled %v", f, w.scheduled())
	}
	w.drain()
	w.clock.Set(at(0, 15, 0))
	w.tick()
	if f = w.firings(sc.ID)[0]; f.Counts.Sent != 3 || !f.FreeAt.Equal(at(1, 9, 0)) {
		t.Fatalf("before the window moved: %+v", f)
	}

	w.reopen() // waiting survives a restart
	if _, err := w.s.SetPaused(w.ctx, sc.ID, true, "tester"); err != nil {
		t.Fatal(err)
	}
	w.clock.Set(at(1, 9, 0).Add(time.Second))
	w.tick()
	if f = w.firings(sc.ID)[0]; f.Counts.Sent != 3 {
		t.Fatalf("paused, yet went on: %+v", f)
	}
	if _, err := w.s.SetPaused(w.ctx, sc.ID, false, "tester"); err != nil {
		t.Fatal(err)
	}
	w.tick()
	if f = w.firings(sc.ID)[0]; f.Status != Waiting || f.Counts.Sent != 6 {
		t.Fatalf("after the window moved: %+v", f)
	}
	w.drain()
	w.clock.Set(at(2, 9, 0).Add(2 * time.Second))
	w.tick()
	w.drain()
	fs := w.firings(sc.ID)
	f = fs[len(fs)-1]
	sameCounts(t, f.Counts, Counts{Audience: 8, Sent: 8})
	if f.Status != Done {
		t.Errorf("first firing %s, want done", f.Status)
	}
	if n := w.sent.maxInWindow(); n > 3 {
		t.Errorf("%d sends in a moving 24 h, limit 3", n)
	}
	if got := w.scheduled(); len(got) != len(keys) {
		t.Errorf("%d contacts reached, want all %d", len(got), len(keys)) // day 3's firing may add second reminders
	}
	rep, err := w.s.Report(w.ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Delivery.Accepted != 8 {
		t.Errorf("delivery %+v, want 8 accepted", rep.Delivery)
	}
}

// Saving refuses what cannot run, naming the field.
func TestSaveRefuses(t *testing.T) {
	w := newWorld(t, 0)
	for _, c := range []struct {
		name  string
		edit  func(*Schedule)
		field string
	}{
		{"no name", func(s *Schedule) { s.Name = " " }, "name"},
		{"bad cron", func(s *Schedule) { s.Cron = "every day" }, "cron"},
		{"bad zone", func(s *Schedule) { s.TimeZone = "Europe/Atlantis" }, "timezone"},
		{"audience does not compile", func(s *Schedule) { s.Audience = `"vip" in tags &&` }, "audience"},
		{"audience names an unknown variable", func(s *Schedule) { s.Audience = `city == "Berlin"` }, "audience"},
		{"audience is not boolean", func(s *Schedule) { s.Audience = `name` }, "audience"},
		{"parameter does not compile", func(s *Schedule) { s.Action.Template.Body[0] = flows.TemplateParam{Text: "{{ name + }}"} }, "action.template.body[0]"},
		{"wrong parameter count", func(s *Schedule) { s.Action.Template.Body = s.Action.Template.Body[:1] }, "action.template.body"},
		{"unknown template", func(s *Schedule) { s.Action.Template.Name = "nope" }, "action.template"},
		{"unpublished flow", func(s *Schedule) { s.Action = Action{Kind: ActionStartFlow, Flow: "nope"} }, "action.flow"},
		{"unknown action", func(s *Schedule) { s.Action.Kind = "call" }, "action.kind"},
		{"unknown busy rule", func(s *Schedule) { s.Busy = "interrupt" }, "busy"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := reminder()
			tpl := *sc.Action.Template
			tpl.Body = append([]flows.TemplateParam(nil), tpl.Body...)
			sc.Action.Template = &tpl
			c.edit(&sc)
			_, err := w.s.Create(w.ctx, sc, "tester")
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Field != c.field {
				t.Fatalf("got %v, want an InvalidError on %s", err, c.field)
			}
		})
	}
}
