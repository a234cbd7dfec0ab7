package whatsapp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/parleyhq/parley/whatsapp"
)

func TestRouterSendsFromTheNumberTheContextNames(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"messaging_product":"whatsapp","contacts":[{"input":"15550001","wa_id":"15550001"}],"messages":[{"id":"wamid.1"}]}`))
	}))
	defer srv.Close()
	r, err := whatsapp.NewRouter(whatsapp.NewClient(srv.URL, "token-a", "111"), whatsapp.NewClient(srv.URL, "token-b", "222"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := whatsapp.NewRouter(whatsapp.NewClient(srv.URL, "x", "111"), whatsapp.NewClient(srv.URL, "y", "111")); err == nil {
		t.Error("a number given twice was taken")
	}
	ctx := context.Background()
	for _, c := range []context.Context{ctx, whatsapp.WithNumber(ctx, "222"), whatsapp.WithNumber(ctx, "111"), whatsapp.WithNumber(ctx, "999")} {
		if _, err := r.Send(c, whatsapp.NewText("15550001", "hi")); err != nil {
			t.Fatal(err)
		}
	}
	want := "/111/messages Bearer token-a,/222/messages Bearer token-b,/111/messages Bearer token-a,/111/messages Bearer token-a"
	if strings.Join(got, ",") != want {
		t.Errorf("calls:\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
}
