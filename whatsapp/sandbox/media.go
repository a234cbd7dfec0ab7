package sandbox

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// mediaURLLifetime is how long a media URL works (docs/whatsapp.md §2.5).
const mediaURLLifetime = 5 * time.Minute

type mediaObject struct {
	id        string
	data      []byte
	mime      string
	filename  string
	sha256Hex string
	sha256B64 string
}

// Media types Meta accepts, with their size limits (docs/whatsapp.md §2.5).
var mediaLimits = map[string]int64{
	"audio/aac": 16 << 20, "audio/amr": 16 << 20, "audio/mpeg": 16 << 20, "audio/mp4": 16 << 20, "audio/ogg": 16 << 20,
	"text/plain": 100 << 20, "application/pdf": 100 << 20,
	"application/msword": 100 << 20, "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 << 20,
	"application/vnd.ms-excel": 100 << 20, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 << 20,
	"application/vnd.ms-powerpoint": 100 << 20, "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 << 20,
	"image/jpeg": 5 << 20, "image/png": 5 << 20,
	"image/webp": 500 << 10,
	"video/mp4":  16 << 20, "video/3gpp": 16 << 20,
}

func (s *Sandbox) storeMediaLocked(data []byte, mime, filename string) string {
	id := strconv.FormatInt(3_000_000_000_000_000+s.nextID(), 10)
	sum := sha256.Sum256(data)
	s.media[id] = &mediaObject{id: id, data: data, mime: mime, filename: filename,
		sha256Hex: fmt.Sprintf("%x", sum), sha256B64: base64.StdEncoding.EncodeToString(sum[:])}
	return id
}

// handleUpload serves POST /{phone_number_id}/media (multipart: file,
// type, messaging_product).
func (s *Sandbox) handleUpload(w http.ResponseWriter, r *http.Request, _ []byte) *metaErr {
	if r.PathValue("id") != s.cfg.PhoneNumberID {
		return unknownObject("post", r.PathValue("id"))
	}
	bad := func(details string) *metaErr {
		return &metaErr{http: 400, code: 100, msg: "(#100) Invalid parameter", details: details}
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return bad("expected a multipart/form-data body: " + err.Error())
	}
	if r.FormValue("messaging_product") != "whatsapp" {
		return &metaErr{http: 400, code: 100, msg: "(#100) The parameter messaging_product is required."}
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return &metaErr{http: 400, code: 100, msg: "(#100) The parameter file is required."}
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return bad("file unreadable")
	}
	mime := r.FormValue("type")
	base, _, _ := strings.Cut(mime, ";")
	limit, ok := mediaLimits[strings.TrimSpace(base)]
	if !ok {
		return bad(fmt.Sprintf("Param file must be a file with one of the supported types; got %q", mime))
	}
	if int64(len(data)) > limit {
		return bad(fmt.Sprintf("file is %d bytes, at most %d are allowed for %s", len(data), limit, base))
	}
	s.mu.Lock()
	id := s.storeMediaLocked(data, mime, hdr.Filename)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
	return nil
}

func (s *Sandbox) mediaByID(id string) *mediaObject {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.media[id]
}

// handleGetMedia serves GET /{media_id}: a URL valid for 5 minutes.
func (s *Sandbox) handleGetMedia(w http.ResponseWriter, r *http.Request, _ []byte) *metaErr {
	m := s.mediaByID(r.PathValue("id"))
	if m == nil {
		return unknownObject("get", r.PathValue("id"))
	}
	exp := s.clock.Now().Add(mediaURLLifetime).Unix()
	writeJSON(w, http.StatusOK, map[string]any{
		"messaging_product": "whatsapp",
		"url":               fmt.Sprintf("%s/_sandbox/media/%s/content?exp=%d", baseURL(r), m.id, exp),
		"mime_type":         m.mime,
		"sha256":            m.sha256Hex,
		"file_size":         len(m.data),
		"id":                m.id,
	})
	return nil
}

// handleDeleteMedia serves DELETE /{media_id}.
func (s *Sandbox) handleDeleteMedia(w http.ResponseWriter, r *http.Request, _ []byte) *metaErr {
	id := r.PathValue("id")
	s.mu.Lock()
	_, ok := s.media[id]
	delete(s.media, id)
	s.mu.Unlock()
	if !ok {
		return unknownObject("delete", id)
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}

// handleDownload serves a media URL: Bearer required, 404 once expired.
func (s *Sandbox) handleDownload(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		writeMetaError(w, metaErr{http: 401, code: 190, typ: "OAuthException", msg: "Invalid OAuth access token - Cannot parse access token"})
		return
	}
	m := s.mediaByID(r.PathValue("id"))
	exp, err := strconv.ParseInt(r.URL.Query().Get("exp"), 10, 64)
	if m == nil || err != nil || s.clock.Now().Unix() > exp {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", m.mime)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.data)))
	w.Write(m.data) //nolint:errcheck // the client went away
}
