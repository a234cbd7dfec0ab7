package ui

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/ui/auth"
	"github.com/parleyhq/parley/whatsapp"
)

// conversationRoutes registers the conversations API: the listing with
// filters and cursor paging, one conversation with its transcript, and a
// contact with its 24-hour window. See README.md, "REST API".
//
// Analysts read the conversations log too, every conversation (they build
// the flows whose runs it shows; docs/design.md, "Security"); agents read
// those of their queues.
//
// Customer text (messages, names, variables) comes back as JSON string
// data, as it was received: whoever shows it escapes it.
func (s *Server) conversationRoutes(api fiber.Router) {
	api.Get("/conversations", auth.Require(auth.Admin, auth.Analyst, auth.Agent), s.listConversations)
	api.Get("/conversations/:id", auth.Require(auth.Admin, auth.Analyst, auth.Agent), s.getConversation)
	api.Get("/contacts/:key", auth.Require(auth.Admin, auth.Agent), s.getContact)
}

// Page sizes of GET /conversations: a screenful by default, and a cap so
// that one request cannot make the store decode everything at once.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// conversationItem is a conversation in a listing.
type conversationItem struct {
	ID             string           `json:"id"`
	Contact        model.ContactKey `json:"contact"`
	Flow           string           `json:"flow"`
	Version        int              `json:"version"`
	Node           string           `json:"node"`
	Status         model.Status     `json:"status"`
	Reason         string           `json:"reason,omitempty"`
	StartedAt      time.Time        `json:"started_at"`
	LastActivityAt time.Time        `json:"last_activity_at"`
	// ContactName and WaID say who the customer is in a listing (a
	// contact's key may hold a user id rather than their number).
	ContactName string `json:"contact_name,omitempty"`
	WaID        string `json:"wa_id,omitempty"`
}

func itemOf(c *model.Conversation) conversationItem {
	return conversationItem{
		ID: c.ID, Contact: c.Contact, Flow: c.Flow, Version: c.Version, Node: c.Node,
		Status: c.Status, Reason: c.Reason, StartedAt: c.StartedAt, LastActivityAt: c.LastActivityAt,
	}
}

// transcriptEntry is one transcript message: who, when, where in the flow,
// a one-line rendering (engine.Render), the message itself, and for
// outbound messages the delivery state (queued, sending, accepted, sent,
// delivered, read, failed with Meta's code and error, or unknown).
type transcriptEntry struct {
	Seq       uint64          `json:"seq"`
	Direction model.Direction `json:"direction"`
	Sender    string          `json:"sender"`
	At        time.Time       `json:"at"`
	Node      string          `json:"node,omitempty"`
	Text      string          `json:"text"`
	// Display is the text as a person reads it (engine.Display); Text is
	// the scripts' rendering, with type prefixes and option ids.
	Display   string              `json:"display"`
	Inbound   *flows.Reply        `json:"inbound,omitempty"`
	Message   *flows.Message      `json:"message,omitempty"`
	Template  *flows.TemplateSend `json:"template,omitempty"`
	State     model.MessageState  `json:"state,omitempty"`
	WAMID     string              `json:"wamid,omitempty"`
	ErrorCode int                 `json:"error_code,omitempty"`
	Error     string              `json:"error,omitempty"`
	// EditedAt and RevokedAt: the customer edited (Inbound is the new
	// content, Original the first) or deleted this message.
	EditedAt  time.Time    `json:"edited_at,omitzero"`
	RevokedAt time.Time    `json:"revoked_at,omitzero"`
	Original  *flows.Reply `json:"original,omitempty"`
	// Call, on a note, is an http step's attempt: method, URL (secrets
	// masked), status, duration, error.
	Call *model.CallRecord `json:"call,omitempty"`
}

func entryOf(m *model.Message) transcriptEntry {
	return transcriptEntry{
		Seq: m.Seq, Direction: m.Direction, Sender: m.Sender, At: m.At, Node: m.Node,
		Text: engine.Render(m), Display: engine.Display(m), Inbound: m.Inbound, Message: m.Message, Template: m.Template,
		State: m.State, WAMID: m.WAMID, ErrorCode: m.ErrorCode, Error: m.Error,
		EditedAt: m.EditedAt, RevokedAt: m.RevokedAt, Original: m.Original, Call: m.Call,
	}
}

// windowView is a contact's 24-hour window as of the request. ExpiresAt is
// when free-form sends stop (policy.WindowExpiry: the margin is already
// taken off), in the past for a window that has closed, absent when the
// customer never wrote or Meta closed it early.
type windowView struct {
	Open             bool      `json:"open"`
	ExpiresAt        time.Time `json:"expires_at,omitzero"`
	RemainingSeconds int64     `json:"remaining_seconds"`
}

func (s *Server) windowOf(c *model.Contact) windowView {
	now := s.cfg.Engine.Clock().Now()
	w := windowView{Open: policy.WindowOpen(c, now), ExpiresAt: policy.WindowExpiry(c)}
	if w.Open {
		w.RemainingSeconds = int64(w.ExpiresAt.Sub(now) / time.Second)
	}
	return w
}

// validStatus is every status a filter may name.
var validStatus = map[model.Status]bool{
	model.Active: true, model.Waiting: true, model.Agent: true,
	model.Ended: true, model.Expired: true, model.Failed: true,
}

func (s *Server) listConversations(c *fiber.Ctx) error {
	f := model.ConversationFilter{
		Status: model.Status(c.Query("status")),
		Flow:   c.Query("flow"),
		Cursor: c.Query("cursor"),
		Limit:  DefaultPageSize,
	}
	if f.Status != "" && !validStatus[f.Status] {
		return fiber.NewError(fiber.StatusBadRequest, "status must be one of active, waiting, agent, ended, expired, failed")
	}
	if q := c.Query("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > MaxPageSize {
			return fiber.NewError(fiber.StatusBadRequest, "limit must be a number from 1 to "+strconv.Itoa(MaxPageSize))
		}
		f.Limit = n
	}
	lf, err := parseLogFilter(c)
	if err != nil {
		return err
	}
	// The business number is the store's to filter by (an index).
	f.Number, lf.number = lf.number, ""
	// A whole contact key goes to the store, which lists that contact's
	// conversations only; a customer's number alone is matched below.
	if strings.Contains(lf.contact, ":") {
		f.Contact, lf.contact = model.ContactKey(lf.contact), ""
	} else if wa, ok := consent.NormalizePhone(lf.contact); ok {
		// A contact's key holds the customer's user id where Meta sends
		// one, not their number: the number finds the contacts that have it.
		found, err := s.cfg.Engine.ContactsByWaID(c.UserContext(), wa)
		if err != nil {
			return err
		}
		lf.keys = map[model.ContactKey]bool{}
		for _, ct := range found {
			lf.keys[ct.Key] = true
		}
	}
	convs, next, err := s.scopedConversations(c, f, lf.keep()) // agents: their queues (api_inbox.go)
	if err != nil {
		return apiErr(err, "conversation")
	}
	items := make([]conversationItem, 0, len(convs))
	names := map[model.ContactKey]*model.Contact{}
	for _, conv := range convs {
		it := itemOf(conv)
		ct, ok := names[conv.Contact]
		if !ok {
			if ct, err = s.cfg.Engine.Store().Contact(c.UserContext(), conv.Contact); err != nil && !errors.Is(err, model.ErrNotFound) {
				return err
			}
			names[conv.Contact] = ct
		}
		if ct != nil {
			it.ContactName, it.WaID = ct.Name, ct.WaID
		}
		items = append(items, it)
	}
	return c.JSON(fiber.Map{"conversations": items, "next_cursor": next})
}

// logFilter is the part of a listing's filter the store does not keep an
// index for, checked on each conversation the store lists: the node it
// is at (or stopped at), the business number, the customer's phone number
// (or user id) without the business number, and the UTC days it started
// in.
type logFilter struct {
	node, number, contact string
	keys                  map[model.ContactKey]bool // the contacts with the phone number contact, if it is one
	from, until           time.Time                 // started at or after from, before until
}

// parseLogFilter reads node=, number=, contact=, from= and to= (dates,
// both days included).
func parseLogFilter(c *fiber.Ctx) (logFilter, error) {
	lf := logFilter{node: c.Query("node"), number: c.Query("number"), contact: strings.TrimSpace(c.Query("contact"))}
	if lf.number != "" && !whatsapp.ValidPhoneNumberID(lf.number) {
		return lf, fiber.NewError(fiber.StatusBadRequest, "number must be a business number's phone_number_id (digits)")
	}
	for _, d := range []struct {
		param string
		into  *time.Time
		add   int
	}{{"from", &lf.from, 0}, {"to", &lf.until, 1}} {
		if q := c.Query(d.param); q != "" {
			t, err := time.Parse(dayLayout, q)
			if err != nil {
				return lf, fiber.NewError(fiber.StatusBadRequest, d.param+" must be a date like 2026-01-31")
			}
			*d.into = t.AddDate(0, 0, d.add)
		}
	}
	if !lf.from.IsZero() && !lf.until.IsZero() && !lf.from.Before(lf.until) {
		return lf, fiber.NewError(fiber.StatusBadRequest, "from is after to")
	}
	return lf, nil
}

// keep is the filter's check, nil when it has none.
func (lf logFilter) keep() func(*model.Conversation) bool {
	if lf.node == "" && lf.number == "" && lf.contact == "" && lf.from.IsZero() && lf.until.IsZero() {
		return nil
	}
	return lf.match
}

// match reports whether conv passes the filter.
func (lf logFilter) match(conv *model.Conversation) bool {
	pn, id, _ := strings.Cut(string(conv.Contact), ":")
	return (lf.node == "" || conv.Node == lf.node) &&
		(lf.number == "" || pn == lf.number) &&
		(lf.contact == "" || id == lf.contact || lf.keys[conv.Contact]) &&
		(lf.from.IsZero() || !conv.StartedAt.Before(lf.from)) &&
		(lf.until.IsZero() || conv.StartedAt.Before(lf.until))
}

// getConversation is one conversation whole (vars, timers, queue…) with
// its contact's window and its transcript, oldest message first.
func (s *Server) getConversation(c *fiber.Ctx) error {
	id, err := conversationParam(c)
	if err != nil {
		return err
	}
	ctx, st := c.UserContext(), s.cfg.Engine.Store()
	conv, err := st.Conversation(ctx, id)
	if err != nil {
		return apiErr(err, "conversation")
	}
	if !s.readsLog(c) && !s.mayRead(c, conv) {
		return fiber.NewError(fiber.StatusNotFound, "conversation not found")
	}
	transcript, contact, err := s.transcriptAndContact(ctx, conv)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"conversation": conv, "window": s.windowOf(contact), "transcript": transcript, "labels": s.nodeLabels(ctx, conv)})
}

// nodeLabels maps the nodes of a conversation's flow version that have a
// label (meta.label, the name the editor shows) to it, for the page to name the steps as the editor does; empty
// when the version cannot be read (the ids alone still tell the path).
func (s *Server) nodeLabels(ctx context.Context, conv *model.Conversation) map[string]string {
	labels := map[string]string{}
	f, err := s.cfg.Engine.Flow(ctx, conv.Flow, conv.Version)
	if err != nil {
		return labels
	}
	for _, n := range f.Nodes {
		if l, ok := n.Meta["label"].(string); ok && strings.TrimSpace(l) != "" {
			labels[n.ID] = l
		}
	}
	return labels
}

// transcriptAndContact reads a conversation's transcript, oldest first,
// and its contact.
func (s *Server) transcriptAndContact(ctx context.Context, conv *model.Conversation) ([]transcriptEntry, *model.Contact, error) {
	st := s.cfg.Engine.Store()
	msgs, err := st.Transcript(ctx, conv.ID)
	if err != nil {
		return nil, nil, err
	}
	transcript := make([]transcriptEntry, 0, len(msgs))
	for _, m := range msgs {
		transcript = append(transcript, entryOf(m))
	}
	contact, err := st.Contact(ctx, conv.Contact)
	if errors.Is(err, model.ErrNotFound) {
		// A conversation always has its contact; without one, no window.
		contact = &model.Contact{Key: conv.Contact}
	} else if err != nil {
		return nil, nil, err
	}
	return transcript, contact, nil
}

// getContact is a contact with its window, its policy state (consent
// history, reachability, blocks: api_contacts.go) and its conversations,
// newest first.
// errContactNotFound is what an agent gets for a contact none of whose
// conversations they may read: the same as for no contact at all.
var errContactNotFound error = fiber.NewError(fiber.StatusNotFound, "contact not found")

// mayReadContact reports whether the caller may read or act on a
// contact: an admin any; an agent one with a conversation they may read
// (an agent reads a contact through a conversation of theirs).
func (s *Server) mayReadContact(c *fiber.Ctx, key model.ContactKey) (bool, error) {
	if viewer(c).Admin {
		return true, nil
	}
	convs, err := s.cfg.Engine.Store().Conversations(c.UserContext(), key)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(convs, func(conv *model.Conversation) bool { return s.mayRead(c, conv) }), nil
}

func (s *Server) getContact(c *fiber.Ctx) error {
	key, err := contactParam(c)
	if err != nil {
		return err
	}
	ctx, st := c.UserContext(), s.cfg.Engine.Store()
	contact, err := st.Contact(ctx, model.ContactKey(key))
	if err != nil {
		return apiErr(err, "contact")
	}
	convs, err := st.Conversations(ctx, contact.Key)
	if err != nil {
		return err
	}
	items := make([]conversationItem, 0, len(convs))
	for _, conv := range slices.Backward(convs) {
		if s.mayRead(c, conv) {
			items = append(items, itemOf(conv))
		}
	}
	if len(items) == 0 && !viewer(c).Admin {
		return errContactNotFound
	}
	return c.JSON(fiber.Map{"contact": contact, "window": s.windowOf(contact), "policy": s.policyOf(contact), "conversations": items})
}
