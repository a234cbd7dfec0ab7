package boltstore

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/ui/auth"
)

// The sign-in's buckets (auth.Records): email → auth.UserRecord,
// sha256(session id) → auth.SessionRecord, sha256(token secret) →
// auth.Token, all JSON.
var (
	bucketAuthUsers    = []byte("auth_users")
	bucketAuthSessions = []byte("auth_sessions")
	bucketAuthTokens   = []byte("auth_tokens")
)

var _ auth.Records = (*Store)(nil)

// UpdateAuth runs fn in a write of the committer (auth.Records): bbolt has
// one writer at a time, so fn is atomic with every other write.
func (s *Store) UpdateAuth(ctx context.Context, fn func(auth.Tx) error) error {
	return s.Update(ctx, func(tx *bolt.Tx) error { return fn(authTx{tx}) })
}

// ViewAuth runs fn in a read transaction (auth.Records).
func (s *Store) ViewAuth(ctx context.Context, fn func(auth.Tx) error) error {
	return s.view(ctx, func(tx *bolt.Tx) error { return fn(authTx{tx}) })
}

// authTx is auth.Tx over a bbolt transaction; writes need a writable one.
type authTx struct{ tx *bolt.Tx }

func (t authTx) User(email string) (*auth.UserRecord, error) {
	return getJSON[auth.UserRecord](t.tx, bucketAuthUsers, []byte(email))
}

func (t authTx) Users() ([]*auth.UserRecord, error) {
	return allJSON[auth.UserRecord](t.tx, bucketAuthUsers)
}

func (t authTx) AnyUser() (bool, error) {
	b := t.tx.Bucket(bucketAuthUsers)
	if b == nil {
		return false, nil
	}
	k, _ := b.Cursor().First()
	return k != nil, nil
}

func (t authTx) PutUser(r *auth.UserRecord) error {
	return putJSON(t.tx, bucketAuthUsers, []byte(r.Email), r)
}

func (t authTx) DeleteUser(email string) (bool, error) {
	return deleteKey(t.tx, bucketAuthUsers, []byte(email))
}

func (t authTx) Session(key []byte) (*auth.SessionRecord, error) {
	return getJSON[auth.SessionRecord](t.tx, bucketAuthSessions, key)
}

func (t authTx) PutSession(key []byte, r *auth.SessionRecord) error {
	return putJSON(t.tx, bucketAuthSessions, key, r)
}

func (t authTx) DeleteSession(key []byte) error {
	_, err := deleteKey(t.tx, bucketAuthSessions, key)
	return err
}

func (t authTx) DeleteSessions(match func(*auth.SessionRecord) bool) (int, error) {
	return deleteWhere(t.tx, bucketAuthSessions, match)
}

func (t authTx) Token(key []byte) (*auth.Token, error) {
	return getJSON[auth.Token](t.tx, bucketAuthTokens, key)
}

func (t authTx) Tokens() ([]*auth.Token, error) {
	return allJSON[auth.Token](t.tx, bucketAuthTokens)
}

func (t authTx) PutToken(key []byte, tok *auth.Token) error {
	return putJSON(t.tx, bucketAuthTokens, key, tok)
}

func (t authTx) DeleteTokens(match func(*auth.Token) bool) (int, error) {
	return deleteWhere(t.tx, bucketAuthTokens, match)
}
