package model

import (
	"encoding/base64"
	"errors"
	"strings"
	"time"
)

// ErrInvalidCursor is returned by Store.ListConversations when the filter's
// cursor was not made by ConversationCursor (garbled, or cut short).
var ErrInvalidCursor = errors.New("invalid cursor")

// ConversationFilter selects conversations for Store.ListConversations.
// Zero fields select everything.
type ConversationFilter struct {
	Status  Status
	Flow    string
	Contact ContactKey
	// Number keeps the conversations of one business phone number (by
	// its phone number id, the first part of the contact key).
	Number string
	// Limit caps the page; <= 0 means no limit.
	Limit int
	// Cursor continues a listing after the last conversation of a previous
	// page (the next cursor ListConversations returned); "" starts at the
	// newest.
	Cursor string
}

// Match reports whether c passes the filter's Status, Flow, Contact and
// Number.
func (f ConversationFilter) Match(c *Conversation) bool {
	return (f.Status == "" || c.Status == f.Status) &&
		(f.Flow == "" || c.Flow == f.Flow) &&
		(f.Contact == "" || c.Contact == f.Contact) &&
		(f.Number == "" || c.Contact.PhoneNumberID() == f.Number)
}

// CompareActivity orders conversations for listing, newest activity first:
// by LastActivityAt descending, then by id descending so that equal times
// still have one order. It returns -1 when (aAt, aID) lists before (bAt,
// bID). Every Store lists in this order, so cursors mean the same on all.
func CompareActivity(aAt time.Time, aID string, bAt time.Time, bID string) int {
	if c := bAt.Compare(aAt); c != 0 {
		return c
	}
	return strings.Compare(bID, aID)
}

// Cursor is a position in the listing order: the last conversation a page
// held. Paging is by key (activity time, id), not by offset, so a page
// costs the same however deep it is; a conversation whose activity moves
// while a client pages jumps to the front, and that pass does not see it
// again.
type Cursor struct {
	At time.Time
	ID string
}

// ConversationCursor is the cursor after c: the next page starts with the
// conversation that lists right after it.
func ConversationCursor(c *Conversation) string {
	raw := c.LastActivityAt.UTC().Format(time.RFC3339Nano) + "|" + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// ParseCursor decodes a cursor made by ConversationCursor, or returns
// ErrInvalidCursor.
func ParseCursor(s string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, ErrInvalidCursor
	}
	at, id, ok := strings.Cut(string(raw), "|")
	if !ok || id == "" {
		return Cursor{}, ErrInvalidCursor
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return Cursor{}, ErrInvalidCursor
	}
	return Cursor{At: t, ID: id}, nil
}

// After reports whether a conversation with activity at and id lists after
// the cursor, that is, belongs to the next pages.
func (c Cursor) After(at time.Time, id string) bool {
	return CompareActivity(c.At, c.ID, at, id) < 0
}
