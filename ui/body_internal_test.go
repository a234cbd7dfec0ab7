package ui

import (
	"log/slog"
	"testing"
)

// TestBodyRoutesExist: every route with a body cap of its own is a
// registered route (a renamed route would silently fall back to
// DefaultBodyBytes), and bodyRouteOf finds it as fiber matches it.
func TestBodyRoutesExist(t *testing.T) {
	s := New(Config{Logger: slog.New(slog.DiscardHandler)})
	registered := map[string]bool{}
	for _, r := range s.App().GetRoutes(true) {
		registered[r.Method+" "+r.Path] = true
	}
	for _, r := range bodyRoutes {
		if !registered[r.method+" "+r.path] {
			t.Errorf("%s %s has a body cap but is no route", r.method, r.path)
		}
	}
	for _, tt := range []struct {
		method, path string
		max          int
	}{
		{"POST", "/webhook/whatsapp", bodyRoutes[0].max},
		{"POST", "/Webhook/WhatsApp/", bodyRoutes[0].max},
		{"PUT", "/api/v1/flows/appointment", bodyRoutes[1].max},
		{"PUT", "/api/v1/flows/", DefaultBodyBytes},
		{"PUT", "/api/v1/flows/a/b", DefaultBodyBytes},
		{"POST", "/api/v1/flows/validate", bodyRoutes[2].max},
		{"POST", "/api/v1/flows/a%2Fb/test", bodyRoutes[3].max},
		{"GET", "/webhook/whatsapp", DefaultBodyBytes},
		{"POST", "/api/v1/contacts", DefaultBodyBytes},
	} {
		if got := bodyRouteOf(tt.method, tt.path).max; got != tt.max {
			t.Errorf("%s %s: cap %d, want %d", tt.method, tt.path, got, tt.max)
		}
	}
}
