// Package fuzztest holds what Parley's fuzz targets share: their seeds from
// files under testdata, and a minimisation budget for targets whose inputs
// are whole documents.
package fuzztest

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Files returns the contents of the files matching the glob patterns, for
// f.Add. A pattern that matches nothing fails the target: a seed directory
// that moved would otherwise leave it fuzzing from nothing.
func Files(f *testing.F, patterns ...string) [][]byte {
	f.Helper()
	var out [][]byte
	for _, pattern := range patterns {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatalf("seed pattern %s: %v", pattern, err)
		}
		if len(paths) == 0 {
			f.Fatalf("seed pattern %s matches no file", pattern)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			out = append(out, data)
		}
	}
	return out
}

// MinimizeAtMost caps the fuzzer's minimisation of each input it keeps at
// n runs of the target, unless -fuzzminimizetime was given.
//
// Go's default is 60 s, and its minimiser tries removing every run of
// bytes: O(n²) runs for an input of n bytes. For a flow document of a few
// KB, where a run costs up to a few milliseconds, every input that widened
// coverage stalled fuzzing for the full minute, and a minimisation that runs
// out of time is thrown away, runs and all (FuzzParse made 65 executions
// in 90 s). A budget counted in runs ends the minimiser gracefully: it keeps
// what it cut so far (the tail, single bytes) and the runs count.
// Call it before f.Fuzz.
func MinimizeAtMost(f *testing.F, n int) {
	f.Helper()
	const name = "test.fuzzminimizetime"
	given := false
	flag.Visit(func(fl *flag.Flag) { given = given || fl.Name == name })
	if given || flag.Lookup(name) == nil {
		return
	}
	if err := flag.Set(name, strconv.Itoa(n)+"x"); err != nil {
		f.Fatalf("setting -%s: %v", name, err)
	}
}
