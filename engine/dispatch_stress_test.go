package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp"
)

// randomFaults fails a share of sends at random with errors the
// dispatcher retries.
type randomFaults struct {
	mu       sync.Mutex
	rng      *rand.Rand
	accepted map[string]int
}

func (s *randomFaults) Send(_ context.Context, m *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch n := s.rng.IntN(100); {
	case n < 5:
		return whatsapp.SendResult{}, &whatsapp.APIError{HTTPStatus: 503}
	case n < 8:
		return whatsapp.SendResult{}, &whatsapp.APIError{HTTPStatus: 429}
	case n < 11:
		return whatsapp.SendResult{}, &whatsapp.APIError{HTTPStatus: 400, Code: 130429}
	}
	s.accepted[m.To+"|"+m.Text.Body]++
	return whatsapp.SendResult{WAMID: fmt.Sprintf("wamid.%d", len(s.accepted))}, nil
}

// Random retryable faults among many concurrent sends: every reply goes
// out once in the end.
func TestRandomFaultsLoseNothing(t *testing.T) {
	h := newHarness(t, echoFlow)
	sender := &randomFaults{rng: rand.New(rand.NewPCG(7, 8)), accepted: map[string]int{}}
	d := runDispatcher(t, h.eng, sender)
	const customers, each = 100, 4
	var wg sync.WaitGroup
	for c := range customers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wa := fmt.Sprintf("1555400%04d", c)
			h.say(wa, "hi")
			for i := range each {
				h.say(wa, fmt.Sprint(i))
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(time.Minute)
	for h.outboxLen() > 0 {
		if time.Now().After(deadline) {
			items, _ := h.store.Outbox(h.ctx, 0, 5)
			for _, it := range items {
				t.Logf("left: %d %s %s %q", it.Seq, it.Message.Conversation, it.Message.State, it.Message.Error)
			}
			t.Fatalf("the outbox did not drain; the dispatcher:\n%s", d.DebugState())
		}
		time.Sleep(2 * time.Millisecond)
	}
	sender.mu.Lock()
	defer sender.mu.Unlock()
	if len(sender.accepted) != customers*each {
		t.Errorf("%d distinct replies accepted, want %d", len(sender.accepted), customers*each)
	}
	for k, n := range sender.accepted {
		if n != 1 {
			t.Errorf("%s accepted %d times", k, n)
		}
	}
}
