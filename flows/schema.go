package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"regexp"
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
	`^[a-z0-9_]+$`:                       "must be lowercase letters, digits or _, as WhatsApp template names are",
	`^[0-9]{1,20}$`:                      "must be a business phone number id: 1–20 digits (not the display number)",
	"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$": "must be an HTTP header name: letters, digits and - (at most 64 characters)",
	// With the duration pattern beside it: a duration is more than zero
	// exactly when it has a digit other than 0.
	`[1-9]`: "must be longer than zero",
}

// checkSchema validates the raw document against schemas/flow.schema.json.
// Malformed JSON gives one problem at the root; otherwise every failing
// keyword gives one problem, worded for an analyst, at the JSON pointer of
// the value it concerns.
func checkSchema(data []byte) Problems {
	ps, _, _ := schemaCheck(data)
	return ps
}

// schemaCheck is checkSchema that also returns, when the document has
// unknown or repeated fields, a copy without them: the flow itself must be
// refused, and the copy lets the graph and expression checks run anyway, so
// that an analyst sees every problem at once. The decoded document comes
// third (nil when it is not JSON), for anchoring the later checks' problems.
func schemaCheck(data []byte) (Problems, []byte, any) {
	doc, dups, err := decodeJSON(data)
	if err != nil {
		return Problems{{Error, "", err.Error()}}, nil, nil
	}
	w := schemaWording{doc: doc, seen: map[Problem]bool{}}
	for _, d := range dups {
		// A repeat inside a value that a later repeat replaced is gone.
		if _, ok := resolve(doc, d.ptr); ok {
			w.add(d.ptr, fmt.Sprintf("field %q appears more than once; keep one", d.name))
		}
	}
	sch, sdoc := compiledSchema()
	w.schema = sdoc
	if err := sch.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return Problems{{Error, "", fmt.Sprintf("the flow could not be checked against its schema: %v", err)}}, nil, doc
		}
		w.walk(ve)
	}
	w.exactKeys(doc, reflect.TypeOf(Flow{}), "")
	if len(w.ps) == 0 {
		return nil, nil, doc
	}
	sortProblems(w.ps)
	var cleaned []byte
	if len(w.unknown) > 0 || len(dups) > 0 {
		for _, u := range w.unknown {
			if obj, ok := resolve(doc, u.ptr); ok {
				if m, ok := obj.(map[string]any); ok {
					delete(m, u.name)
				}
			}
		}
		cleaned, _ = json.Marshal(doc)
	}
	return w.ps, cleaned, doc
}

// anchor moves each of the graph and expression checks' problems that
// points at a field the document leaves out (a parameter with no "text",
// a currency with no "fallback_value") to the nearest value that is there,
// so that every problem can be shown at its place. Where the schema has
// already reported an error at that place (the missing field), the moved
// problem adds nothing and is dropped.
func anchor(doc any, checked, schema Problems) Problems {
	if doc == nil {
		return checked
	}
	said := map[string]bool{}
	for _, p := range schema {
		if p.Severity == Error {
			said[p.Pointer] = true
		}
	}
	out := checked[:0]
	for _, p := range checked {
		moved := false
		for p.Pointer != "" {
			if _, ok := resolve(doc, p.Pointer); ok {
				break
			}
			p.Pointer, moved = parentPath(p.Pointer), true
		}
		if moved && said[p.Pointer] {
			continue
		}
		out = append(out, p)
	}
	return out
}

// decodeJSON reads one JSON value, keeping numbers exact, and words a
// syntax error with its line and column. It also lists the keys that occur
// twice in one object: encoding/json would quietly merge or drop them.
// (One Decode and a scan of the valid bytes: reading the document token by
// token with json.Decoder.Token cost several times as much, and every
// keystroke of the editor and every fuzzed input pays for it.)
func decodeJSON(data []byte) (any, []field, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, errors.New("the document is empty; a flow is a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			// Offset counts the offending byte itself.
			return nil, nil, fmt.Errorf("malformed JSON at %s: %s", position(data, se.Offset-1), se.Error())
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return nil, nil, fmt.Errorf("malformed JSON: the document ends at %s before every { and [ is closed", position(data, int64(len(data))))
		}
		return nil, nil, fmt.Errorf("malformed JSON: %v", err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fmt.Errorf("malformed JSON: unexpected data after the flow object at %s", position(data, end))
	}
	d := dupScan{data: data[:end]}
	d.value()
	return v, d.dups, nil
}

// dupScan finds the keys repeated in one object of a valid JSON text, by
// the pointer of that object.
type dupScan struct {
	data []byte
	i    int
	path []string // pointer segments of the value being read
	dups []field
}

func (d *dupScan) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

func (d *dupScan) value() {
	d.space()
	switch d.data[d.i] {
	case '{':
		d.i++
		var seen map[string]bool
		for {
			d.space()
			if d.data[d.i] == '}' {
				d.i++
				return
			}
			if d.data[d.i] == ',' {
				d.i++
				d.space()
			}
			k := d.str()
			d.space()
			d.i++ // :
			d.path = append(d.path, escapeToken(k))
			d.value()
			d.path = d.path[:len(d.path)-1]
			if seen == nil {
				seen = map[string]bool{}
			}
			if seen[k] {
				d.dups = append(d.dups, field{d.pointer(), k})
			}
			seen[k] = true
		}
	case '[':
		d.i++
		for n := 0; ; n++ {
			d.space()
			if d.data[d.i] == ']' {
				d.i++
				return
			}
			if d.data[d.i] == ',' {
				d.i++
			}
			d.path = append(d.path, strconv.Itoa(n))
			d.value()
			d.path = d.path[:len(d.path)-1]
		}
	case '"':
		d.str()
	default: // a number, true, false or null
		for d.i < len(d.data) && !strings.ContainsRune(",]} \t\r\n", rune(d.data[d.i])) {
			d.i++
		}
	}
}

// str reads a string and returns it as encoding/json decodes it.
func (d *dupScan) str() string {
	start := d.i
	d.i++
	plain := true
	for d.data[d.i] != '"' {
		if c := d.data[d.i]; c == '\\' {
			plain = false
			d.i++
		} else if c >= utf8.RuneSelf {
			plain = false
		}
		d.i++
	}
	d.i++
	raw := d.data[start:d.i]
	if plain {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s) // valid: Decode has read it
	return s
}

func (d *dupScan) pointer() string {
	if len(d.path) == 0 {
		return ""
	}
	return "/" + strings.Join(d.path, "/")
}

// position words a byte offset in data as "line L, column C (offset O)";
// lines and columns count from 1, the offset from 0.
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
	return fmt.Sprintf("line %d, column %d (offset %d)", line, col, offset)
}

// schemaWording turns jsonschema's tree of errors into flat problems.
type schemaWording struct {
	doc    any // the instance
	schema any // the schema
	ps     Problems
	seen   map[Problem]bool
	// unknown lists the fields no schema allows, by object pointer.
	unknown []field
}

type field struct{ ptr, name string }

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
			w.unknown = append(w.unknown, field{ptr, name})
		}
		if len(unknown) > 0 {
			return
		}

	case "type":
		got := withArticle(jsonTypeOf(value))
		switch value.(type) {
		case json.Number, bool, string:
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
		if value == "" && isExitField(lastSegment(ptr)) {
			// An exit left empty is a connection not made yet.
			w.add(ptr, "is not connected: drag from this exit's handle to the node it leads to, or remove it")
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

// exactKeys reports the keys of v that no field of type t takes by its
// exact name, as a safety net under the schema: encoding/json matches field
// names case-insensitively ("neXt" fills next), which the strict decoding
// of a flow must not do, and the schema cannot reach every object (a node
// of no known type, say). What the schema has reported already is skipped.
func (w *schemaWording) exactKeys(v any, t reflect.Type, ptr string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		fields := jsonFields(t)
		keys := sortedKeys(obj)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok && t == reflect.TypeOf(Node{}) && k == "default" {
				// See Node.UnmarshalJSON: an object on auto_reply, else a string.
				ft, ok = reflect.TypeOf(""), true
				if typ, _ := obj["type"].(string); typ == TypeAutoReply {
					ft = reflect.TypeOf(DefaultReply{})
				}
			}
			if !ok {
				w.unknownField(ptr, k, fields)
				continue
			}
			w.exactKeys(obj[k], ft, ptr+"/"+escapeToken(k))
		}
	case reflect.Slice:
		arr, _ := v.([]any)
		for i, e := range arr {
			w.exactKeys(e, t.Elem(), ptr+"/"+strconv.Itoa(i))
		}
	case reflect.Map:
		obj, _ := v.(map[string]any)
		for _, k := range sortedKeys(obj) {
			w.exactKeys(obj[k], t.Elem(), ptr+"/"+escapeToken(k))
		}
	}
}

func (w *schemaWording) unknownField(ptr, name string, fields map[string]reflect.Type) {
	for _, u := range w.unknown {
		if u == (field{ptr, name}) {
			return
		}
	}
	allowed := make([]string, 0, len(fields))
	for n := range fields {
		allowed = append(allowed, n)
	}
	sort.Strings(allowed)
	msg := fmt.Sprintf("unknown field %q", name)
	if s := closest(name, allowed); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	w.add(ptr, msg)
	w.unknown = append(w.unknown, field{ptr, name})
}

var jsonFieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields maps the JSON names of a struct's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := jsonFieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		m[name] = f.Type
	}
	jsonFieldCache.Store(t, m)
	return m
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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
	if s, ok := v.(string); ok {
		return strconv.Quote(shorten(s, 50))
	}
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
		if strings.EqualFold(s, c) {
			return c // "Next" for next: encoding/json would have taken it silently
		}
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

// editDistance is the edit distance of a and b counting a swap of two
// neighbours as one edit ("sned" is one from "send"), or limit when it is at
// least limit (names are short; the cut keeps hostile input cheap).
func editDistance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return limit
	}
	if d := len(ra) - len(rb); d >= limit || -d >= limit {
		return limit
	}
	// rows i-2, i-1 and i of the usual dynamic-programming table
	prev2 := make([]int, len(rb)+1)
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
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	if prev[len(rb)] > limit {
		return limit
	}
	return prev[len(rb)]
}

// ErrInvalidID is returned (wrapped, saying what is wrong) by CheckID.
var ErrInvalidID = errors.New("invalid flow id")

// CheckID checks id by the schema's rule for flow ids ($defs/id), so that
// a route naming a flow refuses an id no flow document could have — and
// never stores a draft under it.
func CheckID(id string) error {
	re, words := idRule()
	if !re.MatchString(id) {
		if len(id) > 80 {
			id = id[:80] + "…"
		}
		return fmt.Errorf("%w: %+q %s", ErrInvalidID, id, words)
	}
	return nil
}

// idRule is the schema's pattern for ids, compiled, and its wording.
var idRule = sync.OnceValues(func() (*regexp.Regexp, string) {
	_, doc := compiledSchema()
	defs, _ := doc.(map[string]any)["$defs"].(map[string]any)
	id, _ := defs["id"].(map[string]any)
	pattern, _ := id["pattern"].(string)
	return regexp.MustCompile(pattern), patternMessages[pattern]
})

// isExitField reports whether a field names the node an exit leads to.
func isExitField(name string) bool {
	switch name {
	case "next", "default", "goto", "start", "reengage", "closed_next":
		return true
	}
	return strings.HasPrefix(name, "on_")
}

// Closest is the candidate nearest to s by edit distance, when one is
// near enough to suggest ("did you mean …?"), else "".
func Closest(s string, candidates []string) string { return closest(s, candidates) }
