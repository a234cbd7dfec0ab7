package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
)

// The web app's HTTP face: the embedded build (embed.go) at /, with every
// client route (/flows/order_status) answered by index.html so that the
// app's router takes over, and the server's own paths kept out of it.

// Cache policies. Vite names every asset by its content hash, so an asset
// never changes under its name and may be cached for a year; index.html
// names the current assets and must be revalidated on every load.
const (
	cacheAssets = "public, max-age=31536000, immutable"
	cacheIndex  = "no-cache"
)

// contentSecurityPolicy keeps the app to its own origin: scripts only from
// the embedded build (customer text can never run, even if an escape were
// missed), styles inline too (React Flow positions nodes with style
// attributes), images also from https (media links in flows).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'self'; " +
	"form-action 'self'; frame-ancestors 'none'"

// serverPaths are the prefixes that belong to the server, never to the
// app: an unknown path under them is a 404, not index.html.
var serverPaths = []string{"/api/", "/webhook/", "/healthz", "/readyz", "/metrics"}

// webFile is one file of the build, held in memory with its gzip form.
type webFile struct {
	body, gzipped []byte
	etag, ctype   string
}

// webFiles loads the build once: a few hundred KB.
var webFiles = sync.OnceValues(func() (map[string]*webFile, error) { return loadWeb(dist, "dist") })

func loadWeb(fsys fs.FS, root string) (map[string]*webFile, error) {
	sub, err := fs.Sub(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("web app: %w", err)
	}
	files := map[string]*webFile{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path.Base(p), ".") {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		f := &webFile{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: mime.TypeByExtension(path.Ext(p))}
		if f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
		if compressible(f.ctype) && len(b) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(b) //nolint:errcheck // a bytes.Buffer does not fail
			zw.Close()
			f.gzipped = buf.Bytes()
		}
		files["/"+p] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web app: reading the embedded build: %w", err)
	}
	if files["/index.html"] == nil {
		return nil, fmt.Errorf("web app: the embedded build has no index.html (run npm run build in ui/web)")
	}
	return files, nil
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") || strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

// webRoutes serves the web app. Registered last: every route of the
// server comes first.
func (s *Server) webRoutes() {
	s.app.Get("/*", s.serveWeb)
}

func (s *Server) serveWeb(c *fiber.Ctx) error {
	p := c.Path()
	for _, pre := range serverPaths {
		if strings.HasPrefix(p, pre) || p == strings.TrimSuffix(pre, "/") {
			return fiber.NewError(fiber.StatusNotFound, "no route "+p)
		}
	}
	files, err := webFiles()
	if err != nil {
		return err
	}
	f, ok := files[p]
	switch {
	case ok && p != "/index.html":
		c.Set(fiber.HeaderCacheControl, cacheAssets)
		if !strings.HasPrefix(p, "/assets/") {
			// Files outside assets/ keep their names across builds.
			c.Set(fiber.HeaderCacheControl, cacheIndex)
		}
	case strings.HasPrefix(p, "/assets/") || (path.Ext(p) != "" && !ok):
		// A missing asset is a 404: index.html in its place would be
		// parsed as a script and fail obscurely.
		return fiber.NewError(fiber.StatusNotFound, "no file "+p)
	default:
		// A client route: the app's router takes it from here.
		f = files["/index.html"]
		c.Set(fiber.HeaderCacheControl, cacheIndex)
		c.Set("Content-Security-Policy", contentSecurityPolicy)
		c.Set(fiber.HeaderXFrameOptions, "DENY")
		c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	}
	c.Set(fiber.HeaderETag, f.etag)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderContentType, f.ctype)
	if match := c.Get(fiber.HeaderIfNoneMatch); match != "" && match == f.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	if f.gzipped != nil && strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(f.gzipped)
	}
	return c.Send(f.body)
}
