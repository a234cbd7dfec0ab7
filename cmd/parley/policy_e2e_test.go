package main

// The policy suite (issue 4, "What must be shown"): many customers run one
// flow against the sandbox on moved clocks (the engine's and Meta's, side
// by side; nothing sleeps but the polls for quiescence) across the 24-hour
// window: opt-in imported from CSV and missing, opt-out mid-flow and back
// in, templates in every state, a marketing stop from WhatsApp, late
// failures the sandbox decides (131026, 131047) or is told to post
// (131049), a number change, a tier from Meta. Afterwards the sandbox has
// refused nothing but the failures the scenario injected, and each
// customer received exactly what the flow prescribes for their group.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// Texts of testdata/e2e/policy/reminder.json.
const (
	pWelcome  = "Welcome! Reply YES to confirm your booking."
	pLastCall = "Last call: this chat closes in 30 minutes."
	pThanks   = "Thanks, you're confirmed."
)

// policyGroup is a kind of customer: what they do, what they must
// receive, and what Parley must record.
type policyGroup struct {
	name string
	// optIn: the import records an opt-in for them.
	optIn bool
	// received is what the customer's phone shows from the business, in
	// order ("text [code]" for a send Meta failed).
	received []string
	// rejected is the Meta error codes the sandbox logs for them: only
	// the failures this scenario injects.
	rejected []int
	// status is their last conversation's; blocks the reasons recorded.
	status model.Status
	blocks []model.BlockReason
}

var policyGroups = []policyGroup{
	{name: "ok", optIn: true, status: model.Ended,
		received: []string{pWelcome, pLastCall, "reminder_ok", "reminder_ok"}},
	{name: "pending", optIn: true, status: model.Ended, received: []string{pWelcome, pLastCall}, blocks: []model.BlockReason{model.BlockTemplate}},
	{name: "rejected", optIn: true, status: model.Ended, received: []string{pWelcome, pLastCall}, blocks: []model.BlockReason{model.BlockTemplate}},
	{name: "paused", optIn: true, status: model.Ended, received: []string{pWelcome, pLastCall}, blocks: []model.BlockReason{model.BlockTemplate}},
	{name: "disabled", optIn: true, status: model.Ended, received: []string{pWelcome, pLastCall}, blocks: []model.BlockReason{model.BlockTemplate}},
	{name: "no_optin", status: model.Ended, received: []string{pWelcome, pLastCall}, blocks: []model.BlockReason{model.BlockNoOptIn}},
	// STOP at 1 h, START at 2 h: the flow ends at the STOP; nothing after.
	{name: "stop_start", optIn: true, status: model.Ended,
		received: []string{pWelcome, consent.DefaultOptOutReply, consent.DefaultOptInReply}},
	// STOP at 1 h, "join" again at 2 h: they may write and be answered,
	// but the reminder (business-initiated) is blocked.
	{name: "stop_rejoin", optIn: true, status: model.Ended,
		received: []string{pWelcome, consent.DefaultOptOutReply, pWelcome, pLastCall}, blocks: []model.BlockReason{model.BlockOptedOut}},
	{name: "answers", optIn: true, status: model.Ended, received: []string{pWelcome, pThanks}},
	// The sandbox cannot deliver to them (131026 on the welcome, whose
	// on_error waits on at ask): the last call is refused at dispatch (its
	// on_error goes to the reminder), the reminder at flow time.
	{name: "undeliverable", optIn: true, status: model.Ended, received: []string{pWelcome + " [131026]"}, rejected: []int{131026},
		blocks: []model.BlockReason{model.BlockUnreachable, model.BlockUnreachable}},
	// A marketing template that Meta holds back (131049, posted by the
	// test; its on_error waits on at after_promo): the next marketing
	// template is not tried for 24 h.
	{name: "hold", optIn: true, status: model.Ended, received: []string{pWelcome, pLastCall, "promo_ok [131049]"}, rejected: []int{131049},
		blocks: []model.BlockReason{model.BlockHold}},
	// Meta's clock says the window closed before Parley's (131047 on the
	// last call): the conversation takes its template path at once.
	{name: "late_131047", optIn: true, status: model.Ended, received: []string{pWelcome, pLastCall + " [131047]", "reminder_ok", "reminder_ok"},
		rejected: []int{131047}},
	// They stop marketing messages in WhatsApp (user_preferences).
	{name: "pref_stop", optIn: true, status: model.Ended, received: []string{pWelcome, pLastCall}, blocks: []model.BlockReason{model.BlockMarketingOptOut}},
	// They change number at 2 h and answer from the new one: one
	// conversation, continued (the new number's phone shows the thanks).
	{name: "identity", optIn: true, status: model.Ended, received: []string{pWelcome}},
}

// policyCustomers is the suite's size: every group, many times.
const policyCustomers = 210

func TestPolicyE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("the policy suite runs 210 customers over loopback")
	}
	flowDoc, err := os.ReadFile("../../testdata/e2e/policy/reminder.json")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock, sbClock := engine.NewManualClock(t0), sandbox.NewManualClock(t0)
	body := []sandbox.TemplateComponent{{Type: "BODY", Text: "Your booking is tomorrow."}}
	var templates []sandbox.Template
	for _, name := range []string{"reminder_ok", "reminder_pending", "reminder_rejected", "reminder_paused", "reminder_disabled"} {
		templates = append(templates, sandbox.Template{Name: name, Language: "en_US", Category: "UTILITY", Components: body})
	}
	templates = append(templates, sandbox.Template{Name: "promo_ok", Language: "en_US", Category: "MARKETING",
		Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "20% off your next booking."}}})
	h := newE2E(t, e2eOptions{
		flows:     map[string]string{"reminder.json": string(flowDoc)},
		templates: templates,
		statuses:  sandbox.StatusManual, // only the failures Meta decides, and those the test posts
		clock:     sbClock,
		sandbox:   func(c *sandbox.Config) { c.Throughput = -1 }, // throughput is not under test; Meta's clock stands still
		serve:     func(c *serveConfig) { c.clock, c.messagingLimit = clock, engine.DefaultMessagingLimit },
	})
	h.start()
	ctx := context.Background()
	sc := h.sb.Config()
	p := &policyRun{h: h, t: t, t0: t0, clock: clock, sbClock: sbClock}

	// Templates in every state: Meta's webhooks tell Parley.
	for _, tc := range []struct{ name, status, reason string }{
		{"reminder_pending", "PENDING", ""}, {"reminder_rejected", "REJECTED", "INVALID_FORMAT"},
		{"reminder_paused", "PAUSED", ""}, {"reminder_disabled", "DISABLED", ""},
	} {
		for _, tpl := range h.sb.Templates() {
			if tpl.Name == tc.name {
				if err := h.sb.SetTemplateStatus(tpl.ID, tc.status, tc.reason); err != nil {
					t.Fatal(err)
				}
			}
		}
		eventually(t, e2eTimeout, func() bool {
			info, ok := h.eng.Template(tc.name, "en_US")
			return ok && info.Status == tc.status
		}, "template %s %s in Parley's registry", tc.name, tc.status)
	}

	// Customers, and their opt-ins imported by phone number.
	var csv strings.Builder
	csv.WriteString("phone,name,field:group,opted_in,opted_in_at,source,purpose\n")
	for i := range policyCustomers {
		g := policyGroups[i%len(policyGroups)]
		wa := p.wa(i)
		h.sb.AddCustomer(sandbox.Customer{WaID: wa, Name: fmt.Sprintf("Customer %d", i), Undeliverable: g.name == "undeliverable"})
		optIn := ""
		if g.optIn {
			optIn = "true,2026-02-01,web_form,Booking reminders from Acme on WhatsApp"
		} else {
			optIn = ",,,"
		}
		fmt.Fprintf(&csv, "+%s,Customer %d,%s,%s\n", wa, i, g.name, optIn)
	}
	res, err := h.eng.ImportContacts(ctx, strings.NewReader(csv.String()), consent.ImportOptions{PhoneNumberID: sc.PhoneNumberID, By: "e2e@acme.test"})
	if err != nil || res.Created != policyCustomers {
		t.Fatalf("import: %+v, %v", res, err)
	}

	// t0: everyone writes "join".
	for i := range policyCustomers {
		h.says(p.wa(i), sandbox.Text("join"))
	}
	p.settle()

	// 1 h: answers, STOPs, a marketing stop in WhatsApp's settings.
	p.advance(time.Hour)
	p.each("answers", func(wa string) { h.says(wa, sandbox.Text("yes")) })
	p.each("stop_start", func(wa string) { h.says(wa, sandbox.Text("STOP")) })
	p.each("stop_rejoin", func(wa string) { h.says(wa, sandbox.Text("Stop.")) })
	p.each("pref_stop", func(wa string) { p.postPreference(wa, "stop") })
	p.settle()

	// 2 h: START, "join" again, a number change, a tier from Meta.
	p.advance(2 * time.Hour)
	p.each("stop_start", func(wa string) { h.says(wa, sandbox.Text("START")) })
	p.each("stop_rejoin", func(wa string) { h.says(wa, sandbox.Text("join")) })
	p.each("identity", func(wa string) { p.changeNumber(wa) })
	p.postWebhook(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"%s","time":%d,"changes":[{"field":"phone_number_quality_update","value":{"display_phone_number":"%s","event":"UPGRADE","old_limit":"TIER_250","current_limit":"TIER_2K","max_daily_conversations_per_business":"TIER_2K"}}]}]}`,
		sc.WABAID, p.now().Unix(), sc.DisplayPhoneNumber))
	p.settle()
	if got := h.eng.MessagingLimit(); got != 2000 {
		t.Errorf("messaging limit after Meta's TIER_2K: %d, want 2000", got)
	}

	// 23 h 30: the window-closing exit; Meta's clock has the window of the
	// late_131047 customers closed already.
	p.each("late_131047", func(wa string) { h.sb.SetLastInbound(wa, t0.Add(-48*time.Hour)) })
	p.advance(23*time.Hour + 30*time.Minute)

	// 25 h 30: the reminders, outside the window. Meta holds back the
	// marketing ones of the hold group (131049).
	p.advance(25*time.Hour + 30*time.Minute)
	p.each("hold", func(wa string) {
		for _, e := range h.accepted(wa) {
			if e.Body == "promo_ok" {
				if err := h.sb.SetStatus(e.WAMID, "failed", 131049); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
	p.settle()

	// 26 h 30, 27 h 30, 29 h: the second reminders, and the rejoiners'.
	p.advance(26*time.Hour + 30*time.Minute)
	p.advance(27*time.Hour + 30*time.Minute)
	p.advance(29 * time.Hour)

	// The witness: Meta refused nothing but what the scenario injected.
	var wantRejected []string
	for i := range policyCustomers {
		for _, code := range policyGroups[i%len(policyGroups)].rejected {
			wantRejected = append(wantRejected, fmt.Sprintf("%s %d", p.wa(i), code))
		}
	}
	var gotRejected []string
	for _, e := range h.sb.Rejected() {
		gotRejected = append(gotRejected, fmt.Sprintf("%s %d", e.To, e.Code))
	}
	slices.Sort(wantRejected)
	slices.Sort(gotRejected)
	if !slices.Equal(gotRejected, wantRejected) {
		t.Errorf("sandbox rejections:\n%s\nwant only the injected ones:\n%s", strings.Join(gotRejected, "\n"), strings.Join(wantRejected, "\n"))
	}

	// Every customer's transcript, as their phone shows it and as Parley
	// recorded it.
	reached := 0
	for i := range policyCustomers {
		p.checkCustomer(i, &reached)
	}

	// The number: Meta's tier, and the unique customers reached outside
	// their window in the moving 24 h (the reminders went out between
	// 23 h 30 and 26 h 30: all still in it at 29 h).
	var nums struct {
		Numbers []engine.NumberView `json:"numbers"`
	}
	if code := h.api("/numbers", &nums); code != http.StatusOK || len(nums.Numbers) != 1 {
		t.Fatalf("GET /numbers: %d %+v", code, nums)
	}
	n := nums.Numbers[0]
	if n.Tier != "TIER_2K" || n.Limit != 2000 || n.LimitSource != engine.LimitFromMeta || n.Usage != reached || n.NextFreeAt.IsZero() {
		t.Errorf("number %+v; want TIER_2K, limit 2000 from Meta, usage %d", n, reached)
	}
}

// policyRun drives the suite's clocks and customers.
type policyRun struct {
	h          *e2e
	t          *testing.T
	t0         time.Time
	clock      *engine.ManualClock
	sbClock    *sandbox.ManualClock
	hookSeq    int
	newNumbers map[string]string // identity group: old wa_id → new wa_id
}

func (p *policyRun) wa(i int) string    { return fmt.Sprintf("1444%07d", i) }
func (p *policyRun) now() time.Time     { return p.clock.Now() }
func (p *policyRun) group(i int) string { return policyGroups[i%len(policyGroups)].name }

// each runs fn for every customer of the group.
func (p *policyRun) each(group string, fn func(wa string)) {
	for i := range policyCustomers {
		if p.group(i) == group {
			fn(p.wa(i))
		}
	}
}

// advance moves both clocks to t0+d and waits until everything that time
// set off is done.
func (p *policyRun) advance(d time.Duration) {
	p.clock.Set(p.t0.Add(d))
	p.sbClock.Set(p.t0.Add(d))
	p.settle()
}

// settle waits for quiescence: no timer due, nothing in the outbox, no
// webhook on its way, twice in a row.
func (p *policyRun) settle() {
	p.t.Helper()
	ctx := context.Background()
	quiet := 0
	eventually(p.t, 2*e2eTimeout, func() bool {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if p.h.sb.Drain(dctx) != nil {
			quiet = 0
			return false
		}
		st := p.h.eng.Store()
		items, err := st.Outbox(ctx, 0, 1)
		next, ok, err2 := st.NextTimer(ctx)
		if err != nil || err2 != nil || len(items) > 0 || (ok && !next.After(p.now())) {
			quiet = 0
			return false
		}
		quiet++
		return quiet >= 3
	}, "quiescence at %v", p.now().Sub(p.t0))
}

// postWebhook posts a signed webhook as Meta would.
func (p *policyRun) postWebhook(body string) {
	p.t.Helper()
	code, err := p.h.postWebhook([]byte(body), p.h.sign([]byte(body)))
	if err != nil || code != http.StatusOK {
		p.t.Fatalf("webhook: %d, %v\n%s", code, err, body)
	}
}

// postPreference posts a user_preferences marketing event for wa.
func (p *policyRun) postPreference(wa, value string) {
	c, _ := p.h.sb.Customer(wa)
	sc := p.h.sb.Config()
	p.postWebhook(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"%s","changes":[{"field":"user_preferences","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"%s","phone_number_id":"%s"},"user_preferences":[{"wa_id":"%s","user_id":"%s","detail":"User requested to %s marketing messages","category":"marketing_messages","value":"%s","timestamp":%d}]}}]}]}`,
		sc.WABAID, sc.DisplayPhoneNumber, sc.PhoneNumberID, wa, c.UserID, value, value, p.now().Unix()))
}

// changeNumber has wa's customer move to a new number: Meta's system
// notices (number, then user id), then a reply from the new number.
func (p *policyRun) changeNumber(wa string) {
	p.t.Helper()
	old, _ := p.h.sb.Customer(wa)
	newWa := "1666" + wa[4:]
	nc := p.h.sb.AddCustomer(sandbox.Customer{WaID: newWa, Name: old.Name})
	if p.newNumbers == nil {
		p.newNumbers = map[string]string{}
	}
	p.newNumbers[wa] = newWa
	sc := p.h.sb.Config()
	msg := func(sys string) string {
		p.hookSeq++
		return fmt.Sprintf(`{"from":"%s","from_user_id":"%s","id":"wamid.policy.sys.%d","timestamp":"%d","type":"system","system":%s}`,
			wa, old.UserID, p.hookSeq, p.now().Unix(), sys)
	}
	p.postWebhook(fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"%s","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"%s","phone_number_id":"%s"},"contacts":[{"profile":{"name":"%s"},"wa_id":"%s","user_id":"%s"}],"messages":[%s,%s]}}]}]}`,
		sc.WABAID, sc.DisplayPhoneNumber, sc.PhoneNumberID, old.Name, wa, old.UserID,
		msg(fmt.Sprintf(`{"body":"User changed from %s to %s","wa_id":"%s","type":"user_changed_number"}`, wa, newWa, newWa)),
		msg(fmt.Sprintf(`{"body":"User id changed","user_id":"%s","type":"user_changed_user_id"}`, nc.UserID))))
	p.h.says(newWa, sandbox.Text("yes"))
}

// received is what a customer's phone shows from the business.
func (p *policyRun) received(id string) []string {
	var out []string
	for _, turn := range p.h.sb.Transcript(id) {
		if turn.From != "business" {
			continue
		}
		s := turn.Text
		if turn.Status == "failed" {
			s += fmt.Sprintf(" [%d]", turn.Code)
		}
		out = append(out, s)
	}
	return out
}

// checkCustomer compares customer i's transcripts with their group's, and
// counts them in reached when a template reached them outside the window.
func (p *policyRun) checkCustomer(i int, reached *int) {
	t, h := p.t, p.h
	g := policyGroups[i%len(policyGroups)]
	wa := p.wa(i)
	if got := p.received(wa); !slices.Equal(got, g.received) {
		t.Errorf("customer %s (%s) received:\n  %q\nwant\n  %q", wa, g.name, got, g.received)
	}
	if newWa, ok := p.newNumbers[wa]; ok {
		if got := p.received(newWa); !slices.Equal(got, []string{pThanks}) {
			t.Errorf("customer %s (%s) on their new number %s received %q, want the thanks", wa, g.name, newWa, got)
		}
	}
	ctx := context.Background()
	key := model.NewContactKey(h.sb.Config().PhoneNumberID, wa) // imported by phone number
	c, err := h.eng.Contact(ctx, key)
	if err != nil {
		t.Errorf("customer %s (%s): %v", wa, g.name, err)
		return
	}
	conv, err := h.eng.CurrentConversation(ctx, key)
	if err != nil || conv.Status != g.status {
		t.Errorf("customer %s (%s): last conversation %+v, %v; want %s", wa, g.name, conv, err, g.status)
	}
	var reasons []model.BlockReason
	for _, b := range c.Blocks {
		reasons = append(reasons, b.Reason)
	}
	if !slices.Equal(reasons, g.blocks) {
		t.Errorf("customer %s (%s): blocks %+v, want reasons %v", wa, g.name, c.Blocks, g.blocks)
	}
	if g.optIn && (len(c.Consent) == 0 || c.Consent[0].Source != model.SourceImport || c.Consent[0].By != "e2e@acme.test") {
		t.Errorf("customer %s (%s): consent %+v, want the import first", wa, g.name, c.Consent)
	}
	switch g.name {
	case "undeliverable":
		if !c.Unreachable {
			t.Errorf("customer %s: not unreachable after 131026", wa)
		}
	case "hold":
		if !c.HoldUntil.After(p.now()) {
			t.Errorf("customer %s: no 131049 hold (%v)", wa, c.HoldUntil)
		}
	case "pref_stop":
		if !c.MarketingOptOut {
			t.Errorf("customer %s: no marketing opt-out", wa)
		}
	case "stop_start":
		if c.OptedOut || !c.OptedIn {
			t.Errorf("customer %s: opted_in %v opted_out %v after START", wa, c.OptedIn, c.OptedOut)
		}
	case "stop_rejoin":
		if !c.OptedOut {
			t.Errorf("customer %s: not opted out", wa)
		}
	case "identity":
		nc, _ := h.sb.Customer(p.newNumbers[wa])
		if c.WaID != p.newNumbers[wa] || c.UserID != nc.UserID || c.Conversations != 1 {
			t.Errorf("customer %s: after the number change %+v", wa, c)
		}
	}
	for _, r := range g.received {
		if strings.HasPrefix(r, "reminder_ok") || strings.HasPrefix(r, "promo_ok") {
			*reached++
			break
		}
	}
}
