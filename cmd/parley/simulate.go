package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/httpcall"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/engine/script"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/whatsapp"
)

const simulateHelp = `Type what the customer says. Other commands:
  [id]              tap the button or list row with this id
  {...}             send any Cloud API message object (location, media…)
  ~ 25h             move the clock on; due timers fire
  ! agent: text     reply as an agent (the conversation must be handed off)
  ! resolve [x]     resolve as the agent; the flow resumes
  @ secret NAME: v  set a secret for the flow's http calls ({{ secrets.NAME }})
  @ name: Ann       set up the customer (name, language, opted_in, tags, field.X)
When the flow makes an http call it is shown and you answer it:
  200 {"status": "shipped"}   a status and an optional body (JSON or text)
  timeout | network            the attempt fails without an answer
(a leading ? is allowed, as in scripts). --real-calls makes the calls instead.
  :state            show the conversation: node, status, variables, window
  :help, :quit
`

func cmdSimulate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scriptPath := fs.String("script", "", "run this conversation script instead of chatting")
	templatesPath := fs.String("templates", "", "a JSON file of templates: as the Graph API lists them (name, language, status, parameter_format, components), or by counts (name, language, status, header_params, body_params, quick_replies); default: every template the flow names is approved")
	dataDir := fs.String("data", "", "keep the simulation's store in this directory (default: a temporary one)")
	reopen := fs.Bool("reopen", false, "close and reopen the store between steps (proves state lives in the store)")
	realCalls := fs.Bool("real-calls", false, "without --script: make the flow's http calls for real (addresses checked as in serve, PARLEY_HTTP_ALLOW_HOSTS honoured; secrets from `@ secret NAME: value` lines) instead of asking how to answer each")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: parley simulate [--script SCRIPT] [--templates FILE] FLOW.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	flowDoc, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "parley-simulate-")
		if err != nil {
			fmt.Fprintln(stderr, "parley:", err)
			return 2
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	opts := script.Options{
		OpenStore: func() (model.Store, error) { return openScratchStore(filepath.Join(dir, "simulate.db")) },
		Reopen:    *reopen,
	}
	if *templatesPath != "" {
		reg, err := loadTemplates(*templatesPath)
		if err != nil {
			fmt.Fprintln(stderr, "parley:", err)
			return 2
		}
		opts.Templates = reg
	}
	if *scriptPath != "" {
		return runScript(ctx, *scriptPath, flowDoc, opts, stdout, stderr)
	}
	if *realCalls {
		c, err := httpcall.New(httpcall.Options{Allow: httpcall.ParseAllow(os.Getenv(httpcall.AllowEnv))})
		if err != nil {
			fmt.Fprintln(stderr, "parley:", err)
			return 2
		}
		opts.HTTP = c
	} else {
		opts.ByHand = true
	}
	return chat(ctx, flowDoc, opts, stdin, stdout, stderr)
}

func loadTemplates(path string) (*templates.Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: want a JSON array of templates: %w", path, err)
	}
	set := templates.NewSet()
	for i, r := range raw {
		// A template as the Graph API lists it (with its components) is
		// read whole, its shape included; else by its counts.
		var probe struct {
			Components json.RawMessage `json:"components"`
		}
		_ = json.Unmarshal(r, &probe)
		if probe.Components != nil {
			var t whatsapp.Template
			if err := json.Unmarshal(r, &t); err != nil {
				return nil, fmt.Errorf("%s: template %d: %w", path, i, err)
			}
			if t.Status == "" {
				t.Status = model.TemplateApproved
			}
			set.Put(templates.InfoFromWhatsApp(t))
			continue
		}
		var info model.TemplateInfo
		if err := json.Unmarshal(r, &info); err != nil {
			return nil, fmt.Errorf("%s: template %d: %w", path, i, err)
		}
		set.Put(info)
	}
	return set, nil
}

func runScript(ctx context.Context, path string, flowDoc []byte, opts script.Options, stdout, stderr io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	defer f.Close()
	s, err := script.Parse(path, f)
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	res, err := script.Run(ctx, s, flowDoc, opts)
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	if !res.OK() {
		res.Report(stdout, path)
		fmt.Fprintf(stdout, "FAIL %s: %d expectation(s) did not hold\n", path, len(res.Failures))
		return 1
	}
	fmt.Fprintf(stdout, "ok %s (%d steps)\n", path, len(s.Steps))
	return 0
}

func chat(ctx context.Context, flowDoc []byte, opts script.Options, stdin io.Reader, stdout, stderr io.Writer) int {
	sess, err := script.NewSession(ctx, flowDoc, script.DefaultStart, opts)
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 1
	}
	defer sess.Close()
	fmt.Fprintf(stdout, "Simulating as customer %s at %s. :help for commands.\n", script.CustomerWaID, sess.Now().Format("Mon 2006-01-02 15:04 MST"))
	in := bufio.NewScanner(stdin)
	line := 0
	for {
		fmt.Fprint(stdout, "you> ")
		if !in.Scan() {
			fmt.Fprintln(stdout)
			return 0
		}
		line++
		text := strings.TrimSpace(in.Text())
		switch text {
		case "":
			continue
		case ":quit", ":q", ":exit":
			return 0
		case ":help", "?":
			fmt.Fprint(stdout, simulateHelp)
			continue
		case ":state":
			showState(ctx, sess, stdout)
			continue
		}
		st := script.Step{Line: line, Kind: script.Say, Arg: text}
		if k := text[0]; k == script.Clock || k == script.Act || k == script.Say || k == script.Set {
			st = script.Step{Line: line, Kind: k, Arg: strings.TrimSpace(text[1:])}
		}
		if err := sess.Do(ctx, st); err != nil {
			fmt.Fprintln(stdout, "  !", err)
			continue
		}
		showSent(sess, stdout)
		if st.Kind == script.Clock {
			fmt.Fprintf(stdout, "  (now %s)\n", sess.Now().Format("Mon 2006-01-02 15:04 MST"))
		}
		if !answerCalls(ctx, sess, in, &line, stdout) {
			fmt.Fprintln(stdout)
			return 0
		}
	}
}

func showSent(sess *script.Session, stdout io.Writer) {
	for _, m := range sess.TakeSent() {
		who := "bot"
		if strings.HasPrefix(m.Sender, "agent:") {
			who = "agent"
		}
		fmt.Fprintf(stdout, "%s< %s\n", who, engine.Render(m))
	}
}

// answerCalls asks how to answer each http call the flow makes, until it
// waits on none; false when the input ends or the user quits.
func answerCalls(ctx context.Context, sess *script.Session, in *bufio.Scanner, line *int, stdout io.Writer) bool {
	for {
		held, err := sess.HeldCall(ctx)
		if err != nil {
			fmt.Fprintln(stdout, "  !", err)
			return true
		}
		if held == nil {
			return true
		}
		fmt.Fprintf(stdout, "  ? %s %s  (node %s, attempt %d of %d, key %s)\n", held.Method, held.URL, held.Node, held.Attempt, held.Retries+1, held.Key)
		names := make([]string, 0, len(held.Headers))
		for k := range held.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(stdout, "    %s: %s\n", k, held.Headers[k])
		}
		if held.Body != "" {
			fmt.Fprintf(stdout, "    %s\n", held.Body)
		}
		for {
			fmt.Fprint(stdout, "answer> ")
			if !in.Scan() {
				return false
			}
			*line++
			text := strings.TrimSpace(in.Text())
			switch text {
			case "":
				continue
			case ":quit", ":q", ":exit":
				return false
			case ":state":
				showState(ctx, sess, stdout)
				continue
			}
			a, err := script.ParseAnswer(text)
			if err != nil {
				fmt.Fprintln(stdout, "  !", err)
				continue
			}
			if err := sess.AnswerCall(ctx, a); err != nil {
				fmt.Fprintln(stdout, "  !", err)
			}
			break
		}
		showSent(sess, stdout)
	}
}

func showState(ctx context.Context, sess *script.Session, w io.Writer) {
	eng := sess.Engine()
	c, err := eng.Contact(ctx, sess.Contact())
	if err != nil {
		fmt.Fprintln(w, "  no conversation yet")
		return
	}
	fmt.Fprintf(w, "  now: %s\n", sess.Now().Format("Mon 2006-01-02 15:04 MST"))
	if exp := policy.WindowExpiry(c); policy.WindowOpen(c, sess.Now()) {
		fmt.Fprintf(w, "  window: open for %s\n", exp.Sub(sess.Now()).Round(1e9))
	} else {
		fmt.Fprintln(w, "  window: closed (templates only)")
	}
	conv, err := eng.CurrentConversation(ctx, sess.Contact())
	if err != nil {
		fmt.Fprintln(w, "  no conversation")
		return
	}
	fmt.Fprintf(w, "  conversation %s: flow %s v%d, node %q, %s\n", conv.ID, conv.Flow, conv.Version, conv.Node, conv.Status)
	if conv.Reason != "" {
		fmt.Fprintf(w, "  reason: %s\n", conv.Reason)
	}
	vars, _ := json.Marshal(conv.Vars)
	fmt.Fprintf(w, "  vars: %s\n", vars)
	for _, t := range conv.Timers {
		fmt.Fprintf(w, "  timer: %s at %s (in %s)\n", t.Kind, t.Due.Format("Mon 15:04"), t.Due.Sub(sess.Now()).Round(1e9))
	}
}
