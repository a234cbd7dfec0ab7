package model

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/whatsapp"
)

// ErrInvalidID is returned (wrapped, saying what is wrong) by
// CheckContactKey and CheckConversationID for an id no contact or
// conversation can have: a route naming one refuses it (400) instead of
// looking it up or, for a write, storing under it.
var ErrInvalidID = errors.New("invalid id")

// maxUserIDBytes bounds a customer id: a BSUID is a country code, '.', and
// up to 128 alphanumerics.
const maxUserIDBytes = 150

// ValidIdentity reports whether s can be the customer part of a contact key
// (a wa_id or a user id): 1 to 150 bytes of UTF-8 with no key separator
// (':' ends the business number, '#' the contact in a conversation id), no
// slash, space, control or invisible formatting character (zero-width
// space, right-to-left override), which would make two keys look alike.
func ValidIdentity(s string) bool {
	if s == "" || len(s) > maxUserIDBytes || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == ':' || r == '#' || r == '/' || r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// CheckContactKey checks key has the shape of a contact key:
// "<phone_number_id>:<wa_id or user id>" (NewContactKey).
func CheckContactKey(key string) error {
	pn, id, ok := strings.Cut(key, ":")
	if !ok || !whatsapp.ValidPhoneNumberID(pn) || !ValidIdentity(id) {
		return fmt.Errorf("%w: contact key %s is not <phone_number_id>:<wa_id or user id> (the business number's digits, a colon, then the customer's id without ':', '#', '/' or spaces)", ErrInvalidID, quoteID(key))
	}
	return nil
}

// CheckConversationID checks id has the shape of the engine's
// conversation ids: a contact key, '#', and the contact's conversation
// number.
func CheckConversationID(id string) error {
	i := strings.LastIndexByte(id, '#')
	if n := id[i+1:]; i < 0 || n == "" || len(n) > 10 || strings.Trim(n, "0123456789") != "" || CheckContactKey(id[:i]) != nil {
		return fmt.Errorf("%w: conversation id %s is not <contact key>#<number>, like 100000000000001:15551234567#1", ErrInvalidID, quoteID(id))
	}
	return nil
}

// quoteID quotes an id for an error message: escaped (invisible
// characters show), and clipped.
func quoteID(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return fmt.Sprintf("%+q", s)
}
