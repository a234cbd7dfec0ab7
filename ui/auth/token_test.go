package auth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/ui/auth"
)

// createToken makes a token over the API as ada and returns its secret
// and listing.
func (f *fixture) createToken(ada session, body string) (string, auth.Token) {
	f.t.Helper()
	r := f.do("POST", "/api/v1/auth/tokens", body, ada.headers(true))
	if r.status != http.StatusCreated {
		f.t.Fatalf("create %s: %d %s", body, r.status, r.body)
	}
	var out struct {
		Token  auth.Token `json:"token"`
		Secret string     `json:"secret"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		f.t.Fatal(err)
	}
	return out.Secret, out.Token
}

// listed is the token with id as GET /auth/tokens lists it.
func (f *fixture) listed(ada session, id string) auth.Token {
	f.t.Helper()
	r := f.do("GET", "/api/v1/auth/tokens", "", ada.headers(false))
	var out struct{ Tokens []auth.Token }
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		f.t.Fatalf("list: %d %s: %v", r.status, r.body, err)
	}
	for _, t := range out.Tokens {
		if t.ID == id {
			return t
		}
	}
	f.t.Fatalf("token %s not listed: %s", id, r.body)
	return auth.Token{}
}

// TestTokenExpiry: a token made with expires_in works until then on the
// clock, and answers 401 "expired" after; one without lasts. The list
// shows expiry and last use.
func TestTokenExpiry(t *testing.T) {
	f := newFixture(t).withUsers()
	ada := f.login(adminEmail)
	secret, tok := f.createToken(ada, `{"email":"agent@example.com","name":"crm","expires_in":"90d"}`)
	forever, _ := f.createToken(ada, `{"email":"agent@example.com","name":"etl"}`)
	if tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(t0.Add(90*24*time.Hour)) || tok.Service {
		t.Fatalf("created: %+v, want expires_at %v and not a service token", tok, t0.Add(90*24*time.Hour))
	}
	if got := f.listed(ada, tok.ID); got.LastUsedAt != nil || got.ExpiresAt == nil {
		t.Errorf("listed before use: %+v", got)
	}
	steps := []struct {
		advance time.Duration
		secret  string
		status  int
		want    string
	}{
		{0, secret, 200, agentEmail},
		{90*24*time.Hour - time.Second, secret, 200, agentEmail},
		{time.Second, secret, 401, "API token expired"},
		{0, forever, 200, agentEmail},
		{10 * 365 * 24 * time.Hour, forever, 200, agentEmail},
	}
	for i, st := range steps {
		f.clock.Advance(st.advance)
		r := f.do("GET", "/api/v1/any", "", bearer(st.secret))
		if r.status != st.status || !strings.Contains(r.body, st.want) {
			t.Fatalf("step %d at +%v: %d %s, want %d with %q", i, f.clock.Now().Sub(t0), r.status, r.body, st.status, st.want)
		}
		if st.status == 401 && !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("step %d: WWW-Authenticate %q", i, r.header.Get("WWW-Authenticate"))
		}
	}
	ada = f.login(adminEmail) // the session aged out with the clock
	got := f.listed(ada, tok.ID)
	if want := t0.Add(90*24*time.Hour - time.Second); got.LastUsedAt == nil || !got.LastUsedAt.Equal(want) {
		t.Errorf("last_used_at %v, want %v (its last use, not the refused one)", got.LastUsedAt, want)
	}
}

func TestCreateTokenRefused(t *testing.T) {
	f := newFixture(t).withUsers()
	ada := f.login(adminEmail)
	for body, want := range map[string]string{
		`{"name":"crm","expires_in":"soon"}`:     "say 90d, 2w or 12h",
		`{"name":"crm","expires_in":"0d"}`:       "invalid token lifetime",
		`{"name":"crm","expires_in":"30s"}`:      "from 1 minute to 3650 days",
		`{"name":"crm","expires_in":"3651d"}`:    "from 1 minute to 3650 days",
		`{"name":"crm","expires_in":"-5h"}`:      "from 1 minute to 3650 days",
		`{"name":"crm","expires_in":90}`:         "malformed JSON",
		`{"name":"","expires_in":"90d"}`:         "invalid name",
		`{"email":"zed@example.com","name":"x"}`: "user not found",
	} {
		r := f.do("POST", "/api/v1/auth/tokens", body, ada.headers(true))
		if r.status/100 != 4 || !strings.Contains(r.body, want) {
			t.Errorf("%s: %d %s, want a 4xx with %q", body, r.status, r.body, want)
		}
	}
}

func TestParseLifetime(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"": 0, "90d": 90 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "12h": 12 * time.Hour, " 1m ": time.Minute, "3650d": auth.MaxTokenLifetime,
	} {
		if got, err := auth.ParseLifetime(in); err != nil || got != want {
			t.Errorf("ParseLifetime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"d", "1.5d", "59s", "3651d", "-1d", "ninety days", "99999999999d"} {
		if _, err := auth.ParseLifetime(in); !errors.Is(err, auth.ErrInvalidLifetime) {
			t.Errorf("ParseLifetime(%q): %v, want ErrInvalidLifetime", in, err)
		}
	}
}

// TestPasswordChangeRevokesTokens: setting a user's password, by
// themselves or by an admin, revokes their API tokens but the service
// ones; other users' tokens stay.
func TestPasswordChangeRevokesTokens(t *testing.T) {
	const next = "a brand new passphrase"
	tests := []struct {
		name   string
		change func(f *fixture, ada session)
	}{
		{"changed by the user", func(f *fixture, _ session) {
			ana := f.login(analystEmail)
			if r := f.do("POST", "/api/v1/auth/password", `{"current_password":"`+password+`","new_password":"`+next+`"}`, ana.headers(true)); r.status != 200 {
				f.t.Fatalf("change: %d %s", r.status, r.body)
			}
		}},
		{"set by an admin", func(f *fixture, ada session) {
			if r := f.do("PUT", "/api/v1/users/"+analystEmail, `{"password":"`+next+`"}`, ada.headers(true)); r.status != 200 {
				f.t.Fatalf("set: %d %s", r.status, r.body)
			}
		}},
		{"changed with the user's own token", func(f *fixture, ada session) {
			own, _ := f.createToken(ada, `{"email":"ana@example.com","name":"own"}`)
			if r := f.do("POST", "/api/v1/auth/password", `{"current_password":"`+password+`","new_password":"`+next+`"}`, bearer(own)); r.status != 204 {
				f.t.Fatalf("change: %d %s", r.status, r.body)
			}
			if r := f.do("GET", "/api/v1/any", "", bearer(own)); r.status != 401 {
				f.t.Errorf("the token that changed the password: %d, want 401 (revoked with the others)", r.status)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t).withUsers()
			ada := f.login(adminEmail)
			plain, _ := f.createToken(ada, `{"email":"ana@example.com","name":"crm","expires_in":"90d"}`)
			svc, svcTok := f.createToken(ada, `{"email":"ana@example.com","name":"etl","service":true}`)
			other, _ := f.createToken(ada, `{"email":"agent@example.com","name":"bot"}`)
			if !svcTok.Service {
				t.Fatalf("service token listed as %+v", svcTok)
			}
			tc.change(f, ada)
			for name, c := range map[string]struct {
				secret string
				want   int
			}{
				"ana's token":         {plain, 401},
				"ana's service token": {svc, 200},
				"agent's token":       {other, 200},
			} {
				if r := f.do("GET", "/api/v1/any", "", bearer(c.secret)); r.status != c.want {
					t.Errorf("%s: %d %s, want %d", name, r.status, r.body, c.want)
				}
			}
		})
	}
}
