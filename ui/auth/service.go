package auth

import (
	"cmp"
	"context"
	"fmt"
	"golang.org/x/crypto/bcrypt"
	"log/slog"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Defaults of Options.
const (
	// DefaultCost is the bcrypt work factor: one above x/crypto's default,
	// about 105 ms per hash on one core of the 2-core CI machine (10: 52 ms,
	// 12: 215 ms). Slow for a guesser, fine for a sign-in, and cheap enough
	// that a burst of sign-ins does not starve the webhook.
	DefaultCost = bcrypt.DefaultCost + 1
	// DefaultIdleTimeout ends a session nobody used for this long: a
	// working day, so a shift signs in once.
	DefaultIdleTimeout = 12 * time.Hour
	// DefaultSessionLifetime ends any session this long after sign-in,
	// however busy: a stolen cookie does not live for ever.
	DefaultSessionLifetime = 7 * 24 * time.Hour
	// DefaultFreeFailures failed sign-ins for one account (and
	// DefaultAddressFreeFailures from one client address, which may be an
	// office behind one NAT) are let through at once; after them every
	// further try waits DefaultBaseDelay, doubled at each failure up to
	// DefaultMaxDelay, and one failure is forgiven per DefaultForgiveEvery
	// without one. A guesser who keeps at it gets one try per
	// DefaultMaxDelay per account and per address.
	DefaultFreeFailures        = 5
	DefaultAddressFreeFailures = 10
	DefaultBaseDelay           = time.Second
	DefaultMaxDelay            = 15 * time.Minute
	DefaultForgiveEvery        = 10 * time.Minute
	// DefaultRememberAddress is how long an address that signed in to an
	// account stays exempt from the account's delay (see Options).
	DefaultRememberAddress = 30 * 24 * time.Hour
)

// touchEvery is how stale a session's or token's "last seen" may get
// before a request writes it again: one write a minute per session, not
// one per request.
const touchEvery = time.Minute

// Clock tells the time; engine.ManualClock fits, so tests move the clock
// instead of sleeping.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Options configure a Service. Zero values take the defaults.
type Options struct {
	Clock  Clock
	Logger *slog.Logger
	// Cost is the bcrypt cost of new hashes (tests use bcrypt.MinCost).
	Cost            int
	IdleTimeout     time.Duration
	SessionLifetime time.Duration
	// Sign-in throttling (the Default… constants say what they do).
	FreeFailures, AddressFreeFailures int
	BaseDelay, MaxDelay, ForgiveEvery time.Duration
	// RememberAddress is how long a client address that signed in to an
	// account successfully is "known" for it: failures from other
	// addresses do not make it wait, so a guesser cannot lock the owner
	// out. Remembered in memory only: a restart forgets.
	RememberAddress time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client. Without them the client is the TCP peer, and the header
	// (which anyone can send) is ignored.
	TrustedProxies []netip.Prefix
	// SecureCookie marks the session cookie Secure on every request, for
	// a deployment behind a TLS-terminating proxy that does not send
	// X-Forwarded-Proto. Without it the cookie is Secure when the request
	// came over HTTPS.
	SecureCookie bool
}

// Service manages users, sessions and API tokens.
type Service struct {
	db        Records
	o         Options
	log       *slog.Logger
	dummyHash []byte
	throttle  *throttle
	// bcryptSlots bounds the password hashes computed at once (half the
	// CPUs, at least one): a flood of sign-ins waits here instead of
	// taking every core from the webhook and the engine.
	bcryptSlots chan struct{}
}

// New returns a Service keeping its records in db.
func New(db Records, o Options) (*Service, error) {
	if o.Clock == nil {
		o.Clock = systemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Cost == 0 {
		o.Cost = DefaultCost
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.SessionLifetime <= 0 {
		o.SessionLifetime = DefaultSessionLifetime
	}
	o.FreeFailures = cmp.Or(max(0, o.FreeFailures), DefaultFreeFailures)
	o.AddressFreeFailures = cmp.Or(max(0, o.AddressFreeFailures), DefaultAddressFreeFailures)
	o.BaseDelay = cmp.Or(max(0, o.BaseDelay), DefaultBaseDelay)
	o.MaxDelay = cmp.Or(max(0, o.MaxDelay), DefaultMaxDelay)
	o.ForgiveEvery = cmp.Or(max(0, o.ForgiveEvery), DefaultForgiveEvery)
	o.RememberAddress = cmp.Or(max(0, o.RememberAddress), DefaultRememberAddress)
	// Compared against when the email is unknown, so that an unknown
	// email costs the same bcrypt time as a wrong password.
	dummy, err := bcrypt.GenerateFromPassword([]byte("parley-dummy-password"), o.Cost)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Service{
		db: db, o: o, log: o.Logger, dummyHash: dummy,
		throttle: newThrottle(throttleOptions{
			accountFree: o.FreeFailures, addressFree: o.AddressFreeFailures,
			baseDelay: o.BaseDelay, maxDelay: o.MaxDelay,
			forgiveEvery: o.ForgiveEvery, remember: o.RememberAddress,
		}),
		bcryptSlots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)),
	}, nil
}

// withBcrypt runs fn, a bcrypt computation, in one of the bcrypt slots.
func (s *Service) withBcrypt(ctx context.Context, fn func()) error {
	select {
	case s.bcryptSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.bcryptSlots }()
	fn()
	return nil
}

func (s *Service) now() time.Time { return s.o.Clock.Now().UTC() }

// hash checks password as the password of email and hashes it.
func (s *Service) hash(ctx context.Context, password, email string) ([]byte, error) {
	if err := CheckPassword(password, email); err != nil {
		return nil, err
	}
	var h []byte
	var err error
	if werr := s.withBcrypt(ctx, func() { h, err = bcrypt.GenerateFromPassword([]byte(password), s.o.Cost) }); werr != nil {
		return nil, werr
	}
	if err != nil {
		return nil, fmt.Errorf("auth: hashing: %w", err)
	}
	return h, nil
}

func (s *Service) validNew(ctx context.Context, nu NewUser) (*UserRecord, error) {
	email, err := NormalizeEmail(nu.Email)
	if err != nil {
		return nil, err
	}
	name, err := normalizeName(nu.Name)
	if err != nil {
		return nil, err
	}
	roles, err := normalizeRoles(nu.Roles)
	if err != nil {
		return nil, err
	}
	h, err := s.hash(ctx, nu.Password, email)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return &UserRecord{User: User{Email: email, Name: name, Roles: roles, CreatedAt: now}, Hash: h, PasswordChangedAt: now}, nil
}

// CreateUser adds a user. ErrUserExists if the email is taken.
func (s *Service) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	rec, err := s.validNew(ctx, nu)
	if err != nil {
		return nil, err
	}
	err = s.db.UpdateAuth(ctx, func(tx Tx) error {
		if u, err := tx.User(rec.Email); err != nil || u != nil {
			return cmp.Or(err, ErrUserExists)
		}
		return tx.PutUser(rec)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("user created", "email", rec.Email, "roles", rec.Roles)
	u := rec.User
	return &u, nil
}

// Setup creates the first admin, only while no user exists (else
// ErrSetupDone): the first run of a fresh install.
func (s *Service) Setup(ctx context.Context, nu NewUser) (*User, error) {
	nu.Roles = []Role{Admin}
	rec, err := s.validNew(ctx, nu)
	if err != nil {
		return nil, err
	}
	err = s.db.UpdateAuth(ctx, func(tx Tx) error {
		if some, err := tx.AnyUser(); err != nil || some {
			return cmp.Or(err, ErrSetupDone)
		}
		return tx.PutUser(rec)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("first admin created", "email", rec.Email)
	u := rec.User
	return &u, nil
}

// SetupNeeded reports whether no user exists yet.
func (s *Service) SetupNeeded(ctx context.Context) (bool, error) {
	needed := true
	err := s.db.ViewAuth(ctx, func(tx Tx) error {
		some, err := tx.AnyUser()
		needed = !some
		return err
	})
	return needed, err
}

// User returns the user with email, or ErrUserNotFound.
func (s *Service) User(ctx context.Context, email string) (*User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, ErrUserNotFound
	}
	var rec *UserRecord
	err = s.db.ViewAuth(ctx, func(tx Tx) error {
		var err error
		rec, err = tx.User(email)
		return err
	})
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, ErrUserNotFound
	}
	u := rec.User
	return &u, nil
}

// Users lists every user, by email.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	users := []User{}
	err := s.db.ViewAuth(ctx, func(tx Tx) error {
		users = users[:0]
		rs, err := tx.Users()
		for _, r := range rs {
			users = append(users, r.User)
		}
		return err
	})
	return users, err
}

// UpdateUser changes a user. Disabling a user or setting their password
// ends their sessions; setting their password also revokes their API
// tokens but the service ones (Token.Service); a change that would leave no enabled admin is
// refused with ErrLastAdmin.
func (s *Service) UpdateUser(ctx context.Context, email string, ch UserChange) (*User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, ErrUserNotFound
	}
	var name string
	var roles []Role
	var hash []byte
	if ch.Name != nil {
		if name, err = normalizeName(*ch.Name); err != nil {
			return nil, err
		}
	}
	if ch.Roles != nil {
		if roles, err = normalizeRoles(*ch.Roles); err != nil {
			return nil, err
		}
	}
	if ch.Password != nil {
		if hash, err = s.hash(ctx, *ch.Password, email); err != nil {
			return nil, err
		}
	}
	now := s.now()
	var out User
	var revoked int
	err = s.db.UpdateAuth(ctx, func(tx Tx) error {
		rec, err := tx.User(email)
		if err != nil {
			return err
		}
		if rec == nil {
			return ErrUserNotFound
		}
		if ch.Name != nil {
			rec.Name = name
		}
		if ch.Roles != nil {
			rec.Roles = roles
		}
		if ch.Disabled != nil {
			rec.Disabled = *ch.Disabled
		}
		if hash != nil {
			rec.Hash, rec.PasswordChangedAt = hash, now
		}
		if err := tx.PutUser(rec); err != nil {
			return err
		}
		if err := checkAdminLeft(tx); err != nil {
			return err
		}
		if rec.Disabled || hash != nil {
			if err := endSessions(tx, email); err != nil {
				return err
			}
		}
		revoked = 0
		if hash != nil {
			if revoked, err = revokeTokens(tx, email); err != nil {
				return err
			}
		}
		out = rec.User
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("user changed", "email", email, "roles", out.Roles, "disabled", out.Disabled, "password_changed", hash != nil, "tokens_revoked", revoked)
	return &out, nil
}

// DeleteUser removes a user with their sessions and API tokens.
func (s *Service) DeleteUser(ctx context.Context, email string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return ErrUserNotFound
	}
	err = s.db.UpdateAuth(ctx, func(tx Tx) error {
		if found, err := tx.DeleteUser(email); err != nil || !found {
			return cmp.Or(err, ErrUserNotFound)
		}
		if err := checkAdminLeft(tx); err != nil {
			return err
		}
		if err := endSessions(tx, email); err != nil {
			return err
		}
		_, err := tx.DeleteTokens(func(t *Token) bool { return t.Email == email })
		return err
	})
	if err != nil {
		return err
	}
	s.log.Info("user deleted", "email", email)
	return nil
}

// checkAdminLeft fails with ErrLastAdmin when no enabled admin remains.
func checkAdminLeft(tx Tx) error {
	users, err := tx.Users()
	if err != nil {
		return err
	}
	for _, r := range users {
		if !r.Disabled && slices.Contains(r.Roles, Admin) {
			return nil
		}
	}
	return ErrLastAdmin
}

// Login checks an email and password from the client address from (the
// zero Addr when there is none) and opens a session. Unknown emails and
// wrong passwords both give ErrBadCredentials after the same bcrypt work;
// while the account or the address is in its throttling delay (see
// throttle), a *ThrottledError without any.
func (s *Service) Login(ctx context.Context, email, password string, from netip.Addr) (*User, *Session, error) {
	// A malformed email is counted as typed (lowercased): it matches no
	// user, and still costs the bcrypt work.
	key, err := NormalizeEmail(email)
	if err != nil {
		key = strings.ToLower(strings.TrimSpace(email))
		if len(key) > maxEmailBytes {
			key = key[:maxEmailBytes]
		}
	}
	addr := addrKey(from)
	try, wait := s.throttle.begin(key, addr, s.now())
	if try == nil {
		s.log.Debug("sign-in throttled", "email", key, "addr", addr, "retry_after", wait)
		return nil, nil, &ThrottledError{RetryAfter: wait}
	}
	var rec *UserRecord
	err = s.db.ViewAuth(ctx, func(tx Tx) error {
		var err error
		rec, err = tx.User(key)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	hash := s.dummyHash
	if rec != nil {
		hash = rec.Hash
	}
	// bcrypt's compare is constant-time in the hash; the dummy hash makes
	// an unknown email cost the same as a known one.
	var match bool
	if err := s.withBcrypt(ctx, func() { match = bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil }); err != nil {
		return nil, nil, err
	}
	ok := match && rec != nil
	if !ok {
		s.log.Info("sign-in failed", "email", key, "addr", addr)
		return nil, nil, ErrBadCredentials
	}
	s.throttle.succeeded(try, s.now())
	if rec.Disabled {
		return nil, nil, ErrDisabled
	}
	sess, err := s.newSession(ctx, rec.Email)
	if err != nil {
		return nil, nil, err
	}
	s.log.Info("signed in", "email", rec.Email)
	u := rec.User
	return &u, sess, nil
}

// ThrottledError is ErrThrottled with how long to wait.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string { return ErrThrottled.Error() }

// Unwrap makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }
