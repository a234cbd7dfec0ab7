package ui

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
)

const tinyFlow = `{"format": "parley/flow@1", "id": "tiny", "start": "ask",
 "nodes": [{"id": "ask", "type": "wait_reply", "prompt": {"type": "text", "text": "hi"}, "save_as": "x", "next": "bye"},
  {"id": "bye", "type": "send", "message": {"type": "text", "text": "bye"}}]}`

// TestTestChatsIdleAndCap: a chat idle for TestChatIdle is closed and its
// files removed; at MaxTestChats the least recently used one makes room;
// Close closes the rest and refuses new chats.
func TestTestChatsIdleAndCap(t *testing.T) {
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	cs := newTestChats(slog.New(slog.DiscardHandler), func(dir string) (model.Store, error) { return boltstore.Open(filepath.Join(dir, "chat.db")) })
	cs.now = func() time.Time { return now }
	defer cs.Close()
	create := func() *testChat {
		t.Helper()
		c, err := cs.create(t.Context(), []byte(tinyFlow), "", false)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	gone := func(c *testChat) bool {
		_, err := os.Stat(c.dir)
		return os.IsNotExist(err) && c.sess == nil
	}

	first := create()
	now = now.Add(TestChatIdle - time.Second)
	if cs.get(first.id) != first { // used: its idle time starts again
		t.Fatal("a chat idle for less than the TTL is gone")
	}
	second := create()
	now = now.Add(TestChatIdle + time.Second)
	if cs.get(first.id) != nil || cs.get(second.id) != nil {
		t.Fatal("chats idle past the TTL are still there")
	}
	if !gone(first) || !gone(second) {
		t.Fatal("an expired chat was not closed, or its files not removed")
	}

	chats := make([]*testChat, MaxTestChats)
	for i := range chats {
		now = now.Add(time.Second)
		chats[i] = create()
	}
	cs.get(chats[0].id) // the oldest is the least recently used no more
	now = now.Add(time.Second)
	create()
	if cs.get(chats[1].id) != nil || !gone(chats[1]) {
		t.Fatal("the least recently used chat was not evicted")
	}
	if cs.get(chats[0].id) == nil || len(cs.chats) != MaxTestChats {
		t.Fatalf("the eviction took the wrong chat, or too many: %d", len(cs.chats))
	}

	cs.Close()
	if !gone(chats[0]) {
		t.Fatal("Close left a chat open")
	}
	if _, err := cs.create(t.Context(), []byte(tinyFlow), "", false); err == nil {
		t.Fatal("a chat was created after Close")
	}
}
