package schedule

import (
	"errors"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/engine"
)

// TestCountAudience counts, over more contacts than one page, what an
// audience selects and which of those the fan-out's consent rules skip.
func TestCountAudience(t *testing.T) {
	w := newWorld(t, 0)
	for i := range audiencePage + 20 {
		w.contact(fmt.Sprintf("1555100%04d", i), func(c *engine.Contact) {
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
