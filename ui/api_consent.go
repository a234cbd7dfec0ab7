package ui

import (
	"cmp"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/ui/auth"
)

// consentRoutes registers a contact's consent: its history, and recording
// an opt-in or opt-out collected elsewhere (a web form, an SMS, a call).
func (s *Server) consentRoutes(api fiber.Router) {
	api.Get("/contacts/:key/consent", auth.Require(auth.Admin, auth.Agent), s.getConsent)
	api.Post("/contacts/:key/consent", auth.Require(auth.Admin, auth.Agent), s.postConsent)
}

// consentView is a contact's effective consent and its history, oldest
// first; the history is an empty list, never null.
type consentView struct {
	Contact         model.ContactKey     `json:"contact"`
	OptedIn         bool                 `json:"opted_in"`
	OptedInAt       time.Time            `json:"opted_in_at,omitzero"`
	OptedOut        bool                 `json:"opted_out"`
	MarketingOptOut bool                 `json:"marketing_opt_out"`
	Consent         []model.ConsentEvent `json:"consent"`
}

func consentOf(c *model.Contact) consentView {
	v := consentView{
		Contact: c.Key, OptedIn: c.OptedIn, OptedInAt: c.OptedInAt, OptedOut: c.OptedOut,
		MarketingOptOut: c.MarketingOptOut, Consent: c.Consent,
	}
	if v.Consent == nil {
		v.Consent = []model.ConsentEvent{}
	}
	return v
}

func (s *Server) getConsent(c *fiber.Ctx) error {
	key, err := contactParam(c)
	if err != nil {
		return err
	}
	if ok, err := s.mayReadContact(c, model.ContactKey(key)); err != nil || !ok {
		return cmp.Or(err, errContactNotFound)
	}
	contact, err := s.cfg.Engine.Contact(c.UserContext(), model.ContactKey(key))
	if err != nil {
		return apiErr(err, "contact")
	}
	return c.JSON(consentOf(contact))
}

// maxPurposeBytes caps the purpose text kept with a consent event.
const maxPurposeBytes = 2000

// consentRequest is the body of POST /contacts/:key/consent.
type consentRequest struct {
	Kind    model.ConsentKind   `json:"kind"`
	Source  model.ConsentSource `json:"source"`
	Purpose string              `json:"purpose"`
	By      string              `json:"by"`
}

// postConsent records a consent event, creating the contact if it is not
// known yet (an opt-in is often collected before the first message). "by"
// defaults to the acting user.
func (s *Server) postConsent(c *fiber.Ctx) error {
	key, err := contactParam(c)
	if err != nil {
		return err
	}
	if phone, id, ok := strings.Cut(key, ":"); !ok || phone == "" || id == "" {
		return fiber.NewError(fiber.StatusBadRequest, "a contact key is <phone_number_id>:<wa_id or user_id>")
	}
	if ok, err := s.mayReadContact(c, model.ContactKey(key)); err != nil || !ok {
		return cmp.Or(err, errContactNotFound)
	}
	var req consentRequest
	if err := json.Unmarshal(c.Body(), &req); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "the body is not a consent event: "+err.Error())
	}
	if len(req.By) > maxUserBytes || len(req.Purpose) > maxPurposeBytes {
		return fiber.NewError(fiber.StatusBadRequest, "by or purpose is too long")
	}
	if req.By == "" {
		req.By = actor(c)
	}
	contact, err := s.cfg.Engine.RecordConsent(c.UserContext(), model.ContactKey(key), model.ConsentEvent{
		Kind: req.Kind, Source: req.Source, Purpose: req.Purpose, By: req.By,
	})
	if errors.Is(err, model.ErrInvalidConsent) {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	if err != nil {
		return apiErr(err, "contact")
	}
	return c.Status(fiber.StatusCreated).JSON(consentOf(contact))
}
