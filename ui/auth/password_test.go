package auth_test

import (
	"net/http"
	"testing"
)

// TestChangeOwnPassword: a user changes their own password with the
// current one; this browser stays signed in with a new session, their
// other sessions end, and the old password no longer signs in.
func TestChangeOwnPassword(t *testing.T) {
	const next = "a brand new passphrase"
	tests := []struct {
		name, body string
		csrf       bool
		status     int
	}{
		{"without the CSRF token", `{"current_password":"` + password + `","new_password":"` + next + `"}`, false, http.StatusForbidden},
		{"wrong current password", `{"current_password":"not it at all","new_password":"` + next + `"}`, true, http.StatusForbidden},
		{"too short a new one", `{"current_password":"` + password + `","new_password":"short"}`, true, http.StatusBadRequest},
		{"not JSON", `{`, true, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t).withUsers()
			ana := f.login(analystEmail)
			if r := f.do("POST", "/api/v1/auth/password", tc.body, ana.headers(tc.csrf)); r.status != tc.status {
				t.Fatalf("%d %s, want %d", r.status, r.body, tc.status)
			}
			if r := f.do("GET", "/api/v1/any", "", ana.headers(false)); r.status != http.StatusOK {
				t.Errorf("a refused change ended the session: %d", r.status)
			}
		})
	}

	f := newFixture(t).withUsers()
	ana, other := f.login(analystEmail), f.login(analystEmail)
	r := f.do("POST", "/api/v1/auth/password", `{"current_password":"`+password+`","new_password":"`+next+`"}`, ana.headers(true))
	if r.status != http.StatusOK {
		t.Fatalf("change: %d %s", r.status, r.body)
	}
	renewed := sessionOf(t, r)
	if renewed.cookie == ana.cookie {
		t.Fatal("the session was not renewed")
	}
	for name, tc := range map[string]struct {
		s    session
		want int
	}{
		"the old session":       {ana, http.StatusUnauthorized},
		"another browser":       {other, http.StatusUnauthorized},
		"this browser, renewed": {renewed, http.StatusOK},
	} {
		if r := f.do("GET", "/api/v1/any", "", tc.s.headers(false)); r.status != tc.want {
			t.Errorf("%s: %d, want %d", name, r.status, tc.want)
		}
	}
	if r := f.do("POST", "/api/v1/auth/login", `{"email":"`+analystEmail+`","password":"`+password+`"}`, nil); r.status != http.StatusUnauthorized {
		t.Errorf("the old password still signs in: %d", r.status)
	}
	if r := f.do("POST", "/api/v1/auth/login", `{"email":"`+analystEmail+`","password":"`+next+`"}`, nil); r.status != http.StatusOK {
		t.Errorf("the new password does not sign in: %d %s", r.status, r.body)
	}
}
