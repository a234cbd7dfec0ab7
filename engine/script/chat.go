package script

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// A Session also backs the editor's test chat: the methods below drive it
// one customer action at a time, outside any script.

// ChatCustomerName is the test chat customer's profile name: WhatsApp
// customers have one, and a flow's {{ contact.name }} (in a template
// parameter, say, which may not be empty) should render as it would.
const ChatCustomerName = "Alex"

// Profile is who the test chat's customer is: what a flow reads of them
// (contact.name, contact.language, contact.tags, contact.fields) and
// whether they opted in. Nil fields keep the defaults: named
// ChatCustomerName, opted in (so that a flow's template paths can be
// tried).
type Profile struct {
	Name     *string        `json:"name"`
	Language *string        `json:"language"`
	Tags     []string       `json:"tags"`
	Fields   map[string]any `json:"fields"`
	OptedIn  *bool          `json:"opted_in"`
}

// SetProfile makes the customer who p says, before they write or the
// flow starts.
func (s *Session) SetProfile(ctx context.Context, p *Profile) error {
	r := s.r
	_, err := r.eng.UpdateContact(ctx, r.key, func(c *model.Contact) {
		c.PhoneNumberID, c.WaID = PhoneNumberID, CustomerWaID
		c.Name = ChatCustomerName
		optIn := true
		if p != nil {
			if p.Name != nil {
				c.Name = *p.Name
			}
			if p.Language != nil {
				c.Language = *p.Language
			}
			if p.Tags != nil {
				c.Tags = p.Tags
			}
			if p.Fields != nil {
				c.Fields = p.Fields
			}
			if p.OptedIn != nil {
				optIn = *p.OptedIn
			}
		}
		c.OptedIn = optIn
		if optIn {
			c.OptedInAt = r.clock.Now()
		}
	})
	return err
}

// Start begins the flow at node (its start when node is ""), as if the
// customer had just written: their window opens now. Unless SetProfile
// said otherwise, the customer is named ChatCustomerName and opted in.
func (s *Session) Start(ctx context.Context, node string) error {
	r := s.r
	if c, err := r.eng.Store().Contact(ctx, r.key); errors.Is(err, model.ErrNotFound) || (err == nil && c.WaID == "") {
		if err := s.SetProfile(ctx, nil); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	_, err := r.eng.UpdateContact(ctx, r.key, func(c *model.Contact) { c.LastInboundAt = r.clock.Now() })
	if err != nil {
		return err
	}
	if _, err := r.eng.StartFlow(ctx, r.key, r.flowID, node); err != nil {
		return err
	}
	return s.settle(ctx)
}

// AgentName is who the test chat's agent replies as.
const AgentName = "tester"

// AgentReply sends a reply as the agent of a handed-off conversation
// (engine.ErrNoConversation when none is; engine.ErrWindowClosed past the
// window).
func (s *Session) AgentReply(ctx context.Context, text string) error {
	if err := s.r.eng.AgentReply(ctx, s.r.key, AgentName, flows.Message{Type: flows.MsgText, Text: text}); err != nil {
		return err
	}
	return s.settle(ctx)
}

// AgentResolve resolves the handed-off conversation with an outcome: the
// flow carries on from the handoff node.
func (s *Session) AgentResolve(ctx context.Context, outcome string) error {
	if err := s.r.eng.Resolve(ctx, s.r.key, outcome); err != nil {
		return err
	}
	return s.settle(ctx)
}

// Send delivers a message from the customer, then takes what the bot
// queued in answer.
func (s *Session) Send(ctx context.Context, reply flows.Reply) error {
	r := s.r
	r.inbound++
	in := &engine.Inbound{
		PhoneNumberID: PhoneNumberID, ID: fmt.Sprintf("wamid.chat.%d", r.inbound),
		WaID: CustomerWaID, At: r.clock.Now(), Reply: reply,
	}
	if _, err := r.eng.HandleInbound(ctx, in); err != nil {
		return err
	}
	return s.settle(ctx)
}

// Advance moves the clock on by d; every timer due on the way fires at its
// own time, in order.
func (s *Session) Advance(ctx context.Context, d time.Duration) error {
	if held, err := s.HeldCall(ctx); err != nil || held != nil {
		if err == nil {
			err = ErrCallWaiting
		}
		return err
	}
	if err := s.r.advance(ctx, d); err != nil {
		return err
	}
	return s.settle(ctx)
}

// settle takes what was queued and forgets it: a chat shows the store's
// transcript, not the script's list of sends.
func (s *Session) settle(ctx context.Context) error {
	if err := s.r.settleCalls(ctx); err != nil {
		return err
	}
	err := s.r.drain(ctx)
	s.r.outbox = nil
	s.r.res.Transcript = nil
	return err
}

// ErrNotOffered is returned by Tap for an id no message offered.
var ErrNotOffered = errors.New("no message sent to the customer offers it")

// Tap is the customer's tap on the button (list false) or list row (list
// true) with this id, as WhatsApp sends it: with the title it was offered
// under. The latest message offering the id wins; a template's quick-reply
// button is found by its payload (and titled by it: the template's text is
// Meta's). ErrNotOffered when no message sent offered it.
func (s *Session) Tap(ctx context.Context, id string, list bool) (flows.Reply, error) {
	ms, err := s.Transcript(ctx)
	if err != nil {
		return flows.Reply{}, err
	}
	for i := len(ms) - 1; i >= 0; i-- {
		m := ms[i]
		if m.Direction != model.Out {
			continue
		}
		switch {
		case m.Message != nil && list:
			for _, sec := range m.Message.Sections {
				for _, row := range sec.Rows {
					if row.ID == id {
						return flows.Reply{Type: flows.ReplyList, ListID: id, Title: row.Title}, nil
					}
				}
			}
		case m.Message != nil:
			for _, b := range m.Message.Buttons {
				if b.ID == id {
					return flows.Reply{Type: flows.ReplyButton, ButtonID: id, Title: b.Title}, nil
				}
			}
		case m.Template != nil && !list:
			// A quick reply of the template, or of one of its carousel cards.
			buttons := m.Template.Buttons
			for _, c := range m.Template.Cards {
				buttons = append(buttons[:len(buttons):len(buttons)], c.Buttons...)
			}
			for _, b := range buttons {
				if b.Payload != "" && b.Payload == id {
					return flows.Reply{Type: flows.ReplyButton, ButtonID: id, Title: id}, nil
				}
			}
		}
	}
	what := "button"
	if list {
		what = "list row"
	}
	return flows.Reply{}, fmt.Errorf("%s %q: %w", what, id, ErrNotOffered)
}

// Transcript is every message of the customer's conversations, oldest
// conversation first.
func (s *Session) Transcript(ctx context.Context) ([]*model.Message, error) {
	r := s.r
	convs, err := r.store.Conversations(ctx, r.key)
	if err != nil {
		return nil, err
	}
	var out []*model.Message
	for _, c := range convs {
		ms, err := r.store.Transcript(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

// Conversation is the customer's running conversation, else their last
// one, else nil.
func (s *Session) Conversation(ctx context.Context) (*model.Conversation, error) {
	c, err := s.r.eng.CurrentConversation(ctx, s.r.key)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	return c, err
}

// Customer is the simulated customer as the engine knows them; nil before
// the session has started.
func (s *Session) Customer(ctx context.Context) (*model.Contact, error) {
	c, err := s.r.eng.Contact(ctx, s.r.key)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	return c, err
}

// Flow is the id of the session's flow.
func (s *Session) Flow() string { return s.r.flowID }

// ErrCallWaiting is returned by Advance while an http call waits for an
// answer by hand: answer it first (a call in flight holds the flow, and
// the clock would run out its lease).
var ErrCallWaiting = errors.New("an http call waits for its answer: answer it first")

// ByHand reports whether the session holds http calls for an answer by
// hand (Options.ByHand).
func (s *Session) ByHand() bool { return s.r.hand != nil }

// HeldCall is the http call waiting for an answer by hand, as it would be
// sent (secrets masked); nil when none waits.
func (s *Session) HeldCall(ctx context.Context) (*engine.HeldCall, error) {
	r := s.r
	if r.hand == nil {
		return nil, nil
	}
	conv, err := s.Conversation(ctx)
	if err != nil || conv == nil || conv.Call == nil || conv.Status.Done() || !r.hand.holds(conv.Call.Key) {
		return nil, err
	}
	return r.eng.HeldRequest(ctx, r.key)
}

// AnswerCall answers the held http call with a, as its attempt's result
// (retries and on_error as for a real answer), then settles: a retry is
// made (and held again) after its backoff, and what the bot sends is
// taken. ErrNoHeldCall when no call waits.
func (s *Session) AnswerCall(ctx context.Context, a CallLine) error {
	held, err := s.HeldCall(ctx)
	if err != nil {
		return err
	}
	if held == nil {
		return fmt.Errorf("%w", engine.ErrNoHeldCall)
	}
	r := s.r
	conv, err := s.Conversation(ctx)
	if err != nil {
		return err
	}
	r.hand.release(held.Key)
	if err := r.eng.AnswerCall(ctx, r.key, held.Key, held.Attempt, a.Answer(conv.Call.Timeout)); err != nil {
		return err
	}
	if err := r.settleCalls(ctx); err != nil {
		return err
	}
	return r.drain(ctx)
}

// AnswerChatCall is AnswerCall for the test chat, which shows the store's
// transcript: what was sent is taken and forgotten.
func (s *Session) AnswerChatCall(ctx context.Context, a CallLine) error {
	if err := s.AnswerCall(ctx, a); err != nil {
		return err
	}
	return s.settle(ctx)
}
