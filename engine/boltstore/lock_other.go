//go:build !unix

package boltstore

import (
	"os"
	"time"
)

// lockFile leaves locking to bbolt where flock does not exist: the start-up
// check then reads the file unlocked.
func lockFile(*os.File, time.Duration) error { return nil }
