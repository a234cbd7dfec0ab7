package flows

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// part is one piece of an interpolated string: literal text, or an
// expression whose value is inserted as text.
type part struct {
	text   string
	expr   string
	isExpr bool
}

var splitCache sync.Map // string -> []part

// splitText cuts s at its {{ }} markers. An unclosed or empty marker is an
// error: the validator reports it with its pointer.
func splitText(s string) ([]part, error) {
	if v, ok := splitCache.Load(s); ok {
		return v.([]part), nil
	}
	var parts []part
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				parts = append(parts, part{text: rest})
			}
			break
		}
		if i > 0 {
			parts = append(parts, part{text: rest[:i]})
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("%q opens {{ with no closing }}", s)
		}
		e := strings.TrimSpace(rest[i+2 : i+2+j])
		if e == "" {
			return nil, fmt.Errorf("%q has an empty {{ }}", s)
		}
		parts = append(parts, part{expr: e, isExpr: true})
		rest = rest[i+2+j+2:]
	}
	splitCache.Store(s, parts)
	return parts, nil
}

// Interpolate fills s's {{ }} markers from env. The result is text and is
// never evaluated again, so a customer's words cannot become an expression.
// An expression that fails inserts nothing; the first such failure is
// returned beside the text rendered without it.
func (f *Flow) Interpolate(s string, env *Env) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	parts, err := splitText(s)
	if err != nil {
		return s, err
	}
	var b strings.Builder
	var firstErr error
	for _, p := range parts {
		if !p.isExpr {
			b.WriteString(p.text)
			continue
		}
		v, err := f.Eval(p.expr, env)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("{{ %s }}: %w", p.expr, err)
			}
			continue
		}
		b.WriteString(Stringify(v))
	}
	return b.String(), firstErr
}

// Stringify renders an expression's value as a customer should read it:
// nothing for nil, integers without a decimal point.
func Stringify(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.Format(time.RFC3339)
	case fmt.Stringer:
		return v.String()
	case []any, map[string]any, []string:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
	return fmt.Sprint(v)
}

// RenderMessage returns m with every string interpolated.
func (f *Flow) RenderMessage(m *Message, env *Env) (Message, error) {
	out := *m
	var firstErr error
	fill := func(s *string) {
		if !strings.Contains(*s, "{{") {
			return
		}
		var err error
		if *s, err = f.Interpolate(*s, env); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	forEachString(&out, true, fill)
	return out, firstErr
}

// forEachString calls fn on every interpolatable string of m. With clone,
// slices are copied first so that fn may rewrite them without touching the
// flow's own message.
func forEachString(m *Message, clone bool, fn func(*string)) {
	fn(&m.Text)
	fn(&m.Caption)
	fn(&m.Filename)
	fn(&m.Name)
	fn(&m.Address)
	fn(&m.Header)
	fn(&m.Footer)
	fn(&m.Button)
	fn(&m.DisplayText)
	fn(&m.URL)
	if m.Media != nil {
		if clone {
			md := *m.Media
			m.Media = &md
		}
		fn(&m.Media.Link)
		fn(&m.Media.ID)
	}
	if clone && m.Buttons != nil {
		m.Buttons = append([]Button(nil), m.Buttons...)
	}
	for i := range m.Buttons {
		fn(&m.Buttons[i].ID)
		fn(&m.Buttons[i].Title)
	}
	if clone && m.Sections != nil {
		secs := make([]Section, len(m.Sections))
		for i, s := range m.Sections {
			s.Rows = append([]Row(nil), s.Rows...)
			secs[i] = s
		}
		m.Sections = secs
	}
	for i := range m.Sections {
		fn(&m.Sections[i].Title)
		for j := range m.Sections[i].Rows {
			r := &m.Sections[i].Rows[j]
			fn(&r.ID)
			fn(&r.Title)
			fn(&r.Description)
		}
	}
}
