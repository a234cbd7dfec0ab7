package ui_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/secrets"
)

// secretValue is what the tests store: no answer and no log line may hold it.
const secretValue = "tok_Zx81-never-shown-7QpL"

// withSecret is an empty world holding shop_token = secretValue, stored by
// the fixture's admin at t0.
func withSecret(t *testing.T) *fixture {
	f := newFixture(t)
	if status, body := f.do("PUT", "/api/v1/secrets/shop_token", `{"value":"`+secretValue+`"}`, nil); status != http.StatusCreated {
		t.Fatalf("storing: %d %s", status, body)
	}
	return f
}

// resolves checks the stored value of name, as the http step will read it.
func resolves(name, want string) func(t *testing.T, f *fixture, body []byte) {
	return func(t *testing.T, f *fixture, _ []byte) {
		t.Helper()
		got, err := f.secrets.Resolve(f.ctx, name)
		if err != nil || got != want {
			t.Errorf("Resolve(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestSecretsAPI(t *testing.T) {
	never := []string{secretValue, "sealed"}
	runOn(t, withSecret, []scenario{
		{name: "list", method: "GET", url: "/api/v1/secrets", status: http.StatusOK,
			want: []string{`"name":"shop_token"`, `"fingerprint":"`, `"created_by":"admin@parley.test"`, `"updated_at":"2026-`}, notWant: never,
			after: func(t *testing.T, f *fixture, body []byte) {
				got := decode[struct{ Secrets []secrets.Info }](t, body).Secrets
				if len(got) != 1 || len(got[0].Fingerprint) != 8 {
					t.Errorf("listed %+v", got)
				}
			}},
		{name: "create", method: "PUT", url: "/api/v1/secrets/crm_key", body: `{"value":"` + secretValue + `"}`, status: http.StatusCreated,
			want: []string{`"name":"crm_key"`}, notWant: never, after: resolves("crm_key", secretValue)},
		{name: "replace keeps who created it", method: "PUT", url: "/api/v1/secrets/shop_token", body: `{"value":"` + secretValue + `-2"}`,
			header: map[string]string{asUser: "other@parley.test"}, status: http.StatusOK,
			before: func(t *testing.T, f *fixture) { f.clock.Set(f.clock.Now().Add(time.Hour)) },
			want:   []string{`"created_by":"admin@parley.test"`, `"updated_by":"other@parley.test"`}, notWant: never,
			after: resolves("shop_token", secretValue+"-2")},
		{name: "bad name", method: "PUT", url: "/api/v1/secrets/Shop-Token", body: `{"value":"` + secretValue + `"}`, status: http.StatusBadRequest,
			want: []string{"starts with a lowercase letter"}, notWant: never},
		{name: "name too long", method: "PUT", url: "/api/v1/secrets/" + strings.Repeat("a", 65), body: `{"value":"v"}`, status: http.StatusBadRequest,
			want: []string{"1 to 64 characters"}},
		{name: "empty value", method: "PUT", url: "/api/v1/secrets/x", body: `{"value":""}`, status: http.StatusBadRequest,
			want: []string{"1 to 8192 bytes"}},
		{name: "value too long", method: "PUT", url: "/api/v1/secrets/x", body: `{"value":"` + strings.Repeat("v", secrets.MaxValueLen+1) + `"}`, status: http.StatusBadRequest,
			want: []string{"1 to 8192 bytes"}},
		{name: "no value", method: "PUT", url: "/api/v1/secrets/x", body: `{"val":"x"}`, status: http.StatusBadRequest,
			want: []string{`{\"value\": \"\u003cthe secret\u003e\"}`}},
		// The decoder's complaint would quote the body: it is not passed on.
		{name: "broken JSON", method: "PUT", url: "/api/v1/secrets/x", body: `{"value":"` + secretValue + `\q"}`, status: http.StatusBadRequest,
			notWant: append(never, "invalid character")},
		{name: "delete", method: "DELETE", url: "/api/v1/secrets/shop_token", status: http.StatusNoContent,
			after: func(t *testing.T, f *fixture, _ []byte) {
				if status, body := f.do("GET", "/api/v1/secrets", "", nil); strings.Contains(string(body), "shop_token") {
					t.Errorf("listed after delete: %d %s", status, body)
				}
			}},
		{name: "delete unknown", method: "DELETE", url: "/api/v1/secrets/nope", status: http.StatusNotFound, want: []string{"no secret nope"}},
	})
}

// TestSecretsNeverShown stores, replaces, lists and deletes a secret, bad
// requests included, and finds its value in no answer and no log line, at
// any level.
func TestSecretsNeverShown(t *testing.T) {
	f := withSecret(t)
	var bodies []string
	for _, r := range []struct{ method, url, body string }{
		{"GET", "/api/v1/secrets", ""},
		{"PUT", "/api/v1/secrets/shop_token", `{"value":"` + secretValue + `"}`},
		{"PUT", "/api/v1/secrets/Bad", `{"value":"` + secretValue + `"}`},
		{"PUT", "/api/v1/secrets/x", `{"value":"` + secretValue + `\q"}`},
		{"PUT", "/api/v1/secrets/x", `{"value":["` + secretValue + `"]}`},
		{"GET", "/api/v1/secrets", ""},
		{"DELETE", "/api/v1/secrets/shop_token", ""},
	} {
		_, b := f.do(r.method, r.url, r.body, nil)
		bodies = append(bodies, string(b))
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "secret stored") || !strings.Contains(logs, "secret deleted") {
		t.Fatalf("the capture holds no secret's log lines:\n%s", logs)
	}
	for _, s := range append(bodies, logs) {
		if strings.Contains(s, secretValue) || strings.Contains(s, secretValue[:10]) {
			t.Errorf("the value shows: %s", s)
		}
	}
}
