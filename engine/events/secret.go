package events

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// secretPrefix starts every signing secret, so one pasted in the wrong
// place is recognised.
const secretPrefix = "whsec_"

// newSecret returns a new signing secret: the prefix and 48 hex digits
// (192 random bits).
func newSecret() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("events: making a secret: %w", err)
	}
	return secretPrefix + hex.EncodeToString(b[:]), nil
}

// sealer seals signing secrets with AES-256-GCM under a key derived from
// the secrets key (engine/secrets), the subscription id as additional
// data: a copy of the data file alone cannot sign as Parley.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("events: the secrets key is %d bytes, want 32", len(key))
	}
	// A key of its own, derived: the secrets package's values and these
	// never share a key.
	m := hmac.New(sha256.New, key)
	m.Write([]byte("parley event subscription secrets v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(id, secret string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("events: sealing a secret: %w", err)
	}
	return s.aead.Seal(nonce, nonce, []byte(secret), []byte(id)), nil
}

var errSealed = errors.New("the subscription's secret cannot be opened with this install's secrets key")

func (s *sealer) open(id string, sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return "", errSealed
	}
	v, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
	if err != nil {
		return "", errSealed
	}
	return string(v), nil
}
