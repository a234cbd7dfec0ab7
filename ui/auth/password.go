package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gofiber/fiber/v2"
)

// ErrWrongPassword is returned by ChangePassword when the current password
// given is not the user's.
var ErrWrongPassword = errors.New("the current password is wrong")

// ChangePassword lets a user change their own password, given the current
// one: it is checked like a sign-in from the client address from (the
// same bcrypt work, the same throttle), then set, which ends every session of the user; the caller
// gets a new session so that this browser stays signed in.
func (s *Service) ChangePassword(ctx context.Context, email, current, next string, from netip.Addr) (*Session, error) {
	if _, sess, err := s.Login(ctx, email, current, from); err != nil {
		if errors.Is(err, ErrBadCredentials) {
			return nil, ErrWrongPassword
		}
		return nil, err
	} else if err := s.Logout(ctx, sess.ID); err != nil {
		return nil, fmt.Errorf("auth: changing password: %w", err)
	}
	if _, err := s.UpdateUser(ctx, email, UserChange{Password: &next}); err != nil {
		return nil, err
	}
	return s.newSession(ctx, email)
}

// changePassword answers POST /auth/password {current_password,
// new_password} for any signed-in user: from a browser, the new session
// (cookie, and the body of a sign-in with its CSRF token); from an API
// token, 204 (and that token is revoked with the user's others, unless
// it is a service token). 403 for a wrong current password (not
// 401: the session is fine), 400 for a weak new one, 429 (Retry-After)
// while sign-ins of the user or this address are throttled.
func (s *Service) changePassword(c *fiber.Ctx) error {
	u := Current(c)
	if u == nil {
		return fiber.NewError(fiber.StatusUnauthorized, "sign in first")
	}
	var req struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := readJSON(c, &req); err != nil {
		return err
	}
	sess, err := s.ChangePassword(c.UserContext(), u.Email, req.Current, req.New, clientAddr(c, s.o.TrustedProxies))
	switch {
	case errors.Is(err, ErrWrongPassword):
		return fiber.NewError(fiber.StatusForbidden, err.Error())
	case err != nil:
		setRetryAfter(c, err)
		return httpError(err)
	}
	if c.Cookies(CookieName) == "" {
		// An API token's caller has no use for a session.
		if err := s.Logout(c.UserContext(), sess.ID); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
	s.setCookie(c, sess)
	return c.JSON(signedIn{User: u, CSRFToken: sess.CSRF})
}
