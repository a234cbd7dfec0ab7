//go:build unix

package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestServeStopsOnSIGTERM runs `parley serve` as a process, built and
// under `go run`, and stops it with SIGTERM: it shuts down cleanly and
// releases its port and its sandbox's. Under `go run`, SIGTERM goes to
// `go run`, which dies without passing it on; Parley must stop all the
// same (gorun_linux.go). It also checks that "parley serving" is logged
// once the port answers, not before.
func TestServeStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs parley processes; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "parley")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name string
		argv []string
	}{
		{"the built binary", []string{bin, "serve"}},
		{"go run", []string{"go", "run", ".", "serve"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.argv[0] == "go" && runtime.GOOS != "linux" {
				t.Skip("Parley follows go run's death on Linux only")
			}
			cmd := exec.Command(tc.argv[0], tc.argv[1:]...)
			// A process group of its own, so that cleanup reaches the
			// Parley that go run started even if it outlives go run.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Env = append(os.Environ(), "PARLEY_ADDR=127.0.0.1:0", "PARLEY_SANDBOX_ADDR=127.0.0.1:0",
				"PARLEY_DATA="+filepath.Join(t.TempDir(), "data"), "PARLEY_FLOWS=", "WHATSAPP_ACCESS_TOKEN=",
				"PARLEY_ADMIN_EMAIL=", "PARLEY_ADMIN_PASSWORD=", "PARLEY_LOG_LEVEL=info")
			// A pipe of our own, not StderrPipe: Wait would close that once
			// go run exits, while the Parley it ran still writes.
			stderr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stderr.Close()
			cmd.Stderr = pw
			err = cmd.Start()
			pw.Close()
			if err != nil {
				t.Fatal(err)
			}
			log := &e2eLogBuffer{}
			lines := make(chan string, 100)
			var reading sync.WaitGroup
			reading.Add(1)
			go func() {
				defer reading.Done()
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					io.WriteString(log, sc.Text()+"\n") //nolint:errcheck // a buffer
					select {
					case lines <- sc.Text():
					default:
					}
				}
			}()
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // gone already, normally
				if t.Failed() {
					t.Logf("parley log:\n%s", log.String())
				}
			})

			// "parley serving" names the address, and the port answers then.
			serving := regexp.MustCompile(`msg="parley serving" addr=http://(\S+)`)
			sandboxAt := regexp.MustCompile(` sandbox=http://(\S+) `)
			var addr, sbAddr string
			deadline := time.After(3 * time.Minute) // go run compiles first
			for addr == "" {
				select {
				case l := <-lines:
					if m := sandboxAt.FindStringSubmatch(l); m != nil {
						sbAddr = m[1]
					}
					if m := serving.FindStringSubmatch(l); m != nil {
						addr = m[1]
					}
				case err := <-exited:
					t.Fatalf("parley exited before serving: %v", err)
				case <-deadline:
					t.Fatal("parley did not log that it serves")
				}
			}
			resp, err := http.Get("http://" + addr + "/healthz")
			if err != nil {
				t.Fatalf("logged serving on %s, but: %v", addr, err)
			}
			resp.Body.Close()
			if sbAddr == "" {
				t.Fatal("the log does not say where the sandbox is")
			}

			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if tc.argv[0] != "go" && err != nil {
					t.Errorf("parley serve after SIGTERM: %v, want exit 0", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no exit 30 s after SIGTERM")
			}
			// Parley itself (under go run, the child) releases both ports.
			for _, a := range []string{addr, sbAddr} {
				eventually(t, e2eTimeout, func() bool {
					ln, err := net.Listen("tcp", a)
					if err == nil {
						ln.Close()
					}
					return err == nil
				}, "%s released", a)
			}
			reading.Wait() // every writer of the pipe is gone
			if !strings.Contains(log.String(), `msg="shutting down"`) {
				t.Error("the log does not say it shut down")
			}
		})
	}
}
