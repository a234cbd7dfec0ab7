package flows

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/parleyhq/parley/schemas"
)

var update = flag.Bool("update", false, "rewrite the .expect files of testdata/valid and testdata/invalid from current output")

// expectLine is how one problem is written in a .expect file: severity and
// pointer (what the test compares), then the message as a comment for the
// reader ("/" is the document root, as in Problem.String).
func expectLine(p Problem) string {
	ptr := p.Pointer
	if ptr == "" {
		ptr = "/"
	}
	return fmt.Sprintf("%s %s  # %s", p.Severity, ptr, p.Message)
}

// expectKey is the compared part of an expect line.
func expectKey(line string) string {
	if i := strings.Index(line, "  # "); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

func readExpect(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		keys = append(keys, expectKey(line))
	}
	return keys
}

func writeExpect(t *testing.T, path string, ps Problems) {
	t.Helper()
	if len(ps) == 0 {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return
	}
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(expectLine(p))
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkGolden compares a flow's problems with its .expect file.
func checkGolden(t *testing.T, jsonPath string, ps Problems) {
	t.Helper()
	expPath := strings.TrimSuffix(jsonPath, ".json") + ".expect"
	if *update {
		writeExpect(t, expPath, ps)
		return
	}
	want := readExpect(t, expPath)
	var got []string
	for _, p := range ps {
		got = append(got, expectKey(expectLine(p)))
	}
	if !reflect.DeepEqual(got, want) {
		var b strings.Builder
		for _, p := range ps {
			b.WriteString("\n  " + expectLine(p))
		}
		t.Errorf("problems differ from %s\n got:%s\nwant:\n  %s", filepath.Base(expPath), b.String(), strings.Join(want, "\n  "))
	}
}

func testdataFlows(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no flows in testdata/%s", dir)
	}
	return files
}

// TestValidFlows: every flow in testdata/valid parses with no error, and
// any warning it has is pinned in a sibling .expect file.
func TestValidFlows(t *testing.T) {
	for _, path := range testdataFlows(t, "valid") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, ps := Parse(data)
			if err := ps.Err(); err != nil {
				t.Fatal(err)
			}
			if f == nil {
				t.Fatal("no flow returned")
			}
			checkGolden(t, path, ps)
		})
	}
}

// TestSchemaAcceptsValidFlows checks the schema alone: it must not
// refuse what the whole validator accepts.
func TestSchemaAcceptsValidFlows(t *testing.T) {
	for _, path := range testdataFlows(t, "valid") {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if ps := checkSchema(data); len(ps) > 0 {
			t.Errorf("%s:\n%s", path, problemList(ps))
		}
	}
}

// TestInvalidFlows: every flow in testdata/invalid reports exactly the
// problems (severity and pointer) its .expect file lists, in that order.
// Regenerate with -update, then read the diff: the messages are there too.
func TestInvalidFlows(t *testing.T) {
	files := testdataFlows(t, "invalid")
	if len(files) < 25 {
		t.Errorf("the invalid corpus has %d flows; keep one per problem kind", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, ps := Parse(data)
			if len(ps) == 0 {
				t.Fatal("no problem reported")
			}
			if !*update {
				if _, err := os.Stat(strings.TrimSuffix(path, ".json") + ".expect"); err != nil {
					t.Fatalf("missing expectation: %v", err)
				}
			}
			checkGolden(t, path, ps)
		})
	}
}

// TestProblemMessages pins the wording of the common problems: these are
// what an analyst reads in the editor.
func TestProblemMessages(t *testing.T) {
	const head = `"format":"parley/flow@1","id":"f","start":"a"`
	node := func(nodes string) string { return `{` + head + `,"nodes":[` + nodes + `]}` }
	bye := `{"id":"bye","type":"send","message":{"type":"text","text":"Bye"}}`
	tests := []struct {
		name, doc, ptr, want string
	}{
		{"missing field", node(`{"id":"a","type":"branch"}`), "/nodes/0", `branch "a" has no cases and no default; it needs at least one of them`},
		{"wait without next", node(`{"id":"a","type":"wait_reply"}`), "/nodes/0", `wait "a" has no next: connect its "next" exit to the node that comes after the answer`},
		{"empty exit", node(`{"id":"a","type":"send","message":{"type":"text","text":"x"},"next":""}`), "/nodes/0/next",
			"is not connected: drag from this exit's handle to the node it leads to, or remove it"},
		{"choice exit", node(`{"id":"a","type":"wait_reply","prompt":{"type":"buttons","text":"x","buttons":[{"id":"o","title":"O","next":"zz"}]},"accept":"button","next":"a"}`), "/nodes/0/prompt/buttons/0/next",
			`names node "zz", which does not exist; did you mean "a"?`},
		{"choice on a send", node(`{"id":"a","type":"send","message":{"type":"buttons","text":"x","buttons":[{"id":"o","title":"O","next":"a"}]}}`), "/nodes/0/message/buttons/0/next",
			"only the choices of a wait's question can lead somewhere: this message does not wait for the answer. Move the choices to a wait_reply's prompt, or remove this connection"},
		{"choice never taken", node(`{"id":"a","type":"wait_reply","prompt":{"type":"buttons","text":"x","buttons":[{"id":"o","title":"O","next":"a"}]},"accept":"text","next":"a"}`), "/nodes/0/prompt/buttons/0/next",
			`is never taken: wait "a" accepts text, so a typed answer stays text even when it names this choice; accept any, button or list`},
		{"silent wait", node(`{"id":"a","type":"wait_reply","meta":{"label":"Pick a size"},"prompt":{"type":"list","text":"x","button":"Sizes","sections":[{"rows":[{"id":"s","title":"Small"}]}]},"accept":"list","next":"a"}`), "/nodes/0",
			`wait "Pick a size" says nothing when the customer types something that is not one of its choices; add a retry message such as "Please tap one of the buttons."`},
		{"long name", node(`{"id":"a","type":"wait_reply","prompt":{"type":"buttons","text":"x","buttons":[{"id":"me","title":"I am {{ contact.name }}"}]},"next":"a"}`), "/nodes/0/prompt/buttons/0/title",
			"is 30 characters with a 25-character name, over WhatsApp's 20: for customers with long names the message is refused. Shorten the text around the name"},
		{"unknown field", node(`{"id":"a","type":"send","message":{"type":"text","text":"x"},"nxt":"a"}`), "/nodes/0",
			`unknown field "nxt"; did you mean "next"? (allowed here: id, message, meta, next, on_error, on_window_closed, type)`},
		{"too long", node(`{"id":"a","type":"send","message":{"type":"buttons","text":"x","buttons":[{"id":"a","title":"1234567890123456789012345"}]}}`),
			"/nodes/0/message/buttons/0/title", "is 25 characters; WhatsApp allows at most 20"},
		{"http GET with a body", node(`{"id":"a","type":"http","method":"GET","url":"https://x.example.com/","body":{"a":1},"on_error":"bye"},` + bye), "/nodes/0/body",
			"a GET request carries no body; use POST, PUT or PATCH to send one, or put the values in the url"},
		{"http timeout over the cap", node(`{"id":"a","type":"http","method":"GET","url":"https://x.example.com/","timeout":"1m","on_error":"bye"},` + bye), "/nodes/0/timeout",
			"is 1m; an attempt may take at most 30s (the conversation waits on it)"},
		{"secret outside an http node", node(`{"id":"a","type":"send","message":{"type":"text","text":"{{ secrets.token }}"}}`), "/nodes/0/message/text",
			"{{ secrets.token }}: secrets may be used only in an http node's url, headers and body, each alone in its {{ }} as {{ secrets.NAME }}"},
		{"http host from a variable", node(`{"id":"a","type":"http","method":"GET","url":"https://{{ vars.h }}/x","on_error":"bye"},` + bye), "/nodes/0/url",
			"must name its host without {{ }}: write the host out, then use {{ }} in the path or the query"},
		{"enum", node(`{"id":"a","type":"sned"}`), "/nodes/0/type",
			`is "sned"; must be one of "send", "wait_reply", "branch", "template", "handoff", "auto_reply", "set", "http" (did you mean "send"?)`},
		{"id pattern", node(`{"id":"Greet","type":"send","message":{"type":"text","text":"x"}}`), "/nodes/0/id",
			`is "Greet"; must be 1–64 lowercase letters, digits or _`},
		{"type", node(`{"id":"a","type":"send","message":{"type":"text","text":"x"},"next":5}`), "/nodes/0/next", "must be a string, not 5"},
		{"const", `{"format":"parley/flow@2","id":"f","start":"a","nodes":[` + bye + `]}`, "/format", `is "parley/flow@2"; must be "parley/flow@1"`},
		{"missing node", node(`{"id":"a","type":"send","message":{"type":"text","text":"x"},"next":"by"},` + bye), "/nodes/0/next",
			`names node "by", which does not exist; did you mean "bye"?`},
		{"unknown name", node(`{"id":"a","type":"branch","cases":[{"when":"reply.butonid == 'yes'","next":"bye"}]},` + bye), "/nodes/0/cases/0/when",
			`expression "reply.butonid == 'yes'": unknown name butonid (reply has type, text, button_id, list_id, title, number, is_number, location, media, contacts, order, reaction, context, referral, flow_response)`},
		{"not boolean", node(`{"id":"a","type":"branch","cases":[{"when":"reply.text","next":"bye"}]},` + bye), "/nodes/0/cases/0/when",
			`expression "reply.text": gives text, but a condition must be true or false`},
		{"interpolation", node(`{"id":"a","type":"send","message":{"type":"text","text":"Hi {{ contact.nmae }}"}}`), "/nodes/0/message/text",
			`{{ contact.nmae }}: unknown name nmae (contact has wa_id, name, language, tags, fields, opted_in)`},
		{"unclosed", node(`{"id":"a","type":"send","message":{"type":"text","text":"Hi {{ contact.name"}}`), "/nodes/0/message/text",
			"opens {{ with no closing }}"},
		{"loop", node(`{"id":"a","type":"send","message":{"type":"text","text":"x"},"next":"b"},{"id":"b","type":"set","vars":{"n":"1"},"next":"a"}`), "/nodes/0",
			"loop with no wait in it: a → b → a; each pass runs without the customer, so it can spin until the conversation fails. Put a wait_reply, handoff or auto_reply on the loop"},
		{"window closing too early", node(`{"id":"a","type":"wait_reply","on_window_closing":{"before":"25h","next":"a"},"next":"a"}`), "/nodes/0/on_window_closing/before",
			"is 25h; the window stays open only 24h after the customer's last message, so the exit must come less than 24h before it closes (30m, say)"},
		{"window closing at once", node(`{"id":"a","type":"wait_reply","on_window_closing":{"before":"0m","next":"a"},"next":"a"}`), "/nodes/0/on_window_closing/before",
			`is "0m"; must be longer than zero`},
		{"malformed", `{"format": "parley/flow@1",` + "\n" + `  "id": }`, "", `malformed JSON at line 2, column 9 (offset 36): invalid character '}' looking for beginning of value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := Parse([]byte(tt.doc))
			for _, p := range ps {
				if p.Pointer == tt.ptr && p.Message == tt.want {
					return
				}
			}
			t.Errorf("want %q at %q; got:\n%s", tt.want, tt.ptr, problemList(ps))
		})
	}
}

func problemList(ps Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}

// TestUnknownFieldsDoNotHideOtherProblems: strict decoding refuses a flow
// with an unknown field, yet its graph and expressions are still checked.
func TestUnknownFieldsDoNotHideOtherProblems(t *testing.T) {
	doc := `{"format":"parley/flow@1","id":"f","start":"a","colour":"red","nodes":[
		{"id":"a","type":"send","message":{"type":"text","text":"x"},"nxt":"b","next":"nowhere"}]}`
	f, ps := Parse([]byte(doc))
	if f != nil {
		t.Error("a flow with unknown fields must not be returned")
	}
	want := []string{"error /", "error /nodes/0", "error /nodes/0/next"}
	var got []string
	for _, p := range ps {
		got = append(got, string(p.Severity)+" "+orRoot(p.Pointer))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v:\n%s", got, want, problemList(ps))
	}
}

func orRoot(ptr string) string {
	if ptr == "" {
		return "/"
	}
	return ptr
}

// TestCheckSurvivesBrokenFlows calls check on flows no document decodes
// to, and on fields of the wrong node type: it must not panic.
func TestCheckSurvivesBrokenFlows(t *testing.T) {
	zero := 0
	flows := []*Flow{
		nil,
		{},
		{Nodes: []*Node{nil, {}, {ID: "a"}, nil}},
		{Start: "a", Reengage: "a", Nodes: []*Node{
			{ID: "a", Type: TypeSend, Next: "a"},
			{ID: "a", Type: TypeBranch},
			{ID: "b", Type: TypeWaitReply, MaxRetries: &zero, OnTimeout: "a", OnWindowClosed: "a"},
			{ID: "c", Type: TypeTemplate, Next: "a"},
			{ID: "d", Type: TypeAutoReply, Rules: []Rule{{}}, Hours: &Hours{Open: map[string][]string{"mon": {"x", "10:00-09:00"}}}},
			{ID: "e", Type: TypeHandoff, OnNoAgent: "zz"},
			{ID: "f", Type: TypeSet, SetVars: map[string]string{"": ""}},
			{ID: "g", Type: "mystery", Next: "g"},
			{ID: "h", Type: TypeSend, OnWindowClosing: &WindowClosing{Next: "zz"}},
			{ID: "i", Type: TypeWaitReply, OnWindowClosing: &WindowClosing{Before: -1}},
			{ID: "", Type: TypeSend, Message: &Message{Type: MsgList, Sections: []Section{{}, {Rows: []Row{{}, {}}}}}},
		}},
	}
	for i, f := range flows {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			ps := f.check()
			sortProblems(ps)
		})
	}
}

// TestSchemaAlternativesWorded: every oneOf/anyOf of the schema has its own
// message, and every pattern says in words what it wants.
func TestSchemaAlternativesWorded(t *testing.T) {
	var doc any
	if err := json.Unmarshal(schemas.Flow, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any, ptr string)
	walk = func(v any, ptr string) {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				p := ptr + "/" + escapeToken(k)
				switch k {
				case "oneOf", "anyOf":
					if _, ok := alternativeMessages[p]; !ok {
						t.Errorf("%s has no entry in alternativeMessages", p)
					}
				case "pattern":
					if s, ok := sub.(string); ok {
						if _, ok := patternMessages[s]; !ok {
							t.Errorf("pattern %s at %s has no entry in patternMessages", s, p)
						}
					}
				case "not":
					t.Errorf("%s: a failed not reads as nonsense; say it another way", p)
				}
				walk(sub, p)
			}
		case []any:
			for i, sub := range x {
				walk(sub, fmt.Sprintf("%s/%d", ptr, i))
			}
		}
	}
	walk(doc, "")
	for p := range alternativeMessages {
		if _, ok := resolve(doc, p); !ok {
			t.Errorf("alternativeMessages names %s, which the schema does not have", p)
		}
	}
}

// TestMessageStringsMatchForEachString: the validator checks exactly the
// strings that rendering interpolates, so nothing is rendered unchecked.
func TestMessageStringsMatchForEachString(t *testing.T) {
	m := &Message{}
	n := 0
	// Give every string field a distinct value, through every slice and pointer.
	m.Media = &Media{}
	m.Buttons = make([]Button, 2)
	m.Sections = []Section{{Rows: make([]Row, 2)}, {Rows: make([]Row, 1)}}
	forEachString(m, false, func(s *string) { n++; *s = fmt.Sprint("s", n) })
	var rendered, checked []string
	forEachString(m, false, func(s *string) { rendered = append(rendered, *s) })
	messageStrings(m, func(_, s string) { checked = append(checked, s) })
	sort.Strings(rendered)
	sort.Strings(checked)
	if !reflect.DeepEqual(rendered, checked) {
		t.Errorf("forEachString visits %v\nmessageStrings visits %v", rendered, checked)
	}
	// Each pointer must name the field it reports.
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	messageStrings(m, func(ptr, s string) {
		if v, ok := resolve(doc, ptr); !ok || v != s {
			t.Errorf("%s resolves to %v, want %q", ptr, v, s)
		}
	})
}

func TestComparePointers(t *testing.T) {
	ordered := []string{
		"",
		"/format",
		"/id",
		"/start",
		"/nodes",
		"/nodes/2",
		"/nodes/2/id",
		"/nodes/2/message",
		"/nodes/2/message/text",
		"/nodes/2/cases/0/when",
		"/nodes/2/cases/1/next",
		"/nodes/2/next",
		"/nodes/10",
		"/nodes/10/zzz_unknown",
	}
	for i := range ordered {
		for j := range ordered {
			got := comparePointers(ordered[i], ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("comparePointers(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestParseIsDeterministic(t *testing.T) {
	for _, path := range testdataFlows(t, "invalid") {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, first := Parse(data)
		for i := 0; i < 5; i++ {
			if _, again := Parse(data); !reflect.DeepEqual(first, again) {
				t.Fatalf("%s: problems changed between runs:\n%s---\n%s", path, problemList(first), problemList(again))
			}
		}
	}
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "valid", "order_status.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, ps := Parse(data); ps.HasErrors() {
			b.Fatal(ps.Err())
		}
	}
}

// TestExpressionLimits: validation cost stays bounded however many or long
// the expressions of an upload are.
func TestExpressionLimits(t *testing.T) {
	vars := make(map[string]string, MaxExpressions+5)
	for i := 0; i < MaxExpressions+5; i++ {
		vars[fmt.Sprintf("v%d", i)] = fmt.Sprintf("%d", i)
	}
	long := strings.Repeat("1 + ", MaxExpressionLen/4) + "1"
	f := &Flow{Start: "a", Nodes: []*Node{
		{ID: "a", Type: TypeSet, SetVars: vars, Next: "b"},
		{ID: "b", Type: TypeBranch, Cases: []Case{{When: long, Next: "a"}}},
	}}
	var capped, tooLong int
	for _, p := range f.check() {
		switch {
		case p.Pointer == "" && strings.Contains(p.Message, "distinct expressions"):
			capped++
		case p.Pointer == "/nodes/1/cases/0/when" && strings.Contains(p.Message, "characters; at most"):
			tooLong++
		}
	}
	if capped != 1 || tooLong != 1 {
		t.Errorf("got %d cap and %d length problems, want one each", capped, tooLong)
	}
}
