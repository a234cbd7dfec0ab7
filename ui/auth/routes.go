package auth

import (
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// PublicRoutes registers the routes that work without signing in: login,
// logout, me and first-run setup under /auth. Register them on the API
// group BEFORE installing Middleware, so that it does not guard them.
//
//	POST /auth/login   {email, password} → {user, csrf_token} + cookie
//	GET  /auth/me      → {user, csrf_token} | 401
//	POST /auth/logout  → 204
//	GET  /auth/setup   → {needed}
//	POST /auth/setup   {email, name, password} → the first admin, signed in
func (s *Service) PublicRoutes(api fiber.Router) {
	api.Post("/auth/login", s.login)
	api.Get("/auth/me", s.me)
	api.Post("/auth/logout", s.logout)
	api.Get("/auth/setup", s.setupStatus)
	api.Post("/auth/setup", s.setup)
}

// Routes registers the routes for signed-in users: a user's own password,
// and (admins) users and API tokens. Register them after Middleware.
//
//	POST   /auth/password    {current_password, new_password}
//	GET    /users, POST /users, GET|PUT|DELETE /users/:email
//	GET    /auth/tokens      [?email=] → {tokens: [Token]}
//	POST   /auth/tokens      {email?, name, expires_in?, service?} → {token, secret}
//	DELETE /auth/tokens/:id
func (s *Service) Routes(api fiber.Router) {
	api.Post("/auth/password", Require(Admin, Analyst, Agent), s.changePassword)
	admin := Require(Admin)
	api.Get("/users", admin, s.listUsers)
	api.Post("/users", admin, s.createUser)
	api.Get("/users/:email", admin, s.getUser)
	api.Put("/users/:email", admin, s.updateUser)
	api.Delete("/users/:email", admin, s.deleteUser)
	api.Get("/auth/tokens", admin, s.listTokens)
	api.Post("/auth/tokens", admin, s.createToken)
	api.Delete("/auth/tokens/:id", admin, s.revokeToken)
}

// signedIn answers login, setup and me.
type signedIn struct {
	User      *User  `json:"user"`
	CSRFToken string `json:"csrf_token,omitempty"`
}

// httpError maps the package's errors to HTTP statuses; others stay
// errors (500, logged by the server).
func httpError(err error) error {
	var te *ThrottledError
	switch {
	case errors.As(err, &te):
		return fiber.NewError(fiber.StatusTooManyRequests, err.Error())
	case errors.Is(err, ErrBadCredentials):
		return fiber.NewError(fiber.StatusUnauthorized, err.Error())
	case errors.Is(err, ErrDisabled):
		return fiber.NewError(fiber.StatusForbidden, err.Error())
	case errors.Is(err, ErrUserNotFound), errors.Is(err, ErrTokenNotFound):
		return fiber.NewError(fiber.StatusNotFound, err.Error())
	case errors.Is(err, ErrUserExists), errors.Is(err, ErrSetupDone), errors.Is(err, ErrLastAdmin):
		return fiber.NewError(fiber.StatusConflict, err.Error())
	case errors.Is(err, ErrInvalidEmail), errors.Is(err, ErrInvalidName), errors.Is(err, ErrInvalidRole), errors.Is(err, ErrWeakPassword),
		errors.Is(err, ErrInvalidLifetime):
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	return err
}

// setRetryAfter tells a throttled client, in whole seconds rounded up,
// when to try again.
func setRetryAfter(c *fiber.Ctx, err error) {
	var te *ThrottledError
	if errors.As(err, &te) {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(te.RetryAfter.Seconds()))))
	}
}

// readJSON decodes the body into v. Sign-in and setup demand a JSON
// content type: a cross-site HTML form cannot send one without a CORS
// preflight, so no other site can sign a browser in (login CSRF).
func readJSON(c *fiber.Ctx, v any) error {
	if !strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEApplicationJSON) {
		return fiber.NewError(fiber.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json)")
	}
	if err := json.Unmarshal(c.Body(), v); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "malformed JSON: "+err.Error())
	}
	return nil
}

func (s *Service) login(c *fiber.Ctx) error {
	var req struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := readJSON(c, &req); err != nil {
		return err
	}
	u, sess, err := s.Login(c.UserContext(), req.Email, req.Password, clientAddr(c, s.o.TrustedProxies))
	if err != nil {
		setRetryAfter(c, err)
		return httpError(err)
	}
	s.setCookie(c, sess)
	return c.JSON(signedIn{User: u, CSRFToken: sess.CSRF})
}

func (s *Service) me(c *fiber.Ctx) error {
	u, sess, err := s.identify(c)
	if err != nil {
		return err
	}
	if u == nil {
		return fiber.NewError(fiber.StatusUnauthorized, "not signed in")
	}
	out := signedIn{User: u}
	if sess != nil {
		out.CSRFToken = sess.CSRF
	}
	return c.JSON(out)
}

// logout ends the cookie's session. It needs the CSRF token like any
// write, so that no other site can sign a user out.
func (s *Service) logout(c *fiber.Ctx) error {
	sess, _, err := s.session(c.UserContext(), c.Cookies(CookieName))
	if err != nil {
		return err
	}
	if sess != nil {
		if !csrfOK(c, sess) {
			return fiber.NewError(fiber.StatusForbidden, "missing or wrong "+CSRFHeader+" header")
		}
		if err := s.Logout(c.UserContext(), sess.ID); err != nil {
			return err
		}
		s.log.Info("signed out", "email", sess.Email)
	}
	s.clearCookie(c)
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Service) setupStatus(c *fiber.Ctx) error {
	needed, err := s.SetupNeeded(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"needed": needed})
}

// setup creates the first admin and signs them in. Only a browser on the
// server's own machine may: an install reachable from a network would
// otherwise belong to whoever finds it first.
func (s *Service) setup(c *fiber.Ctx) error {
	if !localRequest(c) {
		return fiber.NewError(fiber.StatusForbidden, "the first admin can be created only from the server's own machine (http://localhost), or with `parley user add`")
	}
	var req NewUser
	if err := readJSON(c, &req); err != nil {
		return err
	}
	u, err := s.Setup(c.UserContext(), NewUser{Email: req.Email, Name: req.Name, Password: req.Password})
	if err != nil {
		return httpError(err)
	}
	sess, err := s.newSession(c.UserContext(), u.Email)
	if err != nil {
		return err
	}
	s.setCookie(c, sess)
	return c.Status(fiber.StatusCreated).JSON(signedIn{User: u, CSRFToken: sess.CSRF})
}

// localRequest reports whether the request comes from this machine and
// was addressed to it by a loopback name. The peer address alone is not
// enough: a reverse proxy on the same machine forwards the world from
// 127.0.0.1 (so proxy headers disqualify), and a DNS-rebinding page in
// the local browser reaches 127.0.0.1 under its own host name (so the
// Host header must be loopback too).
func localRequest(c *fiber.Ctx) bool {
	if ip := net.ParseIP(c.IP()); ip == nil || !ip.IsLoopback() {
		return false
	}
	for _, h := range []string{fiber.HeaderXForwardedFor, "X-Real-Ip", "Forwarded", fiber.HeaderXForwardedHost} {
		if c.Get(h) != "" {
			return false
		}
	}
	if !loopbackHost(string(c.Request().Host())) {
		return false
	}
	if o := c.Get(fiber.HeaderOrigin); o != "" {
		u, err := url.Parse(o)
		if err != nil || !loopbackHost(u.Host) {
			return false
		}
	}
	return true
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Service) listUsers(c *fiber.Ctx) error {
	users, err := s.Users(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"users": users})
}

func (s *Service) createUser(c *fiber.Ctx) error {
	var req NewUser
	if err := json.Unmarshal(c.Body(), &req); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "malformed JSON: "+err.Error())
	}
	u, err := s.CreateUser(c.UserContext(), req)
	if err != nil {
		return httpError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(u)
}

// emailParam is the :email path parameter, URL-decoded.
func emailParam(c *fiber.Ctx) (string, error) {
	v, err := url.PathUnescape(c.Params("email"))
	if err != nil || v == "" {
		return "", fiber.NewError(fiber.StatusBadRequest, "malformed email in the path")
	}
	return strings.Clone(v), nil
}

func (s *Service) getUser(c *fiber.Ctx) error {
	email, err := emailParam(c)
	if err != nil {
		return err
	}
	u, err := s.User(c.UserContext(), email)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(u)
}

func (s *Service) updateUser(c *fiber.Ctx) error {
	email, err := emailParam(c)
	if err != nil {
		return err
	}
	var ch UserChange
	if err := json.Unmarshal(c.Body(), &ch); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "malformed JSON: "+err.Error())
	}
	u, err := s.UpdateUser(c.UserContext(), email, ch)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(u)
}

func (s *Service) deleteUser(c *fiber.Ctx) error {
	email, err := emailParam(c)
	if err != nil {
		return err
	}
	if err := s.DeleteUser(c.UserContext(), email); err != nil {
		return httpError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Service) listTokens(c *fiber.Ctx) error {
	toks, err := s.Tokens(c.UserContext(), c.Query("email"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"tokens": toks})
}

// createdToken answers POST /auth/tokens: the secret, shown this once.
type createdToken struct {
	Token  *Token `json:"token"`
	Secret string `json:"secret"`
}

// createToken answers POST /auth/tokens {email?, name, expires_in?,
// service?}: email defaults to the caller's; expires_in is a
// ParseLifetime string ("90d"), none for a token that does not expire.
func (s *Service) createToken(c *fiber.Ctx) error {
	var req struct {
		Email     string `json:"email"`
		Name      string `json:"name"`
		ExpiresIn string `json:"expires_in"`
		Service   bool   `json:"service"`
	}
	if err := json.Unmarshal(c.Body(), &req); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "malformed JSON: "+err.Error())
	}
	if req.Email == "" {
		req.Email = Current(c).Email
	}
	life, err := ParseLifetime(req.ExpiresIn)
	if err != nil {
		return httpError(err)
	}
	secret, tok, err := s.CreateToken(c.UserContext(), NewToken{Email: req.Email, Name: req.Name, ExpiresIn: life, Service: req.Service})
	if err != nil {
		return httpError(err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(createdToken{Token: tok, Secret: secret})
}

func (s *Service) revokeToken(c *fiber.Ctx) error {
	if err := s.RevokeToken(c.UserContext(), c.Params("id")); err != nil {
		return httpError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
