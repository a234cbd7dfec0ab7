package ui_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

var csvHeader = map[string]string{"Content-Type": "text/csv"}

// contact reads a stored contact, or fails.
func (f *fixture) contact(wa string) *model.Contact {
	f.t.Helper()
	c, err := f.eng.Contact(f.ctx, key(wa))
	if err != nil {
		f.t.Fatalf("contact %s: %v", wa, err)
	}
	return c
}

func TestContactsAPI(t *testing.T) {
	optIn := func(wa string) func(t *testing.T, f *fixture) {
		return func(t *testing.T, f *fixture) {
			if _, err := f.eng.RecordConsent(f.ctx, key(wa), model.ConsentEvent{Kind: model.ConsentOptIn, Source: model.SourceWebForm}); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(t, []scenario{
		{
			name: "list: every contact in key order", method: "GET", url: "/api/v1/contacts", status: http.StatusOK,
			want: []string{`"key":"100000000000001:15550000003"`, `"key":"100000000000001:15551234567"`, `"key":"100000000000001:15557654321"`, `"next_after":""`, `"tags":[]`},
			after: func(t *testing.T, _ *fixture, body []byte) {
				b := string(body)
				if !(strings.Index(b, cyd) < strings.Index(b, ann) && strings.Index(b, ann) < strings.Index(b, bob)) {
					t.Errorf("not in key order: %s", b)
				}
			},
		},
		{
			name: "list: pages", method: "GET", url: "/api/v1/contacts?limit=2", status: http.StatusOK,
			want: []string{cyd, ann, `"next_after":"100000000000001:15551234567"`}, notWant: []string{bob},
			after: func(t *testing.T, f *fixture, _ []byte) {
				_, body := f.do("GET", "/api/v1/contacts?limit=2&after=100000000000001:15551234567", "", nil)
				if !strings.Contains(string(body), bob) || strings.Contains(string(body), ann) || !strings.Contains(string(body), `"next_after":""`) {
					t.Errorf("second page: %s", body)
				}
			},
		},
		{
			name: "list: opted in only", method: "GET", url: "/api/v1/contacts?opted_in=true", status: http.StatusOK,
			before: optIn(bob), want: []string{bob, `"opted_in":true`}, notWant: []string{ann, cyd},
		},
		{
			name: "list: not opted in", method: "GET", url: "/api/v1/contacts?opted_in=false", status: http.StatusOK,
			before: optIn(bob), want: []string{ann, cyd}, notWant: []string{bob},
		},
		{
			name: "list: by tag", method: "GET", url: "/api/v1/contacts?tag=vip", status: http.StatusOK,
			before: func(t *testing.T, f *fixture) {
				if _, err := f.eng.UpdateContact(f.ctx, key(cyd), func(c *model.Contact) { c.Tags = []string{"vip"} }); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{cyd, `"tags":["vip"]`}, notWant: []string{ann, bob},
		},
		{name: "list: bad limit", method: "GET", url: "/api/v1/contacts?limit=0", status: http.StatusBadRequest, want: []string{"limit must be"}},
		{name: "list: bad opted_in", method: "GET", url: "/api/v1/contacts?opted_in=maybe", status: http.StatusBadRequest},
		{
			name: "create: with fields, tags and an opt-in", method: "POST", url: "/api/v1/contacts", status: http.StatusCreated,
			body: `{"phone_number_id":"100000000000001","wa_id":"+1 555 999-0000","name":"Dee","language":"es_MX","tags":["vip"," vip ","new"],
				"fields":{"city":"Lima","visits":3},
				"consent":{"opted_in":true,"opted_in_at":"2026-01-04T09:00:00Z","source":"web_form","purpose":"Order updates from Acme"}}`,
			want: []string{`"key":"100000000000001:15559990000"`, `"tags":["vip","new"]`, `"city":"Lima"`, `"visits":3`,
				`"kind":"opt_in","source":"web_form","purpose":"Order updates from Acme","by":"admin@parley.test"`, `"policy":`, `"blocks":[]`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if c := f.contact("15559990000"); !c.OptedIn || c.WaID != "15559990000" || c.Language != "es_MX" || !c.OptedInAt.Equal(time.Date(2026, 1, 4, 9, 0, 0, 0, time.UTC)) {
					t.Errorf("stored %+v", c)
				}
			},
		},
		{
			name: "update: an existing contact keeps its conversations", method: "POST", url: "/api/v1/contacts", status: http.StatusOK,
			body: `{"phone_number_id":"100000000000001","wa_id":"15551234567","name":"Ann B.","fields":{"city":"Quito"}}`,
			want: []string{`"name":"Ann B."`, `"city":"Quito"`, `"conversation":"100000000000001:15551234567#1"`},
		},
		{
			name: "create: every problem is named", method: "POST", url: "/api/v1/contacts", status: http.StatusBadRequest,
			body: `{"phone_number_id":"100000000000001","wa_id":"12ab"}`, want: []string{"invalid contact", "phone", "12ab"},
		},
		{
			name: "create: an opt-in needs its time", method: "POST", url: "/api/v1/contacts", status: http.StatusBadRequest,
			body: `{"phone_number_id":"100000000000001","wa_id":"15559990000","consent":{"opted_in":true}}`, want: []string{"opted_in_at"},
		},
		{
			name: "create: unknown field in the body", method: "POST", url: "/api/v1/contacts", status: http.StatusBadRequest,
			body: `{"phone_number_id":"100000000000001","wa_id":"15559990000","opted_in":true}`, want: []string{"unknown field"},
		},
		{
			name: "create: an old opt-in does not undo the customer's STOP", method: "POST", url: "/api/v1/contacts", status: http.StatusBadRequest,
			before: func(t *testing.T, f *fixture) { f.say(ann, "STOP") },
			body:   `{"phone_number_id":"100000000000001","wa_id":"15551234567","consent":{"opted_in":true,"opted_in_at":"2026-01-01T00:00:00Z"}}`,
			want:   []string{"consent conflict", "opted out"},
		},
		{
			name: "put: fields and tags of an existing contact", method: "PUT", url: "/api/v1/contacts/" + string(key(bob)), status: http.StatusOK,
			body: `{"tags":["gold"],"fields":{"tier":"gold"}}`, want: []string{`"tags":["gold"]`, `"tier":"gold"`, `"key":"100000000000001:15557654321"`},
		},
		{
			name: "put: an opt-out withdraws the opt-in", method: "PUT", url: "/api/v1/contacts/" + string(key(bob)), status: http.StatusOK,
			before: optIn(bob), body: `{"consent":{"opted_in":false,"source":"sms"}}`,
			want: []string{`"opted_out":true`, `"kind":"opt_out","source":"sms"`},
		},
		{name: "put: unknown contact", method: "PUT", url: "/api/v1/contacts/100000000000001:15550001234", body: `{"name":"x"}`, status: http.StatusNotFound},
		{
			name: "put: the body names another contact", method: "PUT", url: "/api/v1/contacts/" + string(key(bob)), status: http.StatusBadRequest,
			body: `{"wa_id":"15551234567"}`, want: []string{"another contact"},
		},
		{
			name: "get: the policy state of a contact", method: "GET", url: "/api/v1/contacts/" + string(key(ann)), status: http.StatusOK,
			before: func(t *testing.T, f *fixture) {
				f.say(ann, "STOP")
				if _, err := f.eng.UpdateContact(f.ctx, key(ann), func(c *model.Contact) { c.HoldUntil = f.clock.Now().Add(time.Hour) }); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{`"policy":{"window":{"open":true,"expires_at":"2026-01-06T12:03:00Z","remaining_seconds":86340}`,
				`"opted_out":true`, `"kind":"opt_out","source":"keyword"`, `"held":true`, `"blocks":[]`, `"unreachable":false`},
		},
	})
}

const importCSV = "phone,name,language,tags,field:city,field:zip,opted_in,opted_in_at,source,purpose\n" +
	"+1 555 999 0001,Eve,en,vip;new,Lima,01234,true,2026-01-02,web_form,Order updates from Acme\n" +
	"15559990002,Fay,,,,,,,,\n" +
	"15551234567,Ann,,,Quito,,yes,2026-01-03T08:00:00Z,sms,Texted JOIN to 555\n"

func TestContactsImport(t *testing.T) {
	url := "/api/v1/contacts/import?phone_number_id=" + phone
	run(t, []scenario{
		{
			name: "import: created, updated and consent recorded as import, by the importer", method: "POST", url: url,
			body: importCSV, header: csvHeader, status: http.StatusOK,
			want: []string{`"dry_run":false`, `"rows":3`, `"created":2`, `"updated":1`, `"opt_ins":2`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				eve := f.contact("15559990001")
				if eve.Name != "Eve" || eve.Fields["city"] != "Lima" || eve.Fields["zip"] != "01234" || strings.Join(eve.Tags, ",") != "vip,new" || !eve.OptedIn {
					t.Errorf("Eve: %+v", eve)
				}
				ev := eve.Consent[0]
				if ev.Source != model.SourceImport || ev.By != "admin@parley.test" || ev.Detail != "collected via web_form" ||
					ev.Purpose != "Order updates from Acme" || !ev.At.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("Eve's consent: %+v", ev)
				}
				if fay := f.contact("15559990002"); fay.OptedIn || len(fay.Consent) != 0 {
					t.Errorf("Fay has consent: %+v", fay)
				}
				if a := f.contact(ann); a.Name != "Ann" || !a.OptedIn || a.Conversations != 1 {
					t.Errorf("Ann: %+v", a)
				}
				// Run again: nothing is recorded twice.
				_, body := f.do("POST", url, importCSV, csvHeader)
				if !strings.Contains(string(body), `"opt_ins":0`) || len(f.contact("15559990001").Consent) != 1 {
					t.Errorf("a repeated import: %s", body)
				}
			},
		},
		{
			name: "import: dry run stores nothing", method: "POST", url: url + "&dry_run=true", body: importCSV, header: csvHeader,
			status: http.StatusOK, want: []string{`"dry_run":true`, `"created":2`, `"opt_ins":2`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if _, err := f.eng.Contact(f.ctx, key("15559990001")); err == nil {
					t.Error("a dry run stored a contact")
				}
			},
		},
		{
			name: "import: one problem per bad cell, nothing imported", method: "POST", url: url, header: csvHeader,
			status: http.StatusUnprocessableEntity,
			body: "phone,name,language,opted_in,opted_in_at\n" +
				"15559990001,Good,en,,\n" +
				"12ab,Bad phone,en,,\n" +
				"15559990003,Bad lang,english,,\n" +
				"15559990004,No time,en,true,\n" +
				"15559990005,Future,en,true,2027-01-01\n" +
				"15559990006,Bad bool,en,perhaps,\n" +
				"15559990001,Again,en,,\n" +
				"15559990007,Short\n",
			want: []string{`"error":"the import has problems; nothing was imported"`,
				`{"row":3,"column":"phone","message":"\"12ab\" is not a phone number`,
				`{"row":4,"column":"language","message":"\"english\" is not a language code`,
				`{"row":5,"column":"opted_in_at","message":"an opt-in needs the time`,
				`{"row":6,"column":"opted_in_at","message":"2027-01-01T00:00:00Z is in the future"}`,
				`{"row":7,"column":"opted_in","message":"\"perhaps\" is not true or false"}`,
				`{"row":8,"column":"phone","message":"the same contact as row 2"}`,
				`{"row":9,"message":"2 cells, the header has 5"}`},
			notWant: []string{`"row":2,`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if _, err := f.eng.Contact(f.ctx, key("15559990001")); err == nil {
					t.Error("a valid row of a bad file was imported")
				}
			},
		},
		{
			name: "import: unknown and missing columns", method: "POST", url: url, header: csvHeader, status: http.StatusUnprocessableEntity,
			body: "name,email,field:Bad Name\nAnn,a@b.c,x\n",
			want: []string{`{"row":1,"column":"email","message":"unknown column`, `{"row":1,"column":"field:bad name"`, `{"row":1,"message":"a phone (or wa_id) or user_id column is required"}`},
		},
		{
			name: "import: an opt-in older than the customer's STOP", method: "POST", url: url, header: csvHeader, status: http.StatusUnprocessableEntity,
			before: func(t *testing.T, f *fixture) { f.say(ann, "STOP") },
			body:   "phone,opted_in,opted_in_at\n15551234567,true,2026-01-01\n",
			want:   []string{`{"row":2,"column":"opted_in","message":"the customer opted out on 2026-01-05T12:04:00Z (keyword)`},
		},
		{name: "import: not CSV", method: "POST", url: url, body: `{"phone":"1"}`, status: http.StatusUnsupportedMediaType},
		{
			name: "import: a business number is required", method: "POST", url: "/api/v1/contacts/import", header: csvHeader,
			body: "phone\n15559990001\n", status: http.StatusUnprocessableEntity, want: []string{`"column":"phone_number_id"`},
		},
		{name: "import: empty", method: "POST", url: url, header: csvHeader, body: "phone\n", status: http.StatusUnprocessableEntity, want: []string{"no contacts"}},
	})
}
