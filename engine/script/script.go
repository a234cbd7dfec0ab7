// Package script runs conversation scripts: plain-text dialogues that drive
// a flow on a fake clock and check what the bot sends (docs/flow-format.md,
// "Conversation scripts"). `parley simulate --script` and the tests run
// them.
package script

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Step kinds, by their leading character.
const (
	Say    = '>' // the customer sends a message
	Clock  = '~' // the clock moves on
	Expect = '<' // the next outbound message must render as given
	Status = '=' // the conversation status must be as given
	Act    = '!' // an agent acts
	Set    = '@' // contact set-up; `@ secret NAME: value` sets a secret
	// Call ('?', calls.go): an http call the step above must make, and
	// its answer.
)

// Step is one line of a script.
type Step struct {
	Line int
	Kind byte
	Arg  string
}

// Script is a parsed conversation script.
type Script struct {
	Name  string
	Steps []Step
}

// Parse reads a script. Blank lines and lines starting with # are skipped.
func Parse(name string, r io.Reader) (*Script, error) {
	s := &Script{Name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		kind := line[0]
		switch kind {
		case Say, Clock, Expect, Status, Act, Set, Call:
		default:
			return nil, fmt.Errorf("%s:%d: a step starts with one of > ~ < = ! @ ? (got %q)", name, n, line)
		}
		st := Step{Line: n, Kind: kind, Arg: strings.TrimSpace(line[1:])}
		if kind == Call {
			if _, err := ParseCall(n, st.Arg); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, n, err)
			}
		}
		s.Steps = append(s.Steps, st)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return s, nil
}

// String renders the step as it is written.
func (s Step) String() string { return string(s.Kind) + " " + s.Arg }
