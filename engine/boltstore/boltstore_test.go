package boltstore_test

import (
	"testing"

	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, path string) model.Store {
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
	storetest.Run(t, func(t *testing.T, path string) model.Store {
		s, err := boltstore.Open(path, boltstore.WithMaxBatch(1))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// The role interfaces' contract. A bbolt file takes one handle at a time
// (its file lock, even within one process): the races run on one handle.
func TestRecords(t *testing.T) {
	storetest.RunRecords(t, storetest.Backend{Open: func(t *testing.T, path string) storetest.Records {
		s, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}})
}
