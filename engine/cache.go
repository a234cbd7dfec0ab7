package engine

import (
	"sync"

	"github.com/parleyhq/parley/engine/model"
)

// stateCacheSize bounds the contacts whose state the engine keeps in memory.
const stateCacheSize = 50_000

// stateCache keeps the latest committed contact and running conversation of
// recently active contacts, so that an event does not read and decode them
// from the store again. It is written only after a successful commit, under
// the contact's lock, and the engine is the store's only writer of contacts
// and conversations (bbolt's file lock makes the process the only one), so
// it never disagrees with the store, except where begin would change what
// it read anyway: a contact whose conversation ended is cached with none
// running.
// Entries are handed out as copies: a turn may change its copy freely and
// throw it away when its commit fails.
//
// With a SharedStore other processes write contacts and conversations
// too: off is then set, and get and has always miss (what is cached is
// used only for endedFlow, which never changes).
type stateCache struct {
	mu  sync.Mutex
	m   map[model.ContactKey]cachedState
	off bool
}

type cachedState struct {
	contact *model.Contact
	conv    *model.Conversation // nil when no conversation is running
	// ended is the contact's conversation that ended last: the analytics
	// of a status that comes after a flow's last message need its flow
	// and version (countMove), which would otherwise cost a read.
	ended endedConversation
}

type endedConversation struct {
	id, flow string
	version  int
}

func (c *stateCache) get(k model.ContactKey) (*model.Contact, *model.Conversation, bool) {
	if c.off {
		return nil, nil, false
	}
	c.mu.Lock()
	s, ok := c.m[k]
	c.mu.Unlock()
	if !ok {
		return nil, nil, false
	}
	return s.contact.Clone(), s.conv.Clone(), true
}

func (c *stateCache) put(k model.ContactKey, contact *model.Contact, conv *model.Conversation) {
	cached := contact.Clone()
	var ended endedConversation
	if conv != nil && conv.Status.Done() {
		ended = endedConversation{conv.ID, conv.Flow, conv.Version}
	}
	if conv != nil && conv.Status.Done() && contact.Conversation == conv.ID {
		// Cached as begin would read it: with no conversation running, so
		// the next event does not load the ended one to find that out.
		cached.Conversation = ""
	}
	if conv != nil && (conv.Status.Done() || contact.Conversation != conv.ID) {
		conv = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[model.ContactKey]cachedState)
	}
	old, ok := c.m[k]
	if ended.id == "" {
		ended = old.ended
	}
	if !ok && len(c.m) >= stateCacheSize {
		for victim := range c.m { // evict one, at random
			delete(c.m, victim)
			break
		}
	}
	c.m[k] = cachedState{cached, conv.Clone(), ended}
}

// endedFlow returns the flow and version of conversation if it is the
// cached contact k's that ended last.
func (c *stateCache) endedFlow(k model.ContactKey, conversation string) (flow string, version int, ok bool) {
	c.mu.Lock()
	e := c.m[k].ended
	c.mu.Unlock()
	if e.id == "" || e.id != conversation {
		return "", 0, false
	}
	return e.flow, e.version, true
}

// has reports whether k is cached.
func (c *stateCache) has(k model.ContactKey) bool {
	if c.off {
		return false
	}
	c.mu.Lock()
	_, ok := c.m[k]
	c.mu.Unlock()
	return ok
}

func (c *stateCache) forget(k model.ContactKey) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// messageCacheSize bounds the transcript messages the engine keeps in
// memory.
const messageCacheSize = 50_000

// messageCache keeps the latest committed copy of recent outbound
// messages, so that a send's outcome and the statuses that follow it (three
// per message: sent, delivered, read) do not read and decode the message
// from the store each time. The engine is the only writer of messages:
// every write is one of its commits, made under the contact's lock, which
// withMessage also holds while it reads and updates; the cache is written
// after each such commit, so it never disagrees with the store. Copies are
// shallow: what changes a stored message is only its delivery fields
// (withMessage), which are values.
//
// It also finds a recent message by its wamid, for a status that came
// without the callback data Parley sends (status.go). With a SharedStore
// off is set: get always misses (another process may have updated the
// message), while wamids, which never change, still serve byWAMID.
type messageCache struct {
	mu     sync.Mutex
	m      map[messageKey]model.Message
	wamids map[string]messageKey
	off    bool
}

type messageKey struct {
	conversation string
	seq          uint64
}

func (c *messageCache) get(conversation string, seq uint64) (*model.Message, bool) {
	if c.off {
		return nil, false
	}
	c.mu.Lock()
	m, ok := c.m[messageKey{conversation, seq}]
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	return &m, true
}

// byWAMID finds a cached message by its wamid.
func (c *messageCache) byWAMID(wamid string) (conversation string, seq uint64, ok bool) {
	c.mu.Lock()
	k, ok := c.wamids[wamid]
	c.mu.Unlock()
	return k.conversation, k.seq, ok
}

// put keeps copies of the outbound messages of ms.
func (c *messageCache) put(ms []*model.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range ms {
		if m.Direction != model.Out {
			continue
		}
		if c.m == nil {
			c.m = make(map[messageKey]model.Message)
			c.wamids = make(map[string]messageKey)
		}
		k := messageKey{m.Conversation, m.Seq}
		if _, ok := c.m[k]; !ok && len(c.m) >= messageCacheSize {
			for victim, vm := range c.m { // evict one, at random
				delete(c.m, victim)
				delete(c.wamids, vm.WAMID)
				break
			}
		}
		c.m[k] = *m
		if m.WAMID != "" {
			c.wamids[m.WAMID] = k
		}
	}
}
