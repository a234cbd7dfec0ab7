package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// sourceDigest is the digest of the web app's sources, computed as
// ui/web/scripts/digest.mjs does when it builds: sha256 over, for each file
// in byte order of its slash path, "<path>\0<sha256 hex>\n". The files are
// what the build reads: index.html, the package files, the vite and
// TypeScript configs, and src/ less its unit tests.
func sourceDigest(t *testing.T, web string) string {
	t.Helper()
	files := []string{"index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"}
	testFile := regexp.MustCompile(`\.test\.tsx?$`)
	err := filepath.WalkDir(filepath.Join(web, "src"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || testFile.MatchString(d.Name()) {
			return err
		}
		rel, err := filepath.Rel(web, p)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatalf("listing the web app's sources: %v", err)
	}
	slices.Sort(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(web, filepath.FromSlash(f)))
		if err != nil {
			t.Fatalf("reading %s: %v", f, err)
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(h, "%s\x00%s\n", f, hex.EncodeToString(sum[:]))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDistIsBuiltFromSources fails when ui/dist, which the binary embeds,
// was not rebuilt after a change to the web app's sources.
func TestDistIsBuiltFromSources(t *testing.T) {
	want := sourceDigest(t, "web")
	got, err := os.ReadFile(filepath.Join("dist", ".source-digest"))
	if err != nil {
		t.Fatalf("ui/dist has no .source-digest (%v): build it with `cd ui/web && npm ci && npm run build`", err)
	}
	if strings.TrimSpace(string(got)) != want {
		t.Fatalf("ui/dist is stale: ui/web's sources changed since it was built; run `cd ui/web && npm ci && npm run build` and commit ui/dist")
	}
}

// anyError in a test's status accepts any error status.
const anyError = -1

func TestWebApp(t *testing.T) {
	app := New(Config{}).App()
	files, err := webFiles()
	if err != nil {
		t.Fatal(err)
	}
	// asset is the entry script index.html loads; chunks are the pages'
	// scripts (React.lazy), which the entry imports when a page opens.
	index := string(files["/index.html"].body)
	var asset string
	var chunks []string
	for p := range files {
		if strings.HasPrefix(p, "/assets/") && strings.HasSuffix(p, ".js") {
			if strings.Contains(index, `src="`+p+`"`) {
				asset = p
			} else {
				chunks = append(chunks, p)
			}
		}
	}
	if asset == "" {
		t.Fatal("index.html loads no JavaScript asset of the build")
	}
	if len(chunks) == 0 {
		t.Fatal("the build has a single script: the pages are not split into chunks")
	}
	slices.Sort(chunks)

	tests := []struct {
		name, path string
		header     map[string]string
		status     int // anyError: any 4xx or 5xx
		cache      string
		body       string // a substring of the body
		encoding   string
		csp        bool
	}{
		{name: "root is the app", path: "/", status: 200, cache: cacheIndex, body: `<div id="root">`, csp: true},
		{name: "a client route is the app", path: "/flows/order_status", status: 200, cache: cacheIndex, body: `<div id="root">`, csp: true},
		{name: "a client route with a version", path: "/flows/a/versions/2", status: 200, cache: cacheIndex, body: `<div id="root">`, csp: true},
		{name: "index.html itself", path: "/index.html", status: 200, cache: cacheIndex, body: `<div id="root">`, csp: true},
		{name: "a hashed asset is cached for long", path: asset, status: 200, cache: cacheAssets},
		{name: "gzip when asked", path: asset, header: map[string]string{"Accept-Encoding": "gzip, br"}, status: 200, cache: cacheAssets, encoding: "gzip"},
		{name: "a missing asset is a 404", path: "/assets/missing-abc123.js", status: 404},
		{name: "a missing file is a 404", path: "/favicon.ico", status: 404},
		{name: "the digest is not served", path: "/.source-digest", status: 404},
		// 503 here (no sign-in configured), 401 or 404 behind auth: never the app.
		{name: "an unknown API route is not the app", path: "/api/v1/no-such-thing", status: anyError},
		{name: "the webhook path is not the app", path: "/webhook/other", status: 404},
		{name: "health stays health", path: "/healthz", status: 200, body: "ok"},
		{name: "metrics prefix is not the app", path: "/metrics/x", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if tt.status == anyError && resp.StatusCode >= 400 {
				tt.status = resp.StatusCode
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tt.status, b)
			}
			if got := resp.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			if tt.body != "" && !strings.Contains(string(b), tt.body) {
				t.Errorf("body %.200q lacks %q", b, tt.body)
			}
			if tt.status >= 400 && strings.Contains(string(b), `<div id="root">`) {
				t.Errorf("a 404 answered with index.html")
			}
			if got := resp.Header.Get("Content-Encoding"); got != tt.encoding {
				t.Errorf("Content-Encoding %q, want %q", got, tt.encoding)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); (csp != "") != tt.csp {
				t.Errorf("Content-Security-Policy %q, want set: %v", csp, tt.csp)
			}
		})
	}

	t.Run("revalidation answers 304", func(t *testing.T) {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("If-None-Match", files["/index.html"].etag)
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 304 {
			t.Fatalf("status %d, want 304", resp.StatusCode)
		}
	})
	t.Run("index names its assets", func(t *testing.T) {
		if !strings.Contains(index, asset) {
			t.Fatalf("index.html does not load %s", asset)
		}
	})
	t.Run("page chunks are imported and cached for long", func(t *testing.T) {
		for _, c := range chunks {
			imported := false
			for p, f := range files {
				if p != c && strings.HasSuffix(p, ".js") && strings.Contains(string(f.body), path.Base(c)) {
					imported = true
				}
			}
			if !imported {
				t.Errorf("no script of the build imports %s", c)
			}
			resp, err := app.Test(httptest.NewRequest("GET", c, nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != cacheAssets {
				t.Errorf("%s: status %d, Cache-Control %q; want 200, %q", c, resp.StatusCode, resp.Header.Get("Cache-Control"), cacheAssets)
			}
		}
	})
}
