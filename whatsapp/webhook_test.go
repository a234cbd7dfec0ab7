package whatsapp

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// escapedBody is a webhook as Meta serialises it: non-ASCII text escaped
// (äöå 👍 as \u00e4\u00f6\u00e5 \ud83d\udc4d). escapedBodyMAC is its
// HMAC-SHA256 under "parley-app-secret", computed outside Go (Python's hmac)
// so that the test does not only check Sign against itself.
const (
	escapedBody    = `{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"text":{"body":"\u00e4\u00f6\u00e5 \ud83d\udc4d"}}]}}]}]}`
	escapedBodyMAC = "sha256=ebac33bf528fac24b95c5fd3fc55319062c421a41bfb9481e0a99408908c4a7a"
	testAppSecret  = "parley-app-secret"
)

func TestSign(t *testing.T) {
	cases := []struct {
		name, body, secret, want string
	}{
		// RFC 4231, test case 2.
		{"RFC 4231 vector", "what do ya want for nothing?", "Jefe",
			"sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"escaped unicode body", escapedBody, testAppSecret, escapedBodyMAC},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Sign([]byte(c.body), c.secret); got != c.want {
				t.Errorf("Sign = %s, want %s", got, c.want)
			}
		})
	}
}

func TestVerifySignature(t *testing.T) {
	body := []byte(escapedBody)
	digest := strings.TrimPrefix(escapedBodyMAC, "sha256=")

	// The same payload re-encoded by a JSON library (UTF-8 instead of
	// \u escapes) is different bytes, so Meta's signature no longer fits.
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	reencoded, _ := json.Marshal(v)

	cases := []struct {
		name   string
		body   []byte
		header string
		secret string
		want   error
	}{
		{"right", body, escapedBodyMAC, testAppSecret, nil},
		{"uppercase hex", body, "sha256=" + strings.ToUpper(digest), testAppSecret, nil},
		{"wrong secret", body, escapedBodyMAC, "another-secret", ErrBadSignature},
		{"body changed", append([]byte(escapedBody[:len(escapedBody)-1]), ' ', '}'), escapedBodyMAC, testAppSecret, ErrBadSignature},
		{"body re-encoded after parsing", reencoded, escapedBodyMAC, testAppSecret, ErrBadSignature},
		{"missing header", body, "", testAppSecret, ErrNoSignature},
		{"sha1 prefix", body, "sha1=" + digest, testAppSecret, ErrBadSignature},
		{"no prefix", body, digest, testAppSecret, ErrBadSignature},
		{"prefix in capitals", body, "SHA256=" + digest, testAppSecret, ErrBadSignature},
		{"prefix only", body, "sha256=", testAppSecret, ErrBadSignature},
		{"digest truncated", body, escapedBodyMAC[:len(escapedBodyMAC)-2], testAppSecret, ErrBadSignature},
		{"digest too long", body, escapedBodyMAC + "00", testAppSecret, ErrBadSignature},
		{"digest not hex", body, "sha256=" + strings.Repeat("zz", 32), testAppSecret, ErrBadSignature},
		{"no app secret configured", body, Sign(body, ""), "", ErrBadSignature},
		{"empty body signed", nil, Sign(nil, testAppSecret), testAppSecret, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := VerifySignature(c.body, c.header, c.secret)
			if c.want == nil {
				if err != nil {
					t.Fatalf("VerifySignature: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("VerifySignature = %v, want %v", err, c.want)
			}
		})
	}
}

func TestSignThenVerifyThenParse(t *testing.T) {
	body := []byte(escapedBody)
	if err := VerifySignature(body, Sign(body, testAppSecret), testAppSecret); err != nil {
		t.Fatal(err)
	}
	b, err := ParseWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	// The change has no field, so it is kept whole, unicode escapes and all.
	if len(b.Other) != 1 || !strings.Contains(string(b.Other[0].Value), `\u00e4`) {
		t.Errorf("batch = %+v", b)
	}
}

func TestVerifyChallenge(t *testing.T) {
	const verifyToken = "s3cret-verify-token"
	cases := []struct {
		name                             string
		mode, token, challenge, ourToken string
		want                             string
		ok                               bool
	}{
		{"right", "subscribe", verifyToken, "1158201444", verifyToken, "1158201444", true},
		{"wrong token", "subscribe", "guess", "1158201444", verifyToken, "", false},
		{"token prefix", "subscribe", verifyToken[:5], "1158201444", verifyToken, "", false},
		{"token longer", "subscribe", verifyToken + "x", "1158201444", verifyToken, "", false},
		{"wrong mode", "unsubscribe", verifyToken, "1158201444", verifyToken, "", false},
		{"no mode", "", verifyToken, "1158201444", verifyToken, "", false},
		{"no challenge", "subscribe", verifyToken, "", verifyToken, "", false},
		{"none configured, none given", "subscribe", "", "1158201444", "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := VerifyChallenge(c.mode, c.token, c.challenge, c.ourToken)
			if got != c.want || ok != c.ok {
				t.Errorf("VerifyChallenge = %q, %v; want %q, %v", got, ok, c.want, c.ok)
			}
		})
	}
}
