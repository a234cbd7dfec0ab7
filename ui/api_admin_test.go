package ui_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley/engine/boltstore"
)

// GET /admin/backup downloads a data file that passes the start-up check
// and holds what the live one does.
func TestAdminBackup(t *testing.T) {
	f := seeded(t)
	status, body := f.do("GET", "/api/v1/admin/backup", "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /admin/backup: %d %.200s", status, body)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := boltstore.CheckFile(path); err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if rec, err := st.Flow(t.Context(), "echo"); err != nil || rec.Published != 2 {
		t.Fatalf("flow echo in the backup: %+v, %v", rec, err)
	}
}
