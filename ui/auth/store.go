package auth

import (
	"context"
	"crypto/sha256"
	"time"
)

// Records is where auth keeps its users, sessions and API tokens: the
// engine's bbolt file (*boltstore.Store, engine/boltstore/auth.go) or
// PostgreSQL (*pgstore.Store); package storetest's Auth suite pins the
// contract. A write's checks and changes happen in one UpdateAuth, which
// runs them atomically with respect to every other UpdateAuth, in every
// process sharing the store. As with boltstore's Update, fn may run more
// than once and must do the same each time.
type Records interface {
	UpdateAuth(ctx context.Context, fn func(tx Tx) error) error
	ViewAuth(ctx context.Context, fn func(tx Tx) error) error
}

// Tx is one transaction over auth's records. Getters return nil (no
// error) for a record that does not exist; listings are in key order.
// Sessions and tokens are keyed by the hash of their secret (hashKey).
type Tx interface {
	User(email string) (*UserRecord, error)
	Users() ([]*UserRecord, error)
	// AnyUser reports whether at least one user exists.
	AnyUser() (bool, error)
	PutUser(r *UserRecord) error
	// DeleteUser removes a user, reporting whether there was one.
	DeleteUser(email string) (bool, error)

	Session(key []byte) (*SessionRecord, error)
	PutSession(key []byte, r *SessionRecord) error
	DeleteSession(key []byte) error
	// DeleteSessions deletes the sessions match holds for and returns how
	// many.
	DeleteSessions(match func(*SessionRecord) bool) (int, error)

	Token(key []byte) (*Token, error)
	Tokens() ([]*Token, error)
	PutToken(key []byte, t *Token) error
	// DeleteTokens deletes the tokens match holds for and returns how many.
	DeleteTokens(match func(*Token) bool) (int, error)
}

// UserRecord is a User as stored, with its password hash.
type UserRecord struct {
	User
	Hash              []byte    `json:"hash"`
	PasswordChangedAt time.Time `json:"password_changed_at"`
}

// SessionRecord is a signed-in browser. Its id is known only to the
// browser; the key is the id's hash.
type SessionRecord struct {
	Email     string    `json:"email"`
	CSRF      string    `json:"csrf"`
	CreatedAt time.Time `json:"created_at"`
	SeenAt    time.Time `json:"seen_at"`
}

// Token is an API token as listed: never its secret, which is shown once,
// when it is made.
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsedAt is the last request it made (to within a minute).
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// ExpiresAt, when set, is when it stops working (401).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Service tokens survive their user's password change; others are
	// revoked by it, like the user's sessions.
	Service bool `json:"service"`
}

func hashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
