package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/parleyhq/parley/engine/pgstore"
)

const backupUsage = `parley backup [--data DIR] OUT.db
parley backup --store postgres://… OUT.dump

Writes a consistent copy of the data directory's data file (parley.db) to
OUT.db, replacing it only once the copy is whole, synced and checked as
'parley serve' checks its data file at start. To restore, stop 'parley
serve' and copy the backup over DIR/parley.db.

It opens the data file itself, so 'parley serve' must be stopped; from a
running instance, an admin downloads one from GET /api/v1/admin/backup.

With --store (PARLEY_STORE), a PostgreSQL database: PostgreSQL's own tool
makes the backup. When pg_dump is on the PATH, it runs it (one consistent
snapshot, while serve runs), writing a custom-format archive to OUT.dump
once it is whole and pg_restore reads it; otherwise it prints the pg_dump
command to run. Restore with pg_restore (it says how).

Flags:
  --data DIR    data directory (PARLEY_DATA, default ./parley-data)
  --store URL   a postgres:// URL (PARLEY_STORE), as serve's -store
`

// cmdBackup runs `parley backup`.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backupUsage) }
	data := fs.String("data", env("PARLEY_DATA", "./parley-data"), "data directory (PARLEY_DATA)")
	storeURL := fs.String("store", env("PARLEY_STORE", ""), storeUsage)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, backupUsage)
		return 2
	}
	if *storeURL != "" {
		return backupPostgres(ctx, *storeURL, fs.Arg(0), stdout, stderr)
	}
	store, err := openData(*data, false, "download a backup from GET /api/v1/admin/backup as an admin")
	if err != nil {
		fmt.Fprintf(stderr, "parley backup: %v\n", err)
		return 1
	}
	defer store.Close()
	n, err := store.BackupFile(ctx, fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "parley backup: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes)\n", *data, fs.Arg(0), n)
	return 0
}

// backupPostgres backs a PostgreSQL store up with pg_dump, or says how.
func backupPostgres(ctx context.Context, url, out string, stdout, stderr io.Writer) int {
	if err := checkStoreURL(url); err != nil {
		fmt.Fprintf(stderr, "parley backup: %v\n", err)
		return 2
	}
	d, err := pgstore.DumpCommand(url, out)
	if err != nil {
		fmt.Fprintf(stderr, "parley backup: %v\n", err)
		return 2
	}
	password := ""
	if d.Password != "" {
		password = " (the URL's password is left out: give it in PGPASSWORD or ~/.pgpass)"
	}
	restore := "pg_restore --clean --if-exists --dbname=" + shellQuote(d.URL) + " " + shellQuote(out)
	dump, err := exec.LookPath("pg_dump")
	if err != nil {
		fmt.Fprintf(stderr, "parley backup: the store is PostgreSQL, which backs itself up with pg_dump (not found on the PATH: install PostgreSQL's client, as its server's version or newer). Run%s:\n  pg_dump %s\nand restore with:\n  %s\n",
			password, shellJoin(d.Args), restore)
		return 1
	}
	// Into a file beside out, renamed once pg_dump is done and
	// pg_restore reads it whole: a failed backup leaves out as it was.
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.partial")
	if err != nil {
		fmt.Fprintf(stderr, "parley backup: %v\n", err)
		return 1
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	dt, _ := pgstore.DumpCommand(url, tmp)
	run := func(name string, args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = os.Environ()
		if d.Password != "" {
			cmd.Env = append(cmd.Env, "PGPASSWORD="+d.Password)
		}
		var errOut strings.Builder
		cmd.Stderr = &errOut
		b, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", name, err, strings.TrimSpace(errOut.String()))
		}
		return b, nil
	}
	if _, err := run(dump, dt.Args...); err != nil {
		fmt.Fprintf(stderr, "parley backup: %v\nthe command was: pg_dump %s%s\n", err, shellJoin(d.Args), password)
		return 1
	}
	tables := -1
	if restorer, err := exec.LookPath("pg_restore"); err == nil {
		list, err := run(restorer, "--list", tmp)
		if err != nil {
			fmt.Fprintf(stderr, "parley backup: the archive pg_dump wrote does not read back: %v\n", err)
			return 1
		}
		tables = strings.Count(string(list), " TABLE DATA ")
		if tables == 0 {
			fmt.Fprintf(stderr, "parley backup: the archive holds no table: is %s (schema %q) Parley's database?\n", d.URL, d.Schema)
			return 1
		}
	}
	if err := os.Rename(tmp, out); err != nil {
		fmt.Fprintf(stderr, "parley backup: %v\n", err)
		return 1
	}
	fi, err := os.Stat(out)
	if err != nil {
		fmt.Fprintf(stderr, "parley backup: %v\n", err)
		return 1
	}
	of := ""
	if tables >= 0 {
		of = fmt.Sprintf(", %d tables", tables)
	}
	fmt.Fprintf(stdout, "backed up %s to %s with pg_dump (%d bytes%s); restore with:\n  %s\n", d.URL, out, fi.Size(), of, restore)
	return 0
}

// shellJoin quotes args for a POSIX shell.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
