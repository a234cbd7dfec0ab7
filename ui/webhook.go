package ui

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/quarantine"
	"github.com/parleyhq/parley/whatsapp"
)

// verifyWebhook answers Meta's subscription handshake (docs/whatsapp.md
// §1.1): the challenge echoed when the verify token matches, else 403.
func (s *Server) verifyWebhook(c *fiber.Ctx) error {
	challenge, ok := whatsapp.VerifyChallenge(c.Query("hub.mode"), c.Query("hub.verify_token"), c.Query("hub.challenge"), s.cfg.VerifyToken)
	if !ok {
		return c.Status(fiber.StatusForbidden).SendString("verification failed")
	}
	return c.SendString(challenge)
}

// receiveWebhook takes one webhook delivery. It answers 200 only once every
// event in it is durably processed, so Meta redelivers anything not
// acknowledged; redelivered messages are recognised by id and processed
// once. A bad signature is refused with 401 and nothing is kept.
func (s *Server) receiveWebhook(c *fiber.Ctx) error {
	start := time.Now()
	body := c.Body() // read by limitBody: at most whatsapp.MaxWebhookBytes
	if err := whatsapp.VerifySignature(body, c.Get(whatsapp.SignatureHeader), s.cfg.AppSecret); err != nil {
		s.metrics.webhooks.Inc("bad_signature")
		s.log.Warn("webhook refused", "reason", err.Error(), "ip", c.IP())
		return c.Status(fiber.StatusUnauthorized).SendString("invalid signature")
	}
	batch, err := whatsapp.ParseWebhook(body)
	if err != nil {
		s.metrics.webhooks.Inc("malformed")
		return c.Status(fiber.StatusBadRequest).SendString(err.Error())
	}
	ctx := c.UserContext()
	eng := s.cfg.Engine
	rejected := s.setAside(batch)
	s.ignoreForeign(batch)
	var failed error
	failed = errors.Join(failed, byCustomer(batch.Messages, func(m *whatsapp.InboundMessage) string { return m.From + "|" + m.UserID },
		func(m *whatsapp.InboundMessage) error {
			if _, err := eng.HandleInbound(ctx, engine.InboundFromWhatsApp(m)); err != nil {
				s.log.Error("inbound message not processed", "wamid", m.ID, "err", err)
				return err
			}
			return nil
		}))
	failed = errors.Join(failed, byCustomer(batch.Statuses, func(st *whatsapp.Status) string { return st.RecipientID + "|" + st.RecipientUserID },
		func(st *whatsapp.Status) error {
			if err := eng.HandleStatus(ctx, st); err != nil {
				s.log.Error("status not processed", "wamid", st.ID, "status", st.Status, "err", err)
				return err
			}
			return nil
		}))
	for i := range batch.Preferences {
		p := batch.Preferences[i]
		// A marketing stop/resume: applied and stored before the 200.
		if err := eng.ApplyPreference(ctx, p.PhoneNumberID, p); err != nil {
			s.log.Error("user preference not processed", "phone_number_id", p.PhoneNumberID, "category", p.Category, "value", p.Value, "err", err)
			failed = errors.Join(failed, err)
		}
	}
	for i := range batch.TemplateUpdates {
		u := &batch.TemplateUpdates[i]
		if s.cfg.Templates == nil {
			s.log.Info("template webhook ignored: no template registry", "field", u.Field, "template", u.TemplateName, "event", u.Event)
			continue
		}
		// Applied and stored before the 200: a redelivery after a failure
		// is applied then, and one after success changes nothing.
		if err := s.cfg.Templates.ApplyUpdate(ctx, *u); err != nil {
			s.log.Error("template update not processed", "field", u.Field, "template", u.TemplateName, "language", u.Language, "event", u.Event, "err", err)
			failed = errors.Join(failed, err)
		}
	}
	for i := range batch.NumberUpdates {
		// A tier or quality change of a number: recorded, and a new tier
		// becomes the enforced messaging limit (engine/limit_numbers.go).
		u := batch.NumberUpdates[i]
		if err := eng.ApplyNumberUpdate(ctx, u); err != nil {
			s.log.Error("phone number update not processed", "display_phone_number", u.DisplayPhoneNumber, "event", u.Event, "err", err)
			failed = errors.Join(failed, err)
		}
	}
	for i := range batch.AccountUpdates {
		a := batch.AccountUpdates[i]
		s.log.Info("account update from Meta", "waba_id", a.WABAID, "event", a.Event)
		if err := eng.ApplyAccountUpdate(ctx, a); err != nil {
			s.log.Error("account update not processed", "waba_id", a.WABAID, "event", a.Event, "err", err)
			failed = errors.Join(failed, err)
		}
	}
	s.skip(batch.Other)
	for _, e := range batch.Errors {
		s.log.Warn("webhook error from Meta", "phone_number_id", e.PhoneNumberID, "code", e.Code, "title", e.Title, "details", e.Details)
	}
	if failed == nil {
		failed = s.keepRejected(ctx, rejected)
	}
	if failed != nil {
		// Not acknowledged: Meta redelivers, and what did commit is
		// recognised then (items set aside are kept with the delivery
		// that is acknowledged).
		s.metrics.webhooks.Inc("error")
		return c.Status(fiber.StatusInternalServerError).SendString("not processed; retry")
	}
	s.metrics.webhooks.Inc("ok")
	s.metrics.latency.Observe(time.Since(start).Seconds())
	return c.SendString("ok")
}

// byCustomer runs fn on every item of a delivery: the items of one customer
// (by customer) one after the other, in the delivery's order, and those of
// different customers at the same time. Meta batches messages and statuses
// of many customers into one delivery under load; run one by one, each
// would wait for its own group commit, run together they share one. It
// returns every error, joined. A panic in fn is raised again in the
// caller's goroutine once every customer is done, where recoverPanic
// answers it.
func byCustomer[T any](items []T, customer func(*T) string, fn func(*T) error) error {
	if len(items) == 1 {
		return fn(&items[0])
	}
	groups := map[string][]*T{}
	var order []string
	for i := range items {
		k := customer(&items[i])
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], &items[i])
	}
	errs := make([]error, len(order))
	panics := make([]*goroutinePanic, len(order))
	var wg sync.WaitGroup
	for g, k := range order {
		wg.Go(func() {
			recoverInto(&panics[g], func() {
				for _, it := range groups[k] {
					errs[g] = errors.Join(errs[g], fn(it))
				}
			})
		})
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
	return errors.Join(errs...)
}

// setAside takes out of batch the messages and preferences that can never
// be processed (whatsapp's Unprocessable: no id, an id or sender that
// cannot be a key) and returns them as quarantine items. Answering 500 for
// them would have Meta redeliver the whole delivery for days; the webhook
// acknowledges them instead, and keepRejected keeps them for admins.
func (s *Server) setAside(batch *whatsapp.Batch) []quarantine.Item {
	var out []quarantine.Item
	now := s.cfg.Engine.Clock().Now()
	aside := func(field, reason, detail string, v any) {
		text, clipped := quarantine.Clip(v)
		out = append(out, quarantine.Item{At: now, Field: field, Reason: reason, Detail: detail, Item: text, Clipped: clipped})
	}
	msgs := batch.Messages[:0]
	for _, m := range batch.Messages {
		if reason, detail := m.Unprocessable(); reason != "" {
			aside(whatsapp.FieldMessages, reason, detail, m)
			continue
		}
		msgs = append(msgs, m)
	}
	batch.Messages = msgs
	prefs := batch.Preferences[:0]
	for _, p := range batch.Preferences {
		if reason, detail := p.Unprocessable(); reason != "" {
			aside(whatsapp.FieldUserPreferences, reason, detail, p)
			continue
		}
		prefs = append(prefs, p)
	}
	batch.Preferences = prefs
	return out
}

// keepRejected stores the items setAside took (when the server has a
// quarantine), then counts and logs each: at WARN, with its reason and
// detail, never its content.
func (s *Server) keepRejected(ctx context.Context, items []quarantine.Item) error {
	if len(items) == 0 {
		return nil
	}
	if s.cfg.Quarantine != nil {
		if err := s.cfg.Quarantine.Keep(ctx, items); err != nil {
			s.log.Error("unprocessable webhook items not kept", "items", len(items), "err", err)
			return err
		}
	}
	for _, it := range items {
		s.metrics.rejected.Inc(it.Reason)
		s.log.Warn("webhook item acknowledged but set aside: it can never be processed", "field", it.Field, "reason", it.Reason, "detail", it.Detail, "kept", s.cfg.Quarantine != nil)
	}
	return nil
}

// skip counts and logs, at DEBUG, the items of a delivery that Parley does
// not act on: changes of a field it does not model (calls,
// smb_message_echoes, group events …) and items it could not read. Their
// content is customers' and stays out of the log; the field, the entry's
// WABA and, for an unreadable item, what was wrong with its shape go in.
func (s *Server) skip(others []whatsapp.Other) {
	for i := range others {
		o := &others[i]
		reason := "unmodelled"
		if o.Err != "" {
			reason = "unreadable"
		}
		field := metricField(o.Field)
		s.metrics.skipped.Inc(field, reason)
		s.log.Debug("webhook item not acted on", "field", field, "reason", reason, "waba_id", o.WABAID, "problem", o.Err)
	}
}

// metricField bounds the values of a metric's field label: Meta's field
// names are short lower-case words; anything else counts as "invalid".
func metricField(f string) string {
	if f == "" || len(f) > 64 {
		return "invalid"
	}
	for i := range len(f) {
		if c := f[i]; !('a' <= c && c <= 'z') && !('0' <= c && c <= '9') && c != '_' {
			return "invalid"
		}
	}
	return f
}

// ignoreForeign takes out of batch what concerns a business number or a
// WhatsApp Business Account Parley does not serve: the app's webhook
// subscription may cover numbers and accounts that are not Parley's, and
// processing their messages as its own would answer another number's
// customers from Parley's. Each is acknowledged with the delivery, logged
// at INFO (ids only) and counted in parley_webhook_items_ignored_total.
func (s *Server) ignoreForeign(b *whatsapp.Batch) {
	eng := s.cfg.Engine
	ours := func(field, number, waba string) bool {
		if (number == "" || eng.ServesNumber(number)) && (waba == "" || eng.ServesWABA(waba)) {
			return true
		}
		s.metrics.ignored.Inc(field)
		s.log.Info("webhook item for a number or account Parley does not serve: ignored", "field", field, "phone_number_id", number, "waba_id", waba)
		return false
	}
	b.Messages = keep(b.Messages, func(m *whatsapp.InboundMessage) bool {
		return ours(whatsapp.FieldMessages, m.PhoneNumberID, m.WABAID)
	})
	b.Statuses = keep(b.Statuses, func(st *whatsapp.Status) bool {
		return ours(whatsapp.FieldMessages, st.PhoneNumberID, st.WABAID)
	})
	b.Errors = keep(b.Errors, func(e *whatsapp.ErrorEvent) bool {
		return ours(whatsapp.FieldMessages, e.PhoneNumberID, e.WABAID)
	})
	b.Preferences = keep(b.Preferences, func(p *whatsapp.UserPreference) bool {
		return ours(whatsapp.FieldUserPreferences, p.PhoneNumberID, p.WABAID)
	})
	b.AccountUpdates = keep(b.AccountUpdates, func(a *whatsapp.AccountUpdate) bool {
		return ours(whatsapp.FieldAccountUpdate, "", a.WABAID)
	})
	b.NumberUpdates = keep(b.NumberUpdates, func(u *whatsapp.NumberUpdate) bool {
		return ours(whatsapp.FieldPhoneNumberQuality, "", u.WABAID)
	})
	b.TemplateUpdates = keep(b.TemplateUpdates, func(u *whatsapp.TemplateUpdate) bool {
		return ours(u.Field, "", u.WABAID)
	})
}

// keep filters items in place, keeping those ok approves.
func keep[T any](items []T, ok func(*T) bool) []T {
	out := items[:0]
	for i := range items {
		if ok(&items[i]) {
			out = append(out, items[i])
		}
	}
	return out
}
