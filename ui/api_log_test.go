package ui_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/ui/auth"
)

// The conversations log's filters beyond status, flow and contact: the
// node a conversation is at (or stopped at), the business number, the
// customer's number alone, the days it started; and who reads the log.
func TestConversationLogFilters(t *testing.T) {
	annConv, bobPromo, bobEcho, cydConv := convID(ann, 1), convID(bob, 1), convID(bob, 2), convID(cyd, 1)
	const analyst, agent = "ana@parley.test", "sam@parley.test"
	as := func(who string) map[string]string { return map[string]string{asUser: who} }
	users := func(t *testing.T, f *fixture) {
		f.tokenFor(analyst, auth.Analyst)
		f.tokenFor(agent, auth.Agent)
	}
	run(t, []scenario{
		{name: "node", method: "GET", url: "/api/v1/conversations?node=ask", status: http.StatusOK, after: listed(annConv, bobEcho)},
		{name: "node where one stopped", method: "GET", url: "/api/v1/conversations?flow=echo&node=bye", status: http.StatusOK, after: listed(cydConv)},
		{name: "node and status", method: "GET", url: "/api/v1/conversations?node=offer&status=ended", status: http.StatusOK, after: listed(bobPromo)},
		{name: "business number", method: "GET", url: "/api/v1/conversations?number=" + phone, status: http.StatusOK, after: listed(annConv, bobEcho, bobPromo, cydConv)},
		{name: "another business number", method: "GET", url: "/api/v1/conversations?number=100000000000002", status: http.StatusOK, after: listed()},
		{name: "a number that is not one", method: "GET", url: "/api/v1/conversations?number=abc", status: http.StatusBadRequest, want: []string{`number must be`}},
		{name: "the customer's number alone", method: "GET", url: "/api/v1/conversations?contact=" + bob, status: http.StatusOK, after: listed(bobEcho, bobPromo)},
		{name: "the whole contact key still works", method: "GET", url: "/api/v1/conversations?contact=" + url.QueryEscape(string(key(ann))), status: http.StatusOK, after: listed(annConv)},
		{name: "started on the day", method: "GET", url: "/api/v1/conversations?from=2026-01-05&to=2026-01-05", status: http.StatusOK, after: listed(annConv, bobEcho, bobPromo, cydConv)},
		{name: "started after", method: "GET", url: "/api/v1/conversations?from=2026-01-06", status: http.StatusOK, after: listed()},
		{name: "started before", method: "GET", url: "/api/v1/conversations?to=2026-01-04", status: http.StatusOK, after: listed()},
		{name: "a bad date", method: "GET", url: "/api/v1/conversations?from=yesterday", status: http.StatusBadRequest, want: []string{`from must be a date`}},
		{name: "from after to", method: "GET", url: "/api/v1/conversations?from=2026-01-06&to=2026-01-05", status: http.StatusBadRequest, want: []string{`from is after to`}},
		{name: "filtered pages carry on", method: "GET", url: "/api/v1/conversations?node=ask&limit=1", status: http.StatusOK, want: []string{`"next_cursor":"` + cursorAfter(annConv, t0.Add(2*60*60*1e9+4*60*1e9)) + `"`}, after: listed(annConv)},
		{name: "an analyst reads the whole log", method: "GET", url: "/api/v1/conversations", header: as(analyst), before: users, status: http.StatusOK, after: listed(annConv, bobEcho, bobPromo, cydConv)},
		{name: "an analyst reads a transcript", method: "GET", url: "/api/v1/conversations/" + pathID(cydConv), header: as(analyst), before: users, status: http.StatusOK, want: []string{`"text":"text: bye"`}},
		{name: "an agent of no queue reads none", method: "GET", url: "/api/v1/conversations", header: as(agent), before: users, status: http.StatusOK, after: listed()},
		{name: "an agent of no queue opens none", method: "GET", url: "/api/v1/conversations/" + pathID(cydConv), header: as(agent), before: users, status: http.StatusNotFound},
	})
}

// A flow's results: a row per conversation, its variables as columns,
// text a spreadsheet would run as a formula defused.
func TestFlowResultsCSV(t *testing.T) {
	records := func(t *testing.T, body []byte) [][]string {
		t.Helper()
		rs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
		if err != nil {
			t.Fatalf("not CSV: %v\n%s", err, body)
		}
		return rs
	}
	run(t, []scenario{
		{
			name: "every conversation of the flow, vars as columns", method: "GET", url: "/api/v1/flows/echo/results.csv", status: http.StatusOK,
			after: func(t *testing.T, f *fixture, body []byte) {
				rs := records(t, body)
				if want := []string{"conversation", "contact", "version", "status", "node", "started_at", "ended_at", "said"}; !slices.Equal(rs[0], want) {
					t.Errorf("header %q, want %q", rs[0], want)
				}
				if len(rs) != 4 {
					t.Fatalf("%d rows, want the header and 3: %q", len(rs), rs)
				}
				if rs[1][0] != convID(ann, 1) || rs[1][7] != scriptText || rs[1][3] != "waiting" {
					t.Errorf("ann's row %q", rs[1])
				}
				if rs[3][0] != convID(cyd, 1) || rs[3][3] != "ended" || rs[3][6] == "" {
					t.Errorf("cyd's row %q", rs[3])
				}
			},
		},
		{
			name: "one version", method: "GET", url: "/api/v1/flows/echo/results.csv?version=2", status: http.StatusOK,
			after: func(t *testing.T, f *fixture, body []byte) {
				if rs := records(t, body); len(rs) != 2 || rs[1][0] != convID(bob, 2) {
					t.Errorf("rows %q, want bob's echo v2 alone", rs)
				}
			},
		},
		{
			name: "a formula typed by a customer is written as text", method: "GET", url: "/api/v1/flows/echo/results.csv",
			before: func(t *testing.T, f *fixture) { f.say(ann, "=HYPERLINK(\"http://evil\")") },
			status: http.StatusOK,
			after: func(t *testing.T, f *fixture, body []byte) {
				if rs := records(t, body); rs[1][7] != `'=HYPERLINK("http://evil")` {
					t.Errorf("the cell is %q", rs[1][7])
				}
			},
		},
		{name: "a download, not cached", method: "GET", url: "/api/v1/flows/promo/results.csv", status: http.StatusOK, want: []string{"conversation,contact,version,status,node,started_at,ended_at\n" + convID(bob, 1) + ","}},
		{name: "unknown flow", method: "GET", url: "/api/v1/flows/nope/results.csv", status: http.StatusNotFound},
	})
}
