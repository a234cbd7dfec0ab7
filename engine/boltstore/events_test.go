package boltstore_test

import (
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/events/eventstest"
)

func TestEventsStore(t *testing.T) {
	eventstest.Run(t, func(t *testing.T) eventstest.Store {
		s, err := boltstore.Open(filepath.Join(t.TempDir(), "events.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
