// Package quarantine keeps the webhook items Parley acknowledges but can
// never process — a message with no id, an id or a sender that cannot be a
// key (whatsapp.InboundMessage.Unprocessable) — so that an admin can see
// what Meta sent. Answering 500 for them instead would have Meta redeliver
// them for days, holding every other item of their delivery back.
//
// It keeps the last MaxItems, each clipped to MaxItemBytes, through the
// Records interface: the bbolt store keeps them in bucket
// "quarantine_items" (sequence, 8 bytes big-endian → Item as JSON), the
// PostgreSQL store in a table of its own.
package quarantine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Limits of what is kept: enough to diagnose a misbehaving sender, small
// enough that a flood of bad items cannot grow the data file.
const (
	MaxItems     = 1000
	MaxItemBytes = 4096
)

// Records is where the items are kept (*boltstore.Store, *pgstore.Store;
// package storetest's Quarantine suite pins the contract).
type Records interface {
	// KeepQuarantined stores items, all or none, each under the next
	// sequence number (Item.Seq is set by the store, increasing, never
	// reused), and forgets the items whose sequence is MaxItems or more
	// below the last one given.
	KeepQuarantined(ctx context.Context, items []Item) error
	// Quarantined returns up to limit items, newest (highest sequence)
	// first.
	Quarantined(ctx context.Context, limit int) ([]Item, error)
}

// Item is one item set aside.
type Item struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Field  string    `json:"field"`  // the webhook field: messages, user_preferences
	Reason string    `json:"reason"` // whatsapp.Reject*
	Detail string    `json:"detail"`
	// Item is the item as parsed (Parley's JSON form of it, customer text
	// included), clipped to MaxItemBytes; Clipped says it was.
	Item    string `json:"item"`
	Clipped bool   `json:"clipped,omitempty"`
}

// Quarantine keeps and lists set-aside items. It is safe for concurrent use.
type Quarantine struct {
	records Records
}

// New returns a Quarantine over records.
func New(records Records) *Quarantine { return &Quarantine{records: records} }

// Clip encodes v as an Item's text: JSON, cut to MaxItemBytes.
func Clip(v any) (text string, clipped bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("(not encodable: %v)", err), false
	}
	if len(b) > MaxItemBytes {
		return string(b[:MaxItemBytes]), true
	}
	return string(b), false
}

// Keep stores items durably, in one commit, each under the next sequence
// number, and drops the oldest beyond MaxItems. It returns once they are
// durable.
func (q *Quarantine) Keep(ctx context.Context, items []Item) error {
	if len(items) == 0 {
		return nil
	}
	err := q.records.KeepQuarantined(ctx, items)
	if err != nil {
		return fmt.Errorf("quarantine: keeping %d items: %w", len(items), err)
	}
	return nil
}

// List returns up to limit items, newest first.
func (q *Quarantine) List(ctx context.Context, limit int) ([]Item, error) {
	items, err := q.records.Quarantined(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("quarantine: listing: %w", err)
	}
	return items, nil
}
