package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// clusterTimerFlow waits 3 s for an answer that never comes: the timeout
// sends one message naming the customer's first message. Its keyword wins
// over the echo flow's "any" trigger.
const clusterTimerFlow = `{
  "format": "parley/flow@1", "id": "timer", "name": "Timer", "language": "en_US", "start": "wait",
  "triggers": [{"type": "keyword", "keywords": ["timer"]}],
  "nodes": [
    {"id": "wait", "type": "wait_reply", "timeout": "3s", "on_timeout": "late", "next": "done"},
    {"id": "late", "type": "send", "message": {"type": "text", "text": "timed out: {{ reply.text }}"}},
    {"id": "done", "type": "send", "message": {"type": "text", "text": "answered: {{ reply.text }}"}}
  ]
}`

// clusterDeskFlow hands a customer who writes "agent" to the support
// queue, and sends nothing.
const clusterDeskFlow = `{
  "format": "parley/flow@1", "id": "desk", "name": "Desk", "language": "en_US", "start": "h",
  "triggers": [{"type": "keyword", "keywords": ["agent"]}],
  "nodes": [{"id": "h", "type": "handoff", "queue": "support"}]
}`

// clusterProc is one `parley serve` of the cluster.
type clusterProc struct {
	addr    string
	cmd     *exec.Cmd
	exited  chan error
	running bool
}

// TestClusterPostgres runs three `parley serve` processes on loopback on
// one PostgreSQL database (PARLEY_STORE), spreads signed webhooks over all
// three (a post that fails goes to the next, as a load balancer would
// retry), SIGKILLs one mid-run and starts it again, and checks, against
// the sandbox's log and the database:
//
//  1. every acknowledged webhook was processed exactly once: one inbound
//     message in the transcripts, one reply;
//  2. no reply was sent twice (the sandbox accepted each at most once); a
//     reply the kill cut is unknown, never sent again;
//  3. every conversation's timer fired once: one "timed out" message each;
//  4. nothing is left in the outbox or the timers;
//  5. the event webhooks: every inbound message reached the subscriber as
//     a message.received event, posted by whichever process claimed it
//     (a repeat only for a post the kill cut);
//  6. the inbox, before the traffic: an admin's live stream on one process
//     shows the handoffs whose webhooks went to the two others, and the
//     assignment one of the three made; an agent of capacity 1 gets one
//     of three handoffs, the others wait; after the kill, exactly one
//     process leads the inbox (parley_inbox_leader).
//
// Claims on the outbox and on event deliveries carry a 15 s lease
// (pgstore.LeaseParam), so the killed process's sends in flight are
// settled soon after. It is longer than an event post's 10 s timeout: a
// live process starved of CPU by the race detector on a busy machine
// still settles its posts before another may claim them again, so every
// repeat is one the kill cut.
func TestClusterPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three Parley subprocesses; skipped with -short")
	}
	storeURL := testPostgresURL(t)
	dir, bin, flowsDir, key := clusterFiles(t, map[string]string{"echo.json": crashEchoFlow, "timer.json": clusterTimerFlow, "desk.json": clusterDeskFlow})
	secretsKey := base64.StdEncoding.EncodeToString(key)

	procs := make([]*clusterProc, 3)
	for i := range procs {
		procs[i] = &clusterProc{addr: crashFreeAddr(t)}
	}
	sb := sandbox.New(sandbox.Config{
		// Statuses go to the process that is never killed.
		WebhookURL: "http://" + procs[2].addr + "/webhook/whatsapp",
		Throughput: -1, PairInterval: -1, StatusDelay: 10 * time.Millisecond,
		WebhookRetries: 3, WebhookBackoff: 50 * time.Millisecond, WebhookTimeout: 5 * time.Second,
	})
	if _, err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	defer sb.Close()

	const (
		customers   = 150
		perCustomer = 4
		timerCusts  = 40
		workers     = 8
	)
	echo := loadgenConfig{URL: "x", Secret: sandbox.DefaultAppSecret, PhoneNumberID: sandbox.DefaultPhoneNumberID,
		Customers: customers, Texts: []string{"msg {id}"}, RunID: "clu"}
	echo.setDefaults()
	timer := loadgenConfig{URL: "x", Secret: sandbox.DefaultAppSecret, PhoneNumberID: sandbox.DefaultPhoneNumberID,
		Customers: timerCusts, Texts: []string{"timer {id}"}, RunID: "clt", WaPrefix: "9"}
	timer.setDefaults()
	for i := range customers {
		wa, _ := echo.lgCustomer(i)
		sb.SetLastInbound(wa, time.Now())
	}
	for i := range timerCusts {
		wa, _ := timer.lgCustomer(i)
		sb.SetLastInbound(wa, time.Now())
	}

	// An event subscription, made before the processes start, as through
	// any of them.
	hooks := newHookReceiver(t, engine.SystemClock{})
	{
		st, err := openServeStore(context.Background(), storeURL, dir, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		es, ok := st.(events.Store)
		if !ok {
			t.Fatal("the PostgreSQL store is no events.Store")
		}
		svc, err := events.New(context.Background(), events.Options{Store: es, Key: key, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		url, types := "http://"+hooks.addr+"/parley", []model.EventType{model.EventMessageReceived}
		_, secret, err := svc.Create(context.Background(), events.Input{URL: &url, Types: &types}, "test")
		if err != nil {
			t.Fatal(err)
		}
		hooks.mu.Lock()
		hooks.secret, hooks.down = secret, false
		hooks.mu.Unlock()
		st.Close()
	}

	logPath := filepath.Join(dir, "parley.log")
	if p := os.Getenv("PARLEY_CLUSTER_LOG"); p != "" {
		logPath = p
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	var logMu sync.Mutex
	start := func(i int, life int) {
		t.Helper()
		p := procs[i]
		logMu.Lock()
		fmt.Fprintf(logFile, "\n===== process %d, life %d =====\n", i, life)
		logMu.Unlock()
		cmd := exec.Command(bin, "serve", "-addr", p.addr, "-rate", "100000", "-log-level", "warn", "-shutdown-timeout", "10s")
		cmd.Env = append(os.Environ(),
			"WHATSAPP_API_URL="+sb.GraphURL(),
			"WHATSAPP_ACCESS_TOKEN="+sandbox.DefaultAccessToken,
			"WHATSAPP_APP_SECRET="+sandbox.DefaultAppSecret,
			"WHATSAPP_PHONE_NUMBER_ID="+sandbox.DefaultPhoneNumberID,
			"WHATSAPP_WABA_ID="+sandbox.DefaultWABAID,
			"WHATSAPP_VERIFY_TOKEN=cluster-verify",
			"PARLEY_DATA="+filepath.Join(dir, fmt.Sprintf("data%d", i)),
			"PARLEY_FLOWS="+flowsDir,
			"PARLEY_STORE="+storeURL+"&parley_lease=15s&pool_max_conns=6",
			"PARLEY_SECRETS_KEY="+secretsKey,
			"PARLEY_ADMIN_EMAIL="+e2eAdmin,
			"PARLEY_ADMIN_PASSWORD="+e2ePassword,
		)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		// Dies with the test binary, even one that panics on its timeout.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		p.cmd, p.exited, p.running = cmd, done, true
		deadline := time.Now().Add(e2eTimeout)
		for {
			resp, err := http.Get("http://" + p.addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return
				}
			}
			select {
			case err := <-done:
				p.running = false
				t.Fatalf("process %d exited at start: %v\n%s", i, err, crashTail(logPath))
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("process %d not ready after %v\n%s", i, e2eTimeout, crashTail(logPath))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Cleanup(func() {
		for _, p := range procs {
			if p.running {
				_ = p.cmd.Process.Signal(syscall.SIGKILL)
				<-p.exited
			}
		}
	})
	for i := range procs {
		start(i, 1)
	}
	clusterInbox(t, procs)

	// Traffic: every message posted until one process answers 200.
	var msgs []*lgMessage
	for n := range customers * perCustomer {
		msgs = append(msgs, echo.lgBuild(n, time.Now()))
	}
	for n := range timerCusts {
		msgs = append(msgs, timer.lgBuild(n, time.Now()))
	}
	var acked atomic.Int64
	var failed atomic.Int64
	work := make(chan int)
	hc := lgClient(workers, 5*time.Second)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for n := range work {
				m := msgs[n]
				giveUp := time.Now().Add(e2eTimeout)
				for attempt := 0; ; attempt++ {
					p := procs[(n+attempt)%len(procs)]
					status, err := lgPost(context.Background(), hc, "http://"+p.addr+"/webhook/whatsapp", m.Body, m.Sig)
					if status == http.StatusOK {
						acked.Add(1)
						break
					}
					failed.Add(1)
					if time.Now().After(giveUp) {
						t.Errorf("message %d: not acknowledged after %v (last: %d %v)", n, e2eTimeout, status, err)
						break
					}
					time.Sleep(5 * time.Millisecond) // as Meta backs off
				}
			}
		})
	}
	killAt := len(msgs) * 2 / 5
	trafficStart := time.Now()
	for n := range msgs {
		if n == killAt {
			// Kill process 0 while traffic flows, and start it again.
			_ = procs[0].cmd.Process.Signal(syscall.SIGKILL)
			<-procs[0].exited
			procs[0].running = false
			t.Logf("process 0 killed after %d messages (%v)", n, time.Since(trafficStart).Round(time.Millisecond))
			time.Sleep(300 * time.Millisecond) // down a moment: its posts go elsewhere
			start(0, 2)
			t.Logf("process 0 restarted")
		}
		work <- n
	}
	close(work)
	wg.Wait()
	t.Logf("%d webhooks acknowledged in %v, %d posts failed (the killed process) and went to another",
		acked.Load(), time.Since(trafficStart).Round(time.Millisecond), failed.Load())

	// Drain: the outbox and the timers empty, the killed process's claims
	// settled once their lease ran out.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, storeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(e2eTimeout)
	for {
		var outbox, timers, hooked int
		if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM timers WHERE kind <> 'expire'),
			(SELECT count(*) FROM event_log) + (SELECT count(*) FROM event_deliveries WHERE state = 'pending')`).Scan(&outbox, &timers, &hooked); err != nil {
			t.Fatal(err)
		}
		if outbox == 0 && timers == 0 && hooked == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d messages still in the outbox, %d timers not fired, %d events not delivered\n%s", e2eTimeout, outbox, timers, hooked, crashTail(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("drained after %v", time.Since(trafficStart).Round(time.Millisecond))
	// The inbox's lead: exactly one process holds it, after the kill of
	// process 0 (which, started first, likely held it).
	deadline = time.Now().Add(e2eTimeout)
	for {
		var leaders []int
		for i, p := range procs {
			resp, err := http.Get("http://" + p.addr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "\nparley_inbox_leader 1\n") {
				leaders = append(leaders, i)
			}
		}
		if len(leaders) == 1 {
			t.Logf("process %d makes the inbox's assignment passes", leaders[0])
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes leading the inbox: %v, want exactly one", leaders)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-p.exited:
			p.running = false
			if err != nil {
				t.Errorf("process %d did not stop cleanly: %v", i, err)
			}
		case <-time.After(e2eTimeout):
			t.Fatalf("process %d did not stop", i)
		}
	}

	// The evidence: what the sandbox accepted, by message token.
	accepted := map[string]int{}
	for _, e := range sb.Accepted() {
		if n, ok := lgTokenNumber(e.Body, "clu"); ok {
			accepted[fmt.Sprintf("clu%d", n)]++
		} else if n, ok := lgTokenNumber(e.Body, "clt"); ok {
			accepted[fmt.Sprintf("clt%d", n)]++
		} else {
			t.Errorf("the sandbox accepted a send that answers no message: %q", e.Body)
		}
	}
	st, err := openServeStore(ctx, storeURL, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	inbound := map[string]int{}
	replies := map[string][]*model.Message{}
	scan := func(cfg *loadgenConfig, run string, custs int) {
		for i := range custs {
			_, uid := cfg.lgCustomer(i)
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
						if n, ok := lgTokenNumber(m.Inbound.Text, run); ok {
							inbound[fmt.Sprintf("%s%d", run, n)]++
						}
					case m.Direction == model.Out && m.Message != nil:
						if n, ok := lgTokenNumber(m.Message.Text, run); ok {
							replies[fmt.Sprintf("%s%d", run, n)] = append(replies[fmt.Sprintf("%s%d", run, n)], m)
						}
					}
				}
			}
		}
	}
	scan(&echo, "clu", customers)
	scan(&timer, "clt", timerCusts)
	bad, unknown, sent := 0, 0, 0
	report := func(format string, args ...any) {
		bad++
		if bad <= 20 {
			t.Errorf(format, args...)
		}
	}
	check := func(id, what string) {
		if inbound[id] != 1 {
			report("message %s is in the transcripts %d times, want once", id, inbound[id])
		}
		rs := replies[id]
		if len(rs) != 1 {
			report("message %s has %d %s in the store, want 1", id, len(rs), what)
			return
		}
		if accepted[id] > 1 {
			report("message %s: its %s was sent %d times", id, what, accepted[id])
		}
		switch rs[0].State {
		case model.Accepted, model.Sent, model.Delivered, model.Read:
			sent++
			if accepted[id] != 1 {
				report("message %s: %s recorded %s, but the sandbox accepted it %d times", id, what, rs[0].State, accepted[id])
			}
		case model.Unknown:
			unknown++
		default:
			report("message %s: %s left in state %s (%s)", id, what, rs[0].State, rs[0].Error)
		}
	}
	for n := range customers * perCustomer {
		check(fmt.Sprintf("clu%d", n), "reply")
	}
	for n := range timerCusts {
		check(fmt.Sprintf("clt%d", n), "timeout message")
		if rs := replies[fmt.Sprintf("clt%d", n)]; len(rs) == 1 && !strings.HasPrefix(rs[0].Message.Text, "timed out: ") {
			report("timer customer %d got %q, want the timeout's message", n, rs[0].Message.Text)
		}
	}
	// The events: every inbound message once at least; a repeat only for a
	// post in flight when process 0 was killed (its claim ran out).
	hooked := map[string]int{}
	hooks.mu.Lock()
	for _, ev := range hooks.got {
		var d model.ReceivedData
		if ev.Type != model.EventMessageReceived || json.Unmarshal(ev.Data, &d) != nil {
			report("the subscriber got %s, not a message.received", ev.ID)
			continue
		}
		for _, run := range []string{"clu", "clt"} {
			if n, ok := lgTokenNumber(d.Message.Text, run); ok {
				hooked[fmt.Sprintf("%s%d", run, n)]++
			}
		}
	}
	repeats := 0
	for id, n := range hooks.received {
		if n > 1 {
			repeats += n - 1
			t.Logf("event %s received %d times", id, n)
		}
	}
	hooks.mu.Unlock()
	for n := range customers * perCustomer {
		if id := fmt.Sprintf("clu%d", n); hooked[id] == 0 {
			report("message %s: no message.received event", id)
		}
	}
	for n := range timerCusts {
		if id := fmt.Sprintf("clt%d", n); hooked[id] == 0 {
			report("message %s: no message.received event", id)
		}
	}
	if repeats > 16 {
		report("%d events received again: more than the killed process had in flight", repeats)
	}
	t.Logf("event webhooks: %d events, %d repeats", len(hooks.received), repeats)
	t.Logf("%d messages processed once each; %d replies sent once, %d unknown (cut by the kill, not sent again); %d sandbox sends in all",
		len(msgs), sent, unknown, len(sb.Accepted()))
	if t.Failed() {
		t.Logf("log:\n%s", crashTail(logPath))
	}
}

// clusterInbox checks the inbox across the cluster: an agent of capacity
// 1 made through process 0, an admin's live stream on process 1, three
// customers asking for an agent through processes 2, 0 and 2.
func clusterInbox(t *testing.T, procs []*clusterProc) {
	t.Helper()
	base := func(i int) string { return "http://" + procs[i].addr }
	if st, body := adminCallAt(t, base(0), "POST", "/users",
		`{"email":"agent@cluster.test","name":"Agent","roles":["agent"],"password":"cluster agent password"}`); st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("creating the agent: %d %s", st, body)
	}
	if st, body := adminCallAt(t, base(0), "PUT", "/inbox/agents/agent@cluster.test",
		`{"capacity":1,"queues":["support"],"status":"online"}`); st != http.StatusOK {
		t.Fatalf("the agent's profile: %d %s", st, body)
	}

	// The admin's stream on process 1.
	resp, err := http.Post(base(1)+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"`+e2eAdmin+`","password":"`+e2ePassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", base(1)+"/api/v1/inbox/events", nil)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	resp, err = http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	type event struct {
		Type         string `json:"type"`
		Conversation string `json:"conversation"`
		Assignee     string `json:"assignee"`
	}
	events := make(chan event, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev event
				if json.Unmarshal([]byte(data), &ev) == nil {
					events <- ev
				}
			}
		}
	}()
	if ev := <-events; ev.Type != "hello" {
		t.Fatalf("the stream began with %+v", ev)
	}

	desk := loadgenConfig{URL: "x", Secret: sandbox.DefaultAppSecret, PhoneNumberID: sandbox.DefaultPhoneNumberID,
		Customers: 3, Texts: []string{"agent {id}"}, RunID: "cld", WaPrefix: "8"}
	desk.setDefaults()
	hc := lgClient(1, 5*time.Second)
	for n, p := range []int{2, 0, 2} {
		m := desk.lgBuild(n, time.Now())
		if status, err := lgPost(context.Background(), hc, base(p)+"/webhook/whatsapp", m.Body, m.Sig); status != http.StatusOK {
			t.Fatalf("customer %d's webhook to process %d: %d %v", n, p, status, err)
		}
	}
	handoffs, assigned := map[string]bool{}, map[string]bool{}
	for len(handoffs) < 3 || len(assigned) < 1 {
		ev, ok := <-events
		if !ok {
			t.Fatalf("the stream on process 1 ended after %d handoffs and %d assignments", len(handoffs), len(assigned))
		}
		switch ev.Type {
		case "handoff":
			handoffs[ev.Conversation] = true
		case "assigned":
			if ev.Assignee != "agent@cluster.test" {
				t.Errorf("assigned to %q", ev.Assignee)
			}
			assigned[ev.Conversation] = true
		}
	}
	cancel()
	// Every process's view, each as soon as the feed brought it: one
	// assigned, two waiting.
	for i := range procs {
		deadline := time.Now().Add(e2eTimeout)
		for {
			st, body := adminCallAt(t, base(i), "GET", "/inbox/queues", "")
			if st == http.StatusOK && strings.Contains(body, `"waiting":2`) && strings.Contains(body, `"assigned":1`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("process %d's queues: %d %s", i, st, body)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("inbox: process 1's stream showed the 3 handoffs made through processes 0 and 2, and the one assignment")
}

// clusterFiles builds parley into a directory of the test's own, writes
// flows into its flows/ directory, and makes the secrets key the
// cluster's processes share (PARLEY_SECRETS_KEY is its base64).
func clusterFiles(t *testing.T, flows map[string]string) (dir, bin, flowsDir string, key []byte) {
	t.Helper()
	dir = t.TempDir()
	bin = filepath.Join(dir, "parley")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	flowsDir = filepath.Join(dir, "flows")
	if err := os.MkdirAll(flowsDir, 0o750); err != nil {
		t.Fatal(err)
	}
	for name, doc := range flows {
		if err := os.WriteFile(filepath.Join(flowsDir, name), []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	key = make([]byte, 32)
	_, _ = rand.Read(key)
	return dir, bin, flowsDir, key
}
