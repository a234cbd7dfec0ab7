package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// maxResponseBytes caps how much of a Graph API answer is read; Meta's
// answers are a few hundred bytes, template pages a few hundred KB.
const maxResponseBytes = 8 << 20

// DefaultGraphURL is Meta's Graph API with the version Parley is tested
// against; the sandbox serves the same paths under its own base URL.
const DefaultGraphURL = "https://graph.facebook.com/v23.0"

// Client calls the WhatsApp Cloud API for one business phone number. It is
// safe for concurrent use. Every call takes its deadline from ctx.
type Client struct {
	baseURL       string
	token         string
	phoneNumberID string
	hc            *http.Client
	userAgent     string
	noValidate    bool
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client use hc (transport, proxy, TLS, timeouts).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithoutLocalValidation makes Send skip OutboundMessage.Validate, so the
// server's own checks can be exercised (sandbox tests). Production code has
// no reason to use it.
func WithoutLocalValidation() Option { return func(c *Client) { c.noValidate = true } }

// NewClient returns a client for the phone number phoneNumberID. baseURL
// includes the Graph API version ("https://graph.facebook.com/v23.0", or
// the sandbox's URL); accessToken is a system-user token sent as Bearer.
func NewClient(baseURL, accessToken, phoneNumberID string, opts ...Option) *Client {
	c := &Client{
		baseURL:       strings.TrimRight(baseURL, "/"),
		token:         accessToken,
		phoneNumberID: phoneNumberID,
		userAgent:     "parley",
	}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	return c
}

// defaultHTTPClient bounds connecting and TLS, but not the whole exchange:
// callers set that with their context.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 60 * time.Second
	// The dispatcher sends up to 256 messages at once (its default
	// workers); with fewer connections kept, each burst above them opens
	// and closes connections, a TLS handshake each against Meta.
	t.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: t}
}

// PhoneNumberID is the business phone number the client sends from.
func (c *Client) PhoneNumberID() string { return c.phoneNumberID }

// SendResult is Meta's answer to an accepted send (docs/whatsapp.md §2.2). Acceptance
// is not delivery: status webhooks for WAMID follow, and may say "failed".
type SendResult struct {
	// WAMID is the message id ("wamid.…") that status webhooks and replies
	// (context.id) refer to.
	WAMID string
	// MessageStatus is "accepted", or "held_for_quality_assessment" when
	// template pacing holds a marketing message back.
	MessageStatus string
	// Input and WaID are the recipient as sent and as WhatsApp resolved it.
	Input, WaID string
}

type sendResponse struct {
	Contacts []struct {
		Input  string `json:"input"`
		WaID   string `json:"wa_id"`
		UserID string `json:"user_id"`
	} `json:"contacts"`
	Messages []struct {
		ID            string `json:"id"`
		MessageStatus string `json:"message_status"`
	} `json:"messages"`
}

// Send sends one message. Errors: ErrInvalidMessage (nothing sent), an
// *APIError with Meta's code, or a *TransportError wrapping ErrNotSent
// (safe to retry) or ErrOutcomeUnknown (must not be resent). Use Classify
// and RetryAfter rather than inspecting them.
func (c *Client) Send(ctx context.Context, m *OutboundMessage) (SendResult, error) {
	if !c.noValidate {
		if err := m.Validate(); err != nil {
			return SendResult{}, err
		}
	}
	body, err := json.Marshal(m)
	if err != nil {
		return SendResult{}, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	return c.sendJSON(ctx, body)
}

func (c *Client) sendJSON(ctx context.Context, body []byte) (SendResult, error) {
	path := "/" + c.phoneNumberID + "/messages"
	data, err := c.do(ctx, http.MethodPost, path, "application/json", body)
	if err != nil {
		return SendResult{}, err
	}
	var r sendResponse
	if err := json.Unmarshal(data, &r); err != nil || len(r.Messages) == 0 || r.Messages[0].ID == "" {
		// 2xx without a wamid: Meta may well have taken the message.
		if err == nil {
			err = errors.New("no messages[0].id in answer")
		}
		return SendResult{}, &TransportError{Method: http.MethodPost, Path: path, Written: true,
			Err: fmt.Errorf("unreadable send answer: %w", err)}
	}
	res := SendResult{WAMID: r.Messages[0].ID, MessageStatus: r.Messages[0].MessageStatus}
	if len(r.Contacts) > 0 {
		res.Input, res.WaID = r.Contacts[0].Input, r.Contacts[0].WaID
	}
	return res, nil
}

// MarkRead marks the customer's message wamid (and every earlier one) as
// read — blue ticks; with typing, it also shows a typing indicator that
// WhatsApp dismisses when Parley replies or after 25 s (docs/whatsapp.md §2.4), so pass
// typing only when a reply is on its way.
func (c *Client) MarkRead(ctx context.Context, wamid string, typing bool) error {
	req := markRead{MessagingProduct: "whatsapp", Status: "read", MessageID: wamid}
	if typing {
		req.TypingIndicator = &typingIndicator{Type: "text"}
	}
	body, _ := json.Marshal(req)
	data, err := c.do(ctx, http.MethodPost, "/"+c.phoneNumberID+"/messages", "application/json", body)
	if err != nil {
		return err
	}
	return checkSuccess(data)
}

func checkSuccess(data []byte) error {
	var r struct {
		Success bool `json:"success"`
	}
	if err := json.Unmarshal(data, &r); err != nil || !r.Success {
		return fmt.Errorf("whatsapp: unexpected answer %q", truncate(data, 200))
	}
	return nil
}

// UploadMedia uploads a file for later sends by id (ids live 30 days,
// docs/whatsapp.md §2.5) and returns its media id.
func (c *Client) UploadMedia(ctx context.Context, filename, mimeType string, r io.Reader) (string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("messaging_product", "whatsapp")
	_ = w.WriteField("type", mimeType)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	h.Set("Content-Type", mimeType)
	part, err := w.CreatePart(h)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(part, r); err != nil {
		return "", fmt.Errorf("whatsapp: reading media: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	data, err := c.do(ctx, http.MethodPost, "/"+c.phoneNumberID+"/media", w.FormDataContentType(), buf.Bytes())
	if err != nil {
		return "", err
	}
	var res struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &res); err != nil || res.ID == "" {
		return "", fmt.Errorf("whatsapp: unexpected upload answer %q", truncate(data, 200))
	}
	return res.ID, nil
}

// MediaInfo describes an uploaded or received media object. URL is valid
// for 5 minutes and needs the access token (use DownloadMedia).
type MediaInfo struct {
	ID       string `json:"id"`
	URL      string `json:"url"`
	MIMEType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	FileSize int64  `json:"file_size"`
}

// GetMedia returns the download URL and metadata of a media id.
func (c *Client) GetMedia(ctx context.Context, mediaID string) (MediaInfo, error) {
	q := url.Values{"phone_number_id": {c.phoneNumberID}}
	data, err := c.do(ctx, http.MethodGet, "/"+url.PathEscape(mediaID)+"?"+q.Encode(), "", nil)
	if err != nil {
		return MediaInfo{}, err
	}
	var mi MediaInfo
	if err := json.Unmarshal(data, &mi); err != nil || mi.URL == "" {
		return MediaInfo{}, fmt.Errorf("whatsapp: unexpected media answer %q", truncate(data, 200))
	}
	return mi, nil
}

// DeleteMedia deletes an uploaded media object.
func (c *Client) DeleteMedia(ctx context.Context, mediaID string) error {
	q := url.Values{"phone_number_id": {c.phoneNumberID}}
	data, err := c.do(ctx, http.MethodDelete, "/"+url.PathEscape(mediaID)+"?"+q.Encode(), "", nil)
	if err != nil {
		return err
	}
	return checkSuccess(data)
}

// DownloadMedia fetches the bytes behind a MediaInfo.URL (at most maxBytes;
// larger media fail). The access token goes with the request, so pass only
// URLs GetMedia returned. The URL expires 5 minutes after GetMedia: on a
// 404, call GetMedia again.
func (c *Client) DownloadMedia(ctx context.Context, mediaURL string, maxBytes int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mediaURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, &TransportError{Method: http.MethodGet, Path: "media download", Idempotent: true, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, &TransportError{Method: http.MethodGet, Path: "media download", Written: true, Idempotent: true, Err: err}
	}
	if resp.StatusCode/100 != 2 {
		return nil, parseAPIError(resp.StatusCode, resp.Header, data)
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("whatsapp: media larger than %d bytes", maxBytes)
	}
	return data, nil
}

// do performs one Graph API call and returns the body of a 2xx answer.
// pathAndQuery is relative to the base URL.
//
// It tells "never sent" from "sent, no answer" with an httptrace hook on
// the request being written: only a request written in full can have been
// acted on by Meta.
func (c *Client) do(ctx context.Context, method, pathAndQuery, contentType string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	idempotent := method == http.MethodGet
	pathOnly, _, _ := strings.Cut(pathAndQuery, "?")
	if err := ctx.Err(); err != nil {
		return nil, &TransportError{Method: method, Path: pathOnly, Idempotent: idempotent, Err: err}
	}
	var written, traced atomic.Bool
	trace := &httptrace.ClientTrace{
		GetConn: func(string) { traced.Store(true) },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			traced.Store(true)
			if info.Err == nil {
				written.Store(true)
			}
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, c.baseURL+pathAndQuery, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", c.userAgent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// A transport that reports no progress at all (a custom
		// RoundTripper) gets the benefit of the doubt only for errors that
		// prove nothing was sent: a failed dial.
		w := written.Load() || (!traced.Load() && !isDialError(err))
		return nil, &TransportError{Method: method, Path: pathOnly, Written: w, Idempotent: idempotent, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, &TransportError{Method: method, Path: pathOnly, Written: true, Idempotent: idempotent,
			Err: fmt.Errorf("reading answer (HTTP %d): %w", resp.StatusCode, err)}
	}
	if resp.StatusCode/100 != 2 {
		return nil, parseAPIError(resp.StatusCode, resp.Header, data)
	}
	return data, nil
}

// isDialError reports whether err happened while connecting.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// truncate is b as text, cut to at most n bytes and marked "…" when cut.
// The cut falls between characters: half a character would make the text
// invalid UTF-8 in logs and in the API's answers.
func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "…"
}
