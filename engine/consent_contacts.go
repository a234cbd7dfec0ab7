package engine

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/model"
)

// Contacts as the REST API and the CSV import give them
// (consent.ContactInput), validated as a whole before anything is stored.

// SaveContact creates or updates one contact from a validated input, under
// its lock, in one commit. Its consent is recorded with its own source,
// by who; an opt-out withdraws a recorded opt-in, dated now. It returns
// the contact and whether it was new, consent.ErrInvalidContact when the
// input has problems, and consent.ErrConsentConflict when its opt-in
// predates the customer's own opt-out.
func (e *Engine) SaveContact(ctx context.Context, in consent.ContactInput, by string) (*model.Contact, bool, error) {
	now := e.clock.Now()
	if ps := in.Validate(now); len(ps) > 0 {
		return nil, false, fmt.Errorf("%w: %s: %s", consent.ErrInvalidContact, ps[0].Field, ps[0].Message)
	}
	if p := e.checkNumber(in.PhoneNumberID); p != nil {
		return nil, false, fmt.Errorf("%w: %s: %s", consent.ErrInvalidContact, p.Field, p.Message)
	}
	if in.Consent != nil && !in.Consent.OptedIn && in.Consent.At.IsZero() {
		in.Consent.At = now
	}
	source := model.SourceAPI
	if in.Consent != nil {
		source = in.Consent.Source
	}
	c, created, err := e.saveContact(ctx, &in, source, by, "")
	return c, created, err
}

// checkNumber refuses a business number Parley does not serve: a contact
// of a number it cannot send from would be unreachable, and a typo in the
// number id would make a second, silent copy of every contact.
func (e *Engine) checkNumber(id string) *consent.FieldProblem {
	if id == "" || e.servesNumber(id) {
		return nil
	}
	return &consent.FieldProblem{Field: "phone_number_id",
		Message: fmt.Sprintf("%s is not a business number Parley serves (%s)", consent.ClipText(id), e.servedNumbers())}
}

func (e *Engine) saveContact(ctx context.Context, in *consent.ContactInput, source model.ConsentSource, by, detail string) (*model.Contact, bool, error) {
	key, err := e.resolveKey(ctx, in.Key())
	if err != nil {
		return nil, false, err
	}
	unlock, err := e.lock(ctx, key)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	t, err := e.begin(ctx, key, e.clock.Now())
	if err != nil {
		return nil, false, err
	}
	c := t.contact
	created := c.PhoneNumberID == "" && c.Conversations == 0 && len(c.Consent) == 0
	if why := consent.Conflict(c, in.Consent); why != "" {
		return nil, false, fmt.Errorf("%w: %s", consent.ErrConsentConflict, why)
	}
	c.Key = key
	consent.Apply(c, in, source, by, detail)
	t.changed = true
	if err := t.commit(); err != nil {
		return nil, false, err
	}
	return c, created, nil
}
