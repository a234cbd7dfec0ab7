package boltstore

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// A write is one unit of work of the committer: a Commit's change, a flow
// save, a prune. It runs in two phases inside the batch's
// transaction, so that the writes before it in the batch are visible to it.
type write interface {
	// check may only read. A non-nil error refuses the write (a duplicate
	// inbound id, a missing message): the caller gets the error and the
	// rest of the batch goes on.
	check(t *txn) error
	// apply changes the store. An error aborts the batch's transaction;
	// every write of the batch is then retried in a transaction of its own,
	// so apply must compute everything from t, never from a previous run.
	apply(t *txn) error
}

// pending is a write waiting for its batch's commit.
type pending struct {
	w    write
	ctx  context.Context
	err  error
	done chan error // buffered: the committer never blocks on a waiter
}

// txn is a write transaction with its buckets looked up once.
type txn struct {
	tx                                       *bolt.Tx
	data, otherContact                       *bolt.Bucket
	outbox, timers                           *bolt.Bucket
	inbound, inboundByTime, flows, flowsVers *bolt.Bucket
	templates, aliases                       *bolt.Bucket
	reach, reachByContact                    *bolt.Bucket
	groups                                   *bolt.Bucket
	keys                                     keys
	// slots are the groups groupFor resolved in this transaction.
	slots map[string][]byte
	// named makes groupFor name every group by its owner (the migration
	// of schema 1).
	named bool
}

func newTxn(tx *bolt.Tx) *txn {
	return &txn{
		tx:             tx,
		data:           tx.Bucket(bucketData),
		otherContact:   tx.Bucket(bucketOtherContact),
		outbox:         tx.Bucket(bucketOutbox),
		timers:         tx.Bucket(bucketTimers),
		inbound:        tx.Bucket(bucketInbound),
		inboundByTime:  tx.Bucket(bucketInboundByTime),
		flows:          tx.Bucket(bucketFlows),
		flowsVers:      tx.Bucket(bucketFlowVersions),
		templates:      tx.Bucket(bucketTemplates),
		aliases:        tx.Bucket(bucketAliases),
		reach:          tx.Bucket(bucketReach),
		reachByContact: tx.Bucket(bucketReachByContact),
		groups:         tx.Bucket(bucketGroups),
		keys:           keysIn(tx),
	}
}

// do hands w to the committer and waits for its batch to commit.
//
// If ctx ends while w waits in the queue, the committer drops it and do
// returns ctx.Err(). If ctx ends once the committer has taken w, do still
// returns ctx.Err() at once, but w may be committed anyway: the caller
// cannot tell. A change with an inbound id can be retried safely (a second
// commit returns model.ErrDuplicate); others must be idempotent or be
// checked by reading the store.
func (s *Store) do(ctx context.Context, w write) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return model.ErrClosed
	}
	s.senders.Add(1)
	s.mu.RUnlock()

	p := &pending{w: w, ctx: ctx, done: make(chan error, 1)}
	select {
	case s.writes <- p:
		s.senders.Done()
	case <-ctx.Done():
		s.senders.Done()
		return ctx.Err()
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commitLoop is the committer: it takes every write queued (up to
// maxBatch), commits them in one transaction, answers their waiters, and
// starts over. There is no timer: an idle store commits a lone write at
// once, and under load writes pile up while the previous fsync runs, so
// the batch grows with the load by itself.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	batch := make([]*pending, 0, s.maxBatch)
	for {
		select {
		case p := <-s.writes:
			batch = append(batch, p)
		case <-s.stop:
			// Close has made sure that no sender is left: drain and go.
			for {
				select {
				case p := <-s.writes:
					batch = append(batch, p)
					if len(batch) == s.maxBatch {
						s.commitBatch(batch)
						batch = batch[:0]
					}
				default:
					s.commitBatch(batch)
					return
				}
			}
		}
	fill:
		for len(batch) < s.maxBatch {
			select {
			case p := <-s.writes:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		s.commitBatch(batch)
		clear(batch)
		batch = batch[:0]
	}
}

// noteCommit records whether a transaction reached the file: err is what
// Update returned, writeErr what the writes themselves returned (a refused
// or bad write says nothing of the file).
func (s *Store) noteCommit(err, writeErr error) {
	switch {
	case err == nil:
		s.writeErr.Store(nil)
	case err != writeErr:
		s.writeErr.Store(&err)
	}
}

// WriteErr is the error of the last commit that could not be written to
// the file (a full disk, an I/O error), or nil once a commit has been
// written since: whether the store can take writes now.
func (s *Store) WriteErr() error {
	if p := s.writeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// commitBatch commits batch in one transaction, or, when a write fails to
// apply or the commit fails, each write in a transaction of its own, so
// that one bad write cannot fail the others.
func (s *Store) commitBatch(batch []*pending) {
	live := batch[:0] // filtered in place: batch is not read again
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- err
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	var applyErr error
	err := s.db.Update(func(tx *bolt.Tx) error {
		t := newTxn(tx)
		for _, p := range live {
			if p.err = p.w.check(t); p.err != nil {
				continue
			}
			if applyErr = p.w.apply(t); applyErr != nil {
				return applyErr
			}
		}
		if s.beforeCommit != nil {
			s.beforeCommit(tx)
		}
		return nil
	})
	s.noteCommit(err, applyErr)
	if err == nil {
		s.commitCount.Add(1)
		s.writeCount.Add(int64(len(live)))
	}
	if err != nil && len(live) > 1 {
		for _, p := range live {
			var writeErr error
			p.err = s.db.Update(func(tx *bolt.Tx) error {
				t := newTxn(tx)
				if writeErr = p.w.check(t); writeErr != nil {
					return writeErr
				}
				writeErr = p.w.apply(t)
				return writeErr
			})
			s.noteCommit(p.err, writeErr)
			if p.err == nil {
				s.commitCount.Add(1)
				s.writeCount.Add(1)
			}
		}
	} else if err != nil {
		live[0].err = err
	}
	for _, p := range live {
		p.done <- p.err
	}
}
