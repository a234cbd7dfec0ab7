package consent

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// Contacts as the REST API and the CSV import give them: who (phone number
// id and wa_id or user id), profile (name, language, tags, fields) and
// consent, validated as a whole before anything is stored.

// Limits of a contact's data: what an import or an API call may store.
const (
	MaxNameBytes       = 256
	MaxContactTags     = 50
	MaxContactTagBytes = 64
	MaxFields          = 100
	MaxFieldValueBytes = 1024
	MaxPurposeBytes    = 2000
)

var (
	fieldNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,63}$`)
	languageRE  = regexp.MustCompile(`^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})*$`)
)

// ErrInvalidContact is returned (wrapped, with the problems) for a contact
// input that does not validate.
var ErrInvalidContact = errors.New("invalid contact")

// ContactInput is a contact to create or update. Empty Name and Language,
// nil Tags and Fields leave what is stored; Fields are merged (a nil value
// removes a field).
type ContactInput struct {
	PhoneNumberID string         `json:"phone_number_id"`
	WaID          string         `json:"wa_id,omitempty"`
	UserID        string         `json:"user_id,omitempty"`
	Name          string         `json:"name,omitempty"`
	Language      string         `json:"language,omitempty"`
	Tags          []string       `json:"tags,omitempty"`
	Fields        map[string]any `json:"fields,omitempty"`
	// Consent, when set, records an opt-in or the withdrawal of one.
	Consent *Input `json:"consent,omitempty"`
}

// Input is the consent part of a ContactInput. OptedIn true records
// an opt-in (At, the moment the customer gave it, is required; Purpose is
// the text they were shown); false withdraws an opt-in on record (and does
// nothing for a contact who has none).
type Input struct {
	OptedIn bool      `json:"opted_in"`
	At      time.Time `json:"opted_in_at,omitzero"`
	// Source is where the customer gave it (web_form, sms, in_chat, api,
	// import); Purpose the text shown to them.
	Source  model.ConsentSource `json:"source,omitempty"`
	Purpose string              `json:"purpose,omitempty"`
}

// FieldProblem is one thing wrong with a contact input: the field (for a
// CSV import, the column) and why.
type FieldProblem struct {
	Field   string `json:"column"`
	Message string `json:"message"`
}

// Key is the contact key the input names: the business-scoped user id
// where given, else the wa_id (as NewContactKey for an inbound message).
func (in *ContactInput) Key() model.ContactKey {
	id := in.UserID
	if id == "" {
		id = in.WaID
	}
	return model.NewContactKey(in.PhoneNumberID, id)
}

// NormalizePhone turns a phone number as people write it (+49 151 2345-678,
// (555) 123 4567) into a wa_id: its digits. ok is false when what is left
// is not 8 to 15 digits (E.164).
func NormalizePhone(s string) (string, bool) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')', r == '.':
		default:
			return "", false
		}
	}
	d := b.String()
	return d, len(d) >= 8 && len(d) <= 15
}

// Validate normalises the input (the wa_id to digits, tags trimmed) and
// returns every problem with it; now bounds an opt-in's time.
func (in *ContactInput) Validate(now time.Time) []FieldProblem {
	var ps []FieldProblem
	add := func(field, format string, args ...any) {
		ps = append(ps, FieldProblem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !whatsapp.ValidPhoneNumberID(in.PhoneNumberID) {
		add("phone_number_id", "the business phone number id is required, digits only (got %q)", ClipText(in.PhoneNumberID))
	}
	if in.WaID != "" {
		if wa, ok := NormalizePhone(in.WaID); ok {
			in.WaID = wa
		} else {
			add("phone", "%q is not a phone number: 8 to 15 digits, an optional leading +", ClipText(in.WaID))
		}
	}
	if in.UserID != "" && !model.ValidIdentity(in.UserID) {
		add("user_id", "%q is not a WhatsApp user id (like US.13491208655302741918)", ClipText(in.UserID))
	}
	if in.WaID == "" && in.UserID == "" {
		add("phone", "a phone number (wa_id) or a user_id is required")
	}
	if len(in.Name) > MaxNameBytes || !utf8.ValidString(in.Name) || hasControl(in.Name) {
		add("name", "the name must be text of at most %d bytes", MaxNameBytes)
	}
	if in.Language != "" && !languageRE.MatchString(in.Language) {
		add("language", "%q is not a language code like en, pt_BR or es-MX", ClipText(in.Language))
	}
	if in.Tags != nil {
		tags := make([]string, 0, len(in.Tags))
		seen := map[string]bool{}
		for _, t := range in.Tags {
			t = strings.TrimSpace(t)
			switch {
			case t == "":
				continue
			case len(t) > MaxContactTagBytes || !utf8.ValidString(t) || hasControl(t):
				add("tags", "the tag %q is longer than %d bytes or not text", ClipText(t), MaxContactTagBytes)
			case !seen[t]:
				seen[t] = true
				tags = append(tags, t)
			}
		}
		if len(tags) > MaxContactTags {
			add("tags", "%d tags, at most %d", len(tags), MaxContactTags)
		}
		in.Tags = tags
	}
	if len(in.Fields) > MaxFields {
		add("fields", "%d fields, at most %d", len(in.Fields), MaxFields)
	}
	for name, v := range in.Fields {
		col := "field:" + name
		if !fieldNameRE.MatchString(name) {
			add(col, "a field name is lowercase letters, digits and _, not starting with a digit")
			continue
		}
		switch v := v.(type) {
		case nil, bool, float64:
		case string:
			if len(v) > MaxFieldValueBytes || !utf8.ValidString(v) {
				add(col, "the value is longer than %d bytes or not text", MaxFieldValueBytes)
			}
		default:
			add(col, "a field value is a string, a number, true, false or null")
		}
	}
	if c := in.Consent; c != nil {
		if c.Source == "" {
			c.Source = model.SourceAPI
		}
		switch c.Source {
		case model.SourceWebForm, model.SourceSMS, model.SourceInChat, model.SourceImport, model.SourceAPI:
		default:
			add("source", "%q is not one of web_form, sms, in_chat, import, api", ClipText(string(c.Source)))
		}
		if len(c.Purpose) > MaxPurposeBytes || !utf8.ValidString(c.Purpose) {
			add("purpose", "the purpose is longer than %d bytes or not text", MaxPurposeBytes)
		}
		if c.OptedIn {
			switch {
			case c.At.IsZero():
				add("opted_in_at", "an opt-in needs the time the customer gave it")
			case c.At.After(now):
				add("opted_in_at", "%s is in the future", c.At.UTC().Format(time.RFC3339))
			}
		}
	}
	return ps
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// ClipText clips a value given in an input for an error message: at most
// 64 bytes, cut between runes, with "…" where it was cut.
func ClipText(s string) string {
	if len(s) <= 64 {
		return s
	}
	for i := 64; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}

// Conflict says why recording in's consent on c would override the
// customer's own later choice, or "": an opt-in dated before the customer
// opted out (a keyword, WhatsApp's settings) must not opt them back in.
func Conflict(c *model.Contact, in *Input) string {
	if in == nil || !in.OptedIn || !c.OptedOut {
		return ""
	}
	var out model.ConsentEvent
	for _, ev := range c.Consent {
		if ev.Kind == model.ConsentOptOut {
			out = ev
		}
	}
	if out.At.IsZero() || in.At.After(out.At) {
		return ""
	}
	return fmt.Sprintf("the customer opted out on %s (%s), after this opt-in (%s): an older opt-in cannot override it",
		out.At.UTC().Format(time.RFC3339), out.Source, in.At.UTC().Format(time.RFC3339))
}

// Apply sets c from a validated input, and records its consent as
// source, by who. It reports whether a consent event was recorded. A
// consent event identical to the last one on record (a repeated import)
// is not recorded twice.
func Apply(c *model.Contact, in *ContactInput, source model.ConsentSource, by, detail string) bool {
	if c.PhoneNumberID == "" {
		c.PhoneNumberID = in.PhoneNumberID
	}
	c.LearnIdentity(in.WaID, in.UserID)
	if in.Name != "" {
		c.Name = in.Name
	}
	if in.Language != "" {
		c.Language = in.Language
	}
	if in.Tags != nil {
		c.Tags = in.Tags
	}
	for k, v := range in.Fields {
		if c.Fields == nil {
			c.Fields = map[string]any{}
		}
		if v == nil {
			delete(c.Fields, k)
		} else {
			c.Fields[k] = v
		}
	}
	ci := in.Consent
	if ci == nil || (!ci.OptedIn && !c.OptedIn) || (!ci.OptedIn && c.OptedOut) {
		return false
	}
	ev := model.ConsentEvent{At: ci.At, Kind: model.ConsentOptIn, Source: source, Purpose: ci.Purpose, By: by, Detail: detail}
	if !ci.OptedIn {
		ev.Kind, ev.Purpose = model.ConsentOptOut, ""
	}
	if n := len(c.Consent); n > 0 {
		last := c.Consent[n-1]
		if last.Kind == ev.Kind && last.At.Equal(ev.At) && last.Source == ev.Source && last.Purpose == ev.Purpose && last.Detail == ev.Detail {
			return false
		}
	}
	c.ApplyConsent(ev)
	return true
}

// ErrConsentConflict is returned when an opt-in would override the
// customer's own later opt-out.
var ErrConsentConflict = errors.New("consent conflict")
