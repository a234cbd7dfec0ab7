package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/parleyhq/parley/flows"
)

// fileReport is one file's validation result, as `validate --json` prints it.
type fileReport struct {
	File     string         `json:"file"`
	Valid    bool           `json:"valid"`
	Problems flows.Problems `json:"problems"`
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the problems as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: parley validate [--json] FLOW.json...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	code := 0
	var reports []fileReport
	for _, path := range fs.Args() {
		rep := fileReport{File: path, Problems: flows.Problems{}}
		data, err := os.ReadFile(path)
		if err != nil {
			rep.Problems = append(rep.Problems, flows.Problem{Severity: flows.Error, Message: err.Error()})
		} else {
			_, ps := flows.Parse(data)
			if ps != nil {
				rep.Problems = ps
			}
		}
		rep.Valid = !rep.Problems.HasErrors()
		if !rep.Valid {
			code = 1
		}
		reports = append(reports, rep)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(reports); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
		return code
	}
	for _, rep := range reports {
		errs, warns := 0, 0
		for _, p := range rep.Problems {
			if p.Severity == flows.Error {
				errs++
			} else {
				warns++
			}
			ptr := p.Pointer
			if ptr == "" {
				ptr = "/"
			}
			fmt.Fprintf(stdout, "%s: %s at %s: %s\n", rep.File, p.Severity, ptr, p.Message)
		}
		if rep.Valid {
			fmt.Fprintf(stdout, "%s: ok (%d warning(s))\n", rep.File, warns)
		} else {
			fmt.Fprintf(stdout, "%s: %d error(s), %d warning(s)\n", rep.File, errs, warns)
		}
	}
	return code
}
