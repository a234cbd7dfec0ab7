package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// defaultDemoShopAddr is where the demo shop listens in sandbox mode: the
// address flows/examples/order_status.json and crm_lead.json call.
const defaultDemoShopAddr = "127.0.0.1:8090"

// demoShop is a small shop and CRM API that `parley serve` runs on
// loopback in sandbox mode, so that the example flows' http steps work
// with no account anywhere:
//
//	GET  /api/orders/{id}   200 {"id", "status", "eta"?}, 404, or 503 for B-2 (the shop "down")
//	POST /api/leads         201 {"id": "lead-N"}: a JSON object with a phone
//	GET  /api/leads         the leads written so far
//
// It holds nothing secret and forgets the leads when serve stops.
type demoShop struct {
	mu    sync.Mutex
	leads []map[string]any
}

// demoOrders are the demo shop's orders.
var demoOrders = map[string]map[string]any{
	"A-17": {"id": "A-17", "status": "shipped", "eta": "Friday"},
	"A-18": {"id": "A-18", "status": "being packed"},
	"A-19": {"id": "A-19", "status": "delivered"},
}

func (s *demoShop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/orders/"):
		id := strings.ToUpper(strings.TrimPrefix(r.URL.Path, "/api/orders/"))
		if id == "B-2" {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error": "the shop system is down (demo: order B-2 always is)"}`)
			return
		}
		o, ok := demoOrders[id]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error": "no such order"}`)
			return
		}
		json.NewEncoder(w).Encode(o)
	case r.URL.Path == "/api/leads" && r.Method == http.MethodPost:
		var lead map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&lead); err != nil || lead["phone"] == nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error": "send a JSON object with a phone"}`)
			return
		}
		s.mu.Lock()
		if len(s.leads) >= 1000 {
			s.leads = s.leads[1:]
		}
		s.leads = append(s.leads, lead)
		id := fmt.Sprintf("lead-%d", len(s.leads))
		lead["id"] = id
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"id": id})
	case r.URL.Path == "/api/leads" && r.Method == http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"leads": s.leads})
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error": "not found"}`)
	}
}

// startDemoShop serves the demo shop on addr until ctx is done. It
// returns the address it listens on; a port already taken is logged and
// leaves the shop off (the example flows then take their "shop down"
// path), not the server.
func startDemoShop(ctx context.Context, addr string, log *slog.Logger) string {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Warn("demo shop not started: the example flows' http steps will find it down", "addr", addr, "err", err)
		return ""
	}
	srv := &http.Server{Handler: &demoShop{}, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("demo shop", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return ln.Addr().String()
}
