package ui

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/flows"
)

// tryHTTPRequest is the body of POST /flows/try-http: an http node as
// the editor holds it and sample values for what its templates read.
type tryHTTPRequest struct {
	Node    json.RawMessage `json:"node"`
	Vars    map[string]any  `json:"vars,omitempty"`
	Contact *flows.Contact  `json:"contact,omitempty"`
	Reply   *flows.Reply    `json:"reply,omitempty"`
}

// tryHTTP makes one attempt of an http node with sample values: the
// editor's "try" button. The request goes through the engine's own
// caller (the same address checks) with secrets resolved here; the
// answer has every secret's value masked (engine.TryHTTP). A node that
// does not validate is 422 with its problems.
func (s *Server) tryHTTP(c *fiber.Ctx) error {
	var req tryHTTPRequest
	if err := json.Unmarshal(c.Body(), &req); err != nil || len(req.Node) == 0 {
		return fiber.NewError(fiber.StatusBadRequest, `want {"node": {…an http node…}, "vars": {…}, "contact": {…}, "reply": {…}}`)
	}
	var node map[string]any
	if err := json.Unmarshal(req.Node, &node); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "node is not a JSON object")
	}
	// Alone, the node's exits name nodes that are not there.
	delete(node, "next")
	delete(node, "on_error")
	doc, _ := json.Marshal(map[string]any{"format": flows.Format, "id": "try", "start": node["id"], "nodes": []any{node}})
	f, problems := flows.Parse(doc)
	var errs flows.Problems
	for _, p := range problems {
		if p.Severity == flows.Error && strings.HasPrefix(p.Pointer, "/nodes/0") {
			errs = append(errs, p)
		}
	}
	if f == nil || len(errs) > 0 {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(apiError{Error: engine.ErrInvalidFlow.Error(), Problems: problemsOrEmpty(errs)})
	}
	n := f.Nodes[0]
	if n.Type != flows.TypeHTTP {
		return fiber.NewError(fiber.StatusBadRequest, "only an http node can be tried")
	}
	env := &flows.Env{Vars: req.Vars, Now: s.cfg.Engine.Clock().Now()}
	if env.Vars == nil {
		env.Vars = map[string]any{}
	}
	if req.Contact != nil {
		env.Contact = *req.Contact
	}
	if req.Reply != nil {
		env.Reply = *req.Reply
	}
	res, err := s.cfg.Engine.TryHTTP(c.UserContext(), f, n, env)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	return c.JSON(res)
}
