package model

import (
	"errors"
	"fmt"
	"time"
)

// ConsentKind is what a consent event changed (docs/whatsapp.md §4.8).
type ConsentKind string

// Consent kinds.
const (
	ConsentOptIn           ConsentKind = "opt_in"
	ConsentOptOut          ConsentKind = "opt_out"
	ConsentMarketingStop   ConsentKind = "marketing_stop"
	ConsentMarketingResume ConsentKind = "marketing_resume"
)

// ConsentSource is where a consent event came from.
type ConsentSource string

// Consent sources.
const (
	SourceWebForm             ConsentSource = "web_form"
	SourceSMS                 ConsentSource = "sms"
	SourceInChat              ConsentSource = "in_chat"
	SourceImport              ConsentSource = "import"
	SourceAPI                 ConsentSource = "api"
	SourceKeyword             ConsentSource = "keyword"
	SourceWhatsAppPreferences ConsentSource = "whatsapp_preferences"
	SourceMetaError           ConsentSource = "meta_error"
)

var (
	consentKinds   = map[ConsentKind]bool{ConsentOptIn: true, ConsentOptOut: true, ConsentMarketingStop: true, ConsentMarketingResume: true}
	consentSources = map[ConsentSource]bool{
		SourceWebForm: true, SourceSMS: true, SourceInChat: true, SourceImport: true, SourceAPI: true,
		SourceKeyword: true, SourceWhatsAppPreferences: true, SourceMetaError: true,
	}
)

// ErrInvalidConsent is returned by RecordConsent for an event with an
// unknown kind or source.
var ErrInvalidConsent = errors.New("invalid consent event")

// ConsentEvent is one entry of a contact's consent history: the proof of
// an opt-in, or the record of an opt-out.
type ConsentEvent struct {
	At     time.Time     `json:"at"`
	Kind   ConsentKind   `json:"kind"`
	Source ConsentSource `json:"source"`
	// Purpose is the text the customer was shown when opting in.
	Purpose string `json:"purpose,omitempty"`
	// By is who recorded it: a user, "api", "system".
	By string `json:"by,omitempty"`
	// Detail is the evidence: the keyword sent, Meta's error, the
	// preference's detail.
	Detail string `json:"detail,omitempty"`
}

// Validate checks the event's kind and source.
func (ev ConsentEvent) Validate() error {
	if !consentKinds[ev.Kind] {
		return fmt.Errorf("%w: kind %q is not one of opt_in, opt_out, marketing_stop, marketing_resume", ErrInvalidConsent, ev.Kind)
	}
	if !consentSources[ev.Source] {
		return fmt.Errorf("%w: source %q is not one of web_form, sms, in_chat, import, api, keyword, whatsapp_preferences, meta_error", ErrInvalidConsent, ev.Source)
	}
	return nil
}

// ApplyConsent appends ev to the contact's history and sets the effective
// state: OptedIn/OptedOut for opt_in/opt_out, MarketingOptOut for the
// marketing kinds.
func (c *Contact) ApplyConsent(ev ConsentEvent) {
	c.Consent = append(c.Consent, ev)
	switch ev.Kind {
	case ConsentOptIn:
		c.OptedIn, c.OptedInAt, c.OptedOut = true, ev.At, false
	case ConsentOptOut:
		c.OptedOut = true
	case ConsentMarketingStop:
		c.MarketingOptOut = true
	case ConsentMarketingResume:
		c.MarketingOptOut = false
	}
}
