package engine_test

import (
	"errors"
	"fmt"
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
)

// TestContactsByWaID: a customer is found by their phone number whether
// their contact is keyed by it (an import) or by the user id Meta sends
// (their own message), on every business number, past the first page of
// the store's contacts.
func TestContactsByWaID(t *testing.T) {
	h := newHarness(t, echoFlow)
	var csv strings.Builder
	csv.WriteString("phone,phone_number_id\n")
	for i := range 600 {
		fmt.Fprintf(&csv, "1555000%04d,%s\n", i, phone)
	}
	csv.WriteString("15551234567,200000000000002\n") // the customer on a second number, by phone
	if _, err := h.eng.ImportContacts(h.ctx, strings.NewReader(csv.String()), consent.ImportOptions{PhoneNumberID: phone}); err != nil {
		t.Fatal(err)
	}
	// The customer writes to the first number: keyed by their user id.
	if _, err := h.eng.HandleInbound(h.ctx, &engine.Inbound{PhoneNumberID: phone, ID: "wamid.1", WaID: "15551234567", UserID: "US.77",
		At: h.clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: "hi"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		waID string
		want []model.ContactKey
	}{
		{"15551234567", []model.ContactKey{model.NewContactKey(phone, "US.77"), model.NewContactKey("200000000000002", "15551234567")}},
		{"15550000599", []model.ContactKey{model.NewContactKey(phone, "15550000599")}}, // past the first page
		{"15559999999", nil},
	} {
		got, err := h.eng.ContactsByWaID(h.ctx, tc.waID)
		if err != nil {
			t.Fatal(err)
		}
		var keys []model.ContactKey
		for _, c := range got {
			keys = append(keys, c.Key)
		}
		if fmt.Sprint(keys) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.waID, keys, tc.want)
		}
	}
}

// TestContactsOfOtherNumbersRefused: an engine that serves numbers refuses
// a contact, or an import row, of a number it does not serve (a typo would
// make a silent second copy of the customer); the numbers it serves are
// recorded in the store, where `parley contacts import` finds them.
func TestContactsOfOtherNumbersRefused(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := engine.New(t.Context(), engine.Options{Store: st, Templates: templates.NewSet(), Logger: slog.New(slog.DiscardHandler),
		PhoneNumbers: []engine.PhoneNumber{{ID: phone, Display: "15550000001"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = eng.SaveContact(t.Context(), consent.ContactInput{PhoneNumberID: "123", WaID: "15551234567"}, "test")
	if !errors.Is(err, consent.ErrInvalidContact) || !strings.Contains(err.Error(), "123 is not a business number Parley serves ("+phone+")") {
		t.Errorf("a contact of another number: %v", err)
	}
	if _, _, err := eng.SaveContact(t.Context(), consent.ContactInput{PhoneNumberID: phone, WaID: "15551234567"}, "test"); err != nil {
		t.Errorf("a contact of the number served: %v", err)
	}
	res, err := eng.ImportContacts(t.Context(), strings.NewReader("phone,phone_number_id\n15551234567,\n15557654321,999\n"),
		consent.ImportOptions{PhoneNumberID: phone})
	if !errors.Is(err, consent.ErrImportInvalid) || len(res.Problems) != 1 || res.Problems[0].String() != "row 3, column phone_number_id: 999 is not a business number Parley serves ("+phone+")" {
		t.Errorf("an import with a row of another number: %+v, %v", res.Problems, err)
	}
	stored, err := engine.StoredNumbers(t.Context(), st)
	if err != nil || len(stored) != 1 || stored[0] != (engine.PhoneNumber{ID: phone, Display: "15550000001"}) {
		t.Errorf("numbers in the store: %+v, %v", stored, err)
	}
}
