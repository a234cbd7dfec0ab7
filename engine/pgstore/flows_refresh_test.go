package pgstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/pgstore"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

// statements counts what a store sends: statements (but a transaction's
// begin and commit) and the rows they return or touch (a pgx.QueryTracer).
type statements struct {
	mu   sync.Mutex
	sqls []string
	rows int64
}

type sqlKey struct{}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, sqlKey{}, d.SQL)
}

func (s *statements) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sql, _ := ctx.Value(sqlKey{}).(string)
	sql = strings.Join(strings.Fields(sql), " ")
	if w := strings.ToLower(strings.Fields(sql + " x")[0]); w == "begin" || w == "commit" || w == "rollback" {
		return // a transaction's bounds
	}
	s.sqls = append(s.sqls, sql)
	s.rows += d.CommandTag.RowsAffected()
}

// take returns what was counted since the last take.
func (s *statements) take() ([]string, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sqls, rows := s.sqls, s.rows
	s.sqls, s.rows = nil, 0
	return sqls, rows
}

// flowDoc is a published flow answering to keyword, its chain of send
// nodes making the document about size bytes, as a real flow's.
func flowDoc(id, keyword string, size int) []byte {
	var nodes []string
	for i := 0; i*4000 < size; i++ {
		next := ""
		if (i+1)*4000 < size {
			next = fmt.Sprintf(`, "next": "n%d"`, i+1)
		}
		nodes = append(nodes, fmt.Sprintf(`{"id": "n%d", "type": "send", "message": {"type": "text", "text": %q}%s}`, i, strings.Repeat("x", 3900), next))
	}
	return fmt.Appendf(nil, `{"format": "parley/flow@1", "id": %q, "start": "n0",
 "triggers": [{"type": "keyword", "keywords": [%q]}],
 "nodes": [%s]}`, id, keyword, strings.Join(nodes, ",\n"))
}

// TestFlowRefreshReadsOnlyChanges: the shared store's flow refresh
// (RefreshFlows, every SharedFlowsRefresh) sends one statement returning
// one row when no flow changed, however many flows and drafts there are;
// after another process saves a draft it reads that flow's head only,
// and after it publishes, that head and the new version; the triggers
// follow.
func TestFlowRefreshReadsOnlyChanges(t *testing.T) {
	testURL(t)
	path := filepath.Join(t.TempDir(), "db")
	other := openAt(t, path)
	t.Cleanup(func() { other.Close() })
	ctx := t.Context()
	newEngine := func(st model.Store) *engine.Engine {
		eng, err := engine.New(ctx, engine.Options{Store: st, Clock: engine.NewManualClock(t0), Templates: templates.NewTemplateSet(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	engOther := newEngine(other)
	const n = 30
	for i := range n {
		id := fmt.Sprintf("flow_%02d", i)
		if _, problems, err := engOther.Publish(ctx, flowDoc(id, id, 8_000), "ann"); err != nil || problems.HasErrors() {
			t.Fatalf("publish %s: %v %v", id, err, problems.Err())
		}
		if _, _, err := engOther.SaveDraft(ctx, id, flowDoc(id, id+" next", 8_000), "ann"); err != nil {
			t.Fatal(err)
		}
	}

	var traced statements
	st := openAtWith(t, path, pgstore.WithQueryTracer(&traced))
	t.Cleanup(func() { st.Close() })
	eng := newEngine(st)
	if _, rows := traced.take(); rows < n {
		t.Fatalf("engine.New read %d rows, want at least the %d heads", rows, n)
	}
	// starts reports whether text starts a conversation (each customer's
	// first: a send flow ends at once anyway).
	inbound := 0
	starts := func(text string) bool {
		t.Helper()
		inbound++
		out, err := eng.HandleInbound(ctx, &engine.Inbound{PhoneNumberID: "100", ID: fmt.Sprint("wamid.", inbound), WaID: fmt.Sprint("1555000", inbound),
			At: t0, Reply: flows.Reply{Type: flows.MsgText, Text: text}})
		if err != nil {
			t.Fatal(err)
		}
		traced.take()
		return out.Conversation != ""
	}

	for round := range 3 {
		if err := eng.RefreshFlows(ctx); err != nil {
			t.Fatal(err)
		}
		sqls, rows := traced.take()
		if len(sqls) != 1 || rows != 1 {
			t.Fatalf("refresh %d, nothing changed: %d statements, %d rows (%q); want 1 and 1", round, len(sqls), rows, sqls)
		}
	}

	// Another process saves a draft: one head read, no version.
	if _, _, err := engOther.SaveDraft(ctx, "flow_07", flowDoc("flow_07", "draft only", 8_000), "bo"); err != nil {
		t.Fatal(err)
	}
	if err := eng.RefreshFlows(ctx); err != nil {
		t.Fatal(err)
	}
	if sqls, rows := traced.take(); len(sqls) != 1 || rows != 1 {
		t.Fatalf("refresh after a draft's save: %d statements, %d rows (%q); want 1 and 1 (the changed head)", len(sqls), rows, sqls)
	}

	// Another process publishes a new version: its head and the version.
	if starts("flow three") {
		t.Fatal("a keyword not published yet started a conversation")
	}
	if _, problems, err := engOther.Publish(ctx, flowDoc("flow_03", "flow three", 8_000), "bo"); err != nil || problems.HasErrors() {
		t.Fatalf("publish: %v %v", err, problems.Err())
	}
	if err := eng.RefreshFlows(ctx); err != nil {
		t.Fatal(err)
	}
	sqls, rows := traced.take()
	if len(sqls) != 2 || rows != 2 || !strings.Contains(strings.Join(sqls, "\n"), "flow_versions") {
		t.Fatalf("refresh after a publish: %d statements, %d rows (%q); want the changed head and its new version", len(sqls), rows, sqls)
	}
	if !starts("flow three") {
		t.Fatal("the version published elsewhere does not start conversations after the refresh")
	}
	if starts("flow_03") {
		t.Fatal("the version replaced elsewhere still starts conversations")
	}

	// Another process archives it: it stops starting conversations.
	if err := engOther.Archive(ctx, "flow_03", true); err != nil {
		t.Fatal(err)
	}
	if err := eng.RefreshFlows(ctx); err != nil {
		t.Fatal(err)
	}
	if sqls, rows := traced.take(); len(sqls) != 1 || rows != 1 {
		t.Fatalf("refresh after an archive: %d statements, %d rows (%q)", len(sqls), rows, sqls)
	}
	if starts("flow three") {
		t.Fatal("a flow archived elsewhere still starts conversations after the refresh")
	}
	if !starts("flow_11") {
		t.Fatal("an unchanged flow stopped starting conversations")
	}
}

// BenchmarkRefreshFlows: a refresh that finds nothing changed, with 30
// published flows each with a draft of about 8 KB, through the heads
// (FlowHeads) and, for comparison, reading every record as before
// (records: the store with FlowHeads hidden).
func BenchmarkRefreshFlows(b *testing.B) {
	st := openAt(b, filepath.Join(b.TempDir(), "db"))
	b.Cleanup(func() { st.Close() })
	ctx := b.Context()
	eng, err := engine.New(ctx, engine.Options{Store: st, Templates: templates.NewTemplateSet(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 30 {
		id := fmt.Sprintf("flow_%02d", i)
		if _, _, err := eng.Publish(ctx, flowDoc(id, id, 8_000), "ann"); err != nil {
			b.Fatal(err)
		}
		if _, _, err := eng.SaveDraft(ctx, id, flowDoc(id, id+" next", 8_000), "ann"); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		st   model.Store
	}{{"heads", st}, {"records", struct{ model.SharedStore }{st}}} {
		b.Run(bc.name, func(b *testing.B) {
			eng, err := engine.New(ctx, engine.Options{Store: bc.st, Templates: templates.NewTemplateSet(), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := eng.RefreshFlows(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFlowHeadsMigration: migration 0005 gives the flows stored before it
// their heads (published version, archived) from their records, so that
// the first refresh after the upgrade sees them as they are; a write of
// a record alone, as the version before makes it, moves its head too.
func TestFlowHeadsMigration(t *testing.T) {
	testURL(t)
	path := filepath.Join(t.TempDir(), "db")
	st := openAt(t, path)
	ctx := t.Context()
	// Back to the schema before 0005, with flows as the code of then
	// wrote them: their record only.
	for _, sql := range []string{
		`ALTER TABLE flows DROP COLUMN published, DROP COLUMN archived, DROP COLUMN changed`,
		`DROP TRIGGER flows_head ON flows`,
		`DROP FUNCTION flows_head()`,
		`DROP TABLE flow_clock`,
		`DELETE FROM schema_migrations WHERE version = 5`,
		`INSERT INTO flows (id, data) VALUES ('a', convert_to('{"id":"a","draft":"e30=","published":3}', 'UTF8')),
			('b', convert_to('{"id":"b","published":1,"archived":true}', 'UTF8')), ('c', convert_to('{"id":"c","draft":"e30="}', 'UTF8'))`,
	} {
		if _, err := st.Pool().Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	st.Close()
	st = openAt(t, path) // migrates
	defer st.Close()
	heads, mark, err := st.FlowHeadsSince(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.FlowHead{{ID: "a", Published: 3}, {ID: "b", Published: 1, Archived: true}, {ID: "c"}}
	if fmt.Sprint(heads) != fmt.Sprint(want) {
		t.Fatalf("heads after the migration: %v, want %v", heads, want)
	}
	if again, next, err := st.FlowHeadsSince(ctx, mark); len(again) != 0 || next != mark || err != nil {
		t.Fatalf("nothing changed since the migration: %v, %d (mark %d), %v", again, next, mark, err)
	}
	if err := st.SaveFlow(ctx, &model.FlowRecord{ID: "c", Draft: []byte(`{}`), Archived: true}); err != nil {
		t.Fatal(err)
	}
	changed, mark, err := st.FlowHeadsSince(ctx, mark)
	if err != nil || fmt.Sprint(changed) != fmt.Sprint([]model.FlowHead{{ID: "c", Archived: true}}) {
		t.Fatalf("after a save: %v, %v", changed, err)
	}
	// A process of the version before, still running in a rolling
	// upgrade, writes the record only: its change is seen all the same.
	if _, err := st.Pool().Exec(ctx, `UPDATE flows SET data = convert_to('{"id":"a","published":4}', 'UTF8') WHERE id = 'a'`); err != nil {
		t.Fatal(err)
	}
	if changed, _, err := st.FlowHeadsSince(ctx, mark); err != nil || fmt.Sprint(changed) != fmt.Sprint([]model.FlowHead{{ID: "a", Published: 4}}) {
		t.Fatalf("after an older version's write: %v, %v", changed, err)
	}
}
