package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// Several processes share one database (model.SharedStore):
//
//   - A contact's lock is a session advisory lock (pg_advisory_lock of
//     class 1 and the key's hash), held on a connection of its own for
//     the engine's turn: every process waits for it, and a process that
//     dies drops its connection and with it its locks.
//   - A claim on an outbox entry (model.Change.Claim) records its owner,
//     this Store, and lease_until, now plus the lease. Outbox does not
//     show entries another owner holds with a lease still running; once
//     the lease runs out it shows them again, as Sending, and the
//     dispatcher that claims one finds model.ErrClaimed and settles it as
//     unknown: a send whose owner died is never sent again.
//   - An entry is claimed only when it is its conversation's first in the
//     outbox: else model.ErrClaimedElsewhere, so that one conversation's
//     messages go out in order whichever process sends them.

// newOwner names a Store's claims: host, process and random bits.
func newOwner() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// takeLease takes LeaseParam out of a postgres:// URL.
func takeLease(raw string) (string, time.Duration, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw, DefaultLease, nil // a DSN: pgx reads it
	}
	q := u.Query()
	v := q.Get(LeaseParam)
	if v == "" {
		return raw, DefaultLease, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return "", 0, fmt.Errorf("pgstore: %s=%q is not a positive duration", LeaseParam, v)
	}
	q.Del(LeaseParam)
	u.RawQuery = q.Encode()
	return u.String(), d, nil
}

// LockContact takes key's lock in every process sharing the database
// (model.SharedStore).
func (s *Store) LockContact(ctx context.Context, key model.ContactKey) (func(), error) {
	if err := s.live(ctx); err != nil {
		return nil, err
	}
	conn, err := s.locks.Acquire(ctx)
	if err != nil {
		return nil, s.wrap(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, classContact, string(key)); err != nil {
		// A wait cut short by ctx may have taken the lock all the same
		// (the cancel raced the grant): the connection goes, not back to
		// the pool, and its session's locks with it.
		_ = conn.Conn().Close(context.Background())
		conn.Release()
		return nil, s.wrap(err)
	}
	return func() {
		// Not the turn's ctx, which may be done: the lock must go.
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1, hashtext($2))`, classContact, string(key)); err != nil {
			// A connection that could not unlock must not go back to
			// the pool holding the lock: closing it releases it.
			_ = conn.Conn().Close(context.Background())
		}
		conn.Release()
	}, nil
}

// Owner is the name this store's claims carry.
func (s *Store) Owner() string { return s.owner }
