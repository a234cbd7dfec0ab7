package ui

import (
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// Request bodies are read by the server, never by fasthttp ahead of the
// handler (fiber's StreamRequestBody): fasthttp reads at most 8 KiB of a
// body before handing the request on, and readBody then reads the rest
// with the cap of its route, refusing what crosses it as it arrives. A
// body is held in memory only once it has arrived, so a client that
// declares megabytes and sends them slowly costs a connection and a few
// kilobytes until ReadTimeout cuts it off.
const (
	// DefaultBodyBytes caps the body of every route not in bodyRoutes:
	// sign-in, a reply, a contact, a schedule, a template (a few KB each).
	DefaultBodyBytes = 64 << 10
	// DefaultBodyMemory bounds the body bytes held at once across all
	// requests: sixteen flow documents at their cap, or sixty-four
	// webhooks at theirs. Past it a request answers 503 with Retry-After
	// rather than wait for memory.
	DefaultBodyMemory = 64 << 20
	// DefaultReadTimeout bounds reading one request, headers and body: a
	// flow document at its cap arrives well within it on any real link.
	DefaultReadTimeout = 30 * time.Second
	// bodyRetryAfter is the Retry-After, in seconds, of a 503 for want of
	// body memory: bodies in flight are done within seconds.
	bodyRetryAfter = "2"
)

// bodyRoute is a route whose body may be larger than DefaultBodyBytes.
type bodyRoute struct {
	method, path string // as registered; ":name" matches one segment
	max          int
	// afterSignIn: the route needs a user, and its body is read only
	// once the user is known (readBody, installed after auth's
	// middleware), so no one signed out makes the server hold megabytes.
	afterSignIn bool
	// webhook: refusals are counted in parley_webhooks_total.
	webhook bool
}

// bodyRoutes are the routes with a body cap of their own.
// TestBodyRoutesExist checks that each is a registered route.
var bodyRoutes = []bodyRoute{
	// Signed by Meta over the body: it is read before anything is known.
	{method: fiber.MethodPost, path: "/webhook/whatsapp", max: whatsapp.MaxWebhookBytes, webhook: true},
	{method: fiber.MethodPut, path: "/api/v1/flows/:id", max: flows.MaxFlowBytes, afterSignIn: true},
	{method: fiber.MethodPost, path: "/api/v1/flows/validate", max: flows.MaxFlowBytes, afterSignIn: true},
	// {"doc": <flow>, "node": …}: a flow document and the request around it.
	{method: fiber.MethodPost, path: "/api/v1/flows/:id/test", max: flows.MaxFlowBytes + DefaultBodyBytes, afterSignIn: true},
	{method: fiber.MethodPost, path: "/api/v1/contacts/import", max: consent.MaxImportBytes, afterSignIn: true},
}

// bodyRouteOf is the body route method and path match, or the default.
func bodyRouteOf(method, path string) bodyRoute {
	// fiber's routing: case-insensitive, a trailing slash ignored.
	path = strings.ToLower(strings.TrimSuffix(path, "/"))
	for _, r := range bodyRoutes {
		if r.method == method && pathMatches(r.path, path) {
			return r
		}
	}
	return bodyRoute{method: method, path: path, max: DefaultBodyBytes}
}

// pathMatches reports whether path matches a route pattern whose
// ":name" segments match any one segment.
func pathMatches(pattern, path string) bool {
	ps, qs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(qs) {
		return false
	}
	for i, p := range ps {
		if strings.HasPrefix(p, ":") {
			if qs[i] == "" {
				return false
			}
		} else if p != qs[i] {
			return false
		}
	}
	return true
}

// bodyMemory is a semaphore of bytes: the request bodies held at once.
type bodyMemory struct {
	used atomic.Int64
	max  int64
}

// take reserves n bytes, or reports false when that would exceed max.
func (m *bodyMemory) take(n int64) bool {
	for {
		u := m.used.Load()
		if u+n > m.max {
			return false
		}
		if m.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (m *bodyMemory) give(n int64) { m.used.Add(-n) }

// Locals keys of the body's state: its route while it waits for sign-in,
// and the bytes of body memory the request holds.
const (
	pendingBodyKey = "parley.pendingBody"
	bodyHeldKey    = "parley.bodyHeld"
)

// limitBody is the first middleware of every request: it reads the body
// with its route's cap (readBody), or, for a route that needs a user,
// leaves it for readBody after sign-in; a Content-Length over the cap is
// refused at once. Once the request is answered it gives back the body's
// memory; a body left unread closes the connection, which would
// otherwise read it as the next request.
func (s *Server) limitBody(c *fiber.Ctx) error {
	r := bodyRouteOf(c.Method(), c.Path())
	defer func() {
		if held, ok := c.Locals(bodyHeldKey).(int64); ok {
			s.bodyMem.give(held)
		}
	}()
	if enc := strings.TrimSpace(c.Get(fiber.HeaderContentEncoding)); enc != "" && !strings.EqualFold(enc, "identity") {
		// fiber would inflate it in the handler, past every cap.
		return s.refuseBody(c, r, &bodyRefusal{fiber.StatusUnsupportedMediaType, "send the body uncompressed (no Content-Encoding)"})
	}
	if n := c.Request().Header.ContentLength(); n > r.max {
		return s.refuseBody(c, r, tooLarge(r))
	}
	if r.afterSignIn {
		c.Locals(pendingBodyKey, r)
		err := c.Next()
		if _, pending := c.Locals(pendingBodyKey).(bodyRoute); pending {
			// Answered without its body (401, 403): answer now, to
			// close after.
			if err != nil {
				err = s.errorHandler(c, err)
			}
			closeAfter(c)
		}
		return err
	}
	if no := s.readBodyOf(c, r); no != nil {
		return s.refuseBody(c, r, no)
	}
	return c.Next()
}

// readBody reads the body limitBody left for after sign-in. It is
// installed on the API group after auth's middleware.
func (s *Server) readBody(c *fiber.Ctx) error {
	if r, pending := c.Locals(pendingBodyKey).(bodyRoute); pending {
		c.Locals(pendingBodyKey, nil)
		if no := s.readBodyOf(c, r); no != nil {
			return s.refuseBody(c, r, no)
		}
	}
	return c.Next()
}

// bodyChunk is a body's first allocation (or its length, if less); it
// then doubles as the bytes arrive, so a body holds at most twice what it
// has sent.
const bodyChunk = 64 << 10

// readBodyOf reads the request's body into memory, at most r.max bytes
// (413 past it, as the bytes arrive), reserving the memory as it grows
// (503 when the server holds too much already), within the request's
// read deadline (408). It leaves the body where c.Body() finds it.
func (s *Server) readBodyOf(c *fiber.Ctx, r bodyRoute) *bodyRefusal {
	req := c.Request()
	stream := req.BodyStream()
	if stream == nil {
		return nil // no body
	}
	length := req.Header.ContentLength() // -1: chunked
	limit := length
	if length < 0 {
		limit = r.max + 1 // one byte more tells a body over the cap
	}
	var held int64
	defer func() { c.Locals(bodyHeldKey, held) }()
	buf := make([]byte, 0)
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			n := min(max(2*cap(buf), bodyChunk), limit)
			if !s.bodyMem.take(int64(n - cap(buf))) {
				return &bodyRefusal{fiber.StatusServiceUnavailable, "too many request bodies in flight; retry"}
			}
			held += int64(n - cap(buf))
			grown := make([]byte, len(buf), n)
			copy(grown, buf)
			buf = grown
		}
		k, err := stream.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if len(buf) > r.max {
			return tooLarge(r)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if timedOut(err) {
			return &bodyRefusal{fiber.StatusRequestTimeout, "the body did not arrive in time"}
		}
		if err != nil {
			return &bodyRefusal{fiber.StatusBadRequest, "reading the body: " + err.Error()}
		}
	}
	if length >= 0 && len(buf) < length {
		return &bodyRefusal{fiber.StatusBadRequest, "the body is shorter than its Content-Length"}
	}
	req.SetBodyRaw(buf) // also releases fasthttp's read-ahead
	return nil
}

// timedOut reports whether a read failed on the connection's deadline.
// fasthttp wraps a chunked body's errors without Unwrap, so the message
// is what is left to go by there.
func timedOut(err error) bool {
	return err != nil && (errors.Is(err, os.ErrDeadlineExceeded) || strings.Contains(err.Error(), os.ErrDeadlineExceeded.Error()))
}

// bodyRefusal is why a body is not taken: the status and what to say.
type bodyRefusal struct {
	status int
	msg    string
}

func tooLarge(r bodyRoute) *bodyRefusal {
	return &bodyRefusal{fiber.StatusRequestEntityTooLarge, "the body is over " + strconv.Itoa(r.max) + " bytes"}
}

// bodyResults are the parley_webhooks_total results of a refused body.
var bodyResults = map[int]string{
	fiber.StatusRequestEntityTooLarge: "too_large",
	fiber.StatusServiceUnavailable:    "busy",
	fiber.StatusRequestTimeout:        "timeout",
}

// refuseBody answers a request whose body is not taken, and closes the
// connection (closeAfter). It answers itself rather than through the
// error handler, which would log a 503 as a failure of the server's own.
func (s *Server) refuseBody(c *fiber.Ctx, r bodyRoute, no *bodyRefusal) error {
	defer closeAfter(c)
	if no.status == fiber.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, bodyRetryAfter)
	}
	if r.webhook {
		result, ok := bodyResults[no.status]
		if !ok {
			result = "malformed"
		}
		s.metrics.webhooks.Inc(result)
	}
	return c.Status(no.status).JSON(apiError{Error: no.msg})
}

// What a connection whose body was refused still reads, and for how long,
// before it closes: a client is still sending the body it declared, and a
// connection closed on unread bytes is reset, so the client might see "connection
// reset" rather than the answer. The bytes are dropped as they come; only
// the time is spent. A larger rest is cut off all the same.
const (
	lingerBytes = 8 << 20
	lingerTime  = time.Second
)

// closeAfter closes the connection once the request's answer (already
// set) is written: what is left of the body cannot be told from the next
// request. On a TCP connection it writes the answer itself and then drops
// what the client still sends, up to lingerBytes within lingerTime, so
// that the client reads the answer; not after a 408, whose client is too
// slow to be waited for.
func closeAfter(c *fiber.Ctx) {
	resp := c.Response()
	resp.Header.SetConnectionClose()
	fctx := c.Context()
	if _, tcp := fctx.Conn().(*net.TCPConn); !tcp || resp.StatusCode() == fiber.StatusRequestTimeout {
		return
	}
	answer := resp.String()
	fctx.HijackSetNoResponse(true)
	fctx.Hijack(func(conn net.Conn) {
		_ = conn.SetDeadline(time.Now().Add(lingerTime))
		if _, err := io.WriteString(conn, answer); err != nil {
			return
		}
		_, _ = io.CopyN(io.Discard, conn, lingerBytes)
	})
}
