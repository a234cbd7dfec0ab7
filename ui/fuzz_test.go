package ui

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/model"
)

// withBody calls fn with a request context whose body is body, as a route
// handler gets it: the decoders are fuzzed, not the server around them.
func withBody(app *fiber.App, body []byte, fn func(c *fiber.Ctx)) {
	var rc fasthttp.RequestCtx
	rc.Request.SetBody(body)
	c := app.AcquireCtx(&rc)
	defer app.ReleaseCtx(c)
	fn(c)
}

// FuzzContactBody: the body of POST /contacts and PUT /contacts/:key is
// refused with a 400, or decoded to an input that Validate either refuses
// field by field, with short messages, or accepts; an accepted input names
// a well-formed contact key, stays accepted when validated again, and
// survives a round trip through JSON.
func FuzzContactBody(f *testing.F) {
	f.Add([]byte(`{"phone_number_id":"100000000000001","wa_id":"+49 151 2345 6789","name":"Ida","language":"de","tags":["vip"," berlin "],"fields":{"city":"Berlin","n":3},"consent":{"opted_in":true,"opted_in_at":"2026-01-01T00:00:00Z","source":"web_form","purpose":"Order updates"}}`))
	f.Add([]byte(`{"user_id":"US.13491208655302741918","name":"Bo"}`))
	f.Add([]byte(`{"wa_id":"123","user_id":"a:b","language":"english","tags":[""],"consent":{"opted_in":true}}`))
	f.Add([]byte(`{"wa_id":"15551234567","unknown":1}`))
	app := fiber.New()
	s := &Server{}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		var in consent.ContactInput
		var err error
		withBody(app, body, func(c *fiber.Ctx) { in, err = s.decodeContact(c) })
		if err != nil {
			var fe *fiber.Error
			if !errors.As(err, &fe) || fe.Code != fiber.StatusBadRequest {
				t.Fatalf("decodeContact = %v, want a 400", err)
			}
			return
		}
		if in.PhoneNumberID == "" {
			in.PhoneNumberID = "100000000000001" // as postContact does
		}
		problems := in.Validate(now)
		for _, p := range problems {
			if p.Field == "" || p.Message == "" || len(p.Message) > 400 {
				t.Fatalf("malformed problem: %.500q", p)
			}
		}
		if len(problems) > 0 {
			return
		}
		key := string(in.Key())
		number, id, ok := strings.Cut(key, ":")
		if !ok || number != in.PhoneNumberID || id == "" || strings.ContainsAny(id, ": \t") || !utf8.ValidString(key) {
			t.Fatalf("accepted input names the key %q", key)
		}
		if again := in.Validate(now); len(again) > 0 {
			t.Fatalf("accepted, then refused when validated again: %v", again)
		}
		out, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var back consent.ContactInput
		withBody(app, out, func(c *fiber.Ctx) { back, err = s.decodeContact(c) })
		if err != nil {
			t.Fatalf("an accepted contact's JSON is refused: %v\n%s", err, out)
		}
		if ps := back.Validate(now); len(ps) > 0 || back.Key() != in.Key() {
			t.Fatalf("after a round trip: key %s, problems %v\n%s", back.Key(), ps, out)
		}
	})
}

// FuzzConsentBody: the body of POST /contacts/:key/consent is refused as
// JSON, or its event is validated: nil for the kinds and sources there
// are, else an error wrapping ErrInvalidConsent (the route's 400).
func FuzzConsentBody(f *testing.F) {
	f.Add([]byte(`{"kind":"opt_in","source":"web_form","purpose":"Order updates","by":"ana@example.com"}`))
	f.Add([]byte(`{"kind":"marketing_stop","source":"keyword"}`))
	f.Add([]byte(`{"kind":"opt_out","source":"fax"}`))
	f.Add([]byte(`{"kind":"OPT_IN","source":"api"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req consentRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		ev := model.ConsentEvent{Kind: req.Kind, Source: req.Source, Purpose: req.Purpose, By: req.By}
		err := ev.Validate()
		if err != nil && !errors.Is(err, model.ErrInvalidConsent) {
			t.Fatalf("Validate = %v, want ErrInvalidConsent", err)
		}
		known := strings.Contains(" opt_in opt_out marketing_stop marketing_resume ", " "+string(req.Kind)+" ") &&
			strings.Contains(" web_form sms in_chat import api keyword whatsapp_preferences meta_error ", " "+string(req.Source)+" ")
		if (err == nil) != (known && req.Kind != "" && req.Source != "") {
			t.Fatalf("kind %q, source %q: Validate = %v", req.Kind, req.Source, err)
		}
	})
}
