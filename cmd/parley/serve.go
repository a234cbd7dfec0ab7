package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/events"
	"github.com/parleyhq/parley/engine/httpcall"
	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/metrics"
	"github.com/parleyhq/parley/engine/quarantine"
	"github.com/parleyhq/parley/engine/schedule"
	"github.com/parleyhq/parley/engine/secrets"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/flows/examples"
	"github.com/parleyhq/parley/ui"
	"github.com/parleyhq/parley/whatsapp"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

// serveConfig is `parley serve`'s configuration: flags, defaulted from the
// environment.
type serveConfig struct {
	addr, data, flowsDir string
	// store: "" for the bbolt file in data, or a postgres:// URL
	// (PARLEY_STORE; cmd/parley/store.go).
	store                                 string
	apiURL, token, appSecret, verifyToken string
	phoneNumberID, wabaID                 string
	// displayPhone is the WHATSAPP_PHONE_NUMBER_ID number's display number
	// (the sandbox's); numbers are further numbers (-numbers,
	// PARLEY_NUMBERS: numbers.go).
	displayPhone                   string
	numbers                        []numberConfig
	rate                           float64
	dispatchWorkers                int
	messagingLimit                 int
	sandboxStatusDelay             time.Duration
	sandboxThroughput              float64
	shutdownTimeout, timerInterval time.Duration
	// templateRetryFor: how long a template WhatsApp could not take yet is
	// tried again before it fails.
	templateRetryFor time.Duration
	logLevel         string
	// readReceipts: a reply marks the customer's message read;
	// typingIndicator: an agent typing shows "typing…".
	readReceipts, typingIndicator bool
	// sandbox: no access token, so the built-in sandbox stands in for Meta.
	sandbox bool
	// sandboxAddr is where the sandbox listens ("": a fresh loopback
	// port); sandboxAddrSet says it was chosen (flag or environment), so a
	// taken address is an error rather than a fallback.
	sandboxAddr    string
	sandboxAddrSet bool
	// demoShopAddr is where the demo shop API listens in sandbox mode
	// (demoshop.go); "" leaves it off.
	demoShopAddr string
	// httpAllowHosts lets flows' http steps reach these hosts, IPs, CIDRs
	// and host:ports although private (httpcall.AllowEnv).
	httpAllowHosts string
	// scheduleGrace: a schedule's fire time missed (Parley down) by at
	// most this long still runs once; scheduleInterval: how often
	// schedules are checked.
	scheduleGrace, scheduleInterval time.Duration
	// adminEmail and adminPassword seed the first admin (PARLEY_ADMIN_*,
	// environment only); secureCookie marks the session cookie Secure;
	// trustedProxies may name the client in X-Forwarded-For.
	adminEmail, adminPassword string
	secureCookie              bool
	trustedProxies            string
	// retention, when positive, is how long done conversations are kept
	// after their last activity (retention.go); 0 keeps them for ever.
	retention time.Duration
	// metricsToken, when set, guards /metrics (Bearer); metricsAddr, when
	// set, serves /metrics there instead of on addr.
	metricsToken, metricsAddr string

	// messagingLimitPinned: -messaging-limit (or PARLEY_MESSAGING_LIMIT)
	// was given, so a tier Meta announces does not replace it.
	messagingLimitPinned bool
	// clock, when set, is the engine's and the template registry's time
	// instead of the system's: tests move it (timeouts, the 24-hour
	// window, the messaging limit) without sleeping. Pacing and the HTTP
	// layer keep real time.
	clock engine.Clock
	// paceClock, when set, is the dispatcher's time for pacing, backoff
	// and pauses (tests run it fast to live through long outages).
	paceClock engine.Clock

	// listener, when set, is served instead of listening on addr: tests
	// bind a loopback port first, to tell their sandbox where to post.
	// metricsListener is the same for metricsAddr.
	listener, metricsListener net.Listener
	// started, when set, is called once Parley serves, with its engine
	// (tests read conversations through it while Parley runs).
	started func(*engine.Engine)
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// envDuration is env for a duration; a value that is not one is ignored.
func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(env(name, "")); err == nil {
		return d
	}
	return def
}

// envBool is env for a boolean; a value that is not one is ignored.
func envBool(name string, def bool) bool {
	if b, err := strconv.ParseBool(env(name, "")); err == nil {
		return b
	}
	return def
}

// envInt is env for an integer; a value that is not one is ignored.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(env(name, "")); err == nil {
		return n
	}
	return def
}

// defaultSandboxAddr is where the sandbox listens unless told otherwise: a
// fixed port, so that the sandbox's address in the README and in scripts
// stays the same from one start to the next.
const defaultSandboxAddr = "127.0.0.1:8089"

// serveGCPercent is serve's garbage-collection target when GOGC is not set.
// A webhook allocates a few kilobytes that die at once (JSON in and out),
// so the default 100 collects often while the live heap stays small: 400
// gave 11% more messages per second under loadgen on a 2-core machine, for
// a heap up to five times the live one. GOGC and GOMEMLIMIT still apply.
const serveGCPercent = 400

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", env("PARLEY_ADDR", "127.0.0.1:8080"), "listen address (PARLEY_ADDR)")
	fs.StringVar(&c.data, "data", env("PARLEY_DATA", "./parley-data"), "data directory (PARLEY_DATA)")
	fs.StringVar(&c.store, "store", env("PARLEY_STORE", ""), "where Parley keeps its data: empty for the bbolt file in -data, or a postgres:// URL, which several parley serve processes may share (PARLEY_STORE)")
	fs.StringVar(&c.flowsDir, "flows", env("PARLEY_FLOWS", ""), "a folder of flow files, validated and published at start (PARLEY_FLOWS)")
	fs.StringVar(&c.apiURL, "whatsapp-api-url", env("WHATSAPP_API_URL", "https://graph.facebook.com/v23.0"), "Graph API base URL with version (WHATSAPP_API_URL)")
	fs.StringVar(&c.token, "whatsapp-access-token", env("WHATSAPP_ACCESS_TOKEN", ""), "Cloud API access token; without one Parley runs the built-in sandbox (WHATSAPP_ACCESS_TOKEN)")
	fs.StringVar(&c.appSecret, "whatsapp-app-secret", env("WHATSAPP_APP_SECRET", ""), "app secret that signs webhooks (WHATSAPP_APP_SECRET)")
	fs.StringVar(&c.verifyToken, "whatsapp-verify-token", env("WHATSAPP_VERIFY_TOKEN", ""), "webhook verify token (WHATSAPP_VERIFY_TOKEN)")
	fs.StringVar(&c.phoneNumberID, "whatsapp-phone-number-id", env("WHATSAPP_PHONE_NUMBER_ID", ""), "business phone number id (WHATSAPP_PHONE_NUMBER_ID)")
	fs.StringVar(&c.wabaID, "whatsapp-waba-id", env("WHATSAPP_WABA_ID", ""), "WhatsApp Business Account id (WHATSAPP_WABA_ID)")
	numbersSpec := fs.String("numbers", env("PARLEY_NUMBERS", ""), "several business numbers: a JSON file (or JSON text) listing each one's phone_number_id, waba_id, access_token_env, display_phone_number and portfolio; added after WHATSAPP_PHONE_NUMBER_ID's (PARLEY_NUMBERS)")
	fs.IntVar(&c.messagingLimit, "messaging-limit", envInt("PARLEY_MESSAGING_LIMIT", engine.DefaultMessagingLimit),
		"the business's messaging limit: unique customers reached outside their 24-hour window per moving 24 h (Meta tiers 250, 2000, 10000, 100000); 0 is unlimited (PARLEY_MESSAGING_LIMIT)")
	fs.Float64Var(&c.rate, "rate", engine.DefaultRate, "messages per second per phone number (with PostgreSQL: shared by the processes)")
	fs.IntVar(&c.dispatchWorkers, "dispatch-workers", envInt("PARLEY_DISPATCH_WORKERS", engine.DefaultDispatchWorkers),
		"sends the outbox dispatcher runs at once; each waits for two commits and a Cloud API call, so this bounds replies per second (PARLEY_DISPATCH_WORKERS)")
	fs.StringVar(&c.sandboxAddr, "sandbox-addr", env("PARLEY_SANDBOX_ADDR", defaultSandboxAddr),
		"sandbox: where the built-in WhatsApp sandbox listens, its control API included: loopback only (PARLEY_SANDBOX_ADDR)")
	fs.StringVar(&c.demoShopAddr, "demo-shop-addr", env("PARLEY_DEMO_SHOP_ADDR", defaultDemoShopAddr),
		"sandbox: where the demo shop API the example flows call listens (loopback; \"\" for none) (PARLEY_DEMO_SHOP_ADDR)")
	fs.StringVar(&c.httpAllowHosts, "http-allow-hosts", env(httpcall.AllowEnv, ""),
		"host names, IPs, CIDRs and host:ports flows' http steps may call although loopback, private or link-local, comma-separated ("+httpcall.AllowEnv+")")
	fs.DurationVar(&c.sandboxStatusDelay, "sandbox-status-delay", 50*time.Millisecond, "sandbox: delay between sent, delivered and read statuses")
	fs.Float64Var(&c.sandboxThroughput, "sandbox-throughput", sandbox.DefaultThroughput, "sandbox: the throughput it enforces (130429 above it)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long SIGTERM waits for requests and sends in flight")
	fs.DurationVar(&c.templateRetryFor, "template-retry-for", envDuration("PARLEY_TEMPLATE_RETRY_FOR", engine.DefaultTemplateRetryFor),
		"how long a template that WhatsApp could not take yet (an outage, throttling, a paused account) is tried again before it fails; a free-form message is tried until its 24-hour window closes (PARLEY_TEMPLATE_RETRY_FOR)")
	fs.DurationVar(&c.timerInterval, "timer-interval", 200*time.Millisecond, "how often due timers are checked")
	fs.DurationVar(&c.scheduleGrace, "schedule-grace", envDuration("PARLEY_SCHEDULE_GRACE", schedule.DefaultGrace),
		"a schedule's fire time missed while Parley was down runs once if at most this late, else it is recorded as missed; negative: never late (PARLEY_SCHEDULE_GRACE)")
	fs.DurationVar(&c.scheduleInterval, "schedule-interval", time.Second, "how often schedules are checked for due fire times")
	fs.BoolVar(&c.readReceipts, "read-receipts", envBool("PARLEY_READ_RECEIPTS", true),
		"a reply, the bot's or an agent's, marks the customer's message read (blue ticks) (PARLEY_READ_RECEIPTS=false turns it off)")
	fs.BoolVar(&c.typingIndicator, "typing-indicator", envBool("PARLEY_TYPING_INDICATOR", true),
		"an agent typing in the inbox shows the customer \"typing…\" (PARLEY_TYPING_INDICATOR=false turns it off)")
	fs.StringVar(&c.logLevel, "log-level", env("PARLEY_LOG_LEVEL", "info"), "debug, info, warn or error (PARLEY_LOG_LEVEL)")
	fs.BoolVar(&c.secureCookie, "secure-cookie", env("PARLEY_SECURE_COOKIE", "") == "true", "always mark the session cookie Secure (behind a TLS proxy that sends no X-Forwarded-Proto) (PARLEY_SECURE_COOKIE=true)")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", env("PARLEY_TRUSTED_PROXIES", ""), "reverse proxies (addresses or CIDRs, comma-separated) whose X-Forwarded-For names the client that sign-in throttling counts; without them the client is the TCP peer (PARLEY_TRUSTED_PROXIES)")
	fs.StringVar(&c.metricsToken, "metrics-token", env("PARLEY_METRICS_TOKEN", ""), "when set, /metrics needs Authorization: Bearer <this token> (PARLEY_METRICS_TOKEN)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", env("PARLEY_METRICS_ADDR", ""), "when set, /metrics is served on this address only, not on -addr (PARLEY_METRICS_ADDR)")
	fs.DurationVar(&c.retention, "retention", envDuration("PARLEY_RETENTION", 0),
		"when set (e.g. 2160h for 90 days), conversations that ended, expired or failed are deleted with their transcripts this long after their last activity, in the background; 0 keeps them (PARLEY_RETENTION)")
	startProfile := profileFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if v := env("PARLEY_MESSAGING_LIMIT", ""); v != "" {
		if _, err := strconv.Atoi(v); err != nil {
			fmt.Fprintln(stderr, "parley: PARLEY_MESSAGING_LIMIT:", err)
			return 2
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "messaging-limit":
			c.messagingLimitPinned = true
		case "sandbox-addr":
			c.sandboxAddrSet = true
		}
	})
	c.sandboxAddrSet = c.sandboxAddrSet || env("PARLEY_SANDBOX_ADDR", "") != ""
	if env("PARLEY_MESSAGING_LIMIT", "") != "" {
		c.messagingLimitPinned = true
	}
	if c.messagingLimit < 0 {
		fmt.Fprintln(stderr, "parley: -messaging-limit must be 0 (unlimited) or more")
		return 2
	}
	stopProfile, err := startProfile()
	if err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	defer stopProfile()
	if c.numbers, err = parseNumbers(*numbersSpec, os.Getenv); err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	c.sandbox = c.token == "" && len(c.numbers) == 0
	if err := adminSeedFromEnv(&c); err != nil {
		fmt.Fprintln(stderr, "parley:", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		fmt.Fprintln(stderr, "parley: -log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if err := serve(ctx, c, log); err != nil {
		log.Error("parley serve stopped", "err", err)
		return 1
	}
	return 0
}

// serve runs Parley until ctx is done (SIGTERM or SIGINT): then it stops
// accepting requests, lets those in flight commit, stops the dispatcher
// and the timers, and closes the store.
func serve(ctx context.Context, c serveConfig, log *slog.Logger) error {
	// The port first: a second Parley on it stops here, before it waits
	// for the data file's lock, and the sandbox learns the real address.
	ln := c.listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", c.addr); err != nil {
			return fmt.Errorf("listening on %s (another parley serve? set -addr or PARLEY_ADDR): %w", c.addr, err)
		}
	}
	defer ln.Close()
	c.addr = ln.Addr().String()
	if err := os.MkdirAll(c.data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	store, err := openServeStore(ctx, c.store, c.data, log)
	if err != nil {
		return err
	}
	defer store.Close()
	vault, secretsKey, err := openSecrets(c.data, store, log)
	if err != nil {
		return err
	}

	var sb *sandbox.Sandbox
	if c.sandbox {
		c.token, c.appSecret = sandbox.DefaultAccessToken, sandbox.DefaultAppSecret
		c.phoneNumberID, c.wabaID = sandbox.DefaultPhoneNumberID, sandbox.DefaultWABAID
		if c.verifyToken == "" {
			c.verifyToken = "sandbox-verify-token"
		}
		sb, err = startSandbox(c, log)
		if err != nil {
			return err
		}
		defer func() {
			if err := sb.Close(); err != nil {
				log.Error("sandbox: saving its state", "err", err)
			}
		}()
		c.apiURL = sb.GraphURL()
		cfg := sb.Config()
		log.Warn("no WHATSAPP_ACCESS_TOKEN: running against the built-in WhatsApp sandbox; no message leaves this machine",
			"sandbox", sb.URL(), "phone_number_id", cfg.PhoneNumberID, "display_phone_number", cfg.DisplayPhoneNumber,
			"waba_id", cfg.WABAID, "customers_write_to", sb.URL()+"/_sandbox/customers/{wa_id}/messages")
		c.displayPhone = cfg.DisplayPhoneNumber
	} else if c.appSecret == "" || (c.phoneNumberID == "" && len(c.numbers) == 0) {
		return errors.New("with WHATSAPP_ACCESS_TOKEN set, WHATSAPP_APP_SECRET and WHATSAPP_PHONE_NUMBER_ID (or PARLEY_NUMBERS) are required")
	}
	numbers, err := servedNumbers(&c)
	if err != nil {
		return err
	}
	router, phones, err := numberClients(&c, numbers)
	if err != nil {
		return err
	}
	// The default number's client keeps the template registry's default
	// WABA (c.wabaID, else the default number's); each other WABA of a
	// served number is synced with a client of one of its numbers.
	client := router.Default()
	if c.wabaID == "" {
		c.wabaID = numbers[0].WABAID
	}
	if len(numbers) > 1 {
		log.Info("serving several numbers", "numbers", len(numbers), "default", numbers[0].PhoneNumberID)
	}
	allow := httpcall.ParseAllow(c.httpAllowHosts)
	if sb != nil && c.demoShopAddr != "" {
		if addr := startDemoShop(ctx, c.demoShopAddr, log); addr != "" {
			allow = append(allow, addr) // that port only, not all of loopback
			log.Info("demo shop API for the example flows' http steps", "url", "http://"+addr+"/api/orders/A-17")
		}
	}
	caller, err := httpcall.New(httpcall.Options{Allow: allow})
	if err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	registry := templates.NewRegistry(templates.RegistryOptions{Store: store, Logger: log, Graph: client, WABAID: c.wabaID, Clock: c.clock,
		Accounts: templateAccounts(router, numbers)})
	if was := registry.WABAs(); len(was) > 1 {
		log.Info("templates are kept per WhatsApp Business Account: each send is checked against its number's account; templates created through Parley go to the default account",
			"wabas", strings.Join(was, ","), "default", c.wabaID)
	}
	if err := registry.Load(ctx); err != nil {
		return err
	}
	eng, err := engine.New(ctx, engine.Options{Store: store, Clock: c.clock, Templates: registry, Logger: log, Metrics: reg,
		MessagingLimit: c.messagingLimit, MessagingLimitPinned: c.messagingLimitPinned, PhoneNumbers: phones,
		CheckTemplatesOnPublish: true, HTTP: caller, Secrets: vault})
	if err != nil {
		return err
	}
	// The agents' inbox observes the engine's commits from here on, and
	// rebuilds its queues from the store before any traffic.
	feed := inboxFeed(store, log)
	desk := inbox.New(inbox.Options{Engine: eng, Records: store, Logger: log, Feed: feed})
	if err := desk.Start(ctx); err != nil {
		return err
	}

	docs, err := startupFlows(c)
	if err != nil {
		return err
	}
	if sb != nil {
		if err := seedSandboxTemplates(ctx, client, sb, c.wabaID, docs, log); err != nil {
			return err
		}
	}
	registry.SyncAll(ctx, true)
	if err := publishAll(ctx, eng, docs, log); err != nil {
		return err
	}

	receipts := eng.NewReceipts(engine.ReceiptOptions{Marker: router, Read: c.readReceipts, Typing: c.typingIndicator})
	disp := eng.NewDispatcher(engine.DispatchOptions{Sender: router, Receipts: receipts, Rate: c.rate, Rates: numberRates(numbers), Workers: c.dispatchWorkers, TemplateRetryFor: c.templateRetryFor, Clock: c.paceClock,
		OnPauses: func(ps []engine.Pause) {
			desk.Hub().Publish(inbox.Event{Type: inbox.EventSending, At: time.Now(), Paused: ps})
			if feed != nil {
				// The other processes' inboxes tell their agents too; not
				// on the dispatcher's time.
				go func() {
					sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
					defer cancel()
					if err := feed.Send(sctx, inbox.Note{Kind: inbox.NoteSending, Paused: ps}); err != nil {
						log.Warn("inbox: telling the other processes of a pause of sending", "err", err)
					}
				}()
			}
		}})
	reg.GaugeFunc("parley_outbox_depth", "Messages queued for sending.", func() float64 { return float64(disp.Depth()) })
	reg.GaugeFunc("parley_inbox_leader", "1 when this process makes the inbox's assignment passes (always alone; one process of several on PostgreSQL).", func() float64 {
		if desk.Leader() {
			return 1
		}
		return 0
	})
	reg.GaugeFunc("parley_sending_paused", "Pauses of sending in force (by number, or of every number).", func() float64 { return float64(len(disp.Pauses())) })
	storeMetrics(reg, store)
	authSvc, err := startAuth(ctx, c, store, log)
	if err != nil {
		return err
	}
	sched, err := schedule.New(schedule.Options{Engine: eng, Records: store, Grace: c.scheduleGrace, Logger: log})
	if err != nil {
		return err
	}
	// Event webhooks: the engine records the events subscriptions want
	// from here on, before any traffic.
	hooks, err := startEvents(ctx, store, events.Options{Key: secretsKey, Engine: eng, Clock: c.clock, Logger: log, Metrics: reg})
	if err != nil {
		return err
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	bgLoops := newLoops(bg)
	srv := ui.New(ui.Config{Engine: eng, AppSecret: c.appSecret, VerifyToken: c.verifyToken, Metrics: reg, Logger: log, Templates: registry,
		Auth: authSvc, Inbox: desk, Schedules: sched, Media: router, Typing: receipts, Sending: disp, Ready: readiness(store, bgLoops, disp),
		Backup: backuper(store), BackupDir: c.data, TestChatStore: openTestChatStore, Quarantine: quarantine.New(store), Secrets: vault, Events: hooks,
		MetricsToken: c.metricsToken, MetricsApart: c.metricsAddr != "" || c.metricsListener != nil})
	metricsLn := c.metricsListener
	if c.metricsAddr != "" && metricsLn == nil {
		if metricsLn, err = net.Listen("tcp", c.metricsAddr); err != nil {
			return fmt.Errorf("metrics address: %w", err)
		}
	}

	if c.scheduleInterval <= 0 {
		c.scheduleInterval = time.Second
	}
	bgLoops.run("the outbox dispatcher", disp.Run)
	bgLoops.run("the read receipts", receipts.Run)
	bgLoops.run("the template sync", func(ctx context.Context) error {
		registry.RunSync(ctx, templates.DefaultTemplateSyncInterval)
		return nil
	})
	bgLoops.run("the timers", func(ctx context.Context) error { eng.RunTimers(ctx, c.timerInterval); return nil })
	bgLoops.run("the scheduler", func(ctx context.Context) error { sched.Run(ctx, c.scheduleInterval); return nil })
	bgLoops.run("the inbox", func(ctx context.Context) error { desk.Run(ctx); return nil })
	if hooks != nil {
		bgLoops.run("the event webhooks", func(ctx context.Context) error { hooks.Run(ctx, time.Second); return nil })
	}
	if pruner, ok := store.(conversationPruner); c.retention > 0 && ok {
		bgLoops.run("the retention", func(ctx context.Context) error { return runRetention(ctx, pruner, eng.Clock(), c.retention, log) })
	} else if c.retention > 0 {
		log.Warn("retention is not available on this store: old conversations are kept")
	}

	listenErr := make(chan error, 2) // the main address's, the metrics address's
	go func() { listenErr <- srv.App().Listener(ln) }()
	if metricsLn != nil {
		go func() {
			if err := srv.MetricsApp().Listener(metricsLn); err != nil {
				listenErr <- fmt.Errorf("metrics: %w", err)
			}
		}()
		log.Info("metrics served apart", "addr", "http://"+metricsLn.Addr().String()+"/metrics")
	}
	log.Info("parley serving", "addr", "http://"+c.addr, "data", c.data, "sandbox", sb != nil)
	if c.started != nil {
		c.started(eng)
	}

	select {
	case err = <-listenErr:
		err = fmt.Errorf("serving on %s: %w", c.addr, err)
	case err = <-bgLoops.fatal:
		log.Error("shutting down: a background loop stopped", "err", err)
	case <-ctx.Done():
		log.Info("shutting down")
	}
	// -shutdown-timeout bounds all of it: requests in flight, then the
	// sends on the wire, which are cut off in time for their outcome
	// (unknown, never sent again) to be recorded before it is up.
	start := time.Now()
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	desk.Hub().Close() // live inbox streams end; browsers reconnect to the next process
	if serr := srv.Shutdown(sctx); serr != nil {
		log.Warn("http shutdown", "err", serr)
	}
	stopBG()
	log.Info("dispatcher and timers stopping; waiting for sends in flight")
	stopped := make(chan struct{})
	go func() { bgLoops.wait(); close(stopped) }()
	record := min(2*time.Second, c.shutdownTimeout/4) // to record what Abandon cuts off
	select {
	case <-stopped:
		return err
	case <-time.After(c.shutdownTimeout - record - time.Since(start)):
	}
	log.Warn("shutdown timeout: cutting off the sends still on the wire; their outcome is recorded as unknown and they are never sent again")
	disp.Abandon()
	select {
	case <-stopped:
	case <-sctx.Done():
		log.Error("shutdown timeout: stopping with background work unfinished")
	}
	return err
}

// readiness is /readyz's check: Parley is ready when its store takes
// writes, every background loop runs, and sending is not paused.
func readiness(store dataStore, bg *loops, disp *engine.Dispatcher) func() error {
	return func() error {
		var errs []error
		if err := storeWriteErr(store); err != nil {
			errs = append(errs, fmt.Errorf("the store cannot write: %w", err))
		}
		if err := bg.Down(); err != nil {
			errs = append(errs, err)
		}
		if !disp.Started() {
			errs = append(errs, errors.New("the outbox dispatcher is starting: settling what a stop left and reading the outbox"))
		}
		for _, p := range disp.Pauses() {
			who := "number " + p.Number
			if p.Number == engine.AllNumbers {
				who = "every number"
			}
			errs = append(errs, fmt.Errorf("sending paused for %s since %s: %s (action: %s)", who, p.Since.UTC().Format(time.RFC3339), p.Reason, p.Action))
		}
		return errors.Join(errs...)
	}
}

// flowDoc is a flow file to publish at start.
type flowDoc struct {
	name string
	data []byte
}

// startupFlows reads PARLEY_FLOWS, or the example flows in sandbox mode.
func startupFlows(c serveConfig) ([]flowDoc, error) {
	var fsys fs.FS
	switch {
	case c.flowsDir != "":
		fsys = os.DirFS(c.flowsDir)
	case c.sandbox:
		fsys = examples.FS
	default:
		return nil, nil
	}
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var docs []flowDoc
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("reading flow %s: %w", n, err)
		}
		docs = append(docs, flowDoc{n, data})
	}
	return docs, nil
}

// publishAll publishes each flow file whose content differs from its
// latest published version. The files are all validated first, as Publish
// would (templates included): one with an error stops the start before
// any is published — flows as files in git must not half-deploy — and
// every problem is logged at ERROR with its file, JSON pointer and message.
func publishAll(ctx context.Context, eng *engine.Engine, docs []flowDoc, log *slog.Logger) error {
	var bad []string
	for _, d := range docs {
		f, problems := eng.Validate(d.data)
		if !problems.HasErrors() && f != nil {
			continue
		}
		for _, p := range problems {
			if p.Severity == flows.Error {
				log.Error("flow file has an error", "file", d.name, "pointer", p.Pointer, "problem", p.Message)
			}
		}
		bad = append(bad, fmt.Sprintf("%s: %v", d.name, problems.Err()))
	}
	if len(bad) > 0 {
		return fmt.Errorf("invalid flow files, nothing published:\n%s", strings.Join(bad, "\n"))
	}
	for _, d := range docs {
		f, _ := flows.Parse(d.data)
		if rec, err := eng.Store().Flow(ctx, f.ID); err == nil && rec.Published > 0 {
			if v, err := eng.Store().FlowVersion(ctx, f.ID, rec.Published); err == nil && string(v.Doc) == string(d.data) {
				continue
			}
		}
		v, problems, err := eng.Publish(ctx, d.data, "file:"+d.name)
		if err != nil {
			if perr := problems.Err(); perr != nil {
				err = fmt.Errorf("%w: %v", err, perr)
			}
			return fmt.Errorf("publishing %s: %w", d.name, err)
		}
		log.Info("flow published", "flow", v.Flow, "version", v.Version, "file", d.name)
	}
	return nil
}

// seedSandboxTemplates gives the sandbox its demo templates, realistic
// ones of every kind (sandbox.DemoTemplates), once: kept across restarts
// by the sandbox's state file. A template a startup flow file names that
// is not among them is then created from the flow, approved, so that the
// file can be published — with a warning, since a real account would
// refuse that publish until the template exists.
func seedSandboxTemplates(ctx context.Context, client *whatsapp.Client, sb *sandbox.Sandbox, wabaID string, docs []flowDoc, log *slog.Logger) error {
	if n := sb.SeedTemplates(sandbox.DemoTemplates()); n > 0 {
		log.Info("sandbox: demo templates added", "count", n)
	}
	seen := map[string]bool{}
	for _, t := range sb.Templates() {
		seen[t.Name+"/"+t.Language] = true // kept from an earlier start (Persist)
	}
	for _, d := range docs {
		f, _ := flows.Parse(d.data)
		if f == nil {
			continue
		}
		for _, n := range f.Nodes {
			if n.Template == nil || seen[n.Template.Name+"/"+n.Template.Language] {
				continue
			}
			seen[n.Template.Name+"/"+n.Template.Language] = true
			log.Warn("sandbox: a flow file names a template the sandbox does not have; it is created from the flow", "file", d.name, "template", n.Template.Name, "language", n.Template.Language)
			created, err := client.CreateTemplate(ctx, wabaID, templates.SandboxTemplate(n.Template))
			if err != nil {
				return fmt.Errorf("creating sandbox template %s: %w", n.Template.Name, err)
			}
			if err := sb.ApproveTemplate(created.ID); err != nil {
				return fmt.Errorf("approving sandbox template %s: %w", n.Template.Name, err)
			}
		}
	}
	return nil
}

// sandboxStateFile is the sandbox's state in the data directory: its
// customers and their windows, its templates (sandbox.Persist).
const sandboxStateFile = "sandbox.json"

// startSandbox starts the built-in sandbox on c.sandboxAddr with its state
// kept in the data directory. The default address taken (another Parley's
// sandbox, say) falls back to a fresh port, said at ERROR; an address
// chosen by flag or environment must be free.
func startSandbox(c serveConfig, log *slog.Logger) (*sandbox.Sandbox, error) {
	addr := c.sandboxAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil && !c.sandboxAddrSet && addr != "127.0.0.1:0" {
		taken := err
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err == nil {
			log.Error("the sandbox's address is taken (another parley serve?): the sandbox listens on another port; set PARLEY_SANDBOX_ADDR to choose",
				"wanted", addr, "sandbox", "http://"+ln.Addr().String(), "err", taken)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("starting the sandbox on %s (-sandbox-addr, PARLEY_SANDBOX_ADDR): %w", addr, err)
	}
	sb := sandbox.New(sandbox.Config{
		WebhookURL:  "http://" + c.addr + "/webhook/whatsapp",
		StatusDelay: c.sandboxStatusDelay,
		Throughput:  c.sandboxThroughput,
	})
	if err := sb.Persist(filepath.Join(c.data, sandboxStateFile)); err != nil {
		ln.Close()
		sb.Close()
		return nil, err
	}
	sb.Serve(ln)
	return sb, nil
}

// openSecrets is the secrets store over the data file, its key from
// PARLEY_SECRETS_KEY or the key file beside the data file (made on first
// run), and the key (event webhooks seal their signing secrets under a
// key derived from it). Where the key came from is logged, never the key.
func openSecrets(dir string, store secrets.Records, log *slog.Logger) (*secrets.Store, []byte, error) {
	key, src, err := secrets.LoadKey(dir, os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	switch src {
	case secrets.FromNewFile:
		log.Info("secrets key made: back it up apart from the data file, which cannot open its secrets without it", "file", filepath.Join(dir, secrets.KeyFile))
	case secrets.FromFile:
		path := filepath.Join(dir, secrets.KeyFile)
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			log.Warn("the secrets key file is readable by others than its owner: chmod 600 it", "file", path, "mode", fmt.Sprintf("%o", fi.Mode().Perm()))
		}
	case secrets.FromEnv:
		log.Debug("secrets key from the environment", "var", secrets.KeyEnv)
	}
	vault, err := secrets.New(store, key, nil)
	return vault, key, err
}
