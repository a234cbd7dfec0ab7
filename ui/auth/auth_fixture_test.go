package auth_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/ui/auth"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// clock is a manual clock (engine.ManualClock's twin, without the import).
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Users every fixture has. Passwords are long enough and distinct.
const (
	adminEmail   = "admin@example.com"
	analystEmail = "ana@example.com"
	agentEmail   = "agent@example.com"
	password     = "correct horse battery"
)

type fixture struct {
	t     *testing.T
	svc   *auth.Service
	clock *clock
	app   *fiber.App
	db    auth.Records
}

// newFixture is a Service on a fresh bbolt file, on a manual clock, and a
// fiber app with its routes; opts change its Options.
func newFixture(t *testing.T, opts ...func(*auth.Options)) *fixture {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{t: t, clock: &clock{now: t0}, db: db}
	o := auth.Options{Clock: f.clock, Cost: bcrypt.MinCost, Logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	f.svc, err = auth.New(db, o)
	if err != nil {
		t.Fatal(err)
	}
	f.app = fiber.New(fiber.Config{DisableStartupMessage: true, ErrorHandler: func(c *fiber.Ctx, err error) error {
		code := fiber.StatusInternalServerError
		var fe *fiber.Error
		if errors.As(err, &fe) {
			code = fe.Code
		}
		return c.Status(code).JSON(fiber.Map{"error": err.Error()})
	}})
	api := f.app.Group("/api/v1")
	f.svc.PublicRoutes(api)
	api.Use(f.svc.Middleware())
	f.svc.Routes(api)
	// Two routes standing in for the product's: one for analysts, one for
	// anyone signed in; both echo the acting user.
	who := func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"email": auth.Current(c).Email}) }
	api.Get("/thing", auth.Require(auth.Admin, auth.Analyst), who)
	api.Post("/thing", auth.Require(auth.Admin, auth.Analyst), who)
	api.Get("/any", who)
	return f
}

// withUsers adds an admin, an analyst and an agent.
func (f *fixture) withUsers() *fixture {
	f.t.Helper()
	for _, u := range []auth.NewUser{
		{Email: adminEmail, Name: "Ada", Roles: []auth.Role{auth.Admin}, Password: password},
		{Email: analystEmail, Name: "Ana", Roles: []auth.Role{auth.Analyst}, Password: password},
		{Email: agentEmail, Name: "Agu", Roles: []auth.Role{auth.Agent}, Password: password},
	} {
		if _, err := f.svc.CreateUser(f.t.Context(), u); err != nil {
			f.t.Fatal(err)
		}
	}
	return f
}

// response is what a request got back.
type response struct {
	status int
	body   string
	header http.Header
}

// session is a signed-in browser: its cookie and CSRF token.
type session struct{ cookie, csrf string }

func (f *fixture) do(method, url, body string, header map[string]string) response {
	f.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, url, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := f.app.Test(req, -1)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, string(b), resp.Header}
}

// as adds a session's cookie (and, when csrf, its CSRF token) to header.
func (s session) headers(csrf bool) map[string]string {
	h := map[string]string{"Cookie": auth.CookieName + "=" + s.cookie}
	if csrf {
		h[auth.CSRFHeader] = s.csrf
	}
	return h
}

// login signs email in over HTTP and returns the session, or fails.
func (f *fixture) login(email string) session {
	f.t.Helper()
	r := f.do("POST", "/api/v1/auth/login", `{"email":"`+email+`","password":"`+password+`"}`, nil)
	if r.status != http.StatusOK {
		f.t.Fatalf("login %s: %d %s", email, r.status, r.body)
	}
	return sessionOf(f.t, r)
}

func sessionOf(t *testing.T, r response) session {
	t.Helper()
	var s session
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == auth.CookieName {
			s.cookie = c.Value
		}
	}
	var body struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.Unmarshal([]byte(r.body), &body)
	s.csrf = body.CSRF
	if s.cookie == "" || s.csrf == "" {
		t.Fatalf("no session in %d %s %v", r.status, r.body, r.header)
	}
	return s
}

// token makes an API token for email through the service.
func (f *fixture) token(email string) string {
	f.t.Helper()
	secret, _, err := f.svc.CreateToken(f.t.Context(), auth.NewToken{Email: email, Name: "test"})
	if err != nil {
		f.t.Fatal(err)
	}
	return secret
}

func bearer(secret string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + secret}
}
