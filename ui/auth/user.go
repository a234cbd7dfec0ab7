package auth

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on what a user record holds.
const (
	// MinPasswordLength is the fewest characters a password may have
	// (NIST SP 800-63B asks for at least 8; Parley guards customer data).
	MinPasswordLength = 10
	// MaxPasswordBytes is bcrypt's input limit: it ignores (and x/crypto
	// refuses) anything past 72 bytes.
	MaxPasswordBytes = 72
	// maxEmailBytes is RFC 5321's limit on a forward path.
	maxEmailBytes = 254
	// maxNameRunes caps a display name.
	maxNameRunes = 100
)

// User is a person (or, through an API token, a system) that signs in.
// Email, lowercased, is its id.
type User struct {
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Roles     []Role    `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
	Disabled  bool      `json:"disabled"`
}

// Has reports whether u holds role r.
func (u *User) Has(r Role) bool { return u != nil && slices.Contains(u.Roles, r) }

// HasAny reports whether u holds at least one of roles.
func (u *User) HasAny(roles ...Role) bool {
	for _, r := range roles {
		if u.Has(r) {
			return true
		}
	}
	return false
}

// NewUser is what creating a user takes.
type NewUser struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Roles    []Role `json:"roles"`
	Password string `json:"password"`
}

// UserChange is a partial update of a user: nil fields stay as they are.
type UserChange struct {
	Name     *string `json:"name"`
	Roles    *[]Role `json:"roles"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

// NormalizeEmail trims and lowercases an email and checks that it is one
// plain address ("ana@example.com", not "Ana <ana@example.com>").
func NormalizeEmail(s string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(s))
	if e == "" || len(e) > maxEmailBytes {
		return "", fmt.Errorf("%w: %q", ErrInvalidEmail, s)
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return "", fmt.Errorf("%w: %q", ErrInvalidEmail, s)
	}
	return e, nil
}

func normalizeName(s string) (string, error) {
	n := strings.TrimSpace(s)
	if !utf8.ValidString(n) || utf8.RuneCountInString(n) > maxNameRunes {
		return "", fmt.Errorf("%w: at most %d characters", ErrInvalidName, maxNameRunes)
	}
	for _, r := range n {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("%w: no control characters", ErrInvalidName)
		}
	}
	return n, nil
}
