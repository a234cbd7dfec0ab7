package ui

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/ui/auth"
)

// Analytics bounds.
const (
	// DefaultAnalyticsDays is the range shown without from: the last 30
	// UTC days, today included.
	DefaultAnalyticsDays = 30
	// MaxAnalyticsDays bounds one request's range: a few years of days.
	MaxAnalyticsDays = 3 * 366
)

// analyticsRoutes registers the flow analytics API: the counters the
// engine keeps per node as conversations run (engine/analytics.go).
//
//	GET /flows/:id/analytics?from=YYYY-MM-DD&to=YYYY-MM-DD[&version=N]
func (s *Server) analyticsRoutes(api fiber.Router) {
	api.Get("/flows/:id/analytics", auth.Require(auth.Admin, auth.Analyst), s.flowAnalytics)
}

// analyticsView answers GET /flows/:id/analytics: each node's counters
// summed over the UTC days from to to, both included. A node no
// conversation reached is absent.
type analyticsView struct {
	From    string                       `json:"from"`
	To      string                       `json:"to"`
	Version int                          `json:"version,omitempty"`
	Nodes   map[string]*engine.NodeStats `json:"nodes"`
}

const dayLayout = "2006-01-02"

func (s *Server) flowAnalytics(c *fiber.Ctx) error {
	rec, err := s.flowRecord(c)
	if err != nil {
		return err
	}
	to := engine.Day(s.cfg.Engine.Clock().Now())
	if q := c.Query("to"); q != "" {
		if to, err = time.Parse(dayLayout, q); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "to must be a date like 2026-01-31")
		}
	}
	from := to.AddDate(0, 0, 1-DefaultAnalyticsDays)
	if q := c.Query("from"); q != "" {
		if from, err = time.Parse(dayLayout, q); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "from must be a date like 2026-01-01")
		}
	}
	switch {
	case from.After(to):
		return fiber.NewError(fiber.StatusBadRequest, "from is after to")
	case to.Sub(from) >= MaxAnalyticsDays*24*time.Hour:
		return fiber.NewError(fiber.StatusBadRequest, "the range is over "+strconv.Itoa(MaxAnalyticsDays)+" days")
	}
	version := 0
	if q := c.Query("version"); q != "" {
		if version, err = strconv.Atoi(q); err != nil || version < 1 {
			return fiber.NewError(fiber.StatusBadRequest, "version must be a version number (1, 2, …)")
		}
	}
	a, err := s.cfg.Engine.FlowAnalytics(c.UserContext(), rec.ID, from, to, version)
	if err != nil {
		return err
	}
	return c.JSON(analyticsView{From: from.Format(dayLayout), To: to.Format(dayLayout), Version: version, Nodes: a.Nodes})
}
