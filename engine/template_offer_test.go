package engine_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

// TemplateRefusal says before sending what AgentSendTemplate would refuse.
func TestTemplateRefusal(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx, clock := context.Background(), engine.NewManualClock(t0)
	tpl := templates.NewSet(
		model.TemplateInfo{Name: "followup", Language: "en_US", Status: model.TemplateApproved, Category: "UTILITY", BodyParams: 2},
		model.TemplateInfo{Name: "spring", Language: "en_US", Status: model.TemplateApproved, Category: "MARKETING"},
		model.TemplateInfo{Name: "draft", Language: "en_US", Status: model.TemplatePending, Category: "UTILITY"},
	)
	eng, err := engine.New(ctx, engine.Options{Store: st, Clock: clock, Templates: tpl, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, problems, err := eng.Publish(ctx, []byte(echoFlow), "test"); err != nil {
		t.Fatalf("publish: %v %v", err, problems.Err())
	}
	const wa = "15551230000"
	if _, err := eng.HandleInbound(ctx, &engine.Inbound{PhoneNumberID: phone, ID: "wamid.1", WaID: wa, At: clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: "hi"}}); err != nil {
		t.Fatal(err)
	}
	key := model.NewContactKey(phone, wa)
	refusal := func(name string) string {
		t.Helper()
		why, err := eng.TemplateRefusal(ctx, key, name, "en_US")
		if err != nil {
			t.Fatal(err)
		}
		return why
	}
	for _, c := range []struct {
		name   string
		before func(*model.Contact)
		after  time.Duration
		want   map[string]string // template → part of the reason, "" for none
	}{
		{"window open: parameters are not checked yet", nil, 0, map[string]string{"followup": "", "spring": "", "draft": "not APPROVED", "nope": "not in the registry"}},
		{"window closed, no opt-in", nil, 25 * time.Hour, map[string]string{"followup": "no recorded opt-in", "spring": "no recorded opt-in"}},
		{"opted in", func(c *model.Contact) { c.OptedIn = true }, 0, map[string]string{"followup": "", "spring": ""}},
		{"no marketing", func(c *model.Contact) { c.MarketingOptOut = true }, 0, map[string]string{"followup": "", "spring": "stopped marketing"}},
		{"opted out", func(c *model.Contact) { c.OptedOut = true }, 0, map[string]string{"followup": "opted out"}},
	} {
		if c.before != nil {
			if _, err := eng.UpdateContact(ctx, key, func(ct *model.Contact) { c.before(ct) }); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(c.after)
		for name, want := range c.want {
			got := refusal(name)
			if (want == "") != (got == "") || !strings.Contains(got, want) {
				t.Errorf("%s: %s refused %q, want %q", c.name, name, got, want)
			}
		}
	}
	if why, err := eng.TemplateRefusal(ctx, model.NewContactKey(phone, "15559999999"), "followup", "en_US"); err != nil || !strings.Contains(why, "opt-in") {
		t.Errorf("a contact never seen: %q, %v", why, err)
	}
}
