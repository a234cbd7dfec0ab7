package ui

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// MediaSource fetches the media a customer sent, by its WhatsApp media id:
// the production client (whatsapp.Client) or, in sandbox mode, the same
// client against the sandbox.
type MediaSource interface {
	GetMedia(ctx context.Context, mediaID string) (whatsapp.MediaInfo, error)
	DownloadMedia(ctx context.Context, mediaURL string, maxBytes int64) ([]byte, error)
}

// MaxInboxMediaBytes caps one media download for the inbox. WhatsApp
// takes images up to 5 MB, audio and video up to 16 MB and documents up
// to 100 MB; a larger document is refused here (413) rather than held in
// memory, and the agent is told so.
const MaxInboxMediaBytes = 25 << 20

// inlineMedia are the types the browser may show in the page; anything
// else is served as a download, so that a document a customer sent (an
// HTML file, an SVG with script) never runs in Parley's origin.
var inlineMedia = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/webp": true,
	"audio/aac": true, "audio/mp4": true, "audio/mpeg": true, "audio/amr": true, "audio/ogg": true,
	"video/mp4": true, "video/3gpp": true,
}

// inboxMedia answers GET /inbox/conversations/:id/media/:seq: the media of
// a customer's message, for an agent who may see the conversation. It is
// fetched from WhatsApp when asked (media URLs expire in minutes, and
// Parley keeps no copy).
func (s *Server) inboxMedia(c *fiber.Ctx) error {
	if s.cfg.Media == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "media are not available: no WhatsApp client configured")
	}
	conv, err := s.visibleConversation(c)
	if err != nil {
		return err
	}
	seq, err := strconv.ParseUint(c.Params("seq"), 10, 64)
	if err != nil || seq == 0 {
		return fiber.NewError(fiber.StatusBadRequest, "seq is a transcript position (1, 2, …)")
	}
	ctx := c.UserContext()
	m, err := s.cfg.Engine.Store().Message(ctx, conv.ID, seq)
	if err != nil {
		return apiErr(err, "message")
	}
	if m.Direction != model.In || m.Inbound == nil || m.Inbound.Media == nil || m.Inbound.Media.ID == "" {
		return fiber.NewError(fiber.StatusNotFound, "that message has no media")
	}
	// The media was sent to one business number: fetched with its token.
	ctx = whatsapp.WithNumber(ctx, m.Contact.PhoneNumberID())
	info, err := s.cfg.Media.GetMedia(ctx, m.Inbound.Media.ID)
	if err != nil {
		return mediaErr(err)
	}
	if info.FileSize > MaxInboxMediaBytes {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("the file is %d MB, more than the inbox shows (%d MB)", info.FileSize>>20, MaxInboxMediaBytes>>20))
	}
	data, err := s.cfg.Media.DownloadMedia(ctx, info.URL, MaxInboxMediaBytes)
	if err != nil {
		return mediaErr(err)
	}
	typ, _, _ := mime.ParseMediaType(info.MIMEType)
	if typ == "" {
		typ = "application/octet-stream"
	}
	c.Set(fiber.HeaderContentType, typ)
	c.Set(fiber.HeaderCacheControl, "private, max-age=300")
	// Whatever the type, the response may run nothing.
	c.Set(fiber.HeaderContentSecurityPolicy, "sandbox; default-src 'none'")
	if !inlineMedia[typ] {
		name := m.Inbound.Media.Filename
		if name == "" {
			name = "media-" + strconv.FormatUint(seq, 10)
		}
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": strings.ToValidUTF8(name, "_")}))
	}
	return c.Send(data)
}

// mediaErr tells the agent why a media could not be fetched: WhatsApp
// keeps media 30 days, and a network failure is worth a retry.
func mediaErr(err error) error {
	var metaErr *whatsapp.APIError
	if errors.As(err, &metaErr) {
		return fiber.NewError(fiber.StatusBadGateway, fmt.Sprintf("WhatsApp did not give the media (%d): it may have expired", metaErr.Code))
	}
	return fmt.Errorf("fetching media: %w", err)
}
