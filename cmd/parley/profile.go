package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
)

// profileFlag registers the hidden -cpuprofile flag on a command's flag
// set; the returned start begins profiling when the flag was given and
// returns the function that ends it (a no-op otherwise). `parley loadgen`
// measurements use it: `parley serve -cpuprofile cpu.out`, then
// `go tool pprof`. SIGTERM ends serve cleanly, so the profile is written.
func profileFlag(fs *flag.FlagSet) (start func() (stop func(), err error)) {
	path := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for measurements)")
	return func() (func(), error) {
		if *path == "" {
			return func() {}, nil
		}
		f, err := os.Create(*path)
		if err != nil {
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
		return func() { pprof.StopCPUProfile(); f.Close() }, nil
	}
}
