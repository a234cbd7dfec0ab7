package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// MaxFlowBytes caps a flow document: a thousand nodes fit well inside it, and
// the cap keeps a hostile upload from costing memory.
const MaxFlowBytes = 4 << 20

// Severity says whether a problem stops a flow from being published.
type Severity string

// Severities.
const (
	Error   Severity = "error"   // the flow cannot be published
	Warning Severity = "warning" // the flow runs, but probably not as meant
)

// Problem is one thing wrong with a flow, located by a JSON pointer into the
// document (e.g. /nodes/2/cases/0/when) so the editor can mark the field.
type Problem struct {
	Severity Severity `json:"severity"`
	Pointer  string   `json:"pointer"`
	Message  string   `json:"message"`
}

func (p Problem) String() string {
	ptr := p.Pointer
	if ptr == "" {
		ptr = "/"
	}
	return fmt.Sprintf("%s %s: %s", p.Severity, ptr, p.Message)
}

// Problems is every problem found in a flow, in document order.
type Problems []Problem

// HasErrors reports whether any problem is an error.
func (ps Problems) HasErrors() bool {
	for _, p := range ps {
		if p.Severity == Error {
			return true
		}
	}
	return false
}

// Err is nil when there is no error-level problem, else an error listing
// them all.
func (ps Problems) Err() error {
	if !ps.HasErrors() {
		return nil
	}
	var b strings.Builder
	b.WriteString("invalid flow:")
	for _, p := range ps {
		if p.Severity == Error {
			b.WriteString("\n  ")
			b.WriteString(p.String())
		}
	}
	return errors.New(b.String())
}

// Parse decodes and validates a flow document: the JSON schema (structure
// and WhatsApp's message limits), then the graph (exits, reachability,
// cycles without a wait), then every expression and interpolation. It
// reports every problem at once. The flow is returned whenever the document
// could be decoded, even with problems; only a flow whose problems hold no
// error may run.
func Parse(data []byte) (*Flow, Problems) {
	if len(data) > MaxFlowBytes {
		return nil, Problems{{Error, "", fmt.Sprintf("flow is %d bytes; at most %d are accepted", len(data), MaxFlowBytes)}}
	}
	problems, cleaned, doc := schemaCheck(data)
	if cleaned != nil {
		// The document has unknown fields (encoding/json would even match
		// "Next" to next) or a field twice. The flow is refused, but the
		// rest of it is checked without them, so that every problem is
		// reported at once.
		if g, err := decode(cleaned); err == nil {
			problems = append(problems, anchor(doc, g.check(), problems)...)
			sortProblems(problems)
		}
		return nil, problems
	}
	f, err := decode(data)
	if err != nil {
		if len(problems) == 0 {
			problems = append(problems, Problem{Error, "", err.Error()})
		}
		return nil, problems
	}
	problems = append(problems, anchor(doc, f.check(), problems)...)
	sortProblems(problems)
	return f, problems
}

// MustParse parses a flow that is known to be valid, for tests and built-in
// examples. It panics on any error-level problem.
func MustParse(data []byte) *Flow {
	f, ps := Parse(data)
	if err := ps.Err(); err != nil {
		panic(err)
	}
	return f
}

func decode(data []byte) (*Flow, error) {
	var f Flow
	if err := strictUnmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decoding flow: %w", err)
	}
	f.index = make(map[string]int, len(f.Nodes))
	for i, n := range f.Nodes {
		if n == nil {
			return nil, fmt.Errorf("decoding flow: node %d is null", i)
		}
		if _, dup := f.index[n.ID]; !dup {
			f.index[n.ID] = i
		}
	}
	f.programs = &programs{}
	return &f, nil
}

// strictUnmarshal decodes one JSON value, refusing unknown fields and
// trailing data: a typo must not silently change a flow's behaviour.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// Duration is a Go duration written as a string ("30m", "24h").
type Duration time.Duration

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"30m\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// Std is d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
