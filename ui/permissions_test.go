package ui_test

import (
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/parleyhq/parley/ui/auth"
)

// Who asks, in the permission matrix: a user with each role alone, one
// with two roles, and nobody (no credentials).
const (
	asAdmin        = "admin"
	asAnalyst      = "analyst"
	asAgent        = "agent"
	asAnalystAgent = "analyst+agent"
	asNone         = "none"
)

var everyWho = []string{asAdmin, asAnalyst, asAgent, asAnalystAgent, asNone}

// whoRoles are the roles of each who (none: no user at all).
var whoRoles = map[string][]auth.Role{
	asAdmin:        {auth.Admin},
	asAnalyst:      {auth.Analyst},
	asAgent:        {auth.Agent},
	asAnalystAgent: {auth.Analyst, auth.Agent},
}

// Who may call a route, by the roles of docs/design.md's "Security".
var (
	public    = everyWho                                              // sign-in itself
	adminOnly = []string{asAdmin}                                     // users, API tokens
	editors   = []string{asAdmin, asAnalyst, asAnalystAgent}          // flows, test chat, analytics, creating templates
	desk      = []string{asAdmin, asAgent, asAnalystAgent}            // conversations, contacts, consent
	staff     = []string{asAdmin, asAnalyst, asAgent, asAnalystAgent} // reading templates
)

// permission is one route of the matrix: its method and path as
// registered (under /api/v1), a URL to call it with, and who may.
type permission struct {
	method, path string
	url, body    string // url defaults to path; body to "{}" for writes
	allow        []string
}

// permissions is the matrix: EVERY /api/v1 route, each with who may call
// it. TestPermissionMatrixCoversEveryRoute fails for a route that is
// registered but missing here (add it, with its roles) or listed here but
// no longer registered.
var permissions = []permission{
	// Sign-in: public.
	{method: "POST", path: "/auth/login", body: `{"email":"admin@parley.test","password":"fixture password"}`, allow: public},
	{method: "GET", path: "/auth/me", allow: public},
	{method: "POST", path: "/auth/logout", allow: public},
	{method: "GET", path: "/auth/setup", allow: public},
	{method: "POST", path: "/auth/setup", body: `{"email":"x@example.com","name":"X","password":"long enough pw"}`, allow: public},

	// One's own password: anyone signed in (the body's current password is
	// wrong here, so each caller gets 403 from the handler, not the role).
	{method: "POST", path: "/auth/password", body: `{"current_password":"nope","new_password":"long enough pw"}`, allow: staff},

	// Users and API tokens: admin.
	{method: "GET", path: "/users", allow: adminOnly},
	{method: "POST", path: "/users", body: `{"email":"new@example.com","name":"New","roles":["agent"],"password":"long enough pw"}`, allow: adminOnly},
	{method: "GET", path: "/users/:email", url: "/users/admin@parley.test", allow: adminOnly},
	{method: "PUT", path: "/users/:email", url: "/users/admin@parley.test", body: `{"name":"Admin"}`, allow: adminOnly},
	{method: "DELETE", path: "/users/:email", url: "/users/nobody@example.com", allow: adminOnly},
	{method: "GET", path: "/auth/tokens", allow: adminOnly},
	{method: "POST", path: "/auth/tokens", body: `{"name":"crm"}`, allow: adminOnly},
	{method: "DELETE", path: "/auth/tokens/:id", url: "/auth/tokens/0000000000000000", allow: adminOnly},
	{method: "GET", path: "/admin/backup", allow: adminOnly},
	{method: "GET", path: "/webhooks/rejected", allow: adminOnly},
	{method: "GET", path: "/secrets", allow: adminOnly},
	{method: "PUT", path: "/secrets/:name", url: "/secrets/shop_token", body: `{"value":"s3cret"}`, allow: adminOnly},
	{method: "DELETE", path: "/secrets/:name", url: "/secrets/nope", allow: adminOnly},
	{method: "GET", path: "/event-subscriptions", allow: adminOnly},
	{method: "POST", path: "/event-subscriptions", body: `{"url":"http://127.0.0.1:9/hook"}`, allow: adminOnly},
	{method: "GET", path: "/event-subscriptions/:id", url: "/event-subscriptions/nope", allow: adminOnly},
	{method: "PUT", path: "/event-subscriptions/:id", url: "/event-subscriptions/nope", allow: adminOnly},
	{method: "DELETE", path: "/event-subscriptions/:id", url: "/event-subscriptions/nope", allow: adminOnly},
	{method: "GET", path: "/event-subscriptions/:id/deliveries", url: "/event-subscriptions/nope/deliveries", allow: adminOnly},
	{method: "POST", path: "/event-subscriptions/:id/deliveries/:seq/replay", url: "/event-subscriptions/nope/deliveries/1/replay", allow: adminOnly},
	{method: "POST", path: "/event-subscriptions/:id/replay-failed", url: "/event-subscriptions/nope/replay-failed", allow: adminOnly},
	{method: "POST", path: "/event-subscriptions/:id/test", url: "/event-subscriptions/nope/test", allow: adminOnly},

	// Flows: admin, analyst.
	{method: "GET", path: "/flows", allow: editors},
	{method: "POST", path: "/flows/validate", body: echoFlow, allow: editors},
	{method: "POST", path: "/flows/try-http", body: `{"node": {"id": "t", "type": "http", "method": "GET", "url": "http://127.0.0.1:1/"}}`, allow: editors},
	{method: "GET", path: "/flows/:id", url: "/flows/echo", allow: editors},
	{method: "PUT", path: "/flows/:id", url: "/flows/echo", body: echoFlow, allow: editors},
	{method: "POST", path: "/flows/:id/publish", url: "/flows/echo/publish", allow: editors},
	{method: "GET", path: "/flows/:id/publish-preview", url: "/flows/echo/publish-preview", allow: editors},
	{method: "GET", path: "/flows/:id/versions", url: "/flows/echo/versions", allow: editors},
	{method: "GET", path: "/flows/:id/versions/:n", url: "/flows/echo/versions/1", allow: editors},
	{method: "POST", path: "/flows/:id/archive", url: "/flows/echo/archive", allow: editors},
	{method: "POST", path: "/flows/:id/unarchive", url: "/flows/echo/unarchive", allow: editors},
	{method: "GET", path: "/flows/:id/analytics", url: "/flows/echo/analytics", allow: editors},

	// Test chat: admin, analyst.
	{method: "POST", path: "/flows/:id/test", url: "/flows/echo/test", allow: editors},
	{method: "GET", path: "/test/:sid", url: "/test/nope", allow: editors},
	{method: "DELETE", path: "/test/:sid", url: "/test/nope", allow: editors},
	{method: "POST", path: "/test/:sid/reply", url: "/test/nope/reply", allow: editors},
	{method: "POST", path: "/test/:sid/advance", url: "/test/nope/advance", allow: editors},
	{method: "POST", path: "/test/:sid/call", url: "/test/nope/call", allow: editors},

	// Templates: everyone signed in reads; admin, analyst create.
	{method: "GET", path: "/templates", allow: staff},
	{method: "POST", path: "/templates", allow: editors},
	{method: "GET", path: "/templates/:name/:language", url: "/templates/order_update/en_US", allow: staff},

	// Conversations, contacts, consent: admin, agent.
	{method: "GET", path: "/conversations", allow: desk},
	{method: "GET", path: "/conversations/:id", url: "/conversations/" + pathID(convID(ann, 1)), allow: desk},
	{method: "GET", path: "/contacts/:key", url: "/contacts/" + string(key(ann)), allow: desk},
	{method: "GET", path: "/contacts/:key/consent", url: "/contacts/" + string(key(ann)) + "/consent", allow: desk},
	{method: "POST", path: "/contacts/:key/consent", url: "/contacts/" + string(key(ann)) + "/consent", body: `{"kind":"opt_in","source":"api"}`, allow: desk},
	// The contact list is an admin's; an agent may look a customer up by
	// phone number (among the contacts of their conversations).
	{method: "GET", path: "/contacts", url: "/contacts?phone=" + ann, allow: desk},
	// Writing contacts and importing them records consent: admin only.
	{method: "POST", path: "/contacts", body: `{"wa_id":"15559990000","name":"New"}`, allow: adminOnly},
	{method: "PUT", path: "/contacts/:key", url: "/contacts/" + string(key(ann)), body: `{"name":"Ann"}`, allow: adminOnly},
	{method: "POST", path: "/contacts/import", allow: adminOnly},
	// Numbers (limit, usage, quality): admin, analyst.
	{method: "GET", path: "/numbers", allow: editors},
	{method: "GET", path: "/numbers/:id", url: "/numbers/" + phone, allow: editors},
	// Whether sending is paused: everyone signed in; resuming: admin.
	{method: "GET", path: "/sending", allow: staff},
	{method: "POST", path: "/sending/resume", allow: adminOnly},
	// The agents' inbox (api_inbox.go): agents and admins work it; only
	// admins set up queues, other agents and canned responses.
	{method: "GET", path: "/inbox/me", allow: desk},
	{method: "PUT", path: "/inbox/me/status", body: `{"status":"away"}`, allow: desk},
	{method: "GET", path: "/inbox/events", allow: desk},
	{method: "GET", path: "/inbox/queues", allow: desk},
	// The queues a handoff may name, for the flow editor: admin, analyst.
	{method: "GET", path: "/inbox/handoff-queues", allow: editors},
	{method: "PUT", path: "/inbox/queues/:id", url: "/inbox/queues/support", body: `{"name":"Support"}`, allow: adminOnly},
	{method: "DELETE", path: "/inbox/queues/:id", url: "/inbox/queues/nope", allow: adminOnly},
	{method: "GET", path: "/inbox/agents", allow: desk},
	{method: "PUT", path: "/inbox/agents/:email", url: "/inbox/agents/agent@example.com", body: `{"queues":["support"]}`, allow: adminOnly},
	{method: "DELETE", path: "/inbox/agents/:email", url: "/inbox/agents/nobody@example.com", allow: adminOnly},
	{method: "PUT", path: "/inbox/agents/:email/status", url: "/inbox/agents/agent@example.com/status", body: `{"status":"online"}`, allow: adminOnly},
	{method: "GET", path: "/inbox/conversations", allow: desk},
	{method: "GET", path: "/inbox/conversations/:id", url: "/inbox/conversations/nope", allow: desk},
	{method: "POST", path: "/inbox/conversations/:id/claim", url: "/inbox/conversations/nope/claim", allow: desk},
	{method: "POST", path: "/inbox/conversations/:id/transfer", url: "/inbox/conversations/nope/transfer", allow: desk},
	{method: "POST", path: "/inbox/conversations/:id/reply", url: "/inbox/conversations/nope/reply", allow: desk},
	{method: "POST", path: "/inbox/conversations/:id/template", url: "/inbox/conversations/nope/template", allow: desk},
	{method: "POST", path: "/inbox/conversations/:id/notes", url: "/inbox/conversations/nope/notes", allow: desk},
	{method: "PUT", path: "/inbox/conversations/:id/tags", url: "/inbox/conversations/nope/tags", allow: desk},
	{method: "POST", path: "/inbox/conversations/:id/resolve", url: "/inbox/conversations/nope/resolve", allow: desk},
	{method: "POST", path: "/inbox/conversations/:id/read", url: "/inbox/conversations/nope/read", allow: desk},
	{method: "POST", path: "/inbox/conversations/:id/typing", url: "/inbox/conversations/nope/typing", allow: desk},
	{method: "GET", path: "/inbox/conversations/:id/media/:seq", url: "/inbox/conversations/nope/media/1", allow: desk},
	{method: "GET", path: "/inbox/canned", allow: desk},
	{method: "POST", path: "/inbox/canned", body: `{"title":"hi","text":"Hello!"}`, allow: adminOnly},
	{method: "PUT", path: "/inbox/canned/:id", url: "/inbox/canned/c1", body: `{"title":"hi","text":"Hello!"}`, allow: adminOnly},
	{method: "DELETE", path: "/inbox/canned/:id", url: "/inbox/canned/nope", allow: adminOnly},
	{method: "GET", path: "/inbox/templates", allow: desk},

	// Schedules (api_schedules.go): admin, analyst.
	{method: "GET", path: "/schedules", allow: editors},
	{method: "POST", path: "/schedules", allow: editors},
	{method: "POST", path: "/schedules/preview", body: `{"cron":"@daily"}`, allow: editors},
	{method: "POST", path: "/schedules/audience", body: `{"audience":"opted_in"}`, allow: editors},
	{method: "GET", path: "/schedules/:id", url: "/schedules/s0", allow: editors},
	{method: "PUT", path: "/schedules/:id", url: "/schedules/s0", allow: editors},
	{method: "DELETE", path: "/schedules/:id", url: "/schedules/s0", allow: editors},
	{method: "POST", path: "/schedules/:id/pause", url: "/schedules/s0/pause", allow: editors},
	{method: "POST", path: "/schedules/:id/resume", url: "/schedules/s0/resume", allow: editors},
	{method: "POST", path: "/schedules/:id/run", url: "/schedules/s0/run", allow: editors},
	{method: "GET", path: "/schedules/:id/firings", url: "/schedules/s0/firings", allow: editors},
	{method: "GET", path: "/schedules/:id/firings/:firing", url: "/schedules/s0/firings/f0", allow: editors},
	{method: "GET", path: "/schedules/:id/firings/:firing/sends", url: "/schedules/s0/firings/f0/sends", allow: editors},
}

// denied tells a refusal by the auth layer (401 from the middleware, 403
// from auth.Require) from whatever the handler answered.
func denied(status int, body []byte) bool {
	return status == http.StatusUnauthorized && strings.Contains(string(body), "sign in first") ||
		status == http.StatusForbidden && strings.Contains(string(body), "needs the role")
}

// TestPermissionMatrix calls every route as every kind of user, over the
// real app with API tokens: each is let through or refused exactly as the
// matrix says.
func TestPermissionMatrix(t *testing.T) {
	for _, p := range permissions {
		t.Run(p.method+" "+p.path, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			url, body := "/api/v1"+p.path, p.body
			if p.url != "" {
				url = "/api/v1" + p.url
			}
			if body == "" && p.method != "GET" && p.method != "DELETE" {
				body = "{}"
			}
			for _, who := range everyWho {
				header := map[string]string{}
				if who != asNone {
					header["Authorization"] = "Bearer " + f.tokenFor(who+"@example.com", whoRoles[who]...)
				} else {
					header["Cookie"] = "none=1" // keeps the fixture's default admin token off
				}
				status, got := f.do(p.method, url, body, header)
				want := slices.Contains(p.allow, who)
				if denied(status, got) == want {
					verb := map[bool]string{true: "allowed", false: "refused"}
					t.Errorf("%s: %d %s; want %s", who, status, got, verb[want])
				}
			}
		})
	}
}

// TestPermissionMatrixCoversEveryRoute walks the app's routes: a /api/v1
// route missing from the matrix fails here, so that nobody adds a route
// without deciding who may call it.
func TestPermissionMatrixCoversEveryRoute(t *testing.T) {
	f := newFixture(t)
	listed := map[string]bool{}
	for _, p := range permissions {
		k := p.method + " /api/v1" + p.path
		if listed[k] {
			t.Errorf("%s is listed twice", k)
		}
		listed[k] = true
	}
	registered := map[string]bool{}
	for _, r := range f.srv.App().GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1") || r.Method == http.MethodHead {
			continue
		}
		registered[r.Method+" "+r.Path] = true
	}
	var missing, stale []string
	for k := range registered {
		if !listed[k] {
			missing = append(missing, k)
		}
	}
	for k := range listed {
		if !registered[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	for _, k := range missing {
		t.Errorf("%s is not in the permission matrix (permissions_test.go): add it with the roles that may call it, and auth.Require them at its registration", k)
	}
	for _, k := range stale {
		t.Errorf("%s is in the permission matrix but not registered", k)
	}
}

// TestEveryWriteNeedsCSRF walks the app's routes: every mutating /api/v1
// route outside sign-in refuses a signed-in admin's cookie that comes
// without the X-CSRF-Token header.
func TestEveryWriteNeedsCSRF(t *testing.T) {
	f := newFixture(t)
	_, sess, err := f.auth.Login(f.ctx, fixtureAdmin, "fixture password", netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:[a-z]+`)
	for _, r := range f.srv.App().GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1") || strings.HasPrefix(r.Path, "/api/v1/auth/") && !strings.HasPrefix(r.Path, "/api/v1/auth/tokens") {
			continue
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			continue
		}
		url := param.ReplaceAllString(r.Path, "x")
		cookie := map[string]string{"Cookie": auth.CookieName + "=" + sess.ID}
		status, body := f.do(r.Method, url, "{}", cookie)
		if status != http.StatusForbidden || !strings.Contains(string(body), auth.CSRFHeader) {
			t.Errorf("%s %s with a cookie and no CSRF token: %d %s, want 403", r.Method, r.Path, status, body)
		}
		cookie[auth.CSRFHeader] = sess.CSRF
		if status, body := f.do(r.Method, url, "{}", cookie); denied(status, body) || status == http.StatusForbidden {
			t.Errorf("%s %s with a cookie and its CSRF token: %d %s, want it let through", r.Method, r.Path, status, body)
		}
	}
}

// TestNoBypassByPathSpelling: other spellings of a guarded path reach
// either the same guard or nothing.
func TestNoBypassByPathSpelling(t *testing.T) {
	f := newFixture(t)
	for _, url := range []string{
		"/API/V1/flows", "/api/v1/flows/", "/api/v1//flows", "/api//v1/flows", "/api/v1/%66lows",
		"/api/v1/auth/../flows", "/api/v1/auth/login/../../flows", "/api/v1/users/", "/api/v1/auth/tokens/",
	} {
		status, body := f.do("GET", url, "", map[string]string{"Cookie": "none=1"})
		if status < 400 {
			t.Errorf("GET %s without credentials: %d %.200s", url, status, body)
		}
	}
}
