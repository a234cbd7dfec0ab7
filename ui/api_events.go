package ui

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/ui/auth"
)

// urlHost is the host of a URL, for logs: "" when it does not parse.
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// maxDeliveriesPage caps a page of a subscription's deliveries.
const maxDeliveriesPage = 200

// eventRoutes registers the admins' event webhooks: subscriptions, their
// deliveries with their attempts, replays and a test event. A signing
// secret is shown once, in the answer that made it.
func (s *Server) eventRoutes(api fiber.Router) {
	admin := auth.Require(auth.Admin)
	api.Get("/event-subscriptions", admin, s.listSubscriptions)
	api.Post("/event-subscriptions", admin, s.createSubscription)
	api.Get("/event-subscriptions/:id", admin, s.getSubscription)
	api.Put("/event-subscriptions/:id", admin, s.updateSubscription)
	api.Delete("/event-subscriptions/:id", admin, s.deleteSubscription)
	api.Get("/event-subscriptions/:id/deliveries", admin, s.listDeliveries)
	api.Post("/event-subscriptions/:id/deliveries/:seq/replay", admin, s.replayDelivery)
	api.Post("/event-subscriptions/:id/replay-failed", admin, s.replayFailed)
	api.Post("/event-subscriptions/:id/test", admin, s.testSubscription)
}

// errNoEvents answers when the server delivers no events (Config.Events nil).
var errNoEvents = fiber.NewError(fiber.StatusServiceUnavailable, "event webhooks are not delivered by this server")

// eventsError maps the events package's errors to answers.
func eventsError(err error) error {
	switch {
	case errors.Is(err, events.ErrNotFound):
		return fiber.NewError(fiber.StatusNotFound, err.Error())
	case errors.Is(err, events.ErrInvalid):
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	return err
}

// subscriptionBody is a create or update: the settings, and for an
// update whether to make a new secret.
type subscriptionBody struct {
	events.Input
	RotateSecret bool `json:"rotate_secret"`
}

func decodeSubscription(c *fiber.Ctx) (subscriptionBody, error) {
	var b subscriptionBody
	if err := json.Unmarshal(c.Body(), &b); err != nil {
		return b, fiber.NewError(fiber.StatusBadRequest, `the body is not {"url": "...", "types": [...], "enabled": true, "description": "..."}`)
	}
	return b, nil
}

func (s *Server) listSubscriptions(c *fiber.Ctx) error {
	if s.cfg.Events == nil {
		return errNoEvents
	}
	list, err := s.cfg.Events.List(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"subscriptions": list, "event_types": model.EventTypes})
}

// createSubscription answers 201 with the subscription and its secret:
// the only answer that ever holds the secret.
func (s *Server) createSubscription(c *fiber.Ctx) error {
	if s.cfg.Events == nil {
		return errNoEvents
	}
	b, err := decodeSubscription(c)
	if err != nil {
		return err
	}
	sub, secret, err := s.cfg.Events.Create(c.UserContext(), b.Input, actor(c))
	if err != nil {
		return eventsError(err)
	}
	// The URL's host only: a path or query may carry the receiver's token.
	s.log.Info("event subscription created", "subscription", sub.ID, "host", urlHost(sub.URL), "by", actor(c))
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"subscription": sub, "secret": secret})
}

func (s *Server) getSubscription(c *fiber.Ctx) error {
	if s.cfg.Events == nil {
		return errNoEvents
	}
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	sub, err := s.cfg.Events.Get(c.UserContext(), id)
	if err != nil {
		return eventsError(err)
	}
	return c.JSON(sub)
}

// updateSubscription changes the settings given; with rotate_secret the
// answer holds the new secret, shown this once.
func (s *Server) updateSubscription(c *fiber.Ctx) error {
	if s.cfg.Events == nil {
		return errNoEvents
	}
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	b, err := decodeSubscription(c)
	if err != nil {
		return err
	}
	sub, secret, err := s.cfg.Events.Update(c.UserContext(), id, b.Input, b.RotateSecret, actor(c))
	if err != nil {
		return eventsError(err)
	}
	s.log.Info("event subscription updated", "subscription", sub.ID, "enabled", sub.Enabled, "secret_rotated", b.RotateSecret, "by", actor(c))
	out := fiber.Map{"subscription": sub}
	if secret != "" {
		out["secret"] = secret
	}
	return c.JSON(out)
}

func (s *Server) deleteSubscription(c *fiber.Ctx) error {
	if s.cfg.Events == nil {
		return errNoEvents
	}
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	if err := s.cfg.Events.Delete(c.UserContext(), id); err != nil {
		return eventsError(err)
	}
	s.log.Info("event subscription deleted", "subscription", id, "by", actor(c))
	return c.SendStatus(fiber.StatusNoContent)
}

// listDeliveries answers a page of deliveries, newest first:
// ?state=pending|delivered|failed&before=<seq>&limit=N; next is the
// before of the next page (0 after the last).
func (s *Server) listDeliveries(c *fiber.Ctx) error {
	if s.cfg.Events == nil {
		return errNoEvents
	}
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	before, err := strconv.ParseUint(c.Query("before", "0"), 10, 64)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "before is a delivery's seq")
	}
	limit := c.QueryInt("limit", 50)
	if limit <= 0 || limit > maxDeliveriesPage {
		limit = maxDeliveriesPage
	}
	ds, err := s.cfg.Events.Deliveries(c.UserContext(), id, events.State(c.Query("state")), before, limit+1)
	if err != nil {
		return eventsError(err)
	}
	var next uint64
	if len(ds) > limit {
		ds = ds[:limit]
		next = ds[limit-1].Seq
	}
	return c.JSON(fiber.Map{"deliveries": ds, "next": next})
}

func (s *Server) replayDelivery(c *fiber.Ctx) error {
	if s.cfg.Events == nil {
		return errNoEvents
	}
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	seq, err := strconv.ParseUint(c.Params("seq"), 10, 64)
	if err != nil || seq == 0 {
		return fiber.NewError(fiber.StatusBadRequest, "seq is a delivery's number")
	}
	n, err := s.cfg.Events.Replay(c.UserContext(), id, []uint64{seq})
	if err != nil {
		return eventsError(err)
	}
	return c.JSON(fiber.Map{"replayed": n})
}

func (s *Server) replayFailed(c *fiber.Ctx) error {
	if s.cfg.Events == nil {
		return errNoEvents
	}
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	n, err := s.cfg.Events.Replay(c.UserContext(), id, nil)
	if err != nil {
		return eventsError(err)
	}
	return c.JSON(fiber.Map{"replayed": n})
}

// testSubscription posts a test event at once and answers how it went.
func (s *Server) testSubscription(c *fiber.Ctx) error {
	if s.cfg.Events == nil {
		return errNoEvents
	}
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	a, err := s.cfg.Events.SendTest(c.UserContext(), id)
	if err != nil {
		return eventsError(err)
	}
	return c.JSON(a)
}
