package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/parleyhq/parley/engine/model"
)

// ErrLocked is returned by Open when another process holds the data file
// for longer than the lock timeout (see WithLockTimeout).
var ErrLocked = errors.New("boltstore: data file is locked by another process")

// Defaults of the options.
const (
	// DefaultLockTimeout bounds how long Open waits for another process to
	// let go of the file: long enough for a restarting process to exit, short
	// enough that a second `parley serve` on the same file fails visibly.
	DefaultLockTimeout = 2 * time.Second
	// DefaultMaxBatch caps the writes that share one transaction. Larger
	// batches amortise the fsync further, but every waiter of a batch waits
	// for all of its writes, and the transaction's dirty pages grow with it.
	DefaultMaxBatch = 1000
)

// pruneChunk caps the inbound ids that PruneInbound deletes in one
// transaction, so that a large prune never holds up commits for long.
const pruneChunk = 1000

// Option configures Open.
type Option func(*config)

type config struct {
	lockTimeout time.Duration
	maxBatch    int
}

// WithLockTimeout sets how long Open waits for the file lock before it
// returns ErrLocked. Zero means DefaultLockTimeout.
func WithLockTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.lockTimeout = d
		}
	}
}

// WithMaxBatch sets how many writes at most share one transaction and one
// fsync. Zero or less means DefaultMaxBatch; 1 turns group commit off.
func WithMaxBatch(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBatch = n
		}
	}
}

var _ model.Store = (*Store)(nil)

// Store is an model.Store in one bbolt file. It is safe for concurrent
// use. Reads run in their own read transactions, concurrently with each
// other and with the committer; all writes go through the committer.
type Store struct {
	db       *bolt.DB
	maxBatch int

	// writes feeds the committer; stop tells it to drain and return, and
	// stopped is closed when it has.
	writes  chan *pending
	stop    chan struct{}
	stopped chan struct{}

	// mu guards closed. Reads hold it shared for their whole transaction;
	// writers hold it shared only until their write is handed to the
	// committer, counted in senders.
	mu      sync.RWMutex
	closed  bool
	senders sync.WaitGroup

	// Counts of the committer, for Stats.
	commitCount, writeCount atomic.Int64
	// writeErr is the last commit that failed to reach the file (WriteErr).
	writeErr atomic.Pointer[error]
	// beforeCommit, when set (by benchmarks, before the writes), sees each
	// batch's transaction once its writes are applied.
	beforeCommit func(*bolt.Tx)
}

// Stats are running totals of the committer's work since Open: what the
// single writer spends its time on. Pages per write is the figure that
// bounds throughput: each dirty page is written and synced at commit.
type Stats struct {
	Commits      int64         // transactions committed (one fsync each)
	Writes       int64         // writes they carried, refused ones (a duplicate) included
	PagesWritten int64         // pages written to the file by commits, the meta page and freelist included
	WriteTime    time.Duration // spent writing and syncing pages
}

// Stats returns the committer's totals since Open.
func (s *Store) Stats() Stats {
	tx := s.db.Stats().TxStats
	return Stats{
		Commits: s.commitCount.Load(),
		Writes:  s.writeCount.Load(),
		// bbolt counts a write per node or freelist, whatever its pages
		// (TxStats.Write): pages are the bytes it allocated, plus the meta
		// page of each commit.
		PagesWritten: tx.GetPageAlloc()/int64(s.db.Info().PageSize) + s.commitCount.Load(),
		WriteTime:    tx.GetWriteTime(),
	}
}

// Open opens the store in the file at path, creating the file and its
// buckets if needed. The directory must exist. Only one process may have
// the file open: another waits for the lock up to the lock timeout, then
// gets ErrLocked.
//
// A file that exists is checked before bbolt maps it (checkFile): one that
// is empty, cut short, not a bbolt file, damaged, or another program's is
// refused with ErrDamaged, saying what is wrong and what to do. A panic of
// bbolt while the file is opened, migrated or its buckets made is returned
// as ErrDamaged too, never raised.
func Open(path string, opts ...Option) (*Store, error) {
	cfg := config{lockTimeout: DefaultLockTimeout, maxBatch: DefaultMaxBatch}
	for _, o := range opts {
		o(&cfg)
	}
	f, created, err := openFile(path)
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	if err := lockFile(f, cfg.lockTimeout); err != nil {
		f.Close()
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, fmt.Errorf("boltstore: locking %s: %w", path, err)
	}
	if !created {
		if err := checkFile(f, path); err != nil {
			f.Close()
			return nil, err
		}
	}
	var db *bolt.DB
	err = guard(func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{
			Timeout: cfg.lockTimeout,
			// The freelist is written at every commit (a page or a few per
			// fsync, shared by the batch): without it, bbolt rebuilds it at
			// Open by reading every page of the file, a start-up that grows
			// with the history (80 s for a 4.7 GB file with a cold page
			// cache). A file written without it is read so once, then
			// gets its freelist.
			NoFreelistSync: false,
			FreelistType:   bolt.FreelistMapType,
			// The file checked and locked above: bbolt locks it again.
			OpenFile: func(string, int, os.FileMode) (*os.File, error) { return f, nil },
		})
		if err != nil {
			return err
		}
		if err := db.Update(initBuckets); err != nil {
			return err
		}
		if err := migrate(db); err != nil {
			return err
		}
		return migrateIndexes(db)
	})
	if err != nil {
		if db != nil {
			db.Close()
		} else {
			f.Close()
		}
		var p panicked
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		case errors.Is(err, errForeign):
			return nil, damaged(path, "is not a Parley data file (%v)", err)
		case errors.As(err, &p):
			return nil, damaged(path, "could not be read (%v)", err)
		}
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	s := &Store{
		db:       db,
		maxBatch: cfg.maxBatch,
		writes:   make(chan *pending, cfg.maxBatch),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	go s.commitLoop()
	return s, nil
}

// openFile opens the data file for reading and writing, creating it if it
// does not exist; created says whether it did.
func openFile(path string) (f *os.File, created bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR, 0)
	if !errors.Is(err, fs.ErrNotExist) {
		return f, false, err
	}
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process made it meanwhile
		return openFile(path)
	}
	return f, err == nil, err
}

// panicked is a panic of bbolt's, recovered by guard.
type panicked struct{ value any }

func (p panicked) Error() string { return fmt.Sprintf("bbolt panicked: %v", p.value) }

// guard runs fn, returning a panic, and a fault reading the memory map
// (SIGBUS, SIGSEGV: SetPanicOnFault), as a panicked error. bbolt asserts
// what a damaged file breaks by panicking.
func guard(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = panicked{r}
		}
	}()
	return fn()
}

// errForeign is returned by initBuckets for a bbolt file that is not
// Parley's.
var errForeign = errors.New("a bbolt file with no Parley schema")

// initBuckets creates the buckets a file lacks and settles its schema
// version. A file with buckets but no meta bucket, or a meta bucket with
// no schema version, was not written by Parley (which writes the meta
// bucket and its version with the first buckets, in one transaction):
// errForeign.
func initBuckets(tx *bolt.Tx) error {
	first, _ := tx.Cursor().First()
	if meta := tx.Bucket(bucketMeta); meta == nil && first != nil || meta != nil && meta.Get(keySchema) == nil {
		return errForeign
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keySchema); v != nil {
		if len(v) == 8 && binary.BigEndian.Uint64(v) == 1 {
			if err := startMigration(tx); err != nil {
				return err
			}
			return startIndexing(meta)
		}
		if len(v) == 8 && binary.BigEndian.Uint64(v) == 4 {
			// Schema 5 gives new owners slot groups (groups.go): nothing
			// moves, but a schema-4 binary must not open the file: it
			// would not find the records in slots.
			return meta.Put(keySchema, u64(schemaVersion))
		}
		if len(v) == 8 && (binary.BigEndian.Uint64(v) == 2 || binary.BigEndian.Uint64(v) == 3) {
			// Schema 3 only stores new inbound ids elsewhere (keys.go,
			// inboundKey); those of schema 2 stay where they are and are
			// read there until pruned. Nothing moves, but a schema-2
			// binary must not open the file: it would not see the new ids.
			// Schema 4 adds indexes, built from the records by Open
			// (migrate_index.go); an older binary would not keep them.
			if err := meta.Put(keySchema, u64(schemaVersion)); err != nil {
				return err
			}
			return startIndexing(meta)
		}
		if len(v) != 8 || binary.BigEndian.Uint64(v) != schemaVersion {
			return fmt.Errorf("data file has schema %x, this build reads %d", v, schemaVersion)
		}
		return nil
	}
	return meta.Put(keySchema, u64(schemaVersion)) // a new file
}

// Close stops accepting writes, commits every write already handed to the
// committer, and closes the file. Every call after it, Close included,
// returns model.ErrClosed. Close waits for running reads to finish.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return model.ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	s.senders.Wait()
	close(s.stop)
	<-s.stopped
	return s.db.Close()
}

// view runs fn in a read transaction.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return model.ErrClosed
	}
	return s.db.View(fn)
}
