package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/whatsapp"
)

// ReadMarker marks a customer's message (and every earlier one) read,
// with a typing indicator when typing is set: *whatsapp.Client.MarkRead.
type ReadMarker interface {
	MarkRead(ctx context.Context, wamid string, typing bool) error
}

// ReceiptOptions configure Receipts.
type ReceiptOptions struct {
	Marker ReadMarker
	// Read: a reply (the bot's or an agent's) marks the customer's latest
	// message read. Typing: an agent typing shows a typing indicator.
	Read, Typing bool
	// Queue bounds the mark-reads waiting for the worker; one more is
	// dropped (counted), never waited for. Default 1024.
	Queue int
}

// Results of parley_read_receipts_total.
const (
	receiptRead    = "read"    // a message marked read
	receiptTyping  = "typing"  // a typing indicator shown
	receiptError   = "error"   // Meta or the wire refused one (not retried)
	receiptDropped = "dropped" // the queue was full
)

const (
	// receiptTimeout bounds one mark-read or typing call.
	receiptTimeout = 10 * time.Second
	// TypingEvery is how often a typing indicator is shown at most for one
	// customer: WhatsApp shows it for up to 25 s, so once per 10 s keeps it
	// up while the agent types (spec/whatsapp.md §2.4).
	TypingEvery = 10 * time.Second
	// maxMarked bounds the memory of what was marked read; past it, it is
	// forgotten, at worst costing one message a second (harmless) mark-read.
	maxMarked = 1 << 16
)

// Receipts tells customers their message was seen: a reply marks the
// latest one read (blue ticks), and an agent typing shows "typing…". Both
// are best-effort and off the paths that matter: the dispatcher only
// queues a mark-read (the worker, Run, makes the call), a failure is
// logged at debug and counted, never retried and never fails a send. Each
// message is marked read at most once while Parley runs.
type Receipts struct {
	e    *Engine
	o    ReceiptOptions
	jobs chan receipt // messages to mark read

	mu     sync.Mutex
	marked map[model.ContactKey]string // contact → the latest wamid marked read
	typed  map[model.ContactKey]shown  // contact → the typing indicator last shown
}

// shown is a typing indicator shown: on which message, when.
type shown struct {
	wamid string
	at    time.Time
}

// NewReceipts returns the read receipts and typing indicators of e's
// customers, sent through o.Marker. Run must run for mark-reads to go.
func (e *Engine) NewReceipts(o ReceiptOptions) *Receipts {
	if o.Queue <= 0 {
		o.Queue = 1024
	}
	return &Receipts{e: e, o: o, jobs: make(chan receipt, o.Queue),
		marked: map[model.ContactKey]string{}, typed: map[model.ContactKey]shown{}}
}

// Run makes the queued mark-read calls, one at a time, until ctx ends.
func (r *Receipts) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case j := <-r.jobs:
			r.call(ctx, j.key, j.wamid, false)
		}
	}
}

// replied is told that a reply to the contact key, whose latest message
// is wamid, is about to be sent: that message, unless already marked
// read, is queued to be.
func (r *Receipts) replied(key model.ContactKey, wamid string) {
	if r == nil || !r.o.Read || wamid == "" || !r.claim(key, wamid) {
		return
	}
	select {
	case r.jobs <- receipt{key, wamid}:
	default:
		r.e.metrics.receipts.Inc(receiptDropped)
	}
}

// claim records wamid as marked read for key, reporting whether it was not
// already.
func (r *Receipts) claim(key model.ContactKey, wamid string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.marked[key] == wamid {
		return false
	}
	if len(r.marked) >= maxMarked {
		clear(r.marked)
	}
	r.marked[key] = wamid
	return true
}

// receipt is a message of the customer key to mark read.
type receipt struct {
	key   model.ContactKey
	wamid string
}

// call makes one mark-read (or typing) call, from the business number
// the customer key wrote to, and counts its result.
func (r *Receipts) call(ctx context.Context, key model.ContactKey, wamid string, typing bool) bool {
	ctx, cancel := context.WithTimeout(whatsapp.WithNumber(ctx, key.PhoneNumberID()), receiptTimeout)
	defer cancel()
	if err := r.o.Marker.MarkRead(ctx, wamid, typing); err != nil {
		r.e.log.Debug("marking a message read", "wamid", wamid, "typing", typing, "err", err)
		r.e.metrics.receipts.Inc(receiptError)
		return false
	}
	if typing {
		r.e.metrics.receipts.Inc(receiptTyping)
	} else {
		r.e.metrics.receipts.Inc(receiptRead)
	}
	return true
}

// Typing shows the customer of a conversation a typing indicator on their
// latest message (which marks it read): an agent is typing a reply. It
// reports whether one was shown or is still showing; it is not when typing
// indicators are off, the customer's 24-hour window is closed (no reply
// could follow), or WhatsApp refused it (logged and counted, not an
// error). Within TypingEvery of the last one, no call is made. The error
// is the store's (ErrNotFound: no such conversation).
func (r *Receipts) Typing(ctx context.Context, conversation string) (bool, error) {
	conv, err := r.e.store.Conversation(ctx, conversation)
	if err != nil {
		return false, fmt.Errorf("conversation %s: %w", conversation, err)
	}
	c, err := r.e.store.Contact(ctx, conv.Contact)
	if err != nil {
		return false, fmt.Errorf("contact of conversation %s: %w", conversation, err)
	}
	now := r.e.clock.Now()
	if !r.o.Typing || c.LastInboundWAMID == "" || !policy.WindowOpen(c, now) {
		return false, nil
	}
	wamid := c.LastInboundWAMID
	r.mu.Lock()
	last := r.typed[c.Key]
	recent := last.wamid == wamid && now.Sub(last.at) < TypingEvery
	if !recent {
		if len(r.typed) >= maxMarked {
			clear(r.typed)
		}
		r.typed[c.Key] = shown{wamid, now}
	}
	r.mu.Unlock()
	if recent {
		return true, nil
	}
	if !r.call(ctx, c.Key, wamid, true) {
		r.mu.Lock()
		delete(r.typed, c.Key)
		r.mu.Unlock()
		return false, nil
	}
	r.claim(c.Key, wamid) // a typing indicator marks it read
	return true, nil
}
