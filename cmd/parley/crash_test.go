package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// crashEchoFlow answers every customer message with exactly one text that
// carries the message's own text, so each reply names its message.
const crashEchoFlow = `{
  "format": "parley/flow@1",
  "id": "echo",
  "name": "Echo",
  "language": "en_US",
  "start": "echo",
  "triggers": [{"type": "any"}],
  "nodes": [
    {"id": "echo", "type": "auto_reply", "rules": [],
     "default": {"reply": {"type": "text", "text": "echo: {{ reply.text }}"}}}
  ]
}`

// TestCrashRecovery runs `parley serve` as a subprocess against a sandbox
// that lives in the test (the witness that survives Parley's deaths),
// drives signed webhooks at it from many customers, SIGKILLs it at random
// moments while traffic flows and restarts it on the same data directory,
// several times, while the Graph API in front of the sandbox fails now and
// then (faultyGraph: 5xx, 429, 130429, resets, answers that never come).
// Webhooks not acknowledged are redelivered, as Meta would.
// Then it checks docs/design.md's invariants against the sandbox's log and
// Parley's store:
//
//  1. every acknowledged webhook was processed exactly once: one inbound
//     message in the transcript, one reply; a reply whose send was cut by a
//     kill is marked unknown and not sent again;
//  2. the sandbox accepted no reply twice;
//  3. a webhook that was not acknowledged was processed at most once,
//     however often it was redelivered;
//  4. every send that failed unambiguously was sent in the end: nothing is
//     left queued, and no reply failed.
//
// PARLEY_CRASH_SEED replays a run; PARLEY_CRASH_ROUNDS changes the number
// of kills.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a Parley subprocess; skipped with -short")
	}
	crashRecovery(t, "")
}

// TestCrashRecoveryPostgres is TestCrashRecovery on PostgreSQL
// (PARLEY_STORE), in a schema of its own of PARLEY_TEST_POSTGRES's
// database.
func TestCrashRecoveryPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a Parley subprocess; skipped with -short")
	}
	crashRecovery(t, testPostgresURL(t))
}

// crashRecovery is TestCrashRecovery on the store storeURL names (""
// for the bbolt file).
func crashRecovery(t *testing.T, storeURL string) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PARLEY_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal("PARLEY_CRASH_SEED:", err)
		}
		seed = v
	}
	rounds := 8
	if s := os.Getenv("PARLEY_CRASH_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	t.Logf("seed %d (PARLEY_CRASH_SEED=%d replays it), %d kills", seed, seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	dir := t.TempDir()
	bin := filepath.Join(dir, "parley")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	flowsDir := filepath.Join(dir, "flows")
	dataDir := filepath.Join(dir, "data")
	if err := os.MkdirAll(flowsDir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(flowsDir, "echo.json"), []byte(crashEchoFlow), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := crashFreeAddr(t)
	webhookURL := "http://" + addr + "/webhook/whatsapp"

	sb := sandbox.New(sandbox.Config{
		WebhookURL:     webhookURL,
		Throughput:     -1, // Parley's own pacing is not under test here
		PairInterval:   -1,
		StatusDelay:    10 * time.Millisecond,
		WebhookRetries: 3,
		WebhookBackoff: 50 * time.Millisecond,
		WebhookTimeout: 5 * time.Second,
	})
	if _, err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	// The Graph API misbehaves as well: 503s and 429s without Meta's
	// envelope, 130429s, connections reset, and sends the sandbox took
	// whose answer never came. The first four must be sent in the end,
	// the last is ambiguous (unknown, never sent again).
	graph := newFaultyGraph(t, sb.GraphURL())
	faultRNG := rand.New(rand.NewPCG(seed, 0xfa17))
	graph.setFault(func() graphFault {
		switch n := faultRNG.IntN(100); {
		case n < 2:
			return answer503
		case n < 3:
			return answer429
		case n < 5:
			return throughput
		case n < 7:
			return resetUnsent
		case n < 9:
			return dropAfterTaken
		}
		return passThrough
	})

	const (
		customers   = 625
		perCustomer = 8 // within the dispatcher's pair-rate burst (10)
		workers     = 12
		rate        = 500 // fresh messages per second
	)
	total := customers * perCustomer
	lg := loadgenConfig{URL: webhookURL, Secret: sandbox.DefaultAppSecret, PhoneNumberID: sandbox.DefaultPhoneNumberID,
		Customers: customers, Texts: []string{"msg {id}"}, RunID: "crash"}
	lg.setDefaults()
	for i := range customers {
		wa, _ := lg.lgCustomer(i)
		sb.SetLastInbound(wa, time.Now()) // the window is open: they are writing
	}

	// The Parley process.
	logPath := filepath.Join(dir, "parley.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	var proc *exec.Cmd
	var exited chan error
	running := false // proc started and its exit not yet received
	startParley := func(round int) {
		t.Helper()
		fmt.Fprintf(logFile, "\n===== start %d =====\n", round)
		cmd := exec.Command(bin, "serve", "-addr", addr, "-rate", "100000", "-log-level", "warn", "-shutdown-timeout", "10s")
		cmd.Env = append(os.Environ(),
			"WHATSAPP_API_URL="+graph.URL(),
			"WHATSAPP_ACCESS_TOKEN="+sandbox.DefaultAccessToken,
			"WHATSAPP_APP_SECRET="+sandbox.DefaultAppSecret,
			"WHATSAPP_PHONE_NUMBER_ID="+sandbox.DefaultPhoneNumberID,
			"WHATSAPP_WABA_ID="+sandbox.DefaultWABAID,
			"WHATSAPP_VERIFY_TOKEN=crash-verify",
			"PARLEY_DATA="+dataDir,
			"PARLEY_FLOWS="+flowsDir,
			"PARLEY_STORE="+storeURL,
		)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		proc, exited, running = cmd, done, true
		deadline := time.Now().Add(e2eTimeout)
		for {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
			select {
			case err := <-done:
				running = false
				t.Fatalf("parley exited at start %d: %v\n%s", round, err, crashTail(logPath))
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("parley not ready after 20 s (start %d)\n%s", round, crashTail(logPath))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Cleanup(func() {
		if running {
			_ = proc.Process.Signal(syscall.SIGKILL)
			<-exited
		}
	})

	// Traffic: fresh messages at rate, redeliveries of what was not
	// acknowledged, and now and then a redelivery of what was.
	msgs := make([]*lgMessage, total)
	for n := range total {
		msgs[n] = lg.lgBuild(n, time.Now())
	}
	var (
		mu          sync.Mutex
		acked       = make([]bool, total)
		failedPosts = make([]int, total)       // posts not answered 200
		redeliver   []int                      // not acknowledged: Meta posts them again
		again       []int                      // acknowledged, posted again all the same
		okPostAt    = make([]time.Time, total) // start of the post answered 200
		nextFresh   int
		errKinds    = map[string]int{}
		posts       atomic.Int64
		dupPosts    atomic.Int64
	)
	var up atomic.Bool
	freshOn := make(chan struct{}) // closed: fresh traffic may start
	var stopFresh, stopAll atomic.Bool
	hc := lgClient(workers, 5*time.Second)
	trafficStart := time.Now()
	pick := func(r *rand.Rand) (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		freshDue := !stopFresh.Load() && nextFresh < total &&
			time.Since(trafficStart) >= time.Duration(float64(nextFresh)/rate*float64(time.Second))
		if len(redeliver) > 0 && (!freshDue || r.IntN(2) == 0) {
			i := r.IntN(len(redeliver))
			n := redeliver[i]
			redeliver[i] = redeliver[len(redeliver)-1]
			redeliver = redeliver[:len(redeliver)-1]
			return n, false
		}
		if len(again) > 0 && !freshDue {
			n := again[0]
			again = again[1:]
			return n, true
		}
		if freshDue {
			nextFresh++
			return nextFresh - 1, false
		}
		return -1, false
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			<-freshOn
			for !stopAll.Load() {
				if !up.Load() {
					time.Sleep(2 * time.Millisecond)
					continue
				}
				n, dup := pick(r)
				if n < 0 {
					time.Sleep(time.Millisecond)
					continue
				}
				m := msgs[n]
				posts.Add(1)
				if dup {
					dupPosts.Add(1)
				}
				t0 := time.Now()
				status, err := lgPost(context.Background(), hc, lg.URL, m.Body, m.Sig)
				mu.Lock()
				if status == http.StatusOK {
					if !acked[n] {
						acked[n], okPostAt[n] = true, t0
						if !dup && r.IntN(20) == 0 {
							again = append(again, n)
						}
					}
				} else {
					failedPosts[n]++
					if !acked[n] {
						redeliver = append(redeliver, n)
					}
					kind := "HTTP " + strconv.Itoa(status)
					if err != nil {
						kind = lgErrorKind(err)
					}
					errKinds[kind]++
				}
				mu.Unlock()
				if status != http.StatusOK {
					// Meta backs off before posting again.
					time.Sleep(time.Duration(2+r.IntN(5)) * time.Millisecond)
				}
			}
		}()
	}

	// Kill rounds.
	for round := 1; round <= rounds; round++ {
		startParley(round)
		up.Store(true)
		if round == 1 {
			close(freshOn)
		}
		// Mostly while traffic flows; sometimes just after the start, while
		// the dispatcher is settling and reading the outbox.
		d := time.Duration(150+rng.IntN(1200)) * time.Millisecond
		if rng.IntN(5) == 0 {
			d = time.Duration(rng.IntN(60)) * time.Millisecond
		}
		time.Sleep(d)
		how := "SIGKILL"
		if rng.IntN(4) == 0 {
			// A stop that runs out of time: SIGTERM, then SIGKILL in the
			// middle of the graceful shutdown, as an orchestrator does.
			grace := time.Duration(rng.IntN(80)) * time.Millisecond
			how = fmt.Sprintf("SIGTERM, SIGKILL %v later", grace)
			_ = proc.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-exited:
				exited <- err
				how = fmt.Sprintf("SIGTERM (stopped within %v)", grace)
			case <-time.After(grace):
			}
		}
		_ = proc.Process.Signal(syscall.SIGKILL)
		<-exited
		running = false
		up.Store(false)
		mu.Lock()
		t.Logf("kill %d, %v after the start (%s): %d messages posted so far", round, d, how, nextFresh)
		mu.Unlock()
	}

	// The last life: no more fresh messages; everything not acknowledged
	// is redelivered until it is.
	startParley(rounds + 1)
	up.Store(true)
	// The last life takes the rest of the traffic: every message is posted.
	deadline := time.Now().Add(e2eTimeout)
	for {
		mu.Lock()
		posted := nextFresh
		mu.Unlock()
		if posted == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d messages posted after %v", posted, total, e2eTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopFresh.Store(true)
	deadline = time.Now().Add(e2eTimeout)
	for {
		mu.Lock()
		pending := 0
		for n := range nextFresh {
			if !acked[n] {
				pending++
			}
		}
		mu.Unlock()
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d webhooks still not acknowledged after %v\n%s", pending, e2eTimeout, crashTail(logPath))
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopAll.Store(true)
	wg.Wait()

	// Let Parley drain its outbox, then stop it gracefully.
	t.Logf("all acknowledged after %v", time.Since(trafficStart).Round(time.Millisecond))
	if err := crashWaitDrained("http://"+addr, e2eTimeout); err != nil {
		t.Fatalf("%v\n%s", err, crashTail(logPath))
	}
	drainedAt := time.Now()
	t.Logf("outbox drained after %v", drainedAt.Sub(trafficStart).Round(time.Millisecond))
	drainCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = sb.Drain(drainCtx) // status webhooks; not required for the checks
	cancel()
	t.Logf("sandbox drained after %v", time.Since(trafficStart).Round(time.Millisecond))
	_ = proc.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		running = false
		if err != nil {
			t.Errorf("parley did not stop cleanly on SIGTERM: %v\n%s", err, crashTail(logPath))
		}
	case <-time.After(e2eTimeout):
		t.Fatalf("parley did not stop within %v of SIGTERM\n%s", e2eTimeout, crashTail(logPath))
	}

	// The evidence.
	mu.Lock()
	sentN := nextFresh
	redelivered := 0
	for n := range sentN {
		if failedPosts[n] > 0 {
			redelivered++
		}
	}
	t.Logf("traffic: %d messages from %d customers, %d posts (%d redeliveries of acknowledged ones), %d messages needed redelivery; failed posts: %v",
		sentN, customers, posts.Load(), dupPosts.Load(), redelivered, errKinds)
	mu.Unlock()

	// What the sandbox accepted, by message.
	type acceptance struct {
		wamids []string
		at     time.Time
	}
	accepted := map[int]*acceptance{}
	stray := 0
	for _, e := range sb.Accepted() {
		n, ok := crashToken(e.Body)
		if !ok {
			stray++
			t.Errorf("the sandbox accepted a send that answers no message: %q", e.Body)
			continue
		}
		a := accepted[n]
		if a == nil {
			a = &acceptance{}
			accepted[n] = a
		}
		a.wamids = append(a.wamids, e.WAMID)
		a.at = e.Time
	}
	if rej := sb.Rejected(); len(rej) > 0 {
		t.Errorf("the sandbox refused %d sends, first: %+v", len(rej), rej[0])
	}

	// What Parley's store says, by message.
	ctx := context.Background()
	st, err := openServeStore(ctx, storeURL, dataDir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Nothing may be left queued: every unambiguous failure was sent in
	// the end.
	if left, err := st.Outbox(ctx, 0, 100); err != nil {
		t.Fatal(err)
	} else if len(left) > 0 {
		for _, it := range left[:min(5, len(left))] {
			t.Errorf("still queued after the drain (at %s): outbox %d of %s, queued at %s, last error %q", drainedAt.Format("15:04:05.000"),
				it.Seq, it.Message.Conversation, it.Message.At.Format("15:04:05.000"), it.Message.Error)
		}
	}
	inbound := map[int]int{}
	replies := map[int][]*model.Message{}
	for i := range customers {
		_, uid := lg.lgCustomer(i)
		convs, err := st.Conversations(ctx, model.NewContactKey(sandbox.DefaultPhoneNumberID, uid))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range convs {
			tr, err := st.Transcript(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tr {
				switch {
				case m.Direction == model.In && m.Inbound != nil:
					n, ok := crashToken(m.Inbound.Text)
					if !ok {
						t.Errorf("transcript %s has an inbound message no webhook carried: %q", c.ID, m.Inbound.Text)
						continue
					}
					inbound[n]++
				case m.Direction == model.Out && m.Message != nil:
					n, ok := crashToken(m.Message.Text)
					if !ok {
						t.Errorf("transcript %s has a reply to no message: %q", c.ID, m.Message.Text)
						continue
					}
					replies[n] = append(replies[n], m)
				}
			}
		}
	}

	var unknownSent, unknownNotSent, delivered, earlyProcessed, healed int
	bad := 0
	report := func(format string, args ...any) {
		bad++
		if bad <= 20 {
			t.Errorf(format, args...)
		}
	}
	for n := range sentN {
		// Everything was redelivered until acknowledged: each message must
		// have been processed exactly once, never twice (3), never lost (1).
		if inbound[n] != 1 {
			report("message %d (%s, %d failed posts) is in the transcript %d times, want exactly once", n, msgs[n].WAMID, failedPosts[n], inbound[n])
		}
		if a := accepted[n]; a != nil && failedPosts[n] > 0 && a.at.Before(okPostAt[n]) {
			// Processed by a delivery whose 200 the kill swallowed: the
			// redelivery was recognised as a duplicate.
			earlyProcessed++
		}
		rs := replies[n]
		if len(rs) != 1 {
			report("message %d has %d replies in the store, want 1", n, len(rs))
			continue
		}
		r := rs[0]
		var sbw []string
		if a := accepted[n]; a != nil {
			sbw = a.wamids
		}
		if len(sbw) > 1 {
			report("message %d: the sandbox accepted its reply %d times (%v): sent twice", n, len(sbw), sbw)
			continue
		}
		switch r.State {
		case model.Accepted, model.Sent, model.Delivered, model.Read:
			if len(sbw) != 1 || r.WAMID != sbw[0] {
				report("message %d: reply %s with wamid %q, but the sandbox accepted %v", n, r.State, r.WAMID, sbw)
			}
			delivered++
			if strings.Contains(r.Error, "not sent again") {
				healed++ // unknown after a kill, then a status webhook proved it sent
			}
		case model.Unknown:
			// The kill cut the send: it may or may not have gone out, and
			// it was not sent again.
			if len(sbw) == 1 {
				unknownSent++
				if unknownSent <= 3 {
					t.Logf("message %d: reply unknown (%s), the sandbox accepted it as %s; its status webhooks: %s", n, r.Error, sbw[0], crashHooksFor(sb, sbw[0]))
				}
			} else {
				unknownNotSent++
			}
		default:
			report("message %d: reply left in state %s (%s), the sandbox accepted %v", n, r.State, r.Error, sbw)
		}
	}
	for n := range accepted {
		if n >= sentN {
			report("the sandbox accepted a reply to message %d, which was never posted", n)
		}
	}
	if bad > 20 {
		t.Errorf("… %d problems in all", bad)
	}
	t.Logf("%d messages were processed by a delivery the kill left unanswered; their redeliveries were recognised", earlyProcessed)
	t.Logf("the Graph API's faults: %d 503, %d 429, %d 130429, %d resets, %d taken without an answer",
		graph.count(answer503), graph.count(answer429), graph.count(throughput), graph.count(resetUnsent), graph.count(dropAfterTaken))
	t.Logf("outcome: %d messages each processed once; replies: %d accepted by the sandbox and recorded (%d of them were cut by a kill, marked unknown, then confirmed by the sandbox's status webhook), %d unknown (%d of them did reach the sandbox, %d did not), %d sandbox sends in all, none twice",
		sentN, delivered, healed, unknownSent+unknownNotSent, unknownSent, unknownNotSent, len(sb.Accepted())-stray)
	if t.Failed() {
		t.Logf("parley log:\n%s", crashTail(logPath))
	}
}

// crashHooksFor summarises the sandbox's status webhook posts about wamid.
func crashHooksFor(sb *sandbox.Sandbox, wamid string) string {
	var parts []string
	for _, e := range sb.Entries(sandbox.KindWebhook) {
		if strings.Contains(string(e.Raw), wamid) {
			st := "?"
			for _, s := range []string{"sent", "delivered", "read", "failed"} {
				if strings.Contains(string(e.Raw), `"status":"`+s+`"`) {
					st = s
				}
			}
			parts = append(parts, fmt.Sprintf("%s#%d→%d %s", st, e.Attempt, e.HTTPStatus, e.Reason))
		}
	}
	return strings.Join(parts, ", ")
}

// crashToken extracts the message number from a text carrying a loadgen
// {id} token of the crash run ("msg lgcrashx17", "echo: msg lgcrashx17").
func crashToken(text string) (int, bool) { return lgTokenNumber(text, "crash") }

// crashWaitDrained waits until Parley's dispatcher has started (read the
// outbox: /readyz no longer says it is starting) and its outbox gauge then
// reads 0 several times in a row.
func crashWaitDrained(base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(b), "dispatcher is starting") {
				break
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the dispatcher did not start within %v", limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	zeros := 0
	last := "?"
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/metrics")
		if err == nil {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "parley_outbox_depth "); ok {
					last = v
				}
			}
			resp.Body.Close()
		}
		if last == "0" {
			zeros++
			if zeros == 5 {
				return nil
			}
		} else {
			zeros = 0
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("outbox not drained after %v (parley_outbox_depth %s)", limit, last)
}

// crashFreeAddr returns a loopback address with a port free right now,
// below the ephemeral range (32768 and up on Linux), so that no outgoing
// connection or ":0" listener of another process takes it while Parley
// is down between two lives.
func crashFreeAddr(t *testing.T) string {
	t.Helper()
	for range 200 {
		addr := "127.0.0.1:" + strconv.Itoa(20000+rand.IntN(12000))
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			ln.Close()
			return addr
		}
	}
	t.Fatal("no free port found in 20000-31999")
	return ""
}

// crashTail is the end of Parley's log.
func crashTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}
