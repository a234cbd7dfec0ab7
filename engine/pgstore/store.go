package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/engine/model"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys of the whole database (pg_advisory_xact_lock's
// one-argument form); per-key locks use the two-argument form with one of
// the lock classes below and a hash of the key.
const (
	lockMigrate   int64 = 0x7061726c6579_01 // "parley" 01
	lockEvents    int64 = 0x7061726c6579_02
	lockAuth      int64 = 0x7061726c6579_03
	lockSchedules int64 = 0x7061726c6579_04
	lockSecrets   int64 = 0x7061726c6579_05
	// lockDeliveries serializes the changes of event deliveries' chains
	// (events.go); claims do not take it.
	lockDeliveries int64 = 0x7061726c6579_06
)

// Lock classes of per-key advisory locks. A turn's lock (LockContact,
// held on a connection of its own) and a commit's (in the commit's
// transaction) are of different classes: the commit of a turn that holds
// its contact's lock must not wait for that lock.
const (
	classContact int32 = 1
	classFlow    int32 = 2
	classCommit  int32 = 3
	// classReach is a reach scope's, taken by a commit that records a
	// Reach with a Limit, after its contact's (classCommit).
	classReach int32 = 4
	// classInboxLead is the inbox's lead (feed.go): a session lock on
	// the hash of the store's schema, held by one process at a time.
	classInboxLead int32 = 16
)

// Store is the PostgreSQL backend: model.Store and the subsystems'
// records over a pgxpool. Several Stores, in one process or many, may
// share one database. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// locks holds the connections that hold contacts' session advisory
	// locks (LockContact), apart from pool: a turn holding a lock commits
	// through pool, so the two never wait on each other.
	locks  *pgxpool.Pool
	closed atomic.Bool
	// owner names this store's claims on outbox entries and timers and
	// its heartbeat (peers.go); lease is how long an outbox claim lasts
	// (lease.go).
	owner string
	lease time.Duration
	// affinity, when positive, is how long an outbox entry is listed only
	// to the owner that queued it (WithSendAffinity).
	affinity time.Duration
	// feedID names this store's inbox notes (feed.go); channel and
	// schema are the feed's NOTIFY channel and the schema it is of.
	feedID  string
	channel string
	schema  string
	// tracer sees every statement of both pools (WithQueryTracer).
	tracer pgx.QueryTracer
}

var (
	_ model.Store       = (*Store)(nil)
	_ model.SharedStore = (*Store)(nil)
)

// DefaultLease is how long a claim on an outbox entry lasts: longer than
// a send can take (engine.SendTimeout), so that only a claim whose owner
// died runs out.
const DefaultLease = 2 * time.Minute

// LockConns is the most connections a Store holds contacts' locks on
// (LockContact), beside its pool's own (PoolConns), unless the URL sets
// pool_max_conns: then the lock pool has that many too.
const LockConns = 12

// PoolConns is the size of a Store's pool unless the URL says otherwise
// (pool_max_conns). With LockConns, a process uses up to 24 connections;
// with pool_max_conns=N, up to 2N.
const PoolConns = 12

// LeaseParam is the URL query parameter that sets the lease ("10s"); it
// is taken out of the URL before connecting.
const LeaseParam = "parley_lease"

// Open connects to the database url names (a postgres:// URL or a DSN,
// as pgx reads them: search_path and other settings may be given as query
// parameters), applies the migrations it has not applied yet, and returns
// the store.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	url, lease, err := takeLease(url)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	// Each turn in flight holds one lock connection: LockConns turns at once
	// per process, beyond which turns wait their turn (a PostgreSQL's
	// max_connections, 100 by default, is shared by every process).
	lcfg := cfg.Copy()
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = PoolConns // pgx's default, 4 on 2 cores, is what limits
		lcfg.MaxConns = LockConns
	}
	s := &Store{owner: newOwner(), lease: lease, feedID: newFeedID()}
	for _, o := range opts {
		o(s)
	}
	if s.tracer != nil {
		cfg.ConnConfig.Tracer, lcfg.ConnConfig.Tracer = s.tracer, s.tracer
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if s.locks, err = pgxpool.NewWithConfig(ctx, lcfg); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.pool.Close()
		s.locks.Close()
		return nil, err
	}
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&s.schema); err != nil {
		s.pool.Close()
		s.locks.Close()
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s.channel = feedChannel(s.schema)
	return s, nil
}

// migrate applies the embedded migrations not applied yet, in version
// order, each in a transaction of its own, under an advisory lock, so
// processes starting together apply each once.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	if err := distinctVersions(names); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockMigrate); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		applied := map[int]bool{}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return err
		}
		vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return err
		}
		for _, v := range vs {
			applied[int(v)] = true
		}
		for _, name := range names {
			base := strings.TrimPrefix(name, "migrations/")
			num, _, _ := strings.Cut(base, "_")
			v, err := strconv.Atoi(num)
			if err != nil {
				return fmt.Errorf("pgstore: migration %s: no version number", base)
			}
			if applied[v] {
				continue
			}
			sql, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return fmt.Errorf("pgstore: migration %s: %w", base, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, v, base); err != nil {
				return err
			}
		}
		return nil
	})
}

// distinctVersions refuses two migrations of one version number (two
// branches that each added the next one): the second would never be
// applied, as its version reads as applied already.
func distinctVersions(names []string) error {
	seen := map[int]string{}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("pgstore: migration %s: no version number", base)
		}
		if other, ok := seen[v]; ok {
			return fmt.Errorf("pgstore: migrations %s and %s share version %d: renumber one", other, base, v)
		}
		seen[v] = base
	}
	return nil
}

// Option configures Open.
type Option func(*Store)

// WithSendAffinity has Outbox leave out the unclaimed entries another
// owner queued less than d ago: the process whose turn queued a message
// sends it, and the others take it up only once d has passed (its owner
// died, or is that far behind). Without it every process's dispatcher
// tries to claim every new entry, taking the contact's lock to learn that
// another process was first: with three processes, two wasted claims per
// message, each queueing on the lock of the contact whose turn is running
// (measured: the most waited-for lock of the database). The store's owner
// should be one that stays the same across restarts (WithOwner), or a
// restarted process leaves its own queued entries for d. Zero (the
// default) lists every entry to every process.
func WithSendAffinity(d time.Duration) Option {
	return func(s *Store) { s.affinity = max(d, 0) }
}

// WithOwner names the store's claims on outbox entries (lease.go) and
// timers (timers.go), and its heartbeat (peers.go): a name that stays the
// same across restarts of one process (its host and data directory), so
// that a restart finds its own claims, of sends a crash cut, and settles
// them at once as unknown, as with bbolt, instead of waiting for their
// lease; takes its timers back at once; and goes on with its stretch of
// liveness, without a join wait, if it was down for less than a beat's
// life. Two processes running at once must never share
// one. Without it the name is random: a restart's claims are another's.
func WithOwner(name string) Option {
	return func(s *Store) {
		if name != "" {
			s.owner = name
		}
	}
}

// WithQueryTracer has t see every statement the store sends (pgx's
// tracing: its tracelog package logs them): what a diagnosis, or a test
// counting the statements of an operation, needs.
func WithQueryTracer(t pgx.QueryTracer) Option {
	return func(s *Store) { s.tracer = t }
}

// Close closes the pool. Calls after it return model.ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return model.ErrClosed
	}
	s.pool.Close()
	s.locks.Close()
	return nil
}

// Pool is the store's connection pool, for what the store does not do
// itself (tests, LISTEN).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// live returns ErrClosed after Close, and ctx's error once it is done.
func (s *Store) live(ctx context.Context) error {
	if s.closed.Load() {
		return model.ErrClosed
	}
	return ctx.Err()
}

// tx runs fn in a read-write transaction and commits it, or rolls it back
// when fn fails. A serialization failure or deadlock retries fn, up to a
// few times.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	if err := s.live(ctx); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := pgx.BeginFunc(ctx, s.pool, fn)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") && attempt < 5 {
			continue
		}
		return s.wrap(err)
	}
}

// view runs fn in a read-only transaction that sees one snapshot.
func (s *Store) view(ctx context.Context, fn func(pgx.Tx) error) error {
	if err := s.live(ctx); err != nil {
		return err
	}
	return s.wrap(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn))
}

// querier is what one statement runs on: the pool, or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// read runs fn, which issues a single statement, on the pool, outside any
// transaction: one statement sees one snapshot by itself, so a read-only
// transaction (view) would only add the round trips of its BEGIN and
// COMMIT. The engine's turns make several such reads each (contact,
// conversation, message, outbox), and on a loaded machine each round trip
// is a wait for the scheduler on both sides.
func (s *Store) read(ctx context.Context, fn func(querier) error) error {
	if err := s.live(ctx); err != nil {
		return err
	}
	return s.wrap(fn(s.pool))
}

// wrap turns the pool's error after Close into model.ErrClosed.
func (s *Store) wrap(err error) error {
	if err != nil && s.closed.Load() && !errors.Is(err, model.ErrClosed) {
		return fmt.Errorf("pgstore: %w (%v)", model.ErrClosed, err)
	}
	return err
}

// ns is t as nanoseconds since the Unix epoch, clamped to int64: what
// orders and filters.
func ns(t time.Time) int64 {
	switch {
	case t.IsZero() || t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// checkKey refuses what PostgreSQL text cannot hold (a NUL byte) and an
// empty key.
func checkKey(what, k string) error {
	if k == "" {
		return fmt.Errorf("pgstore: empty %s", what)
	}
	if strings.IndexByte(k, 0) >= 0 {
		return fmt.Errorf("pgstore: %s %q contains a NUL byte", what, k)
	}
	return nil
}

// lockKey takes a transaction-scoped advisory lock on key of a class.
func lockKey(ctx context.Context, tx pgx.Tx, class int32, key string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, class, key)
	return err
}

// lock takes a transaction-scoped advisory lock of the whole database.
func lock(ctx context.Context, tx pgx.Tx, key int64) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, key)
	return err
}
