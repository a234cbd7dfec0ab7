package pgstore

import (
	"io/fs"
	"strings"
	"testing"
)

// TestMigrationVersions: the embedded migrations have distinct version
// numbers, and two of one number are refused (two branches that each
// added "the next" migration must not merge silently).
func TestMigrationVersions(t *testing.T) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := distinctVersions(names); err != nil {
		t.Fatal(err)
	}
	err = distinctVersions([]string{"migrations/0004_a.sql", "migrations/04_b.sql"})
	if err == nil || !strings.Contains(err.Error(), "share version 4") {
		t.Fatalf("two migrations of version 0004: %v", err)
	}
}
