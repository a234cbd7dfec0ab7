package pgstore_test

import (
	"context"
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

// openAt opens a store on the schema of path: one schema per distinct
// path, made on first use and dropped at the end of the test that made
// it, so tests run in parallel on one database.
func openAt(t testing.TB, path string, opts ...pgstore.Option) *pgstore.Store {
	t.Helper()
	base := testURL(t)
	sum := sha256.Sum256([]byte(path))
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
	u.RawQuery = q.Encode()
	st, err := pgstore.Open(t.Context(), u.String(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStore(t *testing.T) {
	testURL(t)
	storetest.Run(t, func(t *testing.T, path string) model.Store { return openAt(t, path) })
}

func TestRecords(t *testing.T) {
	testURL(t)
	storetest.RunRecords(t, storetest.Backend{Shared: true, Open: func(t *testing.T, path string) storetest.Records { return openAt(t, path) }})
}
