package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/engine/httpcall"
)

// TestSimulateAnswersCallsByHand: interactive `parley simulate` shows each
// http call the flow makes (the secret masked) and takes the typed answer
// as the attempt's result — a timeout retried, then a 200 — and a 404 on
// the next call takes on_error.
func TestSimulateAnswersCallsByHand(t *testing.T) {
	in := strings.Join([]string{
		"@ secret shop_token: s3cr3t-tok",
		"order", "C-3",
		"? timeout",
		`200 {"status": "late"}`,
		"201",
		"hi",
	}, "\n") + "\n"
	var out, errs bytes.Buffer
	code := cmdSimulate(context.Background(), []string{"../../testdata/scripts/http/flow.json"}, strings.NewReader(in), &out, &errs)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs.String(), out.String())
	}
	got := out.String()
	for _, want := range []string{
		"? GET https://shop.example.com/api/orders/C-3  (node lookup, attempt 1 of 2,",
		"    Authorization: Bearer ***",
		"attempt 2 of 2",
		"bot< text: Order C-3 is late.",
		"? POST https://crm.example.com/api/notes  (node log, attempt 1 of 1,",
		`{"contact":"15551234567","order":"C-3"}`,
		"bot< text: you said hi",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "s3cr3t") {
		t.Errorf("the secret is shown:\n%s", got)
	}
	if strings.Contains(got, "  !") {
		t.Errorf("an error:\n%s", got)
	}
}

// TestSimulateRealCalls: with --real-calls the flow's call reaches the
// API (allowed on loopback by PARLEY_HTTP_ALLOW_HOSTS), nothing is asked.
func TestSimulateRealCalls(t *testing.T) {
	var auth atomic.Value
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			auth.Store(r.Header.Get("Authorization"))
		}
		fmt.Fprint(w, `{"status": "shipped"}`)
	}))
	defer shop.Close()
	t.Setenv(httpcall.AllowEnv, strings.TrimPrefix(shop.URL, "http://"))
	doc, err := os.ReadFile("../../testdata/scripts/http/flow.json")
	if err != nil {
		t.Fatal(err)
	}
	doc = bytes.ReplaceAll(doc, []byte("https://shop.example.com"), []byte(shop.URL))
	doc = bytes.ReplaceAll(doc, []byte("https://crm.example.com"), []byte(shop.URL))
	path := filepath.Join(t.TempDir(), "flow.json")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	in := "@ secret shop_token: tok\norder\nA-1\n"
	var out, errs bytes.Buffer
	if code := cmdSimulate(context.Background(), []string{"--real-calls", path}, strings.NewReader(in), &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs.String(), out.String())
	}
	if !strings.Contains(out.String(), "bot< text: Order A-1 is shipped.") || strings.Contains(out.String(), "answer>") {
		t.Errorf("output:\n%s", out.String())
	}
	if a, _ := auth.Load().(string); a != "Bearer tok" {
		t.Errorf("the API got Authorization %q", a)
	}
}
