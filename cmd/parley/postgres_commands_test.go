package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/pgstore"
)

// TestCommandsOnPostgres drives the offline commands with --store on a
// PostgreSQL schema of the test's own: users and tokens, a contacts
// import, `parley check` (sound, then with an orphan transcript), and
// `parley backup` through pg_dump, restored with pg_restore into a
// database of its own where the users are found and check passes.
func TestCommandsOnPostgres(t *testing.T) {
	u := testPostgresURL(t)
	data := t.TempDir() // never used: the store is the database
	csv := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(csv, []byte("phone,name,opted_in,opted_in_at,purpose\n+49 151 2345 6789,Ida,true,2026-01-01,Order updates\n15551234567,Ann,,,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		stdin string
		args  []string
		code  int
		out   string // in stdout, or stderr when code != 0
	}{
		{"user add", "a long enough password\n", []string{"user", "add", "--email", "ana@example.com", "--name", "Ana", "--role", "admin"}, 0, "user ana@example.com added"},
		{"user add: taken", "a long enough password\n", []string{"user", "add", "--email", "ana@example.com", "--role", "agent"}, 1, "exists"},
		{"user list", "", []string{"user", "list"}, 0, "ana@example.com"},
		{"token add", "", []string{"token", "add", "--email", "ana@example.com", "--name", "ci"}, 0, "prl_"},
		{"token list", "", []string{"token", "list"}, 0, "ci"},
		{"contacts import", "", []string{"contacts", "import", "--phone-number-id", "1065", csv}, 0, "imported 2 rows: 2 contacts created"},
		{"contacts import again", "", []string{"contacts", "import", "--phone-number-id", "1065", csv}, 0, "0 contacts created, 2 updated"},
		{"check", "", []string{"check"}, 0, "2 contacts, 0 conversations"},
	}
	for _, s := range steps {
		// The flags after the command's words: "user add --store …".
		words := 2
		if s.args[0] == "check" {
			words = 1
		}
		args := append(append(s.args[:words:words], "--store", u, "--data", data), s.args[words:]...)
		code, out, errOut := parley(t, s.stdin, args...)
		got := out
		if code != 0 {
			got = errOut + out
		}
		if code != s.code || !strings.Contains(got, s.out) {
			t.Fatalf("%s: exit %d, want %d; output:\n%s%s\nwant it to contain %q", s.name, code, s.code, out, errOut, s.out)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "parley.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a command with --store made a bbolt file: %v", err)
	}

	code, out, errOut := parley(t, "", "check", "--store", u)
	if code != 0 || !strings.Contains(out, "no problem found") || !strings.Contains(out, "migrations applied up to") {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `INSERT INTO messages (conversation, seq, data) VALUES ('gone#1', 1, '{}')`); err != nil {
		t.Fatal(err)
	}
	code, out, _ = parley(t, "", "check", "--store", u)
	if code != 1 || !strings.Contains(out, `PROBLEM: orphan transcript: 1 messages of conversation "gone#1"`) || !strings.Contains(out, "1 problems") {
		t.Fatalf("check with an orphan transcript: exit %d\n%s", code, out)
	}
	if _, err := conn.Exec(ctx, `DELETE FROM messages WHERE conversation = 'gone#1'`); err != nil {
		t.Fatal(err)
	}

	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump is not on the PATH: the backup through it is not tried")
	}
	dump := filepath.Join(t.TempDir(), "parley.dump")
	code, out, errOut = parley(t, "", "backup", "--store", u, dump)
	if code != 0 || !strings.Contains(out, "backed up") || !strings.Contains(out, "pg_restore --clean --if-exists") {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(dump), ".*partial")); len(matches) != 0 {
		t.Fatalf("backup left %v behind", matches)
	}

	// Restored into a database of its own, it holds the users and passes
	// the check.
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	db := "pgops_restore_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), u)
		if err == nil {
			_, _ = c.Exec(context.Background(), `DROP DATABASE `+db+` WITH (FORCE)`)
			c.Close(context.Background())
		}
	})
	ru, _ := url.Parse(u)
	ru.Path = "/" + db
	d, err := pgstore.DumpCommand(ru.String(), dump)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("pg_restore", "--dbname="+d.URL, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, b)
	}
	if code, out, errOut := parley(t, "", "user", "list", "--store", ru.String()); code != 0 || !strings.Contains(out, "ana@example.com") {
		t.Fatalf("user list of the restored database: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := parley(t, "", "check", "--store", ru.String()); code != 0 || !strings.Contains(out, "2 contacts") {
		t.Fatalf("check of the restored database: exit %d\n%s%s", code, out, errOut)
	}
}

// TestBackupPostgresWithoutPgDump: without pg_dump on the PATH, `parley
// backup --store` writes nothing and prints the exact pg_dump command,
// without the URL's password or the parameters only Parley reads.
func TestBackupPostgresWithoutPgDump(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	out := filepath.Join(t.TempDir(), "parley.dump")
	u := "postgres://parley:s3cret@db.internal:5432/parley?sslmode=verify-full&search_path=parley&pool_max_conns=20&parley_lease=30s"
	code, stdout, stderr := parley(t, "", "backup", "--store", u, out)
	want := "pg_dump --format=custom --file=" + out + " --schema=parley '--dbname=postgres://parley@db.internal:5432/parley?sslmode=verify-full'"
	if code != 1 || !strings.Contains(stderr, want) || strings.Contains(stderr, "s3cret") || !strings.Contains(stderr, "PGPASSWORD") || stdout != "" {
		t.Fatalf("exit %d\nstdout %s\nstderr %s\nwant the command %s", code, stdout, stderr, want)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("backup wrote %s: %v", out, err)
	}
}

// TestServeRetentionOnPostgres: serve with PARLEY_RETENTION on PostgreSQL
// deletes, at start, a conversation done and older than the retention,
// with its transcript, and keeps a live one as old.
func TestServeRetentionOnPostgres(t *testing.T) {
	u := testPostgresURL(t)
	ctx := t.Context()
	st, err := pgstore.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	old := time.Now().Add(-48 * time.Hour)
	commitOld := func(wa string, status model.Status) string {
		key := model.NewContactKey("100000000000001", wa)
		id := string(key) + "#1"
		if err := st.Commit(ctx, &model.Change{At: old, Contact: &model.Contact{Key: key, PhoneNumberID: "100000000000001", WaID: wa, Conversation: id},
			Conversations: []*model.Conversation{{ID: id, Contact: key, Flow: "f", Status: status, StartedAt: old, LastActivityAt: old}},
			Messages:      []*model.Message{{Conversation: id, Seq: 1, Contact: key, Direction: model.In, State: model.Received, At: old}}}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	ended, waiting := commitOld("15550001111", model.Ended), commitOld("15550002222", model.Waiting)

	h := newE2E(t, e2eOptions{serve: func(c *serveConfig) { c.store, c.retention = u, time.Hour }})
	h.start()
	eventually(t, e2eTimeout, func() bool {
		_, err := st.Conversation(ctx, ended)
		return errors.Is(err, model.ErrNotFound)
	}, "the retention deleting %s", ended)
	if tr, err := st.Transcript(ctx, ended); err != nil || len(tr) != 0 {
		t.Fatalf("the deleted conversation's transcript: %d messages, %v", len(tr), err)
	}
	if _, err := st.Conversation(ctx, waiting); err != nil {
		t.Fatalf("the live conversation: %v", err)
	}
	eventually(t, e2eTimeout, func() bool { return strings.Contains(h.log.String(), "retention: deleted old conversations") }, "the retention's log line")
	if strings.Contains(h.log.String(), "retention is not available") {
		t.Fatal("serve says the retention is not available on PostgreSQL")
	}
}
