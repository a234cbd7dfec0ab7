package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// apiWrite sends a JSON write to /api/v1 as the admin, with the session's
// CSRF token, and decodes the answer into v.
func (h *e2e) apiWrite(method, path, body string, v any) int {
	h.t.Helper()
	resp, err := http.Post(h.url("/api/v1/auth/login"), "application/json",
		strings.NewReader(`{"email":"`+e2eAdmin+`","password":"`+e2ePassword+`"}`))
	if err != nil {
		h.t.Fatal(err)
	}
	var in struct {
		CSRF string `json:"csrf_token"`
	}
	json.NewDecoder(resp.Body).Decode(&in) //nolint:errcheck // checked below
	resp.Body.Close()
	req, _ := http.NewRequest(method, h.url("/api/v1"+path), bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", in.CSRF)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, v); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	} else if resp.StatusCode >= 300 {
		h.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// e2eReport is GET /schedules/:id/firings/:firing as this test reads it.
type e2eReport struct {
	Firing struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Reason string `json:"reason"`
		Counts struct {
			Audience int            `json:"audience"`
			Sent     int            `json:"sent"`
			Skipped  map[string]int `json:"skipped"`
			Failed   map[string]int `json:"failed"`
		} `json:"counts"`
	} `json:"firing"`
	Delivery struct {
		Queued, Accepted, Delivered, Read, Unknown int
		Failed                                     map[string]int
	} `json:"delivery"`
}

// The end-to-end case: a daily reminder to 5,000 contacts, some
// not opted in and some opted out, under a messaging limit of 2,000,
// through a real `parley serve` and the sandbox over HTTP. The engine's
// clock is driven; pacing and HTTP run on real time.
func TestScheduleE2EDailyReminderUnderTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 contacts")
	}
	began := time.Now()
	contacts, limit := 5000, 2000
	if raceEnabled {
		contacts, limit = 1000, 400 // same proportions, a fifth of the work
	}
	eligibleN := contacts * 8 / 10
	h := newE2E(t, e2eOptions{templates: []sandbox.Template{{
		Name: "appointment_reminder", Language: "en_US", Category: "UTILITY",
		Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "Hi {{1}}, see you tomorrow at {{2}}.",
			Example: json.RawMessage(`{"body_text":[["Ann","10:30"]]}`)}},
	}}})
	// Meta's default is 80 messages/s; the sandbox and Parley are set
	// higher here only to keep the test short.
	h.sb.Close()
	cfgSB := h.sb.Config()
	cfgSB.Throughput, cfgSB.ThroughputBurst = 2000, 200
	h.sb = sandbox.New(cfgSB)
	if _, err := h.sb.Start(); err != nil {
		t.Fatal(err)
	}
	h.graphURL = h.sb.GraphURL()

	// 09:00 in Berlin is 08:00 UTC in January.
	clock := engine.NewManualClock(time.Date(2026, 1, 5, 7, 58, 0, 0, time.UTC))
	h.serveCfg = func(c *serveConfig) {
		c.clock, c.messagingLimit, c.messagingLimitPinned = clock, limit, true
		c.rate, c.scheduleInterval = 1500, 10*time.Millisecond
	}
	h.quietLog = true // 5,000 contacts' debug lines are noise
	h.start()
	t.Logf("serve started after %v", time.Since(began).Round(time.Millisecond))

	// Seed: every tenth contact never opted in, every tenth (+1) opted
	// out; the other 4,000 (eight in ten) are eligible: twice the limit.
	phone := h.sb.Config().PhoneNumberID
	eligible := map[string]bool{}
	wa := func(i int) string { return fmt.Sprintf("49151%07d", i) }
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				_, err := h.eng.UpdateContact(context.Background(), model.NewContactKey(phone, wa(i)), func(c *model.Contact) {
					c.PhoneNumberID, c.WaID, c.Name = phone, wa(i), fmt.Sprintf("Customer %d", i)
					c.Tags, c.Fields = []string{"patient"}, map[string]any{"slot": "10:30"}
					c.OptedIn = i%10 != 0
					c.OptedOut = i%10 == 1
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for i := range contacts {
		work <- i
		if i%10 > 1 {
			eligible[wa(i)] = true
		}
	}
	close(work)
	wg.Wait()
	t.Logf("%d contacts seeded after %v", contacts, time.Since(began).Round(time.Millisecond))

	var created struct {
		ID        string      `json:"id"`
		NextFires []time.Time `json:"next_fires"`
	}
	if code := h.apiWrite("POST", "/schedules", `{"name": "Appointment reminder", "cron": "0 9 * * *", "timezone": "Europe/Berlin",
	  "audience": "\"patient\" in tags",
	  "action": {"kind": "send_template", "template": {"name": "appointment_reminder", "language": "en_US", "body": ["{{ name }}", "{{ fields.slot }}"]}}}`, &created); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	if len(created.NextFires) != 5 || created.NextFires[0].Format(time.RFC3339) != "2026-01-05T09:00:00+01:00" {
		t.Fatalf("next fires: %v", created.NextFires)
	}

	report := func(fid string) e2eReport {
		t.Helper()
		var r e2eReport
		if code := h.api("/schedules/"+created.ID+"/firings/"+fid, &r); code != http.StatusOK {
			t.Fatalf("report: %d", code)
		}
		return r
	}
	firings := func() []e2eReport {
		t.Helper()
		var v struct {
			Firings []struct{ ID string } `json:"firings"`
		}
		if code := h.api("/schedules/"+created.ID+"/firings", &v); code != http.StatusOK {
			t.Fatalf("firings: %d", code)
		}
		var out []e2eReport
		for _, f := range v.Firings {
			out = append(out, report(f.ID))
		}
		return out
	}
	accepted := func() int { return len(h.sb.Accepted()) }

	// Day 1, 09:00:05 in Berlin: the firing sends up to the limit and waits.
	clock.Set(time.Date(2026, 1, 5, 8, 0, 5, 0, time.UTC))
	whileProgressing(t, e2eTimeout, accepted, func() bool { return accepted() >= limit }, fmt.Sprintf("%d sends accepted", limit))
	var first string
	eventually(t, e2eTimeout, func() bool {
		fs := firings()
		if len(fs) == 1 {
			first = fs[0].Firing.ID
		}
		return len(fs) == 1 && fs[0].Firing.Status == "waiting" && fs[0].Delivery.Queued == 0
	}, "the first firing waiting for the limit, its sends out of the outbox")
	t.Logf("day 1: %d sent after %v", accepted(), time.Since(began).Round(time.Millisecond))

	// Later the same day, and the next day just before the window moves:
	// nothing more. (A negative: the scheduler ticks every 10 ms; 300 ms
	// is thirty chances to send too early.)
	for _, at := range []time.Time{time.Date(2026, 1, 5, 20, 0, 0, 0, time.UTC), time.Date(2026, 1, 6, 8, 0, 4, 0, time.UTC)} {
		clock.Set(at)
		time.Sleep(300 * time.Millisecond)
		if n := accepted(); n != limit {
			t.Fatalf("at %s (before the moving 24 h freed places): %d sends accepted, limit %d", at, n, limit)
		}
	}
	// Day 2's own firing has been claimed at 09:00 Berlin, and waits too.
	eventually(t, e2eTimeout, func() bool {
		fs := firings()
		return len(fs) == 2 && fs[0].Firing.Status == "waiting"
	}, "day 2's firing waiting for the limit")
	if fs := firings(); fs[0].Firing.Counts.Sent != 0 {
		t.Fatalf("day 2: %+v", fs)
	}

	// 24 h after the first sends: places free, the first firing finishes
	// (older firings go first); day 2's waits, having sent nothing.
	clock.Set(time.Date(2026, 1, 6, 8, 0, 6, 0, time.UTC))
	whileProgressing(t, e2eTimeout, accepted, func() bool { return accepted() >= 2*limit }, fmt.Sprintf("%d sends accepted", 2*limit))
	// The sandbox posts each send's sent, delivered and read one webhook
	// at a time: 2,400 of them, most still to come, whose pace is the
	// machine's. Waited for while they keep coming.
	var r e2eReport
	whileProgressing(t, e2eTimeout, func() int {
		r = report(first)
		return r.Delivery.Delivered + r.Delivery.Read
	}, func() bool {
		r = report(first)
		return r.Firing.Status == "done" && r.Delivery.Read == eligibleN
	}, "the first firing done and every send read")
	t.Logf("day 2: %d sent, all read after %v", accepted(), time.Since(began).Round(time.Millisecond))

	c := r.Firing.Counts
	if c.Audience != contacts || c.Sent != eligibleN || c.Skipped["no_consent"] != contacts/10 || c.Skipped["opted_out"] != contacts/10 || len(c.Skipped) != 2 || len(c.Failed) != 0 {
		t.Errorf("counts %+v", c)
	}
	if c.Audience != c.Sent+c.Skipped["no_consent"]+c.Skipped["opted_out"] {
		t.Errorf("the report does not add up: %+v", c)
	}
	if d := r.Delivery; d.Delivered != eligibleN || d.Read != eligibleN || d.Queued+d.Accepted+d.Unknown != 0 || len(d.Failed) != 0 {
		t.Errorf("delivery %+v", d)
	}
	fs := firings()
	if len(fs) != 2 || fs[0].Firing.Status != "waiting" || fs[0].Firing.Counts.Sent != 0 {
		t.Errorf("day 2's firing: %+v", fs[0].Firing)
	}

	// The sandbox's log: each eligible contact exactly once, nobody else.
	got := map[string]int{}
	for _, e := range h.sb.Accepted() {
		got[e.To]++
		if e.Type != "template" || !strings.Contains(e.Body, "appointment_reminder") {
			t.Errorf("unexpected send %+v", e)
		}
	}
	if len(got) != len(eligible) {
		t.Errorf("%d customers got a message, want %d", len(got), len(eligible))
	}
	for to, n := range got {
		if !eligible[to] || n != 1 {
			t.Errorf("%s: %d message(s), eligible %v", to, n, eligible[to])
		}
	}
	if n := len(h.sb.Rejected()); n != 0 {
		t.Errorf("%d sends rejected by the sandbox", n)
	}
	t.Logf("TestScheduleE2EDailyReminderUnderTheLimit ran in %v", time.Since(began).Round(time.Millisecond))
}
