package engine

import (
	"sync"

	"github.com/parleyhq/parley/engine/model"
)

// Committed is what one commit made durable, as observers see it: the
// contact and its current conversation after the commit (nil when the
// commit was only a message update of a contact with no running
// conversation), the transcript messages it appended, and the messages
// whose delivery state it rewrote.
//
// Everything in it is read-only: it is the engine's own copy of the
// state, shared by every observer. An observer that keeps any of it past
// its call must keep it unchanged.
type Committed struct {
	Contact      *model.Contact
	Conversation *model.Conversation
	Messages     []*model.Message
	Updates      []*model.Message
	// Events are the events the commit recorded (Change.Events).
	Events []model.Event
}

// Observer learns of every commit that changed a contact, a conversation
// or a transcript, after it is durable: new messages, handoffs,
// assignments, resolutions, delivery ticks. The agents' inbox and its
// live events (engine/inbox) are built on it.
//
// An observer is called synchronously, in commit order for each contact,
// while the engine still holds that contact's lock. So it must not block
// (take a short mutex, copy what it needs, hand the rest to a goroutine
// through a buffer that never waits), and it must never call back into
// the engine: an engine call for the same contact would deadlock. It
// cannot fail the commit, which has already happened.
//
// What an observer misses (it was not registered yet, the process
// stopped right after a commit) is still in the store: an observer that
// keeps a view of the state rebuilds it from the store when it starts.
type Observer func(Committed)

// observers is the engine's list of observers.
type observers struct {
	mu   sync.RWMutex
	list []Observer
}

// Observe registers an observer of every later commit. Register observers
// before traffic starts: commits already made are not replayed.
func (e *Engine) Observe(o Observer) {
	e.observers.mu.Lock()
	defer e.observers.mu.Unlock()
	e.observers.list = append(e.observers.list, o)
}

// notify tells every observer of a commit. Timer-only commits (stale
// timers dropped) change nothing an observer sees and are not reported.
func (os *observers) notify(c *model.Change, contact *model.Contact, conv *model.Conversation) {
	os.mu.RLock()
	list := os.list
	os.mu.RUnlock()
	if len(list) == 0 {
		return
	}
	ev := Committed{Contact: contact, Conversation: conv, Messages: c.Messages, Updates: c.Updates, Events: c.Events}
	for _, o := range list {
		o(ev)
	}
}
