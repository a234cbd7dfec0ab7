package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/parleyhq/parley/engine/model"
)

// lock takes key's lock: in this process, and in every process sharing
// the store when it is a SharedStore. The returned function releases both.
func (e *Engine) lock(ctx context.Context, key model.ContactKey) (func(), error) {
	unlock := e.locks.lock(key)
	if e.shared == nil {
		return unlock, nil
	}
	release, err := e.shared.LockContact(ctx, key)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("locking contact %s: %w", key, err)
	}
	return func() { release(); unlock() }, nil
}

// keyLocks serialises the events of one conversation (keyed by contact)
// while letting different contacts run in parallel.
type keyLocks struct {
	mu sync.Mutex
	m  map[model.ContactKey]*keyLock
}

type keyLock struct {
	sync.Mutex
	refs int
}

func (l *keyLocks) lock(k model.ContactKey) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[model.ContactKey]*keyLock{}
	}
	e := l.m[k]
	if e == nil {
		e = &keyLock{}
		l.m[k] = e
	}
	e.refs++
	l.mu.Unlock()
	e.Lock()
	return func() {
		e.Unlock()
		l.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(l.m, k)
		}
		l.mu.Unlock()
	}
}
