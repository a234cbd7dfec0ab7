package ui

import (
	"errors"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/ui/auth"
)

// DefaultUser is the actor recorded when a request has no signed-in user:
// it cannot happen behind auth's middleware, and says so if it ever does.
const DefaultUser = "api"

// maxUserBytes caps a "by" that a client states itself (a consent record's).
const maxUserBytes = 100

// actor is who the request acts for ("by" in a flow's history, a consent
// record, a template's): the signed-in user's email, or the email of the
// user an API token belongs to.
func actor(c *fiber.Ctx) string {
	if u := auth.Current(c); u != nil {
		return u.Email
	}
	return DefaultUser
}

// param is a path parameter, URL-decoded: conversation ids and contact
// keys hold ':' and '#' ("100000000000001:15551234567#1"), so clients send
// them escaped ("%3A", "%23"), and fiber matches routes on the raw path.
// The result is a copy, safe to keep after the handler returns.
func param(c *fiber.Ctx, name string) (string, error) {
	raw := c.Params(name)
	v, err := url.PathUnescape(raw)
	if err != nil || v == "" {
		return "", fiber.NewError(fiber.StatusBadRequest, "malformed "+name+" in the path")
	}
	return strings.Clone(v), nil
}

// flowParam is the :id of a route naming a flow, checked by the flow
// schema's id rule: 400 for an id no flow can have.
func flowParam(c *fiber.Ctx) (string, error) {
	return checkedParam(c, "id", flows.CheckID)
}

// contactParam is the :key of a route naming a contact, checked: 400 for a
// key no contact can have.
func contactParam(c *fiber.Ctx) (string, error) {
	return checkedParam(c, "key", model.CheckContactKey)
}

// conversationParam is the :id of a route naming a conversation, checked:
// 400 for an id no conversation can have.
func conversationParam(c *fiber.Ctx) (string, error) {
	return checkedParam(c, "id", model.CheckConversationID)
}

func checkedParam(c *fiber.Ctx, name string, check func(string) error) (string, error) {
	v, err := param(c, name)
	if err != nil {
		return "", err
	}
	if err := check(v); err != nil {
		return "", fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	return v, nil
}

// apiErr turns an engine error into the HTTP error the API answers with:
// what is not found is 404 (naming what, not the store's wording), a bad
// cursor 400; anything else stays a 500 for the error handler to log.
func apiErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, model.ErrNotFound):
		return fiber.NewError(fiber.StatusNotFound, what+" not found")
	case errors.Is(err, model.ErrInvalidCursor):
		return fiber.NewError(fiber.StatusBadRequest, "invalid cursor: use next_cursor from the previous page")
	}
	return err
}

// problemsOrEmpty makes "no problem" an empty list in JSON, never null.
func problemsOrEmpty(ps flows.Problems) flows.Problems {
	if ps == nil {
		return flows.Problems{}
	}
	return ps
}
