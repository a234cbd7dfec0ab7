package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/ui/auth"
	"github.com/parleyhq/parley/whatsapp"
)

// maxTemplateBytes caps a posted template: a body is at most 1024
// characters and there are at most ten buttons (docs/whatsapp.md §4.5), so
// a real template is a few KB.
const maxTemplateBytes = 64 << 10

// templateRoutes registers the templates API: the registry's templates
// with their status, quality and history, and creation through the Graph
// API. See README.md, "REST API".
func (s *Server) templateRoutes(api fiber.Router) {
	api.Get("/templates", auth.Require(auth.Admin, auth.Analyst, auth.Agent), s.listTemplates)
	api.Post("/templates", auth.Require(auth.Admin, auth.Analyst), s.createTemplate)
	api.Get("/templates/:name/:language", auth.Require(auth.Admin, auth.Analyst, auth.Agent), s.getTemplate)
}

// templateSummary is a template in a listing.
type templateSummary struct {
	Name            string `json:"name"`
	Language        string `json:"language"`
	Category        string `json:"category"`
	Status          string `json:"status"`
	Quality         string `json:"quality,omitempty"`
	RejectedReason  string `json:"rejected_reason,omitempty"`
	ParameterFormat string `json:"parameter_format,omitempty"`
	HeaderParams    int    `json:"header_params"`
	BodyParams      int    `json:"body_params"`
	QuickReplies    int    `json:"quick_replies"`
	ID              string `json:"id,omitempty"`
	// WABAID is the WhatsApp Business Account the template belongs to
	// (with several WABAs, a name and language may be in each).
	WABAID string `json:"waba_id,omitempty"`
	// Shape is what a send fills, part by part; Texts its words, variables
	// unfilled: what the editor's template node shows filled in.
	Shape *model.TemplateShape `json:"shape,omitempty"`
	Texts model.TemplateTexts  `json:"texts,omitzero"`
	// Incomplete: known from a webhook only, not sendable until a sync.
	Incomplete bool      `json:"incomplete,omitempty"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// templateDetail is a template with its buttons and its history, oldest
// change first.
type templateDetail struct {
	templateSummary
	Texts   model.TemplateTexts        `json:"texts"`
	Buttons []model.TemplateButtonInfo `json:"buttons"`
	History []model.TemplateChange     `json:"history"`
}

func summarizeTemplate(r *model.TemplateRecord) templateSummary {
	return templateSummary{
		Name: r.Name, Language: r.Language, Category: r.Category, Status: r.Status, Quality: r.Quality,
		RejectedReason: r.RejectedReason, ParameterFormat: r.ParameterFormat,
		HeaderParams: r.HeaderParams, BodyParams: r.BodyParams, QuickReplies: r.QuickReplies,
		ID: r.ID, WABAID: r.WABAID, Shape: r.Shape, Texts: r.Texts, Incomplete: r.Incomplete, UpdatedAt: r.UpdatedAt,
	}
}

func detailTemplate(r *model.TemplateRecord) templateDetail {
	d := templateDetail{templateSummary: summarizeTemplate(r), Texts: r.Texts, Buttons: r.Buttons, History: r.History}
	if d.Buttons == nil {
		d.Buttons = []model.TemplateButtonInfo{}
	}
	if d.History == nil {
		d.History = []model.TemplateChange{}
	}
	return d
}

// registry is the template registry, or a 503 when none is configured.
func (s *Server) registry(c *fiber.Ctx) (*templates.Registry, error) {
	if s.cfg.Templates == nil {
		return nil, c.Status(fiber.StatusServiceUnavailable).JSON(apiError{Error: "no template registry is configured"})
	}
	return s.cfg.Templates, nil
}

// listTemplates lists every template by name then language, with when the
// registry last synced with Meta (absent before the first sync).
func (s *Server) listTemplates(c *fiber.Ctx) error {
	reg, err := s.registry(c)
	if reg == nil {
		return err
	}
	recs := reg.List()
	out := make([]templateSummary, len(recs))
	for i := range recs {
		out[i] = summarizeTemplate(&recs[i])
	}
	return c.JSON(struct {
		Templates []templateSummary `json:"templates"`
		SyncedAt  time.Time         `json:"synced_at,omitzero"`
	}{out, reg.LastSync()})
}

func (s *Server) getTemplate(c *fiber.Ctx) error {
	reg, err := s.registry(c)
	if reg == nil {
		return err
	}
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	lang, err := param(c, "language")
	if err != nil {
		return err
	}
	// ?waba_id= names the WABA; the default one without it.
	rec, ok := reg.RecordIn(c.Query("waba_id"), name, lang)
	if !ok {
		return fiber.NewError(fiber.StatusNotFound, "template not found")
	}
	return c.JSON(detailTemplate(&rec))
}

// createTemplate submits the posted template (Meta's creation body: name,
// language, category, parameter_format, components) for review through
// the Graph API, and answers 201 with its record, PENDING. Meta's verdict
// arrives later, by webhook. A template Meta refuses outright is 422 with
// Meta's words; Meta unreachable or failing is 502.
func (s *Server) createTemplate(c *fiber.Ctx) error {
	reg, err := s.registry(c)
	if reg == nil {
		return err
	}
	body := c.Body()
	if len(body) > maxTemplateBytes {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "template over "+strconv.Itoa(maxTemplateBytes)+" bytes")
	}
	var t whatsapp.Template
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "the body is not a template: "+err.Error())
	}
	if dec.More() {
		return fiber.NewError(fiber.StatusBadRequest, "the body is not a template: more than one JSON value")
	}
	rec, err := reg.Create(c.UserContext(), t, actor(c))
	var apiErr *whatsapp.APIError
	switch {
	case errors.Is(err, templates.ErrInvalidTemplate):
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	case errors.Is(err, templates.ErrNoTemplateAPI):
		return c.Status(fiber.StatusServiceUnavailable).JSON(apiError{Error: err.Error()})
	case errors.As(err, &apiErr) && whatsapp.Classify(err) == whatsapp.Permanent && apiErr.HTTPStatus < 500:
		return c.Status(fiber.StatusUnprocessableEntity).JSON(apiError{Error: "Meta refused the template: " + metaWords(apiErr)})
	case err != nil:
		s.log.Error("creating a template", "template", t.Name, "language", t.Language, "err", err)
		return c.Status(fiber.StatusBadGateway).JSON(apiError{Error: "the Graph API failed: " + err.Error() + "; if Meta created the template all the same, the next sync lists it"})
	}
	return c.Status(fiber.StatusCreated).JSON(detailTemplate(&rec))
}

// metaWords is what Meta said of a refusal, for a person to act on.
func metaWords(e *whatsapp.APIError) string {
	msg := e.Message
	for _, more := range []string{e.UserMsg, e.Details} {
		if more != "" && more != msg {
			msg += " — " + more
		}
	}
	return msg + " (code " + strconv.Itoa(e.Code) + ")"
}
