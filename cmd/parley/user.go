package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/parleyhq/parley/ui/auth"
)

const userUsage = `Usage:
  parley user add --email EMAIL --name NAME --role admin[,analyst,agent] [--password-stdin]
  parley user list [--json]
  parley user passwd --email EMAIL [--password-stdin]

The password is read from the terminal (twice, not echoed) or, when stdin
is not a terminal or with --password-stdin, as one line from stdin; never
from a flag, which would leave it in the shell history and the process
list. Every command takes --data (PARLEY_DATA), as serve does, and cannot
run while serve holds the data file: use the users API then. With
--store postgres://… (PARLEY_STORE) they work on that database, while
serve runs too.
`

const tokenUsage = `Usage:
  parley token add --email EMAIL --name NAME [--expires 90d] [--service]
                                    prints the token once: keep it
  parley token list [--email EMAIL]
  parley token revoke --id ID

An API token (Authorization: Bearer prl_…) acts as its user, with that
user's roles. --expires ends it after that long (days "90d", weeks "2w",
or hours "12h"); without it, it lasts until revoked. Changing the user's
password revokes their tokens, except those made with --service (for a
system that must keep running). Every command takes --data (PARLEY_DATA),
or --store postgres://… (PARLEY_STORE) for PostgreSQL, as serve does.
`

// cmdUser runs `parley user …`.
func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, userUsage)
		return 2
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", env("PARLEY_DATA", "./parley-data"), "data directory (PARLEY_DATA)")
	storeURL := fs.String("store", env("PARLEY_STORE", ""), storeUsage)
	email := fs.String("email", "", "the user's email (their id)")
	name := fs.String("name", "", "the user's display name")
	roles := fs.String("role", "", "roles, comma-separated: admin, analyst, agent")
	fromStdin := fs.Bool("password-stdin", false, "read the password as one line from stdin, without a prompt")
	asJSON := fs.Bool("json", false, "list as JSON")
	switch args[0] {
	case "add", "list", "passwd":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, userUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "parley user: unknown command %q\n\n%s", args[0], userUsage)
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "parley user %s: unexpected arguments %q (the password is never an argument)\n", args[0], fs.Args())
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "parley user %s: %v\n", args[0], err)
		return 1
	}

	switch args[0] {
	case "add":
		if *email == "" || *roles == "" {
			fmt.Fprintln(stderr, "parley user add: --email and --role are required")
			return 2
		}
		rs, err := auth.ParseRoles(*roles)
		if err != nil {
			return fail(err)
		}
		if _, err := auth.NormalizeEmail(*email); err != nil {
			return fail(err)
		}
		pw, err := readPassword(stdin, stderr, *fromStdin, *email)
		if err != nil {
			return fail(err)
		}
		svc, closeStore, err := openAuth(ctx, *storeURL, *data, true)
		if err != nil {
			return fail(err)
		}
		defer closeStore()
		u, err := svc.CreateUser(ctx, auth.NewUser{Email: *email, Name: *name, Roles: rs, Password: pw})
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "user %s added with roles %s\n", u.Email, joinRoles(u.Roles))
	case "list":
		svc, closeStore, err := openAuth(ctx, *storeURL, *data, false)
		if err != nil {
			return fail(err)
		}
		defer closeStore()
		users, err := svc.Users(ctx)
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(users); err != nil {
				return fail(err)
			}
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tROLES\tSTATUS\tCREATED")
		for _, u := range users {
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, joinRoles(u.Roles), status, u.CreatedAt.Format("2006-01-02 15:04"))
		}
		if err := tw.Flush(); err != nil {
			return fail(err)
		}
	case "passwd":
		if *email == "" {
			fmt.Fprintln(stderr, "parley user passwd: --email is required")
			return 2
		}
		svc, closeStore, err := openAuth(ctx, *storeURL, *data, false)
		if err != nil {
			return fail(err)
		}
		defer closeStore()
		if _, err := svc.User(ctx, *email); err != nil {
			return fail(err)
		}
		pw, err := readPassword(stdin, stderr, *fromStdin, *email)
		if err != nil {
			return fail(err)
		}
		u, err := svc.UpdateUser(ctx, *email, auth.UserChange{Password: &pw})
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions and API tokens (but service tokens) ended\n", u.Email)
	}
	return 0
}

// cmdToken runs `parley token …`.
func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return 2
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", env("PARLEY_DATA", "./parley-data"), "data directory (PARLEY_DATA)")
	storeURL := fs.String("store", env("PARLEY_STORE", ""), storeUsage)
	email := fs.String("email", "", "the user the token acts as")
	name := fs.String("name", "", "what the token is for (\"crm\")")
	id := fs.String("id", "", "the token's id (from token list)")
	expires := fs.String("expires", "", "add: the token ends after this long: 90d, 2w, 12h (default: never)")
	service := fs.Bool("service", false, "add: a service token, kept when the user's password changes")
	switch args[0] {
	case "add", "list", "revoke":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, tokenUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "parley token: unknown command %q\n\n%s", args[0], tokenUsage)
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "parley token %s: %v\n", args[0], err)
		return 1
	}
	life, err := auth.ParseLifetime(*expires)
	if err != nil {
		fmt.Fprintf(stderr, "parley token %s: --expires: %v\n", args[0], err)
		return 2
	}
	svc, closeStore, err := openAuth(ctx, *storeURL, *data, false)
	if err != nil {
		return fail(err)
	}
	defer closeStore()
	switch args[0] {
	case "add":
		if *email == "" || *name == "" {
			fmt.Fprintln(stderr, "parley token add: --email and --name are required")
			return 2
		}
		secret, tok, err := svc.CreateToken(ctx, auth.NewToken{Email: *email, Name: *name, ExpiresIn: life, Service: *service})
		if err != nil {
			return fail(err)
		}
		until := "until revoked"
		if tok.ExpiresAt != nil {
			until = "until " + tok.ExpiresAt.Format("2006-01-02 15:04 MST")
		}
		kind := "token"
		if tok.Service {
			kind = "service token"
		}
		fmt.Fprintf(stderr, "%s %s (%s) acts as %s %s; it is shown only now:\n", kind, tok.ID, tok.Name, tok.Email, until)
		fmt.Fprintln(stdout, secret)
	case "list":
		toks, err := svc.Tokens(ctx, *email)
		if err != nil {
			return fail(err)
		}
		now := time.Now()
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tEMAIL\tCREATED\tLAST USED\tEXPIRES\tSERVICE")
		for _, t := range toks {
			used, expires, service := "never", "never", "no"
			if t.LastUsedAt != nil {
				used = t.LastUsedAt.Format("2006-01-02 15:04")
			}
			if t.ExpiresAt != nil {
				expires = t.ExpiresAt.Format("2006-01-02 15:04")
				if !now.Before(*t.ExpiresAt) {
					expires += " (expired)"
				}
			}
			if t.Service {
				service = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Email, t.CreatedAt.Format("2006-01-02 15:04"), used, expires, service)
		}
		if err := tw.Flush(); err != nil {
			return fail(err)
		}
	case "revoke":
		if *id == "" {
			fmt.Fprintln(stderr, "parley token revoke: --id is required")
			return 2
		}
		if err := svc.RevokeToken(ctx, *id); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "token %s revoked\n", *id)
	}
	return 0
}

// openAuth opens the store for the auth commands: the database url
// names, or the data directory's file. Only `user add` may create the
// file (the first admin before the first serve).
func openAuth(ctx context.Context, url, dir string, create bool) (*auth.Service, func(), error) {
	store, err := openCommandStore(ctx, url, dir, create, "manage users through the API (/api/v1/users, /api/v1/auth/tokens)")
	if err != nil {
		return nil, nil, err
	}
	svc, err := auth.New(store, auth.Options{Logger: slog.New(slog.DiscardHandler), Cost: passwordCost})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return svc, func() { store.Close() }, nil
}

// readPassword reads a new password for email: from a terminal, twice
// and without echo; otherwise (a pipe, or --password-stdin) as one line of
// stdin. It is checked as the server would (auth.CheckPassword).
func readPassword(stdin io.Reader, stderr io.Writer, noPrompt bool, email string) (string, error) {
	if f, ok := stdin.(*os.File); ok && !noPrompt && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if err := auth.CheckPassword(string(a), email); err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on stdin (pipe one line, e.g. `printf '%s\\n' \"$PW\" | parley user add …`)")
	}
	return pw, auth.CheckPassword(pw, email)
}

func joinRoles(rs []auth.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}
