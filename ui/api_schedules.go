package ui

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/schedule"
	"github.com/parleyhq/parley/ui/auth"
)

// scheduleRoutes registers the schedules API: admins and analysts.
//
//	GET    /schedules                               list, each with its next fire times
//	POST   /schedules                               create
//	POST   /schedules/preview                       next fire times of {cron, timezone}, before saving
//	GET    /schedules/:id                           one
//	PUT    /schedules/:id                           replace
//	DELETE /schedules/:id                           delete (unfinished firings are cancelled)
//	POST   /schedules/:id/pause, /resume            pause, resume
//	POST   /schedules/:id/run                       run now
//	GET    /schedules/:id/firings                   history, newest first (?limit=)
//	GET    /schedules/:id/firings/:firing           one firing's report, delivery read now
//	GET    /schedules/:id/firings/:firing/sends     per-contact outcomes (?after=&limit=)
func (s *Server) scheduleRoutes(api fiber.Router) {
	g := api.Group("/schedules", auth.Require(auth.Admin, auth.Analyst), s.needSchedules)
	g.Get("", s.listSchedules)
	g.Post("", s.createSchedule)
	g.Post("/preview", s.previewSchedule)
	g.Post("/audience", s.countAudience)
	g.Get("/:id", s.getSchedule)
	g.Put("/:id", s.putSchedule)
	g.Delete("/:id", s.deleteSchedule)
	g.Post("/:id/pause", s.pauseSchedule(true))
	g.Post("/:id/resume", s.pauseSchedule(false))
	g.Post("/:id/run", s.runSchedule)
	g.Get("/:id/firings", s.listFirings)
	g.Get("/:id/firings/:firing", s.getFiring)
	g.Get("/:id/firings/:firing/sends", s.listSends)
}

// previewCount is how many fire times the API previews.
const previewCount = 5

func (s *Server) needSchedules(c *fiber.Ctx) error {
	if s.cfg.Schedules == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "schedules are not available on this server")
	}
	return c.Next()
}

// scheduleView is a schedule with its next fire times in its zone.
type scheduleView struct {
	*schedule.Schedule
	NextFires []time.Time `json:"next_fires"`
}

func (s *Server) scheduleViewOf(sc *schedule.Schedule) scheduleView {
	return scheduleView{Schedule: sc, NextFires: s.cfg.Schedules.NextFires(sc, previewCount)}
}

// scheduleErr maps the scheduler's errors: an invalid schedule is 400
// with the field at fault, a paused one 409.
func scheduleErr(c *fiber.Ctx, err error, what string) error {
	var inv *schedule.InvalidError
	switch {
	case errors.As(err, &inv):
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": inv.Error(), "field": inv.Field, "message": inv.Message})
	case errors.Is(err, schedule.ErrPaused):
		return fiber.NewError(fiber.StatusConflict, err.Error())
	}
	return apiErr(err, what)
}

func decodeSchedule(c *fiber.Ctx) (schedule.Schedule, error) {
	var in schedule.Schedule
	if err := json.Unmarshal(c.Body(), &in); err != nil {
		return in, fiber.NewError(fiber.StatusBadRequest, "the body is not a schedule: "+err.Error())
	}
	return in, nil
}

func (s *Server) listSchedules(c *fiber.Ctx) error {
	scs, err := s.cfg.Schedules.List(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]scheduleView, len(scs))
	for i, sc := range scs {
		out[i] = s.scheduleViewOf(sc)
	}
	return c.JSON(fiber.Map{"schedules": out})
}

func (s *Server) createSchedule(c *fiber.Ctx) error {
	in, err := decodeSchedule(c)
	if err != nil {
		return err
	}
	sc, err := s.cfg.Schedules.Create(c.UserContext(), in, actor(c))
	if err != nil {
		return scheduleErr(c, err, "schedule")
	}
	return c.Status(fiber.StatusCreated).JSON(s.scheduleViewOf(sc))
}

// previewRequest is the body of POST /schedules/preview.
type previewRequest struct {
	Cron     string `json:"cron"`
	TimeZone string `json:"timezone"`
	Count    int    `json:"count"`
}

func (s *Server) previewSchedule(c *fiber.Ctx) error {
	var req previewRequest
	if err := json.Unmarshal(c.Body(), &req); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "the body is not {cron, timezone}: "+err.Error())
	}
	if req.Count <= 0 {
		req.Count = previewCount
	}
	times, err := s.cfg.Schedules.Preview(req.Cron, req.TimeZone, req.Count)
	if err != nil {
		return scheduleErr(c, err, "schedule")
	}
	return c.JSON(fiber.Map{"next_fires": times})
}

// countAudience answers POST /schedules/audience {audience}: how many
// contacts the expression selects now, or why it does not compile (400,
// as saving would say).
func (s *Server) countAudience(c *fiber.Ctx) error {
	var req struct {
		Audience string `json:"audience"`
	}
	if err := json.Unmarshal(c.Body(), &req); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "the body is not {audience}: "+err.Error())
	}
	n, err := s.cfg.Schedules.CountAudience(c.UserContext(), req.Audience)
	if err != nil {
		return scheduleErr(c, err, "audience")
	}
	return c.JSON(n)
}

func (s *Server) getSchedule(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	sc, err := s.cfg.Schedules.Get(c.UserContext(), id)
	if err != nil {
		return apiErr(err, "schedule")
	}
	return c.JSON(s.scheduleViewOf(sc))
}

func (s *Server) putSchedule(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	in, err := decodeSchedule(c)
	if err != nil {
		return err
	}
	sc, err := s.cfg.Schedules.Update(c.UserContext(), id, in, actor(c))
	if err != nil {
		return scheduleErr(c, err, "schedule")
	}
	return c.JSON(s.scheduleViewOf(sc))
}

func (s *Server) deleteSchedule(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	if err := s.cfg.Schedules.Delete(c.UserContext(), id); err != nil {
		return apiErr(err, "schedule")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) pauseSchedule(paused bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := param(c, "id")
		if err != nil {
			return err
		}
		sc, err := s.cfg.Schedules.SetPaused(c.UserContext(), id, paused, actor(c))
		if err != nil {
			return apiErr(err, "schedule")
		}
		return c.JSON(s.scheduleViewOf(sc))
	}
}

func (s *Server) runSchedule(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	f, err := s.cfg.Schedules.RunNow(c.UserContext(), id, actor(c))
	if err != nil {
		return scheduleErr(c, err, "schedule")
	}
	return c.Status(fiber.StatusAccepted).JSON(f)
}

// maxFirings caps one page of history.
const maxFirings = 500

func (s *Server) listFirings(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.cfg.Schedules.Get(c.UserContext(), id); err != nil {
		return apiErr(err, "schedule")
	}
	limit, err := scheduleLimit(c, 50, maxFirings)
	if err != nil {
		return err
	}
	fs, err := s.cfg.Schedules.Firings(c.UserContext(), id, limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"firings": fs})
}

// firingParam reads the :firing of the :id schedule (404 if it is another's).
func (s *Server) firingParam(c *fiber.Ctx) (string, error) {
	id, err := param(c, "id")
	if err != nil {
		return "", err
	}
	fid, err := param(c, "firing")
	if err != nil {
		return "", err
	}
	f, err := s.cfg.Schedules.Firing(c.UserContext(), fid)
	if err != nil || f.Schedule != id {
		return "", fiber.NewError(fiber.StatusNotFound, "firing not found")
	}
	return fid, nil
}

func (s *Server) getFiring(c *fiber.Ctx) error {
	fid, err := s.firingParam(c)
	if err != nil {
		return err
	}
	rep, err := s.cfg.Schedules.Report(c.UserContext(), fid)
	if err != nil {
		return apiErr(err, "firing")
	}
	return c.JSON(rep)
}

// maxSends caps one page of per-contact outcomes.
const maxSends = 1000

func (s *Server) listSends(c *fiber.Ctx) error {
	fid, err := s.firingParam(c)
	if err != nil {
		return err
	}
	limit, err := scheduleLimit(c, 100, maxSends)
	if err != nil {
		return err
	}
	sends, err := s.cfg.Schedules.Sends(c.UserContext(), fid, model.ContactKey(c.Query("after")), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"sends": sends})
}

// scheduleLimit reads ?limit= between 1 and most, def when absent.
func scheduleLimit(c *fiber.Ctx, def, most int) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, fiber.NewError(fiber.StatusBadRequest, "limit is a number from 1 to "+strconv.Itoa(most))
	}
	return n, nil
}
