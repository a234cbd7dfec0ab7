package ui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine/inbox"
)

// The live inbox: GET /api/v1/inbox/events is a stream of server-sent
// events (text/event-stream). Each event is one JSON object on a `data:`
// line with its `id:`; its "type" says what happened (inbox.EventType:
// message, status, handoff, assigned, closed, agent, read). An agent gets
// the events of their queues and of conversations assigned to them, an
// admin all.
//
// A browser's EventSource reconnects by itself and sends Last-Event-ID:
// the events since are replayed from the hub's ring. When they cannot be
// (the server restarted, or the client was away too long) the stream
// starts with {"type":"reset"}: reload the lists. A reset may also come
// mid-stream: on several processes, the inbox read its view again after
// its feed of the others' changes reconnected (engine/inbox's doc). The first event of
// every stream is {"type":"hello"} with the caller's unread counts.
const (
	// sseHeartbeat keeps proxies and the browser from closing an idle
	// stream, and lets a gone client be noticed.
	sseHeartbeat = 10 * time.Second
	// sseMaxAge ends a stream before the server's WriteTimeout (30 s),
	// which bounds a whole response: the client reconnects at once with
	// Last-Event-ID and misses nothing.
	sseMaxAge = 25 * time.Second
	// sseRetry is the reconnection delay the client is told to use.
	sseRetry = 1000
)

// sseEvent is an event as it goes on the wire: the inbox event with its
// message as a transcript entry (the outer Message hides the embedded
// one in JSON).
type sseEvent struct {
	inbox.Event
	Message *transcriptEntry `json:"message,omitempty"`
	// Mine and Waiting are the caller's unread counts (hello only).
	Mine    *int `json:"mine,omitempty"`
	Waiting *int `json:"waiting,omitempty"`
}

func sseOf(ev inbox.Event) sseEvent {
	out := sseEvent{Event: ev}
	if ev.Message != nil {
		e := entryOf(ev.Message)
		out.Message = &e
	}
	return out
}

// The stream's own events, beside the inbox's: the caller's unread counts
// first, and a reset when Last-Event-ID is older than the replay ring.
const (
	eventHello inbox.EventType = "hello"
	eventReset                 = inbox.EventReset
)

// writeSSE writes one event; an id, when set, becomes the client's
// Last-Event-ID.
func writeSSE(w *bufio.Writer, ev sseEvent) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if ev.ID != "" {
		fmt.Fprintf(w, "id: %s\n", ev.ID)
	}
	fmt.Fprintf(w, "data: %s\n\n", data)
	return w.Flush()
}

func (s *Server) inboxEvents(c *fiber.Ctx) error {
	v := viewer(c)
	ib := s.cfg.Inbox
	lastID := c.Get("Last-Event-ID")
	if lastID == "" {
		lastID = c.Query("last_event_id")
	}
	sub, replay, reset := ib.Hub().Subscribe(lastID, func(ev inbox.Event) bool { return ib.CanSeeEvent(v, ev) })
	mine, waiting := ib.Unread(v)

	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no")
	s.streamBody(c, func(w *bufio.Writer) {
		defer sub.Close()
		fmt.Fprintf(w, "retry: %d\n\n", sseRetry)
		if err := writeSSE(w, sseEvent{Event: inbox.Event{Type: eventHello}, Mine: &mine, Waiting: &waiting}); err != nil {
			return
		}
		if reset {
			if err := writeSSE(w, sseEvent{Event: inbox.Event{Type: eventReset}}); err != nil {
				return
			}
		}
		for _, ev := range replay {
			if err := writeSSE(w, sseOf(ev)); err != nil {
				return
			}
		}
		beat := time.NewTicker(sseHeartbeat)
		defer beat.Stop()
		maxAge := s.cfg.EventStreamMaxAge
		if maxAge <= 0 {
			maxAge = sseMaxAge
		}
		end := time.NewTimer(maxAge)
		defer end.Stop()
		for {
			select {
			case ev, ok := <-sub.C:
				if !ok {
					return // cut off (too slow) or the server is stopping
				}
				if err := writeSSE(w, sseOf(ev)); err != nil {
					return
				}
			case <-beat.C:
				if _, err := w.WriteString(": ping\n\n"); err != nil {
					return
				}
				if err := w.Flush(); err != nil {
					return
				}
			case <-end.C:
				return
			}
		}
	})
	return nil
}
