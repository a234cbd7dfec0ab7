package pgstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/pgstore"
	"github.com/parleyhq/parley/engine/storetest"
)

// testURL is the database of the tests, from PARLEY_TEST_POSTGRES; without
// it the test is skipped.
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("PARLEY_TEST_POSTGRES")
	if u == "" {
		t.Skip("PARLEY_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable): skipping the PostgreSQL tests")
	}
	return u
}

var schemas sync.Map // path → schema created

// runSalt makes this run's schema names its own: a path may be a test's
// name, the same in every run, and a run whose cleanup could not connect
// (PostgreSQL's connections all taken) leaves its schemas behind; another
// run, of another worktree say, may be using the same names meanwhile.
var runSalt = func() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}()

// openAt opens a store on the schema of path: one schema per distinct
// path, made on first use and dropped at the end of the test that made
// it, so tests run in parallel on one database.
func openAt(t testing.TB, path string) *pgstore.Store {
	t.Helper()
	return openAtWith(t, path)
}

// openAtWith is openAt with options.
func openAtWith(t testing.TB, path string, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	st, err := pgstore.Open(t.Context(), urlAt(t, path), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// urlAt is the URL of path's schema, made on first use.
func urlAt(t testing.TB, path string) string {
	t.Helper()
	base := testURL(t)
	sum := sha256.Sum256([]byte(runSalt + path))
	schema := "t_" + hex.EncodeToString(sum[:10])
	if _, loaded := schemas.LoadOrStore(path, schema); !loaded {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `CREATE SCHEMA `+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			conn, err := pgx.Connect(context.Background(), base)
			if err == nil {
				_, _ = conn.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
				conn.Close(context.Background())
			}
		})
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	if !q.Has("pool_max_conns") {
		// Up to 8 connections a store, not 24: the tests of this package
		// and of cmd/parley run at once on one server, and its
		// max_connections (100 by default) is shared by them all.
		q.Set("pool_max_conns", "4")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func TestStore(t *testing.T) {
	testURL(t)
	storetest.Run(t, func(t *testing.T, path string) model.Store { return openAt(t, path) })
}

func TestRecords(t *testing.T) {
	testURL(t)
	storetest.RunRecords(t, storetest.Backend{Shared: true, Open: func(t *testing.T, path string) storetest.Records { return openAt(t, path) }})
}
