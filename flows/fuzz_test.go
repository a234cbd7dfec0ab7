package flows

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/parleyhq/parley/internal/fuzztest"
)

// FuzzParse: whatever bytes arrive (an editor upload, an import), Parse
// must not panic, must report problems in document order at pointers that
// exist in the document, and a flow it accepts must survive a round trip
// through its own JSON encoding.
func FuzzParse(f *testing.F) {
	for _, data := range fuzztest.Files(f, "../testdata/valid/*.json", "../testdata/invalid/*.json") {
		f.Add(data)
	}
	fuzztest.MinimizeAtMost(f, 5000)
	f.Fuzz(func(t *testing.T, data []byte) {
		flow, ps := Parse(data)
		for i := 1; i < len(ps); i++ {
			if comparePointers(ps[i-1].Pointer, ps[i].Pointer) > 0 {
				t.Fatalf("problems out of order: %s before %s", ps[i-1], ps[i])
			}
		}
		for _, p := range ps {
			if p.Message == "" || (p.Severity != Error && p.Severity != Warning) {
				t.Fatalf("malformed problem %#v", p)
			}
		}
		var doc any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if json.Valid(data) && dec.Decode(&doc) == nil {
			for _, p := range ps {
				if _, ok := resolve(doc, p.Pointer); !ok {
					t.Fatalf("%s points at nothing in the document", p)
				}
			}
		}
		if flow == nil || ps.HasErrors() {
			return
		}
		again, err := json.Marshal(flow)
		if err != nil {
			t.Fatalf("an accepted flow does not encode: %v", err)
		}
		if _, ps2 := Parse(again); ps2.HasErrors() {
			t.Fatalf("an accepted flow is refused after a round trip:\n%s\nre-encoded: %s", problemList(ps2), again)
		}
	})
}
