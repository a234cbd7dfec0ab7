package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/ui/auth"
)

// inboxRoutes registers the agents' inbox under /api/v1/inbox: queues
// and agents (admin manages, agents read and set their own status), the
// conversations handed off (listing, one whole, claim, transfer, reply,
// template, note, tags, resolve, read), canned responses, the templates
// an agent may send, and the live events (inbox_sse.go). The same API
// serves the web inbox and an external CRM acting as the agent desk with
// an API token.
//
// Agents see only the conversations of their queues and those assigned
// to them: others are 404, in listings and by id alike. Admins see all.
// Customer text comes back as JSON string data: whoever shows it escapes
// it.
//
// The routes exist only when the server has an inbox (Config.Inbox).
func (s *Server) inboxRoutes(api fiber.Router) {
	if s.cfg.Inbox == nil {
		return
	}
	desk := auth.Require(auth.Admin, auth.Agent)
	admin := auth.Require(auth.Admin)
	editors := auth.Require(auth.Admin, auth.Analyst)
	g := api.Group("/inbox")
	g.Get("/me", desk, s.inboxMe)
	g.Put("/me/status", desk, s.inboxSetMyStatus)
	g.Get("/events", desk, s.inboxEvents)

	g.Get("/queues", desk, s.inboxQueues)
	g.Get("/handoff-queues", editors, s.inboxHandoffQueues)
	g.Put("/queues/:id", admin, s.inboxPutQueue)
	g.Delete("/queues/:id", admin, s.inboxDeleteQueue)

	g.Get("/agents", desk, s.inboxAgents)
	g.Put("/agents/:email", admin, s.inboxPutAgent)
	g.Delete("/agents/:email", admin, s.inboxDeleteAgent)
	g.Put("/agents/:email/status", admin, s.inboxSetAgentStatus)

	g.Get("/conversations", desk, s.inboxList)
	g.Get("/conversations/:id", desk, s.inboxConversation)
	g.Post("/conversations/:id/claim", desk, s.inboxClaim)
	g.Post("/conversations/:id/transfer", desk, s.inboxTransfer)
	g.Post("/conversations/:id/reply", desk, s.inboxReply)
	g.Post("/conversations/:id/template", desk, s.inboxTemplate)
	g.Post("/conversations/:id/notes", desk, s.inboxNote)
	g.Put("/conversations/:id/tags", desk, s.inboxTags)
	g.Post("/conversations/:id/resolve", desk, s.inboxResolve)
	g.Post("/conversations/:id/read", desk, s.inboxRead)
	g.Post("/conversations/:id/typing", desk, s.inboxTyping)
	g.Get("/conversations/:id/media/:seq", desk, s.inboxMedia)

	g.Get("/canned", desk, s.inboxCanned)
	g.Post("/canned", admin, s.inboxPutCanned)
	g.Put("/canned/:id", admin, s.inboxPutCanned)
	g.Delete("/canned/:id", admin, s.inboxDeleteCanned)

	g.Get("/templates", desk, s.inboxTemplates)
}

// viewer is who the request acts for, as the inbox sees them.
func viewer(c *fiber.Ctx) inbox.Viewer {
	u := auth.Current(c)
	if u == nil {
		return inbox.Viewer{}
	}
	return inbox.Viewer{Email: u.Email, Admin: u.Has(auth.Admin)}
}

// inboxErr turns an inbox or engine error into the HTTP error.
func inboxErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, inbox.ErrNotFound), errors.Is(err, model.ErrNotFound):
		return fiber.NewError(fiber.StatusNotFound, what+" not found")
	case errors.Is(err, inbox.ErrInvalid):
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	case errors.Is(err, inbox.ErrForbidden):
		return fiber.NewError(fiber.StatusForbidden, err.Error())
	case errors.Is(err, inbox.ErrConflict):
		return fiber.NewError(fiber.StatusConflict, err.Error())
	case errors.Is(err, engine.ErrWindowClosed):
		return fiber.NewError(fiber.StatusConflict, "the 24-hour window is closed: only a template may be sent (POST …/template)")
	case errors.Is(err, engine.ErrNoConversation), errors.Is(err, engine.ErrStaleHandoff):
		return fiber.NewError(fiber.StatusConflict, what+" is no longer handed off to an agent")
	case errors.Is(err, engine.ErrTemplateBlocked):
		return fiber.NewError(fiber.StatusUnprocessableEntity, err.Error())
	}
	return err
}

// readBody decodes a JSON body, unknown fields refused.
func readBody(c *fiber.Ctx, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(c.Body())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "malformed JSON body: "+err.Error())
	}
	return nil
}

// inboxMe is the caller's agent profile (made, offline and in no queue,
// on an agent's first visit), their unread counts, and whether they are
// an admin.
func (s *Server) inboxMe(c *fiber.Ctx) error {
	u, v := auth.Current(c), viewer(c)
	var profile *inbox.AgentView
	if u.Has(auth.Agent) {
		a, err := s.cfg.Inbox.EnsureAgent(c.UserContext(), u.Email, u.Name)
		if err != nil {
			return inboxErr(err, "agent")
		}
		profile = &a
	} else if a, err := s.cfg.Inbox.Agent(u.Email); err == nil {
		profile = &a
	}
	mine, waiting := s.cfg.Inbox.Unread(v)
	return c.JSON(fiber.Map{
		"email": u.Email, "name": u.Name, "admin": v.Admin, "agent": profile,
		"unread": fiber.Map{"mine": mine, "waiting": waiting},
	})
}

type statusRequest struct {
	Status inbox.Status `json:"status"`
}

func (s *Server) inboxSetMyStatus(c *fiber.Ctx) error {
	var req statusRequest
	if err := readBody(c, &req); err != nil {
		return err
	}
	u := auth.Current(c)
	if _, err := s.cfg.Inbox.EnsureAgent(c.UserContext(), u.Email, u.Name); err != nil {
		return inboxErr(err, "agent")
	}
	a, err := s.cfg.Inbox.SetStatus(c.UserContext(), u.Email, req.Status)
	if err != nil {
		return inboxErr(err, "agent")
	}
	return c.JSON(a)
}

// inboxQueues lists the queues with their counts; an agent gets the
// queues they work, their waiting count without the conversations on
// numbers the queue does not serve. number= keeps those that serve that
// business number (a conversation's: where it may be transferred).
func (s *Server) inboxQueues(c *fiber.Ctx) error {
	v := viewer(c)
	number := c.Query("number")
	all := s.cfg.Inbox.Queues()
	out := make([]inbox.QueueView, 0, len(all))
	mine := s.cfg.Inbox.QueuesOf(v)
	for _, q := range all {
		if (v.Admin || contains(mine, q.ID)) && (number == "" || q.Serves(number)) {
			if !v.Admin {
				// An agent does not see those (engine/inbox/doc.go).
				q.Waiting, q.OffNumber = q.Waiting-q.OffNumber, 0
			}
			out = append(out, q)
		}
	}
	return c.JSON(fiber.Map{"queues": out})
}

// inboxHandoffQueues lists the queues a flow's handoff may name, for the
// flow editor's queue picker: each with how many agents serve it, whether
// one is online and the numbers it serves, and no conversations.
// numbers= (phone number ids, comma-separated: the flow's) keeps those
// that serve at least one of them. Analysts may read it: they build the
// handoffs, and a queue no agent serves leaves customers waiting
// (CheckHandoffs warns of it at save and publish).
func (s *Server) inboxHandoffQueues(c *fiber.Ctx) error {
	var numbers []string
	for _, n := range strings.Split(c.Query("numbers"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			numbers = append(numbers, n)
		}
	}
	return c.JSON(fiber.Map{"queues": s.cfg.Inbox.HandoffQueues(numbers...)})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (s *Server) inboxPutQueue(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	var q inbox.Queue
	if err := readBody(c, &q); err != nil {
		return err
	}
	if q.ID != "" && q.ID != id {
		return fiber.NewError(fiber.StatusBadRequest, "the body's id differs from the path's")
	}
	q.ID = id
	q, err = s.cfg.Inbox.PutQueue(c.UserContext(), q)
	if err != nil {
		return inboxErr(err, "queue")
	}
	return c.JSON(q)
}

func (s *Server) inboxDeleteQueue(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	if err := s.cfg.Inbox.DeleteQueue(c.UserContext(), id); err != nil {
		return inboxErr(err, "queue")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) inboxAgents(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"agents": s.cfg.Inbox.Agents()})
}

func (s *Server) inboxPutAgent(c *fiber.Ctx) error {
	email, err := param(c, "email")
	if err != nil {
		return err
	}
	var a inbox.Agent
	if err := readBody(c, &a); err != nil {
		return err
	}
	if a.Email != "" && !strings.EqualFold(a.Email, email) {
		return fiber.NewError(fiber.StatusBadRequest, "the body's email differs from the path's")
	}
	a.Email = email
	if s.cfg.Auth != nil {
		u, err := s.cfg.Auth.User(c.UserContext(), email)
		switch {
		case err != nil:
			return fiber.NewError(fiber.StatusBadRequest, "no user "+email+": create the user with the agent role first")
		case !u.Has(auth.Agent):
			return fiber.NewError(fiber.StatusBadRequest, "user "+email+" does not have the agent role")
		case a.Name == "":
			a.Name = u.Name
		}
	}
	v, err := s.cfg.Inbox.PutAgent(c.UserContext(), a)
	if err != nil {
		return inboxErr(err, "agent")
	}
	return c.JSON(v)
}

func (s *Server) inboxDeleteAgent(c *fiber.Ctx) error {
	email, err := param(c, "email")
	if err != nil {
		return err
	}
	if err := s.cfg.Inbox.DeleteAgent(c.UserContext(), email); err != nil {
		return inboxErr(err, "agent")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) inboxSetAgentStatus(c *fiber.Ctx) error {
	email, err := param(c, "email")
	if err != nil {
		return err
	}
	var req statusRequest
	if err := readBody(c, &req); err != nil {
		return err
	}
	a, err := s.cfg.Inbox.SetStatus(c.UserContext(), strings.ToLower(email), req.Status)
	if err != nil {
		return inboxErr(err, "agent")
	}
	return c.JSON(a)
}

// inboxList lists handed-off conversations: view=mine (the caller's),
// view=unassigned (waiting), or all they may see; queue= narrows it.
func (s *Server) inboxList(c *fiber.Ctx) error {
	f := inbox.ListFilter{Queue: c.Query("queue")}
	switch c.Query("view") {
	case "mine":
		f.Mine = true
	case "unassigned":
		f.Unassigned = true
	case "", "all":
	default:
		return fiber.NewError(fiber.StatusBadRequest, "view must be mine, unassigned or all")
	}
	v := viewer(c)
	items := s.cfg.Inbox.List(v, f)
	mine, waiting := s.cfg.Inbox.Unread(v)
	return c.JSON(fiber.Map{"conversations": items, "unread": fiber.Map{"mine": mine, "waiting": waiting}})
}

// contactView is what the inbox shows of a contact: details, consent and
// tags.
type contactView struct {
	Key             model.ContactKey     `json:"key"`
	Name            string               `json:"name,omitempty"`
	WaID            string               `json:"wa_id,omitempty"`
	Language        string               `json:"language,omitempty"`
	Tags            []string             `json:"tags"`
	Fields          map[string]any       `json:"fields,omitempty"`
	OptedIn         bool                 `json:"opted_in"`
	OptedOut        bool                 `json:"opted_out"`
	MarketingOptOut bool                 `json:"marketing_opt_out"`
	Consent         []model.ConsentEvent `json:"consent"`
	Unreachable     bool                 `json:"unreachable,omitempty"`
}

func contactViewOf(c *model.Contact) contactView {
	v := contactView{
		Key: c.Key, Name: c.Name, WaID: c.WaID, Language: c.Language, Tags: c.Tags, Fields: c.Fields,
		OptedIn: c.OptedIn, OptedOut: c.OptedOut, MarketingOptOut: c.MarketingOptOut, Consent: c.Consent,
		Unreachable: c.Unreachable,
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if v.Consent == nil {
		v.Consent = []model.ConsentEvent{}
	}
	return v
}

// visibleConversation loads a conversation the caller may see, or 404.
func (s *Server) visibleConversation(c *fiber.Ctx) (*model.Conversation, error) {
	id, err := conversationParam(c)
	if err != nil {
		return nil, err
	}
	conv, err := s.cfg.Engine.Store().Conversation(c.UserContext(), id)
	if err != nil {
		return nil, apiErr(err, "conversation")
	}
	if !s.cfg.Inbox.CanSee(viewer(c), conv) {
		return nil, fiber.NewError(fiber.StatusNotFound, "conversation not found")
	}
	return conv, nil
}

// inboxConversation is one conversation whole for the agent: the
// conversation, its place in the inbox (absent once it left), the contact
// (details, consent, tags), the window, what the reply box may send, and
// the transcript with delivery states and failure reasons. Opening it
// marks it read for its agent.
func (s *Server) inboxConversation(c *fiber.Ctx) error {
	conv, err := s.visibleConversation(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	transcript, contact, err := s.transcriptAndContact(ctx, conv)
	if err != nil {
		return err
	}
	v := viewer(c)
	out := fiber.Map{
		"conversation": conv, "contact": contactViewOf(contact), "window": s.windowOf(contact), "transcript": transcript,
		"number": s.numberOf(conv.Contact),
	}
	if it, err := s.cfg.Inbox.Item(conv.ID); err == nil {
		out["inbox"] = it
		if it.Assignee == v.Email {
			if err := s.cfg.Inbox.MarkRead(ctx, conv.ID); err != nil {
				// The count is zero now; only a restart would count
				// these messages again.
				s.log.Error("marking a conversation read", "conversation", conv.ID, "err", err)
			}
		}
	}
	w := s.windowOf(contact)
	reply := fiber.Map{"freeform": w.Open && conv.Status == model.Agent, "template": conv.Status == model.Agent}
	switch {
	case conv.Status != model.Agent:
		reply["reason"] = "the conversation is not handed off to an agent"
	case !w.Open:
		reply["reason"] = "the 24-hour window is closed: only a template may be sent"
	}
	out["reply"] = reply
	return c.JSON(out)
}

func (s *Server) inboxClaim(c *fiber.Ctx) error {
	id, err := conversationParam(c)
	if err != nil {
		return err
	}
	it, err := s.cfg.Inbox.Claim(c.UserContext(), viewer(c), id)
	if err != nil {
		return inboxErr(err, "conversation")
	}
	return c.JSON(it)
}

type transferRequest struct {
	Queue string `json:"queue"`
	Agent string `json:"agent"`
}

func (s *Server) inboxTransfer(c *fiber.Ctx) error {
	id, err := conversationParam(c)
	if err != nil {
		return err
	}
	var req transferRequest
	if err := readBody(c, &req); err != nil {
		return err
	}
	if req.Queue == "" && req.Agent == "" {
		return fiber.NewError(fiber.StatusBadRequest, "name a queue, an agent or both")
	}
	it, err := s.cfg.Inbox.Transfer(c.UserContext(), viewer(c), id, req.Queue, strings.ToLower(strings.TrimSpace(req.Agent)))
	if err != nil {
		return inboxErr(err, "conversation")
	}
	return c.JSON(it)
}

// takeForWrite checks that the caller may write to the conversation
// (inbox.TakeForReply; claim: an agent takes a waiting one first).
func (s *Server) takeForWrite(c *fiber.Ctx, claim bool) (string, error) {
	id, err := conversationParam(c)
	if err != nil {
		return "", err
	}
	if err := s.cfg.Inbox.TakeForReply(c.UserContext(), viewer(c), id, claim); err != nil {
		return "", inboxErr(err, "conversation")
	}
	return id, nil
}

type replyRequest struct {
	Text   string `json:"text"`
	Canned string `json:"canned"`
}

// inboxReply sends a free-form text (or a canned response) to the
// customer: only while the window is open, else 409 (send a template).
// An agent replying to a waiting conversation claims it.
func (s *Server) inboxReply(c *fiber.Ctx) error {
	var req replyRequest
	if err := readBody(c, &req); err != nil {
		return err
	}
	if req.Canned != "" {
		cr, err := s.cfg.Inbox.Canned(req.Canned)
		if err != nil {
			return inboxErr(err, "canned response")
		}
		req.Text = cr.Text
	}
	if strings.TrimSpace(req.Text) == "" || utf8.RuneCountInString(req.Text) > engine.MaxAgentText {
		return fiber.NewError(fiber.StatusBadRequest, "text holds 1 to 4096 characters")
	}
	id, err := s.takeForWrite(c, true)
	if err != nil {
		return err
	}
	u := auth.Current(c)
	m := flows.Message{Type: flows.MsgText, Text: req.Text}
	if err := s.cfg.Engine.AgentSend(c.UserContext(), id, u.Email, m); err != nil {
		return inboxErr(err, "conversation")
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"queued": true})
}

// inboxTemplate sends an approved template, inside or outside the window;
// one that may not be sent is 422 with the reason.
func (s *Server) inboxTemplate(c *fiber.Ctx) error {
	var req flows.TemplateSend
	if err := readBody(c, &req); err != nil {
		return err
	}
	if req.Name == "" || req.Language == "" {
		return fiber.NewError(fiber.StatusBadRequest, "name and language are required")
	}
	conv, err := conversationParam(c)
	if err != nil {
		return err
	}
	if err := checkTemplateParams(s.cfg.Engine, engine.ConversationContact(conv).PhoneNumberID(), &req); err != nil {
		return err
	}
	id, err := s.takeForWrite(c, true)
	if err != nil {
		return err
	}
	if err := s.cfg.Engine.AgentSendTemplate(c.UserContext(), id, auth.Current(c).Email, req); err != nil {
		return inboxErr(err, "conversation")
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"queued": true})
}

// checkTemplateParams holds an agent's template, sent from business number
// number, to what the registry says it takes in that number's WABA (GET
// /inbox/templates), by the engine's one check of a template send
// (templates.CheckTemplateSend): every part filled with the kind it
// takes, buttons at their positions, no parameter empty or breaking
// WhatsApp's text rules. 422 otherwise, in the agent's terms. A template
// the registry does not know is left to the engine, which refuses it with
// its reason.
func checkTemplateParams(eng *engine.Engine, number string, req *flows.TemplateSend) error {
	id := req.Name + "/" + req.Language
	for i, p := range req.Params() {
		if utf8.RuneCountInString(p) > engine.MaxAgentText {
			return fiber.NewError(fiber.StatusUnprocessableEntity, fmt.Sprintf("template %s: parameter %d is longer than %d characters", id, i+1, engine.MaxAgentText))
		}
	}
	info, ok := eng.TemplateFrom(number, req.Name, req.Language) // the templates of the number's WABA
	if !ok {
		return nil
	}
	var msgs []string
	for _, p := range templates.CheckTemplateSend(info, req, true) {
		if p.Kind != templates.ProblemWarning {
			msgs = append(msgs, p.String())
		}
	}
	if len(msgs) > 0 {
		return fiber.NewError(fiber.StatusUnprocessableEntity, fmt.Sprintf("template %s: %s", id, strings.Join(msgs, "; ")))
	}
	return nil
}

type noteRequest struct {
	Text string `json:"text"`
}

func (s *Server) inboxNote(c *fiber.Ctx) error {
	var req noteRequest
	if err := readBody(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Text) == "" || utf8.RuneCountInString(req.Text) > engine.MaxNoteText {
		return fiber.NewError(fiber.StatusBadRequest, "a note holds 1 to 4096 characters")
	}
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	if err := s.cfg.Inbox.TakeForReply(c.UserContext(), viewer(c), id, false); err != nil && !errors.Is(err, inbox.ErrConflict) {
		// A colleague may leave a note on a conversation someone else holds.
		return inboxErr(err, "conversation")
	}
	if err := s.cfg.Engine.AddNote(c.UserContext(), id, auth.Current(c).Email, req.Text); err != nil {
		return inboxErr(err, "conversation")
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"noted": true})
}

type tagsRequest struct {
	Tags []string `json:"tags"`
}

func (s *Server) inboxTags(c *fiber.Ctx) error {
	var req tagsRequest
	if err := readBody(c, &req); err != nil {
		return err
	}
	conv, err := s.visibleConversation(c)
	if err != nil {
		return err
	}
	contact, err := s.cfg.Engine.SetTags(c.UserContext(), conv.Contact, req.Tags)
	if err != nil {
		if errors.Is(err, model.ErrNotFound) {
			return apiErr(err, "contact")
		}
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	return c.JSON(contactViewOf(contact))
}

// MaxOutcomeRunes caps a resolution's outcome: a short code a flow
// branches on ("refunded"), not a report.
const MaxOutcomeRunes = 100

type resolveRequest struct {
	Outcome string `json:"outcome"`
}

// inboxResolve gives the conversation back to the bot: the flow resumes at
// the handoff node's next with vars.handoff_outcome.
func (s *Server) inboxResolve(c *fiber.Ctx) error {
	var req resolveRequest
	if len(c.Body()) > 0 {
		if err := readBody(c, &req); err != nil {
			return err
		}
	}
	req.Outcome = strings.TrimSpace(req.Outcome)
	if utf8.RuneCountInString(req.Outcome) > MaxOutcomeRunes {
		return fiber.NewError(fiber.StatusBadRequest, "outcome is longer than 100 characters")
	}
	id, err := s.takeForWrite(c, false)
	if err != nil {
		return err
	}
	if err := s.cfg.Engine.ResolveConversation(c.UserContext(), id, auth.Current(c).Email, req.Outcome); err != nil {
		return inboxErr(err, "conversation")
	}
	conv, err := s.cfg.Engine.Store().Conversation(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"conversation": itemOf(conv), "outcome": req.Outcome})
}

func (s *Server) inboxRead(c *fiber.Ctx) error {
	conv, err := s.visibleConversation(c)
	if err != nil {
		return err
	}
	if err := s.cfg.Inbox.MarkRead(c.UserContext(), conv.ID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// Typing shows a conversation's customer a typing indicator:
// *engine.Receipts.
type Typing interface {
	Typing(ctx context.Context, conversation string) (bool, error)
}

// inboxTyping tells the customer an agent is typing (the web app calls it
// at most every few seconds while the agent types): 200 {"shown": bool}.
// Not shown is no error: typing indicators are off, the window is closed,
// or WhatsApp refused it (logged and counted). The agent must be able to
// reply: a conversation held by another agent is 409.
func (s *Server) inboxTyping(c *fiber.Ctx) error {
	id, err := s.takeForWrite(c, false)
	if err != nil {
		return err
	}
	shown := false
	if s.cfg.Typing != nil {
		if shown, err = s.cfg.Typing.Typing(c.UserContext(), id); err != nil {
			return inboxErr(err, "conversation")
		}
	}
	return c.JSON(fiber.Map{"shown": shown})
}

// inboxCanned lists the canned responses: an admin all, an agent those of
// their queues and the shared ones; queue= narrows to one queue's.
func (s *Server) inboxCanned(c *fiber.Ctx) error {
	v := viewer(c)
	var list []inbox.Canned
	if q := c.Query("queue"); q != "" {
		list = s.cfg.Inbox.CannedFor([]string{q}, false)
		if !v.Admin && !contains(s.cfg.Inbox.QueuesOf(v), q) {
			list = s.cfg.Inbox.CannedFor(nil, false)
		}
	} else {
		list = s.cfg.Inbox.CannedFor(s.cfg.Inbox.QueuesOf(v), v.Admin)
	}
	if list == nil {
		list = []inbox.Canned{}
	}
	return c.JSON(fiber.Map{"canned": list})
}

func (s *Server) inboxPutCanned(c *fiber.Ctx) error {
	var cr inbox.Canned
	if err := readBody(c, &cr); err != nil {
		return err
	}
	status := fiber.StatusCreated
	if c.Method() == fiber.MethodPut {
		id, err := param(c, "id")
		if err != nil {
			return err
		}
		cr.ID, status = id, fiber.StatusOK
	} else {
		cr.ID = ""
	}
	cr, err := s.cfg.Inbox.PutCanned(c.UserContext(), cr)
	if err != nil {
		return inboxErr(err, "canned response")
	}
	return c.Status(status).JSON(cr)
}

func (s *Server) inboxDeleteCanned(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	if err := s.cfg.Inbox.DeleteCanned(c.UserContext(), id); err != nil {
		return inboxErr(err, "canned response")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// inboxTemplate is a template the reply box offers once the window has
// closed: approved, with the parameters it takes.
type inboxTemplate struct {
	Name         string `json:"name"`
	Language     string `json:"language"`
	Category     string `json:"category,omitempty"`
	HeaderParams int    `json:"header_params"`
	BodyParams   int    `json:"body_params"`
	QuickReplies int    `json:"quick_replies"`
	// Texts let the agent read what the customer will get.
	Texts model.TemplateTexts `json:"texts,omitzero"`
	// Shape is what the agent fills, part by part (media header, named
	// variables, buttons, cards, an offer's end).
	Shape *model.TemplateShape `json:"shape,omitempty"`
	// WABAID is the WhatsApp Business Account the template belongs to.
	WABAID string `json:"waba_id,omitempty"`
	// Refused, with ?conversation=, says why sending it in that
	// conversation now would be refused (engine.TemplateRefusal): the
	// inbox marks it before the agent fills it in.
	Refused string `json:"refused,omitempty"`
}

// inboxTemplates lists the templates an agent may send; with
// ?conversation=ID (one the caller may see), each says whether it would
// be refused to that conversation's customer now, and why.
func (s *Server) inboxTemplates(c *fiber.Ctx) error {
	var contact model.ContactKey
	if c.Query("conversation") != "" {
		id, err := url.QueryUnescape(c.Query("conversation"))
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "malformed conversation id")
		}
		conv, err := s.cfg.Engine.Store().Conversation(c.UserContext(), id)
		if err != nil || !s.mayRead(c, conv) {
			return fiber.NewError(fiber.StatusNotFound, "conversation not found")
		}
		contact = conv.Contact
	}
	out := []inboxTemplate{}
	if s.cfg.Templates != nil {
		// ?phone_number_id= keeps the templates that number may send: those
		// of its WABA (the default one for a number that names none).
		waba, only := "", c.Query("phone_number_id")
		if only != "" && s.cfg.Engine != nil {
			waba = s.cfg.Templates.DefaultWABA()
			for _, n := range s.cfg.Engine.PhoneNumbers() {
				if n.ID == only && n.WABAID != "" {
					waba = n.WABAID
				}
			}
		}
		for _, r := range s.cfg.Templates.List() {
			if r.Status != model.TemplateApproved || r.Incomplete || only != "" && r.WABAID != waba {
				continue
			}
			t := inboxTemplate{
				Name: r.Name, Language: r.Language, Category: r.Category,
				HeaderParams: r.HeaderParams, BodyParams: r.BodyParams, QuickReplies: r.QuickReplies, Texts: r.Texts, Shape: r.Shape,
				WABAID: r.WABAID,
			}
			if contact != "" {
				why, err := s.cfg.Engine.TemplateRefusal(c.UserContext(), contact, r.Name, r.Language)
				if err != nil {
					return err
				}
				t.Refused = why
			}
			out = append(out, t)
		}
	}
	return c.JSON(fiber.Map{"templates": out})
}

// mayRead reports whether the caller may read a conversation through the
// conversations API: an admin any, an agent those of their queues and
// those assigned to them (the inbox's rule); without an inbox, an agent
// none.
func (s *Server) mayRead(c *fiber.Ctx, conv *model.Conversation) bool {
	v := viewer(c)
	if v.Admin {
		return true
	}
	return s.cfg.Inbox != nil && s.cfg.Inbox.CanSee(v, conv)
}

// readsLog reports whether the caller reads every conversation of the
// log: admins, and analysts, who build the flows it shows the runs of.
// Agents read the conversations of their queues (mayRead).
func (s *Server) readsLog(c *fiber.Ctx) bool {
	return viewer(c).Admin || auth.Current(c).Has(auth.Analyst)
}

// scopedConversations is Store.ListConversations for the caller, keeping
// only those keep passes (nil: all): an agent's pages hold only what they
// may read. A page so thinned is filled from the following pages of the
// store (up to maxScopedScans of them, so a listing that keeps little
// stays bounded; an early short page still carries next_cursor).
func (s *Server) scopedConversations(c *fiber.Ctx, f model.ConversationFilter, keep func(*model.Conversation) bool) ([]*model.Conversation, string, error) {
	st := s.cfg.Engine.Store()
	all := s.readsLog(c)
	if all && keep == nil {
		return st.ListConversations(c.UserContext(), f)
	}
	const maxScopedScans = 20
	limit := f.Limit
	var out []*model.Conversation
	for range maxScopedScans {
		convs, next, err := st.ListConversations(c.UserContext(), f)
		if err != nil {
			return nil, "", err
		}
		for _, conv := range convs {
			if (!all && !s.mayRead(c, conv)) || (keep != nil && !keep(conv)) {
				continue
			}
			out = append(out, conv)
			if len(out) == limit {
				return out, model.ConversationCursor(conv), nil
			}
		}
		if next == "" {
			return out, "", nil
		}
		f.Cursor = next
	}
	return out, f.Cursor, nil
}

// numberView is the business number a conversation is on.
type numberView struct {
	PhoneNumberID      string `json:"phone_number_id"`
	DisplayPhoneNumber string `json:"display_phone_number,omitempty"`
}

func (s *Server) numberOf(k model.ContactKey) numberView {
	v := numberView{PhoneNumberID: k.PhoneNumberID()}
	for _, n := range s.cfg.Engine.PhoneNumbers() {
		if n.ID == v.PhoneNumberID {
			v.DisplayPhoneNumber = n.Display
		}
	}
	return v
}
