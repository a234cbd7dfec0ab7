package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestClassifyCodes(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		class Class
		wait  time.Duration
		scope Scope
	}{
		{"nil", nil, Success, 0, ScopeMessage},
		{"throughput 130429 (HTTP 400)", &APIError{HTTPStatus: 400, Code: 130429}, Retry, time.Second, ScopeNumber},
		{"pair rate 131056", &APIError{HTTPStatus: 400, Code: 131056}, Retry, 6 * time.Second, ScopeCustomer},
		{"something went wrong 131000", &APIError{HTTPStatus: 500, Code: 131000}, Retry, 2 * time.Second, ScopeMessage},
		{"service unavailable 131016", &APIError{HTTPStatus: 503, Code: 131016}, Retry, 2 * time.Second, ScopeNumber},
		{"maintenance 131057", &APIError{HTTPStatus: 400, Code: 131057}, Retry, 30 * time.Second, ScopeNumber},
		{"app call limit 4", &APIError{HTTPStatus: 400, Code: 4}, Retry, time.Minute, ScopeAccount},
		{"WABA limit 80007", &APIError{HTTPStatus: 400, Code: 80007}, Retry, time.Minute, ScopeAccount},
		{"media fetch 131053", &APIError{HTTPStatus: 400, Code: 131053}, Retry, 5 * time.Second, ScopeMessage},
		{"window closed 131047", &APIError{HTTPStatus: 400, Code: 131047}, Permanent, 0, ScopeCustomer},
		{"undeliverable 131026", &APIError{HTTPStatus: 400, Code: 131026}, Permanent, 0, ScopeCustomer},
		{"marketing opt-out 131050", &APIError{HTTPStatus: 400, Code: 131050}, Permanent, 0, ScopeCustomer},
		{"ecosystem 131049: 24 h for that customer", &APIError{HTTPStatus: 400, Code: 131049}, Permanent, 24 * time.Hour, ScopeCustomer},
		{"param count 132000", &APIError{HTTPStatus: 400, Code: 132000}, Permanent, 0, ScopeMessage},
		{"missing template 132001", &APIError{HTTPStatus: 400, Code: 132001}, Permanent, 0, ScopeMessage},
		{"paused template 132015", &APIError{HTTPStatus: 400, Code: 132015}, Permanent, 3 * time.Hour, ScopeMessage},
		{"disabled template 132016", &APIError{HTTPStatus: 400, Code: 132016}, Permanent, 0, ScopeMessage},
		{"unknown template code 132099", &APIError{HTTPStatus: 400, Code: 132099}, Permanent, 0, ScopeMessage},
		{"policy block 368", &APIError{HTTPStatus: 403, Code: 368}, Permanent, 0, ScopeAccount},
		{"token 190", &APIError{HTTPStatus: 401, Code: 190}, Permanent, 0, ScopeAccount},
		{"invalid parameter 100", &APIError{HTTPStatus: 400, Code: 100}, Permanent, 0, ScopeMessage},
		{"unsupported type 131051", &APIError{HTTPStatus: 400, Code: 131051}, Permanent, 0, ScopeMessage},
		{"media download 131052", &APIError{HTTPStatus: 400, Code: 131052}, Permanent, 0, ScopeMessage},
		{"spam limit 131048", &APIError{HTTPStatus: 400, Code: 131048}, Permanent, 0, ScopeNumber},
		{"permission 200", &APIError{HTTPStatus: 403, Code: 200}, Permanent, 0, ScopeAccount},
		{"auth 0 (HTTP 401)", &APIError{HTTPStatus: 401, Code: 0}, Permanent, 0, ScopeAccount},
		{"404 without envelope (expired media URL)", &APIError{HTTPStatus: 404}, Permanent, 0, ScopeMessage},
		{"502 without envelope", &APIError{HTTPStatus: 502}, Retry, 2 * time.Second, ScopeMessage},
		{"429 without envelope", &APIError{HTTPStatus: 429}, Retry, 2 * time.Second, ScopeMessage},
		{"429 with Retry-After", &APIError{HTTPStatus: 429, RetryAfterHeader: 30 * time.Second}, Retry, 30 * time.Second, ScopeMessage},
		{"500 with a known permanent code: the code wins", &APIError{HTTPStatus: 500, Code: 132001}, Permanent, 0, ScopeMessage},
		{"500 with an unknown code", &APIError{HTTPStatus: 500, Code: 999999}, Retry, 2 * time.Second, ScopeMessage},
		{"wrapped API error", fmt.Errorf("outbox: %w", &APIError{HTTPStatus: 400, Code: 131056}), Retry, 6 * time.Second, ScopeCustomer},
		{"not sent", &TransportError{Method: "POST", Err: errors.New("connection refused")}, Retry, time.Second, ScopeMessage},
		{"written, no answer", &TransportError{Method: "POST", Written: true, Err: context.DeadlineExceeded}, Ambiguous, 0, ScopeMessage},
		{"written GET, no answer", &TransportError{Method: "GET", Written: true, Idempotent: true, Err: context.DeadlineExceeded}, Retry, time.Second, ScopeMessage},
		{"invalid message", fmt.Errorf("%w: x", ErrInvalidMessage), Permanent, 0, ScopeMessage},
		{"foreign error", errors.New("disk full"), Permanent, 0, ScopeMessage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.err); got != tc.class {
				t.Errorf("Classify = %v, want %v", got, tc.class)
			}
			if got := RetryAfter(tc.err); got != tc.wait {
				t.Errorf("RetryAfter = %v, want %v", got, tc.wait)
			}
			if got := ScopeOf(tc.err); got != tc.scope {
				t.Errorf("ScopeOf = %v, want %v", got, tc.scope)
			}
		})
	}
}

func TestTransportErrorIs(t *testing.T) {
	amb := &TransportError{Method: "POST", Path: "/1/messages", Written: true, Err: context.DeadlineExceeded}
	if !errors.Is(amb, ErrOutcomeUnknown) || errors.Is(amb, ErrNotSent) || !errors.Is(amb, context.DeadlineExceeded) {
		t.Errorf("ambiguous error unwraps wrong: %v", amb)
	}
	ns := &TransportError{Method: "POST", Path: "/1/messages", Err: context.Canceled}
	if !errors.Is(ns, ErrNotSent) || errors.Is(ns, ErrOutcomeUnknown) || !errors.Is(ns, context.Canceled) {
		t.Errorf("not-sent error unwraps wrong: %v", ns)
	}
}

func TestParseAPIError(t *testing.T) {
	body := `{"error":{"message":"(#131056) (Business Account, Consumer Account) pair rate limit hit","type":"OAuthException","code":131056,"error_subcode":2494055,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."},"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}`
	h := http.Header{"Retry-After": {"7"}}
	e := parseAPIError(400, h, []byte(body))
	want := APIError{HTTPStatus: 400, Code: 131056, Subcode: 2494055, Type: "OAuthException",
		Message:   "(#131056) (Business Account, Consumer Account) pair rate limit hit",
		Details:   "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
		FBTraceID: "Az8or2yhqkZfEZ-_4Qn_Bam", RetryAfterHeader: 7 * time.Second}
	if *e != want {
		t.Errorf("got %+v\nwant %+v", *e, want)
	}
	if s := e.Error(); !strings.Contains(s, "131056/2494055 (HTTP 400)") || !strings.Contains(s, "Az8or2yhqkZfEZ-_4Qn_Bam") {
		t.Errorf("Error() = %q", s)
	}
	if RetryAfter(e) != 7*time.Second {
		t.Errorf("Retry-After header should win when longer: %v", RetryAfter(e))
	}

	html := parseAPIError(502, http.Header{}, []byte("<html>Bad Gateway</html>"))
	if html.Code != 0 || html.Message != "<html>Bad Gateway</html>" || Classify(html) != Retry {
		t.Errorf("non-Meta body: %+v, class %v", html, Classify(html))
	}
}

// Unavailable picks out the failures of the Graph API itself, which hold
// every send alike, from answers about the one request.
func TestUnavailable(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", &TransportError{Method: "POST", Err: errors.New("connection refused")}, true},
		{"written, no answer: ambiguous, not an outage", &TransportError{Method: "POST", Written: true, Err: context.DeadlineExceeded}, false},
		{"503 without envelope", &APIError{HTTPStatus: 503}, true},
		{"429 without envelope", &APIError{HTTPStatus: 429}, true},
		{"temporarily unavailable 2", &APIError{HTTPStatus: 503, Code: 2}, true},
		{"unknown error 1", &APIError{HTTPStatus: 500, Code: 1}, true},
		{"something went wrong 131000: about the message", &APIError{HTTPStatus: 500, Code: 131000}, false},
		{"throughput 130429: the number's", &APIError{HTTPStatus: 400, Code: 130429}, false},
		{"token 190", &APIError{HTTPStatus: 401, Code: 190}, false},
		{"wrapped", fmt.Errorf("outbox: %w", &APIError{HTTPStatus: 502}), true},
		{"nil", nil, false},
		{"foreign error", errors.New("disk full"), false},
	}
	for _, tc := range cases {
		if got := Unavailable(tc.err); got != tc.want {
			t.Errorf("%s: Unavailable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestAPIErrorCutKeepsCharactersWhole: a body that is not Meta's envelope
// is kept to 200 bytes; the cut fell inside a two-byte character and made
// the message invalid UTF-8 (found by FuzzParseAPIError).
func TestAPIErrorCutKeepsCharactersWhole(t *testing.T) {
	body := []byte("x" + strings.Repeat("é", 150))
	e := parseAPIError(502, http.Header{}, body)
	if !utf8.ValidString(e.Message) {
		t.Fatalf("message is not valid UTF-8: %q", e.Message)
	}
	if want := "x" + strings.Repeat("é", 99) + "…"; e.Message != want {
		t.Errorf("message = %q, want %q", e.Message, want)
	}
}
