package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// TestInteractiveKinds: the sandbox accepts product, product_list and
// catalog_message messages as Meta does, and refuses what Meta refuses: a
// list with a media header, a product without its catalog, a product list
// without its text header (131009 / 131008).
func TestInteractiveKinds(t *testing.T) {
	sb := start(t, sandbox.Config{WebhookRetries: -1, Throughput: -1, PairInterval: -1})
	cfg := sb.Config()
	if _, err := sb.CustomerSays("15551234567", sandbox.Text("hi")); err != nil {
		t.Fatal(err)
	}
	send := func(interactive string) (int, int) {
		body := `{"messaging_product":"whatsapp","to":"15551234567","type":"interactive","interactive":` + interactive + `}`
		req, _ := http.NewRequest(http.MethodPost, sb.GraphURL()+"/"+cfg.PhoneNumberID+"/messages", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+cfg.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var e struct {
			Error struct{ Code int } `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return resp.StatusCode, e.Error.Code
	}
	cases := []struct {
		name, body string
		status     int
		code       int
	}{
		{"single product", `{"type":"product","body":{"text":"Look"},"action":{"catalog_id":"1","product_retailer_id":"sku-1"}}`, 200, 0},
		{"single product without a body", `{"type":"product","action":{"catalog_id":"1","product_retailer_id":"sku-1"}}`, 200, 0},
		{"product list", `{"type":"product_list","header":{"type":"text","text":"Shirts"},"body":{"text":"Pick"},"action":{"catalog_id":"1","sections":[{"title":"Linen","product_items":[{"product_retailer_id":"sku-1"},{"product_retailer_id":"sku-2"}]}]}}`, 200, 0},
		{"catalog", `{"type":"catalog_message","body":{"text":"Our shop"},"action":{"name":"catalog_message","parameters":{"thumbnail_product_retailer_id":"sku-1"}}}`, 200, 0},
		{"product without its catalog", `{"type":"product","action":{"product_retailer_id":"sku-1"}}`, 400, 131008},
		{"product list without a header", `{"type":"product_list","body":{"text":"Pick"},"action":{"catalog_id":"1","sections":[{"title":"A","product_items":[{"product_retailer_id":"sku-1"}]}]}}`, 400, 131008},
		{"list with an image header", `{"type":"list","header":{"type":"image","text":""},"body":{"text":"Pick"},"action":{"button":"Go","sections":[{"rows":[{"id":"a","title":"A"}]}]}}`, 400, 131009},
		{"list with a text header", `{"type":"list","header":{"type":"text","text":"Slots"},"body":{"text":"Pick"},"action":{"button":"Go","sections":[{"rows":[{"id":"a","title":"A"}]}]}}`, 200, 0},
	}
	for _, c := range cases {
		if status, code := send(c.body); status != c.status || code != c.code {
			t.Errorf("%s: HTTP %d code %d; want %d %d", c.name, status, code, c.status, c.code)
		}
	}
}
