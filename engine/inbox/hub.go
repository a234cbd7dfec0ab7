package inbox

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
)

// EventType says what a live event is about.
type EventType string

// Live event types.
const (
	// EventMessage: a transcript message was added (customer, bot, agent,
	// note).
	EventMessage EventType = "message"
	// EventStatus: an outbound message's delivery state moved (sent,
	// delivered, read, failed).
	EventStatus EventType = "status"
	// EventHandoff: a conversation entered a queue.
	EventHandoff EventType = "handoff"
	// EventAssigned: a conversation's agent or queue changed (assigned,
	// claimed, transferred, returned to the queue).
	EventAssigned EventType = "assigned"
	// EventClosed: a conversation left the inbox (resolved, no agent in
	// time, expired, failed).
	EventClosed EventType = "closed"
	// EventAgent: an agent's profile or status changed.
	EventAgent EventType = "agent"
	// EventRead: a conversation's unread count went to zero.
	EventRead EventType = "read"
	// EventSending: sending was paused or resumed (Paused holds the
	// pauses now in force; none: sending runs). Everyone sees it: while
	// it lasts, agents' replies wait in the queue too.
	EventSending EventType = "sending"
	// EventReset: what the client shows may be out of date (the inbox
	// read its view again after losing touch with the other processes):
	// reload the lists. Also sent to a client whose Last-Event-ID cannot
	// be replayed.
	EventReset EventType = "reset"
)

// Event is one live event. Queue and Assignee are where the conversation
// is now, PrevQueue and PrevAssignee where it was before a transfer, so
// that whoever saw it there sees it leave.
type Event struct {
	ID           string           `json:"id,omitempty"`
	Type         EventType        `json:"type"`
	At           time.Time        `json:"at,omitzero"`
	Conversation string           `json:"conversation,omitempty"`
	Contact      model.ContactKey `json:"contact,omitempty"`
	Status       model.Status     `json:"status,omitempty"`
	Queue        string           `json:"queue,omitempty"`
	Assignee     string           `json:"assignee,omitempty"`
	PrevQueue    string           `json:"prev_queue,omitempty"`
	PrevAssignee string           `json:"prev_assignee,omitempty"`
	Unread       int              `json:"unread,omitempty"`
	Message      *model.Message   `json:"message,omitempty"`
	Paused       []engine.Pause   `json:"paused,omitempty"`
	Agent        *Agent           `json:"agent,omitempty"`
}

// Limits of the hub.
const (
	// RingSize is how many recent events are kept for replay to a client
	// that reconnects with Last-Event-ID: a few minutes of a busy inbox.
	// A client further behind is told to reload (reset).
	RingSize = 2048
	// SubscriberBuffer is how many events wait for a slow client; past it
	// the client is cut off, and catches up from the ring when it
	// reconnects.
	SubscriberBuffer = 256
)

// Hub fans live events out to subscribers and keeps the latest RingSize
// for replay. Publishing never blocks. Event ids are "<boot>-<n>": boot
// changes with every process, so a client's Last-Event-ID from before a
// restart is recognised as such (reset) instead of replaying wrong events.
type Hub struct {
	mu     sync.Mutex
	closed bool
	boot   string
	seq    uint64
	ring   []Event // ring[seq % RingSize] holds event seq
	subs   map[*Subscription]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{
		boot: strconv.FormatInt(time.Now().UnixNano(), 36),
		ring: make([]Event, RingSize),
		subs: map[*Subscription]struct{}{},
	}
}

// Subscription is one client's stream. C is closed when the hub cut the
// client off (too slow) or the subscription was closed.
type Subscription struct {
	C      chan Event
	hub    *Hub
	filter func(Event) bool
	closed bool
}

// Publish numbers ev, keeps it for replay and offers it to every
// subscriber whose filter takes it.
func (h *Hub) Publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	ev.ID = h.boot + "-" + strconv.FormatUint(h.seq, 10)
	h.ring[h.seq%RingSize] = ev
	for s := range h.subs {
		if s.filter != nil && !s.filter(ev) {
			continue
		}
		select {
		case s.C <- ev:
		default:
			s.closeLocked()
		}
	}
}

// Subscribe opens a stream of the events filter takes. With lastID (a
// client's Last-Event-ID) it also returns the events after it still in
// the ring; reset is true when lastID is from another process or older
// than the ring: the client must reload what it shows.
func (h *Hub) Subscribe(lastID string, filter func(Event) bool) (s *Subscription, replay []Event, reset bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s = &Subscription{C: make(chan Event, SubscriberBuffer), hub: h, filter: filter}
	if h.closed {
		s.closed = true
		close(s.C)
		return s, nil, false
	}
	h.subs[s] = struct{}{}
	if lastID == "" {
		return s, nil, false
	}
	boot, n, ok := strings.Cut(lastID, "-")
	last, err := strconv.ParseUint(n, 10, 64)
	if !ok || err != nil || boot != h.boot || last > h.seq || h.seq-last >= RingSize {
		return s, nil, true
	}
	for i := last + 1; i <= h.seq; i++ {
		ev := h.ring[i%RingSize]
		if filter == nil || filter(ev) {
			replay = append(replay, ev)
		}
	}
	return s, replay, false
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.closeLocked()
}

func (s *Subscription) closeLocked() {
	if !s.closed {
		s.closed = true
		close(s.C)
		delete(s.hub.subs, s)
	}
}

// Subscribers counts the open subscriptions.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Close ends every subscription, and every later one at once: the server
// is stopping, and open streams must not hold its shutdown up. Clients
// reconnect to the next process.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		s.closeLocked()
	}
}
