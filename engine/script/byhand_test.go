package script_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/httpcall"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/script"
)

// TestAnswerByHand: a session with ByHand holds each http call; the held
// call shows as it would be sent (the secret masked); each answer counts
// as that attempt's result, with retries, next and on_error as for a real
// one; the clock cannot be moved past a held call.
func TestAnswerByHand(t *testing.T) {
	ctx := context.Background()
	doc, err := os.ReadFile("../../testdata/scripts/http/flow.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sess, err := script.NewSession(ctx, doc, script.DefaultStart, script.Options{
		OpenStore: func() (model.Store, error) { return boltstore.Open(filepath.Join(dir, "s.db")) },
		ByHand:    true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	do := func(kind byte, arg string) {
		t.Helper()
		if err := sess.Do(ctx, script.Step{Kind: kind, Arg: arg}); err != nil {
			t.Fatalf("%c %s: %v", kind, arg, err)
		}
	}
	sent := func(want ...string) {
		t.Helper()
		var got []string
		for _, m := range sess.TakeSent() {
			got = append(got, engine.Render(m))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("sent %q, want %q", got, want)
		}
	}
	held := func(attempt int) *engine.HeldCall {
		t.Helper()
		h, err := sess.HeldCall(ctx)
		if err != nil || h == nil {
			t.Fatalf("held call: %v, %v", h, err)
		}
		if h.Attempt != attempt {
			t.Fatalf("held attempt %d, want %d", h.Attempt, attempt)
		}
		return h
	}
	answer := func(s string) {
		t.Helper()
		a, err := script.ParseAnswer(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.AnswerCall(ctx, a); err != nil {
			t.Fatalf("answer %q: %v", s, err)
		}
	}

	do(script.Set, "secret shop_token: s3cr3t-tok")
	do(script.Say, "order")
	sent("text: Your order number?")
	if h, _ := sess.HeldCall(ctx); h != nil {
		t.Fatalf("a call held before any: %+v", h)
	}
	do(script.Say, "C-3")
	h := held(1)
	if h.Method != "GET" || h.URL != "https://shop.example.com/api/orders/C-3" || h.Headers["Authorization"] != "Bearer ***" || h.Retries != 1 {
		t.Fatalf("held call %+v", h)
	}
	sent()
	// Only the attempt held may be answered.
	for _, k := range []struct {
		key     string
		attempt int
	}{{h.Key, 2}, {h.Key + "x", 1}} {
		if err := sess.Engine().AnswerCall(ctx, sess.Contact(), k.key, k.attempt, httpcall.Result{Status: 200}); !errors.Is(err, engine.ErrNoHeldCall) {
			t.Errorf("answering key %s attempt %d: %v, want ErrNoHeldCall", k.key, k.attempt, err)
		}
	}
	if err := sess.Advance(ctx, 1); !errors.Is(err, script.ErrCallWaiting) {
		t.Fatalf("advancing past a held call: %v, want ErrCallWaiting", err)
	}
	// A message meanwhile is held by the engine, handled after the call.
	do(script.Say, "hello?")
	answer("? timeout") // retriable: the retry is held in turn
	held(2)
	sent()
	answer(`200 {"status": "late"}`)
	h = held(1) // the next http node's call (a new key)
	if h.Method != "POST" || !strings.Contains(h.Body, `"order":"C-3"`) {
		t.Fatalf("second call %+v", h)
	}
	sent("text: Order C-3 is late.")
	answer("network") // no retries: on_error → more, which reads the held "hello?"
	sent("text: you said hello?")
	if h, _ := sess.HeldCall(ctx); h != nil {
		t.Fatalf("a call still held: %+v", h)
	}
	if a, _ := script.ParseAnswer("200"); sess.AnswerCall(ctx, a) == nil {
		t.Fatal("answering with no call held: want an error")
	}
	for _, bad := range []string{"", "ok", "99", "200x"} {
		if _, err := script.ParseAnswer(bad); err == nil {
			t.Errorf("ParseAnswer(%q): want an error", bad)
		}
	}
}
