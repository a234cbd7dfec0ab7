package whatsapp

import "fmt"

// The identities a webhook names become parts of Parley's keys: the
// business number id and the customer's wa_id or BSUID make the contact
// key ("<phone_number_id>:<identity>", conversations add "#n"), and the
// message id is the dedupe key. An item whose identities break these keys
// can never be processed, however often Meta redelivers it; the webhook
// acknowledges it and keeps it aside instead (see Unprocessable).
const (
	// MaxMessageIDBytes caps a message id. A wamid is about 60 bytes;
	// bbolt refuses keys over 32 KB, so an id that long failed every
	// redelivery.
	MaxMessageIDBytes = 512
	// MaxWaIDDigits caps a wa_id: E.164 numbers have at most 15 digits.
	MaxWaIDDigits = 20
	// maxBSUIDChars caps the part of a BSUID after its prefix (docs/whatsapp.md §1.4:
	// "≤128 alphanumerics").
	maxBSUIDChars = 128
)

// Reasons an item is unprocessable, as Unprocessable returns them and the
// metric parley_webhook_items_rejected_total counts them.
const (
	RejectNoID        = "no_id"     // a message without an id cannot be deduplicated
	RejectBadID       = "bad_id"    // over MaxMessageIDBytes, or not printable ASCII
	RejectNoSender    = "no_sender" // neither from nor from_user_id
	RejectBadSender   = "bad_sender"
	RejectBadBusiness = "bad_phone_number_id"
)

// ValidWaID reports whether s is a wa_id: 1 to MaxWaIDDigits ASCII digits.
func ValidWaID(s string) bool {
	return len(s) >= 1 && len(s) <= MaxWaIDDigits && isDigits(s)
}

// ValidPhoneNumberID reports whether s is a business phone number id:
// Meta's ids are digits, of the length of a wa_id at most.
func ValidPhoneNumberID(s string) bool { return ValidWaID(s) }

// ValidUserID reports whether s is a business-scoped user id: an ISO 3166
// alpha-2 code, a dot, "ENT." for a parent BSUID, then 1 to 128 ASCII
// letters and digits (docs/whatsapp.md §1.4).
func ValidUserID(s string) bool {
	if !isBSUID(s) {
		return false
	}
	rest := s[3:]
	if len(rest) > 4 && rest[:4] == "ENT." {
		rest = rest[4:]
	}
	if len(rest) == 0 || len(rest) > maxBSUIDChars {
		return false
	}
	for i := range len(rest) {
		if c := rest[i]; !isUpper(c) && !('a' <= c && c <= 'z') && !('0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// ValidMessageID reports whether s can be a message id: 1 to
// MaxMessageIDBytes bytes of printable ASCII, no space (wamids are base64
// behind "wamid.").
func ValidMessageID(s string) bool {
	if len(s) == 0 || len(s) > MaxMessageIDBytes {
		return false
	}
	for i := range len(s) {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// Unprocessable says why m can never be processed — reason (one of the
// Reject constants) and a detail that quotes no customer text — or returns
// "" when it can. A message without an id is unprocessable too: without
// a dedupe key, each of Meta's redeliveries would be processed again.
func (m *InboundMessage) Unprocessable() (reason, detail string) {
	switch {
	case m.ID == "":
		return RejectNoID, "the message has no id, so a redelivery could not be told apart"
	case !ValidMessageID(m.ID):
		return RejectBadID, fmt.Sprintf("the message id (%d bytes) is not 1 to %d bytes of printable ASCII", len(m.ID), MaxMessageIDBytes)
	}
	if reason, detail := senderProblem(m.From, m.UserID); reason != "" {
		return reason, detail
	}
	return businessProblem(m.PhoneNumberID)
}

// Unprocessable says why a user_preferences item can never be applied, as
// InboundMessage.Unprocessable does, or returns "" when it can.
func (p *UserPreference) Unprocessable() (reason, detail string) {
	if reason, detail := senderProblem(p.WaID, p.UserID); reason != "" {
		return reason, detail
	}
	return businessProblem(p.PhoneNumberID)
}

func senderProblem(waID, userID string) (reason, detail string) {
	switch {
	case waID == "" && userID == "":
		return RejectNoSender, "neither a wa_id (from) nor a user id (from_user_id)"
	case waID != "" && !ValidWaID(waID):
		return RejectBadSender, fmt.Sprintf("the wa_id (%d bytes) is not 1 to %d digits", len(waID), MaxWaIDDigits)
	case userID != "" && !ValidUserID(userID):
		return RejectBadSender, fmt.Sprintf("the user id (%d bytes) is not a BSUID (CC.…, at most %d letters and digits)", len(userID), maxBSUIDChars)
	}
	return "", ""
}

func businessProblem(id string) (reason, detail string) {
	if !ValidPhoneNumberID(id) {
		return RejectBadBusiness, fmt.Sprintf("the business phone_number_id (%d bytes) is not 1 to %d digits", len(id), MaxWaIDDigits)
	}
	return "", ""
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
