package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/boltstore"
)

// parley runs the CLI in-process with stdin and returns the exit code,
// stdout and stderr.
func parley(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestUserCommands drives `parley user` and `parley token` end to end on
// a temp data dir, then signs in over HTTP to a serve on that dir.
func TestUserCommands(t *testing.T) {
	h := newE2E(t, e2eOptions{})
	data := h.data
	steps := []struct {
		name  string
		stdin string
		args  []string
		code  int
		out   string // in stdout, or stderr when code != 0
	}{
		{"add the first admin", "first long password\n",
			[]string{"user", "add", "--data", data, "--email", "Ana@Example.com", "--name", "Ana", "--role", "admin,agent"},
			0, "user ana@example.com added with roles admin,agent"},
		{"add: --password-stdin", "second long password",
			[]string{"user", "add", "--data", data, "--email", "bo@example.com", "--name", "Bo", "--role", "analyst", "--password-stdin"},
			0, "user bo@example.com added with roles analyst"},
		{"add: taken", "first long password\n",
			[]string{"user", "add", "--data", data, "--email", "ana@example.com", "--role", "agent"}, 1, "exists"},
		{"add: short password", "short\n",
			[]string{"user", "add", "--data", data, "--email", "cy@example.com", "--role", "agent"}, 1, "at least 10"},
		{"add: no password", "",
			[]string{"user", "add", "--data", data, "--email", "cy@example.com", "--role", "agent"}, 1, "no password on stdin"},
		{"add: unknown role", "long enough pw\n",
			[]string{"user", "add", "--data", data, "--email", "cy@example.com", "--role", "root"}, 1, `"root" is not one of admin, analyst, agent`},
		{"add: the password is never an argument", "",
			[]string{"user", "add", "--data", data, "--email", "cy@example.com", "--role", "agent", "hunter2hunter2"}, 2, "never an argument"},
		{"add: no such flag as --password", "",
			[]string{"user", "add", "--data", data, "--email", "cy@example.com", "--role", "agent", "--password", "hunter2hunter2"}, 2, "flag provided but not defined: -password"},
		{"list", "", []string{"user", "list", "--data", data}, 0, "ana@example.com  Ana   admin,agent  active"},
		{"list --json", "", []string{"user", "list", "--data", data, "--json"}, 0, `"email": "bo@example.com"`},
		{"list: no data", "", []string{"user", "list", "--data", filepath.Join(data, "nope")}, 1, "no Parley data at"},
		{"passwd", "a new long password\n", []string{"user", "passwd", "--data", data, "--email", "bo@example.com"}, 0, "password of bo@example.com changed"},
		{"passwd: unknown user", "a new long password\n", []string{"user", "passwd", "--data", data, "--email", "zed@example.com"}, 1, "user not found"},
		{"token add", "", []string{"token", "add", "--data", data, "--email", "ana@example.com", "--name", "crm"}, 0, "prl_"},
		{"token add: unknown user", "", []string{"token", "add", "--data", data, "--email", "zed@example.com", "--name", "crm"}, 1, "user not found"},
		{"token add --expires --service", "", []string{"token", "add", "--data", data, "--email", "ana@example.com", "--name", "etl", "--expires", "90d", "--service"}, 0, "prl_"},
		{"token add: a bad --expires", "", []string{"token", "add", "--data", data, "--email", "ana@example.com", "--name", "x", "--expires", "soon"}, 2, "--expires: invalid token lifetime"},
		{"token list", "", []string{"token", "list", "--data", data}, 0, "crm   ana@example.com"},
		{"token list: expiry and service", "", []string{"token", "list", "--data", data}, 0, "  yes\n"},
	}
	var secret string
	for _, st := range steps {
		code, out, errOut := parley(t, st.stdin, st.args...)
		got := out
		if st.code != 0 {
			got = errOut
		}
		if code != st.code || !strings.Contains(got, st.out) {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit %d with %q", st.name, code, out, errOut, st.code, st.out)
		}
		if st.name == "token add" {
			secret = strings.TrimSpace(out)
		}
		if strings.Contains(out+errOut, "long password") {
			t.Errorf("%s: a password was printed: %q %q", st.name, out, errOut)
		}
	}

	h.start()
	login := func(email, pw string) int {
		resp, err := http.Post(h.url("/api/v1/auth/login"), "application/json", strings.NewReader(`{"email":"`+email+`","password":"`+pw+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := login("ana@example.com", "first long password"); code != http.StatusOK {
		t.Errorf("ana signs in: %d", code)
	}
	if code := login("bo@example.com", "second long password"); code != http.StatusUnauthorized {
		t.Errorf("bo with the old password: %d, want 401", code)
	}
	if code := login("bo@example.com", "a new long password"); code != http.StatusOK {
		t.Errorf("bo with the new password: %d", code)
	}
	req, _ := http.NewRequest("GET", h.url("/api/v1/flows"), nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /flows with the CLI's token (ana is admin): %d", resp.StatusCode)
	}

	// While serve holds the file, the commands say so instead of hanging.
	code, _, errOut := parley(t, "", "user", "list", "--data", data)
	if code != 1 || !strings.Contains(errOut, "in use, most likely by a running `parley serve`") {
		t.Errorf("user list while serving: exit %d, %q", code, errOut)
	}
}

// TestServeFirstAdmin: a fresh data dir says how to make the first admin;
// PARLEY_ADMIN_EMAIL and PARLEY_ADMIN_PASSWORD make it, once.
func TestServeFirstAdmin(t *testing.T) {
	open := func(t *testing.T) *boltstore.Store {
		st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	logTo := func(b *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

	t.Run("fresh sandbox: the URL to open", func(t *testing.T) {
		var b bytes.Buffer
		if _, err := startAuth(context.Background(), serveConfig{addr: "0.0.0.0:8080", sandbox: true}, open(t), logTo(&b)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "level=INFO") || !strings.Contains(b.String(), "open http://localhost:8080/ in a browser on this machine to create the admin account") {
			t.Errorf("log: %s", b.String())
		}
	})
	t.Run("a bad -trusted-proxies stops the start", func(t *testing.T) {
		var b bytes.Buffer
		_, err := startAuth(context.Background(), serveConfig{addr: "127.0.0.1:8080", trustedProxies: "10.0.0.0/8, proxy.example"}, open(t), logTo(&b))
		if err == nil || !strings.Contains(err.Error(), `-trusted-proxies: trusted proxy "proxy.example" is neither an address nor a CIDR prefix`) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("seeded from the environment", func(t *testing.T) {
		t.Setenv(envAdminEmail, "Root@Example.com")
		t.Setenv(envAdminPassword, "root long password")
		var c serveConfig
		if err := adminSeedFromEnv(&c); err != nil {
			t.Fatal(err)
		}
		st := open(t)
		var b bytes.Buffer
		svc, err := startAuth(context.Background(), c, st, logTo(&b))
		if err != nil {
			t.Fatal(err)
		}
		if u, err := svc.User(t.Context(), "root@example.com"); err != nil || !u.Has("admin") {
			t.Fatalf("seeded admin: %+v, %v", u, err)
		}
		if strings.Contains(b.String(), "root long password") || strings.Contains(b.String(), "no user yet") {
			t.Errorf("log: %s", b.String())
		}
		// A restart with the same environment changes nothing.
		b.Reset()
		if _, err := startAuth(context.Background(), c, st, logTo(&b)); err != nil || !strings.Contains(b.String(), "ignored: users exist") {
			t.Errorf("second start: %v, log %s", err, b.String())
		}
	})
	t.Run("half a seed is an error", func(t *testing.T) {
		t.Setenv(envAdminEmail, "root@example.com")
		t.Setenv(envAdminPassword, "")
		if err := adminSeedFromEnv(&serveConfig{}); err == nil {
			t.Error("no error with PARLEY_ADMIN_PASSWORD unset")
		}
	})
}
