package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/script"
	"github.com/parleyhq/parley/engine/secrets"
	"github.com/parleyhq/parley/flows"
)

// Test chat limits.
const (
	// TestChatIdle is how long a test chat lives without a request: the
	// editor's panel polls nothing, so an abandoned chat is one nobody
	// has touched for this long.
	TestChatIdle = 30 * time.Minute
	// MaxTestChats caps the test chats held at once (each is an engine and
	// a bbolt file): creating one more closes the one idle the longest.
	MaxTestChats = 64
)

// testChat is one sandbox conversation of the editor: a flow running on an
// engine of its own, on a store of its own in a temporary directory, on a
// manual clock, with one simulated customer (script.Session). Nothing of
// it touches the production store. Its mutex serialises its requests.
type testChat struct {
	mu   sync.Mutex
	id   string
	sess *script.Session
	dir  string
	// used is when a request last touched it (wall clock, for the TTL).
	used time.Time
}

// close closes the chat's engine store and removes its files.
func (c *testChat) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != nil {
		c.sess.Close()
		c.sess = nil
	}
	os.RemoveAll(c.dir)
}

// testChats holds the server's test chats, in memory: they do not survive
// a restart. A chat idle for TestChatIdle is closed (its files removed) by
// a sweep that runs while chats exist; at MaxTestChats, creating a chat
// closes the least recently used one; Close closes them all.
type testChats struct {
	log *slog.Logger
	// open opens a chat's store in its directory (Config.TestChatStore).
	open func(dir string) (model.Store, error)
	// caller and secrets are the server engine's: a test chat's http
	// steps make real calls (an analyst tries their staging API), with
	// the same address checks and secrets.
	caller  engine.Caller
	secrets secrets.Resolver
	now     func() time.Time // wall clock; tests move it

	mu     sync.Mutex
	chats  map[string]*testChat
	closed bool
	stop   chan struct{} // stops the sweeper; nil while none runs
}

func newTestChats(log *slog.Logger, open func(dir string) (model.Store, error)) *testChats {
	return &testChats{log: log, open: open, now: time.Now, chats: map[string]*testChat{}}
}

// errNoTestChatStore is returned by create without Config.TestChatStore.
var errNoTestChatStore = errors.New("test chats are not available in this server (no store for them)")

// errTestChatsClosed is returned when a chat is asked for after Close.
var errTestChatsClosed = fmt.Errorf("test chats are closed: %w", model.ErrClosed)

// create starts a chat on flow document doc, at node ("" for the start);
// byHand holds its http calls for the analyst to answer instead of making
// them.
func (cs *testChats) create(ctx context.Context, doc []byte, node string, byHand bool) (*testChat, error) {
	return cs.createAs(ctx, doc, node, byHand, nil, nil)
}

// createAs is create with the customer's profile (nil: the defaults), and
// with first, instead of starting the flow, the customer's first message,
// which the flow's triggers answer as they would in production.
func (cs *testChats) createAs(ctx context.Context, doc []byte, node string, byHand bool, profile *script.Profile, first *flows.Reply) (*testChat, error) {
	if cs.open == nil {
		return nil, errNoTestChatStore
	}
	dir, err := os.MkdirTemp("", "parley-testchat-")
	if err != nil {
		return nil, fmt.Errorf("test chat: %w", err)
	}
	sess, err := script.NewSession(ctx, doc, script.DefaultStart, script.Options{
		// Templates: nil approves every template the flow names, with the
		// parameters it gives. The test chat tries the flow's logic; the
		// registry's verdict is the validator's business.
		OpenStore: func() (model.Store, error) { return cs.open(dir) },
		HTTP:      cs.caller,
		Secrets:   cs.secrets,
		ByHand:    byHand,
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	c := &testChat{id: newChatID(), sess: sess, dir: dir, used: cs.now()}
	err = sess.SetProfile(ctx, profile)
	if err == nil && first != nil {
		err = sess.Send(ctx, *first)
	} else if err == nil {
		err = sess.Start(ctx, node)
	}
	if err != nil {
		c.close()
		return nil, err
	}
	cs.mu.Lock()
	if cs.closed {
		cs.mu.Unlock()
		c.close()
		return nil, errTestChatsClosed
	}
	gone := cs.sweepLocked()
	for len(cs.chats) >= MaxTestChats {
		gone = append(gone, cs.evictLocked())
	}
	cs.chats[c.id] = c
	if cs.stop == nil {
		cs.stop = make(chan struct{})
		go cs.sweeper(cs.stop)
	}
	cs.mu.Unlock()
	closeAll(gone)
	return c, nil
}

// get returns a live chat and marks it used, or nil.
func (cs *testChats) get(id string) *testChat {
	cs.mu.Lock()
	gone := cs.sweepLocked()
	c := cs.chats[id]
	if c != nil {
		c.used = cs.now()
	}
	cs.mu.Unlock()
	closeAll(gone)
	return c
}

// remove closes a chat; false if there was none.
func (cs *testChats) remove(id string) bool {
	cs.mu.Lock()
	c := cs.chats[id]
	delete(cs.chats, id)
	cs.mu.Unlock()
	if c == nil {
		return false
	}
	c.close()
	return true
}

// sweepLocked takes out the chats idle for TestChatIdle, for the caller
// to close once it has let go of cs.mu (a chat may be serving a request).
func (cs *testChats) sweepLocked() []*testChat {
	var gone []*testChat
	cutoff := cs.now().Add(-TestChatIdle)
	for id, c := range cs.chats {
		if c.used.Before(cutoff) {
			delete(cs.chats, id)
			gone = append(gone, c)
		}
	}
	return gone
}

// evictLocked takes out the least recently used chat, for the caller to
// close. There is one: cs.chats is full.
func (cs *testChats) evictLocked() *testChat {
	var oldest *testChat
	for _, c := range cs.chats {
		if oldest == nil || c.used.Before(oldest.used) {
			oldest = c
		}
	}
	delete(cs.chats, oldest.id)
	cs.log.Info("test chat evicted: too many open", "chat", oldest.id, "max", MaxTestChats)
	return oldest
}

func closeAll(chats []*testChat) {
	for _, c := range chats {
		c.close()
	}
}

// sweeper closes idle chats while there are any.
func (cs *testChats) sweeper(stop chan struct{}) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			cs.mu.Lock()
			gone := cs.sweepLocked()
			done := len(cs.chats) == 0 && cs.stop == stop
			if done {
				cs.stop = nil
			}
			cs.mu.Unlock()
			closeAll(gone)
			if done {
				return
			}
		}
	}
}

// Close closes every chat and refuses new ones.
func (cs *testChats) Close() {
	if cs == nil {
		return
	}
	cs.mu.Lock()
	cs.closed = true
	chats := cs.chats
	cs.chats = map[string]*testChat{}
	if cs.stop != nil {
		close(cs.stop)
		cs.stop = nil
	}
	cs.mu.Unlock()
	for _, c := range chats {
		c.close()
	}
}

// newChatID is a random id: a chat's id is all that reaches it.
func newChatID() string {
	var b [12]byte
	rand.Read(b[:])
	return "tc_" + hex.EncodeToString(b[:])
}
