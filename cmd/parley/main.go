// Command parley is the Parley chatbot flow engine for the WhatsApp
// Business Platform: `parley serve` runs it, `parley validate` checks flow
// files, `parley simulate` chats with a flow in the terminal or runs
// conversation scripts.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `parley — a chatbot flow engine for the WhatsApp Business Platform

Usage:
  parley serve [flags]                         run Parley (without WhatsApp credentials: the built-in sandbox)
  parley validate [--json] FLOW.json...        check flows; exit 1 on any error
  parley simulate [flags] FLOW.json            chat with a flow in the terminal
  parley simulate --script SCRIPT FLOW.json    run a conversation script; exit 1 on a mismatch
  parley loadgen [flags]                       post signed webhooks to a running Parley and measure it
  parley user add|list|passwd [flags]          manage who signs in (password from stdin, never a flag)
  parley token add|list|revoke [flags]         API tokens for external systems (Authorization: Bearer)
  parley contacts import [flags] FILE.csv      import contacts and consent (serve stopped; else the web app)
  parley backup [--data DIR] OUT.db            a consistent, checked copy of the data file (serve stopped)
  parley check [--data DIR] [FILE.db]          read the whole data file (or a backup) and report inconsistencies (serve stopped)

Run 'parley COMMAND -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopWithGoRun()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "simulate":
		return cmdSimulate(ctx, args[1:], stdin, stdout, stderr)
	case "loadgen":
		return cmdLoadgen(ctx, args[1:], stdout, stderr)
	case "user":
		return cmdUser(ctx, args[1:], stdin, stdout, stderr)
	case "token":
		return cmdToken(ctx, args[1:], stdout, stderr)
	case "contacts":
		return cmdContacts(ctx, args[1:], stdout, stderr)
	case "backup":
		return cmdBackup(ctx, args[1:], stdout, stderr)
	case "check":
		return cmdCheck(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "parley: unknown command %q\n\n%s", args[0], usage)
	return 2
}
