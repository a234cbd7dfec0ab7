package auth

import (
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Names on the wire.
const (
	// CookieName is the session cookie: HttpOnly, SameSite=Lax, Path=/,
	// Secure over HTTPS.
	CookieName = "parley_session"
	// CSRFHeader must carry the session's CSRF token on every mutating
	// request authenticated by the cookie.
	CSRFHeader = "X-CSRF-Token"
)

// locals keys.
const (
	userKey    = "auth.user"
	sessionKey = "auth.session"
)

// Current is the user acting on this request, or nil when nobody signed
// in (only on the public routes: everywhere else Middleware answered 401).
func Current(c *fiber.Ctx) *User {
	u, _ := c.Locals(userKey).(*User)
	return u
}

// Require lets the request through only for a user holding one of roles:
// 401 without a user, 403 with one who holds none of them.
func Require(roles ...Role) fiber.Handler {
	need := make([]string, len(roles))
	for i, r := range roles {
		need[i] = string(r)
	}
	msg := "forbidden: this needs the role " + strings.Join(need, " or ")
	return func(c *fiber.Ctx) error {
		u := Current(c)
		if u == nil {
			return fiber.NewError(fiber.StatusUnauthorized, "sign in first")
		}
		if !u.HasAny(roles...) {
			return fiber.NewError(fiber.StatusForbidden, msg)
		}
		return c.Next()
	}
}

// mutating reports whether method may change state: those need the CSRF
// token when a cookie authenticates them.
func mutating(method string) bool {
	switch method {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return false
	}
	return true
}

// Middleware authenticates every request of the group it is installed on:
// `Authorization: Bearer prl_…` (an API token), else the session cookie
// plus, on a mutating method, the X-CSRF-Token header. Without a valid
// credential it answers 401; with a cookie but a missing or wrong CSRF
// token, 403. It decides nothing about roles: Require does, per route.
func (s *Service) Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		u, sess, err := s.identify(c)
		if err != nil {
			return err
		}
		if u == nil {
			return fiber.NewError(fiber.StatusUnauthorized, "sign in first")
		}
		if sess != nil && mutating(c.Method()) && !csrfOK(c, sess) {
			return fiber.NewError(fiber.StatusForbidden, "missing or wrong "+CSRFHeader+" header")
		}
		return c.Next()
	}
}

// identify finds who is asking and keeps it in the request's locals. An
// Authorization header, if present, is the only credential looked at: a
// bad token is a 401, never a fall back to the cookie. sess is nil for a
// token.
func (s *Service) identify(c *fiber.Ctx) (*User, *Session, error) {
	ctx := c.UserContext()
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, secret, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="parley"`)
			return nil, nil, fiber.NewError(fiber.StatusUnauthorized, "Authorization must be Bearer <API token>")
		}
		u, err := s.tokenUser(ctx, strings.TrimSpace(secret))
		if errors.Is(err, ErrTokenExpired) {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="parley", error="invalid_token", error_description="expired"`)
			return nil, nil, fiber.NewError(fiber.StatusUnauthorized, err.Error())
		}
		if err != nil {
			return nil, nil, err
		}
		if u == nil {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="parley", error="invalid_token"`)
			return nil, nil, fiber.NewError(fiber.StatusUnauthorized, "invalid or revoked API token")
		}
		c.Locals(userKey, u)
		return u, nil, nil
	}
	sess, u, err := s.session(ctx, c.Cookies(CookieName))
	if err != nil || u == nil {
		return nil, nil, err
	}
	c.Locals(userKey, u)
	c.Locals(sessionKey, sess)
	return u, sess, nil
}

func csrfOK(c *fiber.Ctx, sess *Session) bool {
	got := c.Get(CSRFHeader)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) == 1
}

func (s *Service) setCookie(c *fiber.Ctx, sess *Session) {
	c.Cookie(&fiber.Cookie{
		Name:     CookieName,
		Value:    sess.ID,
		Path:     "/",
		Expires:  sess.Expires,
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   s.o.SecureCookie || c.Protocol() == "https",
	})
}

func (s *Service) clearCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name:     CookieName,
		Value:    "",
		Path:     "/",
		Expires:  time.Unix(0, 0),
		MaxAge:   -1,
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Secure:   s.o.SecureCookie || c.Protocol() == "https",
	})
}
