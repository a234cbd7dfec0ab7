package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrNotSent is returned, wrapped in a *TransportError, when a request never
// fully reached Meta: DNS failure, connection refused, TLS failure, a
// context cancelled before the request was written. Meta cannot have acted
// on it, so it is safe to retry (Classify gives Retry).
var ErrNotSent = errors.New("whatsapp: request not sent")

// ErrOutcomeUnknown is returned, wrapped in a *TransportError, when a send
// was written to the connection but no usable answer came back: a timeout or
// a dropped connection while waiting, or a 2xx answer that could not be
// read. Meta may or may not have accepted the message, and the Cloud API has
// no idempotency key, so the caller must record the message as unknown and
// never resend it automatically (Classify gives Ambiguous).
var ErrOutcomeUnknown = errors.New("whatsapp: request sent but outcome unknown")

// TransportError is an exchange with the Graph API that broke down below
// the level of Meta's answers. It wraps ErrNotSent or ErrOutcomeUnknown
// and the underlying cause, so errors.Is works for both.
type TransportError struct {
	Method, Path string
	// Written is true when the whole request reached the connection.
	Written bool
	// Idempotent is true for calls that may be repeated freely (GET); for
	// them an unknown outcome is still safe to retry.
	Idempotent bool
	Err        error
}

func (e *TransportError) sentinel() error {
	if e.Written && !e.Idempotent {
		return ErrOutcomeUnknown
	}
	return ErrNotSent
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("%v: %s %s: %v", e.sentinel(), e.Method, e.Path, e.Err)
}

// Unwrap returns the sentinel (ErrNotSent or ErrOutcomeUnknown) and the cause.
func (e *TransportError) Unwrap() []error { return []error{e.sentinel(), e.Err} }

// APIError is an error answer of the Graph API:
//
//	{"error":{"message","type","code","error_subcode","error_user_title",
//	          "error_user_msg","error_data":{"details"},"fbtrace_id"}}
//
// Decide on Code (and Details), never on HTTP status or titles: Meta sends
// most codes, throttling included, with 400 (docs/whatsapp.md §3). An APIError with a
// zero Code and HTTPStatus 5xx/429 is an answer Meta's error envelope was
// missing from (a proxy's 502 page, say).
type APIError struct {
	HTTPStatus int
	Code       int
	Subcode    int
	Type       string // "OAuthException", …
	Message    string // "(#131056) (Business Account, Consumer Account) pair rate limit hit"
	Title      string // error_user_title, when present
	UserMsg    string // error_user_msg, when present
	Details    string // error_data.details
	FBTraceID  string
	// RetryAfterHeader is the HTTP Retry-After the answer carried, if any.
	RetryAfterHeader time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "whatsapp: graph api error %d", e.Code)
	if e.Subcode != 0 {
		fmt.Fprintf(&b, "/%d", e.Subcode)
	}
	fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Details != "" && e.Details != e.Message {
		b.WriteString(": " + e.Details)
	}
	if e.FBTraceID != "" {
		b.WriteString(" [fbtrace_id " + e.FBTraceID + "]")
	}
	return b.String()
}

// errorEnvelope is Meta's error body.
type errorEnvelope struct {
	Error *struct {
		Message        string `json:"message"`
		Type           string `json:"type"`
		Code           int    `json:"code"`
		ErrorSubcode   int    `json:"error_subcode"`
		ErrorUserTitle string `json:"error_user_title"`
		ErrorUserMsg   string `json:"error_user_msg"`
		ErrorData      struct {
			Details string `json:"details"`
		} `json:"error_data"`
		FBTraceID string `json:"fbtrace_id"`
	} `json:"error"`
}

// parseAPIError turns a non-2xx answer into an *APIError. A body that is not
// Meta's envelope still yields one, with Code 0 and the body as Message.
func parseAPIError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{HTTPStatus: status}
	if ra := header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s > 0 {
			e.RetryAfterHeader = time.Duration(s) * time.Second
		}
	}
	var env errorEnvelope
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		x := env.Error
		e.Code, e.Subcode, e.Type, e.Message = x.Code, x.ErrorSubcode, x.Type, x.Message
		e.Title, e.UserMsg, e.Details, e.FBTraceID = x.ErrorUserTitle, x.ErrorUserMsg, x.ErrorData.Details, x.FBTraceID
		return e
	}
	e.Message = truncate(bytes.TrimSpace(body), 200)
	return e
}

// Class says what a caller may do after a failed call.
type Class int

const (
	// Success is the class of a nil error.
	Success Class = iota
	// Retry: Meta did not act on the request (throttled, temporarily
	// unavailable, or never reached); send it again after RetryAfter.
	Retry
	// Permanent: sending the same request again will fail again (window
	// closed, template problem, policy, auth, invalid payload). Fix the
	// cause or take another path; do not resend automatically.
	Permanent
	// Ambiguous: the request was written but no answer arrived; Meta may
	// have sent the message. Record it as unknown and never resend it
	// automatically — status webhooks (matched by biz_opaque_callback_data)
	// may still tell what happened.
	Ambiguous
)

func (c Class) String() string {
	switch c {
	case Success:
		return "success"
	case Retry:
		return "retry"
	case Permanent:
		return "permanent"
	case Ambiguous:
		return "ambiguous"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Scope says whose sends an error concerns: the dispatcher holds back the
// message, the customer, the business phone number or the whole account.
type Scope int

const (
	// ScopeMessage: only this message is affected.
	ScopeMessage Scope = iota
	// ScopeCustomer: hold back every send to this customer (pair rate
	// 131056, ecosystem limit 131049, window closed 131047, opt-out 131050).
	ScopeCustomer
	// ScopeNumber: hold back every send from this business phone number
	// (throughput 130429, maintenance 131057, spam limit 131048).
	ScopeNumber
	// ScopeAccount: the app, token or business account is unusable until
	// someone acts (190, 368, 131031, rate limits 4 / 80007).
	ScopeAccount
)

// codeRule is what docs/whatsapp.md §3 says about one error code.
type codeRule struct {
	class Class
	// wait is the least time before the same request (Retry) or any
	// further send in the rule's scope (Permanent) is worth trying.
	wait  time.Duration
	scope Scope
}

// CodeThroughput is Meta's 130429: the number sent more messages per
// second than its throughput allows.
const CodeThroughput = 130429

// Delays for Retry codes. Meta publishes only the pair rate (~1 message per
// 6 s to one customer) and the ≤1 min maintenance of a throughput upgrade;
// the rest are floors for an exponential backoff the caller applies.
const (
	pairRateWait    = 6 * time.Second  // 131056: ≥ 6 s before that customer again
	throughputWait  = 1 * time.Second  // 130429: the token bucket refills per second
	maintenanceWait = 30 * time.Second // 131057: throughput upgrade takes ≤ 1 min
	appLimitWait    = 60 * time.Second // 4, 80007: hourly app/WABA call budgets
	serverWait      = 2 * time.Second  // 1, 2, 131000, 131016, 5xx/429 without a code
	mediaWait       = 5 * time.Second  // 131053: Meta could not fetch our media link
	ecosystemWait   = 24 * time.Hour   // 131049: resending sooner just fails again
	pausedWait      = 3 * time.Hour    // 132015: first pause lasts 3 h (then 6 h)
)

// codeRules follows the table of docs/whatsapp.md §3. Codes not listed are
// Permanent, except code 0 with HTTP 5xx/429 (no Meta envelope), which is
// Retry.
var codeRules = map[int]codeRule{
	0:   {Permanent, 0, ScopeAccount}, // AuthException
	1:   {Retry, serverWait, ScopeMessage},
	2:   {Retry, serverWait, ScopeMessage},
	3:   {Permanent, 0, ScopeAccount},
	4:   {Retry, appLimitWait, ScopeAccount},
	10:  {Permanent, 0, ScopeAccount},
	100: {Permanent, 0, ScopeMessage},
	190: {Permanent, 0, ScopeAccount},
	368: {Permanent, 0, ScopeAccount},

	80007: {Retry, appLimitWait, ScopeAccount},

	130429: {Retry, throughputWait, ScopeNumber},
	130472: {Permanent, 0, ScopeCustomer},
	130497: {Permanent, 0, ScopeCustomer},

	131000: {Retry, serverWait, ScopeMessage},
	131005: {Permanent, 0, ScopeAccount},
	131008: {Permanent, 0, ScopeMessage},
	131009: {Permanent, 0, ScopeMessage},
	131016: {Retry, serverWait, ScopeNumber},
	131021: {Permanent, 0, ScopeCustomer},
	131026: {Permanent, 0, ScopeCustomer},
	131030: {Permanent, 0, ScopeCustomer},
	131031: {Permanent, 0, ScopeAccount},
	131037: {Permanent, 0, ScopeNumber},
	131042: {Permanent, 0, ScopeAccount},
	131045: {Permanent, 0, ScopeNumber},
	131047: {Permanent, 0, ScopeCustomer},
	// 131048 (spam rate limit): courier retries it as throttling, others
	// treat it as final; resending spam-flagged traffic hurts quality, so
	// Parley does not resend and pauses the number instead.
	131048: {Permanent, 0, ScopeNumber},
	131049: {Permanent, ecosystemWait, ScopeCustomer},
	131050: {Permanent, 0, ScopeCustomer},
	131051: {Permanent, 0, ScopeMessage},
	131052: {Permanent, 0, ScopeMessage},
	131053: {Retry, mediaWait, ScopeMessage},
	131056: {Retry, pairRateWait, ScopeCustomer},
	131057: {Retry, maintenanceWait, ScopeNumber},
	131062: {Permanent, 0, ScopeMessage},
	131063: {Permanent, 0, ScopeAccount},
	131064: {Permanent, 0, ScopeAccount},

	132000: {Permanent, 0, ScopeMessage},
	132001: {Permanent, 0, ScopeMessage},
	132005: {Permanent, 0, ScopeMessage},
	132007: {Permanent, 0, ScopeMessage},
	132008: {Permanent, 0, ScopeMessage},
	132012: {Permanent, 0, ScopeMessage},
	132015: {Permanent, pausedWait, ScopeMessage},
	132016: {Permanent, 0, ScopeMessage},
	132068: {Permanent, 0, ScopeMessage},
	132069: {Permanent, 0, ScopeMessage},

	133010: {Permanent, 0, ScopeNumber},
	133016: {Retry, appLimitWait, ScopeNumber},
	135000: {Permanent, 0, ScopeMessage},
	137000: {Permanent, 0, ScopeCustomer},
}

// rule returns the rule for an API error.
func (e *APIError) rule() codeRule {
	if r, ok := codeRules[e.Code]; ok && e.Code != 0 {
		return r
	}
	if e.HTTPStatus >= 500 || e.HTTPStatus == http.StatusTooManyRequests {
		// No code we know, but the server itself says "not now": Meta
		// tells integrators to retry 429s, and 5xx means it failed.
		return codeRule{Retry, serverWait, ScopeMessage}
	}
	if 200 <= e.Code && e.Code <= 299 { // API permission errors
		return codeRule{Permanent, 0, ScopeAccount}
	}
	if e.Code == 0 && (e.HTTPStatus == http.StatusUnauthorized || e.HTTPStatus == 0) {
		return codeRules[0] // AuthException
	}
	return codeRule{Permanent, 0, ScopeMessage}
}

// Classify tells what a caller may do after err from this package:
// Success for nil; for an *APIError, the class of its code (§3), HTTP
// 5xx/429 only counting when the code is unknown; Retry for ErrNotSent;
// Ambiguous for ErrOutcomeUnknown; Permanent for ErrInvalidMessage and
// for any error this package did not produce.
func Classify(err error) Class {
	if err == nil {
		return Success
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.rule().class
	}
	switch {
	case errors.Is(err, ErrOutcomeUnknown):
		return Ambiguous
	case errors.Is(err, ErrNotSent):
		return Retry
	}
	return Permanent
}

// RetryAfter is the least time to wait before trying again: for Retry
// errors before resending the same request, for Permanent ones that carry a
// cool-down (131049: 24 h for that customer, 132015: 3 h for that template)
// before sending anything similar. It is 0 when no wait is known, and also
// for Ambiguous errors, which must not be resent at all.
func RetryAfter(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) {
		return max(ae.rule().wait, ae.RetryAfterHeader)
	}
	if errors.Is(err, ErrOutcomeUnknown) {
		return 0
	}
	if errors.Is(err, ErrNotSent) {
		return time.Second
	}
	return 0
}

// ScopeOf tells whose sends err concerns; ScopeMessage for errors that are
// not Meta's.
func ScopeOf(err error) Scope {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.rule().scope
	}
	return ScopeMessage
}

// Unavailable reports whether err says the Graph API itself failed rather
// than anything about the request: it could not be reached (ErrNotSent:
// connection refused, DNS, TLS), it answered 5xx or 429 without an error
// code of Meta's, or with Meta's "temporarily unavailable" codes 1 and 2.
// Every send would fail alike until it recovers, so a caller holds all of
// them and probes, instead of retrying each message on its own.
func Unavailable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Code == 1 || ae.Code == 2 {
			return true
		}
		return ae.Code == 0 && (ae.HTTPStatus >= 500 || ae.HTTPStatus == http.StatusTooManyRequests)
	}
	return errors.Is(err, ErrNotSent) && !errors.Is(err, ErrOutcomeUnknown)
}
