package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// browserHTTPFlow asks for an order number and looks it up in the test's
// shop API; the URL is put in by the test.
const browserHTTPFlow = `{"format": "parley/flow@1", "id": "lookup", "name": "Lookup", "start": "ask",
 "triggers": [{"type": "keyword", "keywords": ["track"]}],
 "nodes": [
  {"id": "ask", "type": "wait_reply", "prompt": {"type": "text", "text": "Order number?"}, "save_as": "order_id", "next": "find"},
  {"id": "find", "type": "http", "method": "GET", "url": "SHOP/orders/{{ vars.order_id }}",
   "headers": {"Authorization": "Bearer {{ secrets.shop_token }}"}, "timeout": "5s", "save_as": "order", "next": "tell", "on_error": "sorry"},
  {"id": "tell", "type": "send", "message": {"type": "text", "text": "Order {{ vars.order_id }} is {{ vars.order.json.status }}."}},
  {"id": "sorry", "type": "send", "message": {"type": "text", "text": "No such order ({{ vars.order.status }})."}}
 ]}`

// TestBrowserHTTPStep: an analyst opens an http node in the editor, sees
// its form, tries its request with a sample order number (a real call,
// the secret resolved on the server and shown as ***), and walks the flow
// in the test chat, which makes the real call and shows it; then again
// with the calls answered by hand: the held call shown (secret masked),
// the typed answer taken, the shop never called.
func TestBrowserHTTPStep(t *testing.T) {
	var auth atomic.Value
	var shopCalls atomic.Int64
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shopCalls.Add(1)
		io.Copy(io.Discard, r.Body)
		auth.Store(r.Header.Get("Authorization"))
		if r.URL.Path == "/orders/A-17" {
			fmt.Fprint(w, `{"status": "shipped", "echo": "`+r.Header.Get("Authorization")+`"}`)
			return
		}
		http.Error(w, `{"error": "no such order"}`, http.StatusNotFound)
	}))
	defer shop.Close()
	h := startUI(t, e2eOptions{
		flows: map[string]string{"lookup.json": strings.Replace(browserHTTPFlow, "SHOP", shop.URL, 1)},
		serve: func(c *serveConfig) { c.httpAllowHosts = strings.TrimPrefix(shop.URL, "http://") },
	})
	b := newBrowser(t, h.url(""))
	b.signIn(e2eAdmin, e2ePassword)
	b.waitText("nav", "Flows")

	// An admin stores the secret the flow's header names.
	if status := h.apiWrite("PUT", "/secrets/shop_token", `{"value": "tok-s3cr3t"}`, nil); status != http.StatusCreated {
		t.Fatalf("storing the secret: %d", status)
	}

	b.open("/flows/lookup")
	b.wait("editor")
	b.selectNode("find")
	b.waitJS(`$t('http-method').value === 'GET'`, "the method shown")
	b.waitJS(`$t('http-url').value.endsWith('/orders/{{ vars.order_id }}')`, "the url shown")
	b.waitJS(`$t('http-header-value-0').value === 'Bearer {{ secrets.shop_token }}'`, "the header shown")
	b.shot("http node")

	b.fill("http-try-vars", `{"order_id": "A-17"}`)
	b.click("http-try-run")
	b.waitText("http-try-result", "→ 200")
	got := b.text("http-try-result")
	if !strings.Contains(got, "shipped") || !strings.Contains(got, "Bearer ***") || strings.Contains(got, "s3cr3t") {
		t.Errorf("try result %q: want shipped, the echoed secret masked", got)
	}
	if a, _ := auth.Load().(string); a != "Bearer tok-s3cr3t" {
		t.Errorf("the shop got Authorization %q", a)
	}
	b.shot("tried")

	b.click("tab-test")
	b.click("chat-start")
	b.waitJS(`$$t('chat-out').some((m) => m.innerText.includes('Order number?'))`, "the prompt")
	b.fill("chat-input", "A-17")
	b.click("chat-send")
	b.waitJS(`$$t('chat-out').some((m) => m.innerText.includes('Order A-17 is shipped.'))`, "the answer from the real call")
	b.waitJS(`$$t('chat-call').some((m) => m.innerText.includes('→ 200'))`, "the call shown in the chat")
	b.shot("test chat call")

	// Answering by hand: the same flow, its calls held for the analyst.
	calls := shopCalls.Load()
	b.fill("chat-calls", "hand")
	b.click("chat-start")
	b.waitJS(`$$t('chat-out').some((m) => m.innerText.includes('Order number?'))`, "the prompt again")
	b.fill("chat-input", "B-2")
	b.click("chat-send")
	b.waitText("held-call-request", "GET "+shop.URL+"/orders/B-2")
	if got := b.text("chat-held-call"); !strings.Contains(got, "Authorization: Bearer ***") || strings.Contains(got, "s3cr3t") || !strings.Contains(got, "attempt 1 of 1") {
		t.Errorf("held call shown as %q: want the header masked, attempt 1 of 1", got)
	}
	b.shot("held call")
	b.fill("held-call-status", "200")
	b.fill("held-call-answer-body", `{"status": "packed"}`)
	b.click("held-call-answer")
	b.waitJS(`$$t('chat-out').some((m) => m.innerText.includes('Order B-2 is packed.'))`, "the flow goes on with the typed answer")
	b.waitJS(`!$t('chat-held-call')`, "no call waits any more")
	if n := shopCalls.Load(); n != calls {
		t.Errorf("the shop got %d calls while the chat answered by hand", n-calls)
	}
	b.shot("answered by hand")
	if strings.Contains(h.log.String(), "tok-s3cr3t") {
		t.Error("the secret is in serve's log")
	}
}
