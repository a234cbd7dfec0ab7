package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

const backupUsage = `parley backup [--data DIR] OUT.db

Writes a consistent copy of the data directory's data file (parley.db) to
OUT.db, replacing it only once the copy is whole, synced and checked as
'parley serve' checks its data file at start. To restore, stop 'parley
serve' and copy the backup over DIR/parley.db.

It opens the data file itself, so 'parley serve' must be stopped; from a
running instance, an admin downloads one from GET /api/v1/admin/backup.

Flags:
  --data DIR    data directory (PARLEY_DATA, default ./parley-data)
`

// cmdBackup runs `parley backup`.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, backupUsage) }
	data := fs.String("data", env("PARLEY_DATA", "./parley-data"), "data directory (PARLEY_DATA)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, backupUsage)
		return 2
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
