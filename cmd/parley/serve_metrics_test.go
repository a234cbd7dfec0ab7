package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestServeMetricsOptions: /metrics is open on the main address by
// default; -metrics-token asks for it as a bearer token; -metrics-addr
// serves it there only.
func TestServeMetricsOptions(t *testing.T) {
	t.Parallel()
	const token = "e2e-metrics-token"
	type probe struct {
		where, auth string // where: "main" or "apart"
		status      int
	}
	tests := []struct {
		name   string
		token  string
		apart  bool
		probes []probe
	}{
		{name: "default: open on the main address", probes: []probe{{"main", "", 200}}},
		{name: "-metrics-token", token: token, probes: []probe{
			{"main", "", 401}, {"main", "Bearer wrong", 401}, {"main", "Bearer " + token, 200},
		}},
		{name: "-metrics-addr", apart: true, probes: []probe{{"main", "", 404}, {"apart", "", 200}}},
		{name: "-metrics-addr and -metrics-token", token: token, apart: true, probes: []probe{
			{"main", "Bearer " + token, 404}, {"apart", "", 401}, {"apart", "Bearer " + token, 200},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var apart net.Listener
			if tt.apart {
				var err error
				if apart, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
					t.Fatal(err)
				}
			}
			h := newE2E(t, e2eOptions{serve: func(c *serveConfig) {
				c.metricsToken = tt.token
				if apart != nil {
					c.metricsAddr, c.metricsListener = apart.Addr().String(), apart
				}
			}})
			h.start()
			for _, p := range tt.probes {
				url := h.url("/metrics")
				if p.where == "apart" {
					url = "http://" + apart.Addr().String() + "/metrics"
				}
				req, err := http.NewRequest(http.MethodGet, url, nil)
				if err != nil {
					t.Fatal(err)
				}
				if p.auth != "" {
					req.Header.Set("Authorization", p.auth)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != p.status {
					t.Errorf("%s /metrics with %q: %d, want %d: %.200s", p.where, p.auth, resp.StatusCode, p.status, b)
				}
				if metrics := strings.Contains(string(b), "parley_store_commits_total"); metrics != (p.status == 200) {
					t.Errorf("%s /metrics with %q: %d and the metrics shown: %v", p.where, p.auth, resp.StatusCode, metrics)
				}
			}
		})
	}
}
