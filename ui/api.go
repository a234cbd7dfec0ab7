package ui

import (
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/flows"
)

// UserHeader names who is acting on an API request ("by" in a flow's
// history) until sign-in exists; without it the actor is DefaultUser.
const (
	UserHeader  = "X-Parley-User"
	DefaultUser = "api"
)

// maxUserBytes caps the actor's name as stored: the header is the caller's
// word, not a place to park data.
const maxUserBytes = 100

// actor is who the request acts for.
func actor(c *fiber.Ctx) string {
	u := strings.TrimSpace(c.Get(UserHeader))
	if u == "" || !utf8.ValidString(u) {
		return DefaultUser
	}
	for len(u) > maxUserBytes {
		_, size := utf8.DecodeLastRuneInString(u)
		u = u[:len(u)-size]
	}
	return u
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

// apiErr turns an engine error into the HTTP error the API answers with:
// what is not found is 404 (naming what, not the store's wording), a bad
// cursor 400; anything else stays a 500 for the error handler to log.
func apiErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, engine.ErrNotFound):
		return fiber.NewError(fiber.StatusNotFound, what+" not found")
	case errors.Is(err, engine.ErrInvalidCursor):
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
