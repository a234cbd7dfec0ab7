package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp"
)

// faultySender is a Graph API that fails every send with fault while it is
// set, and accepts them once it is cleared. It records what it accepted and
// the most sends it had on the wire at once while failing.
type faultySender struct {
	mu       sync.Mutex
	fault    error
	accepted []*whatsapp.OutboundMessage
	tries    int
	onWire   int
	mostOn   int // most sends on the wire at once while failing
	countOn  bool
}

func (s *faultySender) set(fault error) {
	s.mu.Lock()
	s.fault, s.countOn, s.mostOn = fault, fault != nil, 0
	s.mu.Unlock()
}

func (s *faultySender) Send(_ context.Context, m *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	s.mu.Lock()
	s.tries++
	fault := s.fault
	if fault == nil {
		s.accepted = append(s.accepted, m)
		n := len(s.accepted)
		s.mu.Unlock()
		return whatsapp.SendResult{WAMID: fmt.Sprintf("wamid.ok.%d", n)}, nil
	}
	s.onWire++
	s.mostOn = max(s.mostOn, s.onWire)
	s.mu.Unlock()
	time.Sleep(time.Millisecond) // on the wire for a moment, so overlapping probes would show
	s.mu.Lock()
	s.onWire--
	s.mu.Unlock()
	return whatsapp.SendResult{}, fault
}

// sinceNow forgets how many sends were on the wire at once so far.
func (s *faultySender) sinceNow() {
	s.mu.Lock()
	s.mostOn = 0
	s.mu.Unlock()
}

func (s *faultySender) stats() (tries, mostOn int, accepted []*whatsapp.OutboundMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries, s.mostOn, append([]*whatsapp.OutboundMessage(nil), s.accepted...)
}

// runDispatcher runs a dispatcher on a clock 500 times as fast as the
// wall's until the test ends.
func runDispatcher(t *testing.T, eng *engine.Engine, sender engine.Sender) *engine.Dispatcher {
	t.Helper()
	d := eng.NewDispatcher(engine.DispatchOptions{Sender: sender, Poll: 2 * time.Millisecond, Clock: engine.NewScaledClock(500)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dispatcher: %v", err)
		}
	})
	return d
}

// waitFor polls cond until it holds, failing the test after a generous
// bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *harness) outboxLen() int {
	h.t.Helper()
	items, err := h.store.Outbox(h.ctx, 0, 100000)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(items)
}

// While WhatsApp cannot take sends — unreachable, failing, or refusing
// the number's or the account's sends — nothing queued fails or is lost:
// sending pauses, one probe at a time asks whether it is over, and once it
// is every reply goes out, in order per customer, exactly once.
func TestFaultsPauseAndLoseNothing(t *testing.T) {
	cases := []struct {
		name        string
		fault       error
		number      string // the pause's scope
		needsAction bool
	}{
		{"connection refused", &whatsapp.TransportError{Method: "POST", Path: "/messages", Err: syscall.ECONNREFUSED}, engine.AllNumbers, false},
		{"HTTP 503 without Meta's envelope", &whatsapp.APIError{HTTPStatus: 503, Message: "<html>down</html>"}, engine.AllNumbers, false},
		{"temporarily unavailable (2)", &whatsapp.APIError{HTTPStatus: 503, Code: 2}, engine.AllNumbers, false},
		{"access token expired (190)", &whatsapp.APIError{HTTPStatus: 401, Code: 190, Message: "Error validating access token"}, engine.AllNumbers, true},
		{"account locked (131031)", &whatsapp.APIError{HTTPStatus: 400, Code: 131031}, engine.AllNumbers, true},
		{"payment problem (131042)", &whatsapp.APIError{HTTPStatus: 400, Code: 131042}, engine.AllNumbers, true},
		{"policy block (368)", &whatsapp.APIError{HTTPStatus: 403, Code: 368}, engine.AllNumbers, true},
		{"throughput (130429)", &whatsapp.APIError{HTTPStatus: 400, Code: 130429}, phone, false},
		{"number not registered (133010)", &whatsapp.APIError{HTTPStatus: 400, Code: 133010}, phone, true},
	}
	const customers, each = 8, 3
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, echoFlow)
			sender := &faultySender{}
			sender.set(tc.fault)
			d := runDispatcher(t, h.eng, sender)
			for c := range customers {
				h.say(fmt.Sprintf("1555000%04d", c), "hi") // starts the flow, which waits
				for i := range each {
					h.say(fmt.Sprintf("1555000%04d", c), fmt.Sprint(i))
				}
			}
			waitFor(t, "a pause", func() bool { return len(d.Pauses()) > 0 })
			p := d.Pauses()[0]
			if p.Number != tc.number || p.NeedsAction != tc.needsAction || p.Action == "" {
				t.Errorf("pause %+v, want number %q, needs action %v, and an action", p, tc.number, tc.needsAction)
			}
			// Probes go on, one at a time, and nothing fails meanwhile
			// (counted from the second probe: sends already on the wire
			// when the pause began are long done by then).
			waitFor(t, "two failed probes", func() bool { ps := d.Pauses(); return len(ps) > 0 && ps[0].Probes >= 2 })
			sender.sinceNow()
			tries, _, _ := sender.stats()
			waitFor(t, "three more probes", func() bool { n, _, _ := sender.stats(); return n >= tries+3 })
			if _, most, _ := sender.stats(); most > 1 {
				t.Errorf("%d sends on the wire at once while paused, want one probe at a time", most)
			}
			if n := h.outboxLen(); n != customers*each {
				t.Fatalf("%d messages queued while paused, want all %d", n, customers*each)
			}

			sender.set(nil) // renewed, unlocked, back up
			waitFor(t, "the outbox drained", func() bool { return h.outboxLen() == 0 })
			waitFor(t, "the pause lifted", func() bool { return len(d.Pauses()) == 0 })
			_, _, accepted := sender.stats()
			if len(accepted) != customers*each {
				t.Fatalf("%d sends accepted, want %d", len(accepted), customers*each)
			}
			got := map[string][]string{}
			for _, m := range accepted {
				got[m.To] = append(got[m.To], m.Text.Body)
			}
			for c := range customers {
				to := fmt.Sprintf("1555000%04d", c)
				if want := []string{"you said 0", "you said 1", "you said 2"}; fmt.Sprint(got[to]) != fmt.Sprint(want) {
					t.Errorf("%s got %q, want %q: each once, in order", to, got[to], want)
				}
			}
		})
	}
}

// A free-form reply that WhatsApp could not take before the customer's
// 24-hour window closed is not sent late: it takes the window-closed path.
func TestOutageOutlastingTheWindow(t *testing.T) {
	h := newHarness(t, echoFlow)
	sender := &faultySender{}
	sender.set(&whatsapp.APIError{HTTPStatus: 502})
	d := runDispatcher(t, h.eng, sender)
	h.say("15550001111", "hi")
	out := h.say("15550001111", "one")
	waitFor(t, "a pause", func() bool { return len(d.Pauses()) > 0 })
	h.clock.Advance(24 * time.Hour)
	waitFor(t, "the reply out of the outbox", func() bool { return h.outboxLen() == 0 })
	if _, _, accepted := sender.stats(); len(accepted) != 0 {
		t.Fatalf("sent after the window closed: %+v", accepted)
	}
	tr := transcript(t, h, out.Conversation)
	last := tr[len(tr)-1]
	for _, m := range tr {
		if m.Direction == model.Out {
			last = m
		}
	}
	if last.State != model.SendFailed || last.ErrorCode != engine.CodeWindowClosed {
		t.Errorf("the reply is %s (%d %q), want failed with the window closed", last.State, last.ErrorCode, last.Error)
	}
}

// gatedSender holds every send until released, then answers with res/err.
type gatedSender struct {
	held    atomic.Int32
	release chan struct{}
	res     whatsapp.SendResult
	err     error
	tries   atomic.Int32
}

func (s *gatedSender) Send(ctx context.Context, _ *whatsapp.OutboundMessage) (whatsapp.SendResult, error) {
	s.tries.Add(1)
	s.held.Add(1)
	<-s.release
	return s.res, s.err
}

// Meta's statuses can overtake the send's own answer (its HTTP call hangs,
// times out, or answers late): the message's state only moves forward, so
// it ends read, and a send whose outcome is unknown is never repeated.
func TestStatusesOvertakingTheOutcome(t *testing.T) {
	cases := []struct {
		name string
		res  whatsapp.SendResult
		err  error
	}{
		{"the call then times out", whatsapp.SendResult{}, &whatsapp.TransportError{Method: "POST", Written: true, Err: context.DeadlineExceeded}},
		{"the call then answers", whatsapp.SendResult{WAMID: "wamid.race"}, nil},
		{"the call then answers 503", whatsapp.SendResult{}, &whatsapp.APIError{HTTPStatus: 503}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, echoFlow)
			sender := &gatedSender{release: make(chan struct{}), res: tc.res, err: tc.err}
			runDispatcher(t, h.eng, sender)
			h.say("15550002222", "hi")
			out := h.say("15550002222", "one")
			waitFor(t, "the send on the wire", func() bool { return sender.held.Load() == 1 })
			reply := outbound(t, h, out.Conversation)
			cb := fmt.Sprintf("%s|%d|answer", reply.Conversation, reply.Seq)
			for _, st := range []string{whatsapp.StatusSent, whatsapp.StatusDelivered, whatsapp.StatusRead} {
				if err := h.eng.HandleStatus(h.ctx, &whatsapp.Status{ID: "wamid.race", Status: st, BizOpaqueCallbackData: cb}); err != nil {
					t.Fatal(err)
				}
			}
			close(sender.release)
			waitFor(t, "the outbox drained", func() bool { return h.outboxLen() == 0 })
			m := outbound(t, h, out.Conversation)
			if m.State != model.Read || m.WAMID != "wamid.race" {
				t.Errorf("the reply is %s (%s), want read", m.State, m.WAMID)
			}
			if n := sender.tries.Load(); n != 1 {
				t.Errorf("%d sends, want 1", n)
			}
		})
	}
}

// Statuses are matched by the wamid Meta gave as well as by the callback
// data Parley sent: one without callback data still lands, and one whose
// wamid contradicts its callback data is ignored.
func TestStatusesMatchedByWAMID(t *testing.T) {
	h := newHarness(t, echoFlow)
	sender := &recordingSender{}
	h.say("15550003333", "hi")
	out := h.say("15550003333", "one")
	drain(t, h.eng, sender)
	m := outbound(t, h, out.Conversation)
	if m.WAMID == "" {
		t.Fatal("no wamid recorded")
	}
	cb := fmt.Sprintf("%s|%d|answer", m.Conversation, m.Seq)
	steps := []struct {
		st   whatsapp.Status
		want model.MessageState
	}{
		{whatsapp.Status{ID: m.WAMID, Status: whatsapp.StatusDelivered}, model.Delivered},                             // no callback data
		{whatsapp.Status{ID: "wamid.other", Status: whatsapp.StatusRead, BizOpaqueCallbackData: cb}, model.Delivered}, // mismatch: ignored
		{whatsapp.Status{ID: m.WAMID, Status: whatsapp.StatusRead, BizOpaqueCallbackData: cb}, model.Read},
		{whatsapp.Status{ID: m.WAMID, Status: whatsapp.StatusDelivered}, model.Read}, // late: forward only
	}
	for i, s := range steps {
		if err := h.eng.HandleStatus(h.ctx, &s.st); err != nil {
			t.Fatal(err)
		}
		if got := outbound(t, h, out.Conversation).State; got != s.want {
			t.Errorf("step %d (%s %s): state %s, want %s", i, s.st.Status, s.st.ID, got, s.want)
		}
	}
}

// outbound is a conversation's first outbound message.
func outbound(t *testing.T, h *harness, conv string) *model.Message {
	t.Helper()
	for _, m := range transcript(t, h, conv) {
		if m.Direction == model.Out {
			return m
		}
	}
	t.Fatalf("no outbound message in %s", conv)
	return nil
}

// An admin's resume ends a pause at once; should the cause remain, the
// next send pauses again.
func TestAdminResume(t *testing.T) {
	h := newHarness(t, echoFlow)
	sender := &faultySender{}
	sender.set(&whatsapp.APIError{HTTPStatus: 401, Code: 190})
	d := runDispatcher(t, h.eng, sender)
	h.say("15550004444", "hi")
	h.say("15550004444", "one")
	waitFor(t, "a pause", func() bool { return len(d.Pauses()) > 0 })
	if ended := d.Resume(engine.AllNumbers); len(ended) != 1 || !strings.Contains(ended[0].Action, "token") {
		t.Fatalf("resume ended %+v", ended)
	}
	waitFor(t, "paused again", func() bool { return len(d.Pauses()) > 0 })
	sender.set(nil)
	d.Resume(engine.AllNumbers)
	waitFor(t, "the outbox drained", func() bool { return h.outboxLen() == 0 })
}
