package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/templates"
)

const contactsUsage = `parley contacts import [flags] FILE.csv

Imports contacts and their consent from a CSV file into the data directory,
as the Contacts page and POST /api/v1/contacts/import do: a header row with
phone or wa_id or user_id, and any of phone_number_id, name, language, tags,
opted_in, opted_in_at, source, purpose. A file with any problem imports
nothing and lists every problem by row and column (exit 1). Re-importing a
file adds nothing twice; an opt-in older than the customer's own STOP is
refused.

It opens the data file itself, so it runs while 'parley serve' is stopped;
while it runs, use the web app or the API instead. On PostgreSQL (--store)
it runs beside serving processes.

Flags:
  --data DIR              data directory (PARLEY_DATA, default ./parley-data)
  --store URL             a postgres:// URL (PARLEY_STORE), as serve's -store
  --phone-number-id ID    the business number of rows without one (WHATSAPP_PHONE_NUMBER_ID;
                          default: the number Parley serves on this data directory, when
                          it serves one); a number Parley does not serve is refused
  --by NAME               who imports, recorded with each opt-in (default: the OS user)
  --dry-run               check and count only; store nothing
  --json                  print the result as JSON
`

// cmdContacts runs `parley contacts`.
func cmdContacts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "import" {
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			fmt.Fprint(stdout, contactsUsage)
			return 0
		}
		fmt.Fprint(stderr, contactsUsage)
		return 2
	}
	fs := flag.NewFlagSet("contacts import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, contactsUsage) }
	data := fs.String("data", env("PARLEY_DATA", "./parley-data"), "data directory (PARLEY_DATA)")
	storeURL := fs.String("store", env("PARLEY_STORE", ""), storeUsage)
	phone := fs.String("phone-number-id", env("WHATSAPP_PHONE_NUMBER_ID", ""), "the business number of rows without one")
	by := fs.String("by", "cli:"+env("USER", "unknown"), "who imports, recorded with each opt-in")
	dry := fs.Bool("dry-run", false, "check and count only")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "parley contacts import: give one CSV file")
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "parley contacts import: %v\n", err)
		return 1
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return fail(err)
	} else if fi.Size() > consent.MaxImportBytes {
		return fail(fmt.Errorf("%s is larger than %d bytes: split it", fs.Arg(0), consent.MaxImportBytes))
	}
	store, err := openCommandStore(ctx, *storeURL, *data, false, "import through the Contacts page or POST /api/v1/contacts/import")
	if err != nil {
		return fail(err)
	}
	defer store.Close()
	// The numbers a Parley served on this data file: a row's number must
	// be one of them, and the only one is the default.
	numbers, err := engine.StoredNumbers(ctx, store)
	if err != nil {
		return fail(err)
	}
	eng, err := engine.New(ctx, engine.Options{Store: store, Templates: templates.NewTemplateSet(), Logger: slog.New(slog.DiscardHandler),
		PhoneNumbers: numbers})
	if err != nil {
		return fail(err)
	}
	if *phone == "" {
		*phone = eng.DefaultPhoneNumberID()
	}
	if *phone == "" && len(numbers) == 0 {
		fmt.Fprintln(stderr, "parley contacts import: the store knows no business number yet (start parley serve on it once): rows need a phone_number_id, or give --phone-number-id")
	}
	res, err := eng.ImportContacts(ctx, f, consent.ImportOptions{PhoneNumberID: *phone, By: *by, DryRun: *dry})
	if err != nil && !errors.Is(err, consent.ErrImportInvalid) {
		return fail(err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return fail(err)
		}
	} else {
		printImport(stdout, stderr, res)
	}
	if err != nil {
		return 1
	}
	return 0
}

// printImport writes what an import did, or every problem that stopped it.
func printImport(stdout, stderr io.Writer, res consent.ImportResult) {
	if len(res.Problems) > 0 {
		for _, p := range res.Problems {
			fmt.Fprintln(stderr, p)
		}
		if res.MoreProblems > 0 {
			fmt.Fprintf(stderr, "… and %d more problems\n", res.MoreProblems)
		}
		fmt.Fprintf(stderr, "nothing imported: %d rows, %d problems\n", res.Rows, len(res.Problems)+res.MoreProblems)
		return
	}
	verb := "imported"
	if res.DryRun {
		verb = "would import (dry run)"
	}
	fmt.Fprintf(stdout, "%s %d rows: %d contacts created, %d updated, %d opt-ins, %d opt-outs\n",
		verb, res.Rows, res.Created, res.Updated, res.OptIns, res.OptOuts)
}
