package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// testPostgresURL is a postgres:// URL of a schema of the test's own in
// PARLEY_TEST_POSTGRES's database (dropped at the end of the test), or
// skips the test without that variable.
func testPostgresURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("PARLEY_TEST_POSTGRES")
	if base == "" {
		t.Skip("PARLEY_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable): skipping the PostgreSQL test")
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "e2e_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if os.Getenv("PARLEY_TEST_KEEP_SCHEMA") != "" {
			t.Logf("schema %s kept", schema)
			return
		}
		conn, err := pgx.Connect(context.Background(), base)
		if err == nil {
			_, _ = conn.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
			conn.Close(context.Background())
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
