package pgstore_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/pgstore"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

// Two (or three) engines with their inboxes on one database, as processes
// of a cluster: the feed brings each the others' commits, and one leads
// the assignment.

const feedPhone = "100000000000001"

// feedFlow hands every customer to the support queue.
const feedFlow = `{"format": "parley/flow@1", "id": "escalate", "start": "h",
 "triggers": [{"type": "any"}],
 "nodes": [
  {"id": "h", "type": "handoff", "queue": "support", "next": "after"},
  {"id": "after", "type": "send", "message": {"type": "text", "text": "thanks"}}
 ]}`

// feedCheck is the feed's check in these tests: a dead leader is replaced
// within it.
const feedCheck = 20 * time.Millisecond

// waitFor bounds every wait on something the processes do by themselves.
const waitFor = 30 * time.Second

// node is one process: a store handle, an engine, an inbox running.
type node struct {
	name string
	st   *pgstore.Store
	eng  *engine.Engine
	ib   *inbox.Inbox
	stop context.CancelFunc
	done chan struct{}
}

// cluster is the processes on one database, with one clock.
type cluster struct {
	t     testing.TB
	path  string
	clock *engine.ManualClock
	seq   atomic.Int64
}

func newCluster(t testing.TB) *cluster {
	testURL(t)
	return &cluster{t: t, path: filepath.Join(t.TempDir(), "db"), clock: engine.NewManualClock(t0)}
}

// start opens a process and runs its inbox (feed and passes) until the
// test ends or stop.
func (c *cluster) start(name string) *node { return c.startWith(name, feedCheck) }

// startWith is start with the feed's check.
func (c *cluster) startWith(name string, check time.Duration) *node {
	t := c.t
	t.Helper()
	ctx := context.Background()
	// Few connections: the database is shared with other tests, and
	// these open two or three processes.
	st, err := pgstore.Open(context.Background(), urlAt(t, c.path)+"&pool_max_conns=4")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("PARLEY_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("node", name)
	}
	eng, err := engine.New(ctx, engine.Options{Store: st, Clock: c.clock, Templates: templates.NewTemplateSet(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if fs, err := eng.Store().Flows(ctx); err != nil || len(fs) == 0 {
		if v, problems, err := eng.Publish(ctx, []byte(feedFlow), "test"); err != nil || v == nil {
			t.Fatalf("publish: %v %v", err, problems.Err())
		}
	}
	ib := inbox.New(inbox.Options{Engine: eng, Records: st, Logger: log, Feed: st.Feed(log, check)})
	if err := ib.Start(ctx); err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	n := &node{name: name, st: st, eng: eng, ib: ib, stop: stop, done: make(chan struct{})}
	go func() { defer close(n.done); ib.Run(rctx) }()
	t.Cleanup(func() { n.halt(); st.Close() })
	eventually(t, name+"'s feed connected", ib.Synced)
	return n
}

// halt stops the process's inbox: it gives up the lead as it goes.
func (n *node) halt() {
	n.stop()
	<-n.done
}

func feedWa(i int) string { return fmt.Sprintf("1555%07d", i) }

func feedConv(i int) string { return feedPhone + ":" + feedWa(i) + "#1" }

// say is customer i writing, through process n.
func (c *cluster) say(n *node, i int, text string) {
	c.t.Helper()
	_, err := n.eng.HandleInbound(context.Background(), &engine.Inbound{
		PhoneNumberID: feedPhone, ID: fmt.Sprintf("wamid.%d", c.seq.Add(1)), WaID: feedWa(i), Name: fmt.Sprintf("Customer %d", i),
		At: c.clock.Now(), Reply: flows.Reply{Type: flows.MsgText, Text: text},
	})
	if err != nil {
		c.t.Errorf("customer %d through %s: %v", i, n.name, err)
	}
}

func (c *cluster) agent(n *node, email string, capacity int) {
	c.t.Helper()
	if _, err := n.ib.PutAgent(context.Background(), inbox.Agent{Email: email, Capacity: capacity, Queues: []string{"support"}, Status: inbox.Online}); err != nil {
		c.t.Fatal(err)
	}
}

// eventually waits until cond holds, checking whenever the clock of the
// test's deadline allows; cond reads state the processes change on their
// own.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", waitFor, what)
		}
		<-tick.C
	}
}

// next returns the first event of sub that match takes, skipping others.
func next(t testing.TB, sub *inbox.Subscription, what string, match func(inbox.Event) bool) inbox.Event {
	t.Helper()
	timeout := time.NewTimer(waitFor)
	defer timeout.Stop()
	for {
		select {
		case ev, ok := <-sub.C:
			if !ok {
				t.Fatalf("waiting for %s: the subscription was cut", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout.C:
			t.Fatalf("no %s after %v", what, waitFor)
		}
	}
}

// stored counts each agent's conversations in the store, in one snapshot.
func stored(t *testing.T, st *pgstore.Store) map[string]int {
	t.Helper()
	convs, _, err := st.ListConversations(context.Background(), model.ConversationFilter{Status: model.Agent})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, c := range convs {
		if c.Assignee != "" {
			m[c.Assignee]++
		}
	}
	return m
}

func viewed(ib *inbox.Inbox) map[string]int {
	m := map[string]int{}
	for _, a := range ib.Agents() {
		if a.Open > 0 {
			m[a.Email] = a.Open
		}
	}
	return m
}

// TestFeedLiveEvents: what one process commits shows live in the other's
// inbox: a handoff, the leader's assignment, an agent's reply, a read,
// an agent's status, the resolution.
func TestFeedLiveEvents(t *testing.T) {
	c := newCluster(t)
	a := c.start("A")
	eventually(t, "A leads", a.ib.Leader)
	b := c.start("B")
	subB, _, _ := b.ib.Hub().Subscribe("", nil)
	defer subB.Close()
	subA, _, _ := a.ib.Hub().Subscribe("", nil)
	defer subA.Close()
	conv := feedConv(1)
	of := func(typ inbox.EventType) func(inbox.Event) bool {
		return func(ev inbox.Event) bool { return ev.Type == typ && ev.Conversation == conv }
	}

	c.say(a, 1, "help")
	next(t, subB, "the handoff on B", of(inbox.EventHandoff))
	ev := next(t, subB, "the customer's message on B", of(inbox.EventMessage))
	if ev.Message.Direction != model.In || ev.Unread != 1 {
		t.Errorf("message on B = %+v, want the customer's, unread 1", ev)
	}
	if it, err := b.ib.Item(conv); err != nil || it.Name != "Customer 1" || it.Queue != "support" || it.Unread != 1 {
		t.Errorf("B's item = %+v, %v", it, err)
	}

	// An agent comes online through B; A, which leads, assigns.
	c.agent(b, "ana@example.com", 2)
	next(t, subA, "the agent on A", func(ev inbox.Event) bool { return ev.Type == inbox.EventAgent && ev.Agent.Email == "ana@example.com" })
	ev = next(t, subB, "the assignment on B", of(inbox.EventAssigned))
	if ev.Assignee != "ana@example.com" {
		t.Errorf("assigned on B = %+v", ev)
	}
	if got := viewed(b.ib); !maps.Equal(got, map[string]int{"ana@example.com": 1}) {
		t.Errorf("B's counts = %v", got)
	}

	// She answers through B; A sees it, and the unread count drops.
	if err := b.eng.AgentSend(context.Background(), conv, "ana@example.com", flows.Message{Type: flows.MsgText, Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	ev = next(t, subA, "the agent's reply on A", func(ev inbox.Event) bool {
		return ev.Type == inbox.EventMessage && ev.Conversation == conv && ev.Message.Direction == model.Out
	})
	if ev.Unread != 0 {
		t.Errorf("reply on A: unread %d", ev.Unread)
	}
	// The customer again, through A; she opens it in B; A sees the read.
	c.say(a, 1, "still there?")
	eventually(t, "B counts the new message", func() bool { it, err := b.ib.Item(conv); return err == nil && it.Unread == 1 })
	if err := b.ib.MarkRead(context.Background(), conv); err != nil {
		t.Fatal(err)
	}
	next(t, subA, "the read on A", of(inbox.EventRead))
	if it, err := a.ib.Item(conv); err != nil || it.Unread != 0 {
		t.Errorf("A's item after the read = %+v, %v", it, err)
	}

	// Resolved through A: B sees it leave.
	if err := a.eng.ResolveConversation(context.Background(), conv, "ana@example.com", "done"); err != nil {
		t.Fatal(err)
	}
	next(t, subB, "the close on B", of(inbox.EventClosed))
	if _, err := b.ib.Item(conv); err == nil {
		t.Error("B still lists the resolved conversation")
	}
	if got := viewed(b.ib); len(got) != 0 {
		t.Errorf("B's counts after the resolution = %v", got)
	}
	// Queues and canned responses made in one process are in the other's.
	if _, err := b.ib.PutQueue(context.Background(), inbox.Queue{ID: "support", Name: "Support"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A has B's queue", func() bool { q, err := a.ib.Queue("support"); return err == nil && q.Name == "Support" })
	cn, err := a.ib.PutCanned(context.Background(), inbox.Canned{Title: "Hi", Text: "Hello!"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "B has A's canned response", func() bool { _, err := b.ib.Canned(cn.ID); return err == nil })
	if err := a.ib.DeleteCanned(context.Background(), cn.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B lost it", func() bool { _, err := b.ib.Canned(cn.ID); return err != nil })

	// A pause of sending, told through the feed.
	if err := a.st.Feed(nil, 0).Send(context.Background(), inbox.Note{Kind: inbox.NoteSending, Paused: []engine.Pause{{Number: feedPhone, Reason: "test"}}}); err != nil {
		t.Fatal(err)
	}
	ev = next(t, subB, "the pause on B", func(ev inbox.Event) bool { return ev.Type == inbox.EventSending })
	if len(ev.Paused) != 1 || ev.Paused[0].Number != feedPhone {
		t.Errorf("pause on B = %+v", ev)
	}
	if b.ib.Leader() {
		t.Error("B leads too")
	}
}

// TestFeedAssignsWithinCapacity hands off many customers at once through
// two processes, the agents made through either: only the leader
// assigns, so no agent goes over capacity, the load is spread fairly,
// every place is filled, and both views agree with the store.
func TestFeedAssignsWithinCapacity(t *testing.T) {
	cases := []struct {
		name       string
		handoffs   int
		capacities []int
	}{
		{"room for all", 60, []int{20, 20, 20}},
		{"more customers than places", 60, []int{5, 10, 15}},
		{"capacity one", 40, []int{1, 1, 1, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t)
			a := c.start("A")
			b := c.start("B")
			eventually(t, "one of A and B leads", func() bool { return a.ib.Leader() != b.ib.Leader() })
			nodes := []*node{a, b}
			caps := map[string]int{}
			total := 0
			for i, n := range tc.capacities {
				email := fmt.Sprintf("agent%d@example.com", i)
				caps[email] = n
				total += n
				c.agent(nodes[i%2], email, n)
			}
			// Eight customers at a time: the database is shared with
			// other tests (each handle may take 24 connections).
			var wg sync.WaitGroup
			work := make(chan int)
			for range 8 {
				wg.Go(func() {
					for i := range work {
						c.say(nodes[i%2], i, "help")
					}
				})
			}
			for i := range tc.handoffs {
				work <- i
			}
			close(work)
			wg.Wait()
			want := min(tc.handoffs, total)
			sum := func(m map[string]int) int {
				s := 0
				for _, n := range m {
					s += n
				}
				return s
			}
			start0 := time.Now()
			eventually(t, fmt.Sprintf("%d places filled", want), func() bool {
				if time.Now().After(start0.Add(waitFor - time.Second)) {
					for _, n := range nodes {
						t.Logf("%s leads %v synced %v: view %v, waiting %d, agents %+v", n.name, n.ib.Leader(), n.ib.Synced(), viewed(n.ib),
							len(n.ib.List(inbox.Viewer{Admin: true}, inbox.ListFilter{Unassigned: true})), n.ib.Agents())
					}
					t.Logf("store %v", stored(t, a.st))
				}
				return sum(stored(t, a.st)) == want
			})
			got := stored(t, a.st)
			start := time.Now()
			for ag, n := range got {
				if n > caps[ag] {
					t.Errorf("%s holds %d, capacity %d", ag, n, caps[ag])
				}
				for other, m := range got {
					if n < caps[ag] && m > n+1 {
						t.Errorf("%s holds %d with room while %s holds %d: unfair", ag, n, other, m)
					}
				}
			}
			for _, n := range nodes {
				eventually(t, n.name+"'s view agrees with the store", func() bool {
					if time.Now().After(start.Add(waitFor - time.Second)) {
						t.Logf("%s's view %v, store %v", n.name, viewed(n.ib), got)
						for _, it := range n.ib.List(inbox.Viewer{Admin: true}, inbox.ListFilter{}) {
							if cv, err := n.st.Conversation(context.Background(), it.Conversation); err == nil && cv.Assignee != it.Assignee {
								t.Logf("%s: view %q, store %q", it.Conversation, it.Assignee, cv.Assignee)
							}
						}
					}
					return maps.Equal(viewed(n.ib), got)
				})
				eventually(t, fmt.Sprintf("%s lists %d waiting", n.name, tc.handoffs-want), func() bool {
					return len(n.ib.List(inbox.Viewer{Admin: true}, inbox.ListFilter{Unassigned: true})) == tc.handoffs-want
				})
			}
		})
	}
}

// TestFeedCapacityOneWithResolutions: agents of capacity 1, customers
// handed off through both processes, each conversation resolved through
// either as soon as it is assigned: every one is assigned once, and no
// snapshot of the database ever shows an agent holding two.
func TestFeedCapacityOneWithResolutions(t *testing.T) {
	c := newCluster(t)
	a := c.start("A")
	b := c.start("B")
	nodes := []*node{a, b}
	agents := []string{"x@example.com", "y@example.com", "z@example.com"}
	for i, email := range agents {
		c.agent(nodes[i%2], email, 1)
	}
	const handoffs = 30
	go func() {
		for i := range handoffs {
			c.say(nodes[i%2], i, "help")
		}
	}()
	ctx := context.Background()
	resolved := map[string]bool{}
	deadline := time.Now().Add(waitFor)
	for len(resolved) < handoffs {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d of %d resolved", waitFor, len(resolved), handoffs)
		}
		convs, _, err := a.st.ListConversations(ctx, model.ConversationFilter{Status: model.Agent})
		if err != nil {
			t.Fatal(err)
		}
		held := map[string]int{}
		for _, cv := range convs {
			if cv.Assignee == "" {
				continue
			}
			if held[cv.Assignee]++; held[cv.Assignee] > 1 {
				t.Fatalf("%s holds two conversations at once", cv.Assignee)
			}
			n := nodes[len(resolved)%2]
			if err := n.eng.ResolveConversation(ctx, cv.ID, cv.Assignee, "done"); err != nil {
				t.Fatal(err)
			}
			resolved[cv.ID] = true
		}
	}
	for i := range handoffs {
		tr, err := a.st.Transcript(ctx, feedConv(i))
		if err != nil {
			t.Fatal(err)
		}
		assigned := 0
		for _, m := range tr {
			if m.Direction == model.Note && strings.HasPrefix(m.Text, "assigned to ") {
				assigned++
			}
		}
		if assigned != 1 {
			t.Errorf("conversation %d assigned %d times, want once", i, assigned)
		}
	}
}

// TestFeedLeaderTakeover: when the leader stops, another process takes
// the lead at once and assigns; when a leader's connection is cut (as
// when its process dies), another takes over within the check, the cut
// one reads its view again (its streams are told to reset), and exactly
// one leads; when the leader's store is closed, it gives the lead up.
func TestFeedLeaderTakeover(t *testing.T) {
	c := newCluster(t)
	a := c.start("A")
	eventually(t, "A leads", a.ib.Leader)
	b := c.start("B")
	d := c.start("C")
	c.agent(b, "ana@example.com", 10)

	a.halt()
	eventually(t, "B or C leads after A stopped", func() bool { return b.ib.Leader() != d.ib.Leader() })
	c.say(b, 1, "help")
	eventually(t, "the handoff assigned by the new leader", func() bool {
		it, err := b.ib.Item(feedConv(1))
		return err == nil && it.Assignee == "ana@example.com"
	})

	// Cut the leader's connection, as its process dying would.
	lead, other := b, d
	if d.ib.Leader() {
		lead, other = d, b
	}
	sub, _, _ := lead.ib.Hub().Subscribe("", nil)
	defer sub.Close()
	var killed bool
	if err := a.st.Pool().QueryRow(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
		"parley inbox feed "+pgstore.FeedID(lead.st)).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating %s's feed: %v %v", lead.name, killed, err)
	}
	next(t, sub, "a reset on "+lead.name+" after its feed reconnected", func(ev inbox.Event) bool { return ev.Type == inbox.EventReset })
	eventually(t, "exactly one leads", func() bool { return b.ib.Leader() != d.ib.Leader() })
	c.say(other, 2, "help")
	eventually(t, "the next handoff assigned", func() bool {
		for _, n := range []*node{b, d} {
			if it, err := n.ib.Item(feedConv(2)); err != nil || it.Assignee != "ana@example.com" {
				return false
			}
		}
		return true
	})
	if got := stored(t, b.st); !maps.Equal(got, map[string]int{"ana@example.com": 2}) {
		t.Errorf("stored = %v", got)
	}

	// The leader's store closes under its running inbox: it gives the
	// lead up, and the other assigns.
	lead, other = b, d
	if d.ib.Leader() {
		lead, other = d, b
	}
	lead.st.Close()
	eventually(t, other.name+" leads after "+lead.name+"'s store closed", other.ib.Leader)
	c.say(other, 3, "help")
	eventually(t, "the handoff after the close assigned", func() bool {
		it, err := other.ib.Item(feedConv(3))
		return err == nil && it.Assignee == "ana@example.com"
	})
}

// BenchmarkFeedLag measures how long after a handoff's commit returns in
// one process the other process's hub publishes it: the feed's lag (the
// NOTIFY, and the conversation, contact and message read again).
func BenchmarkFeedLag(b *testing.B) {
	c := newCluster(b)
	a := c.start("A")
	o := c.start("B")
	sub, _, _ := o.ib.Hub().Subscribe("", nil)
	defer sub.Close()
	var lag time.Duration
	n := 0
	for i := 0; b.Loop(); i++ {
		c.say(a, i, "help")
		done := time.Now()
		next(b, sub, "the handoff on B", func(ev inbox.Event) bool { return ev.Type == inbox.EventHandoff && ev.Conversation == feedConv(i) })
		lag += time.Since(done)
		n++
	}
	b.ReportMetric(float64(lag.Microseconds())/float64(n), "us-lag/op")
}

// TestFeedAgentOffline: an agent who goes offline through one process
// gives back what they hold, and the leader, in the other, gives it to an
// agent online.
func TestFeedAgentOffline(t *testing.T) {
	c := newCluster(t)
	a := c.start("A")
	eventually(t, "A leads", a.ib.Leader)
	b := c.start("B")
	ctx := context.Background()
	c.agent(a, "ana@example.com", 1)
	c.say(b, 1, "help")
	conv := feedConv(1)
	eventually(t, "B sees ana hold it", func() bool { it, err := b.ib.Item(conv); return err == nil && it.Assignee == "ana@example.com" })
	if _, err := b.ib.SetStatus(ctx, "ana@example.com", inbox.Offline); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ib.PutAgent(ctx, inbox.Agent{Email: "bob@example.com", Capacity: 1, Queues: []string{"support"}, Status: inbox.Online}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{a, b} {
		eventually(t, n.name+" sees bob hold it", func() bool {
			it, err := n.ib.Item(conv)
			return err == nil && it.Assignee == "bob@example.com" && maps.Equal(viewed(n.ib), map[string]int{"bob@example.com": 1})
		})
	}
	if got := stored(t, a.st); !maps.Equal(got, map[string]int{"bob@example.com": 1}) {
		t.Errorf("stored = %v", got)
	}
}

// BenchmarkFeedBurst hands off a burst of customers through one process,
// eight at a time, and measures how far behind the other process's view
// is when the last commit returns: whether a process that reads every
// note again keeps up with one that commits.
func BenchmarkFeedBurst(b *testing.B) {
	const burst = 100
	c := newCluster(b)
	a := c.start("A")
	o := c.start("B")
	var behind time.Duration
	var commits time.Duration
	first := 0
	for b.Loop() {
		start := time.Now()
		var wg sync.WaitGroup
		work := make(chan int)
		for range 8 {
			wg.Go(func() {
				for i := range work {
					c.say(a, i, "help")
				}
			})
		}
		for i := first; i < first+burst; i++ {
			work <- i
		}
		close(work)
		wg.Wait()
		done := time.Now()
		commits += done.Sub(start)
		last := first + burst
		eventually(b, "B has the burst", func() bool {
			return len(o.ib.List(inbox.Viewer{Admin: true}, inbox.ListFilter{})) == last
		})
		behind += time.Since(done)
		first = last
	}
	b.ReportMetric(float64(commits.Milliseconds())/float64(b.N), "ms-commits/op")
	b.ReportMetric(float64(behind.Milliseconds())/float64(b.N), "ms-behind/op")
}

// TestFeedTakeoverUnderTraffic: a leader dies without a word (its feed's
// connection cut, and it does not come back) while notes keep coming: the
// other process still tries the lead every check, and takes it.
func TestFeedTakeoverUnderTraffic(t *testing.T) {
	c := newCluster(t)
	a := c.startWith("A", time.Hour) // cut, it connects again only in an hour
	eventually(t, "A leads", a.ib.Leader)
	// A check long enough that the notes' gaps stay far below it.
	b := c.startWith("B", 250*time.Millisecond)
	chatter := openAt(t, c.path)
	defer chatter.Close()
	// Notes without a pause: three senders, so that the gaps between
	// them stay far below the check even on a loaded machine.
	stop := make(chan struct{})
	var chatting sync.WaitGroup
	for range 3 {
		chatting.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = chatter.Feed(nil, 0).Send(context.Background(), inbox.Note{Kind: inbox.NoteSending})
			}
		})
	}
	defer func() { close(stop); chatting.Wait() }()
	var killed bool
	if err := chatter.Pool().QueryRow(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
		"parley inbox feed "+pgstore.FeedID(a.st)).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating A's feed: %v %v", killed, err)
	}
	eventually(t, "B leads while notes keep coming", b.ib.Leader)
}
