package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/engine/model"
)

// Report is what Check found in a database.
type Report struct {
	// Database and Schema name what was checked (Schema: the first of
	// the search path, where Parley's tables are).
	Database, Schema string
	// Schema versions: the migrations applied, and the latest this build
	// has.
	Applied, Known int
	// Counts of what the database holds.
	Contacts, Conversations, Messages, Outbox, Timers, Flows int
	// IndexesVerified counts the B-tree indexes amcheck verified against
	// their tables (0 when amcheck is not installed: see Notes).
	IndexesVerified int
	// Problems are inconsistencies Parley does not repair by itself.
	// Notes are findings that are harmless, or that a running Parley
	// settles (a lease that ran out, a migration the next start applies).
	Problems, Notes []string
	// More counts the problems and notes left out past maxFindings each.
	MoreProblems, MoreNotes int
}

// OK reports whether Check found no problem.
func (r *Report) OK() bool { return len(r.Problems) == 0 && r.MoreProblems == 0 }

// checkPage is how many contacts Check reads at a time. A variable for
// the tests.
var checkPage = 1000

// maxFindings caps the problems, and the notes, a Report lists.
const maxFindings = 50

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) < maxFindings {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	} else {
		r.MoreProblems++
	}
}

func (r *Report) note(format string, args ...any) {
	if len(r.Notes) < maxFindings {
		r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
	} else {
		r.MoreNotes++
	}
}

// ErrNoSchema is returned by Check when the database (and search path)
// holds no Parley schema.
var ErrNoSchema = errors.New("pgstore: no Parley tables here (schema_migrations is missing): another database or search_path?")

// Check reads a Parley database whole, in one read-only transaction (one
// snapshot: it runs beside serving processes, and takes no lock that a
// commit waits for), without migrating it, and reports what it holds and
// anything inconsistent:
//
//   - the migrations applied against those this build knows;
//   - every conversation's columns (contact, flow, status, times: what
//     the listings and the retention find it by) against its record, and
//     every contact's key against its record;
//   - transcripts whose conversation is gone (orphans), outbox entries
//     whose message is gone or whose claim has no owner or lease;
//   - stuck leases: claims on sends, timers and event deliveries whose
//     lease ran out (their process died; a running process takes them up);
//   - timers, read marks and aliases naming what is not stored;
//   - the flows' heads (published version, archived, change number)
//     against their records, their versions and flow_clock;
//   - PostgreSQL's own B-tree indexes against their tables (amcheck's
//     bt_index_check with heapallindexed), when the amcheck extension is
//     installed in the database.
//
// It returns an error when the database cannot be read as Parley's.
func Check(ctx context.Context, url string) (*Report, error) {
	url, _, err := takeLease(url)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url) // pool_* parameters are taken out
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	defer conn.Close(context.Background())
	r := &Report{Database: cfg.ConnConfig.Database}
	err = pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		return checkTx(ctx, tx, r)
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: check: %w", err)
	}
	return r, nil
}

func checkTx(ctx context.Context, tx pgx.Tx, r *Report) error {
	var schema *string // NULL when no schema of the search path exists
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if schema == nil {
		return ErrNoSchema
	}
	r.Schema = *schema
	var present bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&present); err != nil {
		return err
	}
	if !present {
		return ErrNoSchema
	}
	applied, err := checkMigrations(ctx, tx, r)
	if err != nil {
		return err
	}
	if !applied[1] {
		r.note("the schema is not made yet: the next `parley serve` makes it")
		return nil
	}
	steps := []func(context.Context, pgx.Tx, *Report) error{
		checkCounts, checkConversations, checkContacts, checkOrphans, checkOutbox, checkLeftovers,
	}
	if applied[3] {
		steps = append(steps, checkDeliveries)
	}
	if applied[4] {
		steps = append(steps, checkTimerClaims)
	}
	if applied[5] {
		steps = append(steps, checkFlows)
	}
	steps = append(steps, checkIndexes)
	for _, step := range steps {
		if err := step(ctx, tx, r); err != nil {
			return err
		}
	}
	return nil
}

// checkMigrations compares the migrations applied with those embedded.
func checkMigrations(ctx context.Context, tx pgx.Tx, r *Report) (map[int]bool, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	known := map[int]string{}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: no version number", base)
		}
		known[v] = base
		r.Known = max(r.Known, v)
	}
	rows, err := tx.Query(ctx, `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	applied := map[int]bool{}
	var v int32
	var name string
	if _, err := pgx.ForEachRow(rows, []any{&v, &name}, func() error {
		applied[int(v)] = true
		r.Applied = max(r.Applied, int(v))
		switch k, ok := known[int(v)]; {
		case !ok:
			r.note("migration %d (%s) was applied by a newer Parley than this one (which knows up to %d): what it changed is not checked", v, name, r.Known)
		case k != name:
			r.problem("migration %d is recorded as %s, but this build's is %s", v, name, k)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	for _, v := range slices.Sorted(maps.Keys(known)) {
		if !applied[v] {
			r.note("migration %s is not applied yet: the next `parley serve` applies it", known[v])
		}
	}
	return applied, nil
}

func checkCounts(ctx context.Context, tx pgx.Tx, r *Report) error {
	return tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM conversations), (SELECT count(*) FROM messages),
		(SELECT count(*) FROM outbox), (SELECT count(*) FROM timers), (SELECT count(*) FROM flows)`).
		Scan(&r.Contacts, &r.Conversations, &r.Messages, &r.Outbox, &r.Timers, &r.Flows)
}

// checkConversations reads every conversation: its columns, what the
// listings and the retention find it by, against its record.
func checkConversations(ctx context.Context, tx pgx.Tx, r *Report) error {
	rows, err := tx.Query(ctx, `SELECT id, contact, flow, status, started_ns, activity_ns, data FROM conversations`)
	if err != nil {
		return err
	}
	var id, contact, flow, status string
	var started, activity int64
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &contact, &flow, &status, &started, &activity, &data}, func() error {
		var c model.Conversation
		if err := json.Unmarshal(data, &c); err != nil {
			r.problem("conversation %q: its record does not decode: %v", id, err)
			return nil
		}
		var differ []string
		if c.ID != id {
			differ = append(differ, fmt.Sprintf("id %q", c.ID))
		}
		if string(c.Contact) != contact {
			differ = append(differ, fmt.Sprintf("contact %q (column %q)", c.Contact, contact))
		}
		if c.Flow != flow {
			differ = append(differ, fmt.Sprintf("flow %q (column %q)", c.Flow, flow))
		}
		if string(c.Status) != status {
			differ = append(differ, fmt.Sprintf("status %q (column %q)", c.Status, status))
		}
		if ns(c.StartedAt) != started {
			differ = append(differ, "start time")
		}
		if ns(c.LastActivityAt) != activity {
			differ = append(differ, "last activity")
		}
		if len(differ) > 0 {
			r.problem("conversation %q: its record says %s: listings and the retention go by the columns", id, strings.Join(differ, ", "))
		}
		return nil
	})
	return err
}

// checkContacts reads every contact, a page at a time (by key, in the
// snapshot): its key against its record's, its current conversation
// against what is stored.
func checkContacts(ctx context.Context, tx pgx.Tx, r *Report) error {
	page := checkPage
	after := ""
	for {
		rows, err := tx.Query(ctx, `SELECT key, data FROM contacts WHERE key > $1 ORDER BY key LIMIT $2`, after, page)
		if err != nil {
			return err
		}
		current := map[string]string{} // conversation → contact
		var key string
		var data []byte
		n, err := pgx.ForEachRow(rows, []any{&key, &data}, func() error {
			after = key
			var c model.Contact
			if err := json.Unmarshal(data, &c); err != nil {
				r.problem("contact %q: its record does not decode: %v", key, err)
				return nil
			}
			if string(c.Key) != key {
				r.problem("contact %q: its record's key is %q", key, c.Key)
			}
			if c.Conversation != "" {
				current[c.Conversation] = key
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(current) > 0 {
			rows, err := tx.Query(ctx, `SELECT id FROM conversations WHERE id = ANY($1)`, slices.Collect(maps.Keys(current)))
			if err != nil {
				return err
			}
			stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			for _, id := range stored {
				delete(current, id)
			}
			for _, id := range slices.Sorted(maps.Keys(current)) {
				r.note("contact %q: its current conversation %q is not stored (deleted by the retention?): the engine takes it as none", current[id], id)
			}
		}
		if n.RowsAffected() < int64(page) {
			return nil
		}
	}
}

// checkOrphans finds transcripts whose conversation is gone: the
// retention deletes both in one transaction, so one without the other is
// a problem.
func checkOrphans(ctx context.Context, tx pgx.Tx, r *Report) error {
	rows, err := tx.Query(ctx, `SELECT m.conversation, count(*) FROM messages m
		WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = m.conversation) GROUP BY m.conversation ORDER BY m.conversation`)
	if err != nil {
		return err
	}
	var conv string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&conv, &n}, func() error {
		r.problem("orphan transcript: %d messages of conversation %q, which is not stored", n, conv)
		return nil
	})
	return err
}

// checkOutbox checks each outbox entry's message and claim, and reports
// claims whose lease ran out.
func checkOutbox(ctx context.Context, tx pgx.Tx, r *Report) error {
	rows, err := tx.Query(ctx, `SELECT o.seq, o.conversation, o.msg_seq, o.claimed, coalesce(o.owner, ''), o.lease_until, now(),
			EXISTS (SELECT 1 FROM messages m WHERE m.conversation = o.conversation AND m.seq = o.msg_seq)
		FROM outbox o ORDER BY o.seq`)
	if err != nil {
		return err
	}
	var seq, msg int64
	var conv, owner string
	var claimed, stored bool
	var lease *time.Time
	var now time.Time
	stuck := map[string]int{}
	oldest := map[string]time.Time{}
	_, err = pgx.ForEachRow(rows, []any{&seq, &conv, &msg, &claimed, &owner, &lease, &now, &stored}, func() error {
		if !stored {
			r.problem("outbox item %d names message %s #%d, which is not stored", seq, conv, msg)
		}
		switch {
		case claimed && (owner == "" || lease == nil):
			r.problem("outbox item %d is claimed without an owner or a lease: no process will ever take it up", seq)
		case claimed && lease.Before(now):
			stuck[owner]++
			if o, ok := oldest[owner]; !ok || lease.Before(o) {
				oldest[owner] = *lease
			}
		case !claimed && (owner != "" || lease != nil):
			r.note("outbox item %d is not claimed but keeps an owner or a lease: harmless", seq)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, owner := range slices.Sorted(maps.Keys(stuck)) {
		r.note("stuck lease: %d sends claimed by %s, whose lease ran out %s ago (it died mid-send): a running `parley serve` settles them as unknown, never sending them again",
			stuck[owner], owner, now.Sub(oldest[owner]).Round(time.Second))
	}
	return nil
}

// checkLeftovers reports timers, read marks and aliases that name what is
// not stored: harmless, each passed over.
func checkLeftovers(ctx context.Context, tx pgx.Tx, r *Report) error {
	rows, err := tx.Query(ctx, `SELECT kind, conversation, due_ns FROM timers t
		WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = t.conversation) ORDER BY due_ns`)
	if err != nil {
		return err
	}
	var kind, conv string
	var due int64
	if _, err := pgx.ForEachRow(rows, []any{&kind, &conv, &due}, func() error {
		r.note("a %s timer due %s names conversation %q, which is not stored: it is dropped when due", kind, time.Unix(0, due).UTC().Format(time.RFC3339), conv)
		return nil
	}); err != nil {
		return err
	}
	var reads int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM inbox_reads i WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = i.conversation)`).Scan(&reads); err != nil {
		return err
	}
	if reads > 0 {
		r.note("%d inbox read marks name conversations that are not stored: the inbox passes over them", reads)
	}
	rows, err = tx.Query(ctx, `SELECT alias, key FROM aliases a WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.key = a.key) ORDER BY alias`)
	if err != nil {
		return err
	}
	var alias, key string
	_, err = pgx.ForEachRow(rows, []any{&alias, &key}, func() error {
		r.note("alias %q points at contact %q, which is not stored", alias, key)
		return nil
	})
	return err
}

// checkDeliveries reports event deliveries whose claim ran out or whose
// subscription is gone.
func checkDeliveries(ctx context.Context, tx pgx.Tx, r *Report) error {
	var stuck, orphans int64
	if err := tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM event_deliveries WHERE state = 'pending' AND lease_owner IS NOT NULL AND lease_ns < $1),
			(SELECT count(*) FROM event_deliveries d WHERE NOT EXISTS (SELECT 1 FROM event_subscriptions s WHERE s.id = d.sub))`,
		time.Now().UnixNano()).Scan(&stuck, &orphans); err != nil {
		return err
	}
	if stuck > 0 {
		r.note("stuck lease: %d event deliveries claimed by a process whose lease ran out: a running `parley serve` takes them up", stuck)
	}
	if orphans > 0 {
		r.note("%d event deliveries belong to a subscription that is deleted: they are kept until pruned", orphans)
	}
	return nil
}

// checkTimerClaims reports claims on due timers whose lease ran out.
func checkTimerClaims(ctx context.Context, tx pgx.Tx, r *Report) error {
	rows, err := tx.Query(ctx, `SELECT owner, count(*), min(lease_ns) FROM timers WHERE owner IS NOT NULL AND lease_ns < $1 GROUP BY owner ORDER BY owner`,
		time.Now().UnixNano())
	if err != nil {
		return err
	}
	var owner string
	var n, oldest int64
	_, err = pgx.ForEachRow(rows, []any{&owner, &n, &oldest}, func() error {
		r.note("stuck lease: %d timers claimed by %s, whose lease ran out %s ago (it died while firing them): a running `parley serve` fires them",
			n, owner, time.Since(time.Unix(0, oldest)).Round(time.Second))
		return nil
	})
	return err
}

// checkFlows checks each flow's head columns against its record and its
// versions, and the change numbers against flow_clock.
func checkFlows(ctx context.Context, tx pgx.Tx, r *Report) error {
	var clocks int
	var clock *int64
	if err := tx.QueryRow(ctx, `SELECT count(*), max(n) FROM flow_clock`).Scan(&clocks, &clock); err != nil {
		return err
	}
	if clocks != 1 {
		r.problem("flow_clock has %d rows, want 1: flow changes may not reach other processes", clocks)
	}
	var trigger bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'flows'::regclass AND tgname = 'flows_head' AND tgenabled <> 'D')`).Scan(&trigger); err != nil {
		return err
	}
	if !trigger {
		r.problem("the trigger flows_head of table flows is missing or disabled: flow changes may not reach other processes")
	}
	rows, err := tx.Query(ctx, `SELECT f.id, f.data, f.published, f.archived, f.changed,
			coalesce((SELECT max(version) FROM flow_versions v WHERE v.flow = f.id), 0)
		FROM flows f ORDER BY f.id`)
	if err != nil {
		return err
	}
	var id string
	var data []byte
	var published, latest int32
	var archived bool
	var changed int64
	_, err = pgx.ForEachRow(rows, []any{&id, &data, &published, &archived, &changed, &latest}, func() error {
		var f model.FlowRecord
		if err := json.Unmarshal(data, &f); err != nil {
			r.problem("flow %q: its record does not decode: %v", id, err)
			return nil
		}
		if f.Published != int(published) || f.Archived != archived {
			r.problem("flow %q: its record says version %d, archived %v; its columns %d, %v: other processes go by the columns", id, f.Published, f.Archived, published, archived)
		}
		if int(published) != int(latest) {
			r.problem("flow %q: published version %d, but its latest stored version is %d", id, published, latest)
		}
		if clock != nil && changed > *clock {
			r.problem("flow %q: change number %d is past flow_clock's %d: other processes may miss its next change", id, changed, *clock)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var orphans int64
	if err := tx.QueryRow(ctx, `SELECT count(DISTINCT flow) FROM flow_versions v WHERE NOT EXISTS (SELECT 1 FROM flows f WHERE f.id = v.flow)`).Scan(&orphans); err != nil {
		return err
	}
	if orphans > 0 {
		r.problem("%d flows have published versions but no record", orphans)
	}
	return nil
}

// checkIndexes has amcheck verify every B-tree index of the schema, each
// entry against its table and every row of the table against the index
// (heapallindexed), when the extension is installed.
func checkIndexes(ctx context.Context, tx pgx.Tx, r *Report) error {
	var schema *string
	if err := tx.QueryRow(ctx, `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck'`).Scan(&schema); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if schema == nil {
		r.note("PostgreSQL's indexes were not verified: the amcheck extension is not installed in this database (CREATE EXTENSION amcheck, as a superuser, makes `parley check` verify every index against its table)")
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT c.oid, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
		WHERE a.amname = 'btree' AND c.relnamespace = current_schema()::regnamespace AND c.relpersistence <> 't' ORDER BY c.relname`)
	if err != nil {
		return err
	}
	type index struct {
		OID  uint32
		Name string
	}
	idx, err := pgx.CollectRows(rows, pgx.RowToStructByPos[index])
	if err != nil {
		return err
	}
	call := pgx.Identifier{*schema, "bt_index_check"}.Sanitize()
	for _, ix := range idx {
		// A savepoint: a corrupt index's error must not end the check.
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		_, err = sp.Exec(ctx, `SELECT `+call+`($1::oid, true)`, ix.OID)
		var pe *pgconn.PgError
		switch {
		case err == nil:
			r.IndexesVerified++
			if err := sp.Commit(ctx); err != nil {
				return err
			}
		case errors.As(err, &pe):
			r.problem("index %s: amcheck: %s (REINDEX INDEX %s rebuilds it)", ix.Name, pe.Message, ix.Name)
			if err := sp.Rollback(ctx); err != nil {
				return err
			}
		default:
			return err
		}
	}
	return nil
}
