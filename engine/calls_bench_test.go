package engine_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/httpcall"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

// benchStepFlows are one conversation each: the customer's first message
// starts it, one step runs, a send answers, the conversation ends. "send"
// has a second send where "http" has its call, so the difference is what
// an http step costs over a send.
var benchStepFlows = map[string]string{
	"send": `{"format": "parley/flow@1", "id": "b", "start": "step", "triggers": [{"type": "any"}], "nodes": [
  {"id": "step", "type": "send", "message": {"type": "text", "text": "looking"}, "next": "answer"},
  {"id": "answer", "type": "send", "message": {"type": "text", "text": "ok"}}]}`,
	"http": `{"format": "parley/flow@1", "id": "b", "start": "step", "triggers": [{"type": "any"}], "nodes": [
  {"id": "step", "type": "http", "method": "POST", "url": "API/orders", "body": {"who": "{{ contact.wa_id }}"},
   "save_as": "r", "next": "answer", "on_error": "answer"},
  {"id": "answer", "type": "send", "message": {"type": "text", "text": "ok {{ vars.r.json.id }}"}}]}`,
}

// BenchmarkConversationsThroughStep measures conversations per second
// through one step, from the customer's message (a webhook's turn) to the
// conversation's end committed, with 32 customers writing at once and the
// timer loop running as in serve: for "http" that includes the call to a
// fast loopback API (claim commit, the call, result commit). Run:
//
//	go test ./engine -run - -bench ConversationsThroughStep -benchtime 2000x
func BenchmarkConversationsThroughStep(b *testing.B) {
	for _, kind := range []string{"send", "http"} {
		b.Run(kind, func(b *testing.B) {
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"id": 7}`)
			}))
			defer api.Close()
			caller, err := httpcall.New(httpcall.Options{Allow: []string{"127.0.0.1"}})
			if err != nil {
				b.Fatal(err)
			}
			st, err := boltstore.Open(filepath.Join(b.TempDir(), "p.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			eng, err := engine.New(ctx, engine.Options{Store: st, Templates: templates.NewSet(), Logger: slog.New(slog.DiscardHandler), HTTP: caller})
			if err != nil {
				b.Fatal(err)
			}
			doc := benchStepFlows[kind]
			if kind == "http" {
				doc = replaceOnce(doc, "API", api.URL)
			}
			if _, ps, err := eng.Publish(ctx, []byte(doc), "bench"); err != nil {
				b.Fatal(err, ps.Err())
			}
			var ended atomic.Int64
			done := make(chan struct{})
			target := int64(b.N)
			eng.Observe(func(c engine.Committed) {
				if c.Conversation != nil && c.Conversation.Status == model.Ended {
					if ended.Add(1) == target {
						close(done)
					}
				}
			})
			var timers sync.WaitGroup
			timers.Add(1)
			go func() { defer timers.Done(); eng.RunTimers(ctx, 20*time.Millisecond) }()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > target {
							return
						}
						id := fmt.Sprint(1_000_000 + i)
						if _, err := eng.HandleInbound(ctx, &engine.Inbound{PhoneNumberID: phone, ID: "wamid.b" + id, WaID: id,
							At: time.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: "hi"}}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			select {
			case <-done:
			case <-time.After(5 * time.Minute):
				b.Fatalf("%d of %d conversations ended", ended.Load(), target)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conversations/s")
			cancel()
			timers.Wait()
			eng.WaitCalls()
		})
	}
}

func replaceOnce(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}
