package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MaxWebhookBytes is the largest webhook body Parley reads. Meta's payloads
// are small (a batch of messages and statuses is a few KB); the HTTP layer
// refuses anything larger with 413 before reading it, so a forged or broken
// sender cannot make the server buffer without bound.
const MaxWebhookBytes = 1 << 20

// SignatureHeader is the header in which Meta sends the body's HMAC.
const SignatureHeader = "X-Hub-Signature-256"

// signaturePrefix precedes the hex digest in SignatureHeader.
const signaturePrefix = "sha256="

var (
	// ErrNoSignature is returned by VerifySignature when the request has no
	// X-Hub-Signature-256 header (the empty string): not sent by Meta.
	ErrNoSignature = errors.New("whatsapp: webhook signature missing")
	// ErrBadSignature is returned (wrapped, with the reason) by
	// VerifySignature when the header is not "sha256=<64 hex digits>", does
	// not match the body, or no app secret is configured to check it with.
	ErrBadSignature = errors.New("whatsapp: webhook signature invalid")
)

// VerifyChallenge answers Meta's GET verification handshake (docs/whatsapp.md §1.1). It
// returns the challenge to echo back with 200 and true when mode is
// "subscribe" and token equals verifyToken; otherwise "" and false, and the
// caller answers 403. An empty verifyToken or challenge never verifies. The
// tokens are compared in constant time. The challenge is Meta's text, not
// ours: send it back as text/plain, never as HTML.
func VerifyChallenge(mode, token, challenge, verifyToken string) (string, bool) {
	if mode != "subscribe" || verifyToken == "" || challenge == "" {
		return "", false
	}
	// Comparing digests rather than the tokens keeps the time independent
	// of the tokens' lengths as well as their contents.
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(verifyToken))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return "", false
	}
	return challenge, true
}

// VerifySignature checks that header, the value of X-Hub-Signature-256, is
// the HMAC-SHA256 of body under appSecret, comparing in constant time. It
// returns nil, ErrNoSignature or an error wrapping ErrBadSignature.
//
// body must be the request's raw bytes, exactly as received: Meta signs its
// own serialisation (non-ASCII escaped as \u00e4 …), so a body that was
// parsed and re-encoded no longer matches.
func VerifySignature(body []byte, header, appSecret string) error {
	if header == "" {
		return ErrNoSignature
	}
	if appSecret == "" {
		return fmt.Errorf("%w: no app secret configured", ErrBadSignature)
	}
	digest, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: header does not start with %q", ErrBadSignature, signaturePrefix)
	}
	got, err := hex.DecodeString(digest)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%w: digest is not %d hex bytes", ErrBadSignature, sha256.Size)
	}
	if !hmac.Equal(got, mac(body, appSecret)) {
		return fmt.Errorf("%w: digest does not match body", ErrBadSignature)
	}
	return nil
}

// Sign returns the X-Hub-Signature-256 value Meta would send with body:
// "sha256=" and the lowercase hex HMAC-SHA256 of body under appSecret. The
// sandbox and the load generator sign their webhooks with it.
func Sign(body []byte, appSecret string) string {
	return signaturePrefix + hex.EncodeToString(mac(body, appSecret))
}

func mac(body []byte, appSecret string) []byte {
	h := hmac.New(sha256.New, []byte(appSecret))
	h.Write(body)
	return h.Sum(nil)
}
