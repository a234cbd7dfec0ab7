package consent_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/model"
)

var now = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func TestKeywordsMatch(t *testing.T) {
	defaults := consent.NewKeywords(nil, nil, "", "")
	custom := consent.NewKeywords([]string{"halt"}, []string{}, "bye", "")
	for _, tc := range []struct {
		name string
		k    consent.Keywords
		text string
		want model.ConsentKind
	}{
		{"default opt-out", defaults, "STOP", model.ConsentOptOut},
		{"case and punctuation do not count", defaults, "  stop. ", model.ConsentOptOut},
		{"another language", defaults, "Arrêt", model.ConsentOptOut},
		{"words inside do", defaults, "stop sending", ""},
		{"default opt-in", defaults, "start", model.ConsentOptIn},
		{"empty", defaults, "", ""},
		{"configured replaces the default", custom, "STOP", ""},
		{"configured", custom, "Halt!", model.ConsentOptOut},
		{"an empty list turns them off", custom, "START", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.k.Match(tc.text); got != tc.want {
				t.Errorf("Match(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
	if defaults.OptOutReply != consent.DefaultOptOutReply || defaults.OptInReply != consent.DefaultOptInReply {
		t.Errorf("default replies: %q, %q", defaults.OptOutReply, defaults.OptInReply)
	}
	if custom.OptOutReply != "bye" || custom.OptInReply != consent.DefaultOptInReply {
		t.Errorf("configured replies: %q, %q", custom.OptOutReply, custom.OptInReply)
	}
}

func TestNormalizePhone(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"+49 151 2345-678", "491512345678", true},
		{"(555) 123 4567", "5551234567", true},
		{"15551234567", "15551234567", true},
		{"1234567", "1234567", false},                   // too short for E.164
		{"1234567890123456", "1234567890123456", false}, // too long
		{"1+5551234567", "", false},                     // a plus inside
		{"555 CALL NOW", "", false},
	} {
		got, ok := consent.NormalizePhone(tc.in)
		if ok != tc.ok || (ok || got != "") && got != tc.want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     consent.ContactInput
		fields []string // the fields with problems, in order
	}{
		{"valid", consent.ContactInput{PhoneNumberID: "100", WaID: "+1 555 123 4567", Name: "Ann"}, nil},
		{"no business number", consent.ContactInput{WaID: "15551234567"}, []string{"phone_number_id"}},
		{"no customer", consent.ContactInput{PhoneNumberID: "100"}, []string{"phone"}},
		{"user id with a colon", consent.ContactInput{PhoneNumberID: "100", UserID: "US:1"}, []string{"user_id"}},
		{"language", consent.ContactInput{PhoneNumberID: "100", WaID: "15551234567", Language: "english"}, []string{"language"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			var got []string
			for _, p := range in.Validate(now) {
				got = append(got, p.Field)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("problems in %v, want %v", got, tc.fields)
			}
		})
	}
	in := consent.ContactInput{PhoneNumberID: "100", WaID: "+1 (555) 123-4567"}
	if ps := in.Validate(now); len(ps) > 0 || in.WaID != "15551234567" || in.Key() != "100:15551234567" {
		t.Errorf("normalised: %q, key %q, problems %v", in.WaID, in.Key(), ps)
	}
}

func TestParseImport(t *testing.T) {
	csv := "Phone,name,opted_in,opted_in_at,source\n" +
		"+1 555 123 4567,Ann,true,2026-01-02,web_form\n" +
		"\n" +
		"15557654321,Bob,,,\n"
	var res consent.ImportResult
	rows, probs := consent.ParseImport(strings.NewReader(csv), consent.ImportOptions{PhoneNumberID: "100"}, now, &res)
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	if res.Rows != 2 || len(rows) != 2 {
		t.Fatalf("rows: %d counted, %d parsed", res.Rows, len(rows))
	}
	ann, bob := rows[0], rows[1]
	if ann.Row != 2 || ann.Input.Key() != "100:15551234567" || ann.Input.Consent == nil || !ann.Input.Consent.OptedIn ||
		!ann.Input.Consent.At.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) || ann.Detail != "collected via web_form" {
		t.Errorf("Ann: %+v, consent %+v", ann, ann.Input.Consent)
	}
	if bob.Row != 3 || bob.Input.Name != "Bob" || bob.Input.Consent != nil || bob.Detail != "" {
		t.Errorf("Bob (a blank line is no row): %+v", bob)
	}

	for _, tc := range []struct {
		name, csv string
		want      string
	}{
		{"no header", "", "row 1: no header row"},
		{"unknown column", "phone,colour\n15551234567,red\n", "row 1, column colour: unknown column"},
		{"no customer column", "name\nAnn\n", "row 1: a phone (or wa_id) or user_id column is required"},
		{"the same contact twice", "phone\n15551234567\n+1 555 123 4567\n", "row 3, column phone: the same contact as row 2"},
		{"cells", "phone,name\n15551234567\n", "row 2: 1 cells, the header has 2"},
		{"nothing after the header", "phone\n", "row 2: no contacts after the header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res consent.ImportResult
			_, probs := consent.ParseImport(strings.NewReader(tc.csv), consent.ImportOptions{PhoneNumberID: "100"}, now, &res)
			var got []string
			for _, p := range probs {
				got = append(got, p.String())
			}
			if !strings.Contains(strings.Join(got, "\n"), tc.want) {
				t.Errorf("problems %q lack %q", got, tc.want)
			}
		})
	}
}
