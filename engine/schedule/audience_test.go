package schedule

import (
	"errors"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/engine/model"
)

// TestCountAudience counts, over more contacts than one page, what an
// audience selects and which of those the fan-out's consent rules skip.
func TestCountAudience(t *testing.T) {
	w := newWorld(t, 0)
	for i := range audiencePage + 20 {
		w.contact(fmt.Sprintf("1555100%04d", i), func(c *model.Contact) {
			if i%2 == 0 {
				c.Tags = []string{"vip"}
			}
			switch i % 10 {
			case 2:
				c.OptedIn = false
			case 4:
				c.OptedOut = true
			case 6:
				c.Unreachable = true
			}
		})
	}
	total := audiencePage + 20
	tests := []struct {
		audience string
		want     AudienceCount
	}{
		{"", AudienceCount{Matching: total, Total: total, NoConsent: total / 10, OptedOut: total / 10, Unreachable: total / 10}},
		{`"vip" in tags`, AudienceCount{Matching: total / 2, Total: total, NoConsent: total / 10, OptedOut: total / 10, Unreachable: total / 10}},
		{`"vip" in tags && opted_in && !opted_out`, AudienceCount{Matching: total/2 - 2*total/10, Total: total, Unreachable: total / 10}},
		{`fields.city == "Berlin"`, AudienceCount{Total: total}},
		// The flows' names, the same contacts as the old aliases.
		{`"vip" in contact.tags`, AudienceCount{Matching: total / 2, Total: total, NoConsent: total / 10, OptedOut: total / 10, Unreachable: total / 10}},
		{`"vip" in contact.tags && contact.opted_in && !contact.opted_out`, AudienceCount{Matching: total/2 - 2*total/10, Total: total, Unreachable: total / 10}},
		{`contact.fields.city == "Berlin" || window.open`, AudienceCount{Total: total}},
	}
	for _, tc := range tests {
		got, err := w.s.CountAudience(w.ctx, tc.audience)
		if err != nil {
			t.Fatalf("%q: %v", tc.audience, err)
		}
		if got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.audience, got, tc.want)
		}
	}
	var inv *InvalidError
	if _, err := w.s.CountAudience(w.ctx, `"vip" in`); !errors.As(err, &inv) || inv.Field != "audience" {
		t.Errorf("an audience that does not compile: %v, want an InvalidError on audience", err)
	}
}

// A template parameter reads the contact as flows do ({{ contact.name }});
// the names schedules had first still work.
func TestParameterNames(t *testing.T) {
	c := &model.Contact{Name: "Ana", Tags: []string{"vip"}, Fields: map[string]any{"appointment": "Friday"}}
	for src, want := range map[string]string{
		"Hi {{ contact.name }}, see you {{ contact.fields.appointment }}": "Hi Ana, see you Friday",
		"Hi {{ name }}, see you {{ fields.appointment }}":                 "Hi Ana, see you Friday",
		`{{ "vip" in contact.tags ? "VIP" : "" }} {{ window.open }}`:      "VIP false",
	} {
		tx, err := compileText("body[0]", src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got, err := tx.render(envOf(c, t0)); got != want || err != nil {
			t.Errorf("%s = %q, %v; want %q", src, got, err, want)
		}
	}
}
