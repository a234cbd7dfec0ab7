//go:build unix

package boltstore

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// lockRetry is how often lockFile tries again while another process holds
// the lock, as bbolt does.
const lockRetry = 50 * time.Millisecond

// lockFile takes the exclusive lock bbolt takes (flock) on f, trying until
// timeout, so that Open checks the file while no other process writes it.
// bbolt locks the same open file again, which the holder of the lock may.
func lockFile(f *os.File, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		if time.Now().After(deadline) {
			return ErrLocked
		}
		time.Sleep(lockRetry)
	}
}
