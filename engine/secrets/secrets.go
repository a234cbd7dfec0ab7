// Package secrets keeps the named values flows use without showing them —
// an API token in an http step's header ({{ secrets.NAME }}) — so that a
// flow document, an export or an editor's screen never holds one.
//
// Admins store values by name; a value is write-only: it is sealed with
// AES-256-GCM under a key kept outside the data file (key.go) before it
// is stored, and only Resolve, which the http step calls, ever opens it.
// A listing tells name, who stored it and when, and a fingerprint: a
// short HMAC of the value under a key derived from the secrets key, so an
// admin can tell whether two installs sharing a key hold the same value
// without seeing it.
package secrets

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Limits of names and values.
const (
	MaxNameLen  = 64
	MaxValueLen = 8 << 10
)

// ErrSecretNotFound is Resolve's and Delete's error for a name that is
// not stored.
var ErrSecretNotFound = errors.New("secret not found")

// ErrInvalid marks an error of the caller's input (a bad name, an empty
// or too long value): the API answers 400 for it.
var ErrInvalid = errors.New("invalid secret")

// Record is a secret as stored: its value sealed (nonce followed by
// AES-256-GCM ciphertext, the name as additional data, so that a sealed
// value moved to another name does not open).
type Record struct {
	Name        string    `json:"name"`
	Sealed      []byte    `json:"sealed"`
	Fingerprint string    `json:"fingerprint"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	UpdatedAt   time.Time `json:"updated_at"`
	UpdatedBy   string    `json:"updated_by"`
}

// Records is where secrets are kept: *boltstore.Store implements it over
// the data file; another backend implements the same four operations.
type Records interface {
	// PutSecret stores r under r.Name, durably, and returns the record as
	// stored: when the name is stored already, its CreatedAt and
	// CreatedBy are kept and created is false.
	PutSecret(ctx context.Context, r Record) (stored Record, created bool, err error)
	// Secret returns the record of name; ok is false when there is none.
	Secret(ctx context.Context, name string) (r Record, ok bool, err error)
	// ListSecrets returns every record, by name.
	ListSecrets(ctx context.Context) ([]Record, error)
	// DeleteSecret deletes name, durably; ok is false when there was none.
	DeleteSecret(ctx context.Context, name string) (ok bool, err error)
}

// Resolver is what a flow step that sends secrets needs of a Store.
type Resolver interface {
	Resolve(ctx context.Context, name string) (string, error)
}

var _ Resolver = (*Store)(nil)

// Info is what may be shown of a secret: everything but its value.
type Info struct {
	Name        string    `json:"name"`
	Fingerprint string    `json:"fingerprint"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	UpdatedAt   time.Time `json:"updated_at"`
	UpdatedBy   string    `json:"updated_by"`
}

// Store seals, keeps and opens secrets. It is safe for concurrent use.
type Store struct {
	records Records
	aead    cipher.AEAD
	fpKey   []byte
	now     func() time.Time
}

// New returns a Store over records with the 32-byte key (LoadKey). now
// tells the time of changes (nil: time.Now).
func New(records Records, key []byte, now func() time.Time) (*Store, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: the key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	// The fingerprint key is derived from the secrets key, never the key
	// itself: a fingerprint reveals nothing usable against the ciphertext.
	fp := hmac.New(sha256.New, key)
	fp.Write([]byte("parley secrets fingerprint v1"))
	return &Store{records: records, aead: aead, fpKey: fp.Sum(nil), now: now}, nil
}

// ValidName returns an error (ErrInvalid) unless name is 1 to 64
// characters of [a-z][a-z0-9_]*: a name a template can write as
// {{ secrets.NAME }}.
func ValidName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("%w: a name is 1 to %d characters, got %d", ErrInvalid, MaxNameLen, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return fmt.Errorf("%w: name %q: a name starts with a lowercase letter and holds only lowercase letters, digits and _", ErrInvalid, name)
		}
	}
	return nil
}

// Put stores value under name, by the user by, replacing what was there;
// created tells it was new. The value itself appears in no error.
func (s *Store) Put(ctx context.Context, name, value, by string) (Info, bool, error) {
	if err := ValidName(name); err != nil {
		return Info{}, false, err
	}
	if value == "" || len(value) > MaxValueLen {
		return Info{}, false, fmt.Errorf("%w: a value is 1 to %d bytes, got %d", ErrInvalid, MaxValueLen, len(value))
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(value)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return Info{}, false, fmt.Errorf("secrets: storing %q: %w", name, err)
	}
	now := s.now().UTC()
	r := Record{
		Name:        name,
		Sealed:      s.aead.Seal(nonce, nonce, []byte(value), []byte(name)),
		Fingerprint: s.fingerprint(value),
		CreatedAt:   now, CreatedBy: by,
		UpdatedAt: now, UpdatedBy: by,
	}
	stored, created, err := s.records.PutSecret(ctx, r)
	if err != nil {
		return Info{}, false, fmt.Errorf("secrets: storing %q: %w", name, err)
	}
	return info(stored), created, nil
}

// List returns every secret's Info, by name.
func (s *Store) List(ctx context.Context) ([]Info, error) {
	rs, err := s.records.ListSecrets(ctx)
	if err != nil {
		return nil, fmt.Errorf("secrets: listing: %w", err)
	}
	out := make([]Info, 0, len(rs))
	for _, r := range rs {
		out = append(out, info(r))
	}
	return out, nil
}

// Delete deletes name; ErrSecretNotFound when it is not stored.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	ok, err := s.records.DeleteSecret(ctx, name)
	if err != nil {
		return fmt.Errorf("secrets: deleting %q: %w", name, err)
	}
	if !ok {
		return fmt.Errorf("secrets: %q: %w", name, ErrSecretNotFound)
	}
	return nil
}

// Resolve returns the value of name, for a flow step that sends it (the
// http step's {{ secrets.NAME }}). It is ErrSecretNotFound when name is
// not stored, and a clear error naming the secret when its value does not
// open with this key (a data file moved without its key).
func (s *Store) Resolve(ctx context.Context, name string) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	r, ok, err := s.records.Secret(ctx, name)
	if err != nil {
		return "", fmt.Errorf("secrets: reading %q: %w", name, err)
	}
	if !ok {
		return "", fmt.Errorf("secrets: %q: %w", name, ErrSecretNotFound)
	}
	n := s.aead.NonceSize()
	if len(r.Sealed) < n+s.aead.Overhead() {
		return "", fmt.Errorf("secrets: %q is stored damaged (%d bytes sealed)", name, len(r.Sealed))
	}
	v, err := s.aead.Open(nil, r.Sealed[:n], r.Sealed[n:], []byte(name))
	if err != nil {
		return "", fmt.Errorf("secrets: %q cannot be decrypted with this install's key (PARLEY_SECRETS_KEY or %s): it was stored under another key, or the data file was altered: %w", name, KeyFile, err)
	}
	return string(v), nil
}

// fingerprint is the first 8 hex digits of the value's HMAC-SHA256 under
// the fingerprint key: enough to compare, too short and keyed to reverse.
func (s *Store) fingerprint(value string) string {
	m := hmac.New(sha256.New, s.fpKey)
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))[:8]
}

func info(r Record) Info {
	return Info{Name: r.Name, Fingerprint: r.Fingerprint, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}
}
