package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// faultScale is how much faster than the wall the dispatcher's clock runs
// in these tests; PARLEY_FAULTS_SCALE=1 lives through a real ten-minute
// outage (for the figures of a delivery report).
var faultScale = envFloat("PARLEY_FAULTS_SCALE", 100)

// faultCustomersN is how many customers write during the outage test
// (PARLEY_FAULTS_CUSTOMERS).
var faultCustomersN = int(envFloat("PARLEY_FAULTS_CUSTOMERS", 20))

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && v > 0 {
		return v
	}
	return def
}

// faultWorld is a Parley on loopback whose Graph API is the sandbox behind
// a faultyGraph, with the dispatcher on a clock 100 times as fast as the
// wall's: ten minutes of outage pass in six seconds.
type faultWorld struct {
	*e2e
	graph *faultyGraph
	pace  *engine.ScaledClock
}

func newFaultWorld(t *testing.T) *faultWorld {
	t.Helper()
	w := &faultWorld{pace: engine.NewScaledClock(faultScale)}
	w.e2e = newE2E(t, e2eOptions{
		flows: map[string]string{"echo.json": crashEchoFlow},
		// Parley's pacing runs fast here; the sandbox's would refuse it.
		sandbox: func(c *sandbox.Config) { c.Throughput, c.PairInterval = -1, -1 },
		serve:   func(c *serveConfig) { c.paceClock = w.pace },
	})
	w.graph = newFaultyGraph(t, w.sb.GraphURL())
	w.graphURL = w.graph.URL()
	w.quietLog = true
	w.start()
	return w
}

// paceSince waits until d has passed on the dispatcher's clock since t0.
func (w *faultWorld) paceSince(t0 time.Time, d time.Duration) {
	w.t.Helper()
	bound := e2eTimeout + time.Duration(float64(d)/faultScale)
	eventually(w.t, bound, func() bool { return w.pace.Now().Sub(t0) >= d }, "%v on the dispatcher's clock", d)
}

// readyzSays waits until /readyz answers 503 with what in its reasons.
func (w *faultWorld) readyzSays(what string) {
	w.t.Helper()
	eventually(w.t, e2eTimeout, func() bool {
		code, body := w.get("/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, what)
	}, "/readyz saying %q", what)
}

// write has each customer send its messages with the given numbers.
func (w *faultWorld) write(customers []string, from, to int) {
	for _, c := range customers {
		for i := from; i < to; i++ {
			w.says(c, sandbox.Text(fmt.Sprintf("m%d", i)))
		}
	}
}

// nothingFailed checks that no reply failed or went unknown while
// WhatsApp could not take them: all are queued or sent.
func (w *faultWorld) nothingFailed(customers []string) {
	w.t.Helper()
	for _, c := range customers {
		_, msgs := w.conversation(c)
		for _, m := range byDirection(msgs, model.Out) {
			if m.State == model.SendFailed || m.State == model.Unknown {
				w.t.Fatalf("%s: reply %q is %s (%s) during the fault", c, m.Message.Text, m.State, m.Error)
			}
		}
	}
}

// allOnceInOrder waits until every customer received the replies to its n
// messages, then checks each came once, in order.
func (w *faultWorld) allOnceInOrder(customers []string, n int) time.Duration {
	w.t.Helper()
	start := time.Now()
	eventually(w.t, e2eTimeout, func() bool {
		for _, c := range customers {
			if len(w.accepted(c)) < n {
				return false
			}
		}
		return true
	}, "every reply accepted by the sandbox")
	took := time.Since(start)
	for _, c := range customers {
		var want []string
		for i := range n {
			want = append(want, fmt.Sprintf("echo: m%d", i))
		}
		if got := sentBodies(w.accepted(c)); !slices.Equal(got, want) {
			w.t.Errorf("%s received %q, want %q: each once, in order", c, got, want)
		}
	}
	return took
}

func faultCustomers(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%04d", prefix, i)
	}
	return out
}

// A ten-minute Graph API outage — connections refused, then 503s — with
// customers writing all along: every reply is delivered once the API is
// back, in order per customer, none twice, none unknown; meanwhile
// /readyz says why Parley is not ready.
func TestFaultsGraphOutage(t *testing.T) {
	t.Parallel()
	w := newFaultWorld(t)
	customers := faultCustomers("1555300", faultCustomersN)
	w.write(customers, 0, 1)
	w.allOnceInOrder(customers, 1)
	// Every answer recorded before the API goes: one cut off on its way
	// back would rightly be unknown.
	eventually(t, e2eTimeout, func() bool {
		return !slices.ContainsFunc(customers, func(c string) bool { return !w.outboundSettled(c) })
	}, "every first reply's outcome recorded")

	t0 := w.pace.Now()
	w.graph.down()
	w.write(customers, 1, 2)
	w.readyzSays("sending paused for every number")
	w.paceSince(t0, 5*time.Minute)
	w.graph.up()
	w.graph.setFault(always(answer503))
	w.write(customers, 2, 3)
	w.paceSince(t0, 10*time.Minute)
	w.nothingFailed(customers)

	w.graph.setFault(nil)
	took := w.allOnceInOrder(customers, 3)
	t.Logf("after a 10-minute outage (%d sends answered 503, the rest refused), %d replies delivered %v after recovery (%v on the dispatcher's clock)",
		w.graph.count(answer503), 2*len(customers), took.Round(time.Millisecond), time.Duration(float64(took)*faultScale).Round(time.Second))
	if n := w.metric(`parley_sends_total{result="unknown",code=""}`); n > 0 { // -1: no such series
		t.Errorf("%v sends ended unknown, want 0", n)
	}
	eventually(t, e2eTimeout, func() bool { code, _ := w.get("/readyz"); return code == http.StatusOK }, "/readyz ready again")
}

// An access token that expires mid-run, then is renewed: nothing fails,
// sending pauses with the advice to renew it, and everything goes after.
func TestFaultsTokenExpiredThenRenewed(t *testing.T) {
	t.Parallel()
	w := newFaultWorld(t)
	customers := faultCustomers("1555301", 10)
	w.write(customers, 0, 1)
	w.allOnceInOrder(customers, 1)

	w.graph.setFault(always(tokenExpired))
	w.write(customers, 1, 3)
	w.readyzSays("access token")
	w.paceSince(w.pace.Now(), 3*time.Minute)
	_, sending := w.get("/api/v1/sending")
	if !strings.Contains(sending, `"code":190`) || !strings.Contains(sending, `"needs_action":true`) {
		t.Errorf("GET /api/v1/sending: %s", sending)
	}
	w.nothingFailed(customers)
	if strings.Contains(w.log.String(), "level=ERROR") == false {
		t.Error("the pause was not logged at ERROR")
	}

	w.graph.setFault(nil) // renewed
	w.allOnceInOrder(customers, 3)
}

// Bursts of 130429 slow the number; nothing is lost or sent twice.
func TestFaultsThroughputBursts(t *testing.T) {
	t.Parallel()
	w := newFaultWorld(t)
	customers := faultCustomers("1555302", 20)
	rng := rand.New(rand.NewPCG(1, 2))
	w.graph.setFault(func() graphFault {
		if rng.IntN(10) < 4 {
			return throughput
		}
		return passThrough
	})
	w.write(customers, 0, 3)
	w.allOnceInOrder(customers, 3)
	if w.graph.count(throughput) == 0 {
		t.Fatal("no 130429 was answered")
	}
	t.Logf("%d sends answered 130429", w.graph.count(throughput))
}

// Meta's sent, delivered and read arrive while the send's own HTTP call is
// still hanging, which then breaks without an answer: the reply ends read,
// not unknown, and is not sent again.
func TestFaultsStatusesBeforeTheOutcome(t *testing.T) {
	t.Parallel()
	w := newFaultWorld(t)
	const cus = "15553030001"
	w.graph.mu.Lock()
	w.graph.held = make(chan struct{})
	w.graph.mu.Unlock()
	first := true
	w.graph.setFault(func() graphFault {
		if first {
			first = false
			return dropAfterTaken
		}
		return passThrough
	})
	w.says(cus, sandbox.Text("m0"))
	state := func() model.MessageState {
		_, msgs := w.conversation(cus)
		if out := byDirection(msgs, model.Out); len(out) > 0 {
			return out[0].State
		}
		return ""
	}
	eventually(t, e2eTimeout, func() bool { return state() == model.Read }, "the read status processed while the send hangs (is %q)", state())
	close(w.graph.held)
	eventually(t, e2eTimeout, func() bool { return w.outboundSettled(cus) }, "the send's outcome recorded")
	if s := state(); s != model.Read {
		t.Errorf("the reply is %s after its send's outcome, want read", s)
	}
	if n := len(w.accepted(cus)); n != 1 {
		t.Errorf("the sandbox took the reply %d times, want once", n)
	}
}

// SIGTERM while a send hangs on the wire: -shutdown-timeout bounds the
// stop (it used to take the send's own 30 s timeout). The cut-off send is
// recorded unknown — Meta may have it — and never sent again.
func TestFaultsShutdownCutsOffAHungSend(t *testing.T) {
	t.Parallel()
	const shutdown = 2 * time.Second
	gate := &sendGate{open: make(chan struct{})}
	h := newE2E(t, e2eOptions{
		flows: map[string]string{"ack.json": e2eAckFlow}, webhookRetries: -1,
		front: func(sb http.Handler) http.Handler { gate.next = sb; return gate },
		serve: func(c *serveConfig) { c.shutdownTimeout = shutdown },
	})
	h.start()
	const cus = "15553040001"
	h.customer(cus, "Cus")
	h.says(cus, sandbox.Text("hi"))
	eventually(t, e2eTimeout, func() bool { return gate.held.Load() == 1 }, "the reply hanging on the wire")

	start := time.Now()
	h.stop()
	// The bound is the point of the test: well under the send's own 30 s
	// timeout, with room for a busy machine.
	if took := time.Since(start); took > shutdown+5*time.Second {
		t.Errorf("stopping took %v with -shutdown-timeout %v", took, shutdown)
	}
	if !strings.Contains(h.log.String(), "cutting off the sends still on the wire") {
		t.Error("the cut-off was not logged")
	}
	close(gate.open) // WhatsApp answers again
	st := h.openStore()
	convs, err := st.Conversations(t.Context(), h.key(cus))
	if err != nil || len(convs) != 1 {
		t.Fatalf("conversations: %d, %v", len(convs), err)
	}
	msgs, err := st.Transcript(t.Context(), convs[0].ID)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if out := byDirection(msgs, model.Out); len(out) != 1 || out[0].State != model.Unknown {
		t.Fatalf("the cut-off reply is %v, want unknown", msgStates(out))
	}

	h.start()
	h.says("15553040002", sandbox.Text("other"))
	h.waitAccepted("15553040002", 1)
	if n := gate.held.Load(); n != 2 {
		t.Errorf("%d sends reached the wire, want 2: the cut-off one was sent again", n)
	}
}
