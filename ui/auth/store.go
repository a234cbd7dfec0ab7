package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DB is where auth keeps its records: the engine's bbolt file, through
// (*boltstore.Store).Update and View. As there, Update's fn may run more
// than once and must do the same each time.
type DB interface {
	Update(ctx context.Context, fn func(tx *bolt.Tx) error) error
	View(ctx context.Context, fn func(tx *bolt.Tx) error) error
}

// The buckets, all prefixed "auth_" (see boltstore/extension.go).
var (
	// usersBucket: email → userRecord.
	usersBucket = []byte("auth_users")
	// sessionsBucket: sha256(session id) → sessionRecord.
	sessionsBucket = []byte("auth_sessions")
	// tokensBucket: sha256(token secret) → tokenRecord.
	tokensBucket = []byte("auth_tokens")
)

// userRecord is a User as stored, with its password hash.
type userRecord struct {
	User
	Hash              []byte    `json:"hash"`
	PasswordChangedAt time.Time `json:"password_changed_at"`
}

// sessionRecord is a signed-in browser. Its id is known only to the
// browser; the key is the id's hash.
type sessionRecord struct {
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

func getJSON[T any](b *bolt.Bucket, key []byte) (*T, error) {
	if b == nil {
		return nil, nil
	}
	raw := b.Get(key)
	if raw == nil {
		return nil, nil
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("auth: decoding %q: %w", key, err)
	}
	return &v, nil
}

func putJSON(tx *bolt.Tx, bucket, key []byte, v any) error {
	b, err := tx.CreateBucketIfNotExists(bucket)
	if err != nil {
		return fmt.Errorf("auth: bucket %s: %w", bucket, err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, raw)
}

// each calls fn for every record of bucket, decoded.
func each[T any](tx *bolt.Tx, bucket []byte, fn func(k []byte, v *T) error) error {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, raw []byte) error {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("auth: decoding %s: %w", bucket, err)
		}
		return fn(k, &v)
	})
}

// deleteWhere deletes the records of bucket for which match holds. Keys
// are collected first: bbolt forbids changing a bucket during ForEach.
func deleteWhere[T any](tx *bolt.Tx, bucket []byte, match func(*T) bool) error {
	var keys [][]byte
	if err := each(tx, bucket, func(k []byte, v *T) error {
		if match(v) {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := tx.Bucket(bucket).Delete(k); err != nil {
			return err
		}
	}
	return nil
}
