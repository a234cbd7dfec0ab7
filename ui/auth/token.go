package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// TokenPrefix starts every API token's secret, so that a leaked one is
// recognisable (secret scanners, logs) and a Bearer value that lacks it is
// refused without a lookup.
const TokenPrefix = "prl_"

// maxTokenNameRunes caps a token's name ("crm", "zapier-prod").
const maxTokenNameRunes = 100

// CreateToken makes an API token that acts as the user with email (with
// that user's roles, as they are at each request). The secret is returned
// once and never stored.
func (s *Service) CreateToken(ctx context.Context, email, name string) (secret string, tok *Token, err error) {
	email, err = NormalizeEmail(email)
	if err != nil {
		return "", nil, ErrUserNotFound
	}
	name, err = normalizeName(name)
	if err != nil || name == "" || len([]rune(name)) > maxTokenNameRunes {
		return "", nil, ErrInvalidName
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	secret = TokenPrefix + randomSecret()
	t := Token{ID: hex.EncodeToString(id), Name: name, Email: email, CreatedAt: s.now()}
	err = s.db.Update(ctx, func(tx *bolt.Tx) error {
		u, err := getJSON[userRecord](tx.Bucket(usersBucket), []byte(email))
		if err != nil {
			return err
		}
		if u == nil {
			return ErrUserNotFound
		}
		return putJSON(tx, tokensBucket, hashKey(secret), t)
	})
	if err != nil {
		return "", nil, err
	}
	s.log.Info("API token created", "id", t.ID, "name", t.Name, "email", email)
	return secret, &t, nil
}

// Tokens lists API tokens, of every user when email is "".
func (s *Service) Tokens(ctx context.Context, email string) ([]Token, error) {
	toks := []Token{}
	email = strings.ToLower(strings.TrimSpace(email))
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		return each(tx, tokensBucket, func(_ []byte, t *Token) error {
			if email == "" || t.Email == email {
				toks = append(toks, *t)
			}
			return nil
		})
	})
	return toks, err
}

// RevokeToken deletes the API token with id; ErrTokenNotFound if none.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	err := s.db.Update(ctx, func(tx *bolt.Tx) error {
		found := false
		if err := deleteWhere(tx, tokensBucket, func(t *Token) bool {
			found = found || t.ID == id
			return t.ID == id
		}); err != nil {
			return err
		}
		if !found {
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

// tokenUser returns the enabled user an API token secret acts as, or nil.
func (s *Service) tokenUser(ctx context.Context, secret string) (*User, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return nil, nil
	}
	key := hashKey(secret)
	now := s.now()
	var tok *Token
	var user *userRecord
	err := s.db.View(ctx, func(tx *bolt.Tx) error {
		var err error
		if tok, err = getJSON[Token](tx.Bucket(tokensBucket), key); err != nil || tok == nil {
			return err
		}
		user, err = getJSON[userRecord](tx.Bucket(usersBucket), []byte(tok.Email))
		return err
	})
	if err != nil || tok == nil || user == nil || user.Disabled {
		return nil, err
	}
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) >= touchEvery {
		err := s.db.Update(ctx, func(tx *bolt.Tx) error {
			cur, err := getJSON[Token](tx.Bucket(tokensBucket), key)
			if err != nil || cur == nil {
				return err
			}
			cur.LastUsedAt = &now
			return putJSON(tx, tokensBucket, key, cur)
		})
		if err != nil {
			return nil, err
		}
	}
	u := user.User
	return &u, nil
}
