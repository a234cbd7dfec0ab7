package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TokenPrefix starts every API token's secret, so that a leaked one is
// recognisable (secret scanners, logs) and a Bearer value that lacks it is
// refused without a lookup.
const TokenPrefix = "prl_"

// maxTokenNameRunes caps a token's name ("crm", "zapier-prod").
const maxTokenNameRunes = 100

// Bounds on a token's lifetime (NewToken.ExpiresIn).
const (
	MinTokenLifetime = time.Minute
	MaxTokenLifetime = 3650 * 24 * time.Hour
	lifetimeBounds   = "from 1 minute to 3650 days"
)

// NewToken is what creating an API token takes.
type NewToken struct {
	// Email is the user the token acts as (with that user's roles, as
	// they are at each request).
	Email string
	// Name says what it is for ("crm").
	Name string
	// ExpiresIn, when not zero, ends the token that long after it is
	// made (MinTokenLifetime to MaxTokenLifetime).
	ExpiresIn time.Duration
	// Service keeps the token through its user's password changes: for
	// a system that must not stop when a person changes their password.
	Service bool
}

// CreateToken makes an API token. The secret is returned once and never
// stored.
func (s *Service) CreateToken(ctx context.Context, nt NewToken) (secret string, tok *Token, err error) {
	email, err := NormalizeEmail(nt.Email)
	if err != nil {
		return "", nil, ErrUserNotFound
	}
	name, err := normalizeName(nt.Name)
	if err != nil || name == "" || len([]rune(name)) > maxTokenNameRunes {
		return "", nil, ErrInvalidName
	}
	if nt.ExpiresIn != 0 && (nt.ExpiresIn < MinTokenLifetime || nt.ExpiresIn > MaxTokenLifetime) {
		return "", nil, fmt.Errorf("%w: %v is not %s", ErrInvalidLifetime, nt.ExpiresIn, lifetimeBounds)
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	secret = TokenPrefix + randomSecret()
	now := s.now()
	t := Token{ID: hex.EncodeToString(id), Name: name, Email: email, CreatedAt: now, Service: nt.Service}
	if nt.ExpiresIn != 0 {
		exp := now.Add(nt.ExpiresIn)
		t.ExpiresAt = &exp
	}
	err = s.db.UpdateAuth(ctx, func(tx Tx) error {
		u, err := tx.User(email)
		if err != nil {
			return err
		}
		if u == nil {
			return ErrUserNotFound
		}
		return tx.PutToken(hashKey(secret), &t)
	})
	if err != nil {
		return "", nil, err
	}
	s.log.Info("API token created", "id", t.ID, "name", t.Name, "email", email, "expires_at", t.ExpiresAt, "service", t.Service)
	return secret, &t, nil
}

// Tokens lists API tokens, of every user when email is "".
func (s *Service) Tokens(ctx context.Context, email string) ([]Token, error) {
	toks := []Token{}
	email = strings.ToLower(strings.TrimSpace(email))
	err := s.db.ViewAuth(ctx, func(tx Tx) error {
		toks = toks[:0]
		all, err := tx.Tokens()
		for _, t := range all {
			if email == "" || t.Email == email {
				toks = append(toks, *t)
			}
		}
		return err
	})
	return toks, err
}

// RevokeToken deletes the API token with id; ErrTokenNotFound if none.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	err := s.db.UpdateAuth(ctx, func(tx Tx) error {
		n, err := tx.DeleteTokens(func(t *Token) bool { return t.ID == id })
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrTokenNotFound
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.log.Info("API token revoked", "id", id)
	return nil
}

// ParseLifetime reads a token lifetime: a number of days ("90d") or
// weeks ("2w"), or a Go duration ("12h", "90m"); "" is no expiry (0).
func ParseLifetime(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	var d time.Duration
	if n, err := strconv.Atoi(v[:len(v)-1]); err == nil && n > 0 && n <= 10000 && (v[len(v)-1] == 'd' || v[len(v)-1] == 'w') {
		d = time.Duration(n) * 24 * time.Hour
		if v[len(v)-1] == 'w' {
			d *= 7
		}
	} else if d, err = time.ParseDuration(v); err != nil {
		return 0, fmt.Errorf("%w: %q (say 90d, 2w or 12h)", ErrInvalidLifetime, v)
	}
	if d < MinTokenLifetime || d > MaxTokenLifetime {
		return 0, fmt.Errorf("%w: %q is not %s", ErrInvalidLifetime, v, lifetimeBounds)
	}
	return d, nil
}

// revokeTokens deletes email's API tokens but its service tokens (a
// password change) and returns how many went.
func revokeTokens(tx Tx, email string) (int, error) {
	return tx.DeleteTokens(func(t *Token) bool { return t.Email == email && !t.Service })
}

// tokenUser returns the enabled user an API token secret acts as, nil
// for no such token, or ErrTokenExpired.
func (s *Service) tokenUser(ctx context.Context, secret string) (*User, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return nil, nil
	}
	key := hashKey(secret)
	now := s.now()
	var tok *Token
	var user *UserRecord
	err := s.db.ViewAuth(ctx, func(tx Tx) error {
		var err error
		if tok, err = tx.Token(key); err != nil || tok == nil {
			return err
		}
		user, err = tx.User(tok.Email)
		return err
	})
	if err != nil || tok == nil || user == nil || user.Disabled {
		return nil, err
	}
	if tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt) {
		return nil, ErrTokenExpired
	}
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) >= touchEvery {
		err := s.db.UpdateAuth(ctx, func(tx Tx) error {
			cur, err := tx.Token(key)
			if err != nil || cur == nil {
				return err
			}
			cur.LastUsedAt = &now
			return tx.PutToken(key, cur)
		})
		if err != nil {
			return nil, err
		}
	}
	u := user.User
	return &u, nil
}
