package auth

import (
	"container/list"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Bounds on what the throttle remembers, so that a flood of made-up
// emails or addresses cannot grow it without limit: past them, the least
// recently used entry is forgotten. An account entry can be pushed out
// only by that many failed sign-ins for other emails, which the address
// throttle makes slow from any one address.
const (
	maxThrottledKeys = 50_000
	maxKnownPairs    = 20_000
)

// throttle slows down password guessing. It counts failed sign-ins twice:
// per account (the email, known or not, so that a 429 does not tell
// whether an account exists) and per client address (so that one
// password tried across many accounts is slowed too). Each key gets
// freeFailures tries; after that every further try waits baseDelay,
// doubled at each failure, up to maxDelay; one failure is forgiven per
// forgiveEvery without a failure (who keeps guessing stays at maxDelay).
// An address that signed in to an account successfully
// within remember is "known" for it: failures of other addresses against
// the account never make it wait (its own failures still do), so that a
// guesser cannot lock the owner out.
//
// It lives in memory: a restart forgets every count and known address,
// and several Parley processes would each count their own.
type throttle struct {
	mu        sync.Mutex
	o         throttleOptions
	accounts  *lru[*failures]
	addresses *lru[*failures]
	// known: account + "\x00" + address → when it last signed in.
	known *lru[time.Time]
}

type throttleOptions struct {
	accountFree, addressFree int
	baseDelay, maxDelay      time.Duration
	forgiveEvery, remember   time.Duration
}

// failures is one key's count. next is when it may try again.
type failures struct {
	count int
	// since is the last failure, or when one was last forgiven: one is
	// forgiven per forgiveEvery after it.
	since time.Time
	next  time.Time
}

// attempt is a sign-in under way, counted as a failure until it succeeds.
type attempt struct {
	account, addr string
	// What the attempt changed, to undo on success.
	accountUndo, addrUndo undo
}

type undo struct{ prevNext, setNext time.Time }

func newThrottle(o throttleOptions) *throttle {
	return &throttle{o: o,
		accounts:  newLRU[*failures](maxThrottledKeys),
		addresses: newLRU[*failures](maxThrottledKeys),
		known:     newLRU[time.Time](maxKnownPairs),
	}
}

// addrKey is the key of a client address: an IPv6 address by its /64 (one
// subscriber's network, whose addresses a guesser could cycle through),
// anything else as it is; "unknown" when there is none.
func addrKey(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func pairKey(account, addr string) string { return account + "\x00" + addr }

// begin starts a sign-in to account from addr (addrKey) at now. It
// returns how long to wait (and nil) when the address, or the account for
// an address not known to it, is in its delay (the longer of the two); otherwise the attempt,
// already counted as a failure of both, so that guesses sent at once
// cannot all slip through before any of them is counted.
func (t *throttle) begin(account, addr string, now time.Time) (*attempt, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	if f := t.current(t.addresses, addr, now); f != nil {
		wait = f.next.Sub(now)
	}
	if !t.isKnown(account, addr, now) {
		if f := t.current(t.accounts, account, now); f != nil {
			wait = max(wait, f.next.Sub(now))
		}
	}
	if wait > 0 {
		return nil, wait
	}
	return &attempt{account: account, addr: addr,
		accountUndo: t.fail(t.accounts, account, t.o.accountFree, now),
		addrUndo:    t.fail(t.addresses, addr, t.o.addressFree, now),
	}, 0
}

// succeeded undoes the failure a counted and remembers its address as
// known for its account. The other failures stay: a guesser with an
// account of their own cannot wipe their address's count by signing in.
func (t *throttle) succeeded(a *attempt, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, u := range []struct {
		l   *lru[*failures]
		key string
		u   undo
	}{{t.accounts, a.account, a.accountUndo}, {t.addresses, a.addr, a.addrUndo}} {
		f, ok := u.l.get(u.key)
		if !ok {
			continue
		}
		f.count = max(0, f.count-1)
		if f.next.Equal(u.u.setNext) { // no failure came after
			f.next = u.u.prevNext
		}
		if f.count == 0 && !f.next.After(now) {
			u.l.remove(u.key)
		}
	}
	t.known.put(pairKey(a.account, a.addr), now)
}

// current returns key's failures with those forgiven by now taken off,
// or nil when none is left.
func (t *throttle) current(l *lru[*failures], key string, now time.Time) *failures {
	f, ok := l.get(key)
	if !ok {
		return nil
	}
	if n := int(now.Sub(f.since) / t.o.forgiveEvery); n > 0 && f.count > 0 {
		f.count = max(0, f.count-n)
		f.since = f.since.Add(time.Duration(n) * t.o.forgiveEvery)
	}
	if f.count == 0 && !f.next.After(now) {
		l.remove(key)
		return nil
	}
	return f
}

// fail counts a failure of key: past free ones, the next try must wait.
func (t *throttle) fail(l *lru[*failures], key string, free int, now time.Time) undo {
	f := t.current(l, key, now)
	if f == nil {
		f = &failures{}
		l.put(key, f)
	}
	f.since = now
	prev := f.next
	f.count++
	if f.count >= free {
		f.next = now.Add(t.delay(f.count - free))
	}
	return undo{prevNext: prev, setNext: f.next}
}

// delay is baseDelay doubled n times, at most maxDelay.
func (t *throttle) delay(n int) time.Duration {
	d := t.o.baseDelay
	for range n {
		if d >= t.o.maxDelay {
			break
		}
		d *= 2
	}
	return min(d, t.o.maxDelay)
}

func (t *throttle) isKnown(account, addr string, now time.Time) bool {
	key := pairKey(account, addr)
	at, ok := t.known.get(key)
	if ok && now.Sub(at) >= t.o.remember {
		t.known.remove(key)
		return false
	}
	return ok
}

// lru is a map bounded to max entries that forgets the least recently
// used one to make room.
type lru[V any] struct {
	max   int
	order *list.List // of *lruEntry[V], most recently used first
	items map[string]*list.Element
}

type lruEntry[V any] struct {
	key string
	val V
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (l *lru[V]) get(key string) (V, bool) {
	e, ok := l.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	l.order.MoveToFront(e)
	return e.Value.(*lruEntry[V]).val, true
}

func (l *lru[V]) put(key string, v V) {
	if e, ok := l.items[key]; ok {
		e.Value.(*lruEntry[V]).val = v
		l.order.MoveToFront(e)
		return
	}
	l.items[key] = l.order.PushFront(&lruEntry[V]{key: strings.Clone(key), val: v})
	if l.order.Len() > l.max {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.items, oldest.Value.(*lruEntry[V]).key)
	}
}

func (l *lru[V]) remove(key string) {
	if e, ok := l.items[key]; ok {
		l.order.Remove(e)
		delete(l.items, key)
	}
}

func (l *lru[V]) len() int { return l.order.Len() }
