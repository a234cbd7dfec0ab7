package ui_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// The second business number of the numbers fixture; the first is phone.
const phoneB = "100000000000002"

var twoNumbers = []engine.PhoneNumber{{ID: phone, Display: "15550001111"}, {ID: phoneB, Display: "15550002222"}}

// sayOn is customer wa writing text to business number number.
func (f *fixture) sayOn(number, wa, text string) {
	f.t.Helper()
	f.seq++
	if _, err := f.eng.HandleInbound(f.ctx, &engine.Inbound{
		PhoneNumberID: number, ID: fmt.Sprintf("wamid.in.%d", f.seq), WaID: wa, Name: "Customer " + wa,
		At: f.clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: text},
	}); err != nil {
		f.t.Fatalf("inbound %q from %s to %s: %v", text, wa, number, err)
	}
}

// TestInboxQueueNumbersAPI: an admin sets a queue's numbers, which must
// be numbers Parley serves (400 naming the unknown one); they round-trip,
// a record without them serves every number, and the lists an agent and
// the flow editor pick a queue from keep the queues of the number.
func TestInboxQueueNumbersAPI(t *testing.T) {
	f, _ := inboxFixtureOn(t, twoNumbers...)
	for _, tc := range []struct {
		name, body string
		status     int
		want       string
	}{
		{"a number Parley does not serve", `{"numbers":["` + phone + `","199999999999999"]}`, 400,
			"Parley does not serve the number 199999999999999 (it serves " + phone + ", " + phoneB + ")"},
		{"a display number", `{"numbers":["+15550001111"]}`, 400, `\"+15550001111\" is not a phone number id`},
		{"not a list", `{"numbers":"` + phone + `"}`, 400, "malformed JSON body"},
		{"numbers, sorted and unique", `{"name":"Care","numbers":["` + phoneB + `","` + phone + `","` + phoneB + `"]}`, 200,
			`"numbers":["` + phone + `","` + phoneB + `"]`},
		{"one number", `{"name":"Care","numbers":["` + phoneB + `"]}`, 200, `"numbers":["` + phoneB + `"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.do("PUT", "/api/v1/inbox/queues/care", tc.body, map[string]string{asUser: fixtureAdmin})
			if status != tc.status || !strings.Contains(string(body), tc.want) {
				t.Errorf("%d %s; want %d with %q", status, body, tc.status, tc.want)
			}
		})
	}
	f.expect("PUT", "/api/v1/inbox/queues/shop", `{"name":"Shop","numbers":["`+phone+`"]}`, fixtureAdmin, 200)
	// A queue saved without numbers (as before they existed) serves all.
	if b := f.expect("PUT", "/api/v1/inbox/queues/support", `{"name":"Support"}`, fixtureAdmin, 200); strings.Contains(string(b), "numbers") {
		t.Errorf("a queue without numbers: %s", b)
	}
	queues := decode[struct {
		Queues []inbox.QueueView `json:"queues"`
	}](t, f.expect("GET", "/api/v1/inbox/queues", "", fixtureAdmin, 200)).Queues
	got := map[string][]string{}
	for _, q := range queues {
		got[q.ID] = q.Numbers
	}
	if want := map[string][]string{"care": {phoneB}, "shop": {phone}, "support": nil}; !reflect.DeepEqual(got, want) {
		t.Errorf("queues' numbers %v, want %v", got, want)
	}

	// The lists to pick a queue from, by number. Billing (cy's) was never
	// created: it serves every number.
	ids := func(url, who string) string {
		qs := decode[struct {
			Queues []struct {
				ID string `json:"id"`
			} `json:"queues"`
		}](t, f.expect("GET", url, "", who, 200)).Queues
		var s []string
		for _, q := range qs {
			s = append(s, q.ID)
		}
		return strings.Join(s, " ")
	}
	f.expect("PUT", "/api/v1/inbox/agents/"+agentAnn, `{"queues":["care","shop","support"]}`, fixtureAdmin, 200)
	for _, tc := range []struct{ name, url, who, want string }{
		{"transfer list for a conversation on A", "/api/v1/inbox/queues?number=" + phone, fixtureAdmin, "shop support"},
		{"transfer list for a conversation on B", "/api/v1/inbox/queues?number=" + phoneB, fixtureAdmin, "care support"},
		{"an agent's transfer list on B", "/api/v1/inbox/queues?number=" + phoneB, agentAnn, "care support"},
		{"every queue", "/api/v1/inbox/queues", fixtureAdmin, "care shop support"},
		{"the picker for a flow on A", "/api/v1/inbox/handoff-queues?numbers=" + phone, analyst, "billing shop support"},
		{"the picker for a flow on B", "/api/v1/inbox/handoff-queues?numbers=" + phoneB, analyst, "billing care support"},
		{"the picker for a flow on both", "/api/v1/inbox/handoff-queues?numbers=" + phone + "," + phoneB, analyst, "billing care shop support"},
		{"the picker for a flow on every number", "/api/v1/inbox/handoff-queues", analyst, "billing care shop support"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(tc.url, tc.who); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if b := f.expect("GET", "/api/v1/inbox/handoff-queues?numbers="+phoneB, "", analyst, 200); !strings.Contains(string(b), `{"id":"care","name":"Care","created":true,"agents":1,"online":false,"numbers":["`+phoneB+`"]}`) {
		t.Errorf("the picker does not say a queue's numbers: %s", b)
	}
}

// TestInboxQueueNumbersDesk: a customer on number B handed off to a
// queue of number A waits there, flagged for the admin, out of the
// queue's agent's sight; a transfer to a queue of A is refused (400), one
// to the queue of B lands where its agent takes it.
func TestInboxQueueNumbersDesk(t *testing.T) {
	f, _ := inboxFixtureOn(t, twoNumbers...)
	f.expect("PUT", "/api/v1/inbox/queues/support", `{"numbers":["`+phone+`"]}`, fixtureAdmin, 200)
	f.expect("PUT", "/api/v1/inbox/queues/billing", `{"numbers":["`+phoneB+`"]}`, fixtureAdmin, 200)
	f.expect("PUT", "/api/v1/inbox/queues/shop_a", `{"numbers":["`+phone+`"]}`, fixtureAdmin, 200)
	f.expect("PUT", "/api/v1/inbox/me/status", `{"status":"online"}`, agentAnn, 200) // support
	f.expect("PUT", "/api/v1/inbox/me/status", `{"status":"online"}`, agentCy, 200)  // billing
	f.sayOn(phoneB, ann, "help")
	conv := fmt.Sprintf("%s#1", model.NewContactKey(phoneB, ann))

	b := f.expect("GET", "/api/v1/inbox/conversations", "", fixtureAdmin, 200)
	if !strings.Contains(string(b), `"off_number":true`) || !strings.Contains(string(b), `"queue":"support"`) || strings.Contains(string(b), `"assignee"`) {
		t.Errorf("the admin's list: %s", b)
	}
	if b := f.expect("GET", "/api/v1/inbox/queues", "", fixtureAdmin, 200); !strings.Contains(string(b), `"waiting":1,"assigned":0,"agents_online":1,"off_number":1`) {
		t.Errorf("the queue does not count it for the admin: %s", b)
	}
	if b := f.expect("GET", "/api/v1/inbox/queues", "", agentAnn, 200); !strings.Contains(string(b), `"waiting":0`) || strings.Contains(string(b), "off_number") {
		t.Errorf("the queue counts it for its agent, who does not see it: %s", b)
	}
	for _, tc := range []struct {
		name, method, url, body, who string
		status                       int
		want                         string
	}{
		{"ann (support, number A) does not list it", "GET", "/api/v1/inbox/conversations", "", agentAnn, 200, `"conversations":[]`},
		{"ann cannot open it", "GET", inboxURL(conv), "", agentAnn, 404, "not found"},
		{"ann cannot claim it", "POST", inboxURL(conv) + "/claim", "{}", agentAnn, 404, "not found"},
		{"cy (billing) does not see it in support", "GET", "/api/v1/inbox/conversations", "", agentCy, 200, `"conversations":[]`},
		{"the admin cannot move it to another queue of number A", "POST", inboxURL(conv) + "/transfer", `{"queue":"shop_a"}`, fixtureAdmin, 400,
			"queue shop_a does not serve the number " + phoneB},
		{"the admin moves it to billing, of number B", "POST", inboxURL(conv) + "/transfer", `{"queue":"billing"}`, fixtureAdmin, 200, `"assignee":"` + agentCy + `"`},
		{"cy has it now", "GET", "/api/v1/inbox/conversations?view=mine", "", agentCy, 200, conv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.do(tc.method, tc.url, tc.body, map[string]string{asUser: tc.who})
			if status != tc.status || !strings.Contains(string(body), tc.want) {
				t.Errorf("%d %s; want %d with %q", status, body, tc.status, tc.want)
			}
		})
	}
}

// TestInboxQueueNumbersCheck: a flow on number B that hands off to a
// queue of number A gets a warning at the handoff's queue field when it
// is validated, saved, previewed for publishing and published; it still
// publishes.
func TestInboxQueueNumbersCheck(t *testing.T) {
	f, _ := inboxFixtureOn(t, twoNumbers...)
	f.expect("PUT", "/api/v1/inbox/queues/support", `{"numbers":["`+phone+`"]}`, fixtureAdmin, 200)
	doc := strings.Replace(handoffFlow, `"start": "to_agent",`, `"start": "to_agent", "numbers": ["`+phoneB+`"],`, 1)
	want := `queue "support", which serves none of the numbers this flow answers on (15550002222 (` + phoneB + `)): it serves only 15550001111 (` + phone + `)`
	for _, tc := range []struct{ name, method, url, body string }{
		{"validate", "POST", "/api/v1/flows/validate", doc},
		{"save the draft", "PUT", "/api/v1/flows/desk", doc},
		{"publish preview", "GET", "/api/v1/flows/desk/publish-preview", ""},
		{"publish", "POST", "/api/v1/flows/desk/publish", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, b := f.do(tc.method, tc.url, tc.body, map[string]string{asUser: analyst})
			if status >= 300 {
				t.Fatalf("%d %s", status, b)
			}
			v := decode[struct {
				Problems []flows.Problem `json:"problems"`
			}](t, b)
			found := false
			for _, p := range v.Problems {
				if p.Pointer == "/nodes/0/queue" && strings.Contains(p.Message, want) {
					found = p.Severity == flows.Warning
				}
			}
			if !found {
				t.Errorf("no warning at /nodes/0/queue: %s", b)
			}
		})
	}
}
