package engine

import "sync"

// keyLocks serialises the events of one conversation (keyed by contact)
// while letting different contacts run in parallel.
type keyLocks struct {
	mu sync.Mutex
	m  map[ContactKey]*keyLock
}

type keyLock struct {
	sync.Mutex
	refs int
}

func (l *keyLocks) lock(k ContactKey) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[ContactKey]*keyLock{}
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
