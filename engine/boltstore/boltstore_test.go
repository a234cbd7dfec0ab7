package boltstore_test

import (
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, path string) engine.Store {
		s, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// With group commit off, every write is a batch of one: the suite must
// pass all the same.
func TestStoreWithoutGroupCommit(t *testing.T) {
	storetest.Run(t, func(t *testing.T, path string) engine.Store {
		s, err := boltstore.Open(path, boltstore.WithMaxBatch(1))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
