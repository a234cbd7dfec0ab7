// Package httpcall makes one attempt of a flow's http step, safely.
//
// A flow's url is written by an analyst and filled with a customer's
// words, so the call is treated as hostile input to the network: the
// address every connection goes to — the first and each redirect's — is
// checked after DNS resolution, on the IP actually dialed, and loopback,
// private, link-local, shared (CGNAT), unspecified, multicast and cloud
// metadata addresses are refused unless an admin allowed them
// (PARLEY_HTTP_ALLOW_HOSTS). Checking the resolved IP at dial time, not
// the name before the call, closes the DNS-rebinding gap between a check
// and a use. The answer is read up to MaxBody; a bigger one is an error,
// never a truncated success.
//
// The package makes one attempt; whether to try again (Result.Retriable,
// Result.RetryAfter) is the engine's decision.
package httpcall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// AllowEnv names the environment variable that lists the hosts, IPs and
// CIDRs a call may reach although their addresses are refused by default:
// comma-separated, e.g. "localhost,10.0.0.0/8,crm.internal,127.0.0.1:8090".
// An entry with a port allows that port only.
const AllowEnv = "PARLEY_HTTP_ALLOW_HOSTS"

// MaxBody caps an answer's body: it is stored with the conversation
// (save_as), and a flow needs an order's status, not a catalogue.
const MaxBody = 256 << 10

// MaxRedirects caps the redirects one attempt follows.
const MaxRedirects = 5

// UserAgent is sent with every call, so the receiving system can tell
// Parley's calls in its logs.
const UserAgent = "Parley-http-step/1"

// Errors a Result may carry (errors.Is).
var (
	// ErrRefusedAddress: the call would reach an address refused by
	// default (see the package comment).
	ErrRefusedAddress = errors.New("address refused")
	// ErrTooLarge: the answer's body is bigger than MaxBody.
	ErrTooLarge = errors.New("answer too large")
	// ErrTimeout: the attempt took longer than its timeout.
	ErrTimeout = errors.New("timed out")
	// ErrNetwork: no answer came (connection refused or reset, DNS, TLS).
	ErrNetwork = errors.New("network error")
	// ErrRequest: the request could not be made as rendered (a bad URL,
	// a header value with a line break).
	ErrRequest = errors.New("invalid request")
)

// Options configure a Client.
type Options struct {
	// Allow lists the host names, IPs and CIDRs that may be reached
	// although their addresses are refused by default (ParseAllow).
	Allow []string
	// MaxBody overrides MaxBody (tests); 0 keeps it.
	MaxBody int64
}

// Client makes attempts. It is safe for concurrent use and keeps its
// connections alive between calls.
type Client struct {
	allow   allowList
	maxBody int64
	hc      *http.Client
}

// New returns a Client.
func New(o Options) (*Client, error) {
	al, err := parseAllow(o.Allow)
	if err != nil {
		return nil, err
	}
	c := &Client{allow: al, maxBody: o.MaxBody}
	if c.maxBody <= 0 {
		c.maxBody = MaxBody
	}
	tr := &http.Transport{
		// Never an environment proxy: the dial below must see the
		// address of the system called, not the proxy's.
		Proxy:                  nil,
		DialContext:            c.dial,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	c.hc = &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return fmt.Errorf("%w: more than %d redirects", ErrRequest, MaxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("%w: redirected to a %s URL", ErrRequest, req.URL.Scheme)
			}
			return nil
		},
	}
	return c, nil
}

// ParseAllow splits a PARLEY_HTTP_ALLOW_HOSTS value into its entries.
func ParseAllow(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// Request is one attempt's request.
type Request struct {
	Method  string
	URL     string
	Headers map[string]string
	Body    []byte
	// IdempotencyKey is sent as the Idempotency-Key header: the same on
	// every attempt of one step, so the receiver can drop a repeat.
	IdempotencyKey string
	// Timeout caps the attempt, answer body included.
	Timeout time.Duration
}

// Result is what one attempt gave.
type Result struct {
	// Status is the HTTP status; 0 when no answer came.
	Status int
	// JSON is the body parsed as JSON, or nil.
	JSON any
	// Text is the body as text (invalid UTF-8 replaced).
	Text string
	// Err is why the attempt failed without a usable answer (ErrTimeout,
	// ErrNetwork, ErrRefusedAddress, ErrTooLarge, ErrRequest); nil when
	// an answer came, whatever its status.
	Err error
	// Retriable: a network error, a timeout, a 429 or a 5xx.
	Retriable bool
	// RetryAfter is the answer's Retry-After, when it gave one.
	RetryAfter time.Duration
	// Duration is how long the attempt took.
	Duration time.Duration
}

// Do makes one attempt. It never panics on what the remote side sends and
// always returns within req.Timeout (plus scheduling).
func (c *Client) Do(ctx context.Context, req Request) Result {
	start := time.Now()
	res := c.do(ctx, req)
	res.Duration = time.Since(start)
	return res
}

func (c *Client) do(ctx context.Context, req Request) Result {
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return Result{Err: fmt.Errorf("%w: %v", ErrRequest, unwrapURLError(err))}
	}
	if hr.URL.Scheme != "http" && hr.URL.Scheme != "https" {
		return Result{Err: fmt.Errorf("%w: the url must be http or https", ErrRequest)}
	}
	if hr.URL.User != nil {
		return Result{Err: fmt.Errorf("%w: the url holds a user name or password", ErrRequest)}
	}
	for k, v := range req.Headers {
		hr.Header.Set(k, v)
	}
	hr.Header.Set("User-Agent", UserAgent)
	if req.IdempotencyKey != "" {
		hr.Header.Set("Idempotency-Key", req.IdempotencyKey)
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return failure(ctx, err, timeout)
	}
	defer resp.Body.Close()
	res := Result{Status: resp.StatusCode}
	res.Retriable = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	res.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	if resp.ContentLength > c.maxBody {
		res.Err = fmt.Errorf("%w: the answer is %d bytes; at most %d are read", ErrTooLarge, resp.ContentLength, c.maxBody)
		res.Retriable = false
		return res
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		f := failure(ctx, err, timeout)
		f.Status = 0
		return f
	}
	if int64(len(data)) > c.maxBody {
		res.Err = fmt.Errorf("%w: the answer is over %d bytes", ErrTooLarge, c.maxBody)
		res.Retriable = false
		return res
	}
	res.Text = string(data)
	if !utf8.ValidString(res.Text) {
		res.Text = strings.ToValidUTF8(res.Text, "\uFFFD")
	}
	if len(bytes.TrimSpace(data)) > 0 {
		var v any
		if json.Unmarshal(data, &v) == nil {
			res.JSON = v
		}
	}
	return res
}

// failure classifies an error of the client. Its wording names neither
// the URL nor any header: a URL may hold a secret.
func failure(ctx context.Context, err error, timeout time.Duration) Result {
	inner := unwrapURLError(err)
	switch {
	case errors.Is(err, ErrRefusedAddress):
		return Result{Err: inner}
	case errors.Is(err, ErrRequest):
		return Result{Err: inner}
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return Result{Err: fmt.Errorf("%w after %s", ErrTimeout, timeout), Retriable: true}
	case ctx.Err() != nil:
		return Result{Err: fmt.Errorf("%w: %v", ErrNetwork, ctx.Err()), Retriable: true}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Result{Err: fmt.Errorf("%w after %s", ErrTimeout, timeout), Retriable: true}
	}
	if strings.Contains(inner.Error(), "invalid header field") {
		return Result{Err: fmt.Errorf("%w: %v", ErrRequest, inner)}
	}
	return Result{Err: fmt.Errorf("%w: %v", ErrNetwork, inner), Retriable: true}
}

// unwrapURLError drops net/http's "Get \"URL\": " prefix: the URL may
// hold a secret.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(min(s, 86400)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// dial connects to addr, refusing addresses that are not allowed. The
// check runs in the dialer's Control, on the IP about to be connected to,
// after DNS: a name that resolves to 127.0.0.1 is refused like the IP.
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRequest, err)
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !c.allow.addr(addr) {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: cannot read the address %q", ErrRefusedAddress, address)
			}
			ip := ap.Addr().Unmap()
			if why := Refused(ip); why != "" && !c.allow.ip(ip) && !c.allow.addrs[hostPort(ip.String(), strconv.Itoa(int(ap.Port())))] {
				return fmt.Errorf("%w: %s is %s (allow it in %s)", ErrRefusedAddress, ip, why, AllowEnv)
			}
			return nil
		}
	}
	conn, err := d.DialContext(ctx, network, addr)
	var oe *net.OpError
	if err != nil && errors.Is(err, ErrRefusedAddress) && errors.As(err, &oe) {
		return nil, oe.Err // our reason alone, without "dial tcp …"
	}
	return conn, err
}

// refusedRanges are the address ranges refused by default, each with what
// it is.
var refusedRanges = []struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("169.254.169.254/32"), "the cloud metadata address"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "the cloud metadata address"},
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (CGNAT) address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "a reserved address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a reserved address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("::/128"), "an unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("fc00::/7"), "a private (unique local) address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
}

// nat64 embeds an IPv4 address in its last 32 bits (RFC 6052).
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Refused says what ip is when calls to it are refused by default
// ("a loopback address"), or "".
func Refused(ip netip.Addr) string {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return "not an address"
	}
	if ip.Is6() && nat64.Contains(ip) {
		b := ip.As16()
		if why := Refused(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); why != "" {
			return why + " (NAT64)"
		}
	}
	for _, r := range refusedRanges {
		if r.prefix.Contains(ip) {
			return r.what
		}
	}
	return ""
}

// allowList is PARLEY_HTTP_ALLOW_HOSTS, parsed.
type allowList struct {
	hosts    map[string]bool
	addrs    map[string]bool // host:port, host lower-cased
	prefixes []netip.Prefix
}

func parseAllow(entries []string) (allowList, error) {
	al := allowList{hosts: map[string]bool{}, addrs: map[string]bool{}}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			al.prefixes = append(al.prefixes, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
			al.prefixes = append(al.prefixes, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		if h, p, err := net.SplitHostPort(e); err == nil {
			if _, err := strconv.ParseUint(p, 10, 16); err != nil || h == "" {
				return allowList{}, fmt.Errorf("%s: %q has no valid port", AllowEnv, e)
			}
			al.addrs[hostPort(h, p)] = true
			continue
		}
		if strings.ContainsAny(e, "/:@ ") {
			return allowList{}, fmt.Errorf("%s: %q is neither a host name, an IP nor a CIDR", AllowEnv, e)
		}
		al.hosts[strings.ToLower(strings.TrimSuffix(e, "."))] = true
	}
	return al, nil
}

func (al allowList) host(h string) bool {
	return al.hosts[strings.ToLower(strings.TrimSuffix(h, "."))]
}

// addr reports whether host:port is allowed, by its name or by itself.
func (al allowList) addr(address string) bool {
	h, p, err := net.SplitHostPort(address)
	if err != nil {
		return false
	}
	return al.host(h) || al.addrs[hostPort(h, p)]
}

func hostPort(h, p string) string {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if ip, err := netip.ParseAddr(h); err == nil {
		h = ip.Unmap().String()
	}
	return net.JoinHostPort(h, p)
}

func (al allowList) ip(ip netip.Addr) bool {
	for _, p := range al.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
