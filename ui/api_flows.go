package ui

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/ui/auth"
)

// flowRoutes registers the flows API: drafts (saved even when invalid,
// with their problems), validation, publishing and rollback, versions,
// archiving. See README.md, "REST API".
func (s *Server) flowRoutes(api fiber.Router) {
	api.Get("/flows", auth.Require(auth.Admin, auth.Analyst), s.listFlows)
	api.Post("/flows/validate", auth.Require(auth.Admin, auth.Analyst), s.validateFlow)
	api.Post("/flows/try-http", auth.Require(auth.Admin, auth.Analyst), s.tryHTTP)
	api.Get("/flows/:id", auth.Require(auth.Admin, auth.Analyst), s.getFlow)
	api.Put("/flows/:id", auth.Require(auth.Admin, auth.Analyst), s.saveFlow)
	api.Post("/flows/:id/publish", auth.Require(auth.Admin, auth.Analyst), s.publishFlow)
	api.Get("/flows/:id/versions", auth.Require(auth.Admin, auth.Analyst), s.listVersions)
	api.Get("/flows/:id/versions/:n", auth.Require(auth.Admin, auth.Analyst), s.getVersion)
	api.Post("/flows/:id/archive", auth.Require(auth.Admin, auth.Analyst), s.archiveFlow(true))
	api.Post("/flows/:id/unarchive", auth.Require(auth.Admin, auth.Analyst), s.archiveFlow(false))
}

// Flow statuses in listings: where the draft stands against what runs.
const (
	flowDraft     = "draft"     // never published
	flowPublished = "published" // the draft is the latest published version
	flowChanged   = "changed"   // published, and the draft has unpublished changes
)

// flowSummary is a flow in a listing.
type flowSummary struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// PublishedVersion is the latest published version, 0 if none.
	PublishedVersion int       `json:"published_version"`
	DraftUpdatedAt   time.Time `json:"draft_updated_at,omitzero"`
	DraftUpdatedBy   string    `json:"draft_updated_by,omitempty"`
	Archived         bool      `json:"archived"`
}

// flowDetail is a flow with its draft document.
type flowDetail struct {
	flowSummary
	Draft json.RawMessage `json:"draft"`
}

// savedFlow answers a saved draft: the flow, and what is wrong with the
// draft (it was saved all the same).
type savedFlow struct {
	flowSummary
	Valid    bool           `json:"valid"`
	Problems flows.Problems `json:"problems"`
}

// validation answers POST /flows/validate.
type validation struct {
	Valid    bool           `json:"valid"`
	Problems flows.Problems `json:"problems"`
}

// versionSummary is a published version in a listing.
type versionSummary struct {
	Flow        string    `json:"flow"`
	Version     int       `json:"version"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by,omitempty"`
}

// versionDetail is a published version with its document.
type versionDetail struct {
	versionSummary
	Doc json.RawMessage `json:"doc"`
}

// published answers a publish: the new version, and the warnings the
// document still has.
type published struct {
	versionSummary
	// RepublishedFrom is the old version a rollback published again.
	RepublishedFrom int            `json:"republished_from,omitempty"`
	Problems        flows.Problems `json:"problems"`
}

func (s *Server) summarize(ctx context.Context, rec *engine.FlowRecord) (flowSummary, error) {
	sum := flowSummary{
		ID: rec.ID, Name: rec.Name, PublishedVersion: rec.Published,
		DraftUpdatedAt: rec.DraftAt, DraftUpdatedBy: rec.DraftBy, Archived: rec.Archived,
		Status: flowDraft,
	}
	if rec.Published > 0 {
		changed, err := s.cfg.Engine.DraftChanged(ctx, rec)
		if err != nil {
			return sum, err
		}
		sum.Status = flowPublished
		if changed {
			sum.Status = flowChanged
		}
	}
	return sum, nil
}

func (s *Server) listFlows(c *fiber.Ctx) error {
	ctx := c.UserContext()
	recs, err := s.cfg.Engine.Store().Flows(ctx)
	if err != nil {
		return err
	}
	out := make([]flowSummary, 0, len(recs))
	for _, rec := range recs {
		sum, err := s.summarize(ctx, rec)
		if err != nil {
			return err
		}
		out = append(out, sum)
	}
	return c.JSON(fiber.Map{"flows": out})
}

// flowRecord loads the flow named in the path, or answers 404.
func (s *Server) flowRecord(c *fiber.Ctx) (*engine.FlowRecord, error) {
	id, err := flowParam(c)
	if err != nil {
		return nil, err
	}
	rec, err := s.cfg.Engine.Store().Flow(c.UserContext(), id)
	return rec, apiErr(err, "flow")
}

func (s *Server) getFlow(c *fiber.Ctx) error {
	rec, err := s.flowRecord(c)
	if err != nil {
		return err
	}
	sum, err := s.summarize(c.UserContext(), rec)
	if err != nil {
		return err
	}
	return c.JSON(flowDetail{flowSummary: sum, Draft: rawJSON(rec.Draft)})
}

// flowBody is the posted flow document: at most flows.MaxFlowBytes (413
// beyond), and JSON (400 otherwise). Only the document's structure is
// left to the validator.
func flowBody(c *fiber.Ctx) ([]byte, error) {
	body := c.Body()
	if len(body) > flows.MaxFlowBytes {
		return nil, fiber.NewError(fiber.StatusRequestEntityTooLarge, "flow document over "+strconv.Itoa(flows.MaxFlowBytes)+" bytes")
	}
	if !json.Valid(body) {
		return nil, fiber.NewError(fiber.StatusBadRequest, "the body is not a JSON document")
	}
	return body, nil
}

// saveFlow stores the body as the flow's draft. An invalid draft is saved
// too — an editor saves work in progress — and its problems come back.
func (s *Server) saveFlow(c *fiber.Ctx) error {
	id, err := flowParam(c)
	if err != nil {
		return err
	}
	body, err := flowBody(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	rec, problems, err := s.cfg.Engine.SaveDraft(ctx, id, body, actor(c))
	switch {
	case errors.Is(err, engine.ErrNotFlowDocument), errors.Is(err, engine.ErrFlowIDMismatch):
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	case errors.Is(err, engine.ErrFlowTooLarge):
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, err.Error())
	case err != nil:
		return err
	}
	sum, err := s.summarize(ctx, rec)
	if err != nil {
		return err
	}
	return c.JSON(savedFlow{flowSummary: sum, Valid: !problems.HasErrors(), Problems: problemsOrEmpty(problems)})
}

func (s *Server) validateFlow(c *fiber.Ctx) error {
	body, err := flowBody(c)
	if err != nil {
		return err
	}
	f, problems := s.cfg.Engine.Validate(body)
	return c.JSON(validation{Valid: f != nil && !problems.HasErrors(), Problems: problemsOrEmpty(problems)})
}

// publishFlow publishes the draft, or with ?version=N publishes version N
// again as the newest (a rollback). A document with errors is refused with
// 422 and every problem.
func (s *Server) publishFlow(c *fiber.Ctx) error {
	id, err := flowParam(c)
	if err != nil {
		return err
	}
	ctx, by, eng := c.UserContext(), actor(c), s.cfg.Engine
	var (
		v        *engine.FlowVersion
		problems flows.Problems
		from     int
		what     = "flow"
	)
	if q := c.Query("version"); q != "" {
		from, err = strconv.Atoi(q)
		if err != nil || from < 1 {
			return fiber.NewError(fiber.StatusBadRequest, "version must be a version number (1, 2, …)")
		}
		what = "flow version"
		v, problems, err = eng.Rollback(ctx, id, from, by)
	} else {
		v, problems, err = eng.PublishDraft(ctx, id, by)
	}
	if errors.Is(err, engine.ErrInvalidFlow) {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(apiError{Error: err.Error(), Problems: problemsOrEmpty(problems)})
	}
	if err != nil {
		return apiErr(err, what)
	}
	return c.Status(fiber.StatusCreated).JSON(published{
		versionSummary: summarizeVersion(v), RepublishedFrom: from, Problems: problemsOrEmpty(problems),
	})
}

func summarizeVersion(v *engine.FlowVersion) versionSummary {
	return versionSummary{Flow: v.Flow, Version: v.Version, PublishedAt: v.PublishedAt, PublishedBy: v.PublishedBy}
}

func (s *Server) listVersions(c *fiber.Ctx) error {
	rec, err := s.flowRecord(c)
	if err != nil {
		return err
	}
	vs, err := s.cfg.Engine.Store().FlowVersions(c.UserContext(), rec.ID)
	if err != nil {
		return err
	}
	out := make([]versionSummary, 0, len(vs))
	for _, v := range slices.Backward(vs) {
		out = append(out, summarizeVersion(v))
	}
	return c.JSON(fiber.Map{"versions": out})
}

func (s *Server) getVersion(c *fiber.Ctx) error {
	id, err := flowParam(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Params("n"))
	if err != nil || n < 1 {
		return fiber.NewError(fiber.StatusBadRequest, "version must be a version number (1, 2, …)")
	}
	v, err := s.cfg.Engine.Store().FlowVersion(c.UserContext(), id, n)
	if err != nil {
		return apiErr(err, "flow version")
	}
	return c.JSON(versionDetail{versionSummary: summarizeVersion(v), Doc: rawJSON(v.Doc)})
}

// archiveFlow archives or restores a flow: an archived flow's triggers
// start nothing; running conversations go on.
func (s *Server) archiveFlow(archived bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := flowParam(c)
		if err != nil {
			return err
		}
		ctx := c.UserContext()
		if err := s.cfg.Engine.Archive(ctx, id, archived); err != nil {
			return apiErr(err, "flow")
		}
		rec, err := s.cfg.Engine.Store().Flow(ctx, id)
		if err != nil {
			return apiErr(err, "flow")
		}
		sum, err := s.summarize(ctx, rec)
		if err != nil {
			return err
		}
		return c.JSON(sum)
	}
}

// rawJSON embeds a stored document as JSON, not base64: null when there is
// none, and a JSON string in the unexpected case that it is not JSON (it
// was stored by something other than this API), so the answer stays valid.
func rawJSON(doc []byte) json.RawMessage {
	if len(doc) == 0 {
		return json.RawMessage("null")
	}
	if !json.Valid(doc) {
		s, _ := json.Marshal(string(doc))
		return s
	}
	return doc
}
