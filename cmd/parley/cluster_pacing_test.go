package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// TestClusterPacing: three `parley serve` processes on one PostgreSQL,
// each given the business number's whole rate (-rate 30), answer a burst
// of 150 customers spread over all three, against a sandbox that enforces
// 30 messages/s for the number (Meta's 130429 above it): together they
// keep to it, no send is refused for throughput, and every customer is
// answered once. Each process alone would pace at 30/s, 90/s in all.
//
// The sandbox's bucket holds 45 (a second and a half) where the
// processes' hold 30 in all: a send reaches the sandbox some time after it
// took its token, and on a loaded machine those delays bunch sends up.
func TestClusterPacing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three Parley subprocesses; skipped with -short")
	}
	storeURL := testPostgresURL(t)
	dir, bin, flowsDir, key := clusterFiles(t, map[string]string{"echo.json": crashEchoFlow})
	secretsKey := base64.StdEncoding.EncodeToString(key)

	const rate, customers = 30, 150
	procs := make([]*clusterProc, 3)
	for i := range procs {
		procs[i] = &clusterProc{addr: crashFreeAddr(t)}
	}
	sb := sandbox.New(sandbox.Config{
		WebhookURL: "http://" + procs[0].addr + "/webhook/whatsapp",
		Throughput: rate, ThroughputBurst: rate * 3 / 2, PairInterval: -1, Statuses: sandbox.StatusManual,
	})
	if _, err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	lg := loadgenConfig{URL: "x", Secret: sandbox.DefaultAppSecret, PhoneNumberID: sandbox.DefaultPhoneNumberID,
		Customers: customers, Texts: []string{"msg {id}"}, RunID: "pac"}
	lg.setDefaults()
	for i := range customers {
		wa, _ := lg.lgCustomer(i)
		sb.SetLastInbound(wa, time.Now())
	}

	logPath := filepath.Join(dir, "parley.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	for i, p := range procs {
		cmd := exec.Command(bin, "serve", "-addr", p.addr, "-rate", fmt.Sprint(rate), "-log-level", "info", "-shutdown-timeout", "10s")
		cmd.Env = append(os.Environ(),
			"WHATSAPP_API_URL="+sb.GraphURL(),
			"WHATSAPP_ACCESS_TOKEN="+sandbox.DefaultAccessToken,
			"WHATSAPP_APP_SECRET="+sandbox.DefaultAppSecret,
			"WHATSAPP_PHONE_NUMBER_ID="+sandbox.DefaultPhoneNumberID,
			"WHATSAPP_WABA_ID="+sandbox.DefaultWABAID,
			"WHATSAPP_VERIFY_TOKEN=pacing-verify",
			"PARLEY_DATA="+filepath.Join(dir, fmt.Sprintf("data%d", i)),
			"PARLEY_FLOWS="+flowsDir,
			"PARLEY_STORE="+storeURL+"&pool_max_conns=4",
			"PARLEY_SECRETS_KEY="+secretsKey,
		)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		p.cmd, p.exited, p.running = cmd, done, true
		defer func() {
			if p.running {
				_ = p.cmd.Process.Kill()
				<-p.exited
			}
		}()
		waitHealthy(t, p)
	}
	// The last process to start waits engine.PaceJoinWait before it
	// sends; by then the others have counted it. The burst starts after.
	time.Sleep(engine.PaceJoinWait + time.Second) // the processes' own wait, not a readiness

	// A few posts at a time: answers queue far faster than 30/s all the
	// same, and the database, shared by other tests, keeps connections
	// to spare (each process opens them as its turns need them).
	const posters = 4
	hc := lgClient(posters, 10*time.Second)
	start := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	for range posters {
		wg.Go(func() {
			for i := range work {
				m := lg.lgBuild(i, time.Now())
				p := procs[i%len(procs)]
				status, err := lgPost(context.Background(), hc, "http://"+p.addr+"/webhook/whatsapp", m.Body, m.Sig)
				if status != http.StatusOK {
					t.Errorf("message %d: %d %v", i, status, err)
				}
			}
		})
	}
	for i := range customers {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.Fatalf("webhooks refused\n%s", crashTail(logPath))
	}
	deadline := time.Now().Add(e2eTimeout)
	for len(sb.Accepted()) < customers {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d of %d answers accepted\n%s", e2eTimeout, len(sb.Accepted()), customers, crashTail(logPath))
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	for _, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		if err := <-p.exited; err != nil {
			t.Errorf("a process did not stop cleanly: %v", err)
		}
		p.running = false
	}
	throttled := 0
	for _, e := range sb.Rejected() {
		if e.Code == 130429 {
			throttled++
		}
	}
	acc := sb.Accepted()
	span := acc[len(acc)-1].Time.Sub(acc[0].Time)
	t.Logf("%d answers accepted in %v (%.1f/s between the first and the last, the number's rate %d/s, a burst of %d); %d refused for throughput",
		len(acc), took.Round(time.Millisecond), float64(len(acc)-rate)/span.Seconds(), rate, rate, throttled)
	if throttled > 0 {
		t.Errorf("%d sends refused with 130429: the processes together went past the number's throughput\n%s", throttled, crashTail(logPath))
	}
	if len(acc) != customers {
		t.Errorf("%d answers accepted, want %d: one each", len(acc), customers)
	}
}

// waitHealthy waits until p answers /healthz.
func waitHealthy(t *testing.T, p *clusterProc) {
	t.Helper()
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
		case err := <-p.exited:
			t.Fatalf("the process exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the process never became healthy")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
