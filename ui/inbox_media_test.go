package ui_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/ui"
	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// TestInboxMedia: an agent sees the photo a customer sent, fetched from
// WhatsApp (the sandbox, over real HTTP) when asked; a document comes as
// a download, never shown in Parley's origin; an agent of another queue
// gets nothing.
func TestInboxMedia(t *testing.T) {
	f, ib := inboxFixture(t)
	sb := sandbox.New(sandbox.Config{})
	graph, err := sb.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	client := whatsapp.NewClient(graph, sandbox.DefaultAccessToken, sandbox.DefaultPhoneNumberID)
	f.srv = ui.New(ui.Config{Engine: f.eng, Logger: slog.New(slog.DiscardHandler), AppSecret: sandbox.DefaultAppSecret, Auth: f.auth, Inbox: ib, Media: client})

	photo := []byte("\x89PNG\r\n\x1a\nnot really a picture")
	doc := []byte("%PDF-1.7 an invoice")
	photoID, err := client.UploadMedia(f.ctx, "photo.png", "image/png", bytes.NewReader(photo))
	if err != nil {
		t.Fatal(err)
	}
	docID, err := client.UploadMedia(f.ctx, "invoice.pdf", "application/pdf", bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	f.say(ann, "my parcel arrived broken")
	for i, m := range []flows.MediaIn{{ID: photoID, MimeType: "image/png"}, {ID: docID, MimeType: "application/pdf", Filename: "invoice.pdf"}} {
		_, err := f.eng.HandleInbound(f.ctx, &engine.Inbound{
			PhoneNumberID: phone, ID: fmt.Sprintf("wamid.media.%d", i), WaID: ann, At: f.clock.Now(),
			Reply: flows.Reply{Type: map[int]string{0: flows.MsgImage, 1: flows.MsgDocument}[i], Media: &m},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	conv := convID(ann, 1)
	msgs, err := f.store.Transcript(f.ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	seqOf := map[string]uint64{}
	var text uint64
	for _, m := range msgs {
		switch {
		case m.Inbound != nil && m.Inbound.Media != nil:
			seqOf[m.Inbound.Media.ID] = m.Seq
		case m.Inbound != nil && text == 0:
			text = m.Seq
		}
	}
	media := func(seq uint64) string { return fmt.Sprintf("%s/media/%d", inboxURL(conv), seq) }

	tests := []struct {
		name, url, who           string
		status                   int
		body                     []byte
		contentType, disposition string
	}{
		{"the photo, inline", media(seqOf[photoID]), agentAnn, 200, photo, "image/png", ""},
		{"the document, as a download", media(seqOf[docID]), agentAnn, 200, doc, "application/pdf", `attachment; filename=invoice.pdf`},
		{"another queue's agent", media(seqOf[photoID]), agentCy, 404, nil, "", ""},
		{"a message with no media", media(text), agentAnn, 404, nil, "", ""},
		{"no such message", media(999), agentAnn, 404, nil, "", ""},
		{"not a position", inboxURL(conv) + "/media/x", agentAnn, 400, nil, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", tc.url, nil)
			req.Header.Set("Authorization", "Bearer "+f.tokenFor(tc.who))
			resp, err := f.srv.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got bytes.Buffer
			got.ReadFrom(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d", resp.StatusCode, got.Bytes(), tc.status)
			}
			if tc.status != 200 {
				return
			}
			if !bytes.Equal(got.Bytes(), tc.body) {
				t.Errorf("body %q, want %q", got.Bytes(), tc.body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			if cd := resp.Header.Get("Content-Disposition"); cd != tc.disposition {
				t.Errorf("Content-Disposition %q, want %q", cd, tc.disposition)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); csp == "" {
				t.Error("no Content-Security-Policy: media must run nothing in Parley's origin")
			}
		})
	}
}
