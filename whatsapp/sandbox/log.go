package sandbox

import (
	"encoding/json"
	"time"
)

// Kinds of log entries.
const (
	// KindRequest: a Graph API request and the HTTP status answered (with
	// Code when it was an error).
	KindRequest = "request"
	// KindAccepted: a send answered 200; WAMID, To, Type, Body, Raw set.
	KindAccepted = "accepted"
	// KindRejected: a send (or other call) refused with Meta error Code,
	// synchronously or — for Async — in a failed status webhook.
	KindRejected = "rejected"
	// KindInbound: a message from a simulated customer.
	KindInbound = "inbound"
	// KindStatus: a status (sent, delivered, read, failed) of an accepted send.
	KindStatus = "status"
	// KindMarkRead: the business marked a customer's message read.
	KindMarkRead = "mark_read"
	// KindTemplate: a template was created or changed status.
	KindTemplate = "template"
	// KindWebhook: one webhook post attempt and its HTTP status (0 when
	// the post failed); Reason "dropped" when retries ran out.
	KindWebhook = "webhook"
)

// Entry is one line of the sandbox's log.
type Entry struct {
	Seq        int             `json:"seq"`
	Time       time.Time       `json:"time"`
	Kind       string          `json:"kind"`
	Method     string          `json:"method,omitempty"`
	Path       string          `json:"path,omitempty"`
	HTTPStatus int             `json:"http_status,omitempty"`
	WAMID      string          `json:"wamid,omitempty"`
	To         string          `json:"to,omitempty"` // the customer (wa_id, or BSUID)
	Type       string          `json:"type,omitempty"`
	Body       string          `json:"body,omitempty"` // text, caption, template name…
	Status     string          `json:"status,omitempty"`
	Code       int             `json:"code,omitempty"`
	Async      bool            `json:"async,omitempty"` // rejection sent as a failed status
	Reason     string          `json:"reason,omitempty"`
	Attempt    int             `json:"attempt,omitempty"`
	Raw        json.RawMessage `json:"raw,omitempty"` // request body or webhook payload
}

func (s *Sandbox) record(e Entry) {
	s.mu.Lock()
	s.recordLocked(e)
	s.mu.Unlock()
}

func (s *Sandbox) recordLocked(e Entry) {
	e.Seq = len(s.log) + 1
	if e.Time.IsZero() {
		e.Time = s.clock.Now()
	}
	s.log = append(s.log, e)
	// Every change a restart should keep (a message in or out, a status,
	// a template) is logged: one place to note it for Persist.
	if e.Kind != KindRequest && e.Kind != KindWebhook {
		s.changedLocked()
	}
}

// Log returns a copy of every entry so far, oldest first.
func (s *Sandbox) Log() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Entry(nil), s.log...)
}

// Entries returns the entries of one kind.
func (s *Sandbox) Entries(kind string) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Entry
	for _, e := range s.log {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// Accepted returns the sends answered with a wamid.
func (s *Sandbox) Accepted() []Entry { return s.Entries(KindAccepted) }

// Rejected returns the refusals with their Meta error codes.
func (s *Sandbox) Rejected() []Entry { return s.Entries(KindRejected) }

// Turn is one message of a customer's transcript.
type Turn struct {
	Time  time.Time `json:"time"`
	From  string    `json:"from"` // "customer" or "business"
	WAMID string    `json:"wamid"`
	Type  string    `json:"type"`
	Text  string    `json:"text,omitempty"`
	// Status of a business message: accepted, sent, delivered, read or
	// failed (with Code); of a customer message: received or read.
	Status string `json:"status"`
	Code   int    `json:"code,omitempty"`
	// Typing is set when the business showed a typing indicator on it.
	Typing bool `json:"typing,omitempty"`
}

// Transcript returns the conversation with the customer id (wa_id or
// BSUID), oldest first; nil for a customer the sandbox never saw.
func (s *Sandbox) Transcript(id string) []Turn {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.customers[id]
	if c == nil {
		return nil
	}
	out := make([]Turn, len(c.turns))
	for i, t := range c.turns {
		out[i] = *t
	}
	return out
}
