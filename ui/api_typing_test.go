package ui_test

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/ui"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// typingRecorder records the typing indicators asked of WhatsApp.
type typingRecorder struct {
	mu    sync.Mutex
	marks []string
}

func (r *typingRecorder) MarkRead(_ context.Context, wamid string, typing bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if typing {
		wamid += "+typing"
	}
	r.marks = append(r.marks, wamid)
	return nil
}

func (r *typingRecorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.marks)
}

// TestInboxTyping: an agent who may reply shows the customer "typing…" on
// their latest message; one who may not see the conversation is 404; none
// is shown once the window is closed, nor when the server has no typing
// indicators.
func TestInboxTyping(t *testing.T) {
	f, ib := inboxFixture(t)
	f.say(ann, "my parcel is late")
	conv := convID(ann, 1)
	url := inboxURL(conv) + "/typing"

	// Without typing indicators (the fixture's server): never shown.
	f.expect("POST", url, "", agentAnn, http.StatusOK)

	rec := &typingRecorder{}
	r := f.eng.NewReceipts(engine.ReceiptOptions{Marker: rec, Read: true, Typing: true})
	f.srv = ui.New(ui.Config{Engine: f.eng, Logger: slog.New(slog.DiscardHandler), AppSecret: sandbox.DefaultAppSecret, Auth: f.auth, Inbox: ib, Typing: r})
	for _, tc := range []struct {
		name    string
		who     string
		advance time.Duration
		status  int
		want    string
		calls   []string
	}{
		{"another queue's agent", agentCy, 0, http.StatusNotFound, "not found", nil},
		{"an analyst", analyst, 0, http.StatusForbidden, "needs the role", nil},
		{"the queue's agent", agentAnn, 0, http.StatusOK, `{"shown":true}`, []string{"wamid.in.1+typing"}},
		{"again at once: still showing, no call", agentAnn, time.Second, http.StatusOK, `{"shown":true}`, []string{"wamid.in.1+typing"}},
		{"the window closed", fixtureAdmin, 25 * time.Hour, http.StatusOK, `{"shown":false}`, []string{"wamid.in.1+typing"}},
	} {
		f.clock.Advance(tc.advance)
		body := f.expect("POST", url, "", tc.who, tc.status)
		if !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %s, want %s", tc.name, body, tc.want)
		}
		if got := rec.calls(); !slices.Equal(got, tc.calls) {
			t.Errorf("%s: calls %q, want %q", tc.name, got, tc.calls)
		}
	}
	f.expect("POST", inboxURL(convID(ann, 9))+"/typing", "", fixtureAdmin, http.StatusNotFound)
}
