package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// profileFlag registers the measurement flags -cpuprofile, -blockprofile
// and -mutexprofile on a command's flag set; the returned start begins
// profiling when one was given and returns the function that ends it,
// writing the profiles (a no-op otherwise). `parley loadgen` measurements
// use them: `parley serve -cpuprofile cpu.out -blockprofile block.out`,
// then `go tool pprof`. SIGTERM ends serve cleanly, so the profiles are
// written.
func profileFlag(fs *flag.FlagSet) (start func() (stop func(), err error)) {
	cpu := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for measurements)")
	block := fs.String("blockprofile", "", "write a profile of where goroutines blocked (channels, locks, selects) to this file (for measurements)")
	mutex := fs.String("mutexprofile", "", "write a profile of contended mutexes to this file (for measurements)")
	return func() (func(), error) {
		var stops []func()
		stop := func() {
			for _, s := range stops {
				s()
			}
		}
		if *cpu != "" {
			f, err := os.Create(*cpu)
			if err != nil {
				return nil, fmt.Errorf("-cpuprofile: %w", err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return nil, fmt.Errorf("-cpuprofile: %w", err)
			}
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
		if *block != "" {
			// Every blocking event above 10 µs is sampled: enough to see
			// where time waits without slowing the run much.
			runtime.SetBlockProfileRate(10_000)
			stops = append(stops, func() { writeProfile("block", *block) })
		}
		if *mutex != "" {
			runtime.SetMutexProfileFraction(10)
			stops = append(stops, func() { writeProfile("mutex", *mutex) })
		}
		return stop, nil
	}
}

// writeProfile writes the named runtime profile to path; a failure is
// reported on stderr, since the run it measured is over.
func writeProfile(name, path string) {
	f, err := os.Create(path)
	if err == nil {
		err = errors.Join(pprof.Lookup(name).WriteTo(f, 0), f.Close())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "-%sprofile: %v\n", name, err)
	}
}
