package ui

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
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
//	GET /flows/:id/results.csv[?from=&to=&version=N]   (api_results.go)
func (s *Server) analyticsRoutes(api fiber.Router) {
	api.Get("/flows/:id/analytics", auth.Require(auth.Admin, auth.Analyst), s.flowAnalytics)
	api.Get("/flows/:id/results.csv", auth.Require(auth.Admin, auth.Analyst), s.flowResults)
}

// analyticsView answers GET /flows/:id/analytics: each node's counters
// summed over the UTC days from to to, both included. A node no
// conversation reached is absent.
type analyticsView struct {
	From    string                       `json:"from"`
	To      string                       `json:"to"`
	Version int                          `json:"version,omitempty"`
	Nodes   map[string]*engine.NodeStats `json:"nodes"`
	// Days is the trend: each UTC day of the range, oldest first.
	Days []dayTrend `json:"days"`
}

// dayTrend is one day of a flow's trend: conversations that started and
// that stopped, by how.
type dayTrend struct {
	Day     string `json:"day"`
	Started uint64 `json:"started"`
	Ended   uint64 `json:"ended"`
	Expired uint64 `json:"expired"`
	Failed  uint64 `json:"failed"`
}

const dayLayout = "2006-01-02"

func (s *Server) flowAnalytics(c *fiber.Ctx) error {
	rec, err := s.flowRecord(c)
	if err != nil {
		return err
	}
	to := model.Day(s.cfg.Engine.Clock().Now())
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
	days, err := s.flowTrend(c.UserContext(), rec.ID, from, to, version)
	if err != nil {
		return err
	}
	return c.JSON(analyticsView{From: from.Format(dayLayout), To: to.Format(dayLayout), Version: version, Nodes: a.Nodes, Days: days})
}

// flowTrend counts, for each UTC day of from to to, the conversations of
// a flow (of one version, or all with 0) that started (from the
// conversations themselves: a start node a flow loops back to is entered
// more often than conversations start) and that stopped (the counters).
func (s *Server) flowTrend(ctx context.Context, flow string, from, to time.Time, version int) ([]dayTrend, error) {
	st := s.cfg.Engine.Store()
	stats, err := st.FlowStats(ctx, flow, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading the trend of flow %s: %w", flow, err)
	}
	index := map[string]int{}
	var days []dayTrend
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		index[d.Format(dayLayout)] = len(days)
		days = append(days, dayTrend{Day: d.Format(dayLayout)})
	}
	for _, fs := range stats {
		i, ok := index[model.Day(fs.Day).Format(dayLayout)]
		if !ok || (version != 0 && fs.Version != version) {
			continue
		}
		switch fs.Kind {
		case model.CountEnded:
			days[i].Ended += fs.N
		case model.CountExpired:
			days[i].Expired += fs.N
		case model.CountFailed:
			days[i].Failed += fs.N
		}
	}
	err = eachConversation(ctx, st, model.ConversationFilter{Flow: flow}, func(conv *model.Conversation) bool {
		if i, ok := index[model.Day(conv.StartedAt).Format(dayLayout)]; ok && (version == 0 || conv.Version == version) {
			days[i].Started++
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("counting the conversations of flow %s: %w", flow, err)
	}
	return days, nil
}

// eachConversation calls fn for every conversation passing f, a page of
// the store at a time, newest activity first, until fn returns false.
func eachConversation(ctx context.Context, st model.Store, f model.ConversationFilter, fn func(*model.Conversation) bool) error {
	f.Limit = MaxPageSize
	for {
		page, next, err := st.ListConversations(ctx, f)
		if err != nil {
			return err
		}
		for _, conv := range page {
			if !fn(conv) {
				return nil
			}
		}
		if next == "" {
			return nil
		}
		f.Cursor = next
	}
}
