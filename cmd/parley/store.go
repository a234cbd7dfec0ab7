package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/metrics"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/pgstore"
	"github.com/parleyhq/parley/engine/quarantine"
	"github.com/parleyhq/parley/engine/schedule"
	"github.com/parleyhq/parley/engine/secrets"
	"github.com/parleyhq/parley/ui"
	"github.com/parleyhq/parley/ui/auth"
)

// This file is where the commands choose and open their store: the one
// place of cmd/parley that names a backend. Everything else works through
// the role interfaces dataStore gathers.

// dataStore is everything Parley keeps, behind one handle: the engine's
// store and each subsystem's records.
type dataStore interface {
	model.Store
	inbox.Records
	auth.Records
	schedule.Records
	quarantine.Records
	secrets.Records
}

var (
	_ dataStore = (*boltstore.Store)(nil)
	_ dataStore = (*pgstore.Store)(nil)
)

// sendAffinity is how long a message queued by one process on a shared
// PostgreSQL store is left to that process to send (pgstore.WithSendAffinity).
const sendAffinity = time.Second

// openServeStore opens the store `parley serve` runs on: with url empty,
// the bbolt file parley.db in the data directory; with a postgres:// (or
// postgresql://) URL, that database, which several processes may share.
func openServeStore(ctx context.Context, url, dir string, log *slog.Logger) (dataStore, error) {
	if url != "" {
		if err := checkStoreURL(url); err != nil {
			return nil, err
		}
		// The claims of this process: the same name across its restarts,
		// another's for every other process (each has its own data
		// directory).
		host, _ := os.Hostname()
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		// The process whose turn queued a message sends it; another
		// takes it up after sendAffinity (this one died or is that far
		// behind) rather than every process racing to claim it.
		st, err := pgstore.Open(ctx, url, pgstore.WithOwner(host+":"+abs), pgstore.WithSendAffinity(sendAffinity))
		if err != nil {
			return nil, err
		}
		log.Info("store: PostgreSQL", "database", st.Pool().Config().ConnConfig.Database, "host", st.Pool().Config().ConnConfig.Host)
		return st, nil
	}
	st, err := boltstore.Open(filepath.Join(dir, "parley.db"))
	if err != nil {
		return nil, err
	}
	return st, nil
}

// checkStoreURL refuses a PARLEY_STORE that is not a postgres:// URL.
func checkStoreURL(url string) error {
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return fmt.Errorf("PARLEY_STORE (-store) must be a postgres:// URL, or empty for the bbolt file in the data directory")
	}
	return nil
}

// storeUsage is the --store flag's line in the offline commands' usage.
const storeUsage = "PostgreSQL: a postgres:// URL (PARLEY_STORE), as serve's -store; default: the bbolt file in --data"

// openCommandStore opens the store of a command run beside serve (user,
// token, contacts import): with url empty the data directory's bbolt
// file (openData, while serve is stopped: instead says what to do
// meanwhile), created only when create is set; with a postgres:// URL
// that database, which serving processes may be using meanwhile (it is
// migrated as serve would; the command's claims are its own).
func openCommandStore(ctx context.Context, url, dir string, create bool, instead string) (dataStore, error) {
	if url == "" {
		return openData(dir, create, instead)
	}
	if err := checkStoreURL(url); err != nil {
		return nil, err
	}
	return pgstore.Open(ctx, url)
}

// openScratchStore opens a throwaway store, the file path (`parley
// simulate`): always a bbolt file.
func openScratchStore(path string) (model.Store, error) {
	st, err := boltstore.Open(path)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// openTestChatStore opens the store of a test chat of the editor in its
// directory (ui.Config.TestChatStore).
func openTestChatStore(dir string) (model.Store, error) {
	return openScratchStore(filepath.Join(dir, "chat.db"))
}

// startEvents starts the event webhooks on the store, or returns nil
// (their API then answers 503) when the store keeps no deliveries. Both
// bbolt and PostgreSQL do; on PostgreSQL several processes deliver, each
// delivery claimed by one (events.Claimer).
func startEvents(ctx context.Context, store dataStore, o events.Options) (*events.Service, error) {
	es, ok := store.(events.Store)
	if !ok {
		o.Logger.Warn("event webhooks are not available on this store: their API answers 503")
		return nil, nil
	}
	o.Store = es
	return events.New(ctx, o)
}

// inboxFeed is the inbox's feed of the other processes' changes on a
// store several processes share (PostgreSQL; engine/inbox's doc), nil on
// bbolt: the process is alone.
func inboxFeed(store dataStore, log *slog.Logger) inbox.Feed {
	if st, ok := store.(*pgstore.Store); ok {
		return st.Feed(log, 0)
	}
	return nil
}

// conversationPruner is a store that deletes old conversations
// (boltstore's and pgstore's PruneConversations; retention.go).
type conversationPruner interface {
	PruneConversations(ctx context.Context, before time.Time) (int, error)
}

// storeWriteErr is the store's last write failure, for /readyz (nil when
// the store has no such notion).
func storeWriteErr(store dataStore) error {
	if w, ok := store.(interface{ WriteErr() error }); ok {
		return w.WriteErr()
	}
	return nil
}

// backuper is the store's online backup, nil when it makes none (the
// admin backup route then answers 503).
func backuper(store dataStore) ui.Backuper {
	if b, ok := store.(ui.Backuper); ok {
		return b
	}
	return nil
}

// openData opens the data directory's store for a command that works on it
// offline, creating it only when create is set. While `parley serve` holds
// the file, it says so and what to do instead (instead).
func openData(dir string, create bool, instead string) (*boltstore.Store, error) {
	path := filepath.Join(dir, "parley.db")
	if create {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no Parley data at %s (--data or PARLEY_DATA): %w", dir, err)
	}
	store, err := boltstore.Open(path)
	if errors.Is(err, boltstore.ErrLocked) {
		return nil, fmt.Errorf("%s is in use, most likely by a running `parley serve` (bbolt lets one process open it at a time): stop it first, or %s", path, instead)
	}
	return store, err
}

// storeMetrics exposes the store's committer: its commits (one fsync each),
// the writes they carry, the pages they write and the time spent writing
// them. Pages per write is what bounds the store's throughput.
func storeMetrics(reg *metrics.Registry, st dataStore) {
	store, ok := st.(*boltstore.Store)
	if !ok {
		return
	}
	reg.CounterFunc("parley_store_commits_total", "Store transactions committed, one fsync each.", func() float64 { return float64(store.Stats().Commits) })
	reg.CounterFunc("parley_store_writes_total", "Changes committed to the store; a transaction carries many.", func() float64 { return float64(store.Stats().Writes) })
	reg.CounterFunc("parley_store_pages_written_total", "Pages the store's commits wrote to its file.", func() float64 { return float64(store.Stats().PagesWritten) })
	reg.CounterFunc("parley_store_write_seconds_total", "Time the store's commits spent writing and syncing pages.", func() float64 { return store.Stats().WriteTime.Seconds() })
}
