// Package storetest is the contract of model.Store as tests: every
// implementation runs Run, unchanged, against its own storage. A new backend
// is done when it passes.
//
// A backend's test is one function:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, path string) model.Store {
//			s, err := boltstore.Open(path)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The suite pins what the engine relies on and the interface's comments
// promise: atomic, deduplicated commits under concurrency; timers by due
// time; the outbox in order; transcripts in order; immutable, numbered flow
// versions; template records by name and language; pruning of dedupe keys;
// timer claims, on a store that claims (model.TimerClaimer), against a
// second handle when it is a SharedStore;
// durability across Close and reopen; ErrNotFound, ErrDuplicate and
// ErrClosed where they belong. It also pins
// a few points the interface leaves implicit, each named in its test:
// limit <= 0 means no limit; Commit never appends over a stored message,
// and its Updates never enqueue;
// DeleteTimers apply before SetTimers; Conversations orders by StartedAt;
// ListConversations ends its last page with no cursor, even a full one;
// SaveFlow never moves Published back; a Commit with a cancelled ctx
// commits nothing; Close twice returns ErrClosed; a store implements
// model.EventLog and logs Change.Events with their change (EventLog); a
// store with a retention (ConversationPruner) deletes only what is done
// and old (Retention).
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// Open opens the store kept at path, creating it empty if there is none, or
// fails t. The same path must give the same data after Close: the suite
// reopens stores to test durability. Every path is a fresh name under
// t.TempDir(): a file-backed store uses it as its file; another backend
// maps it to its own name (a schema, a database), one per distinct path.
// The suite closes every store it opens.
type Open func(t *testing.T, path string) model.Store

// Run runs the contract suite. Its subtests run in parallel, each on stores
// of its own.
func Run(t *testing.T, open Open) {
	s := &suite{open: open}
	tests := []struct {
		name string
		run  func(*testing.T, *suite)
	}{
		{"NotFound", testNotFound},
		{"ContactRoundTrip", testContactRoundTrip},
		{"ListContacts", testListContacts},
		{"ConversationRoundTrip", testConversationRoundTrip},
		{"ConversationsOfContact", testConversationsOfContact},
		{"ListConversations", testListConversations},
		{"CommitAtomicDuplicate", testCommitAtomicDuplicate},
		{"CommitWithoutInboundID", testCommitWithoutInboundID},
		{"CommitNeverRewritesMessage", testCommitNeverRewritesMessage},
		{"CommitCancelledContext", testCommitCancelledContext},
		{"ConcurrentCommits", testConcurrentCommits},
		{"ConcurrentDuplicates", testConcurrentDuplicates},
		{"Timers", testTimers},
		{"TimersDeletedBeforeSet", testTimersDeletedBeforeSet},
		{"TimerClaims", testTimerClaims},
		{"Outbox", testOutbox},
		{"OutboxClaim", testOutboxClaim},
		{"CommitUpdatesAndDequeue", testCommitUpdatesAndDequeue},
		{"Transcript", testTranscript},
		{"Flows", testFlows},
		{"ConcurrentPublish", testConcurrentPublish},
		{"Templates", testTemplates},
		{"Aliases", testAliases},
		{"Reach", testReach},
		{"ReachPrune", testReachPrune},
		{"Numbers", testNumbers},
		{"FlowStats", testFlowStats},
		{"PruneInbound", testPruneInbound},
		{"Reopen", testReopen},
		{"Closed", testClosed},
		{"RandomTimersAndOutbox", testRandomTimersAndOutbox},
		{"EventLog", testEventLog},
		{"Retention", testRetention},
		{"FlowHeads", testFlowHeads},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, s)
		})
	}
}

type suite struct{ open Open }

// fresh opens an empty store and returns it with its path.
func (s *suite) fresh(t *testing.T) (model.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store")
	return s.reopen(t, path), path
}

// reopen opens the store at path, closed at the end of the test.
func (s *suite) reopen(t *testing.T, path string) model.Store {
	t.Helper()
	st := s.open(t, path)
	t.Cleanup(func() { st.Close() })
	return st
}

// t0 is the suite's frozen clock: every time is t0 plus something.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589_793_238, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func contact(n int) *model.Contact {
	wa := fmt.Sprintf("4915%08d", n)
	return &model.Contact{
		Key:           model.NewContactKey("1065", wa),
		PhoneNumberID: "1065",
		WaID:          wa,
		Name:          fmt.Sprintf("Customer %d", n),
		Language:      "de",
		Tags:          []string{"vip", "beta"},
		Fields:        map[string]any{"city": "Berlin", "orders": 3.0, "member": true},
		OptedIn:       true,
		OptedInAt:     at(-time.Hour),
		LastInboundAt: at(0),
		Conversation:  conversationID(model.NewContactKey("1065", wa), 1),
		Conversations: 1,
	}
}

func conversationID(c model.ContactKey, n int) string { return fmt.Sprintf("%s#%d", c, n) }

func conversation(c model.ContactKey, n int, started time.Time) *model.Conversation {
	return &model.Conversation{
		ID:             conversationID(c, n),
		Contact:        c,
		Flow:           "order-status",
		Version:        3,
		Node:           "ask_order",
		Status:         model.Waiting,
		Vars:           map[string]any{"order": "A-1042", "attempts": 2.0, "express": false},
		StartedAt:      started,
		UpdatedAt:      started.Add(time.Minute),
		LastActivityAt: started.Add(time.Minute),
		Retries:        1,
		LastReply:      &flows.Reply{Type: "text", Text: "where is my order"},
		Timers:         []model.Timer{{Due: started.Add(time.Hour), Kind: model.TimerTimeout, Contact: c, Conversation: conversationID(c, n), Node: "ask_order"}},
		Seq:            2,
	}
}

func inbound(conv *model.Conversation, seq uint64, text string) *model.Message {
	return &model.Message{
		Conversation: conv.ID, Seq: seq, Direction: model.In, At: conv.StartedAt.Add(time.Duration(seq) * time.Second),
		Node: conv.Node, Sender: "customer", Contact: conv.Contact,
		Inbound: &flows.Reply{Type: "text", Text: text}, State: model.Received,
	}
}

func outbound(conv *model.Conversation, seq uint64, text string, state model.MessageState) *model.Message {
	return &model.Message{
		Conversation: conv.ID, Seq: seq, Direction: model.Out, At: conv.StartedAt.Add(time.Duration(seq) * time.Second),
		Node: conv.Node, Sender: "bot", Contact: conv.Contact,
		Message: &flows.Message{Type: flows.MsgText, Text: text}, State: state,
	}
}

func timer(conv *model.Conversation, due time.Time, kind model.TimerKind) model.Timer {
	return model.Timer{Due: due, Kind: kind, Contact: conv.Contact, Conversation: conv.ID, Node: conv.Node}
}

// event is a typical inbound message's change: the contact, its
// conversation, the customer's message and the bot's queued answer, a
// timer re-armed.
func event(n int, inboundID string) *model.Change {
	c := contact(n)
	conv := conversation(c.Key, 1, at(time.Duration(n)*time.Millisecond))
	return &model.Change{
		InboundID:     inboundID,
		At:            at(0),
		Contact:       c,
		Conversations: []*model.Conversation{conv},
		Messages:      []*model.Message{inbound(conv, 1, "hi"), outbound(conv, 2, "hello", model.Queued)},
		SetTimers:     []model.Timer{timer(conv, at(time.Hour), model.TimerTimeout)},
	}
}

func ctxOf(t *testing.T) context.Context { return t.Context() }

// sameJSON fails t unless got and want encode to the same JSON: the stored
// form is what a store must give back.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: encoding got: %v", what, err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("%s: encoding want: %v", what, err)
	}
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func commit(t *testing.T, st model.Store, c *model.Change) {
	t.Helper()
	if err := st.Commit(ctxOf(t), c); err != nil {
		t.Fatalf("commit: %v", err)
	}
}
