package model

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors of a Store.
var (
	// ErrNotFound is returned when a contact, conversation, flow or version
	// does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate is returned by Commit when the change's inbound message
	// id has already been committed: the whole change is dropped.
	ErrDuplicate = errors.New("inbound message already processed")
	// ErrNotQueued is returned by Commit when a change claims an outbox
	// entry that is no longer queued (Change.Claim).
	ErrNotQueued = errors.New("outbox entry not queued")
	// ErrClaimed is returned by Commit when a change claims an outbox entry
	// already claimed: a send whose outcome was never recorded.
	ErrClaimed = errors.New("outbox entry already claimed")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("store closed")
	// ErrClaimedElsewhere is returned by the Commit of a shared store
	// (SharedStore) when a change claims an outbox entry that another
	// process holds, or one behind an entry of its conversation still in
	// the outbox: this process leaves it to the other, which sends the
	// conversation's messages in order.
	ErrClaimedElsewhere = errors.New("outbox entry held by another process")
	// ErrOverLimit is returned when the send would reach a new customer
	// past the messaging limit (the engine's limit.go): the caller waits for capacity.
	// A SharedStore's Commit returns it for a change whose Reach, with a
	// Limit, would go past it (Reach.Limit).
	ErrOverLimit = errors.New("messaging limit reached")
)

// SharedStore is a Store that several Parley processes write at the same
// time (package pgstore). With one, the engine does not trust what it
// keeps in memory as the only writer's (docs/design.md, "Several
// processes"):
//   - each event's turn holds its contact's lock in every process
//     (LockContact), not only in this one, and reads the contact, its
//     conversation and messages from the store, not from the engine's
//     caches, which another process's commits would make stale;
//   - the dispatcher claims an outbox entry only when it is its
//     conversation's first (ErrClaimedElsewhere otherwise), and reads the
//     whole outbox again now and then, to take up what a process that
//     died had left;
//   - a claim is a lease: its owner and an expiry, after which any
//     process settles the send as unknown (the store's Outbox shows it
//     again, as Sending).
type SharedStore interface {
	Store
	// LockContact takes key's lock, waiting for any process that holds
	// it, and returns the function that releases it. A process that dies
	// releases its locks.
	LockContact(ctx context.Context, key ContactKey) (unlock func(), err error)
}

// Change is everything one event did, committed atomically by Store.Commit:
// either all of it is durable or none of it is.
type Change struct {
	// InboundID is the inbound message's id (wamid) when the event was one;
	// Commit refuses the change with ErrDuplicate if it was seen before
	// under InboundKey.
	InboundID string
	// InboundKey is the contact key the inbound id is remembered under: the
	// key the message itself names (Inbound.Key), which every redelivery
	// names again whatever aliases say by then. It is usually Contact's own
	// key, which keeps the id on the contact's page; when empty, it is
	// Contact's key. A change with an InboundID needs one or the other.
	InboundKey ContactKey
	// At is when the event was processed (dedupe retention counts from it).
	At time.Time

	Contact       *Contact
	Conversations []*Conversation
	// Messages are appended to their conversations' transcripts; outbound
	// ones in state Queued also enter the outbox, in order.
	Messages []*Message

	SetTimers    []Timer
	DeleteTimers []Timer

	// Updates rewrite transcript messages already stored (a delivery
	// state, a wamid).
	Updates []*Message
	// Dequeue removes these outbox entries (by outbox sequence).
	Dequeue []uint64
	// Claim marks outbox entries as being sent: the dispatcher's durable
	// "sending" mark, written before a message goes on the wire, so that a
	// crash between the wire and the record of its outcome leaves a claimed
	// entry, which the next start settles as unknown instead of sending it
	// again. The mark lives on the outbox entry, not on the transcript
	// message, whose state stays queued until the outcome: the entry's key
	// is a sequence number, so the claims of one batch share a page or two
	// where transcript messages would each dirty a page of their own. A
	// claim of an entry gone refuses the whole change with ErrNotQueued, of
	// one already claimed with ErrClaimed. Claims are applied before
	// Unclaim, and both before Dequeue.
	Claim []uint64
	// Unclaim takes the mark off these outbox entries (a send to be tried
	// again later). An entry not claimed, or gone, is no error.
	Unclaim []uint64

	// Aliases point other contact keys at a contact's key (alias → key):
	// a customer who changed number or user id keeps their contact and
	// conversation (identity.go). Each replaces the alias of the same key.
	Aliases map[ContactKey]ContactKey

	// Reached records business-initiated sends (a message to a contact
	// whose window is closed) for the messaging limit (limit.go), written
	// with the send's record.
	Reached []Reach

	// Counts are analytics increments (analytics.go), added on the UTC day
	// of At with the rest of the change.
	Counts []Count

	// Events are appended, in order, to the store's event log (EventLog)
	// with the rest of the change: a refused or failed change records
	// none. The engine fills them only while some event subscription
	// wants them (Engine.RecordEvents; events.go).
	Events []Event
}

// Reach is one business-initiated send: to Contact at At, counted against
// the messaging limit of Scope (ReachScope: the business portfolio).
type Reach struct {
	Scope   string     `json:"scope"`
	At      time.Time  `json:"at"`
	Contact ContactKey `json:"contact"`
	// Limit, when > 0, makes the reach conditional on a SharedStore: its
	// Commit refuses the whole change with ErrOverLimit when Contact has
	// no Reach of Scope in the LimitWindow ending at At and Limit unique
	// contacts already have one. The check and the record are then one
	// step across every process sharing the store (docs/design.md,
	// "Several processes"). A store with one writer ignores it: the
	// engine checks under its own lock. It is not stored.
	Limit int `json:"-"`
}

// OutboxItem is a queued outbound message, by its place in the outbox.
type OutboxItem struct {
	Seq uint64
	// Message is the transcript message, in state Sending when the entry is
	// claimed (Change.Claim).
	Message *Message
}

// FlowRecord is a flow as stored: its draft and its published versions.
type FlowRecord struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Draft is the latest saved document, published or not.
	Draft     []byte    `json:"draft,omitempty"`
	DraftAt   time.Time `json:"draft_at,omitzero"`
	DraftBy   string    `json:"draft_by,omitempty"`
	Published int       `json:"published,omitempty"` // latest version, 0 if none
	Archived  bool      `json:"archived,omitempty"`
	// DraftRev counts the changes of the draft's document: an editor saves
	// with the revision it started from, and a save from an older one is a
	// conflict (Engine.SaveDraftFrom).
	DraftRev int `json:"draft_rev,omitempty"`
}

// FlowVersion is an immutable published version of a flow.
type FlowVersion struct {
	Flow        string    `json:"flow"`
	Version     int       `json:"version"`
	Doc         []byte    `json:"doc"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by,omitempty"`
	// Note is what the publisher wrote about the version, shown in the
	// history; "" for none.
	Note string `json:"note,omitempty"`
}

// VersionNoter is a Store that keeps a publisher's note with each version
// it publishes (FlowVersion.Note). A Store without it publishes without
// the note.
type VersionNoter interface {
	// PublishNoted is Publish, with the version's note.
	PublishNoted(ctx context.Context, id string, doc []byte, by, note string, at time.Time) (*FlowVersion, error)
}

// Store is the engine's durable state. It is a unit of work, not a key-value
// API: every write of one event goes through one Commit. Implementations
// must be safe for concurrent use; the engine serialises the events of one
// conversation itself. The contract is pinned by package storetest.
type Store interface {
	// Contact returns a contact, or ErrNotFound.
	Contact(ctx context.Context, key ContactKey) (*Contact, error)
	// Conversation returns a conversation, or ErrNotFound.
	Conversation(ctx context.Context, id string) (*Conversation, error)
	// ListContacts returns up to limit contacts with keys after after (""
	// for the first), in key order: a page of the contact list, which the
	// contacts API and schedules' audiences walk. limit <= 0 means no limit.
	ListContacts(ctx context.Context, after ContactKey, limit int) ([]*Contact, error)
	// Alias returns the contact key an alias points at, if key is one.
	Alias(ctx context.Context, key ContactKey) (ContactKey, bool, error)
	// Seen reports whether an inbound message id has been committed under
	// a contact key (Change.InboundKey).
	Seen(ctx context.Context, key ContactKey, inboundID string) (bool, error)
	// Commit makes a change durable, all or nothing. Concurrent commits may
	// share one transaction and one fsync.
	Commit(ctx context.Context, c *Change) error

	// DueTimers returns up to limit timers due at or before now, earliest
	// first. Timers stay until a Commit deletes them.
	DueTimers(ctx context.Context, now time.Time, limit int) ([]Timer, error)
	// NextTimer returns the earliest timer's due time, if any.
	NextTimer(ctx context.Context) (time.Time, bool, error)

	// Message returns one transcript message, or ErrNotFound.
	Message(ctx context.Context, conversation string, seq uint64) (*Message, error)
	// Transcript returns a conversation's messages in order.
	Transcript(ctx context.Context, conversation string) ([]*Message, error)
	// Outbox returns up to limit queued messages after seq, in order.
	Outbox(ctx context.Context, after uint64, limit int) ([]OutboxItem, error)
	// Conversations lists the conversations of a contact, oldest first.
	Conversations(ctx context.Context, contact ContactKey) ([]*Conversation, error)
	// ListConversations lists the conversations that pass f, newest
	// activity first (CompareActivity), one page of up to f.Limit after
	// f.Cursor. It returns the cursor of the next page, "" after the last
	// one, and ErrInvalidCursor for a cursor it did not make.
	ListConversations(ctx context.Context, f ConversationFilter) ([]*Conversation, string, error)

	// SaveFlow stores a flow record (its draft).
	SaveFlow(ctx context.Context, r *FlowRecord) error
	// Flow returns a flow record, or ErrNotFound.
	Flow(ctx context.Context, id string) (*FlowRecord, error)
	// Flows lists every flow record, by id.
	Flows(ctx context.Context) ([]*FlowRecord, error)
	// Publish stores doc as the flow's next version and returns it.
	Publish(ctx context.Context, id string, doc []byte, by string, at time.Time) (*FlowVersion, error)
	// FlowVersion returns one published version, or ErrNotFound.
	FlowVersion(ctx context.Context, id string, version int) (*FlowVersion, error)
	// FlowVersions lists a flow's versions, oldest first.
	FlowVersions(ctx context.Context, id string) ([]*FlowVersion, error)

	// PruneInbound forgets inbound ids committed before t.
	PruneInbound(ctx context.Context, before time.Time) (int, error)

	// SaveTemplates stores template records, all or none, each replacing
	// the stored record of the same name and language; the others stay.
	SaveTemplates(ctx context.Context, rs []TemplateRecord) error
	// Templates lists every template record, by name then language.
	Templates(ctx context.Context) ([]TemplateRecord, error)

	// ReachCount counts the unique contacts of scope with a Reach at or
	// after since. oldest is the earliest, over those contacts, of each
	// one's latest reach: when it is 24 h old the count drops. Zero when
	// n is 0.
	ReachCount(ctx context.Context, scope string, since time.Time) (n int, oldest time.Time, err error)
	// ReachedSince reports whether contact has a Reach of scope at or after
	// since.
	ReachedSince(ctx context.Context, scope string, contact ContactKey, since time.Time) (bool, error)
	// Reaches returns every Reach of scope at or after since, oldest
	// first: what the engine's reach cache starts from (engine/limits).
	Reaches(ctx context.Context, scope string, since time.Time) ([]Reach, error)
	// PruneReach forgets the reaches, of every scope, made before t, and
	// returns how many: past LimitWindow they count for nothing.
	PruneReach(ctx context.Context, before time.Time) (int, error)

	// SaveNumber stores a business phone number's record (limit_numbers.go),
	// replacing the record of the same key.
	SaveNumber(ctx context.Context, r NumberRecord) error
	// Numbers lists every phone number record, by key.
	Numbers(ctx context.Context) ([]NumberRecord, error)

	// FlowStats returns a flow's analytics counters (Change.Counts) of the
	// UTC days from from's to to's, both included, ordered by day, version,
	// node, kind and exit; counters never incremented are absent.
	FlowStats(ctx context.Context, flow string, from, to time.Time) ([]FlowStat, error)

	Close() error
}

// Empty reports whether c holds nothing to write beyond its contact and
// conversations (which a turn always carries, changed or not).
func (c *Change) Empty() bool {
	return c.InboundID == "" && len(c.Messages) == 0 && len(c.Updates) == 0 && len(c.Dequeue) == 0 &&
		len(c.Claim) == 0 && len(c.Unclaim) == 0 &&
		len(c.SetTimers) == 0 && len(c.DeleteTimers) == 0 && len(c.Aliases) == 0 &&
		len(c.Reached) == 0 && len(c.Counts) == 0 && len(c.Events) == 0
}
