package boltstore

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// crashChildEnv names the data file for the child process of
// TestCrashKeepsAcknowledged.
const crashChildEnv = "BOLTSTORE_CRASH_CHILD"

// TestCrashKeepsAcknowledged kills a process that commits as fast as it can
// (SIGKILL, mid-transaction) and checks that every commit it acknowledged
// is in the file, several times over the same file. It proves the process
// side — bbolt's commit protocol, the committer answering only after the
// fsync, the freelist rebuilt on open — not the disk's: the page cache
// survives a killed process.
func TestCrashKeepsAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes")
	}
	path := filepath.Join(t.TempDir(), "parley.db")
	var acked []string
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path, fmt.Sprint("BOLTSTORE_CRASH_ROUND=", round))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		n := 0
		for lines.Scan() {
			if id := lines.Text(); len(id) > 6 && id[:6] == "wamid." {
				acked = append(acked, id)
				if n++; n == 1500 {
					cmd.Process.Kill()
				}
			}
		}
		cmd.Wait()
		if n < 1500 {
			t.Fatalf("round %d: the child acknowledged only %d commits", round, n)
		}

		s, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		ctx := context.Background()
		for _, id := range acked {
			if seen, err := s.Seen(ctx, sender, id); !seen || err != nil {
				t.Fatalf("round %d: acknowledged %s lost (%v)", round, id, err)
			}
		}
		items, err := s.Outbox(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) < len(acked) {
			t.Fatalf("round %d: %d outbox items for %d acknowledged commits", round, len(items), len(acked))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d acknowledged in all, %d outbox items", round, len(acked), len(items))
	}
}

// TestCrashChild is the process TestCrashKeepsAcknowledged kills: it
// commits from 16 goroutines and prints each acknowledged inbound id.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("run by TestCrashKeepsAcknowledged")
	}
	round, _ := strconv.Atoi(os.Getenv("BOLTSTORE_CRASH_ROUND"))
	s, err := Open(path, WithLockTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("wamid.%d.%d.%d", round, w, i)
				if err := s.Commit(context.Background(), change(id, round*100_000_000+w*1_000_000+i)); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				fmt.Fprintln(os.Stdout, id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
