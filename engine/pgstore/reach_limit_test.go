package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/pgstore"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// reach commits a reach of contact at at with limit.
func reach(t *testing.T, st model.Store, contact string, at int, limit int) error {
	return st.Commit(t.Context(), &model.Change{At: t0, Reached: []model.Reach{{
		Scope: model.ReachScope, At: t0.Add(time.Duration(at) * time.Hour), Contact: model.ContactKey(contact), Limit: limit}}})
}

// TestReachLimitAcrossProcesses: two processes racing to reach more
// distinct contacts than the limit record exactly the limit; the rest are
// refused with ErrOverLimit and record nothing.
func TestReachLimitAcrossProcesses(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	const limit, each = 20, 40
	var ok, over atomic.Int32
	var wg sync.WaitGroup
	for p, st := range []model.Store{a, b} {
		for w := range 4 { // several senders in each process
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < each; i += 4 {
					err := reach(t, st, fmt.Sprintf("100:p%d-%d", p, i), 0, limit)
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, model.ErrOverLimit):
						over.Add(1)
					default:
						t.Error(err)
					}
				}
			}()
		}
	}
	wg.Wait()
	if ok.Load() != limit || over.Load() != 2*each-limit {
		t.Errorf("reached %d, refused %d; want %d and %d", ok.Load(), over.Load(), limit, 2*each-limit)
	}
	n, _, err := a.ReachCount(t.Context(), model.ReachScope, t0.Add(-model.LimitWindow))
	if err != nil || n != limit {
		t.Fatalf("ReachCount = %d, %v; want %d", n, err, limit)
	}
}

// TestReachLimitRules: at the limit, a contact already reached in the
// window may be reached again, a new one may not; a reach without Limit is
// recorded whatever the count; a place frees when the oldest reach leaves
// the window.
func TestReachLimitRules(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	if err := reach(t, a, "100:1", 0, 2); err != nil {
		t.Fatal(err)
	}
	if err := reach(t, b, "100:2", 1, 2); err != nil {
		t.Fatal(err)
	}
	if err := reach(t, a, "100:3", 2, 2); !errors.Is(err, model.ErrOverLimit) {
		t.Fatalf("a third contact = %v, want ErrOverLimit", err)
	}
	if err := reach(t, b, "100:1", 2, 2); err != nil {
		t.Fatalf("a contact reached in the window again = %v", err)
	}
	if err := reach(t, b, "100:4", 2, 0); err != nil {
		t.Fatalf("a reach without a limit = %v", err)
	}
	// 24 h after the first reach of 100:2 (hour 1), only 100:1 (hour 2)
	// and 100:4 (hour 2) are in the window: full for a limit of 2, and a
	// limit of 3 has a place.
	if err := reach(t, a, "100:5", 25, 2); !errors.Is(err, model.ErrOverLimit) {
		t.Fatalf("at hour 25, limit 2 = %v, want ErrOverLimit", err)
	}
	if err := reach(t, a, "100:5", 25, 3); err != nil {
		t.Fatalf("at hour 25, limit 3 = %v", err)
	}
	if ok, err := b.ReachedSince(t.Context(), model.ReachScope, "100:3", t0); err != nil || ok {
		t.Fatalf("the refused reach was recorded (%v, %v)", ok, err)
	}
}

// countingSender accepts every message and counts them.
type countingSender struct{ n atomic.Int32 }

func (s *countingSender) Send(context.Context, *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	n := s.n.Add(1)
	return whatsapp.SendResult{WAMID: fmt.Sprintf("wamid.out.%d", n)}, nil
}

// TestMessagingLimitTwoEngines: two engines, as two processes on one
// database, each queue templates to their own new customers, twice the
// limit in all, and dispatch them at once: exactly the limit is sent, the
// rest are held (queued, with the reason) however the two race.
func TestMessagingLimitTwoEngines(t *testing.T) {
	testURL(t)
	a, b := twoHandles(t)
	ctx := t.Context()
	const limit, each = 5, 5
	tpls := templates.NewSet(model.TemplateInfo{Name: "reminder", Language: "en_US", Category: "UTILITY", Status: model.TemplateApproved})
	sender := &countingSender{}
	var engs []*engine.Engine
	for p, st := range []*pgstore.Store{a, b} {
		e, err := engine.New(ctx, engine.Options{Store: st, Templates: tpls, Logger: slog.New(slog.DiscardHandler), MessagingLimit: limit})
		if err != nil {
			t.Fatal(err)
		}
		engs = append(engs, e)
		for i := range each {
			in := consent.ContactInput{PhoneNumberID: "100", WaID: fmt.Sprintf("1555000%d%03d", p, i),
				Consent: &consent.Input{OptedIn: true, At: time.Now(), Source: "web_form"}}
			if _, _, err := e.SaveContact(ctx, in, "test"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.SendTemplateOnce(ctx, engine.Initiation{Contact: in.Key(), DedupeKey: "t:" + string(in.Key())},
				flows.TemplateSend{Name: "reminder", Language: "en_US"}); err != nil {
				t.Fatalf("queueing for %s: %v", in.Key(), err)
			}
		}
	}
	dctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, e := range engs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = e.NewDispatcher(engine.DispatchOptions{Sender: sender, Poll: 5 * time.Millisecond, LimitRecheck: 5 * time.Millisecond}).Run(dctx)
		}()
	}
	defer func() { cancel(); wg.Wait() }()
	held := func() int {
		items, err := a.Outbox(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range items {
			if strings.HasPrefix(it.Message.Error, "held: messaging limit") {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(time.Minute) // a bound for a busy machine, not a timing
	for held() != 2*each-limit {
		if n := sender.n.Load(); n > limit {
			t.Fatalf("%d sent, over the limit %d", n, limit)
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %d sent, %d held", sender.n.Load(), held())
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // rechecked several times, still held
	if n := sender.n.Load(); n != limit {
		t.Fatalf("%d sent, want the limit %d", n, limit)
	}
	n, _, err := b.ReachCount(ctx, model.ReachScope, time.Now().Add(-model.LimitWindow))
	if err != nil || n != limit {
		t.Fatalf("ReachCount = %d, %v; want %d", n, err, limit)
	}
	for _, e := range engs {
		if n, _, err := e.ReachUsage(ctx); err != nil || n != limit {
			t.Errorf("ReachUsage = %d, %v; want %d", n, err, limit)
		}
	}
}

// BenchmarkReserveReach is the commit of one reach with a Limit (the
// dispatcher's claim on a shared store) with 100,000 unique customers
// reached in the window: without a Limit (one process), for the 250
// tier, and for a limit past 100,000, whose
// check counts every one of them.
func BenchmarkReserveReach(b *testing.B) {
	testURL(b)
	for _, limit := range []int{0, 250, 200_000} {
		b.Run(fmt.Sprint(limit), func(b *testing.B) {
			st := openAt(b, filepath.Join(b.TempDir(), "db"))
			b.Cleanup(func() { st.Close() })
			if _, err := st.Pool().Exec(b.Context(), `INSERT INTO reach (scope, at_ns, contact) SELECT $1, $2::bigint + i, '100:' || i FROM generate_series(1, 100000) i`,
				model.ReachScope, t0.UnixNano()); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				err := st.Commit(b.Context(), &model.Change{At: t0, Reached: []model.Reach{{
					Scope: model.ReachScope, At: t0.Add(time.Hour), Contact: model.ContactKey(fmt.Sprintf("200:%d", i)), Limit: limit}}})
				if err != nil && !errors.Is(err, model.ErrOverLimit) {
					b.Fatal(err)
				}
			}
		})
	}
}
