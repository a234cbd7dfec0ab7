package engine_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// A contact imported by phone number is the one who writes later under a
// business-scoped user id: their consent is not lost to a second contact,
// and the user id becomes an alias of the imported contact.
func TestImportedContactIsFoundByUserID(t *testing.T) {
	h := newHarness(t, echoFlow)
	csv := "phone,name,opted_in,opted_in_at,purpose\n+49 151 2345 6789,Ida,true,2026-01-01,Order updates\n"
	res, err := h.eng.ImportContacts(h.ctx, strings.NewReader(csv), consent.ImportOptions{PhoneNumberID: phone, By: "ops@example.com"})
	if err != nil || res.Created != 1 || res.OptIns != 1 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	in := &engine.Inbound{PhoneNumberID: phone, ID: "wamid.1", WaID: "4915123456789", UserID: "DE.123456", At: h.clock.Now(),
		Reply: flows.Reply{Type: flows.MsgText, Text: "hello"}}
	out, err := h.eng.HandleInbound(h.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	byPhone := model.NewContactKey(phone, "4915123456789")
	if !strings.HasPrefix(out.Conversation, string(byPhone)) {
		t.Fatalf("conversation %s, want one of the imported contact %s", out.Conversation, byPhone)
	}
	c, err := h.eng.Contact(h.ctx, byPhone)
	if err != nil || !c.OptedIn || c.UserID != "DE.123456" || c.Consent[0].Source != model.SourceImport || c.Consent[0].By != "ops@example.com" {
		t.Fatalf("contact %+v, %v", c, err)
	}
	if to, ok, err := h.store.Alias(h.ctx, model.NewContactKey(phone, "DE.123456")); !ok || to != byPhone || err != nil {
		t.Fatalf("alias: %s, %v, %v", to, ok, err)
	}
	if _, err := h.store.Contact(h.ctx, model.NewContactKey(phone, "DE.123456")); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("a second contact under the user id: %v", err)
	}
}

func TestImportProblems(t *testing.T) {
	h := newHarness(t, echoFlow)
	for _, tc := range []struct {
		name, csv string
		want      []string
	}{
		{"no header", "", []string{"row 1: no header row"}},
		{"bad quote", "phone,name\n15551234567,\"Ann\n", []string{"row 2:"}},
		{"user id with a colon", "user_id\nUS:1\n", []string{"row 2, column user_id:"}},
		{"too many tags", "phone,tags\n15551234567," + manyTags(consent.MaxContactTags+1) + "\n", []string{"row 2, column tags:"}},
		{"withdrawal needs no date", "phone,opted_in,purpose\n15551234567,false,\n", nil},
		{"opt-in fields without opted_in", "phone,opted_in_at\n15551234567,2026-01-01\n", []string{"row 2, column opted_in:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.eng.ImportContacts(h.ctx, strings.NewReader(tc.csv), consent.ImportOptions{PhoneNumberID: phone, DryRun: true})
			var got []string
			for _, p := range res.Problems {
				got = append(got, p.String())
			}
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("problems: %v", got)
				}
				return
			}
			if !errors.Is(err, consent.ErrImportInvalid) {
				t.Fatalf("err %v, want ErrImportInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(strings.Join(got, "\n"), w) {
					t.Errorf("problems %q lack %q", got, w)
				}
			}
		})
	}
}

func manyTags(n int) string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("t%d", i)
	}
	return strings.Join(tags, ";")
}
