package whatsapp

import (
	"context"
	"fmt"
	"io"
)

// Router calls the Cloud API for several business phone numbers, each
// with a Client of its own (its own access token: numbers may belong to
// different WhatsApp Business Accounts). It has the methods of a Client —
// Send, MarkRead, GetMedia, DownloadMedia, UploadMedia — and picks the
// number from the call's context (WithNumber); a call whose context names
// none, or one the router does not know, goes from the default number,
// the first one given. With one number it behaves as that number's Client.
type Router struct {
	clients map[string]*Client
	def     *Client
}

// NewRouter returns a router over clients, the first being the default.
func NewRouter(clients ...*Client) (*Router, error) {
	if len(clients) == 0 {
		return nil, fmt.Errorf("whatsapp: a router needs at least one number")
	}
	r := &Router{clients: make(map[string]*Client, len(clients)), def: clients[0]}
	for _, c := range clients {
		if _, dup := r.clients[c.phoneNumberID]; dup {
			return nil, fmt.Errorf("whatsapp: phone number %s given twice", c.phoneNumberID)
		}
		r.clients[c.phoneNumberID] = c
	}
	return r, nil
}

type numberKey struct{}

// WithNumber returns a context whose Router calls go from the business
// phone number phoneNumberID.
func WithNumber(ctx context.Context, phoneNumberID string) context.Context {
	return context.WithValue(ctx, numberKey{}, phoneNumberID)
}

// NumberOf is the business phone number ctx names (WithNumber), or "".
func NumberOf(ctx context.Context) string {
	id, _ := ctx.Value(numberKey{}).(string)
	return id
}

// Client returns the client of phoneNumberID, or nil.
func (r *Router) Client(phoneNumberID string) *Client { return r.clients[phoneNumberID] }

// Default returns the default number's client.
func (r *Router) Default() *Client { return r.def }

// For returns the client ctx names, else the default one.
func (r *Router) For(ctx context.Context) *Client {
	if c := r.clients[NumberOf(ctx)]; c != nil {
		return c
	}
	return r.def
}

// Send sends m from the number ctx names.
func (r *Router) Send(ctx context.Context, m *OutboundMessage) (SendResult, error) {
	return r.For(ctx).Send(ctx, m)
}

// MarkRead marks a message the number ctx names received read.
func (r *Router) MarkRead(ctx context.Context, wamid string, typing bool) error {
	return r.For(ctx).MarkRead(ctx, wamid, typing)
}

// GetMedia looks up media sent to the number ctx names.
func (r *Router) GetMedia(ctx context.Context, mediaID string) (MediaInfo, error) {
	return r.For(ctx).GetMedia(ctx, mediaID)
}

// DownloadMedia downloads with the token of the number ctx names.
func (r *Router) DownloadMedia(ctx context.Context, mediaURL string, maxBytes int64) ([]byte, error) {
	return r.For(ctx).DownloadMedia(ctx, mediaURL, maxBytes)
}

// UploadMedia uploads media for the number ctx names to send.
func (r *Router) UploadMedia(ctx context.Context, filename, mimeType string, rd io.Reader) (string, error) {
	return r.For(ctx).UploadMedia(ctx, filename, mimeType, rd)
}
