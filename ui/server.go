// Package ui is Parley's HTTP face: the WhatsApp webhook, health and
// metrics, the JSON REST API, and (later) the embedded web app. It owns no
// state: everything goes through the engine.
package ui

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/metrics"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/quarantine"
	"github.com/parleyhq/parley/engine/schedule"
	"github.com/parleyhq/parley/engine/secrets"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/ui/auth"
)

// Config wires a Server.
type Config struct {
	Engine *engine.Engine
	// AppSecret signs webhooks (X-Hub-Signature-256); VerifyToken answers
	// Meta's subscription handshake.
	AppSecret   string
	VerifyToken string
	Metrics     *metrics.Registry
	Logger      *slog.Logger
	// Templates is the template registry: template webhooks update it and
	// the templates API reads and creates through it. Nil: template
	// webhooks are only acknowledged, and the templates API answers 503.
	Templates *templates.Registry
	// Ready reports whether the server can take traffic (nil: always).
	Ready func() error
	// Auth signs users in and guards /api/v1 (see api_auth.go). Nil:
	// every guarded route answers 503, never an unauthenticated 200.
	Auth *auth.Service
	// Inbox is the agents' inbox (api_inbox.go). Nil: no inbox routes,
	// and agents who are not admins see no conversation.
	Inbox *inbox.Inbox
	// Media fetches the media customers send, for the inbox (nil: the
	// inbox shows their type and caption only).
	Media MediaSource
	// EventStreamMaxAge bounds one inbox event stream (default sseMaxAge);
	// the client then reconnects with Last-Event-ID.
	EventStreamMaxAge time.Duration
	// Schedules runs scheduled notifications (api_schedules.go). Nil: the
	// schedules API answers 503.
	Schedules *schedule.Scheduler
	// Typing shows a customer a typing indicator while an agent types
	// (POST /api/v1/inbox/conversations/:id/typing). Nil: the route says
	// none was shown.
	Typing Typing
	// Sending tells and ends pauses of sending (api_sending.go). Nil: no
	// pause is reported.
	Sending Sending
	// Backup copies the data file for GET /api/v1/admin/backup (nil: 503),
	// staged in BackupDir (default: the system's temporary directory;
	// serve gives the data directory, which has room for the file).
	Backup    Backuper
	BackupDir string
	// Quarantine keeps the webhook items acknowledged but never
	// processable, for GET /api/v1/webhooks/rejected. Nil: they are
	// acknowledged, counted and logged only.
	Quarantine *quarantine.Quarantine
	// Secrets keeps the named values flows send (api_secrets.go). Nil:
	// the secrets API answers 503.
	Secrets *secrets.Store
	// TestChatStore opens the store of one test chat of the editor
	// (testchat.go) in dir, a fresh temporary directory of its own; serve
	// gives a bbolt file there. Nil: starting a test chat answers 503.
	TestChatStore func(dir string) (model.Store, error)
	// Events manages the event webhooks (api_events.go). Nil: their API
	// answers 503.
	Events *events.Service
	// ReadTimeout bounds reading one request, headers and body (default
	// DefaultReadTimeout): a client sending slowly is cut off (408).
	ReadTimeout time.Duration
	// BodyMemory bounds the request-body bytes held at once across all
	// requests (default DefaultBodyMemory; body.go).
	BodyMemory int64
	// MetricsToken, when set, is the bearer token GET /metrics asks for
	// (401 without it): the metrics tell traffic, failures and backlog.
	MetricsToken string
	// MetricsApart serves /metrics only on the app MetricsApp returns (on
	// an address of its own, e.g. reachable by the scraper alone), not on
	// the main one.
	MetricsApart bool
}

// Server serves Parley over HTTP.
type Server struct {
	cfg     Config
	app     *fiber.App
	log     *slog.Logger
	metrics serverMetrics
	// metricsApp serves /metrics alone (Config.MetricsApart), else nil.
	metricsApp *fiber.App
	// bodyMem holds the request bodies' bytes in memory (body.go).
	bodyMem bodyMemory
	// testChats are the editor's sandbox conversations (testchat.go).
	testChats *testChats
}

type serverMetrics struct {
	webhooks metrics.Counter   // result
	rejected metrics.Counter   // reason
	skipped  metrics.Counter   // field, reason (unmodelled, unreadable)
	ignored  metrics.Counter   // field: a number or account not served
	latency  metrics.Histogram // seconds to durable processing
}

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewRegistry()
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.BodyMemory <= 0 {
		cfg.BodyMemory = DefaultBodyMemory
	}
	s := &Server{cfg: cfg, log: cfg.Logger}
	s.bodyMem.max = cfg.BodyMemory
	s.metrics = serverMetrics{
		webhooks: cfg.Metrics.Counter("parley_webhooks_total", "Webhook requests by result (ok, bad_signature, malformed, too_large, busy, timeout, error).", "result"),
		rejected: cfg.Metrics.Counter("parley_webhook_items_rejected_total", "Webhook items acknowledged but set aside as never processable, by reason (no_id, bad_id, no_sender, bad_sender, bad_phone_number_id).", "reason"),
		skipped:  cfg.Metrics.Counter("parley_webhook_items_skipped_total", "Webhook items acknowledged but not acted on, by change field and reason: unmodelled (a field Parley does not handle: calls, smb_message_echoes, group events …) or unreadable (an item of an unexpected shape).", "field", "reason"),
		ignored:  cfg.Metrics.Counter("parley_webhook_items_ignored_total", "Webhook items acknowledged but ignored: they concern a business number or WhatsApp Business Account Parley does not serve; by change field.", "field"),
		latency:  cfg.Metrics.Histogram("parley_webhook_seconds", "Time from receiving a webhook to its events being durably processed.", metrics.LatencyBuckets),
	}
	s.app = s.newApp()
	s.routes()
	if cfg.MetricsApart {
		s.metricsApp = s.newApp()
		s.metricsApp.Get("/metrics", s.metricsHandler)
	}
	return s
}

// newApp is a fiber app with the server's settings and the middleware
// every request goes through: security headers, panic recovery, and the
// body read with its route's cap (body.go).
func (s *Server) newApp() *fiber.App {
	largest := DefaultBodyBytes
	for _, r := range bodyRoutes {
		largest = max(largest, r.max)
	}
	app := fiber.New(fiber.Config{
		AppName:               "parley",
		DisableStartupMessage: true,
		// Bodies are read by limitBody, as a stream: fasthttp reads at
		// most 8 KiB ahead, and never a multipart form into memory or
		// temporary files on its own.
		StreamRequestBody:            true,
		BodyLimit:                    largest,
		DisablePreParseMultipartForm: true,
		ReadTimeout:                  s.cfg.ReadTimeout,
		WriteTimeout:                 30 * time.Second,
		IdleTimeout:                  2 * time.Minute,
		ErrorHandler:                 s.errorHandler,
	})
	app.Use(func(c *fiber.Ctx) error {
		securityHeaders(c)
		return c.Next()
	})
	app.Use(s.recoverPanic)
	app.Use(s.limitBody)
	return app
}

// securityHeaders are set on every answer, a 500 after a panic included.
func securityHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
}

// App is the fiber app, for tests (app.Test) and embedding.
func (s *Server) App() *fiber.App { return s.app }

// MetricsApp serves GET /metrics alone, for an address of its own; nil
// unless Config.MetricsApart. Shutdown stops it too.
func (s *Server) MetricsApp() *fiber.App { return s.metricsApp }

func (s *Server) routes() {
	s.app.Get("/webhook/whatsapp", s.verifyWebhook)
	s.app.Post("/webhook/whatsapp", s.receiveWebhook)
	s.app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	s.app.Get("/readyz", s.readyz)
	if !s.cfg.MetricsApart {
		s.app.Get("/metrics", s.metricsHandler)
	}
	api := s.app.Group("/api/v1")
	// First: sign-in routes, then the middleware that authenticates every
	// route registered after it, then the reading of the bodies that wait
	// for a user (body.go).
	s.authRoutes(api)
	api.Use(s.readBody)
	s.flowRoutes(api)
	s.conversationRoutes(api)
	s.consentRoutes(api)
	s.contactRoutes(api)
	s.numberRoutes(api)
	s.templateRoutes(api)
	s.testChatRoutes(api)
	s.analyticsRoutes(api)
	s.inboxRoutes(api)
	s.scheduleRoutes(api)
	s.sendingRoutes(api)
	s.adminRoutes(api)
	s.secretRoutes(api)
	s.eventRoutes(api)
	s.webRoutes() // last: the web app answers what no route above did
}

// Listen serves on addr until Shutdown.
func (s *Server) Listen(addr string) error { return s.app.Listen(addr) }

// Shutdown stops accepting connections and waits for requests in flight
// (their events are committed before they answer), up to ctx's deadline,
// then closes the test chats (removing their files).
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.app.ShutdownWithContext(ctx)
	if s.metricsApp != nil {
		err = errors.Join(err, s.metricsApp.ShutdownWithContext(ctx))
	}
	s.testChats.Close() // after the requests: none is left using a chat
	return err
}

// readyz answers 200 "ready", or 503 with the reasons it is not, one a
// line.
func (s *Server) readyz(c *fiber.Ctx) error {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(); err != nil {
			return c.Status(fiber.StatusServiceUnavailable).SendString("not ready:\n" + err.Error() + "\n")
		}
	}
	return c.SendString("ready")
}

// metricsHandler answers GET /metrics: Prometheus text, behind
// Config.MetricsToken when one is set.
func (s *Server) metricsHandler(c *fiber.Ctx) error {
	if want := s.cfg.MetricsToken; want != "" {
		scheme, got, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(want)) != 1 {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="parley metrics"`)
			return fiber.NewError(fiber.StatusUnauthorized, "the metrics need Authorization: Bearer <metrics token>")
		}
	}
	c.Set(fiber.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	_, err := s.cfg.Metrics.WriteTo(c)
	return err
}

// apiError is the body of every API error: a message, and for an invalid
// flow its problems.
type apiError struct {
	Error    string `json:"error"`
	Problems any    `json:"problems,omitempty"`
}

// internalError is what a 500 says: the cause is in the log, not for the
// client.
const internalError = "internal error; see the server log"

func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	code := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code = fe.Code
	}
	msg := err.Error()
	if code >= 500 {
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
		msg = internalError
	}
	return c.Status(code).JSON(apiError{Error: msg})
}
