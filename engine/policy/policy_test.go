package policy_test

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func TestWindow(t *testing.T) {
	wrote := model.Contact{LastInboundAt: t0}
	closed := model.Contact{LastInboundAt: t0, WindowClosedAt: t0.Add(time.Hour)}
	wroteAgain := model.Contact{LastInboundAt: t0.Add(2 * time.Hour), WindowClosedAt: t0.Add(time.Hour)}
	for _, tc := range []struct {
		name string
		c    model.Contact
		now  time.Time
		open bool
	}{
		{"never wrote", model.Contact{}, t0, false},
		{"just wrote", wrote, t0, true},
		{"inside the margin", wrote, t0.Add(policy.WindowLength - policy.WindowMargin), false},
		{"before the margin", wrote, t0.Add(policy.WindowLength - policy.WindowMargin - time.Nanosecond), true},
		{"Meta closed it", closed, t0.Add(2 * time.Hour), false},
		{"they wrote after Meta closed it", wroteAgain, t0.Add(3 * time.Hour), true},
	} {
		if got := policy.WindowOpen(&tc.c, tc.now); got != tc.open {
			t.Errorf("%s: WindowOpen = %v, want %v (expiry %v)", tc.name, got, tc.open, policy.WindowExpiry(&tc.c))
		}
	}
}

func TestTemplateBlock(t *testing.T) {
	reg := templates.NewSet(
		model.TemplateInfo{Name: "update", Language: "en", Category: "UTILITY", Status: model.TemplateApproved, BodyParams: 1},
		model.TemplateInfo{Name: "promo", Language: "en", Category: "MARKETING", Status: model.TemplateApproved},
		model.TemplateInfo{Name: "draft", Language: "en", Category: "UTILITY", Status: "PENDING"},
	)
	send := func(name string, params ...string) *flows.TemplateSend {
		ts := &flows.TemplateSend{Name: name, Language: "en"}
		for _, p := range params {
			ts.Body = append(ts.Body, flows.TemplateParam{Text: p})
		}
		return ts
	}
	optedIn := model.Contact{OptedIn: true}
	for _, tc := range []struct {
		name string
		c    model.Contact
		ts   *flows.TemplateSend
		want model.BlockReason
	}{
		{"opted in", optedIn, send("update", "A-17"), ""},
		{"no opt-in, window closed", model.Contact{}, send("update", "A-17"), model.BlockNoOptIn},
		{"no opt-in, window open", model.Contact{LastInboundAt: t0}, send("update", "A-17"), ""},
		{"opted out", model.Contact{OptedIn: true, OptedOut: true}, send("update", "A-17"), model.BlockOptedOut},
		{"unreachable", model.Contact{OptedIn: true, Unreachable: true}, send("update", "A-17"), model.BlockUnreachable},
		{"marketing stopped", model.Contact{OptedIn: true, MarketingOptOut: true}, send("promo"), model.BlockMarketingOptOut},
		{"marketing stopped, utility goes", model.Contact{OptedIn: true, MarketingOptOut: true}, send("update", "A-17"), ""},
		{"marketing hold", model.Contact{OptedIn: true, HoldUntil: t0.Add(time.Hour)}, send("promo"), model.BlockHold},
		{"hold over", model.Contact{OptedIn: true, HoldUntil: t0}, send("promo"), ""},
		{"not in the registry", optedIn, send("gone"), model.BlockTemplate},
		{"not approved", optedIn, send("draft"), model.BlockTemplate},
		{"parameters do not fit", optedIn, send("update"), model.BlockTemplate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := policy.TemplateBlock(reg, tc.ts, &tc.c, t0)
			if got != tc.want || (got == "") != (why == "") {
				t.Errorf("TemplateBlock = %q (%s), want %q", got, why, tc.want)
			}
		})
	}
	if _, why := policy.RecipientBlock(nil, "update", "en", &optedIn, t0); why == "" {
		t.Error("RecipientBlock without a registry lets the template go")
	}
}
