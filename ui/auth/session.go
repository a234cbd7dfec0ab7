package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"
)

// Session is a signed-in browser, as Login returns it. ID is the secret the
// cookie carries; only its hash is stored.
type Session struct {
	ID        string
	CSRF      string
	Email     string
	CreatedAt time.Time
	// Expires is when the session ends at the latest (SessionLifetime
	// after sign-in); idleness may end it sooner.
	Expires time.Time
}

// randomSecret is 32 random bytes, base64url: 256 bits nobody can guess.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Service) newSession(ctx context.Context, email string) (*Session, error) {
	now := s.now()
	sess := &Session{ID: randomSecret(), CSRF: randomSecret(), Email: email, CreatedAt: now, Expires: now.Add(s.o.SessionLifetime)}
	rec := SessionRecord{Email: email, CSRF: sess.CSRF, CreatedAt: now, SeenAt: now}
	err := s.db.UpdateAuth(ctx, func(tx Tx) error {
		// Sign-ins are rare: sweeping expired sessions here keeps the
		// bucket small without a janitor.
		if _, err := tx.DeleteSessions(func(r *SessionRecord) bool { return s.expired(r, now) }); err != nil {
			return err
		}
		return tx.PutSession(hashKey(sess.ID), &rec)
	})
	if err != nil {
		return nil, err
	}
	return sess, nil
}

func (s *Service) expired(r *SessionRecord, now time.Time) bool {
	return now.Sub(r.SeenAt) >= s.o.IdleTimeout || now.Sub(r.CreatedAt) >= s.o.SessionLifetime
}

// session returns the live session with id and its enabled user, or nils.
// Using it counts as activity (written at most once per touchEvery).
func (s *Service) session(ctx context.Context, id string) (*Session, *User, error) {
	if id == "" {
		return nil, nil, nil
	}
	key := hashKey(id)
	now := s.now()
	var rec *SessionRecord
	var user *UserRecord
	err := s.db.ViewAuth(ctx, func(tx Tx) error {
		var err error
		if rec, err = tx.Session(key); err != nil || rec == nil {
			return err
		}
		user, err = tx.User(rec.Email)
		return err
	})
	if err != nil || rec == nil {
		return nil, nil, err
	}
	if s.expired(rec, now) || user == nil || user.Disabled {
		if err := s.deleteSession(ctx, key); err != nil {
			return nil, nil, err
		}
		return nil, nil, nil
	}
	if now.Sub(rec.SeenAt) >= touchEvery {
		err := s.db.UpdateAuth(ctx, func(tx Tx) error {
			cur, err := tx.Session(key)
			if err != nil || cur == nil {
				return err
			}
			if now.After(cur.SeenAt) {
				cur.SeenAt = now
			}
			return tx.PutSession(key, cur)
		})
		if err != nil {
			return nil, nil, err
		}
	}
	u := user.User
	return &Session{ID: id, CSRF: rec.CSRF, Email: rec.Email, CreatedAt: rec.CreatedAt, Expires: rec.CreatedAt.Add(s.o.SessionLifetime)}, &u, nil
}

func (s *Service) deleteSession(ctx context.Context, key []byte) error {
	return s.db.UpdateAuth(ctx, func(tx Tx) error {
		return tx.DeleteSession(key)
	})
}

// Logout ends the session with id (no error if it is already gone).
func (s *Service) Logout(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	return s.deleteSession(ctx, hashKey(id))
}

// endSessions deletes every session of email.
func endSessions(tx Tx, email string) error {
	_, err := tx.DeleteSessions(func(r *SessionRecord) bool { return r.Email == email })
	return err
}
