package flows

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

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

// FuzzEval: an expression that passed validation runs at any time against
// what customers control (their reply, their name, a field, a variable a
// reply was saved to). It answers a value or an error, never a panic, and
// the same twice; and interpolating a customer's words inserts them as
// written, never evaluated, whatever {{ }} they hold.
func FuzzEval(f *testing.F) {
	for _, data := range fuzztest.Files(f, "../testdata/valid/*.json", "../flows/examples/*.json") {
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			f.Fatal(err)
		}
		for _, src := range expressionsIn(doc, "") {
			f.Add(src, "I want a refund, {{ contact.name }}", "Ana", "7")
		}
	}
	f.Add(`reply.text matches '^[0-9]{4,}$'`, "12345", "", "")
	f.Add(`vars.answer + contact.fields.city`, "x", "y", "z")
	f.Add(`int(vars.answer) > 3`, "4", "", "")
	f.Add(`upper(reply.text)[0:3] == "ABC"`, "abcdef", "", "")
	f.Add(`len(contact.tags) > 0 && contact.tags[0] == reply.text`, "vip", "", "")
	f.Fuzz(func(t *testing.T, src, text, name, field string) {
		flow := &Flow{} // a flow caches its programs: one per run keeps memory flat
		env := &Env{
			Contact: Contact{Name: name, Tags: []string{text}, Fields: map[string]any{"city": field}},
			Vars:    map[string]any{"answer": text, "count": float64(len(text))},
			Reply:   Reply{Type: MsgText, Text: text},
			Now:     time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		}
		if got, err := flow.Interpolate("«{{ reply.text }}|{{ contact.name }}»", env); err != nil || got != "«"+text+"|"+name+"»" {
			t.Fatalf("customer words interpolated as %q, %v", got, err)
		}
		if _, err := compile(src, kindAny); err == nil {
			v, err := flow.Eval(src, env)
			v2, err2 := flow.Eval(src, env)
			if (err == nil) != (err2 == nil) || (err == nil && Stringify(v) != Stringify(v2)) {
				t.Fatalf("%s: two answers, %v (%v) then %v (%v)", src, v, err, v2, err2)
			}
		}
		if _, err := compile(src, kindBool); err == nil {
			ok, err := flow.Test(src, env)
			if err != nil && ok {
				t.Fatalf("%s: true and an error %v", src, err)
			}
		}
	})
}

// expressionsIn lists the expressions of a flow document: conditions,
// validity checks, variables set, and the insides of {{ }}.
func expressionsIn(v any, key string) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			out = append(out, expressionsIn(e, k)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, expressionsIn(e, key)...)
		}
	case string:
		switch {
		case key == "when" || key == "valid":
			out = append(out, x)
		case strings.Contains(x, "{{"):
			if parts, err := splitText(x); err == nil {
				for _, p := range parts {
					if p.isExpr {
						out = append(out, p.expr)
					}
				}
			}
		}
	}
	return out
}
