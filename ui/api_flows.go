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
	"github.com/parleyhq/parley/engine/model"
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
	api.Get("/flows/:id/publish-preview", auth.Require(auth.Admin, auth.Analyst), s.publishPreview)
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
	// DraftRev is the draft's revision: a save sends it back as ?base=
	// and gets 409 when someone else saved in between.
	DraftRev int  `json:"draft_rev"`
	Archived bool `json:"archived"`
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
	Note        string    `json:"note,omitempty"`
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
	RepublishedFrom int `json:"republished_from,omitempty"`
	// Unchanged is true when the draft was already the latest version:
	// nothing was published, and the version is that one.
	Unchanged bool           `json:"unchanged,omitempty"`
	Problems  flows.Problems `json:"problems"`
}

// draftConflict answers a save or publish from an old revision of the
// draft (409): who saved the draft since, when, and its revision now.
type draftConflict struct {
	Error    string    `json:"error"`
	DraftRev int       `json:"draft_rev"`
	By       string    `json:"draft_updated_by,omitempty"`
	At       time.Time `json:"draft_updated_at"`
}

func conflictAnswer(c *fiber.Ctx, err error) error {
	var dc *engine.DraftConflict
	if !errors.As(err, &dc) {
		return err
	}
	return c.Status(fiber.StatusConflict).JSON(draftConflict{Error: dc.Error(), DraftRev: dc.Current.DraftRev, By: dc.Current.DraftBy, At: dc.Current.DraftAt})
}

// publishPreview is what the publish confirmation shows: the draft's
// revision (to publish exactly it), the diff against the published
// version, and every problem, with the warnings only publishing gives.
type publishPreview struct {
	DraftRev         int             `json:"draft_rev"`
	PublishedVersion int             `json:"published_version"`
	Changed          bool            `json:"changed"`
	Diff             engine.FlowDiff `json:"diff"`
	Problems         flows.Problems  `json:"problems"`
}

func (s *Server) summarize(ctx context.Context, rec *model.FlowRecord) (flowSummary, error) {
	sum := flowSummary{
		ID: rec.ID, Name: rec.Name, PublishedVersion: rec.Published,
		DraftUpdatedAt: rec.DraftAt, DraftUpdatedBy: rec.DraftBy, DraftRev: rec.DraftRev, Archived: rec.Archived,
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
func (s *Server) flowRecord(c *fiber.Ctx) (*model.FlowRecord, error) {
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
// With ?base=N (the draft_rev the editor loaded) a draft someone else
// saved since is not overwritten: 409 with who and when.
func (s *Server) saveFlow(c *fiber.Ctx) error {
	id, err := flowParam(c)
	if err != nil {
		return err
	}
	body, err := flowBody(c)
	if err != nil {
		return err
	}
	base := -1
	if q := c.Query("base"); q != "" {
		if base, err = strconv.Atoi(q); err != nil || base < 0 {
			return fiber.NewError(fiber.StatusBadRequest, "base must be the draft_rev the draft was loaded at (0, 1, …)")
		}
	}
	ctx := c.UserContext()
	rec, problems, err := s.cfg.Engine.SaveDraftFrom(ctx, id, body, actor(c), base)
	if errors.Is(err, engine.ErrDraftConflict) {
		return conflictAnswer(c, err)
	}
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
	problems = s.teamProblems(body, problems)
	return c.JSON(savedFlow{flowSummary: sum, Valid: !problems.HasErrors(), Problems: problemsOrEmpty(problems)})
}

// teamProblems adds to a document's problems the warnings about what is
// live beside it: trigger keywords another published flow has, and
// handoffs to queues no agent serves (with an inbox). The editor shows
// them while the analyst works, not only at publish.
func (s *Server) teamProblems(doc []byte, ps flows.Problems) flows.Problems {
	f, _ := flows.Parse(doc)
	if f == nil {
		return ps
	}
	extra := s.cfg.Engine.TriggerCollisions(f)
	if s.cfg.Inbox != nil {
		extra = append(extra, s.cfg.Inbox.CheckHandoffs(f)...)
	}
	if len(extra) > 0 {
		ps = append(ps, extra...)
		flows.SortProblems(ps)
	}
	return ps
}

// handoffProblems adds to a published document's problems the warnings
// of its handoffs to queues nobody answers, as teamProblems does.
func (s *Server) handoffProblems(doc []byte, ps flows.Problems) flows.Problems {
	f, _ := flows.Parse(doc)
	if f == nil || s.cfg.Inbox == nil {
		return ps
	}
	if extra := s.cfg.Inbox.CheckHandoffs(f); len(extra) > 0 {
		ps = append(ps, extra...)
		flows.SortProblems(ps)
	}
	return ps
}

func (s *Server) validateFlow(c *fiber.Ctx) error {
	body, err := flowBody(c)
	if err != nil {
		return err
	}
	f, problems := s.cfg.Engine.Validate(body)
	problems = s.teamProblems(body, problems)
	return c.JSON(validation{Valid: f != nil && !problems.HasErrors(), Problems: problemsOrEmpty(problems)})
}

// publishRequest is the optional body of a publish: the publisher's note,
// and the draft revision they confirmed (from the preview).
type publishRequest struct {
	Note     string `json:"note"`
	DraftRev *int   `json:"draft_rev"`
}

// maxNoteLen caps a publish note: a line or two for the history.
const maxNoteLen = 500

// publishFlow publishes the draft, or with ?version=N publishes version N
// again as the newest (a rollback). A document with errors is refused with
// 422 and every problem; a draft that is the latest version already makes
// no version (200, unchanged); a draft_rev other than the draft's is 409.
func (s *Server) publishFlow(c *fiber.Ctx) error {
	id, err := flowParam(c)
	if err != nil {
		return err
	}
	ctx, by, eng := c.UserContext(), actor(c), s.cfg.Engine
	var (
		v        *model.FlowVersion
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
		var req publishRequest
		if len(c.Body()) > 0 {
			if err := json.Unmarshal(c.Body(), &req); err != nil {
				return fiber.NewError(fiber.StatusBadRequest, "the body must be {\"note\": \"…\", \"draft_rev\": N}")
			}
		}
		if len([]rune(req.Note)) > maxNoteLen {
			return fiber.NewError(fiber.StatusBadRequest, "the note is over "+strconv.Itoa(maxNoteLen)+" characters")
		}
		rev := -1
		if req.DraftRev != nil {
			rev = *req.DraftRev
		}
		v, problems, err = eng.PublishDraft(ctx, id, by, req.Note, rev)
	}
	if errors.Is(err, engine.ErrInvalidFlow) {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(apiError{Error: err.Error(), Problems: problemsOrEmpty(problems)})
	}
	if errors.Is(err, engine.ErrDraftConflict) {
		return conflictAnswer(c, err)
	}
	if errors.Is(err, engine.ErrUnchanged) && v != nil {
		return c.JSON(published{versionSummary: summarizeVersion(v), Unchanged: true, Problems: flows.Problems{}})
	}
	if err != nil {
		return apiErr(err, what)
	}
	problems = s.handoffProblems(v.Doc, problems) // the engine gave the trigger collisions
	return c.Status(fiber.StatusCreated).JSON(published{
		versionSummary: summarizeVersion(v), RepublishedFrom: from, Problems: problemsOrEmpty(problems),
	})
}

func summarizeVersion(v *model.FlowVersion) versionSummary {
	return versionSummary{Flow: v.Flow, Version: v.Version, PublishedAt: v.PublishedAt, PublishedBy: v.PublishedBy, Note: v.Note}
}

// publishPreview answers GET /flows/:id/publish-preview.
func (s *Server) publishPreview(c *fiber.Ctx) error {
	rec, err := s.flowRecord(c)
	if err != nil {
		return err
	}
	ctx, eng := c.UserContext(), s.cfg.Engine
	var published []byte
	if rec.Published > 0 {
		v, err := eng.Store().FlowVersion(ctx, rec.ID, rec.Published)
		if err != nil {
			return err
		}
		published = v.Doc
	}
	changed, err := eng.DraftChanged(ctx, rec)
	if err != nil {
		return err
	}
	diff, err := engine.DiffFlows(published, rec.Draft)
	if err != nil {
		return fiber.NewError(fiber.StatusUnprocessableEntity, err.Error())
	}
	_, problems := eng.Validate(rec.Draft)
	problems = s.teamProblems(rec.Draft, problems)
	return c.JSON(publishPreview{DraftRev: rec.DraftRev, PublishedVersion: rec.Published, Changed: changed, Diff: diff, Problems: problemsOrEmpty(problems)})
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
