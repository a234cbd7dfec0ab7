package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// TestScale measures `parley serve` on the big store of PARLEY_BIG_STORE
// (built first if the cache has none: scale_build_test.go) and on an empty
// one, and logs a table: start to /readyz with the data file's page cache
// dropped, memory after start and under load, the first page of
// GET /api/v1/conversations, and webhook throughput and p99 under loadgen.
//
// Memory is read from /proc/<pid>/status: VmRSS is everything resident,
// RssFile the pages of the mmap'd data file among them (the kernel's to
// drop, shared with the page cache), RssAnon the process's own memory (the
// Go heap and stacks), which is the figure the goal bounds.
//
// The page cache: "cold" drops the data file's pages with
// posix_fadvise(POSIX_FADV_DONTNEED) on the file (no privilege needed; a
// clean page is dropped, so the start reads it from disk again), and
// /proc/sys/vm/drop_caches as well where writable.
//
// PARLEY_SCALE_WARM reads the whole data file before the load, so that it
// runs on a warm page cache (by default it runs on what the two starts
// left cached: little). PARLEY_SCALE_ROUNDS (3) and PARLEY_SCALE_LOAD (20s)
// set the rounds and the load's length.
//
// The load's customers are keyed by user ids ("US.LG…"), which sort after
// the big store's phone-number keys: even with the key layout of schema 4
// their records went to the right edge of contact_data, so this load does
// not measure where a new customer's records land among the stored ones;
// engine/boltstore's BenchmarkCommitAtScale does (pages per change at 1k
// to 1M conversations).
//
// PARLEY_SCALE_BIN runs another parley binary (an older build, for a
// before/after); by default the test builds this one. Serving writes to
// the cached store (the load's conversations, and the first serve forgets
// the year of inbound ids the build made), unless PARLEY_SCALE_FRESH is
// set: then each round serves a copy of the store as built, so that two
// binaries, or two runs, start from the same file.
func TestScale(t *testing.T) {
	n := scaleSize(t)
	data := scaleStore(t, n)
	bin := os.Getenv("PARLEY_SCALE_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "parley")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	empty := t.TempDir()
	rounds := 3
	if v := os.Getenv("PARLEY_SCALE_ROUNDS"); v != "" {
		rounds, _ = strconv.Atoi(v)
	}
	for _, store := range []struct{ name, dir string }{{"empty", empty}, {fmt.Sprintf("%d conversations", n), data}} {
		for round := range rounds {
			dir := store.dir
			if os.Getenv("PARLEY_SCALE_FRESH") != "" && dir != empty {
				dir = freshCopy(t, dir)
			}
			m := measureServe(t, bin, dir, round == rounds-1)
			t.Logf("%-22s round %d: start cold %6.2fs warm %6.2fs | after start RSS %4d MB (anon %4d, file %4d) | first page %7.1f ms | phone lookup %7.1f ms | %s",
				store.name, round+1, m.coldStart.Seconds(), m.warmStart.Seconds(), m.rss/1024, m.anon/1024, m.file/1024,
				float64(m.firstPage.Microseconds())/1000, float64(m.phoneLookup.Microseconds())/1000, m.load)
		}
	}
}

// freshCopy copies the files of the data directory dir into a temporary
// one and returns it.
func freshCopy(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyRegular(filepath.Join(out, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func copyRegular(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

type serveMeasure struct {
	coldStart, warmStart   time.Duration
	rss, anon, file        int64 // kB, after start
	firstPage, phoneLookup time.Duration
	load                   string
}

// bestOfThree GETs url three times and returns the quickest answer's time.
func bestOfThree(t *testing.T, url, cookie string) time.Duration {
	t.Helper()
	var best time.Duration
	for range 3 {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Cookie", cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", url, resp.StatusCode, body)
		}
		if d := time.Since(start); best == 0 || d < best {
			best = d
		}
	}
	return best
}

// measureServe starts serve on data twice (cold, then warm), reads its
// memory and first page, and, when load is set, runs loadgen against it.
func measureServe(t *testing.T, bin, data string, load bool) serveMeasure {
	t.Helper()
	var m serveMeasure
	dropCache(t, filepath.Join(data, "parley.db"))
	p := startScaleServe(t, bin, data)
	m.coldStart = p.ready
	p.stop(t)
	p = startScaleServe(t, bin, data)
	defer p.stop(t)
	m.warmStart = p.ready
	m.rss, m.anon, m.file = procMemory(t, p.cmd.Process.Pid)
	cookie := p.signIn(t)
	// The best of three: the page, not the first request's set-up.
	m.firstPage = bestOfThree(t, p.base+"/api/v1/conversations", cookie)
	m.phoneLookup = bestOfThree(t, p.base+"/api/v1/contacts?phone=%2B"+fmt.Sprintf("49%010d", uint64(12345)*2654435761%10_000_000_000), cookie)
	if !load {
		return m
	}
	if os.Getenv("PARLEY_SCALE_WARM") != "" {
		// The load on a warm page cache, as on a server that has run a
		// while with the file in memory: read it all first.
		if f, err := os.Open(filepath.Join(data, "parley.db")); err == nil {
			_, _ = io.Copy(io.Discard, f)
			f.Close()
		}
	}
	lg := loadgenConfig{URL: p.base + "/webhook/whatsapp", Secret: sandbox.DefaultAppSecret, PhoneNumberID: sandbox.DefaultPhoneNumberID,
		Customers: 20_000, Texts: []string{"hello {id}"}, RunID: fmt.Sprint("scale", time.Now().UnixNano()), Concurrency: 64,
		Duration: 20 * time.Second}
	if v := os.Getenv("PARLEY_SCALE_LOAD"); v != "" {
		lg.Duration, _ = time.ParseDuration(v)
	}
	lg.setDefaults()
	peak := make(chan [3]int64, 1)
	stopPeak := make(chan struct{})
	go func() { // the peak memory under load
		var top [3]int64
		for {
			select {
			case <-stopPeak:
				peak <- top
				return
			case <-time.After(200 * time.Millisecond):
			}
			rss, anon, file := procMemory(t, p.cmd.Process.Pid)
			if anon > top[1] {
				top = [3]int64{rss, anon, file}
			}
		}
	}()
	rep, err := runLoad(context.Background(), lg, nil, lgHooks{})
	close(stopPeak)
	top := <-peak
	if err != nil {
		t.Fatal(err)
	}
	st := storeCounters(t, p.base)
	m.load = fmt.Sprintf("load: %d msgs/s, p50 %s p99 %s, errors %v | under load RSS %d MB (anon %d, file %d) | store: %.1f pages/write, %.0f writes/commit, %.1f s writing",
		int(rep.Throughput()), ms(rep.Percentile(50)), ms(rep.Percentile(99)), rep.Errors, top[0]/1024, top[1]/1024, top[2]/1024,
		st["parley_store_pages_written_total"]/st["parley_store_writes_total"], st["parley_store_writes_total"]/st["parley_store_commits_total"],
		st["parley_store_write_seconds_total"])
	return m
}

type scaleServe struct {
	cmd   *exec.Cmd
	base  string
	ready time.Duration
	done  chan error
	log   string
}

const (
	scaleAdmin    = "admin@scale.test"
	scalePassword = "scale admin password"
)

// startScaleServe starts serve on data against a counting Graph API
// double and waits for /readyz: ready is the time from the process's
// start.
func startScaleServe(t *testing.T, bin, data string) *scaleServe {
	t.Helper()
	g := newGraphDouble(&loadgenConfig{}, nil)
	if err := g.start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.close)
	addr := crashFreeAddr(t)
	logPath := filepath.Join(t.TempDir(), "parley.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	// Both stores run the big store's flow, so that the empty one answers
	// every message too (serve publishes it there, and leaves the big
	// store's published version as it is): without it, the empty store's
	// webhooks wrote one commit and sent nothing, the big store's three
	// commits and a send, and the comparison measured the flow.
	flowsDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(flowsDir, "scale.json"), []byte(scaleFlow), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "-addr", addr, "-rate", "100000", "-log-level", "warn")
	cmd.Env = append(os.Environ(),
		"WHATSAPP_API_URL="+g.url,
		"WHATSAPP_ACCESS_TOKEN="+sandbox.DefaultAccessToken,
		"WHATSAPP_APP_SECRET="+sandbox.DefaultAppSecret,
		"WHATSAPP_PHONE_NUMBER_ID="+sandbox.DefaultPhoneNumberID,
		"WHATSAPP_WABA_ID="+sandbox.DefaultWABAID,
		"WHATSAPP_VERIFY_TOKEN=scale-verify",
		"PARLEY_DATA="+data,
		"PARLEY_FLOWS="+flowsDir,
		"PARLEY_ADMIN_EMAIL="+scaleAdmin, "PARLEY_ADMIN_PASSWORD="+scalePassword,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &scaleServe{cmd: cmd, base: "http://" + addr, done: make(chan error, 1), log: logPath}
	go func() { p.done <- cmd.Wait() }()
	for {
		resp, err := http.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.ready = time.Since(start)
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("parley exited at start: %v\n%s", err, crashTail(logPath))
		case <-time.After(5 * time.Millisecond):
		}
		if time.Since(start) > 15*time.Minute {
			t.Fatalf("parley not ready after 15 minutes\n%s", crashTail(logPath))
		}
	}
}

func (p *scaleServe) signIn(t *testing.T) string {
	t.Helper()
	resp, err := http.Post(p.base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"`+scaleAdmin+`","password":"`+scalePassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "parley_session" {
			return c.Name + "=" + c.Value
		}
	}
	b, _ := io.ReadAll(resp.Body)
	t.Fatalf("sign-in: %d %s", resp.StatusCode, b)
	return ""
}

func (p *scaleServe) stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// procMemory reads VmRSS, RssAnon and RssFile (kB) of a process.
func procMemory(t *testing.T, pid int) (rss, anon, file int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		switch name {
		case "VmRSS":
			rss = kb
		case "RssAnon":
			anon = kb
		case "RssFile":
			file = kb
		}
	}
	return rss, anon, file
}

// dropCache drops the file's pages from the page cache (fadvise
// DONTNEED), and every clean page where /proc/sys/vm/drop_caches may be
// written.
func dropCache(t *testing.T, path string) {
	t.Helper()
	syscall.Sync()
	if f, err := os.Open(path); err == nil {
		const fadvDontNeed = 4
		if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); e != 0 {
			t.Logf("fadvise DONTNEED: %v", e)
		}
		f.Close()
	}
	_ = os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0)
}

// storeCounters reads the parley_store_* counters of /metrics.
func storeCounters(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if ok && strings.HasPrefix(name, "parley_store_") {
			out[name], _ = strconv.ParseFloat(val, 64)
		}
	}
	return out
}
