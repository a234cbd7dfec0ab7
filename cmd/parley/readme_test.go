package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// The addresses README.md's examples use; the walk-through maps them to
// the test's own ports.
const (
	readmeParleyURL  = "http://127.0.0.1:8080"
	readmeSandboxURL = "http://127.0.0.1:8089"
)

// TestReadmeWalkthrough follows README.md as a newcomer would, from a
// fresh data directory: every line of its sh blocks, in order, as written.
// A block fenced "```sh elsewhere" shows commands for other machines (a
// production deployment, say) and is not run.
// `go run ./cmd/parley serve` and `parley serve` start the real command
// (its flags from the environment, as the README leaves them); a `parley`
// command that opens the data file stops serve first, as the README says
// to; every curl must answer 2xx. Then the key the README states must be
// the sandbox customer's, the bot must have answered, and every metric the
// README names must be in /metrics. A README line the walk cannot run
// fails the test: write it so that it can, or teach the walk.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("runs parley serve several times; skipped with -short")
	}
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	const firstLines = "```sh\n" +
		"go run ./cmd/parley serve   # Parley on http://127.0.0.1:8080: web app (editor, inbox, schedules), webhook and REST API, with the built-in WhatsApp sandbox and demo flows\n" +
		"go test -race ./...         # run every test\n```\n"
	if !strings.HasPrefix(readme, firstLines) {
		t.Errorf("README.md must open with the two commands, run and test, exactly:\n%s", firstLines)
	}

	w := newReadmeWalk(t)
	defer w.stop()
	lines := shellLines(readme)
	for _, line := range lines {
		w.exec(line)
	}
	t.Logf("%d README lines run; parley serve started %d times", len(lines), w.starts)
	if !w.running() {
		w.start()
	}

	// The key the README gives the sandbox's customer is theirs.
	stated := regexp.MustCompile("`(" + sandbox.DefaultPhoneNumberID + `:US\.\d+)` + "`").FindStringSubmatch(readme)
	if stated == nil {
		t.Fatal("README.md states no contact key of the sandbox's customer (`100000000000001:US.…`)")
	}
	if body := w.get("/api/v1/contacts?phone=15551234567"); !strings.Contains(body, `"key":"`+stated[1]+`"`) {
		t.Errorf("README.md says the sandbox's 15551234567 is %s; the lookup by phone answers %s", stated[1], body)
	}
	if !strings.Contains(readme, "phone number id `"+sandbox.DefaultPhoneNumberID+"`") {
		t.Errorf("README.md does not give the sandbox's phone number id %s", sandbox.DefaultPhoneNumberID)
	}
	// The bot answered the customer.
	eventually(t, e2eTimeout, func() bool {
		return strings.Contains(w.getURL(w.sandboxURL+"/_sandbox/customers/15551234567/transcript"), `"from":"business"`)
	}, "the bot's answer in the sandbox's transcript")
	// Every metric the README names is served, and events are counted: the
	// customer writes again, to this process.
	w.curl([]string{"-d", `{"type":"text","text":"help"}`, readmeSandboxURL + "/_sandbox/customers/15551234567/messages"}, "the customer writes")
	eventedRE := regexp.MustCompile(`(?m)^parley_events_total\{kind="message",result="ok"\} [1-9]`)
	metrics := ""
	eventually(t, e2eTimeout, func() bool {
		metrics = w.getURL(w.parleyURL + "/metrics")
		return eventedRE.MatchString(metrics)
	}, "a message event counted in /metrics")
	for _, name := range regexp.MustCompile("`(parley_[a-z_]*[a-z])`").FindAllStringSubmatch(readme, -1) {
		if !strings.Contains(metrics, "# TYPE "+name[1]+" ") {
			t.Errorf("README.md names the metric %s; /metrics has no such family", name[1])
		}
	}
}

// readmeWalk is the newcomer's shell: variables, whether parley is built,
// and the running serve.
type readmeWalk struct {
	t       *testing.T
	data    string
	repo    string
	cwd     string // where curl -o writes
	addr    string // serve's host:port, kept across restarts
	vars    map[string]string
	built   bool
	log     *e2eLogBuffer
	cancel  context.CancelFunc
	done    chan int
	starts  int
	logSeen int // bytes of log before the current start

	parleyURL, sandboxURL string
}

func newReadmeWalk(t *testing.T) *readmeWalk {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	w := &readmeWalk{t: t, data: filepath.Join(t.TempDir(), "parley-data"), repo: repo, cwd: t.TempDir(), addr: addr,
		vars: map[string]string{}, log: &e2eLogBuffer{}}
	// The README runs serve without flags: the environment points it at
	// the test's data directory and ports, and keeps Meta's out.
	for k, v := range map[string]string{
		"PARLEY_DATA": w.data, "PARLEY_ADDR": addr, "PARLEY_SANDBOX_ADDR": "127.0.0.1:0",
		"PARLEY_FLOWS": "", "WHATSAPP_ACCESS_TOKEN": "", "PARLEY_ADMIN_EMAIL": "", "PARLEY_ADMIN_PASSWORD": "",
		"PARLEY_LOG_LEVEL": "info",
	} {
		t.Setenv(k, v)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("parley log:\n%s", w.log.String())
		}
	})
	return w
}

func (w *readmeWalk) running() bool { return w.done != nil }

// start runs `parley serve` until stop, and reads from its log where it
// serves and where its sandbox is.
func (w *readmeWalk) start() {
	t := w.t
	t.Helper()
	if w.running() {
		return
	}
	w.logSeen = len(w.log.String())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- cmdServe(ctx, nil, io.Discard, w.log) }()
	w.cancel, w.done = cancel, done
	w.starts++
	serving := regexp.MustCompile(`msg="parley serving" addr=(\S+)`)
	sb := regexp.MustCompile(`running against the built-in WhatsApp sandbox.*? sandbox=(\S+) phone_number_id=` + sandbox.DefaultPhoneNumberID)
	eventually(t, e2eTimeout, func() bool {
		select {
		case code := <-done:
			w.done = nil
			t.Fatalf("parley serve exited with %d before serving", code)
		default:
		}
		log := w.log.String()[w.logSeen:]
		m, s := serving.FindStringSubmatch(log), sb.FindStringSubmatch(log)
		if m == nil || s == nil {
			return false
		}
		w.parleyURL, w.sandboxURL = m[1], s[1]
		return true
	}, "parley serve's log to say where it and its sandbox serve")
	// The log says "serving" once the port is bound: it answers at once.
	resp, err := http.Get(w.parleyURL + "/healthz")
	if err != nil {
		t.Fatalf("the log says serving, but: %v", err)
	}
	resp.Body.Close()
}

// stop stops serve as Ctrl-C does and waits for it to exit 0.
func (w *readmeWalk) stop() {
	w.t.Helper()
	if !w.running() {
		return
	}
	w.cancel()
	select {
	case code := <-w.done:
		if code != 0 {
			w.t.Errorf("parley serve exited with %d", code)
		}
	case <-time.After(30 * time.Second):
		w.t.Fatal("parley serve did not stop")
	}
	w.done = nil
}

// exec runs one README line.
func (w *readmeWalk) exec(line string) {
	t := w.t
	t.Helper()
	if name, value, ok := assignment(line); ok {
		if inner, ok := strings.CutPrefix(value, "$("); ok && strings.HasSuffix(inner, ")") {
			w.vars[name] = strings.TrimSpace(w.command(strings.TrimSuffix(inner, ")"), line))
		} else {
			w.vars[name] = w.words(value, line)[0]
		}
		return
	}
	w.command(line, line)
}

// command runs a command line and returns its standard output.
func (w *readmeWalk) command(cmd, line string) string {
	t := w.t
	t.Helper()
	stdin := ""
	if left, right, ok := strings.Cut(cmd, " | "); ok {
		args := w.words(left, line)
		if args[0] != "echo" || len(args) != 2 {
			t.Fatalf("README line %q: only `echo X | command` pipes are run", line)
		}
		stdin, cmd = args[1]+"\n", right
	}
	args := w.words(cmd, line)
	switch {
	case args[0] == "go" && len(args) > 1 && (args[1] == "install" || args[1] == "build"):
		if !slices.Contains(args, "./cmd/parley") {
			t.Fatalf("README line %q builds something else than ./cmd/parley", line)
		}
		w.built = true // the test binary is that build
	case args[0] == "go" && len(args) > 1 && args[1] == "test":
	case args[0] == "go" && strings.Join(args[1:], " ") == "run ./cmd/parley serve":
		w.start()
	case args[0] == "parley" || args[0] == "./parley":
		if !w.built {
			t.Fatalf("README line %q uses parley before any line builds it (go install ./cmd/parley)", line)
		}
		if len(args) > 1 && args[1] == "serve" {
			w.start()
			return ""
		}
		w.stop() // the command opens the data file: serve must be stopped, as the README says
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args[1:], strings.NewReader(stdin), &out, &errOut); code != 0 {
			t.Fatalf("README line %q: exit %d\n%s%s", line, code, out.String(), errOut.String())
		}
		return out.String()
	case args[0] == "curl":
		w.start()
		return w.curl(args[1:], line)
	case args[0] == "cd" || args[0] == "npm":
		// The web app's toolchain: ui/dist_test and CI run it.
	default:
		t.Fatalf("README line %q: the walk-through does not know how to run %q", line, args[0])
	}
	return ""
}

// curl does what curl does with the flags the README uses: -s, -X,
// -d/--data/--data-binary (@file read from the repository root; a form
// content type unless -H sets one), -H, -o (a file in a directory of the
// test's).
func (w *readmeWalk) curl(args []string, line string) string {
	t := w.t
	t.Helper()
	method, target, body, output := "", "", "", ""
	hasBody := false
	header := http.Header{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			i++
			if i == len(args) {
				t.Fatalf("README line %q: %s needs a value", line, a)
			}
			return args[i]
		}
		switch {
		case a == "-s":
		case a == "-X":
			method = next()
		case strings.HasPrefix(a, "-X"):
			method = strings.TrimPrefix(a, "-X")
		case a == "-d" || a == "--data" || a == "--data-binary":
			body, hasBody = next(), true
			if file, ok := strings.CutPrefix(body, "@"); ok {
				b, err := os.ReadFile(filepath.Join(w.repo, file))
				if err != nil {
					t.Fatalf("README line %q: %v", line, err)
				}
				body = string(b)
			}
		case a == "-H":
			k, v, _ := strings.Cut(next(), ":")
			header.Set(k, strings.TrimSpace(v))
		case a == "-o":
			output = filepath.Join(w.cwd, next())
		case strings.HasPrefix(a, "-"):
			t.Fatalf("README line %q: the walk-through's curl does not know %s", line, a)
		default:
			target = a
		}
	}
	if method == "" {
		method = http.MethodGet
		if hasBody {
			method = http.MethodPost
		}
	}
	if hasBody && header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	switch {
	case strings.HasPrefix(target, readmeParleyURL):
		target = w.parleyURL + strings.TrimPrefix(target, readmeParleyURL)
	case strings.HasPrefix(target, readmeSandboxURL):
		target = w.sandboxURL + strings.TrimPrefix(target, readmeSandboxURL)
	default:
		t.Fatalf("README line %q: curl to %q, neither Parley (%s) nor the sandbox (%s)", line, target, readmeParleyURL, readmeSandboxURL)
	}
	if _, err := url.Parse(target); err != nil {
		t.Fatalf("README line %q: %v", line, err)
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatalf("README line %q: %v", line, err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("README line %q: %v", line, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Errorf("README line %q: %s %s answered %d %s", line, method, target, resp.StatusCode, b)
	}
	if output != "" {
		if err := os.WriteFile(output, b, 0o600); err != nil {
			t.Fatalf("README line %q: %v", line, err)
		}
		return ""
	}
	return string(b)
}

// get GETs an API path with the README's token.
func (w *readmeWalk) get(path string) string {
	return w.curl([]string{"-H", "Authorization: Bearer " + w.vars["TOKEN"], readmeParleyURL + path}, "GET "+path)
}

func (w *readmeWalk) getURL(u string) string {
	w.t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// words splits a command line as the shell does, for what the README
// writes: 'single' and "double" quotes, $NAME expanded outside single
// quotes (an unset one is empty).
func (w *readmeWalk) words(s, line string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				w.t.Fatalf("README line %q: unclosed '", line)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				w.t.Fatalf("README line %q: unclosed \"", line)
			}
			cur.WriteString(w.expand(s[i+1 : i+1+j]))
			i += j + 1
			inWord = true
		case c == '$':
			n := varName(s[i+1:])
			cur.WriteString(w.vars[n])
			i += len(n)
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	if len(out) == 0 {
		w.t.Fatalf("README line %q: nothing to run", line)
	}
	return out
}

func (w *readmeWalk) expand(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		n := varName(s[i+1:])
		b.WriteString(w.vars[n])
		i += len(n)
	}
	return b.String()
}

var varPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)

func varName(s string) string { return varPattern.FindString(s) }

var assignPattern = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=(\S.*)$`)

// assignment reads NAME=value.
func assignment(line string) (name, value string, ok bool) {
	m := assignPattern.FindStringSubmatch(line)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// shellLines are the command lines of README's sh blocks, in order:
// continuations (a trailing \, or a quote open at the end of a line)
// joined, comments and blank lines dropped.
func shellLines(readme string) []string {
	var lines []string
	in := false
	cont := ""
	sc := bufio.NewScanner(strings.NewReader(readme))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case cont == "" && l == "```sh":
			in = true
			continue
		case cont == "" && strings.HasPrefix(l, "```"):
			in = false
			continue
		case !in:
			continue
		}
		l, open := stripComment(cont + l)
		switch {
		case open:
			cont = l + "\n"
			continue
		case strings.HasSuffix(l, "\\"):
			cont = strings.TrimSuffix(l, "\\")
			continue
		}
		cont = ""
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// stripComment drops a # comment (a # after a space, outside quotes) and
// says whether a quote is still open at the end of l.
func stripComment(l string) (string, bool) {
	quote := byte(0)
	for i := 0; i < len(l); i++ {
		switch c := l[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '#' && (i == 0 || l[i-1] == ' '):
			return strings.TrimRight(l[:i], " "), false
		}
	}
	return l, quote != 0
}
