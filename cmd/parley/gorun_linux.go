package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// stopWithGoRun makes `go run ./cmd/parley serve` stop when `go run` is
// stopped. `go run` ignores SIGINT (the terminal sends it to the whole
// process group, so Parley gets it too) but dies of SIGTERM without
// passing it on: Parley would run on as an orphan, holding its port and
// its data file. So when the parent is `go`, Parley asks the kernel for a
// SIGTERM of its own when the parent dies (PR_SET_PDEATHSIG), which shuts
// it down as usual. A parent that is not `go` (a shell, a supervisor) is
// left alone: a shell that exits must not stop a server started with &.
func stopWithGoRun() {
	ppid := os.Getppid()
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(ppid) + "/comm")
	if err != nil || strings.TrimSpace(string(comm)) != "go" {
		return
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0); errno != 0 {
		return
	}
	if os.Getppid() != ppid { // the parent died before the request
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
}
