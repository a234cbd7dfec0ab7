package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Limits of the http node (docs/flow-format.md, http).
const (
	// DefaultHTTPTimeout is an attempt's timeout when the node sets none.
	DefaultHTTPTimeout = 10 * time.Second
	// MaxHTTPTimeout caps an attempt: a conversation waits on it, and a
	// customer who waits longer than this for an answer has gone.
	MaxHTTPTimeout = 30 * time.Second
	// MaxHTTPRetries caps the extra attempts: past a handful, an API that
	// keeps failing is down, and the flow should say so (on_error).
	MaxHTTPRetries = 5
	// MaxURLLen caps a URL as written; servers commonly refuse past 8 KiB
	// as rendered.
	MaxURLLen = 2048
)

// HTTPMethods are the methods an http node may use.
var HTTPMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// reservedHeaders are set by Parley or by the HTTP client, never by a flow:
// a flow's value would be ignored or would break the request.
var reservedHeaders = map[string]string{
	"host":              "the host comes from the url",
	"content-length":    "it is computed from the body",
	"transfer-encoding": "the HTTP client chooses it",
	"connection":        "the HTTP client manages connections",
	"idempotency-key":   "Parley sets it to the same value on every attempt of a step",
}

// secretExpr is the only expression that names a secret: secrets.NAME,
// alone in its {{ }}, NAME as engine/secrets.ValidName allows.
var secretExpr = regexp.MustCompile(`^secrets\s*\.\s*([a-z][a-z0-9_]{0,63})$`)

// SecretName returns NAME when expr (the inside of a {{ }}) is
// secrets.NAME.
func SecretName(expr string) (string, bool) {
	m := secretExpr.FindStringSubmatch(strings.TrimSpace(expr))
	if m == nil {
		return "", false
	}
	return m[1], true
}

// HTTPTimeout is node n's per-attempt timeout.
func (n *Node) HTTPTimeout() time.Duration {
	if n.Timeout > 0 {
		return min(time.Duration(n.Timeout), MaxHTTPTimeout)
	}
	return DefaultHTTPTimeout
}

// HasBody reports whether an http node sends a body.
func (n *Node) HasBody() bool {
	if n.Body == nil {
		return false
	}
	s, isString := n.Body.(string)
	return !isString || s != ""
}

// Request is an http node's request as rendered for one call.
type Request struct {
	Method  string
	URL     string
	Headers map[string]string
	Body    []byte
	// Secrets are the values of the secrets the request holds: whatever
	// is recorded of the request (its URL, an error) has them masked
	// (Mask).
	Secrets []string
	// Problems are expressions that could not be evaluated; each inserted
	// nothing, as in a message.
	Problems []string
}

// Mask replaces every secret value of the request in s by ***.
func (r *Request) Mask(s string) string { return MaskSecrets(s, r.Secrets) }

// MaskSecrets replaces each of values in s by ***, longest first (so that
// a secret holding another is masked whole), also in its URL-escaped form.
func MaskSecrets(s string, values []string) string {
	vs := append([]string(nil), values...)
	sort.Slice(vs, func(i, j int) bool { return len(vs[i]) > len(vs[j]) })
	for _, v := range vs {
		if v == "" {
			continue
		}
		s = strings.ReplaceAll(s, v, "***")
		if e := escapeURLValue(v); e != v {
			s = strings.ReplaceAll(s, e, "***")
		}
	}
	return s
}

// SecretLookup returns a secret's value by name.
type SecretLookup func(name string) (string, error)

// ErrSecret wraps the failure to resolve a secret a request needs.
var ErrSecret = errors.New("secret not available")

// RenderRequest renders http node n's request against env: every {{ }} is
// evaluated (each value inserted in the URL is escaped), {{ secrets.NAME }}
// is looked up with secret. A secret that cannot be looked up is an error
// (wrapping ErrSecret) that names it and never holds a value; an
// expression that fails is a problem in Request.Problems.
func (f *Flow) RenderRequest(n *Node, env *Env, secret SecretLookup) (*Request, error) {
	r := &Request{Method: n.Method, Headers: map[string]string{}}
	var err error
	if r.URL, err = f.renderHTTPText(n.URL, env, secret, r, escapeURLValue); err != nil {
		return nil, err
	}
	for name, v := range n.Headers {
		if r.Headers[name], err = f.renderHTTPText(v, env, secret, r, nil); err != nil {
			return nil, err
		}
	}
	if !n.HasBody() {
		return r, nil
	}
	contentType := "application/json"
	if s, ok := n.Body.(string); ok {
		out, err := f.renderHTTPText(s, env, secret, r, nil)
		if err != nil {
			return nil, err
		}
		r.Body = []byte(out)
		contentType = "text/plain; charset=utf-8"
	} else {
		v, err := f.renderJSON(n.Body, env, secret, r)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("encoding the body: %w", err)
		}
		r.Body = bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	}
	if !hasHeader(r.Headers, "Content-Type") {
		r.Headers["Content-Type"] = contentType
	}
	return r, nil
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// renderJSON renders the string leaves of a body value.
func (f *Flow) renderJSON(v any, env *Env, secret SecretLookup, r *Request) (any, error) {
	switch v := v.(type) {
	case string:
		return f.renderHTTPText(v, env, secret, r, nil)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			y, err := f.renderJSON(x, env, secret, r)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			y, err := f.renderJSON(x, env, secret, r)
			if err != nil {
				return nil, err
			}
			out[k] = y
		}
		return out, nil
	}
	return v, nil
}

// renderHTTPText interpolates one template of an http node; escape, when
// set, is applied to every inserted value (the URL's).
func (f *Flow) renderHTTPText(s string, env *Env, secret SecretLookup, r *Request, escape func(string) string) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	parts, err := splitText(s)
	if err != nil {
		return s, err
	}
	var b strings.Builder
	for _, p := range parts {
		if !p.isExpr {
			b.WriteString(p.text)
			continue
		}
		var val string
		if name, ok := SecretName(p.expr); ok {
			if secret == nil {
				return "", fmt.Errorf("secret %q: %w: no secrets are configured", name, ErrSecret)
			}
			v, err := secret(name)
			if err != nil {
				// The lookup's error may say why (not stored, cannot be
				// opened) but never holds the value.
				return "", fmt.Errorf("secret %q: %w: %v", name, ErrSecret, err)
			}
			r.Secrets = append(r.Secrets, v)
			val = v
		} else {
			v, err := f.Eval(p.expr, env)
			if err != nil {
				r.Problems = append(r.Problems, fmt.Sprintf("{{ %s }}: %v", p.expr, err))
				continue
			}
			val = Stringify(v)
		}
		if escape != nil {
			val = escape(val)
		}
		b.WriteString(val)
	}
	return b.String(), nil
}

// escapeURLValue percent-encodes everything but the unreserved characters
// of RFC 3986, so that an inserted value is one path segment or one query
// value whatever it holds: a customer's "../admin?x=1" stays data.
func escapeURLValue(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// http checks an http node's cross-field rules and templates; the schema
// has checked the fields' types.
func (c *checker) http(p string, n *Node) {
	c.inHTTP = true
	defer func() { c.inHTTP = false }()
	c.httpURL(p+"/url", n.URL)
	names := make([]string, 0, len(n.Headers))
	for name := range n.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	seen := map[string]string{}
	for _, name := range names {
		hp := p + "/headers/" + escapeToken(name)
		lower := strings.ToLower(name)
		if why, ok := reservedHeaders[lower]; ok {
			c.errorf(hp, "header %q may not be set by a flow: %s", name, why)
		}
		if other, dup := seen[lower]; dup {
			c.errorf(hp, "header %q is also given as %q; header names ignore case, so give it once", name, other)
		}
		seen[lower] = name
		c.text(hp, n.Headers[name])
	}
	if n.HasBody() && n.Method == "GET" {
		c.errorf(p+"/body", "a GET request carries no body; use POST, PUT or PATCH to send one, or put the values in the url")
	}
	if n.Body != nil {
		c.httpBody(p+"/body", n.Body)
	}
	if t := time.Duration(n.Timeout); t > MaxHTTPTimeout {
		c.errorf(p+"/timeout", "is %s; an attempt may take at most %s (the conversation waits on it)", shortDuration(n.Timeout), shortDuration(Duration(MaxHTTPTimeout)))
	}
	if n.OnError == "" {
		c.warnf(p, "http %q has no on_error: when the call fails (after its retries) the conversation fails; set on_error to tell the customer", n.ID)
	}
}

// httpURL checks an http node's url: http or https, with its scheme and
// host written out (a value from a variable or a secret cannot choose
// where the call goes), no user:password (it would be recorded with the
// call; send credentials in a header with a secret).
func (c *checker) httpURL(p, s string) {
	if s == "" {
		return // the schema reports it
	}
	if len(s) > MaxURLLen {
		c.errorf(p, "is %d characters; at most %d are allowed", len(s), MaxURLLen)
		return
	}
	c.text(p, s)
	lit := s
	if i := strings.Index(s, "{{"); i >= 0 {
		lit = s[:i]
	}
	scheme, rest, ok := strings.Cut(lit, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "http" && scheme != "https") {
		c.errorf(p, "must start with http:// or https://, written out")
		return
	}
	if !strings.ContainsAny(rest, "/?#") && len(lit) < len(s) {
		c.errorf(p, "must name its host without {{ }}: write the host out, then use {{ }} in the path or the query")
		return
	}
	// Parse the URL with every {{ }} replaced by a plain value.
	probe := s
	if parts, err := splitText(s); err == nil {
		var b strings.Builder
		for _, part := range parts {
			if part.isExpr {
				b.WriteString("x")
			} else {
				b.WriteString(part.text)
			}
		}
		probe = b.String()
	}
	u, err := url.Parse(probe)
	switch {
	case err != nil:
		c.errorf(p, "is not a valid URL: %s", strings.TrimPrefix(err.Error(), "parse "))
	case u.Host == "" || u.Hostname() == "":
		c.errorf(p, "names no host")
	case u.User != nil:
		c.errorf(p, "holds a user name or password, which would be recorded with every call; send credentials in a header with {{ secrets.NAME }}")
	}
}

// httpBody checks the templates of a body: a string, or the string leaves
// of a JSON value.
func (c *checker) httpBody(p string, v any) {
	switch v := v.(type) {
	case string:
		c.text(p, v)
	case []any:
		for i, x := range v {
			c.httpBody(fmt.Sprintf("%s/%d", p, i), x)
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c.httpBody(p+"/"+escapeToken(k), v[k])
		}
	}
}
