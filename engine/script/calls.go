package script

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/httpcall"
	"github.com/parleyhq/parley/engine/secrets"
)

// Call is the step kind of a `?` line: an http call the flow must make
// and its answer (docs/flow-format.md, "Conversation scripts: HTTP lines").
//
//	? GET https://shop.example.com/api/orders/A-17 => 200 {"status": "shipped"}
//	? POST https://crm.example.com/leads => 201
//	? GET https://shop.example.com/api/orders/B-2 => timeout
const Call = '?'

// CallLine is a parsed `?` line.
type CallLine struct {
	Line   int
	Method string
	URL    string
	// Status and Body answer the call; Timeout or Network make it fail
	// without an answer instead.
	Status  int
	Body    string
	Timeout bool
	Network bool
}

func (c CallLine) String() string {
	switch {
	case c.Timeout:
		return fmt.Sprintf("? %s %s => timeout", c.Method, c.URL)
	case c.Network:
		return fmt.Sprintf("? %s %s => network", c.Method, c.URL)
	}
	s := fmt.Sprintf("? %s %s => %d", c.Method, c.URL, c.Status)
	if c.Body != "" {
		s += " " + c.Body
	}
	return s
}

// ParseCall reads the argument of a `?` line: METHOD URL => ANSWER, the
// answer a status with an optional body, `timeout` or `network`.
func ParseCall(line int, arg string) (CallLine, error) {
	req, answer, ok := strings.Cut(arg, "=>")
	if !ok {
		return CallLine{}, fmt.Errorf("a ? line is `? METHOD URL => STATUS [BODY]`, `=> timeout` or `=> network`")
	}
	method, url, ok := strings.Cut(strings.TrimSpace(req), " ")
	if !ok || strings.TrimSpace(url) == "" {
		return CallLine{}, fmt.Errorf("a ? line names a method and a URL before =>")
	}
	c := CallLine{Line: line, Method: strings.ToUpper(method), URL: strings.TrimSpace(url)}
	answer = strings.TrimSpace(answer)
	switch answer {
	case "timeout":
		c.Timeout = true
		return c, nil
	case "network":
		c.Network = true
		return c, nil
	}
	status, body, _ := strings.Cut(answer, " ")
	n, err := strconv.Atoi(status)
	if err != nil || n < 100 || n > 599 {
		return CallLine{}, fmt.Errorf("a ? line's answer is an HTTP status (100-599), timeout or network; got %q", status)
	}
	c.Status, c.Body = n, strings.TrimSpace(body)
	return c, nil
}

// scriptedCaller answers a step's http calls from its `?` lines, in order:
// each call takes the first unused line with its method and URL. It never
// touches the network.
type scriptedCaller struct {
	mu    sync.Mutex
	lines []CallLine
	used  []bool
	// unexpected are the calls no line answered, as `?` lines would
	// write them.
	unexpected []string
}

func (s *scriptedCaller) expect(lines []CallLine) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines, s.used, s.unexpected = lines, make([]bool, len(lines)), nil
}

// Do answers one call.
func (s *scriptedCaller) Do(_ context.Context, req httpcall.Request) httpcall.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range s.lines {
		if s.used[i] || l.Method != req.Method || l.URL != req.URL {
			continue
		}
		s.used[i] = true
		return l.Answer(req.Timeout)
	}
	s.unexpected = append(s.unexpected, fmt.Sprintf("%s %s", req.Method, req.URL))
	return httpcall.Result{Err: fmt.Errorf("%w: no ? line answers this call in the script", httpcall.ErrNetwork)}
}

// check reports the step's `?` lines no call used and the calls no line
// answered, then forgets them.
func (s *scriptedCaller) check(r *runner, st Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range s.lines {
		if !s.used[i] {
			r.res.Failures = append(r.res.Failures, Failure{Line: l.Line, Step: l.String(), Got: "no such call was made"})
		}
	}
	for _, u := range s.unexpected {
		r.res.Failures = append(r.res.Failures, Failure{Line: st.Line, Step: st.String(), Got: "? " + u + " (a call no ? line answers)"})
	}
	s.lines, s.used, s.unexpected = nil, nil, nil
}

// scriptSecrets are the secrets a script sets with `@ secret NAME: value`.
type scriptSecrets struct {
	mu sync.Mutex
	m  map[string]string
}

func (s *scriptSecrets) Resolve(_ context.Context, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.m[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("secrets: %q: %w (set it with `@ secret %s: value`)", name, secrets.ErrSecretNotFound, name)
}

func (s *scriptSecrets) set(name, value string) error {
	if err := secrets.ValidName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[name] = value
	return nil
}

// maxCallRounds bounds settleCalls: a step's calls, each retried at most
// five times, settle in far fewer rounds.
const maxCallRounds = 100

// settleCalls makes the http calls due, waits for their results, and lets
// the clock run through retry backoffs (time passes, as it would), until
// the conversation waits on no call.
func (r *runner) settleCalls(ctx context.Context) error {
	for range maxCallRounds {
		n, err := r.eng.FireDueTimers(ctx)
		if err != nil {
			return err
		}
		r.eng.WaitCalls()
		if n > 0 {
			continue
		}
		conv, err := r.eng.CurrentConversation(ctx, r.key)
		if err != nil || conv.Call == nil || conv.Status.Done() {
			return nil
		}
		if r.hand != nil && conv.Call.Attempt > 0 && r.hand.holds(conv.Call.Key) && conv.Call.NextAt.After(r.clock.Now()) {
			return nil // claimed and held: it waits for AnswerCall
		}
		if !conv.Call.NextAt.After(r.clock.Now()) {
			return nil
		}
		r.clock.Set(conv.Call.NextAt) // a retry's backoff
	}
	return fmt.Errorf("the http calls did not settle after %d rounds", maxCallRounds)
}

// stepCalls is the `?` lines that belong to step i: those after it, up to
// the next step that acts (>, ~ or !).
func stepCalls(steps []Step, i int) ([]CallLine, error) {
	var out []CallLine
	for _, st := range steps[i+1:] {
		switch st.Kind {
		case Say, Clock, Act:
			return out, nil
		case Call:
			c, err := ParseCall(st.Line, st.Arg)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", st.Line, err)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

var _ engine.Caller = (*scriptedCaller)(nil)

// Answer is the attempt's result a `?` line's answer stands for; timeout
// is the step's, for a timeout's duration.
func (c CallLine) Answer(timeout time.Duration) httpcall.Result {
	switch {
	case c.Timeout:
		return httpcall.Result{Err: fmt.Errorf("%w after %s", httpcall.ErrTimeout, timeout), Retriable: true, Duration: timeout}
	case c.Network:
		return httpcall.Result{Err: fmt.Errorf("%w: connection reset (scripted)", httpcall.ErrNetwork), Retriable: true}
	}
	res := httpcall.Result{Status: c.Status, Text: c.Body, Retriable: c.Status == http.StatusTooManyRequests || c.Status >= 500}
	var v any
	if c.Body != "" && json.Unmarshal([]byte(c.Body), &v) == nil {
		res.JSON = v
	}
	return res
}

// ParseAnswer reads an answer given by hand: `200 {"status": "shipped"}`,
// `404`, `timeout` or `network`, with or without a leading `?`.
func ParseAnswer(s string) (CallLine, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "?"))
	c, err := ParseCall(0, "GET / => "+s)
	if err != nil {
		return CallLine{}, errors.New("an answer is STATUS [BODY] (e.g. 200 {\"status\": \"shipped\"}), timeout or network")
	}
	c.Method, c.URL = "", ""
	return c, nil
}

// handCaller holds every call of a session that answers them by hand
// (engine.ErrCallHeld) and remembers the steps it holds, by key.
type handCaller struct {
	mu   sync.Mutex
	held map[string]bool
}

func (h *handCaller) Do(_ context.Context, req httpcall.Request) httpcall.Result {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held == nil {
		h.held = map[string]bool{}
	}
	h.held[req.IdempotencyKey] = true
	return httpcall.Result{Err: engine.ErrCallHeld}
}

func (h *handCaller) holds(key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held[key]
}

func (h *handCaller) release(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.held, key)
}
