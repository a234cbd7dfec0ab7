package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/boltstore"
)

// TestCheckCommand drives `parley check`: a sound data file and its backup
// pass (exit 0) with what they hold; a file in use says what to do (exit 1).
func TestCheckCommand(t *testing.T) {
	data := t.TempDir()
	if code, _, errOut := parley(t, "a long enough password\n", "user", "add", "--data", data, "--email", "ana@example.com", "--name", "Ana", "--role", "admin"); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := parley(t, "", "check", "--data", data)
	if code != 0 || !strings.Contains(out, "no problem found") || !strings.Contains(out, "0 conversations") {
		t.Fatalf("check: exit %d\n%s%s", code, out, errOut)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if code, _, errOut := parley(t, "", "backup", "--data", data, backup); code != 0 {
		t.Fatal(errOut)
	}
	if code, out, errOut := parley(t, "", "check", backup); code != 0 || !strings.Contains(out, backup) {
		t.Fatalf("check of a backup: exit %d\n%s%s", code, out, errOut)
	}
	st, err := boltstore.Open(filepath.Join(data, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if code, _, errOut := parley(t, "", "check", "--data", data); code != 1 || !strings.Contains(errOut, "is in use") {
		t.Fatalf("check of a file in use: exit %d, %s", code, errOut)
	}
}
