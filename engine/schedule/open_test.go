package schedule_test

import (
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/schedule"
)

// The scheduler's own tests run on a real bbolt file: boltstore imports
// package schedule, so they get it from here (world_test.go, openStore).
func init() {
	schedule.SetOpenStore(func(path string) (schedule.TestStore, error) {
		st, err := boltstore.Open(path)
		if err != nil {
			return nil, err
		}
		return st, nil
	})
}
