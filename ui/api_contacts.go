package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/ui/auth"
)

// contactRoutes registers the contacts API (issue 7 §5, issue 4 §2 and §6):
// the paged list, create or update one, the CSV import. GET
// /contacts/:key (api_conversations.go) shows one contact with its policy
// state (policyOf).
//
// Roles: reading contacts is for admins and agents; writing and importing,
// which record consent, for admins.
func (s *Server) contactRoutes(api fiber.Router) {
	// The whole contact list is an admin's: agents reach a contact through
	// a conversation of their queues (GET /contacts/:key), or look one up
	// by phone number (?phone=), among those contacts only.
	api.Get("/contacts", auth.Require(auth.Admin, auth.Agent), s.listContacts)
	api.Post("/contacts", auth.Require(auth.Admin), s.postContact)
	// Registered before /contacts/:key so that "import" is not a key.
	api.Post("/contacts/import", auth.Require(auth.Admin), s.importContacts)
	api.Put("/contacts/:key", auth.Require(auth.Admin), s.putContact)
}

// Page sizes of GET /contacts, and how many contacts one request reads at
// most while filtering: past that it answers the page it has, with the
// cursor to go on.
const (
	DefaultContactPage = 50
	MaxContactPage     = 200
	maxContactScan     = 5000
)

// contactItem is a contact in the listing.
type contactItem struct {
	Key             model.ContactKey `json:"key"`
	PhoneNumberID   string           `json:"phone_number_id"`
	WaID            string           `json:"wa_id,omitempty"`
	UserID          string           `json:"user_id,omitempty"`
	Name            string           `json:"name,omitempty"`
	Language        string           `json:"language,omitempty"`
	Tags            []string         `json:"tags"`
	Fields          map[string]any   `json:"fields"`
	OptedIn         bool             `json:"opted_in"`
	OptedOut        bool             `json:"opted_out"`
	MarketingOptOut bool             `json:"marketing_opt_out"`
	Unreachable     bool             `json:"unreachable"`
	LastInboundAt   time.Time        `json:"last_inbound_at,omitzero"`
	// WindowClosedAt: Meta closed the window early (a late 131047).
	WindowClosedAt time.Time `json:"window_closed_at,omitzero"`
}

func contactItemOf(c *model.Contact) contactItem {
	it := contactItem{
		Key: c.Key, PhoneNumberID: c.PhoneNumberID, WaID: c.WaID, UserID: c.UserID, Name: c.Name, Language: c.Language,
		Tags: c.Tags, Fields: c.Fields, OptedIn: c.OptedIn, OptedOut: c.OptedOut, MarketingOptOut: c.MarketingOptOut,
		Unreachable: c.Unreachable, LastInboundAt: c.LastInboundAt, WindowClosedAt: c.WindowClosedAt,
	}
	if it.Tags == nil {
		it.Tags = []string{}
	}
	if it.Fields == nil {
		it.Fields = map[string]any{}
	}
	return it
}

// listContacts pages the contacts in key order: ?after= (the previous
// page's next_after), ?limit=, and the filters ?tag= and ?opted_in=true|false
// (opted in and not opted out, or not). next_after is "" after the last
// page (a full last page may be followed by an empty one). A filtered
// request reads at most maxContactScan contacts: it may answer fewer than
// limit with a next_after to go on.
func (s *Server) listContacts(c *fiber.Ctx) error {
	if q := c.Query("phone"); q != "" {
		return s.contactsByPhone(c, q)
	}
	if !viewer(c).Admin {
		return fiber.NewError(fiber.StatusForbidden, "the contact list is an admin's: look a customer up with ?phone=")
	}
	limit := DefaultContactPage
	if q := c.Query("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > MaxContactPage {
			return fiber.NewError(fiber.StatusBadRequest, "limit must be a number from 1 to "+strconv.Itoa(MaxContactPage))
		}
		limit = n
	}
	tag := c.Query("tag")
	var optedIn *bool
	if q := c.Query("opted_in"); q != "" {
		b, err := strconv.ParseBool(q)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "opted_in must be true or false")
		}
		optedIn = &b
	}
	match := func(ct *model.Contact) bool {
		if tag != "" && !hasTag(ct.Tags, tag) {
			return false
		}
		return optedIn == nil || *optedIn == (ct.OptedIn && !ct.OptedOut)
	}
	ctx, st := c.UserContext(), s.cfg.Engine.Store()
	after := model.ContactKey(c.Query("after"))
	items := make([]contactItem, 0, limit)
	next, scanned := "", 0
	for {
		page, err := st.ListContacts(ctx, after, limit)
		if err != nil {
			return err
		}
		full := false
		for _, ct := range page {
			scanned++
			after = ct.Key
			if match(ct) {
				items = append(items, contactItemOf(ct))
			}
			if len(items) == limit || scanned >= maxContactScan {
				full = true
				break
			}
		}
		if full {
			next = string(after)
			break
		}
		if len(page) < limit {
			break // the end of the list
		}
	}
	return c.JSON(fiber.Map{"contacts": items, "next_after": next})
}

// contactsByPhone answers GET /contacts?phone=: every contact with that
// phone number (wa_id), on any business number, in key order, in one
// answer (a customer has one contact per number at most). An agent gets
// those with a conversation they may read; the others are not theirs to
// know of.
func (s *Server) contactsByPhone(c *fiber.Ctx, phone string) error {
	wa, ok := consent.NormalizePhone(phone)
	if !ok {
		return fiber.NewError(fiber.StatusBadRequest, "phone must be a phone number: 8 to 15 digits, an optional leading +")
	}
	found, err := s.cfg.Engine.ContactsByWaID(c.UserContext(), wa)
	if err != nil {
		return err
	}
	items := make([]contactItem, 0, len(found))
	for _, ct := range found {
		ok, err := s.mayReadContact(c, ct.Key)
		if err != nil {
			return err
		}
		if ok {
			items = append(items, contactItemOf(ct))
		}
	}
	return c.JSON(fiber.Map{"contacts": items, "next_after": ""})
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

func (s *Server) decodeContact(c *fiber.Ctx) (consent.ContactInput, error) {
	var in consent.ContactInput
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fiber.NewError(fiber.StatusBadRequest, "the body is not a contact: "+err.Error())
	}
	return in, nil
}

// postContact creates a contact, or updates the one with the same key:
// 201 when created, 200 when updated. Without phone_number_id the contact
// belongs to the number Parley serves.
func (s *Server) postContact(c *fiber.Ctx) error {
	in, err := s.decodeContact(c)
	if err != nil {
		return err
	}
	if in.PhoneNumberID == "" {
		in.PhoneNumberID = s.cfg.Engine.DefaultPhoneNumberID()
	}
	return s.saveContact(c, in)
}

// putContact updates an existing contact; its key names it, and the body
// may not name another.
func (s *Server) putContact(c *fiber.Ctx) error {
	key, err := contactParam(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	existing, err := s.cfg.Engine.Contact(ctx, model.ContactKey(key))
	if err != nil {
		return apiErr(err, "contact")
	}
	in, err := s.decodeContact(c)
	if err != nil {
		return err
	}
	if (in.PhoneNumberID != "" && in.PhoneNumberID != existing.PhoneNumberID) ||
		(in.WaID != "" && in.WaID != existing.WaID) || (in.UserID != "" && in.UserID != existing.UserID) {
		return fiber.NewError(fiber.StatusBadRequest, "the body names another contact than the path")
	}
	phone, id, _ := strings.Cut(key, ":")
	in.PhoneNumberID = phone
	in.WaID, in.UserID = "", ""
	if id == existing.UserID && id != "" {
		in.UserID = id
	} else {
		in.WaID = id
	}
	return s.saveContact(c, in)
}

func (s *Server) saveContact(c *fiber.Ctx, in consent.ContactInput) error {
	ct, created, err := s.cfg.Engine.SaveContact(c.UserContext(), in, actor(c))
	switch {
	case errors.Is(err, consent.ErrInvalidContact), errors.Is(err, consent.ErrConsentConflict):
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	case err != nil:
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(fiber.Map{"contact": ct, "policy": s.policyOf(ct)})
}

// importContacts imports a CSV file (text/csv, at most
// consent.MaxImportBytes): ?dry_run=true validates and counts only;
// ?phone_number_id= is the business number of rows without one. A file with
// any problem imports nothing and answers 422 with every problem (row,
// column, why).
func (s *Server) importContacts(c *fiber.Ctx) error {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
	if ct != "text/csv" {
		return fiber.NewError(fiber.StatusUnsupportedMediaType, "send the contacts as text/csv")
	}
	if len(c.Body()) > consent.MaxImportBytes {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "the file is larger than "+strconv.Itoa(consent.MaxImportBytes)+" bytes: split it")
	}
	dry := false
	if q := c.Query("dry_run"); q != "" {
		b, err := strconv.ParseBool(q)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "dry_run must be true or false")
		}
		dry = b
	}
	phone := c.Query("phone_number_id", s.cfg.Engine.DefaultPhoneNumberID())
	res, err := s.cfg.Engine.ImportContacts(c.UserContext(), bytes.NewReader(c.Body()), consent.ImportOptions{
		PhoneNumberID: phone, By: actor(c), DryRun: dry,
	})
	switch {
	case errors.Is(err, consent.ErrImportInvalid):
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"error": err.Error(), "result": res})
	case err != nil:
		return err
	}
	return c.JSON(fiber.Map{"result": res})
}

// policyView is what WhatsApp's rules make of a contact now (issue 4 §6):
// the window and its remaining time, consent and its history, whether they
// can be reached, and the latest blocked sends with their reasons.
type policyView struct {
	Window          windowView           `json:"window"`
	OptedIn         bool                 `json:"opted_in"`
	OptedOut        bool                 `json:"opted_out"`
	MarketingOptOut bool                 `json:"marketing_opt_out"`
	Consent         []model.ConsentEvent `json:"consent"`
	// Unreachable (131026): nothing is sent until the customer writes.
	Unreachable       bool      `json:"unreachable"`
	UnreachableAt     time.Time `json:"unreachable_at,omitzero"`
	UnreachableReason string    `json:"unreachable_reason,omitempty"`
	// HoldUntil (131049): no marketing template before it; Held while so.
	Held      bool          `json:"held"`
	HoldUntil time.Time     `json:"hold_until,omitzero"`
	Blocks    []model.Block `json:"blocks"`
}

func (s *Server) policyOf(c *model.Contact) policyView {
	now := s.cfg.Engine.Clock().Now()
	v := policyView{
		Window: s.windowOf(c), OptedIn: c.OptedIn, OptedOut: c.OptedOut, MarketingOptOut: c.MarketingOptOut,
		Consent: c.Consent, Unreachable: c.Unreachable, UnreachableAt: c.UnreachableAt, UnreachableReason: c.UnreachableReason,
		Held: now.Before(c.HoldUntil), HoldUntil: c.HoldUntil, Blocks: c.Blocks,
	}
	if v.Consent == nil {
		v.Consent = []model.ConsentEvent{}
	}
	if v.Blocks == nil {
		v.Blocks = []model.Block{}
	}
	return v
}
