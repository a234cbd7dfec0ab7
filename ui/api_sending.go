package ui

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/ui/auth"
)

// Sending is the dispatcher's pause control: *engine.Dispatcher.
type Sending interface {
	Pauses() []engine.Pause
	Resume(number string) []engine.Pause
}

// sendingRoutes tell whether WhatsApp sends are paused, for every signed-in
// user (the web app shows a banner: agents' replies and the bots' wait in
// the queue meanwhile), and let an admin resume them once the cause is
// fixed.
func (s *Server) sendingRoutes(api fiber.Router) {
	api.Get("/sending", auth.Require(auth.Admin, auth.Analyst, auth.Agent), s.getSending)
	api.Post("/sending/resume", auth.Require(auth.Admin), s.resumeSending)
}

func (s *Server) getSending(c *fiber.Ctx) error {
	ps := []engine.Pause{}
	if s.cfg.Sending != nil {
		ps = append(ps, s.cfg.Sending.Pauses()...)
	}
	return c.JSON(fiber.Map{"paused": ps})
}

// resumeSending ends the pauses of {"number": id}, or every pause without
// a number, and answers those it ended.
func (s *Server) resumeSending(c *fiber.Ctx) error {
	if s.cfg.Sending == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "no dispatcher runs in this process")
	}
	var req struct {
		Number string `json:"number"`
	}
	if len(c.Body()) > 0 {
		if err := json.Unmarshal(c.Body(), &req); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, `the body is not {"number": "<phone number id>"}: `+err.Error())
		}
	}
	ended := append([]engine.Pause{}, s.cfg.Sending.Resume(req.Number)...)
	return c.JSON(fiber.Map{"resumed": ended})
}
