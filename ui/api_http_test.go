package ui_test

import (
	"context"
	"net/http"
	"testing"
)

// TestTryHTTP: the editor's "try" makes one attempt of an http node with
// sample values, with the engine's own address checks and secrets, and
// never shows a secret's value.
func TestTryHTTP(t *testing.T) {
	run(t, []scenario{
		{
			name: "try: loopback is refused as in a conversation", method: "POST", url: "/api/v1/flows/try-http",
			body: `{"node": {"id": "t", "type": "http", "method": "POST", "url": "http://127.0.0.1:9/orders/{{ vars.id }}?k={{ secrets.shop_token }}",
			        "headers": {"Authorization": "Bearer {{ secrets.shop_token }}"}, "body": {"who": "{{ contact.name }}"}, "next": "x", "on_error": "y"},
			       "vars": {"id": "A 1"}, "contact": {"name": "Ann"}}`,
			before: func(t *testing.T, f *fixture) {
				if _, _, err := f.secrets.Put(context.Background(), "shop_token", "s3cr3t-value", "test"); err != nil {
					t.Fatal(err)
				}
			},
			status:  http.StatusOK,
			want:    []string{`"url":"http://127.0.0.1:9/orders/A%201?k=***"`, `address refused`, `"Authorization":"Bearer ***"`, `"body":"{\"who\":\"Ann\"}"`, `"ok":false`, `"status":0`},
			notWant: []string{"s3cr3t"},
		},
		{
			name: "try: a missing secret says which", method: "POST", url: "/api/v1/flows/try-http",
			body:   `{"node": {"id": "t", "type": "http", "method": "GET", "url": "https://shop.example.com/", "headers": {"X": "{{ secrets.nope }}"}}}`,
			status: http.StatusOK, want: []string{`secret \"nope\"`, `"ok":false`},
		},
		{
			name: "try: an invalid node is 422 with its problems", method: "POST", url: "/api/v1/flows/try-http",
			body:   `{"node": {"id": "t", "type": "http", "method": "GET", "url": "ftp://x/", "body": "b"}}`,
			status: http.StatusUnprocessableEntity, want: []string{`/nodes/0/url`, `/nodes/0/body`},
		},
		{
			name: "try: not an http node", method: "POST", url: "/api/v1/flows/try-http",
			body:   `{"node": {"id": "t", "type": "send", "message": {"type": "text", "text": "x"}}}`,
			status: http.StatusBadRequest,
		},
		{name: "try: no node", method: "POST", url: "/api/v1/flows/try-http", body: `{}`, status: http.StatusBadRequest},
	})
}
