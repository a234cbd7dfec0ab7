package flows

import (
	"errors"
	"strings"
	"testing"
)

func TestRenderRequest(t *testing.T) {
	doc := `{"format":"parley/flow@1","id":"f","start":"a","nodes":[
	 {"id":"a","type":"http","method":"POST",
	  "url":"https://shop.example.com/orders/{{ vars.id }}?q={{ reply.text }}&k={{ secrets.key }}",
	  "headers":{"Authorization":"Bearer {{ secrets.token }}","X-Name":"{{ contact.name }}"},
	  "body":{"who":"{{ contact.wa_id }}","n":2,"list":["{{ vars.id }}",true],"bad":"x{{ vars.missing.deep }}y"},
	  "on_error":"a"}]}`
	// on_error pointing at itself is a loop; parse the node without the graph check.
	f, _ := Parse([]byte(doc))
	if f == nil {
		t.Fatal("flow did not decode")
	}
	env := &Env{
		Vars:    map[string]any{"id": "A/17 x"},
		Contact: Contact{WaID: "3531", Name: "Ann"},
		Reply:   Reply{Text: "a&b=c"},
	}
	secrets := map[string]string{"token": "s3cr3t", "key": "k&y"}
	lookup := func(name string) (string, error) {
		if v, ok := secrets[name]; ok {
			return v, nil
		}
		return "", errors.New("not stored")
	}
	r, err := f.RenderRequest(f.Node("a"), env, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://shop.example.com/orders/A%2F17%20x?q=a%26b%3Dc&k=k%26y"; r.URL != want {
		t.Errorf("url %q, want %q", r.URL, want)
	}
	if r.Headers["Authorization"] != "Bearer s3cr3t" || r.Headers["X-Name"] != "Ann" || r.Headers["Content-Type"] != "application/json" {
		t.Errorf("headers %v", r.Headers)
	}
	if want := `{"bad":"xy","list":["A/17 x",true],"n":2,"who":"3531"}`; string(r.Body) != want {
		t.Errorf("body %s, want %s", r.Body, want)
	}
	if len(r.Problems) != 1 {
		t.Errorf("problems %v, want the one failed expression", r.Problems)
	}
	if got := r.Mask(r.URL + " " + r.Headers["Authorization"]); strings.Contains(got, "s3cr3t") || strings.Contains(got, "k%26y") || !strings.Contains(got, "k=***") {
		t.Errorf("masked %q", got)
	}

	delete(secrets, "token")
	_, err = f.RenderRequest(f.Node("a"), env, lookup)
	if !errors.Is(err, ErrSecret) || !strings.Contains(err.Error(), `"token"`) {
		t.Errorf("missing secret: err %v", err)
	}
}

func TestRenderRequestTextBody(t *testing.T) {
	f, ps := Parse([]byte(`{"format":"parley/flow@1","id":"f","start":"a","nodes":[
	 {"id":"a","type":"http","method":"PUT","url":"http://x.example.com/","body":"hello {{ contact.name }}","on_error":"b"},
	 {"id":"b","type":"http","method":"PUT","url":"http://x.example.com/","headers":{"content-type":"text/csv"},"body":"a,b","on_error":"c"},
	 {"id":"c","type":"http","method":"GET","url":"http://x.example.com/","on_error":"d"},
	 {"id":"d","type":"send","message":{"type":"text","text":"x"}}]}`))
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	env := &Env{Contact: Contact{Name: "Ann"}}
	for _, tc := range []struct{ node, body, ctype, ctypeHeader string }{
		{"a", "hello Ann", "text/plain; charset=utf-8", "Content-Type"},
		{"b", "a,b", "text/csv", "content-type"},
		{"c", "", "", "Content-Type"},
	} {
		r, err := f.RenderRequest(f.Node(tc.node), env, nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(r.Body) != tc.body || r.Headers[tc.ctypeHeader] != tc.ctype {
			t.Errorf("%s: body %q headers %v", tc.node, r.Body, r.Headers)
		}
	}
}
