package script_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/script"
	"github.com/parleyhq/parley/engine/templates"
)

// scriptCase is one conversation script and the flow it drives.
type scriptCase struct {
	name, script, flow, templates string
}

// cases finds every script: testdata/scripts/<topic>/*.script beside the
// topic's flow.json (and optional templates.json), and each example flow's
// <name>.script beside <name>.json.
func cases(t *testing.T) []scriptCase {
	t.Helper()
	var out []scriptCase
	topics, _ := filepath.Glob("../../testdata/scripts/*/flow.json")
	for _, flow := range topics {
		dir := filepath.Dir(flow)
		scripts, _ := filepath.Glob(filepath.Join(dir, "*.script"))
		tpl := filepath.Join(dir, "templates.json")
		if _, err := os.Stat(tpl); err != nil {
			tpl = ""
		}
		for _, s := range scripts {
			out = append(out, scriptCase{filepath.Base(dir) + "/" + strings.TrimSuffix(filepath.Base(s), ".script"), s, flow, tpl})
		}
	}
	examples, _ := filepath.Glob("../../flows/examples/*.script")
	for _, s := range examples {
		name := strings.TrimSuffix(s, ".script")
		out = append(out, scriptCase{"examples/" + filepath.Base(name), s, name + ".json", ""})
	}
	if len(out) == 0 {
		t.Fatal("no conversation scripts found")
	}
	return out
}

// TestScripts runs every conversation script twice: once with one engine,
// once closing and reopening the engine and its bbolt file between every
// step, which proves the state lives in the store.
func TestScripts(t *testing.T) {
	for _, c := range cases(t) {
		for _, reopen := range []bool{false, true} {
			name := c.name
			if reopen {
				name += "/reopen"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				runCase(t, c, reopen)
			})
		}
	}
}

func runCase(t *testing.T, c scriptCase, reopen bool) {
	flowDoc, err := os.ReadFile(c.flow)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(c.script)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := script.Parse(c.script, f)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "parley.db")
	opts := script.Options{
		OpenStore: func() (model.Store, error) { return boltstore.Open(db) },
		Reopen:    reopen,
	}
	if c.templates != "" {
		data, err := os.ReadFile(c.templates)
		if err != nil {
			t.Fatal(err)
		}
		var ts []model.TemplateInfo
		if err := json.Unmarshal(data, &ts); err != nil {
			t.Fatalf("%s: %v", c.templates, err)
		}
		opts.Templates = templates.NewSet(ts...)
	}
	res, err := script.Run(context.Background(), s, flowDoc, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range res.Failures {
		t.Errorf("%s:%s", c.script, fl)
	}
	if t.Failed() {
		t.Logf("transcript:\n  %s", strings.Join(res.Transcript, "\n  "))
	}
}

func TestParseRejectsUnknownStep(t *testing.T) {
	_, err := script.Parse("bad.script", strings.NewReader("> hi\n? what\n"))
	if err == nil || !strings.Contains(err.Error(), "bad.script:2") {
		t.Fatalf("want an error naming line 2, got %v", err)
	}
}

func TestTapOfAnIDNothingOffered(t *testing.T) {
	flowDoc, err := os.ReadFile("../../testdata/scripts/tap_like_a_phone/flow.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := script.Parse("tap.script", strings.NewReader("> hi\n< buttons: What would you like? [pizza:Pizza] [pasta:Pasta]\n> [sushi]\n"))
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "parley.db")
	_, err = script.Run(context.Background(), s, flowDoc, script.Options{OpenStore: func() (model.Store, error) { return boltstore.Open(db) }})
	if err == nil || !strings.Contains(err.Error(), `no message sent in this chat offers the id "sushi"`) {
		t.Fatalf("want a tap on nothing refused, got %v", err)
	}
}

// TestCallLinesMismatch: a ? line no call used and a call no ? line
// answers both fail the script, each with its line.
func TestCallLinesMismatch(t *testing.T) {
	flowDoc, err := os.ReadFile("../../testdata/scripts/http/flow.json")
	if err != nil {
		t.Fatal(err)
	}
	src := `@ secret shop_token: abc
> order
< text: Your order number?
> A-17
? GET https://shop.example.com/api/orders/A-18 => 200 {"status": "shipped"}
? POST https://crm.example.com/api/notes => 201
< text: Sorry, the shop is not answering.
`
	s, err := script.Parse("mismatch.script", strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "parley.db")
	res, err := script.Run(context.Background(), s, flowDoc, script.Options{OpenStore: func() (model.Store, error) { return boltstore.Open(db) }})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Failures {
		got = append(got, f.String())
	}
	want := []string{
		"line 5: ? GET https://shop.example.com/api/orders/A-18 => 200 {\"status\": \"shipped\"}\n    got: no such call was made",
		"line 6: ? POST https://crm.example.com/api/notes => 201\n    got: no such call was made",
		"line 4: > A-17\n    got: ? GET https://shop.example.com/api/orders/A-17 (a call no ? line answers)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("failures:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	for _, bad := range []string{"> hi\n? GET https://x/", "> hi\n? GET => 200", "> hi\n? GET https://x/ => 999"} {
		if _, err := script.Parse("bad.script", strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "bad.script:2") {
			t.Errorf("%q: %v, want an error naming line 2", bad, err)
		}
	}
	// A ? line above every step answers nothing.
	for _, bad := range []string{"? GET https://x/ => 200\n> hi"} {
		s, err := script.Parse("bad.script", strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := script.Run(context.Background(), s, flowDoc, script.Options{OpenStore: func() (model.Store, error) { return boltstore.Open(filepath.Join(t.TempDir(), "p.db")) }}); err == nil {
			t.Errorf("%q ran", bad)
		}
	}
}
