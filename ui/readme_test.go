package ui_test

import (
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestReadmeDocumentsEveryRoute: every route the app registers is in one
// of README.md's route tables, written as `METHOD /path` (under /api/v1
// the path without that prefix; parameters as registered; a query string
// may follow), and every route the tables name is registered: the README
// and the server cannot drift apart.
func TestReadmeDocumentsEveryRoute(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// A table row's first cell: `GET /flows/:id`, `POST /flows/:id/publish?version=N`,
	// or several: `GET /numbers`, `GET /numbers/:id`.
	cell := regexp.MustCompile("(?m)^\\| (`[A-Z]+ /[^|]*)\\|")
	route := regexp.MustCompile("`(GET|POST|PUT|DELETE|PATCH) (/[^`?\\s]*)[^`]*`")
	registered := map[string]bool{}
	f := newFixture(t)
	for _, r := range f.srv.App().GetRoutes(true) {
		if r.Method != http.MethodHead {
			registered[r.Method+" "+r.Path] = true
		}
	}
	documented := map[string]bool{}
	for _, m := range cell.FindAllStringSubmatch(string(readme), -1) {
		for _, r := range route.FindAllStringSubmatch(m[1], -1) {
			k := r[1] + " " + r[2] // a route outside the API: /webhook/whatsapp, /healthz…
			if !registered[k] || strings.HasPrefix(r[2], "/api/") {
				k = r[1] + " /api/v1" + r[2]
			}
			documented[k] = true
		}
	}
	var missing, stale []string
	for k := range registered {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !registered[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	for _, k := range missing {
		t.Errorf("%s is not in README.md's REST API tables", k)
	}
	for _, k := range stale {
		t.Errorf("README.md documents %s, which is not registered", k)
	}
}
