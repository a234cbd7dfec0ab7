package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
)

// TestContactsImport drives `parley contacts import` on a temp data dir: a
// dry run stores nothing, an import stores the contacts with their consent,
// importing again adds nothing twice, a bad file imports nothing and names
// each problem, and a data file in use says what to do instead.
func TestContactsImport(t *testing.T) {
	data := t.TempDir()
	st, err := boltstore.Open(filepath.Join(data, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	write := func(name, text string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.csv", "phone,name,opted_in,opted_in_at,purpose\n+49 151 2345 6789,Ida,true,2026-01-01,Order updates\n15551234567,Ann,,,\n")
	bad := write("bad.csv", "phone,opted_in_at,tags\n15550000001,2026-01-01,\n,,\n")
	steps := []struct {
		name    string
		args    []string
		code    int
		out     string // in stdout, or stderr when code != 0
		missing string // not in the output
	}{
		{"dry run", []string{"--dry-run", good}, 0, "would import (dry run) 2 rows: 2 contacts created, 0 updated, 1 opt-ins", ""},
		{"import", []string{good}, 0, "imported 2 rows: 2 contacts created, 0 updated, 1 opt-ins, 0 opt-outs", ""},
		{"again: nothing twice", []string{good}, 0, "0 contacts created, 2 updated, 0 opt-ins", ""},
		{"bad file", []string{bad}, 1, "row 2, column opted_in:", "imported 2"},
		{"bad file: every problem", []string{bad}, 1, "nothing imported: 2 rows", ""},
		{"bad file, as JSON", []string{"--json", bad}, 1, `"column": "opted_in"`, ""},
		{"no file", []string{filepath.Join(data, "nope.csv")}, 1, "no such file", ""},
		{"two files", []string{good, bad}, 2, "give one CSV file", ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			args := append([]string{"contacts", "import", "--data", data, "--phone-number-id", "1065"}, s.args...)
			code, out, errOut := parley(t, "", args...)
			got := out
			if code != 0 {
				got = errOut + out
			}
			if code != s.code || !strings.Contains(got, s.out) || (s.missing != "" && strings.Contains(got, s.missing)) {
				t.Fatalf("exit %d, want %d; output:\n%s\nwant it to contain %q", code, s.code, got, s.out)
			}
		})
	}

	st, err = boltstore.Open(filepath.Join(data, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	ida, err := st.Contact(t.Context(), model.NewContactKey("1065", "4915123456789"))
	if err != nil || ida.Name != "Ida" || !ida.OptedIn || len(ida.Consent) != 1 || !strings.HasPrefix(ida.Consent[0].By, "cli:") {
		t.Fatalf("imported contact: %+v, %v", ida, err)
	}
	if _, err := st.Contact(t.Context(), model.NewContactKey("1065", "15550000001")); err == nil {
		t.Error("a contact of the bad file was stored")
	}
	// While the file is open (as by a running serve), the command says so.
	code, _, errOut := parley(t, "", "contacts", "import", "--data", data, good)
	st.Close()
	if code != 1 || !strings.Contains(errOut, "is in use") || !strings.Contains(errOut, "POST /api/v1/contacts/import") {
		t.Fatalf("with the data file in use: exit %d, %s", code, errOut)
	}
}

// TestContactsImportNumbers: on a data directory a Parley served, the
// import's rows belong to the number it served, without a flag; a number
// it never served is refused, row by row, and nothing is imported.
func TestContactsImportNumbers(t *testing.T) {
	data := t.TempDir()
	st, err := boltstore.Open(filepath.Join(data, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	// What serve does at start: the engine records the number it serves.
	if _, err := engine.New(t.Context(), engine.Options{Store: st, Templates: templates.NewSet(),
		PhoneNumbers: []engine.PhoneNumber{{ID: "100000000000001", Display: "15550000001"}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	csv := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(csv, []byte("phone,name\n15551234567,Ann\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	madeUp := filepath.Join(t.TempDir(), "made-up.csv")
	if err := os.WriteFile(madeUp, []byte("phone,name,phone_number_id\n15551234567,Ann,123456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"a made-up number", []string{"--phone-number-id", "999", csv}, 1, "row 2, column phone_number_id: 999 is not a business number Parley serves (100000000000001)"},
		{"a made-up number in a row", []string{madeUp}, 1, "row 2, column phone_number_id: 123456 is not a business number"},
		{"the number served", []string{csv}, 0, "imported 1 rows: 1 contacts created"},
	} {
		t.Run(s.name, func(t *testing.T) {
			code, out, errOut := parley(t, "", append([]string{"contacts", "import", "--data", data}, s.args...)...)
			if code != s.code || !strings.Contains(errOut+out, s.out) {
				t.Fatalf("exit %d, want %d; output:\n%s%s\nwant it to contain %q", code, s.code, errOut, out, s.out)
			}
		})
	}
	st, err = boltstore.Open(filepath.Join(data, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c, err := st.Contact(t.Context(), model.NewContactKey("100000000000001", "15551234567")); err != nil || c.Name != "Ann" {
		t.Errorf("the imported contact of the number served: %+v, %v", c, err)
	}
}
