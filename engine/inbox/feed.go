package inbox

import (
	"context"

	"github.com/parleyhq/parley/engine"
)

// Feed connects the inboxes of the processes that share one store
// (PostgreSQL: pgstore.Feed). Each inbox learns its own process's commits
// from the engine's observer; the feed tells it, in commit order, of every
// other process's commit that touches what the inbox shows, as a Note of
// ids to read again from the store, and elects the one process that makes
// the assignment passes (doc.go, "Several processes"). A process alone on
// its store (bbolt) has none.
type Feed interface {
	// Run listens until ctx is done, telling l what it learns, and
	// returns ctx's error. A connection that drops is made again; l is
	// told Connected again (what was sent meanwhile is lost) and no
	// longer leads until it is told Leading(true) again.
	Run(ctx context.Context, l Listener) error
	// Send tells the other processes a note that no store write carries
	// (NoteSending). Notes of commits and records are sent by the store,
	// in the transaction that makes them.
	Send(ctx context.Context, n Note) error
}

// Listener is what a Feed tells: the inbox implements it.
type Listener interface {
	// Connected is called when the feed has (re)connected, before any
	// note it then delivers: notes sent while it was away are lost, so
	// the listener reads its view again. An error drops the connection
	// (and the feed tries again).
	Connected(ctx context.Context) error
	// Disconnected is called when the connection dropped or the feed
	// stopped: until Connected again, other processes' changes are not
	// learnt.
	Disconnected(err error)
	// Note is another process's note, in commit order. An error (the
	// store could not be read) drops the connection, so that the view is
	// read again whole on the next.
	Note(ctx context.Context, n Note) error
	// Leading says whether this process now makes the assignment passes:
	// true when it took the cluster's lead, false when it lost it (its
	// connection dropped) or stopped.
	Leading(lead bool)
}

// NoteKind says what a note is about.
type NoteKind string

// Note kinds.
const (
	// NoteConversation: a commit changed a conversation that is (or was,
	// before the commit) handed off: its state, its transcript
	// (Messages: the seqs it appended) or its messages' delivery
	// (Updates: the seqs it rewrote).
	NoteConversation NoteKind = "c"
	// NoteAgent, NoteQueue, NoteCanned: the agent profile (ID an email),
	// queue or canned response ID was stored or removed.
	NoteAgent  NoteKind = "a"
	NoteQueue  NoteKind = "q"
	NoteCanned NoteKind = "k"
	// NoteRead: conversation ID was read up to Seq.
	NoteRead NoteKind = "r"
	// NoteSending: sending was paused or resumed in the sending process
	// (Paused: its pauses in force).
	NoteSending NoteKind = "s"
)

// Note is one change another process made, as small as the feed carries
// it (PostgreSQL's NOTIFY takes under 8000 bytes): ids, which the
// receiving inbox reads again from the store.
type Note struct {
	Kind     NoteKind       `json:"k"`
	ID       string         `json:"i,omitempty"`
	Messages []uint64       `json:"m,omitempty"`
	Updates  []uint64       `json:"u,omitempty"`
	Seq      uint64         `json:"s,omitempty"`
	Paused   []engine.Pause `json:"p,omitempty"`
}
