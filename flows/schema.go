package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/parleyhq/parley/schemas"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

var (
	schemaOnce sync.Once
	flowSchema *jsonschema.Schema
	// schemaDoc is the schema as plain JSON, so that a problem can be worded
	// from the keyword that failed (which fields are allowed, which values).
	schemaDoc any
)

// compiledSchema compiles the embedded schema on first use. The schema is
// part of the binary, so a schema that does not compile is a bug: it panics.
func compiledSchema() (*jsonschema.Schema, any) {
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		if err := c.AddResource(schemas.FlowURL, bytes.NewReader(schemas.Flow)); err != nil {
			panic(fmt.Sprintf("flows: embedded flow schema: %v", err))
		}
		s, err := c.Compile(schemas.FlowURL)
		if err != nil {
			panic(fmt.Sprintf("flows: embedded flow schema: %v", err))
		}
		if err := json.Unmarshal(schemas.Flow, &schemaDoc); err != nil {
			panic(fmt.Sprintf("flows: embedded flow schema: %v", err))
		}
		flowSchema = s
	})
	return flowSchema, schemaDoc
}

// alternativeMessages words the failure of each oneOf/anyOf of the schema.
// The library's own report of such a failure is every branch that did not
// match, which reads as nonsense to an analyst; keyed by schema location.
// TestSchemaAlternativesWorded fails when a oneOf/anyOf has no entry here.
var alternativeMessages = map[string]string{
	"/$defs/rule/oneOf":  `a rule needs exactly one of "keywords", "pattern" or "when"`,
	"/$defs/media/oneOf": `media needs exactly one of "link" (a public URL) or "id" (an uploaded media id)`,
}

// patternMessages says in words what each pattern of the schema asks for.
var patternMessages = map[string]string{
	`^[a-z0-9_]{1,64}$`:             "must be 1–64 lowercase letters, digits or _",
	`^[A-Za-z_][A-Za-z0-9_]{0,63}$`: "must be a variable name: a letter or _, then letters, digits or _ (at most 64)",
	`^(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`:           `must be a duration like "90s", "30m", "24h" or "1h30m"`,
	`^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$`: `must be a time range like "09:00-17:30" (24-hour clock)`,
	`^[a-z0-9_]+$`: "must be lowercase letters, digits or _, as WhatsApp template names are",
}

// checkSchema validates the raw document against schemas/flow.schema.json.
// Malformed JSON gives one problem at the root; otherwise every failing
// keyword gives one problem, worded for an analyst, at the JSON pointer of
// the value it concerns.
func checkSchema(data []byte) Problems {
	doc, err := decodeJSON(data)
	if err != nil {
		return Problems{{Error, "", err.Error()}}
	}
	sch, sdoc := compiledSchema()
	err = sch.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return Problems{{Error, "", fmt.Sprintf("the flow could not be checked against its schema: %v", err)}}
	}
	w := schemaWording{doc: doc, schema: sdoc, seen: map[Problem]bool{}}
	w.walk(ve)
	sortProblems(w.ps)
	return w.ps
}

// decodeJSON reads one JSON value, keeping numbers exact, and words a
// syntax error with its line and column.
func decodeJSON(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the document is empty; a flow is a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("malformed JSON at %s: %s", position(data, se.Offset), se.Error())
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("malformed JSON: the document ends at %s before every { and [ is closed", position(data, int64(len(data))))
		}
		return nil, fmt.Errorf("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("malformed JSON: unexpected data after the flow object at %s", position(data, dec.InputOffset()))
	}
	return v, nil
}

// position is "line L, column C (byte B)" of offset in data, counting from 1.
func position(data []byte, offset int64) string {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Sprintf("line %d, column %d (byte %d)", line, col, offset)
}

// schemaWording turns jsonschema's tree of errors into flat problems.
type schemaWording struct {
	doc    any // the instance
	schema any // the schema
	ps     Problems
	seen   map[Problem]bool
}

func (w *schemaWording) add(ptr, msg string) {
	p := Problem{Error, ptr, msg}
	if !w.seen[p] {
		w.seen[p] = true
		w.ps = append(w.ps, p)
	}
}

// walk keeps the leaves of the tree: the wrappers ("allOf failed",
// "if-then failed", "doesn't validate with …") say nothing an analyst can
// act on. A failed oneOf/anyOf is reported as itself, not as its branches.
func (w *schemaWording) walk(e *jsonschema.ValidationError) {
	spath := schemaPath(e.AbsoluteKeywordLocation)
	kw := lastSegment(spath)
	if kw == "oneOf" || kw == "anyOf" {
		msg, ok := alternativeMessages[spath]
		if !ok {
			msg = "does not match any of the forms allowed here"
		}
		w.add(instancePointer(e.InstanceLocation), msg)
		return
	}
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			w.walk(c)
		}
		return
	}
	w.leaf(e, spath, kw)
}

func (w *schemaWording) leaf(e *jsonschema.ValidationError, spath, kw string) {
	ptr := instancePointer(e.InstanceLocation)
	value, _ := resolve(w.doc, ptr)
	parent, _ := resolve(w.schema, parentPath(spath))
	sch, _ := parent.(map[string]any)

	switch kw {
	case "required":
		obj, _ := value.(map[string]any)
		req, _ := sch["required"].([]any)
		n := 0
		for _, r := range req {
			name, _ := r.(string)
			if _, ok := obj[name]; !ok {
				w.add(ptr, fmt.Sprintf("missing required field %q", name))
				n++
			}
		}
		if n > 0 {
			return
		}

	case "additionalProperties":
		obj, _ := value.(map[string]any)
		props, _ := sch["properties"].(map[string]any)
		allowed := make([]string, 0, len(props))
		for name := range props {
			allowed = append(allowed, name)
		}
		sort.Strings(allowed)
		var unknown []string
		for name := range obj {
			if _, ok := props[name]; !ok {
				unknown = append(unknown, name)
			}
		}
		sort.Strings(unknown)
		for _, name := range unknown {
			msg := fmt.Sprintf("unknown field %q", name)
			if s := closest(name, allowed); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			if len(allowed) > 0 {
				msg += " (allowed here: " + strings.Join(allowed, ", ") + ")"
			}
			w.add(ptr, msg)
		}
		if len(unknown) > 0 {
			return
		}

	case "type":
		got := withArticle(jsonTypeOf(value))
		switch value.(type) {
		case json.Number, bool:
			got = brief(value)
		}
		w.add(ptr, fmt.Sprintf("must be %s, not %s", typeNames(sch["type"]), got))
		return

	case "const":
		w.add(ptr, fmt.Sprintf("is %s; must be %s", brief(value), brief(sch["const"])))
		return

	case "enum":
		vals, _ := sch["enum"].([]any)
		opts := make([]string, len(vals))
		for i, v := range vals {
			opts[i] = brief(v)
		}
		msg := fmt.Sprintf("is %s; must be one of %s", brief(value), strings.Join(opts, ", "))
		if s, ok := value.(string); ok {
			var names []string
			for _, v := range vals {
				if n, ok := v.(string); ok {
					names = append(names, n)
				}
			}
			if c := closest(s, names); c != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", c)
			}
		}
		w.add(ptr, msg)
		return

	case "pattern":
		pat, _ := sch["pattern"].(string)
		what, ok := patternMessages[pat]
		if !ok {
			what = "must match " + pat
		}
		if strings.Contains(e.KeywordLocation, "/propertyNames/") {
			// The value that failed is the name of a property, not its value.
			w.add(ptr, fmt.Sprintf("name %s %s", brief(lastSegment(ptr)), what))
			return
		}
		w.add(ptr, fmt.Sprintf("is %s; %s", brief(value), what))
		return

	case "minLength":
		min := intOf(sch["minLength"])
		if min <= 1 {
			w.add(ptr, "must not be empty")
		} else {
			w.add(ptr, fmt.Sprintf("is %d characters; at least %d are needed", runes(value), min))
		}
		return

	case "maxLength":
		// Every maxLength in the schema is one of WhatsApp's limits.
		w.add(ptr, fmt.Sprintf("is %d characters; WhatsApp allows at most %d", runes(value), intOf(sch["maxLength"])))
		return

	case "minItems":
		arr, _ := value.([]any)
		w.add(ptr, fmt.Sprintf("has %d %s; at least %d needed", len(arr), itemNoun(ptr), intOf(sch["minItems"])))
		return

	case "maxItems":
		arr, _ := value.([]any)
		if ptr == "/nodes" {
			w.add(ptr, fmt.Sprintf("has %d nodes; a flow may have at most %d", len(arr), MaxNodes))
			return
		}
		w.add(ptr, fmt.Sprintf("has %d %s; WhatsApp allows at most %d", len(arr), itemNoun(ptr), intOf(sch["maxItems"])))
		return

	case "minProperties":
		if lastSegment(ptr) == "vars" {
			w.add(ptr, "sets no variables; name at least one")
		} else {
			w.add(ptr, "must not be empty")
		}
		return

	case "minimum":
		w.add(ptr, fmt.Sprintf("is %s; must be at least %s", brief(value), brief(sch["minimum"])))
		return

	case "maximum":
		w.add(ptr, fmt.Sprintf("is %s; must be at most %s", brief(value), brief(sch["maximum"])))
		return

	case "":
		if e.Message == "not allowed" {
			w.add(ptr, "is not allowed here")
			return
		}
	}
	w.add(ptr, e.Message)
}

// schemaPath is the JSON pointer inside the schema of an absolute keyword
// location ("https://…/flow.schema.json#/$defs/rule/oneOf").
func schemaPath(loc string) string {
	if i := strings.IndexByte(loc, '#'); i >= 0 {
		return loc[i+1:]
	}
	return ""
}

// instancePointer turns jsonschema's instance location, whose segments are
// URL-path-escaped, into an RFC 6901 JSON pointer.
func instancePointer(loc string) string {
	if loc == "" {
		return ""
	}
	segs := strings.Split(strings.TrimPrefix(loc, "/"), "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = u
		}
	}
	return "/" + strings.Join(segs, "/")
}

// resolve looks up an RFC 6901 pointer in a decoded JSON value.
func resolve(v any, ptr string) (any, bool) {
	if ptr == "" {
		return v, true
	}
	for _, seg := range strings.Split(ptr[1:], "/") {
		seg = unescapeToken(seg)
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func parentPath(ptr string) string {
	if i := strings.LastIndexByte(ptr, '/'); i >= 0 {
		return ptr[:i]
	}
	return ""
}

func lastSegment(ptr string) string {
	return unescapeToken(ptr[strings.LastIndexByte(ptr, '/')+1:])
}

// escapeToken and unescapeToken convert one JSON pointer segment (RFC 6901).
func escapeToken(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescapeToken(s string) string {
	if !strings.Contains(s, "~") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

func jsonTypeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func withArticle(t string) string {
	switch t {
	case "null":
		return "null"
	case "integer":
		return "a whole number"
	case "object", "array":
		return "an " + t
	}
	return "a " + t
}

// typeNames words a schema "type" value: "a string", "a whole number or a string".
func typeNames(t any) string {
	var names []string
	switch x := t.(type) {
	case string:
		names = []string{x}
	case []any:
		for _, n := range x {
			if s, ok := n.(string); ok {
				names = append(names, s)
			}
		}
	}
	for i, n := range names {
		names[i] = withArticle(n)
		if n == "object" {
			names[i] = "an object ({…})"
		}
		if n == "array" {
			names[i] = "an array ([…])"
		}
	}
	return strings.Join(names, " or ")
}

// brief renders a JSON value for a message, cut short when long.
func brief(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return shorten(string(b), 60)
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func runes(v any) int {
	s, _ := v.(string)
	return utf8.RuneCountInString(s)
}

func intOf(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case json.Number:
		n, _ := x.Int64()
		return int(n)
	}
	return 0
}

// itemNoun names the items of the array at ptr, for "has 4 buttons".
func itemNoun(ptr string) string {
	switch s := lastSegment(ptr); s {
	case "header", "body":
		return s + " parameters"
	case "":
		return "items"
	default:
		if _, err := strconv.Atoi(s); err == nil {
			return "items"
		}
		return s
	}
}

// closest is the candidate within two edits of s, if exactly one is
// closest: it turns "nxt" into a suggestion of "next".
func closest(s string, candidates []string) string {
	const far = 3
	best, bestD, ties := "", far, 0
	for _, c := range candidates {
		d := editDistance(s, c, far)
		switch {
		case d >= far:
		case d < bestD:
			best, bestD, ties = c, d, 0
		case d == bestD:
			ties++
		}
	}
	if ties > 0 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, or limit when it is
// at least limit (names are short; the cut keeps hostile input cheap).
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return limit
	}
	if d := len(ra) - len(rb); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	if prev[len(rb)] > limit {
		return limit
	}
	return prev[len(rb)]
}
