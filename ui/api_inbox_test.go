package ui_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/ui"
	"github.com/parleyhq/parley/ui/auth"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// handoffFlow hands every customer to the support queue; resolved, the
// bot says the outcome; no agent in 10 minutes, it apologises.
const handoffFlow = `{"format": "parley/flow@1", "id": "desk", "name": "Desk", "start": "to_agent",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "to_agent", "type": "handoff", "queue": "support", "note": "wants {{ reply.text }}",
   "message": {"type": "text", "text": "Connecting you to a person"},
   "no_agent_after": "10m", "on_no_agent": "sorry", "next": "after"},
  {"id": "sorry", "type": "send", "message": {"type": "text", "text": "nobody came"}},
  {"id": "after", "type": "send", "message": {"type": "text", "text": "back to the bot: {{ vars.handoff_outcome }}"}}
 ]}`

// The inbox fixture's people: an admin (the fixture's), two agents of
// different queues, an analyst.
const (
	agentAnn = "ann@desk.test" // support
	agentCy  = "cy@desk.test"  // billing
	analyst  = "al@desk.test"
)

// inboxFixture is an empty Parley with the inbox: the desk flow
// published, approved templates "followup" (one body parameter) and
// "order_update" (one header and two body parameters), the
// agents' users and profiles (offline).
func inboxFixture(t *testing.T) (*fixture, *inbox.Inbox) {
	t.Helper()
	return inboxFixtureOn(t)
}

// inboxFixtureOn is inboxFixture with an engine serving these business
// numbers (none: any).
func inboxFixtureOn(t *testing.T, numbers ...engine.PhoneNumber) (*fixture, *inbox.Inbox) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, ctx: t.Context(), clock: engine.NewManualClock(t0), store: st, tokens: map[string]string{}}
	log := slog.New(slog.DiscardHandler)
	tpl := templates.NewSet(
		model.TemplateInfo{Name: "followup", Language: "en_US", Status: model.TemplateApproved, Category: "UTILITY", BodyParams: 1},
		model.TemplateInfo{Name: "order_update", Language: "en_US", Status: model.TemplateApproved, Category: "UTILITY", HeaderParams: 1, BodyParams: 2},
	)
	f.eng, err = engine.New(f.ctx, engine.Options{Store: st, Clock: f.clock, Templates: tpl, Logger: log, PhoneNumbers: numbers})
	if err != nil {
		t.Fatal(err)
	}
	f.auth, err = auth.New(st, auth.Options{Clock: f.clock, Cost: bcrypt.MinCost, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ib := inbox.New(inbox.Options{Engine: f.eng, Records: st, Logger: log})
	if err := ib.Start(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.tokenFor(fixtureAdmin)
	f.tokenFor(agentAnn, auth.Agent)
	f.tokenFor(agentCy, auth.Agent)
	f.tokenFor(analyst, auth.Analyst)
	f.srv = ui.New(ui.Config{Engine: f.eng, Logger: log, AppSecret: sandbox.DefaultAppSecret, Auth: f.auth, Inbox: ib})
	f.publish(handoffFlow)
	f.expect("PUT", "/api/v1/inbox/agents/"+agentAnn, `{"queues":["support"],"capacity":2}`, fixtureAdmin, http.StatusOK)
	f.expect("PUT", "/api/v1/inbox/agents/"+agentCy, `{"queues":["billing"]}`, fixtureAdmin, http.StatusOK)
	return f, ib
}

// expect sends a request as who and fails unless it answers status.
func (f *fixture) expect(method, url, body, who string, status int) []byte {
	f.t.Helper()
	got, b := f.do(method, url, body, map[string]string{asUser: who})
	if got != status {
		f.t.Fatalf("%s %s as %s: %d %s, want %d", method, url, who, got, b, status)
	}
	return b
}

func inboxURL(conv string) string { return "/api/v1/inbox/conversations/" + pathID(conv) }

// TestInboxRolesAndScope: every inbox route checks the role server-side,
// and agents see only their queues, in listings and by id alike.
func TestInboxRolesAndScope(t *testing.T) {
	f, _ := inboxFixture(t)
	f.say(ann, "my parcel is late")
	conv := convID(ann, 1)
	// Who may call what: admin everything; agents the desk; analysts and
	// nobody nothing.
	type route struct{ method, url, body string }
	desk := []route{
		{"GET", "/api/v1/inbox/me", ""},
		{"GET", "/api/v1/inbox/queues", ""},
		{"GET", "/api/v1/inbox/agents", ""},
		{"GET", "/api/v1/inbox/conversations", ""},
		{"GET", inboxURL(conv), ""},
		{"POST", inboxURL(conv) + "/read", "{}"},
		{"POST", inboxURL(conv) + "/notes", `{"text":"checking"}`},
		{"PUT", inboxURL(conv) + "/tags", `{"tags":["late"]}`},
		{"GET", "/api/v1/inbox/canned", ""},
		{"GET", "/api/v1/inbox/templates", ""},
		{"PUT", "/api/v1/inbox/me/status", `{"status":"away"}`},
	}
	// The flow editor's queue picker: those who build flows.
	editors := []route{
		{"GET", "/api/v1/inbox/handoff-queues", ""},
	}
	adminOnly := []route{
		{"PUT", "/api/v1/inbox/queues/billing", `{"name":"Billing"}`},
		{"DELETE", "/api/v1/inbox/queues/nothing", ""},
		{"PUT", "/api/v1/inbox/agents/" + agentCy, `{"queues":["billing"]}`},
		{"PUT", "/api/v1/inbox/agents/" + agentCy + "/status", `{"status":"away"}`},
		{"DELETE", "/api/v1/inbox/agents/nobody@desk.test", ""},
		{"POST", "/api/v1/inbox/canned", `{"title":"Hi","text":"Hello!"}`},
		{"PUT", "/api/v1/inbox/canned/none", `{"title":"Hi","text":"Hello!"}`},
		{"DELETE", "/api/v1/inbox/canned/none", ""},
	}
	who := map[string]string{"admin": fixtureAdmin, "agent": agentAnn, "analyst": analyst}
	for _, rs := range []struct {
		routes []route
		allow  map[string]bool
	}{
		{desk, map[string]bool{"admin": true, "agent": true}},
		{adminOnly, map[string]bool{"admin": true}},
		{editors, map[string]bool{"admin": true, "analyst": true}},
	} {
		for _, r := range rs.routes {
			for _, role := range []string{"admin", "agent", "analyst", "none"} {
				h := map[string]string{asUser: who[role]}
				if role == "none" {
					h = map[string]string{"Cookie": "none=1"}
				}
				status, body := f.do(r.method, r.url, r.body, h)
				refused := status == http.StatusUnauthorized || status == http.StatusForbidden && strings.Contains(string(body), "needs the role")
				if refused == rs.allow[role] {
					t.Errorf("%s %s as %s: %d %s; allowed should be %v", r.method, r.url, role, status, body, rs.allow[role])
				}
			}
		}
	}

	// Scope: cy works billing, ann support.
	for _, tc := range []struct {
		name, method, url, body, who string
		status                       int
		want, notWant                string
	}{
		{"ann lists her queue", "GET", "/api/v1/inbox/conversations", "", agentAnn, 200, conv, ""},
		{"cy lists nothing of support", "GET", "/api/v1/inbox/conversations", "", agentCy, 200, `"conversations":[]`, conv},
		{"cy cannot read it by id", "GET", inboxURL(conv), "", agentCy, 404, "not found", "my parcel"},
		{"cy cannot claim it", "POST", inboxURL(conv) + "/claim", "{}", agentCy, 404, "", ""},
		{"cy cannot reply", "POST", inboxURL(conv) + "/reply", `{"text":"hi"}`, agentCy, 404, "", ""},
		{"cy cannot resolve", "POST", inboxURL(conv) + "/resolve", "{}", agentCy, 404, "", ""},
		{"cy cannot read it through the conversations API", "GET", "/api/v1/conversations/" + pathID(conv), "", agentCy, 404, "", "my parcel"},
		{"cy's conversations listing leaves it out", "GET", "/api/v1/conversations", "", agentCy, 200, `"conversations":[]`, conv},
		{"cy cannot read the contact", "GET", "/api/v1/contacts/" + string(key(ann)), "", agentCy, 404, "", ""},
		{"cy cannot read the contact's consent", "GET", "/api/v1/contacts/" + string(key(ann)) + "/consent", "", agentCy, 404, "", ""},
		{"cy cannot record the contact's consent", "POST", "/api/v1/contacts/" + string(key(ann)) + "/consent", `{"kind":"opt_out","source":"api"}`, agentCy, 404, "", ""},
		{"cy cannot list every contact", "GET", "/api/v1/contacts", "", agentCy, 403, "look a customer up with ?phone=", ann},
		{"cy looks the customer up by phone: not hers to know", "GET", "/api/v1/contacts?phone=" + ann, "", agentCy, 200, `"contacts":[]`, ann},
		{"ann looks the customer up by phone", "GET", "/api/v1/contacts?phone=%2B" + ann, "", agentAnn, 200, `"key":"` + string(key(ann)) + `"`, ""},
		{"the admin looks the customer up by phone", "GET", "/api/v1/contacts?phone=" + ann, "", fixtureAdmin, 200, `"key":"` + string(key(ann)) + `"`, ""},
		{"a phone that is no number", "GET", "/api/v1/contacts?phone=12ab", "", agentAnn, 400, "phone must be a phone number", ""},
		{"ann reads the contact's consent", "GET", "/api/v1/contacts/" + string(key(ann)) + "/consent", "", agentAnn, 200, `"opted_in"`, ""},
		{"ann reads it through the conversations API", "GET", "/api/v1/conversations/" + pathID(conv), "", agentAnn, 200, "my parcel", ""},
		{"ann's conversations listing has it", "GET", "/api/v1/conversations", "", agentAnn, 200, conv, ""},
		{"ann sees only her queues", "GET", "/api/v1/inbox/queues", "", agentAnn, 200, `"id":"support"`, `"id":"billing"`},
		{"the admin sees every queue", "GET", "/api/v1/inbox/queues", "", fixtureAdmin, 200, `"waiting":1`, ""},
		{"an analyst reads the queues a handoff may name, without conversations", "GET", "/api/v1/inbox/handoff-queues", "", analyst, 200, `{"id":"support","created":false,"agents":1,"online":false}`, `waiting`},
		{"agents cannot edit flows", "PUT", "/api/v1/flows/desk", handoffFlow, agentAnn, 403, "needs the role", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.do(tc.method, tc.url, tc.body, map[string]string{asUser: tc.who})
			if status != tc.status || !strings.Contains(string(body), tc.want) || tc.notWant != "" && strings.Contains(string(body), tc.notWant) {
				t.Errorf("%d %s; want %d with %q without %q", status, body, tc.status, tc.want, tc.notWant)
			}
		})
	}
}

// TestInboxDesk walks one handoff through the API: it waits, is assigned
// when the agent comes online, the agent replies, notes, tags, is refused
// free-form once the window closed (409) but may send a template, and
// resolves with an outcome: the flow resumes with it.
func TestInboxDesk(t *testing.T) {
	f, _ := inboxFixture(t)
	f.say(ann, "<b>help</b> <script>alert(1)</script>")
	conv := convID(ann, 1)

	body := f.expect("GET", "/api/v1/inbox/conversations?view=unassigned", "", agentAnn, 200)
	if !strings.Contains(string(body), conv) || !strings.Contains(string(body), `"unread":1`) {
		t.Fatalf("waiting list: %s", body)
	}
	f.expect("PUT", "/api/v1/inbox/me/status", `{"status":"online"}`, agentAnn, 200)
	body = f.expect("GET", "/api/v1/inbox/conversations?view=mine", "", agentAnn, 200)
	if !strings.Contains(string(body), `"assignee":"`+agentAnn+`"`) {
		t.Fatalf("mine after coming online: %s", body)
	}
	view := decode[struct {
		Contact struct {
			Tags []string `json:"tags"`
		} `json:"contact"`
		Window struct {
			Open bool `json:"open"`
		} `json:"window"`
		Reply struct {
			Freeform bool `json:"freeform"`
		} `json:"reply"`
		Transcript []struct {
			Text string `json:"text"`
		} `json:"transcript"`
	}](t, f.expect("GET", inboxURL(conv), "", agentAnn, 200))
	if !view.Window.Open || !view.Reply.Freeform || len(view.Transcript) == 0 || view.Transcript[0].Text != "text: <b>help</b> <script>alert(1)</script>" {
		t.Errorf("conversation view: %+v", view)
	}

	f.expect("POST", inboxURL(conv)+"/reply", `{"text":"Hi, Ann here"}`, agentAnn, http.StatusAccepted)
	f.expect("POST", inboxURL(conv)+"/notes", `{"text":"customer is polite"}`, agentAnn, http.StatusCreated)
	f.expect("PUT", inboxURL(conv)+"/tags", `{"tags":["late"," late","vip"]}`, agentAnn, 200)
	if c, _ := f.eng.Contact(f.ctx, key(ann)); fmt.Sprint(c.Tags) != "[late vip]" {
		t.Errorf("tags %v", c.Tags)
	}
	cr := decode[inbox.Canned](t, f.expect("POST", "/api/v1/inbox/canned", `{"title":"Thanks","text":"Thanks for waiting!"}`, fixtureAdmin, http.StatusCreated))
	f.expect("POST", inboxURL(conv)+"/reply", `{"canned":"`+cr.ID+`"}`, agentAnn, http.StatusAccepted)

	// Another agent of the queue cannot reply to ann's conversation.
	f.expect("PUT", "/api/v1/inbox/agents/"+agentCy, `{"queues":["billing","support"]}`, fixtureAdmin, 200)
	if _, b := f.do("POST", inboxURL(conv)+"/reply", `{"text":"me too"}`, map[string]string{asUser: agentCy}); !strings.Contains(string(b), "assigned to "+agentAnn) {
		t.Errorf("cy replying to ann's: %s", b)
	}

	f.clock.Advance(policy.WindowLength)
	status, b := f.do("POST", inboxURL(conv)+"/reply", `{"text":"still there?"}`, map[string]string{asUser: agentAnn})
	if status != http.StatusConflict || !strings.Contains(string(b), "window is closed") {
		t.Errorf("free-form after the window: %d %s, want 409", status, b)
	}
	if !strings.Contains(string(f.expect("GET", inboxURL(conv), "", agentAnn, 200)), `"freeform":false`) {
		t.Error("the conversation view still offers free-form")
	}
	// Outside the window a template is business-initiated: it needs an opt-in.
	status, b = f.do("POST", inboxURL(conv)+"/template", `{"name":"followup","language":"en_US","body":["Ann"]}`, map[string]string{asUser: agentAnn})
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(b), "opt-in") {
		t.Errorf("template without opt-in: %d %s, want 422", status, b)
	}
	if _, err := f.eng.UpdateContact(f.ctx, key(ann), func(c *model.Contact) { c.OptedIn = true }); err != nil {
		t.Fatal(err)
	}
	f.expect("POST", inboxURL(conv)+"/template", `{"name":"followup","language":"en_US","body":["Ann"]}`, agentAnn, http.StatusAccepted)
	f.say(ann, "yes, still waiting") // the template worked: the window opens again

	body = f.expect("POST", inboxURL(conv)+"/resolve", `{"outcome":"refunded"}`, agentAnn, 200)
	c, err := f.store.Conversation(f.ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != model.Ended || c.Vars["handoff_outcome"] != "refunded" {
		t.Errorf("after resolve: %s %v (%s)", c.Status, c.Vars, body)
	}
	ms, _ := f.store.Transcript(f.ctx, conv)
	var notes, sends []string
	for _, m := range ms {
		switch {
		case m.Direction == model.Note:
			notes = append(notes, m.Text)
		case m.Direction == model.Out:
			sends = append(sends, engine.Render(m))
		}
	}
	wantNotes := "[assigned to ann@desk.test customer is polite resolved by ann@desk.test: refunded]"
	if fmt.Sprint(notes) != wantNotes {
		t.Errorf("notes %v\nwant %s", notes, wantNotes)
	}
	if last := sends[len(sends)-1]; !strings.Contains(last, "back to the bot: refunded") {
		t.Errorf("the bot did not carry on: %v", sends)
	}
	f.expect("POST", inboxURL(conv)+"/resolve", `{}`, agentAnn, http.StatusNotFound)
}

// TestInboxConcurrentHandoffsAPI: agents set up over the API, 200
// customers handed off at once: the agents listing shows no one over
// capacity and the load spread within one.
func TestInboxConcurrentHandoffsAPI(t *testing.T) {
	f, ib := inboxFixture(t)
	caps := map[string]int{}
	for i := range 5 {
		email := fmt.Sprintf("agent%d@desk.test", i)
		f.tokenFor(email, auth.Agent)
		caps[email] = 30 + 10*i
		f.expect("PUT", "/api/v1/inbox/agents/"+email, fmt.Sprintf(`{"queues":["support"],"capacity":%d,"status":"online"}`, caps[email]), fixtureAdmin, 200)
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.eng.HandleInbound(f.ctx, &engine.Inbound{PhoneNumberID: phone, ID: fmt.Sprintf("wamid.c%d", i), WaID: fmt.Sprintf("1666%07d", i), At: f.clock.Now(), Reply: textReply("help")}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := ib.Rebalance(f.ctx); err != nil {
		t.Fatal(err)
	}
	agents := decode[struct {
		Agents []inbox.AgentView `json:"agents"`
	}](t, f.expect("GET", "/api/v1/inbox/agents", "", fixtureAdmin, 200)).Agents
	total := 0
	for _, a := range agents {
		if caps[a.Email] == 0 {
			continue // ann and cy: offline
		}
		total += a.Open
		if a.Open > a.Capacity {
			t.Errorf("%s holds %d over capacity %d", a.Email, a.Open, a.Capacity)
		}
		for _, b := range agents {
			if caps[b.Email] > 0 && a.Open < a.Capacity && b.Open > a.Open+1 {
				t.Errorf("%s holds %d with room, %s %d", a.Email, a.Open, b.Email, b.Open)
			}
		}
	}
	if total != 200 {
		t.Errorf("%d assigned, want 200", total)
	}
}

// TestInboxEvents reads the live stream over a real socket: ann sees her
// queue's handoff and the customer's messages appear, cy (another queue)
// does not; reconnecting with Last-Event-ID replays what was missed; an
// id from another process asks for a reset.
func TestInboxEvents(t *testing.T) {
	f, _ := inboxFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = f.srv.App().Listener(ln) }()
	t.Cleanup(func() { _ = f.srv.Shutdown(t.Context()) })
	base := "http://" + ln.Addr().String()

	stream := func(who, lastID string) (<-chan map[string]any, func()) {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/api/v1/inbox/events", nil)
		req.Header.Set("Authorization", "Bearer "+f.tokenFor(who))
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("events: %d %s", resp.StatusCode, ct)
		}
		ch := make(chan map[string]any, 100)
		go func() {
			defer close(ch)
			sc := bufio.NewScanner(resp.Body)
			id := ""
			for sc.Scan() {
				line := sc.Text()
				if v, ok := strings.CutPrefix(line, "id: "); ok {
					id = v
				}
				if data, ok := strings.CutPrefix(line, "data: "); ok {
					var ev map[string]any
					if json.Unmarshal([]byte(data), &ev) == nil {
						ev["_id"] = id
						ch <- ev
					}
				}
			}
		}()
		return ch, func() { resp.Body.Close() }
	}
	next := func(ch <-chan map[string]any, typ string) map[string]any {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case ev, ok := <-ch:
				if !ok {
					t.Fatalf("stream ended waiting for %s", typ)
				}
				if ev["type"] == typ {
					return ev
				}
			case <-timeout:
				t.Fatalf("no %s event", typ)
			}
		}
	}

	annCh, closeAnn := stream(agentAnn, "")
	cyCh, closeCy := stream(agentCy, "")
	defer closeCy()
	next(annCh, "hello")
	next(cyCh, "hello")
	f.say(ann, "<script>alert(1)</script>")
	ev := next(annCh, "handoff")
	if ev["conversation"] != convID(ann, 1) || ev["queue"] != "support" || ev["_id"] == "" {
		t.Errorf("handoff event %v", ev)
	}
	msg := next(annCh, "message")
	lastID := msg["_id"].(string)
	closeAnn()

	f.say(ann, "are you there?")
	annCh, closeAnn = stream(agentAnn, lastID)
	defer closeAnn()
	next(annCh, "message") // the bot's greeting, after lastID
	replayed := next(annCh, "message")
	if m := replayed["message"].(map[string]any); m["text"] != "text: are you there?" || replayed["unread"] != float64(2) {
		t.Errorf("replayed %v", replayed)
	}
	select {
	case ev := <-cyCh:
		if ev["type"] != "agent" {
			t.Errorf("cy got an event of another queue: %v", ev)
		}
	case <-time.After(200 * time.Millisecond):
	}
	resetCh, closeReset := stream(agentAnn, "0-1")
	defer closeReset()
	next(resetCh, "reset")
}

func textReply(s string) flows.Reply { return flows.Reply{Type: flows.MsgText, Text: s} }

// TestInboxTemplateParams: an agent's template carries a header and body
// parameter for each the registry counts; a wrong count, or an empty
// parameter, is 422 with what the template takes, and nothing is sent.
func TestInboxTemplateParams(t *testing.T) {
	f, _ := inboxFixture(t)
	f.say(ann, "where is my order?")
	conv := convID(ann, 1)
	f.expect("PUT", "/api/v1/inbox/me/status", `{"status":"online"}`, agentAnn, 200)
	f.clock.Advance(policy.WindowLength)
	if _, err := f.eng.UpdateContact(f.ctx, key(ann), func(c *model.Contact) { c.OptedIn = true }); err != nil {
		t.Fatal(err)
	}
	before, err := f.store.Transcript(f.ctx, conv)
	if err != nil {
		t.Fatal(err)
	}

	refused := []struct{ name, body, want string }{
		{"body only", `{"name":"order_update","language":"en_US","body":["Ann","Friday"]}`,
			"header takes 1 parameter(s); the send gives 0"},
		{"too few body", `{"name":"order_update","language":"en_US","header":["#123"],"body":["Ann"]}`,
			"body takes 2 parameter(s); the send gives 1"},
		{"a header the template has not", `{"name":"followup","language":"en_US","header":["x"],"body":["Ann"]}`,
			"header takes 0 parameter(s); the send gives 1"},
		{"no parameters", `{"name":"followup","language":"en_US"}`, "body takes 1 parameter(s); the send gives 0"},
		{"empty header", `{"name":"order_update","language":"en_US","header":[" "],"body":["Ann","Friday"]}`, "header/0: is empty"},
		{"empty body", `{"name":"order_update","language":"en_US","header":["#123"],"body":["Ann",""]}`, "body/1: is empty"},
	}
	for _, r := range refused {
		status, b := f.do("POST", inboxURL(conv)+"/template", r.body, map[string]string{asUser: agentAnn})
		if status != http.StatusUnprocessableEntity || !strings.Contains(string(b), r.want) {
			t.Errorf("%s: %d %s, want 422 with %q", r.name, status, b, r.want)
		}
	}
	if after, _ := f.store.Transcript(f.ctx, conv); len(after) != len(before) {
		t.Fatalf("refused templates reached the transcript: %d messages, was %d", len(after), len(before))
	}

	f.expect("POST", inboxURL(conv)+"/template", `{"name":"order_update","language":"en_US","header":["#123"],"body":["Ann","Friday"]}`, agentAnn, http.StatusAccepted)
	after, err := f.store.Transcript(f.ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	last := after[len(after)-1]
	if last.Template == nil || fmt.Sprint(last.Template.Params()) != "[#123 Ann Friday]" || last.Sender != "agent:"+agentAnn {
		t.Fatalf("the template sent: %+v", last)
	}
}
