package engine_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// wabaLister lists the templates of one WABA, and refuses to list
// another's: each account is synced with its own client.
type wabaLister struct {
	waba string
	list []whatsapp.Template
}

func (l *wabaLister) ListTemplates(_ context.Context, waba string, _ whatsapp.TemplateQuery) ([]whatsapp.Template, error) {
	if waba != l.waba {
		return nil, errors.New("this token cannot read WABA " + waba)
	}
	return append([]whatsapp.Template(nil), l.list...), nil
}

// Two numbers in two WABAs: "promo" exists only in WABA 20 (number 222),
// and "welcome" exists in both with different variables. Every check —
// the registry's, a webhook's, publish and a send's — uses the templates
// of the number's WABA, and a restart keeps each template in its WABA.
func TestTemplatesPerWABA(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "parley.db")
	numbers := []engine.PhoneNumber{{ID: "111", WABAID: "10"}, {ID: "222", WABAID: "20"}}
	g10 := &fakeGraph{list: []whatsapp.Template{tpl("welcome", "en", whatsapp.TemplateApproved, 0, 1)}}
	l20 := &wabaLister{waba: "20", list: []whatsapp.Template{
		tpl("welcome", "en", whatsapp.TemplateApproved, 0, 2), tpl("promo", "en", whatsapp.TemplateApproved, 0, 1)}}

	// A record stored before several WABAs, without one: the default's.
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	legacy := model.TemplateRecord{TemplateInfo: model.TemplateInfo{Name: "old", Language: "en", Status: model.TemplateApproved}}
	if err := st.SaveTemplates(ctx, []model.TemplateRecord{legacy}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	open := func() (*templates.Registry, *engine.Engine, func()) {
		t.Helper()
		st, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		reg := templates.NewRegistry(templates.RegistryOptions{Store: st, Logger: slog.New(slog.DiscardHandler), Graph: g10, WABAID: "10",
			Accounts: []templates.Account{{WABAID: "10", Graph: g10}, {WABAID: "20", Graph: l20}}})
		if err := reg.Load(ctx); err != nil {
			t.Fatal(err)
		}
		e, err := engine.New(ctx, engine.Options{Store: st, Clock: engine.NewManualClock(t0), Logger: slog.New(slog.DiscardHandler),
			Templates: reg, PhoneNumbers: numbers, CheckTemplatesOnPublish: true})
		if err != nil {
			t.Fatal(err)
		}
		return reg, e, func() { st.Close() }
	}
	reg, e, closeStore := open()
	if got := strings.Join(reg.WABAs(), ","); got != "10,20" {
		t.Fatalf("WABAs %s, want 10,20", got)
	}
	if !reg.SyncAll(ctx, false) {
		t.Fatal("a sync failed")
	}

	checkRegistry := func(when string) {
		t.Helper()
		for _, c := range []struct {
			waba, name string
			ok         bool
			body       int
		}{
			{"10", "welcome", true, 1}, {"20", "welcome", true, 2},
			{"10", "promo", false, 0}, {"20", "promo", true, 1},
			{"", "promo", false, 0}, {"", "welcome", true, 1},
		} {
			info, ok := reg.TemplateIn(c.waba, c.name, "en")
			if ok != c.ok || info.BodyParams != c.body {
				t.Errorf("%s: %s in WABA %q: %v, %d body params; want %v, %d", when, c.name, c.waba, ok, info.BodyParams, c.ok, c.body)
			}
		}
		// The record stored without a WABA is the default WABA's, and the
		// default WABA's sync found it no longer listed.
		if rec, ok := reg.RecordIn("10", "old", "en"); !ok || rec.WABAID != "10" || rec.Status != model.TemplateDeleted {
			t.Errorf("%s: the legacy record: %+v, %v", when, rec, ok)
		}
		if _, ok := reg.RecordIn("20", "old", "en"); ok {
			t.Errorf("%s: the legacy record shows in WABA 20", when)
		}
		if n := len(reg.List()); n != 4 {
			t.Errorf("%s: %d records, want 4 (welcome twice, promo, old)", when, n)
		}
	}
	checkRegistry("after the sync")

	// A template webhook changes the WABA it names, only.
	if err := reg.ApplyUpdate(ctx, whatsapp.TemplateUpdate{Field: whatsapp.FieldTemplateStatus, WABAID: "20", TemplateName: "welcome",
		Language: "en", Event: "PAUSED", Time: t0}); err != nil {
		t.Fatal(err)
	}
	if info, _ := reg.TemplateIn("20", "welcome", "en"); info.Status != model.TemplatePaused {
		t.Errorf("welcome in WABA 20 is %s after its PAUSED webhook", info.Status)
	}
	if info, _ := reg.TemplateIn("10", "welcome", "en"); info.Status != model.TemplateApproved {
		t.Errorf("welcome in WABA 10 is %s after WABA 20's webhook", info.Status)
	}
	// A webhook of an account the registry does not sync is the default
	// account's (a one-number Parley started without its WABA id).
	if err := reg.ApplyUpdate(ctx, whatsapp.TemplateUpdate{Field: whatsapp.FieldTemplateQuality, WABAID: "99", TemplateName: "welcome",
		Language: "en", NewQuality: "YELLOW", Time: t0}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := reg.RecordIn("10", "welcome", "en"); rec.Quality != "YELLOW" {
		t.Errorf("welcome in WABA 10 has quality %s after an unknown account's webhook", rec.Quality)
	}
	if _, ok := reg.RecordIn("99", "welcome", "en"); ok {
		t.Error("an unknown account's webhook made a record of its own")
	}
	// Syncing one WABA deletes nothing of another.
	if _, err := reg.Sync(ctx, &wabaLister{waba: "10"}, "10"); err != nil {
		t.Fatal(err)
	}
	if info, ok := reg.TemplateIn("20", "promo", "en"); !ok || info.Status != model.TemplateApproved {
		t.Errorf("WABA 10's empty listing touched WABA 20's promo: %+v, %v", info, ok)
	}
	if err := reg.ApplyUpdate(ctx, whatsapp.TemplateUpdate{Field: whatsapp.FieldTemplateStatus, WABAID: "20", TemplateName: "welcome",
		Language: "en", Event: "REINSTATED", Time: t0.Add(1)}); err != nil {
		t.Fatal(err)
	}
	if !reg.SyncAll(ctx, false) {
		t.Fatal("a sync failed")
	}

	closeStore()
	reg, e, closeStore = open()
	defer closeStore()
	checkRegistry("after a restart")

	// Publish: the template must be in the WABA of every number the flow
	// answers on.
	promo := func(numbers string) string {
		return `{"format": "parley/flow@1", "id": "promo", "start": "tpl"` + numbers + `,
		 "nodes": [{"id": "tpl", "type": "template", "template": {"name": "promo", "language": "en", "body": ["x"]}}]}`
	}
	for _, c := range []struct {
		name, numbers string
		wantErr       bool
		inMessage     string
	}{
		{"on 222 only", `, "numbers": ["222"]`, false, ""},
		{"on 111 only", `, "numbers": ["111"]`, true, "not in the template registry"},
		{"on every number", ``, true, "in WABA 10 (of number 111)"},
	} {
		_, ps := e.Validate([]byte(promo(c.numbers)))
		if ps.HasErrors() != c.wantErr {
			t.Errorf("publish %s: errors %v, want %v: %v", c.name, ps.HasErrors(), c.wantErr, ps)
			continue
		}
		if c.wantErr && (len(ps) != 1 || !strings.Contains(ps[0].Message, c.inMessage)) {
			t.Errorf("publish %s: want one problem saying %q, got %v", c.name, c.inMessage, ps)
		}
	}

	// Sends: from 111 promo is not in the registry; from 222 it goes.
	for _, c := range []struct {
		number  string
		wantErr bool
	}{{"111", true}, {"222", false}} {
		in := consent.ContactInput{PhoneNumberID: c.number, WaID: "15550009999",
			Consent: &consent.Input{OptedIn: true, At: t0, Source: "web_form"}}
		if _, _, err := e.SaveContact(ctx, in, "test"); err != nil {
			t.Fatal(err)
		}
		_, err := e.SendTemplateOnce(ctx, engine.Initiation{Contact: in.Key(), DedupeKey: "promo:" + c.number},
			flows.TemplateSend{Name: "promo", Language: "en", Body: flows.TextParams("x")})
		if got := errors.Is(err, engine.ErrNotSendable); got != c.wantErr {
			t.Errorf("promo from %s: %v, want refused %v", c.number, err, c.wantErr)
		}
		if c.wantErr && (err == nil || !strings.Contains(err.Error(), "not in the registry")) {
			t.Errorf("promo from %s refused for another reason: %v", c.number, err)
		}
	}

	// Dispatch checks the send again against its number's WABA: "welcome"
	// takes one variable in WABA 10 and two in WABA 20, and each send,
	// fitting its own, goes.
	for _, c := range []struct {
		number string
		body   []string
	}{{"111", []string{"x"}}, {"222", []string{"x", "y"}}} {
		k := model.NewContactKey(c.number, "15550009999")
		if _, err := e.SendTemplateOnce(ctx, engine.Initiation{Contact: k, DedupeKey: "welcome:" + c.number},
			flows.TemplateSend{Name: "welcome", Language: "en", Body: flows.TextParams(c.body...)}); err != nil {
			t.Fatalf("welcome from %s: %v", c.number, err)
		}
	}
	sender := &recordingSender{}
	drain(t, e, sender)
	var sent []string
	for _, m := range sender.all() {
		if m.Template != nil {
			sent = append(sent, m.Template.Name)
		}
	}
	if len(sent) != 3 { // promo from 222, welcome from each
		t.Errorf("sent %v, want promo and welcome twice", sent)
	}
}
