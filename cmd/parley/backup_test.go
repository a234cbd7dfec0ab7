package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/boltstore"
)

// TestBackupAndDamagedDataFile drives `parley backup` and a `parley serve`
// on a damaged data file: serve refuses it (exit 1) saying what is wrong
// and how to restore, never starts empty over it, and the backup restores.
func TestBackupAndDamagedDataFile(t *testing.T) {
	data := t.TempDir()
	db := filepath.Join(data, "parley.db")
	backup := filepath.Join(t.TempDir(), "backup.db")
	if code, _, errOut := parley(t, "a long enough password\n", "user", "add", "--data", data, "--email", "ana@example.com", "--name", "Ana", "--role", "admin"); code != 0 {
		t.Fatal(errOut)
	}
	if code, out, errOut := parley(t, "", "backup", "--data", data, backup); code != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errOut)
	}
	if err := boltstore.CheckFile(backup); err != nil {
		t.Fatal(err)
	}

	// While the file is in use, as by a running serve, backup says what to do.
	st, err := boltstore.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := parley(t, "", "backup", "--data", data, backup)
	st.Close()
	if code != 1 || !strings.Contains(errOut, "is in use") || !strings.Contains(errOut, "GET /api/v1/admin/backup") {
		t.Fatalf("backup of a file in use: exit %d, %s", code, errOut)
	}

	good, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	damages := []struct {
		name string
		size int64
		want string
	}{
		{"empty", 0, "is empty (0 bytes)"},
		{"truncated", int64(len(good)) / 2, "is truncated"},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			if err := os.WriteFile(db, good[:d.size], 0o600); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := parley(t, "", "serve", "--data", data, "-addr", "127.0.0.1:0")
			if code != 1 || !strings.Contains(errOut, d.want) || !strings.Contains(errOut, "restore the file from a backup (`parley backup`") {
				t.Fatalf("serve on a damaged file: exit %d\n%s", code, errOut)
			}
			if fi, _ := os.Stat(db); fi.Size() != d.size {
				t.Errorf("serve changed the refused file: %d bytes, was %d", fi.Size(), d.size)
			}
		})
	}

	// Restoring is copying the backup over the data file.
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := parley(t, "", "user", "list", "--data", data); code != 0 || !strings.Contains(out, "ana@example.com") {
		t.Fatalf("after restoring: exit %d\n%s%s", code, out, errOut)
	}
}
