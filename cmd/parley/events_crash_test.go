package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// TestEventWebhooksCrash runs `parley serve` as a subprocess and SIGKILLs
// it at random moments while customers write and their events are being
// delivered to a receiver that fails a third of the posts. Webhooks not
// acknowledged are posted again, as Meta would. In the end every message
// acknowledged has exactly one message.received event (one id: none for
// a redelivery refused as a duplicate, none lost to a kill), received at
// least once, and each customer's events first arrive in the order the
// customer wrote.
func TestEventWebhooksCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a Parley subprocess; skipped with -short")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0xe7e))
	dir := t.TempDir()
	bin := filepath.Join(dir, "parley")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	flowsDir, dataDir := filepath.Join(dir, "flows"), filepath.Join(dir, "data")
	if err := os.MkdirAll(flowsDir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(flowsDir, "echo.json"), []byte(crashEchoFlow), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := crashFreeAddr(t)
	base := "http://" + addr
	sb := sandbox.New(sandbox.Config{WebhookURL: base + "/webhook/whatsapp", Throughput: -1, PairInterval: -1, StatusDelay: 10 * time.Millisecond})
	if _, err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	defer sb.Close()

	// The receiver: fails a third of the posts with a 503.
	var mu sync.Mutex
	var secret string
	var got []model.Event
	var refused int
	flaky := true // the receiver fails a third of the posts while traffic lasts
	rcvRNG := rand.New(rand.NewPCG(seed, 0x503))
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if flaky && rcvRNG.IntN(3) == 0 {
			refused++
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if err := events.Verify(secret, r.Header.Get(events.HeaderSignature), body, time.Now(), events.DefaultTolerance); err != nil {
			t.Errorf("receiver: %v", err)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev model.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("receiver: %v", err)
		}
		got = append(got, ev)
	}))
	defer rcv.Close()

	logPath := filepath.Join(dir, "parley.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	var proc *exec.Cmd
	var exited chan error
	start := func(round int) {
		t.Helper()
		fmt.Fprintf(logFile, "\n===== start %d =====\n", round)
		cmd := exec.Command(bin, "serve", "-addr", addr, "-log-level", "warn")
		cmd.Env = append(os.Environ(),
			"WHATSAPP_API_URL="+sb.GraphURL(), "WHATSAPP_ACCESS_TOKEN="+sandbox.DefaultAccessToken,
			"WHATSAPP_APP_SECRET="+sandbox.DefaultAppSecret, "WHATSAPP_PHONE_NUMBER_ID="+sandbox.DefaultPhoneNumberID,
			"WHATSAPP_WABA_ID="+sandbox.DefaultWABAID, "WHATSAPP_VERIFY_TOKEN=events-crash",
			"PARLEY_DATA="+dataDir, "PARLEY_FLOWS="+flowsDir,
			"PARLEY_ADMIN_EMAIL="+e2eAdmin, "PARLEY_ADMIN_PASSWORD="+e2ePassword)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		proc, exited = cmd, done
		eventually(t, e2eTimeout, func() bool {
			resp, err := http.Get(base + "/healthz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, "parley answering /healthz (start %d)\n%s", round, crashTail(logPath))
	}
	kill := func() {
		_ = proc.Process.Signal(syscall.SIGKILL)
		<-exited
	}
	start(0)
	defer func() {
		if proc.ProcessState == nil {
			kill()
		}
	}()

	code, body := adminCallAt(t, base, "POST", "/event-subscriptions", `{"url":"`+rcv.URL+`/parley","types":["message.received"]}`)
	if code != http.StatusCreated {
		t.Fatalf("subscribing: %d %s", code, body)
	}
	var created struct{ Secret string }
	_ = json.Unmarshal([]byte(body), &created)
	mu.Lock()
	secret = created.Secret
	mu.Unlock()

	// Customers write, each in order, each message posted until Parley
	// answers 200; a kill and a restart every few hundred milliseconds.
	const customers, perCustomer = 12, 12
	lg := loadgenConfig{URL: base + "/webhook/whatsapp", Secret: sandbox.DefaultAppSecret, PhoneNumberID: sandbox.DefaultPhoneNumberID,
		Customers: customers, Texts: []string{"msg {n}"}, RunID: "evcrash"}
	lg.setDefaults()
	hc := lgClient(customers, 5*time.Second)
	order := map[string][]string{} // wa_id → wamids in the order written
	text := map[string]string{}    // wamid → text
	writer := map[string]string{}  // wamid → wa_id
	var wg sync.WaitGroup
	for c := range customers {
		var msgs []*lgMessage
		for k := range perCustomer {
			m := lg.lgBuild(k*customers+c, time.Now())
			msgs = append(msgs, m)
			order[m.WaID] = append(order[m.WaID], m.WAMID)
			text[m.WAMID] = m.Text
			writer[m.WAMID] = m.WaID
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, m := range msgs {
				deadline := time.Now().Add(e2eTimeout)
				for {
					status, _ := lgPost(context.Background(), hc, lg.URL, m.Body, m.Sig)
					if status == http.StatusOK {
						break
					}
					if time.Now().After(deadline) {
						t.Errorf("message %s never acknowledged", m.WAMID)
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
				time.Sleep(time.Duration(50+rand.IntN(100)) * time.Millisecond)
			}
		}()
	}
	trafficDone := make(chan struct{})
	go func() { wg.Wait(); close(trafficDone) }()
	kills := 0
	for round := 1; ; round++ {
		select {
		case <-trafficDone:
		case <-time.After(time.Duration(200+rng.IntN(500)) * time.Millisecond):
			kill()
			kills++
			start(round)
			continue
		}
		break
	}
	t.Logf("%d kills during traffic", kills)

	// One more kill once everything is acknowledged, with deliveries
	// still under way; then the receiver is well again, and its backlog
	// comes as soon as one retry goes through.
	kill()
	start(-1)
	mu.Lock()
	flaky = false
	mu.Unlock()
	all := customers * perCustomer
	unique := func() int {
		mu.Lock()
		defer mu.Unlock()
		ids := map[string]bool{}
		for _, ev := range got {
			ids[ev.ID] = true
		}
		return len(ids)
	}
	deadline := time.Now().Add(e2eTimeout)
	for unique() < all {
		if time.Now().After(deadline) {
			_, pending := adminCallAt(t, base, "GET", "/event-subscriptions?", "")
			t.Fatalf("%d of %d messages have their event; subscriptions %s\n%s", unique(), all, pending, crashTail(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}

	mu.Lock()
	defer mu.Unlock()
	byWAMID := map[string]map[string]bool{}
	first := map[model.ContactKey][]string{} // contact → wamids, by first arrival of their event
	seen := map[string]bool{}
	repeats := 0
	for _, ev := range got {
		var d model.ReceivedData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		if text[d.WAMID] == "" || d.Message.Text != text[d.WAMID] {
			t.Errorf("event %s: wamid %s text %q, not a message sent", ev.ID, d.WAMID, d.Message.Text)
		}
		if byWAMID[d.WAMID] == nil {
			byWAMID[d.WAMID] = map[string]bool{}
		}
		byWAMID[d.WAMID][ev.ID] = true
		if seen[ev.ID] {
			repeats++
			continue
		}
		seen[ev.ID] = true
		first[ev.Contact] = append(first[ev.Contact], d.WAMID)
	}
	for wamid, ids := range byWAMID {
		if len(ids) != 1 {
			t.Errorf("message %s has %d events, want 1", wamid, len(ids))
		}
	}
	if len(byWAMID) != all {
		t.Errorf("%d messages have an event, want %d", len(byWAMID), all)
	}
	for _, wamids := range first {
		wa := writer[wamids[0]]
		if strings.Join(wamids, ",") != strings.Join(order[wa], ",") {
			t.Errorf("customer %s: events arrived for %v, written %v", wa, wamids, order[wa])
		}
	}
	t.Logf("%d events received, %d repeats (at least once), %d posts refused by the receiver", len(got), repeats, refused)
}

// adminCallAt makes an API call on the Parley at base as the seeded admin,
// with a session and its CSRF token.
func adminCallAt(t *testing.T, base, method, path, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"`+e2eAdmin+`","password":"`+e2ePassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	req, _ := http.NewRequest(method, base+"/api/v1"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	req.Header.Set("X-CSRF-Token", login.CSRF)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}
