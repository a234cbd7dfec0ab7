package pgstore_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/httpcall"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

// lookupFlow calls the shop once, on "hello".
const lookupFlow = `{"format": "parley/flow@1", "id": "lookup", "start": "lookup",
 "triggers": [{"type": "keyword", "keywords": ["hello"]}],
 "nodes": [
  {"id": "lookup", "type": "http", "method": "GET", "url": "https://shop.example.com/x", "next": "found", "on_error": "found"},
  {"id": "found", "type": "send", "message": {"type": "text", "text": "found"}}
 ]}`

type callerFunc func(ctx context.Context, req httpcall.Request) httpcall.Result

func (f callerFunc) Do(ctx context.Context, req httpcall.Request) httpcall.Result { return f(ctx, req) }

// TestHTTPStepTakesTheContactsLock: an http step's claim (and its
// result's commit) is a turn like any other: it waits for its contact's
// lock held in another process, as an inbound message's turn there, rather
// than committing over that turn's change.
func TestHTTPStepTakesTheContactsLock(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	ctx := t.Context()
	clock := engine.NewManualClock(t0)
	called := make(chan struct{}, 10)
	eng, err := engine.New(ctx, engine.Options{Store: a, Clock: clock, Templates: templates.NewTemplateSet(), Logger: slog.New(slog.DiscardHandler),
		HTTP: callerFunc(func(context.Context, httpcall.Request) httpcall.Result {
			called <- struct{}{}
			return httpcall.Result{Status: 200}
		})})
	if err != nil {
		t.Fatal(err)
	}
	if _, problems, err := eng.Publish(ctx, []byte(lookupFlow), "ann"); err != nil || problems.HasErrors() {
		t.Fatalf("publish: %v %v", err, problems.Err())
	}
	wa := "1555" + t0.Format("150405") + "7" // a key of this test's own: the lock's wait is looked for by it
	out, err := eng.HandleInbound(ctx, &engine.Inbound{PhoneNumberID: "100", ID: "wamid.1", WaID: wa, At: clock.Now(),
		Reply: flows.Reply{Type: flows.MsgText, Text: "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := a.Conversation(ctx, out.Conversation)
	if err != nil {
		t.Fatal(err)
	}
	held, err := b.LockContact(ctx, conv.Contact) // process B's turn of this contact
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	unlock := func() { once.Do(held) }
	t.Cleanup(unlock)                                 // before the stores close, which waits for the lock's connection
	if _, err := eng.FireDueTimers(ctx); err != nil { // the call's claim starts, in its goroutine
		t.Fatal(err)
	}
	// Ready when A's claim waits for the lock B holds.
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for {
		var waiting bool
		if err := b.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND classid = 1 AND objid::bigint = (hashtext($1)::bigint & 4294967295) AND objsubid = 2)`, string(conv.Contact)).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		select {
		case <-called:
			t.Fatal("the http step was claimed and called while another process held its contact's lock")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the http step's claim never waited for the contact's lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-called:
		t.Fatal("called while the lock was held")
	default:
	}
	unlock()
	eng.WaitCalls()
	if len(called) != 1 {
		t.Fatalf("%d calls, want 1", len(called))
	}
	msgs, err := a.Transcript(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if last := msgs[len(msgs)-1]; last.Message == nil || last.Message.Text != "found" {
		t.Fatalf("the step's result was not followed: last message %+v", last)
	}
}
