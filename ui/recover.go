package ui

import (
	"bufio"
	"fmt"
	"runtime/debug"

	"github.com/gofiber/fiber/v2"
)

// A panic in a request must cost that request, never the process: fasthttp
// does not recover handlers, so without recoverPanic one bad input would
// stop every conversation. The panic is logged at ERROR with its stack,
// and the client gets a 500 that says no more than any other.

// recoverPanic is the middleware that turns a panic below it into a 500.
func (s *Server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		s.logPanic(c, r)
		// Whatever the handler had set (a stream, a download's headers)
		// is dropped: the answer is the error alone.
		c.Response().Reset()
		securityHeaders(c)
		err = c.Status(fiber.StatusInternalServerError).JSON(apiError{Error: internalError})
	}()
	return c.Next()
}

// logPanic logs a recovered panic with the stack it came from: the
// goroutine's own, or the one a goroutinePanic carries.
func (s *Server) logPanic(c *fiber.Ctx, r any) {
	stack := debug.Stack()
	if gp, ok := r.(*goroutinePanic); ok {
		r, stack = gp.value, gp.stack
	}
	s.log.Error("request panicked", "method", c.Method(), "path", c.Path(), "panic", fmt.Sprint(r), "stack", string(stack))
}

// goroutinePanic is a panic recovered in a goroutine a request started,
// raised again in the request's own goroutine (where recoverPanic is)
// with the stack of where it happened.
type goroutinePanic struct {
	value any
	stack []byte
}

// recoverInto runs fn, keeping a panic in *p instead of crashing: for a
// goroutine a request starts, which recoverPanic cannot reach. The request
// raises it again (panic(*p)) once the goroutine is done.
func recoverInto(p **goroutinePanic, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			*p = &goroutinePanic{value: r, stack: debug.Stack()}
		}
	}()
	fn()
}

// streamBody sets the response's body writer (SSE): fasthttp runs it on a
// goroutine of its own after the handler returned, out of recoverPanic's
// reach, so a panic there is recovered here, logged, and ends the stream.
func (s *Server) streamBody(c *fiber.Ctx, write func(w *bufio.Writer)) {
	method, path := c.Method(), c.Path() // c is recycled once the handler returns
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("response stream panicked", "method", method, "path", path, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
		}()
		write(w)
	})
}
