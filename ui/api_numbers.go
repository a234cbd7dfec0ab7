package ui

import (
	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/ui/auth"
)

// numberRoutes registers the business numbers (issue 4 §6): each with the
// messaging limit enforced and where it comes from, its usage in the moving
// 24 h and when the next place frees, the quality and tier Meta last
// announced (phone_number_quality_update) with their history, and account
// restrictions. For admins and analysts.
func (s *Server) numberRoutes(api fiber.Router) {
	api.Get("/numbers", auth.Require(auth.Admin, auth.Analyst), s.listNumbers)
	api.Get("/numbers/:id", auth.Require(auth.Admin, auth.Analyst), s.getNumber)
}

func (s *Server) listNumbers(c *fiber.Ctx) error {
	ns, err := s.cfg.Engine.Numbers(c.UserContext())
	if err != nil {
		return err
	}
	if ns == nil {
		ns = []engine.NumberView{}
	}
	return c.JSON(fiber.Map{"numbers": ns})
}

// getNumber is one number, by its phone number id or display number.
func (s *Server) getNumber(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	ns, err := s.cfg.Engine.Numbers(c.UserContext())
	if err != nil {
		return err
	}
	for _, n := range ns {
		if n.Key == id || n.PhoneNumberID == id || n.DisplayPhoneNumber == id {
			return c.JSON(n)
		}
	}
	return fiber.NewError(fiber.StatusNotFound, "number not found")
}
