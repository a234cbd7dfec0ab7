package whatsapp

import (
	"bytes"
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// parseAtOnce is ParseWebhook's fast path. The item-by-item path decodes
// the envelope, then each change's value, then each item, so encoding/json
// validates and scans the same bytes at every level; here one json.Unmarshal
// decodes the whole body, items included, and the events are built from
// that.
//
// It gives the item-by-item path's result or none. Items decode into the
// same wire structs as on that path and become events through the same code
// (wireMessage.public, addMessage, addStatus …), so the results agree
// wherever this path answers (TestParseAtOnceMatchesItemByItem and
// FuzzParseAtOnceMatchesItemByItem hold it to that path).
// It does not answer (ok is false, and the caller takes the item-by-item
// path) when the body does not decode (it is not JSON, or an item has an
// unexpected shape, which that path isolates), is not a WhatsApp Business
// Account envelope, repeats a key in an object (see repeatsKey), or has a
// change that addDecodedChange cannot add.
func parseAtOnce(body []byte) (*Batch, bool) {
	var env wireEnvelope[wireValue]
	if json.Unmarshal(body, &env) != nil || env.Object != objectWABA || repeatsKey(body) {
		return nil, false
	}
	b := &Batch{}
	for i := range env.Entry {
		e := &env.Entry[i]
		ent := entryInfo{wabaID: string(e.ID), time: e.Time.t}
		for j := range e.Changes {
			if !b.addDecodedChange(ent, e.Changes[j].Field, &e.Changes[j].Value) {
				return nil, false
			}
		}
	}
	return b, true
}

// wireValue is a change's value as parseAtOnce decodes it, before it knows
// the change's field (Meta sends "value" before "field"): the union of what
// the fields it handles carry.
type wireValue struct {
	Metadata    wireMetadata     `json:"metadata"`
	Contacts    []wireContact    `json:"contacts"`
	Messages    []wireMessage    `json:"messages"`
	Statuses    []wireStatus     `json:"statuses"`
	Errors      []wireError      `json:"errors"`
	Preferences []wirePreference `json:"user_preferences"`
	// The template update's fields, and the number update's; Event is
	// both's.
	wireTemplateUpdate
	wireNumberLimits
}

// addDecodedChange adds the events of a change that parseAtOnce decoded. It
// adds nothing and returns false when only the item-by-item path can: for
// account_update and fields it does not model, whose value is kept raw; for
// a message that is unsupported, which keeps its raw JSON; and for a change
// with nothing of its field in its value, which might have had no value at
// all (an absent value goes to Other; an empty or null one adds nothing).
func (b *Batch) addDecodedChange(ent entryInfo, field string, v *wireValue) bool {
	switch field {
	case FieldMessages:
		if len(v.Messages)+len(v.Statuses)+len(v.Errors) == 0 {
			return false
		}
		contacts := contactInfos(v.Contacts)
		b.Messages = slices.Grow(b.Messages, len(v.Messages))
		for i := range v.Messages {
			m, err := v.Messages[i].public(nil, 0)
			if err != nil || m.Type == TypeUnsupported {
				return false
			}
			b.addMessage(ent, &v.Metadata, contacts, m)
		}
		b.Statuses = slices.Grow(b.Statuses, len(v.Statuses))
		for i := range v.Statuses {
			b.addStatus(ent, &v.Metadata, &v.Statuses[i])
		}
		for i := range v.Errors {
			b.addErrorEvent(ent, &v.Metadata, &v.Errors[i])
		}
	case FieldTemplateStatus, FieldTemplateQuality, FieldTemplateCategory:
		if v.wireTemplateUpdate == (wireTemplateUpdate{}) {
			return false
		}
		b.TemplateUpdates = append(b.TemplateUpdates, v.wireTemplateUpdate.public(ent, field))
	case FieldUserPreferences:
		if len(v.Preferences) == 0 {
			return false
		}
		contacts := contactInfos(v.Contacts)
		for i := range v.Preferences {
			b.addPreference(ent, &v.Metadata, contacts, &v.Preferences[i])
		}
	case FieldPhoneNumberQuality:
		w := wireNumberUpdate{Event: v.Event, wireNumberLimits: v.wireNumberLimits}
		if w == (wireNumberUpdate{}) {
			return false
		}
		b.NumberUpdates = append(b.NumberUpdates, w.public(ent))
	default:
		return false
	}
	return true
}

func contactInfos(ws []wireContact) []contactInfo {
	cs := make([]contactInfo, len(ws))
	for i := range ws {
		cs[i] = ws[i].info()
	}
	return cs
}

// repeatsKey reports whether an object in data, which must be valid JSON,
// may name a key twice. encoding/json keeps the last of two values where the
// item-by-item path decodes into json.RawMessage, but merges them where
// parseAtOnce decodes into a struct, so such a body must take the
// item-by-item path. Keys match as encoding/json matches them to struct
// fields: exactly or ignoring case. A key with an escape or a non-ASCII
// byte counts as a repeat, since encoding/json unescapes keys and folds some
// non-ASCII letters onto ASCII ones ("ſ" matches "s").
func repeatsKey(data []byte) bool {
	type span struct{ start, end int }
	// open holds, for each open object or array, where its keys start in
	// keys, or -1 for an array; keys holds the keys of open objects.
	var openBuf [16]int
	var keysBuf [64]span
	open, keys := openBuf[:0], keysBuf[:0]
	atKey := false // the next string is a key
	for i := 0; i < len(data); i++ {
		if !jsonPunct[data[i]] {
			continue
		}
		switch data[i] {
		case '{':
			open = append(open, len(keys))
			atKey = true
		case '[':
			open = append(open, -1)
		case '}', ']':
			if first := open[len(open)-1]; first >= 0 {
				keys = keys[:first]
			}
			open = open[:len(open)-1]
			atKey = false
		case ',':
			atKey = open[len(open)-1] >= 0
		case '"':
			start, end := i+1, closingQuote(data, i+1)
			i = end
			if !atKey {
				continue
			}
			atKey = false
			key := data[start:end]
			for _, c := range key {
				if c == '\\' || c >= utf8.RuneSelf {
					return true
				}
			}
			for _, k := range keys[open[len(open)-1]:] {
				if bytes.EqualFold(data[k.start:k.end], key) {
					return true
				}
			}
			keys = append(keys, span{start, end})
		}
	}
	return false
}

// jsonPunct marks the bytes repeatsKey looks at: the rest are whitespace,
// or in numbers and literals.
var jsonPunct = [256]bool{'{': true, '}': true, '[': true, ']': true, ',': true, '"': true}

// closingQuote returns the index of the quote that ends the JSON string
// whose text starts at data[start]: the first quote not escaped by an odd
// number of backslashes.
func closingQuote(data []byte, start int) int {
	for i := start; ; i++ {
		i += bytes.IndexByte(data[i:], '"')
		j := i
		for j > start && data[j-1] == '\\' {
			j--
		}
		if (i-j)%2 == 0 {
			return i
		}
	}
}
