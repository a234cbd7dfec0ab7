package engine_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/internal/fuzztest"
)

// FuzzImportContacts: any file uploaded as a contacts CSV is, in a dry run,
// either accepted with counts that add up or refused with consent.ErrImportInvalid
// and at most MaxImportProblems problems, each located and worded without
// echoing a long cell back; never another error, never a panic, and the
// same answer twice.
func FuzzImportContacts(f *testing.F) {
	for _, data := range fuzztest.Files(f, "testdata/import/*.csv") {
		f.Add(data)
	}
	f.Add([]byte("phone\n15551234567\n15551234567\n"))
	f.Add([]byte("user_id;name\nUS.1;x\n"))
	f.Add([]byte("phone,tags\n15551234567," + strings.Repeat("t;", 300) + "\n"))
	h := newHarness(f, echoFlow)
	// A stored contact who opted out, so that updates and consent
	// conflicts are reached too.
	if _, err := h.eng.ImportContacts(h.ctx, strings.NewReader("phone,opted_in,opted_in_at\n15551234567,false,2026-01-02\n"),
		consent.ImportOptions{PhoneNumberID: phone}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := consent.ImportOptions{PhoneNumberID: phone, DryRun: true}
		res, err := h.eng.ImportContacts(h.ctx, bytes.NewReader(data), opts)
		switch {
		case err == nil:
			if res.Rows < 1 || res.Created+res.Updated != res.Rows || res.OptIns+res.OptOuts > res.Rows || len(res.Problems) > 0 {
				t.Fatalf("accepted with counts that do not add up: %+v", res)
			}
		case errors.Is(err, consent.ErrImportInvalid):
			if len(res.Problems) < 1 || len(res.Problems) > consent.MaxImportProblems || res.MoreProblems < 0 {
				t.Fatalf("refused with %d problems (+%d)", len(res.Problems), res.MoreProblems)
			}
			for _, p := range res.Problems {
				if p.Row < 0 || p.Message == "" || len(p.Message) > 600 || len(p.Column) > 200 {
					t.Fatalf("malformed problem (%d-byte message, %d-byte column): %.300s", len(p.Message), len(p.Column), p)
				}
				if utf8.Valid(data) && !utf8.ValidString(p.String()) {
					t.Fatalf("a valid UTF-8 file gave an invalid problem: %q", p)
				}
			}
		default:
			t.Fatalf("ImportContacts = %v, want nil or ErrImportInvalid", err)
		}
		again, err2 := h.eng.ImportContacts(h.ctx, bytes.NewReader(data), opts)
		if !reflect.DeepEqual(res, again) || !errors.Is(err2, err) {
			t.Fatalf("two dry runs differ: %+v, %v / %+v, %v", res, err, again, err2)
		}
	})
}

// TestImportProblemClipsALongColumnName: an unknown column was reported
// with its whole name, so a header cell of megabytes came back in the
// answer (found by FuzzImportContacts).
func TestImportProblemClipsALongColumnName(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("0", 5000)
	res, err := h.eng.ImportContacts(h.ctx, strings.NewReader(long+",phone\n"), consent.ImportOptions{PhoneNumberID: phone, DryRun: true})
	if !errors.Is(err, consent.ErrImportInvalid) || len(res.Problems) != 1 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	if p := res.Problems[0]; len(p.Column) > 70 || !strings.HasPrefix(p.Column, "000") || !strings.HasSuffix(p.Column, "…") {
		t.Errorf("column of the problem: %q (%d bytes), want it clipped", p.Column, len(p.Column))
	}
}
