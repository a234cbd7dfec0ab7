package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	gomime "mime"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/httpcall"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/engine/script"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/ui/auth"
)

// Test chat bounds.
const (
	// MaxTestChatAdvance bounds one clock advance: past a flow's longest
	// sensible wait (expiries are days), short of simulating months.
	MaxTestChatAdvance = 30 * 24 * time.Hour
	// maxChatText is WhatsApp's limit on a text message's body.
	maxChatText = 4096
)

// testChatRoutes registers the test chat API: the editor's phone-like
// panel talks to a flow as a sandbox customer, on an engine, store and
// clock of its own (testchat.go), never the production conversations.
//
//	POST   /flows/:id/test       {doc?, node?, contact?} → 201 TestChat (422 for an invalid flow)
//	POST   /test/route           {text, contact?}   → 201 TestChat of the flow the published triggers start (422: none)
//	GET    /test/:sid                               → TestChat
//	DELETE /test/:sid                               → 204
//	POST   /test/:sid/reply      {text} | {button_id} | {list_id} | {location} | {media} → TestChat
//	POST   /test/:sid/advance    {duration: "25h"}   → TestChat (409 while a call waits for its answer)
//	POST   /test/:sid/call       {status, body?} | {error: "timeout"|"network"} → TestChat (409 when no call waits)
//	POST   /test/:sid/agent      {text} | {resolve: outcome} → TestChat (409: not handed off)
//
// contact is who the customer is (script.Profile): name, language, tags,
// fields, opted_in.
func (s *Server) testChatRoutes(api fiber.Router) {
	if s.testChats == nil {
		s.testChats = newTestChats(s.log, s.cfg.TestChatStore)
		if eng := s.cfg.Engine; eng != nil {
			s.testChats.caller, s.testChats.secrets = eng.HTTPCaller(), eng.SecretResolver()
		}
	}
	api.Post("/flows/:id/test", auth.Require(auth.Admin, auth.Analyst), s.startTestChat)
	api.Get("/test/:sid", auth.Require(auth.Admin, auth.Analyst), s.getTestChat)
	api.Delete("/test/:sid", auth.Require(auth.Admin, auth.Analyst), s.deleteTestChat)
	api.Post("/test/:sid/reply", auth.Require(auth.Admin, auth.Analyst), s.replyTestChat)
	api.Post("/test/:sid/advance", auth.Require(auth.Admin, auth.Analyst), s.advanceTestChat)
	api.Post("/test/:sid/call", auth.Require(auth.Admin, auth.Analyst), s.answerTestChatCall)
	api.Post("/test/:sid/agent", auth.Require(auth.Admin, auth.Analyst), s.agentTestChat)
	api.Post("/test/route", auth.Require(auth.Admin, auth.Analyst), s.routeTestChat)
}

// testChatView is a test chat as the API shows it.
type testChatView struct {
	ID   string `json:"id"`
	Flow string `json:"flow"`
	// Now is the chat's simulated time.
	Now time.Time `json:"now"`
	// Status is the conversation's: active, waiting, agent, ended,
	// expired, failed; "none" before any.
	Status string         `json:"status"`
	Node   string         `json:"node"`
	Vars   map[string]any `json:"vars"`
	Window chatWindow     `json:"window"`
	// Messages are the transcripts of the customer's conversations, oldest
	// first.
	Messages []chatMessage `json:"messages"`
	// Calls is how the chat's http calls are answered: "real" (made) or
	// "hand" (the analyst answers each: HeldCall is the one waiting).
	Calls    string           `json:"calls"`
	HeldCall *engine.HeldCall `json:"held_call,omitempty"`
	// Route, in a routing test, is the flow the first message started and
	// the trigger that chose it.
	Route *engine.Route `json:"route,omitempty"`
}

// chatWindow is the customer's 24-hour window; ClosesAt is null when it
// never opened or WhatsApp closed it early.
type chatWindow struct {
	Open     bool       `json:"open"`
	ClosesAt *time.Time `json:"closes_at"`
}

// chatMessage is one transcript entry.
type chatMessage struct {
	Conversation string              `json:"conversation"`
	Seq          uint64              `json:"seq"`
	Direction    model.Direction     `json:"dir"`
	Sender       string              `json:"sender"`
	At           time.Time           `json:"at"`
	Node         string              `json:"node"`
	Inbound      *flows.Reply        `json:"inbound,omitempty"`
	Message      *flows.Message      `json:"message,omitempty"`
	Template     *flows.TemplateSend `json:"template,omitempty"`
	Text         string              `json:"text,omitempty"`
	State        model.MessageState  `json:"state"`
	// Call is an http step's attempt, on a note (secrets masked).
	Call *model.CallRecord `json:"call,omitempty"`
}

// chat finds the chat named in the path and locks it; the caller unlocks.
func (s *Server) chat(c *fiber.Ctx) (*testChat, error) {
	id, err := param(c, "sid")
	if err != nil {
		return nil, err
	}
	tc := s.testChats.get(id)
	if tc == nil {
		return nil, fiber.NewError(fiber.StatusNotFound, "test chat not found (it may have been idle too long)")
	}
	tc.mu.Lock()
	if tc.sess == nil { // closed while this request waited
		tc.mu.Unlock()
		return nil, fiber.NewError(fiber.StatusNotFound, "test chat not found (it may have been idle too long)")
	}
	return tc, nil
}

// view renders a chat; the caller holds its lock.
func (s *Server) view(c *fiber.Ctx, tc *testChat) (*testChatView, error) {
	ctx, sess := c.UserContext(), tc.sess
	v := &testChatView{ID: tc.id, Flow: sess.Flow(), Now: sess.Now(), Status: "none", Vars: map[string]any{}, Messages: []chatMessage{}, Calls: "real"}
	if sess.ByHand() {
		v.Calls = "hand"
		held, err := sess.HeldCall(ctx)
		if err != nil {
			return nil, err
		}
		v.HeldCall = held
	}
	conv, err := sess.Conversation(ctx)
	if err != nil {
		return nil, err
	}
	if conv != nil {
		v.Status, v.Node = string(conv.Status), conv.Node
		if conv.Vars != nil {
			v.Vars = conv.Vars
		}
	}
	cust, err := sess.Customer(ctx)
	if err != nil {
		return nil, err
	}
	if cust != nil {
		v.Window.Open = policy.WindowOpen(cust, sess.Now())
		if exp := policy.WindowExpiry(cust); !exp.IsZero() {
			v.Window.ClosesAt = &exp
		}
	}
	ms, err := sess.Transcript(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		v.Messages = append(v.Messages, chatMessage{
			Conversation: m.Conversation, Seq: m.Seq, Direction: m.Direction, Sender: m.Sender, At: m.At, Node: m.Node,
			Inbound: m.Inbound, Message: m.Message, Template: m.Template, Text: m.Text, State: m.State, Call: m.Call,
		})
	}
	return v, nil
}

// answer renders the chat, releases it, and answers with status.
func (s *Server) answer(c *fiber.Ctx, tc *testChat, status int) error {
	v, err := s.view(c, tc)
	tc.mu.Unlock()
	if err != nil {
		return err
	}
	return c.Status(status).JSON(v)
}

// strictJSON decodes a request body, refusing unknown fields and trailing
// data, with a 400 that says what is wrong.
func strictJSON(body []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("%s: %v", what, err))
	}
	if dec.More() {
		return fiber.NewError(fiber.StatusBadRequest, what+": one JSON object expected")
	}
	return nil
}

// startTestChat starts a chat on the posted document, or on the flow's
// saved draft.
func (s *Server) startTestChat(c *fiber.Ctx) error {
	id, err := flowParam(c)
	if err != nil {
		return err
	}
	var req struct {
		Doc  json.RawMessage `json:"doc"`
		Node string          `json:"node"`
		// Calls: "real" (default) or "hand".
		Calls   string          `json:"calls"`
		Contact *script.Profile `json:"contact"`
	}
	if body := bytes.TrimSpace(c.Body()); len(body) > 0 {
		if err := strictJSON(body, &req, "test chat request"); err != nil {
			return err
		}
	}
	doc := []byte(req.Doc)
	if len(doc) == 0 || string(doc) == "null" {
		rec, err := s.cfg.Engine.Store().Flow(c.UserContext(), id)
		if err != nil {
			return apiErr(err, "flow")
		}
		if len(rec.Draft) == 0 {
			return fiber.NewError(fiber.StatusNotFound, "flow has no saved draft")
		}
		doc = rec.Draft
	} else if len(doc) > flows.MaxFlowBytes {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "flow document over "+strconv.Itoa(flows.MaxFlowBytes)+" bytes")
	}
	f, problems := flows.Parse(doc)
	if f == nil || problems.HasErrors() {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(apiError{Error: engine.ErrInvalidFlow.Error(), Problems: problemsOrEmpty(problems)})
	}
	if f.ID != id {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("the document's id is not the flow's id: %q under flow %q", f.ID, id))
	}
	if req.Calls != "" && req.Calls != "real" && req.Calls != "hand" {
		return fiber.NewError(fiber.StatusBadRequest, `calls is "real" (make the flow's http calls) or "hand" (answer each by hand)`)
	}
	if req.Node != "" && f.Node(req.Node) == nil {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("the flow has no node %q to start at", req.Node))
	}
	if err := checkProfile(req.Contact); err != nil {
		return err
	}
	tc, err := s.testChats.createAs(c.UserContext(), doc, req.Node, req.Calls == "hand", req.Contact, nil)
	if errors.Is(err, errNoTestChatStore) {
		return fiber.NewError(fiber.StatusServiceUnavailable, err.Error())
	}
	if err != nil {
		return fmt.Errorf("starting a test chat of flow %s: %w", id, err)
	}
	tc.mu.Lock()
	if tc.sess == nil {
		tc.mu.Unlock()
		return fiber.NewError(fiber.StatusServiceUnavailable, "test chat closed at once (too many open)")
	}
	return s.answer(c, tc, fiber.StatusCreated)
}

func (s *Server) getTestChat(c *fiber.Ctx) error {
	tc, err := s.chat(c)
	if err != nil {
		return err
	}
	return s.answer(c, tc, fiber.StatusOK)
}

func (s *Server) deleteTestChat(c *fiber.Ctx) error {
	id, err := param(c, "sid")
	if err != nil {
		return err
	}
	if !s.testChats.remove(id) {
		return fiber.NewError(fiber.StatusNotFound, "test chat not found")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// chatReplyRequest is what the customer sends: exactly one field.
type chatReplyRequest struct {
	Text     *string `json:"text"`
	ButtonID *string `json:"button_id"`
	ListID   *string `json:"list_id"`
	Location *struct {
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
		Name      string   `json:"name"`
		Address   string   `json:"address"`
	} `json:"location"`
	// Media is a media message as WhatsApp's webhook describes it: the
	// kind, the MIME type, a caption, and for a document its file name.
	// The file itself is not uploaded: a flow sees only this description
	// (reply.media), never the bytes.
	Media *struct {
		Kind     string `json:"kind"`
		Caption  string `json:"caption"`
		MimeType string `json:"mime_type"`
		Filename string `json:"filename"`
	} `json:"media"`
}

// maxChatFilename bounds a simulated document's file name, in characters.
const maxChatFilename = 240

// chatMediaMIME is the MIME type a simulated media message arrives with.
var chatMediaMIME = map[string]string{
	flows.MsgImage: "image/jpeg", flows.MsgAudio: "audio/ogg", flows.MsgVideo: "video/mp4", flows.MsgDocument: "application/pdf",
}

// errOneReply is the 400 of a reply body without exactly one kind.
const errOneReply = "a reply is exactly one of {text}, {button_id}, {list_id}, {location: {latitude, longitude, name?, address?}}, {media: {kind, caption?, mime_type?, filename?}}"

// reply turns the request into the customer's message; taps are looked up
// in what the chat sent (script.Session.Tap).
func (req *chatReplyRequest) reply(c *fiber.Ctx, tc *testChat) (flows.Reply, error) {
	n := 0
	for _, set := range []bool{req.Text != nil, req.ButtonID != nil, req.ListID != nil, req.Location != nil, req.Media != nil} {
		if set {
			n++
		}
	}
	bad := func(msg string) (flows.Reply, error) {
		return flows.Reply{}, fiber.NewError(fiber.StatusBadRequest, msg)
	}
	if n != 1 {
		return bad(errOneReply)
	}
	switch {
	case req.Text != nil:
		t := *req.Text
		switch {
		case strings.TrimSpace(t) == "":
			return bad("text is empty")
		case !utf8.ValidString(t):
			return bad("text is not UTF-8")
		case utf8.RuneCountInString(t) > maxChatText:
			return bad(fmt.Sprintf("text is over WhatsApp's %d characters", maxChatText))
		}
		return flows.Reply{Type: flows.MsgText, Text: t}, nil
	case req.ButtonID != nil, req.ListID != nil:
		id, list := req.ButtonID, false
		if req.ListID != nil {
			id, list = req.ListID, true
		}
		if *id == "" {
			return bad("the tapped id is empty")
		}
		r, err := tc.sess.Tap(c.UserContext(), *id, list)
		if errors.Is(err, script.ErrNotOffered) {
			return bad(err.Error())
		}
		return r, err
	case req.Location != nil:
		l := req.Location
		switch {
		case l.Latitude == nil || l.Longitude == nil:
			return bad("location needs latitude and longitude")
		case math.Abs(*l.Latitude) > 90 || math.Abs(*l.Longitude) > 180:
			return bad("location is off the globe: latitude within ±90, longitude within ±180")
		}
		return flows.Reply{Type: flows.MsgLocation, Location: &flows.Location{
			Latitude: *l.Latitude, Longitude: *l.Longitude, Name: l.Name, Address: l.Address,
		}}, nil
	default:
		m := req.Media
		mime, ok := chatMediaMIME[m.Kind]
		if !ok {
			return bad(`media kind must be "image", "audio", "video" or "document"`)
		}
		if m.MimeType != "" {
			t, params, err := gomime.ParseMediaType(m.MimeType)
			switch {
			case err != nil || len(t) > 255 || !strings.Contains(t, "/"):
				return bad(fmt.Sprintf("mime_type %.60q is not a MIME type like image/png", m.MimeType))
			case m.Kind != flows.MsgDocument && !strings.HasPrefix(t, m.Kind+"/"):
				return bad(fmt.Sprintf("mime_type %s is not an %s type: send it as a document", t, m.Kind))
			}
			mime = gomime.FormatMediaType(t, params) // as WhatsApp sends a voice note's: audio/ogg; codecs=opus
		}
		if !utf8.ValidString(m.Caption) || utf8.RuneCountInString(m.Caption) > maxChatText {
			return bad(fmt.Sprintf("caption is not UTF-8 text of at most %d characters", maxChatText))
		}
		in := &flows.MediaIn{ID: "media.testchat." + m.Kind, MimeType: mime, Caption: m.Caption}
		switch name := strings.TrimSpace(m.Filename); {
		case m.Kind != flows.MsgDocument && name != "":
			return bad("filename comes only with a document: WhatsApp sends no file name for " + m.Kind)
		case m.Kind != flows.MsgDocument:
		case name == "":
			in.Filename = "document.pdf"
		case !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxChatFilename || strings.ContainsAny(name, "/\\") ||
			strings.IndexFunc(name, unicode.IsControl) >= 0:
			return bad(fmt.Sprintf("filename must be a file's name (no folders, no control characters), at most %d characters", maxChatFilename))
		default:
			in.Filename = name
		}
		return flows.Reply{Type: m.Kind, Media: in}, nil
	}
}

func (s *Server) replyTestChat(c *fiber.Ctx) error {
	var req chatReplyRequest
	if err := strictJSON(c.Body(), &req, "reply"); err != nil {
		return err
	}
	tc, err := s.chat(c)
	if err != nil {
		return err
	}
	r, err := req.reply(c, tc)
	if err == nil {
		err = tc.sess.Send(c.UserContext(), r)
	}
	if err != nil {
		tc.mu.Unlock()
		return err
	}
	return s.answer(c, tc, fiber.StatusOK)
}

func (s *Server) advanceTestChat(c *fiber.Ctx) error {
	var req struct {
		Duration string `json:"duration"`
	}
	if err := strictJSON(c.Body(), &req, "advance"); err != nil {
		return err
	}
	d, err := parseChatDuration(req.Duration)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	tc, err := s.chat(c)
	if err != nil {
		return err
	}
	if err := tc.sess.Advance(c.UserContext(), d); err != nil {
		tc.mu.Unlock()
		if errors.Is(err, script.ErrCallWaiting) {
			return fiber.NewError(fiber.StatusConflict, err.Error())
		}
		return err
	}
	return s.answer(c, tc, fiber.StatusOK)
}

// answerTestChatCall answers the http call the chat holds, as its
// attempt's result: {"status": 200, "body": "…"} (the body is parsed as
// JSON when it is) or {"error": "timeout" | "network"}.
func (s *Server) answerTestChatCall(c *fiber.Ctx) error {
	var req struct {
		Status *int    `json:"status"`
		Body   string  `json:"body"`
		Error  *string `json:"error"`
	}
	if err := strictJSON(c.Body(), &req, "answer"); err != nil {
		return err
	}
	var a script.CallLine
	switch {
	case (req.Status == nil) == (req.Error == nil):
		return fiber.NewError(fiber.StatusBadRequest, `an answer is {"status": 200, "body"?: "…"} or {"error": "timeout" | "network"}`)
	case req.Error != nil && *req.Error == "timeout":
		a.Timeout = true
	case req.Error != nil && *req.Error == "network":
		a.Network = true
	case req.Error != nil:
		return fiber.NewError(fiber.StatusBadRequest, `error is "timeout" or "network"`)
	case *req.Status < 100 || *req.Status > 599:
		return fiber.NewError(fiber.StatusBadRequest, "status is an HTTP status, 100 to 599")
	case len(req.Body) > httpcall.MaxBody:
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes (a real answer that big takes on_error)", httpcall.MaxBody))
	case !utf8.ValidString(req.Body):
		return fiber.NewError(fiber.StatusBadRequest, "body is not UTF-8")
	default:
		a.Status, a.Body = *req.Status, req.Body
	}
	tc, err := s.chat(c)
	if err != nil {
		return err
	}
	if !tc.sess.ByHand() {
		tc.mu.Unlock()
		return fiber.NewError(fiber.StatusConflict, `this chat makes its calls for real: start one with "calls": "hand" to answer them`)
	}
	if err := tc.sess.AnswerChatCall(c.UserContext(), a); err != nil {
		tc.mu.Unlock()
		if errors.Is(err, engine.ErrNoHeldCall) {
			return fiber.NewError(fiber.StatusConflict, "no http call waits for an answer")
		}
		return err
	}
	return s.answer(c, tc, fiber.StatusOK)
}

// parseChatDuration reads a Go duration ("90m", "25h") that may start
// with whole days ("2d", "1d12h"): more than zero, at most
// MaxTestChatAdvance.
func parseChatDuration(s string) (time.Duration, error) {
	var d time.Duration
	rest := strings.TrimSpace(s)
	if i := strings.IndexByte(rest, 'd'); i > 0 {
		days, err := strconv.Atoi(rest[:i])
		if err != nil || days < 0 || days > int(MaxTestChatAdvance/(24*time.Hour)) {
			return 0, fmt.Errorf("duration %q: days must be a whole number up to %d", s, MaxTestChatAdvance/(24*time.Hour))
		}
		d, rest = time.Duration(days)*24*time.Hour, rest[i+1:]
	}
	if rest != "" {
		more, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf(`duration %q: want a duration like "25h", "90m" or "2d"`, s)
		}
		d += more
	}
	switch {
	case s == "":
		return 0, errors.New(`duration is missing: want a duration like "25h", "90m" or "2d"`)
	case d <= 0:
		return 0, fmt.Errorf("duration %q: must be more than zero", s)
	case d > MaxTestChatAdvance:
		return 0, fmt.Errorf("duration %q: at most %s (30d) at a time", s, MaxTestChatAdvance)
	}
	return d, nil
}

// Bounds of a test customer's profile: as a contact's (consent.ContactInput).
const (
	maxProfileTags   = 50
	maxProfileFields = 50
)

// checkProfile refuses a test customer no real contact could be.
func checkProfile(p *script.Profile) error {
	if p == nil {
		return nil
	}
	bad := func(msg string) error { return fiber.NewError(fiber.StatusBadRequest, "contact: "+msg) }
	switch {
	case p.Name != nil && utf8.RuneCountInString(*p.Name) > 256:
		return bad("name is over 256 characters")
	case p.Language != nil && len(*p.Language) > 16:
		return bad("language is a code such as en_US")
	case len(p.Tags) > maxProfileTags:
		return bad(fmt.Sprintf("at most %d tags", maxProfileTags))
	case len(p.Fields) > maxProfileFields:
		return bad(fmt.Sprintf("at most %d fields", maxProfileFields))
	}
	return nil
}

// agentTestChat acts as the agent of a handed-off test conversation:
// {text} replies, {resolve: outcome} hands it back to the flow.
func (s *Server) agentTestChat(c *fiber.Ctx) error {
	var req struct {
		Text    *string `json:"text"`
		Resolve *string `json:"resolve"`
	}
	if err := strictJSON(c.Body(), &req, "agent"); err != nil {
		return err
	}
	if (req.Text == nil) == (req.Resolve == nil) {
		return fiber.NewError(fiber.StatusBadRequest, "agent: exactly one of {text} or {resolve: outcome}")
	}
	if req.Text != nil && (strings.TrimSpace(*req.Text) == "" || utf8.RuneCountInString(*req.Text) > maxChatText) {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("agent: text holds 1 to %d characters", maxChatText))
	}
	tc, err := s.chat(c)
	if err != nil {
		return err
	}
	if req.Text != nil {
		err = tc.sess.AgentReply(c.UserContext(), *req.Text)
	} else {
		err = tc.sess.AgentResolve(c.UserContext(), *req.Resolve)
	}
	switch {
	case errors.Is(err, engine.ErrNoConversation):
		tc.mu.Unlock()
		return fiber.NewError(fiber.StatusConflict, "the conversation is not with an agent: only a handoff node hands it to one")
	case errors.Is(err, engine.ErrWindowClosed):
		tc.mu.Unlock()
		return fiber.NewError(fiber.StatusConflict, "the 24-hour window is closed: an agent may send only a template")
	case err != nil:
		tc.mu.Unlock()
		return err
	}
	return s.answer(c, tc, fiber.StatusOK)
}

// routeTestChat starts a test chat from a customer's first message, as
// production would: the published triggers pick the flow (engine.RouteFor),
// whose published version then answers in a sandbox. 422 when no trigger
// matches: that message would start no flow.
func (s *Server) routeTestChat(c *fiber.Ctx) error {
	var req struct {
		Text    string          `json:"text"`
		Contact *script.Profile `json:"contact"`
	}
	if err := strictJSON(c.Body(), &req, "route"); err != nil {
		return err
	}
	if strings.TrimSpace(req.Text) == "" || utf8.RuneCountInString(req.Text) > maxChatText {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("route: text holds 1 to %d characters", maxChatText))
	}
	if err := checkProfile(req.Contact); err != nil {
		return err
	}
	route, ok := s.cfg.Engine.RouteFor(s.cfg.Engine.DefaultPhoneNumberID(), req.Text)
	if !ok {
		return fiber.NewError(fiber.StatusUnprocessableEntity, fmt.Sprintf("no published flow's trigger matches %q: a customer writing it starts no flow", req.Text))
	}
	v, err := s.cfg.Engine.Store().FlowVersion(c.UserContext(), route.Flow, route.Version)
	if err != nil {
		return fmt.Errorf("routing test: %w", err)
	}
	first := flows.Reply{Type: flows.MsgText, Text: req.Text}
	tc, err := s.testChats.createAs(c.UserContext(), v.Doc, "", false, req.Contact, &first)
	if errors.Is(err, errNoTestChatStore) {
		return fiber.NewError(fiber.StatusServiceUnavailable, err.Error())
	}
	if err != nil {
		return fmt.Errorf("starting a routing test on flow %s: %w", route.Flow, err)
	}
	tc.mu.Lock()
	if tc.sess == nil {
		tc.mu.Unlock()
		return fiber.NewError(fiber.StatusServiceUnavailable, "test chat closed at once (too many open)")
	}
	res, err := s.view(c, tc)
	tc.mu.Unlock()
	if err != nil {
		return err
	}
	res.Route = &route
	return c.Status(fiber.StatusCreated).JSON(res)
}
