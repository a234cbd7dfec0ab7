package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/pgstore"
)

const checkUsage = `parley check [--data DIR] [FILE.db]
parley check --store postgres://…

Reads the whole data file (DIR/parley.db, or FILE.db: a backup) without
writing to it, and reports what it holds and anything inconsistent: a
damaged page, an index that disagrees with the records it indexes, an
outbox entry whose message is gone. Exit status 0 when it found no
problem, 1 otherwise.

'parley serve' must be stopped (it holds the file); to check a running
instance, check a backup of it (GET /api/v1/admin/backup, or 'parley
backup' when stopped). It reads every page: minutes for millions of
conversations.

With --store (PARLEY_STORE), a PostgreSQL database: read in one read-only
snapshot while serve runs, it reports the migrations applied, what the
database holds, and anything inconsistent: a conversation's columns
against its record, a transcript whose conversation is gone, an outbox
entry whose message is gone, stuck leases (sends, timers or event
deliveries claimed by a process that died), flow records against their versions;
with the amcheck extension installed (CREATE EXTENSION amcheck), every
index against its table.

Flags:
  --data DIR    data directory (PARLEY_DATA, default ./parley-data)
  --store URL   a postgres:// URL (PARLEY_STORE), as serve's -store
`

// cmdCheck runs `parley check`.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, checkUsage) }
	data := fs.String("data", env("PARLEY_DATA", "./parley-data"), "data directory (PARLEY_DATA)")
	storeURL := fs.String("store", env("PARLEY_STORE", ""), storeUsage)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *storeURL != "" {
		if fs.NArg() > 0 {
			fmt.Fprintln(stderr, "parley check: a FILE.db is a bbolt file: give it without --store (and PARLEY_STORE unset)")
			return 2
		}
		return checkPostgres(ctx, *storeURL, stdout, stderr)
	}
	path := filepath.Join(*data, "parley.db")
	switch fs.NArg() {
	case 0:
	case 1:
		path = fs.Arg(0)
	default:
		fmt.Fprint(stderr, checkUsage)
		return 2
	}
	start := time.Now()
	r, err := boltstore.Check(path)
	switch {
	case errors.Is(err, boltstore.ErrInUse):
		fmt.Fprintf(stderr, "parley check: %s is in use, most likely by a running `parley serve`: stop it, or check a backup of it\n", path)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "parley check: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d contacts, %d conversations, %d messages, %d conversation index entries, %d queued to send, %d timers (read in %s)\n",
		path, r.Contacts, r.Conversations, r.Messages, r.IndexEntries, r.Outbox, r.Timers, time.Since(start).Round(time.Millisecond))
	for _, n := range r.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	if r.MoreNotes > 0 {
		fmt.Fprintf(stdout, "note: and %d more\n", r.MoreNotes)
	}
	if r.OK() {
		fmt.Fprintln(stdout, "no problem found")
		return 0
	}
	for _, p := range r.Problems {
		fmt.Fprintf(stdout, "PROBLEM: %s\n", p)
	}
	if r.MoreProblems > 0 {
		fmt.Fprintf(stdout, "PROBLEM: and %d more\n", r.MoreProblems)
	}
	fmt.Fprintf(stdout, "%d problems: restore the file from a backup, or report them\n", len(r.Problems)+r.MoreProblems)
	return 1
}

// checkPostgres runs `parley check` on a PostgreSQL database.
func checkPostgres(ctx context.Context, url string, stdout, stderr io.Writer) int {
	if err := checkStoreURL(url); err != nil {
		fmt.Fprintf(stderr, "parley check: %v\n", err)
		return 2
	}
	start := time.Now()
	r, err := pgstore.Check(ctx, url)
	if err != nil {
		fmt.Fprintf(stderr, "parley check: %v\n", err)
		return 1
	}
	indexes := fmt.Sprintf("%d indexes verified by amcheck", r.IndexesVerified)
	if r.IndexesVerified == 0 {
		indexes = "indexes not verified (no amcheck)"
	}
	fmt.Fprintf(stdout, "database %s, schema %s: migrations applied up to %d (this build's: %d); %d contacts, %d conversations, %d messages, %d queued to send, %d timers, %d flows; %s (read in %s)\n",
		r.Database, r.Schema, r.Applied, r.Known, r.Contacts, r.Conversations, r.Messages, r.Outbox, r.Timers, r.Flows, indexes, time.Since(start).Round(time.Millisecond))
	for _, n := range r.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	if r.MoreNotes > 0 {
		fmt.Fprintf(stdout, "note: and %d more\n", r.MoreNotes)
	}
	if r.OK() {
		fmt.Fprintln(stdout, "no problem found")
		return 0
	}
	for _, p := range r.Problems {
		fmt.Fprintf(stdout, "PROBLEM: %s\n", p)
	}
	if r.MoreProblems > 0 {
		fmt.Fprintf(stdout, "PROBLEM: and %d more\n", r.MoreProblems)
	}
	fmt.Fprintf(stdout, "%d problems: restore the database from a backup (pg_restore), or report them\n", len(r.Problems)+r.MoreProblems)
	return 1
}
