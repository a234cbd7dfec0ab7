package auth

import "errors"

// Sentinel errors. The HTTP handlers map them to statuses (see status).
var (
	// ErrBadCredentials is returned by Login for an unknown email or a
	// wrong password alike, so that a caller cannot tell which.
	ErrBadCredentials = errors.New("wrong email or password")
	// ErrDisabled is returned by Login when the password is right but the
	// account is disabled (the caller already proved they know it).
	ErrDisabled = errors.New("this account is disabled")
	// ErrThrottled is returned (as a *ThrottledError) by Login while the
	// account or the client address waits after too many failures.
	ErrThrottled = errors.New("too many failed sign-ins; try again later")
	// ErrUserExists is returned when creating a user whose email is taken.
	ErrUserExists = errors.New("a user with this email exists")
	// ErrUserNotFound is returned for an email no user has.
	ErrUserNotFound = errors.New("user not found")
	// ErrInvalidEmail is returned for an email that is not one address.
	ErrInvalidEmail = errors.New("invalid email")
	// ErrInvalidName is returned for a name that is too long or holds
	// control characters.
	ErrInvalidName = errors.New("invalid name")
	// ErrInvalidRole is returned for an unknown role or no role at all.
	ErrInvalidRole = errors.New("invalid roles")
	// ErrWeakPassword is returned for a password CheckPassword refuses:
	// too short or too long, common, a sequence or repeat, or built on the
	// email address. The error says which.
	ErrWeakPassword = errors.New("invalid password")
	// ErrLastAdmin is returned when a change would leave no enabled admin:
	// nobody could manage users any more.
	ErrLastAdmin = errors.New("this would leave no enabled admin")
	// ErrSetupDone is returned by Setup once any user exists.
	ErrSetupDone = errors.New("setup is done: an account exists; sign in")
	// ErrTokenNotFound is returned for an API token id no token has.
	ErrTokenNotFound = errors.New("API token not found")
	// ErrTokenExpired is answered (401) for an API token past its expiry.
	ErrTokenExpired = errors.New("API token expired")
	// ErrInvalidLifetime is returned for a token lifetime ParseLifetime
	// cannot read or that is out of bounds.
	ErrInvalidLifetime = errors.New("invalid token lifetime")
)
