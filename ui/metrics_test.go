package ui_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/ui"
)

// TestMetricsAccess: /metrics is open on the main address by default;
// with a token it asks for it as a bearer; apart, it is served by its own
// app only.
func TestMetricsAccess(t *testing.T) {
	const token = "s3cret-metrics"
	open := ui.New(ui.Config{Logger: slog.New(slog.DiscardHandler)})
	guarded := ui.New(ui.Config{Logger: slog.New(slog.DiscardHandler), MetricsToken: token})
	apart := ui.New(ui.Config{Logger: slog.New(slog.DiscardHandler), MetricsApart: true, MetricsToken: token})
	if open.MetricsApp() != nil {
		t.Errorf("a metrics app without MetricsApart")
	}
	tests := []struct {
		name   string
		app    *fiber.App
		auth   string
		status int
	}{
		{"default: open", open.App(), "", 200},
		{"token: none given", guarded.App(), "", 401},
		{"token: wrong", guarded.App(), "Bearer not-it", 401},
		{"token: not a bearer", guarded.App(), "Basic " + token, 401},
		{"token: right", guarded.App(), "Bearer " + token, 200},
		{"apart: not on the main address", apart.App(), "Bearer " + token, 404},
		{"apart: on its own, with its token", apart.MetricsApp(), "Bearer " + token, 200},
		{"apart: on its own, without", apart.MetricsApp(), "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/metrics", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := tt.app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, b)
			}
			if tt.status == 200 && !strings.Contains(string(b), "# TYPE parley_webhooks_total counter") {
				t.Errorf("not the metrics: %s", b)
			}
			if tt.status == 401 && (strings.Contains(string(b), "parley_") || resp.Header.Get("WWW-Authenticate") == "") {
				t.Errorf("401 with %q, WWW-Authenticate %q", b, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	for _, r := range apart.MetricsApp().GetRoutes(true) {
		if r.Path != "/metrics" {
			t.Errorf("the metrics app serves %s %s", r.Method, r.Path)
		}
	}
}
