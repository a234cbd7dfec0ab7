package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/pgstore"
)

// TestCheck: a sound database passes, with what it holds, while a store
// is open on it; each damage done behind the store's back is reported as
// a problem or a note, by what it names.
func TestCheck(t *testing.T) {
	testURL(t)
	defer pgstore.SetCheckPage(2)() // contacts over pages
	path := filepath.Join(t.TempDir(), "db")
	st := openAt(t, path)
	t.Cleanup(func() { st.Close() })
	u := urlAt(t, path)
	ctx := t.Context()
	for i := range 3 {
		commitConv(t, st, i, model.Ended, oldDone)
	}
	queue(t, st, "queued", 2)
	if err := st.SaveFlow(ctx, &model.FlowRecord{ID: "greet", Draft: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Publish(ctx, "greet", []byte(`{}`), "ann", t0); err != nil {
		t.Fatal(err)
	}
	r, err := pgstore.Check(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Contacts != 4 || r.Conversations != 4 || r.Messages != 8 || r.Outbox != 2 || r.Flows != 1 || r.Applied != r.Known {
		t.Fatalf("check of a sound database: %+v", r)
	}

	damage := []string{
		`DELETE FROM conversations WHERE id = '100:15550000000#1'`,                   // an orphan transcript
		`UPDATE conversations SET status = 'waiting' WHERE id = '100:15550000001#1'`, // a column against its record
		`UPDATE outbox SET claimed = true, owner = 'gone-host:/data', lease_until = now() - interval '1 hour'`,
		`ALTER TABLE flows DISABLE TRIGGER flows_head`, // and then a column against its record
		`UPDATE flows SET published = 7`,
		`INSERT INTO timers (due_ns, kind, conversation, node, data, owner, lease_ns) VALUES (1, 'timeout', 'nowhere#1', 'n', '{}', 'dead-host:/data', 1)`,
	}
	for _, sql := range damage {
		if _, err := st.Pool().Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	r, err = pgstore.Check(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(r.Problems, "\n") + "\n" + strings.Join(r.Notes, "\n")
	for _, want := range []string{
		`orphan transcript: 2 messages of conversation "100:15550000000#1"`,
		`conversation "100:15550000001#1": its record says status "ended" (column "waiting")`,
		`stuck lease: 2 sends claimed by gone-host:/data`,
		`flow "greet": its record says version 1`,
		`flow "greet": published version 7, but its latest stored version is 1`,
		`names conversation "nowhere#1", which is not stored`,
		`stuck lease: 1 timers claimed by dead-host:/data`,
		`the trigger flows_head of table flows is missing or disabled`,
		`contact "100:15550000000": its current conversation "100:15550000000#1" is not stored`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the report does not say %q:\n%s", want, all)
		}
	}
	if r.OK() || len(r.Problems) != 5 {
		t.Errorf("problems: %q; want 5", r.Problems)
	}

	// Somewhere else than a Parley database: an error that says so.
	base, _ := url.Parse(u)
	q := base.Query()
	q.Set("search_path", "pg_catalog")
	base.RawQuery = q.Encode()
	if _, err := pgstore.Check(ctx, base.String()); !errors.Is(err, pgstore.ErrNoSchema) {
		t.Fatalf("check of no Parley schema: %v", err)
	}
	q.Set("search_path", "no_such_schema")
	base.RawQuery = q.Encode()
	if _, err := pgstore.Check(ctx, base.String()); !errors.Is(err, pgstore.ErrNoSchema) {
		t.Fatalf("check of a schema that does not exist: %v", err)
	}
}

// TestCheckAmcheck: with the amcheck extension installed, Check verifies
// every index of the schema against its table (in a database of the
// test's own, which the extension is installed into and dropped with).
func TestCheckAmcheck(t *testing.T) {
	base := testURL(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	db := "pgops_check_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err == nil {
			_, _ = conn.Exec(context.Background(), `DROP DATABASE `+db+` WITH (FORCE)`)
			conn.Close(context.Background())
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + db
	st, err := pgstore.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Pool().Exec(ctx, `CREATE EXTENSION amcheck`); err != nil {
		t.Skipf("amcheck cannot be installed here: %v", err)
	}
	commitConv(t, st, 1, model.Ended, oldDone)
	r, err := pgstore.Check(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.IndexesVerified < 10 {
		t.Fatalf("check with amcheck: %d indexes verified, %+v", r.IndexesVerified, r)
	}
	t.Logf("%d indexes verified", r.IndexesVerified)
}
