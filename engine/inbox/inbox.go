package inbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
)

// Inbox assigns handed-off conversations to agents and keeps the live
// view of the queues. Create it with New, register it with the engine
// before traffic (New does), load it with Start, and run Run for the
// background passes. It is safe for concurrent use.
type Inbox struct {
	eng     *engine.Engine
	records Records
	log     *slog.Logger
	hub     *Hub
	// feed connects this inbox to the other processes' (nil: alone).
	feed Feed
	// leading: this process makes the assignment passes (always without
	// a feed; with one, while it holds the cluster's lead: cluster.go).
	leading atomic.Bool
	// synced: the feed is connected (cluster.go).
	synced atomic.Bool

	// pass is the assignment lock: one pass decides at a time.
	pass sync.Mutex
	kick chan struct{}

	// mu guards the view below. It is held only for work in memory, never
	// across an engine call or a Publish (the hub's filters read the view).
	mu      sync.RWMutex
	agents  map[string]*agentState
	queues  map[string]*Queue
	canned  map[string]*Canned
	entries map[string]*entry // by conversation id, status agent only
	// tick numbers assignments, for round robin: the agent assigned
	// longest ago (lowest lastAssigned) wins a tie.
	tick uint64
	// dirty, while a reload reads the store (cluster.go), collects the
	// conversations this process's commits touched meanwhile, and
	// dirtyRecords whether it wrote records: they are read again after.
	dirty        map[string]bool
	dirtyRecords bool
	// watch counts, for each conversation being read again after another
	// process's note, this process's commits of it observed since the
	// read began (cluster.go).
	watch map[string]int
	// recMu serialises a write of the records with its change of the
	// view, and a read of them with its: a read older than a write never
	// lands after it (cluster.go).
	recMu sync.Mutex
}

// agentState is an agent's profile and what they hold.
type agentState struct {
	Agent
	open         int // conversations held, reservations included
	lastAssigned uint64
}

// entry is a handed-off conversation as the inbox sees it.
type entry struct {
	conv      string
	contact   model.ContactKey
	name      string // the contact's profile name
	queue     string
	priority  int
	note      string
	handoff   int
	handoffAt time.Time
	assignee  string
	// pending: assignee is a reservation of a pass whose commit has not
	// landed yet; committed is the assignee as last committed.
	pending   bool
	committed string
	// replied: the closed-hours reply was sent (or is no longer due).
	replied bool
	// assignedAt is when the committed assignee got it.
	assignedAt time.Time
	// unread counts the customer's messages (unreadSeqs) after readSeq:
	// the handoff, an agent's last message or an agent opening it,
	// whichever is latest. Kept by seq, not counted, so that the same
	// messages learnt twice or out of order (another process's commits
	// come through the feed, later than this one's) count once. lastSeq
	// is the newest transcript seq seen.
	unread       int
	unreadSeqs   []uint64
	readSeq      uint64
	lastSeq      uint64
	lastActivity time.Time
	preview      string
}

// customerSaid counts the customer's message seq as unread, unless it is
// read already.
func (e *entry) customerSaid(seq uint64) {
	e.lastSeq = max(e.lastSeq, seq)
	if seq <= e.readSeq || slices.Contains(e.unreadSeqs, seq) {
		return
	}
	e.unreadSeqs = append(e.unreadSeqs, seq)
	e.unread = len(e.unreadSeqs)
}

// readUpTo marks everything up to seq read (an agent's message, an agent
// opening the conversation) and reports whether the unread count moved.
func (e *entry) readUpTo(seq uint64) bool {
	e.lastSeq = max(e.lastSeq, seq)
	e.readSeq = max(e.readSeq, seq)
	e.unreadSeqs = slices.DeleteFunc(e.unreadSeqs, func(s uint64) bool { return s <= e.readSeq })
	was := e.unread
	e.unread = len(e.unreadSeqs)
	return was != e.unread
}

// Options configure an Inbox.
type Options struct {
	Engine  *engine.Engine
	Records Records
	Logger  *slog.Logger
	// Feed, when the store is shared with other processes, tells this
	// inbox of their commits and elects the process that assigns
	// (cluster.go). Nil: this process is alone and assigns.
	Feed Feed
}

// New returns an inbox observing the engine's commits. Register it before
// the engine takes traffic, then call Start.
func New(o Options) *Inbox {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	ib := &Inbox{
		eng: o.Engine, records: o.Records, log: o.Logger, hub: NewHub(),
		kick:   make(chan struct{}, 1),
		agents: map[string]*agentState{}, queues: map[string]*Queue{}, canned: map[string]*Canned{},
		entries: map[string]*entry{}, feed: o.Feed, watch: map[string]int{},
	}
	ib.leading.Store(o.Feed == nil)
	o.Engine.Observe(ib.observe)
	return ib
}

// Hub is the inbox's live event hub.
func (ib *Inbox) Hub() *Hub { return ib.hub }

// Start loads the agents, queues and canned responses, and rebuilds the
// queues and each agent's count from the conversations in status agent
// (one listing of the store). Commits observed before Start are part of
// what it reads.
func (ib *Inbox) Start(ctx context.Context) error {
	v, err := ib.load(ctx)
	if err != nil {
		return err
	}
	var stale []string
	for id := range v.reads {
		if v.entries[id] == nil {
			stale = append(stale, id)
		}
	}
	if err := ib.records.ForgetReads(ctx, stale); err != nil {
		return fmt.Errorf("inbox: forgetting read marks: %w", err)
	}
	ib.mu.Lock()
	ib.agents, ib.queues, ib.canned = v.agents, v.queues, v.canned
	// Commits observed since New are newer than the listing, or the same.
	for id, e := range ib.entries {
		v.entries[id] = e
	}
	ib.entries = v.entries
	ib.countOpen()
	ib.mu.Unlock()
	ib.log.Info("inbox loaded", "agents", len(v.agents), "queues", len(v.queues), "handed_off", len(v.entries))
	ib.Kick()
	return nil
}

// view is the inbox's state as read from the store.
type view struct {
	agents  map[string]*agentState
	queues  map[string]*Queue
	canned  map[string]*Canned
	entries map[string]*entry
	reads   map[string]uint64
}

// load reads the records and the conversations in status agent, with
// their unread counts.
func (ib *Inbox) load(ctx context.Context) (*view, error) {
	agents, queues, canned, err := loadRecords(ctx, ib.records)
	if err != nil {
		return nil, err
	}
	st := ib.eng.Store()
	convs, _, err := st.ListConversations(ctx, model.ConversationFilter{Status: model.Agent})
	if err != nil {
		return nil, fmt.Errorf("inbox: listing handed-off conversations: %w", err)
	}
	reads, err := ib.records.Reads(ctx)
	if err != nil {
		return nil, fmt.Errorf("inbox: loading read marks: %w", err)
	}
	entries := map[string]*entry{}
	for _, c := range convs {
		e := entryOf(c)
		e.replied = true // a restart does not repeat closed-hours replies
		if ct, err := st.Contact(ctx, c.Contact); err == nil {
			e.name = ct.Name
		}
		tr, err := st.Transcript(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("inbox: reading %s: %w", c.ID, err)
		}
		e.countUnread(tr, max(c.HandoffSeq, reads[c.ID]))
		entries[c.ID] = e
	}
	return &view{agents: agents, queues: queues, canned: canned, entries: entries, reads: reads}, nil
}

// countOpen sets each agent's count from the entries. Called with mu
// held.
func (ib *Inbox) countOpen() {
	for _, a := range ib.agents {
		a.open = 0
	}
	for _, e := range ib.entries {
		if a := ib.agents[e.assignee]; a != nil {
			a.open++
		}
	}
}

// countUnread sets the entry's unread count and newest seq from its
// transcript: the customer's messages after seq read and after the last
// agent message, as observe counts them live.
func (e *entry) countUnread(transcript []*model.Message, read uint64) {
	e.unread, e.unreadSeqs, e.readSeq = 0, nil, read
	for _, m := range transcript {
		e.lastSeq = max(e.lastSeq, m.Seq)
		switch {
		case m.Direction == model.In:
			e.customerSaid(m.Seq)
		case m.Direction == model.Out && isAgent(m.Sender):
			e.readUpTo(m.Seq)
		}
	}
}

// number is the business number (phone number id) the conversation is
// on.
func (e *entry) number() string { return e.contact.PhoneNumberID() }

// offNumber reports whether e waits in a queue that does not serve its
// number (doc.go). Called with mu held.
func (ib *Inbox) offNumber(e *entry) bool { return !ib.queues[e.queue].Serves(e.number()) }

func entryOf(c *model.Conversation) *entry {
	return &entry{
		conv: c.ID, contact: c.Contact, queue: c.Queue, priority: c.Priority, note: c.Note,
		handoff: c.Handoffs, handoffAt: c.HandoffAt, assignee: c.Assignee, committed: c.Assignee, lastActivity: c.LastActivityAt,
		assignedAt: c.AssignedAt, readSeq: c.HandoffSeq,
	}
}

// Kick asks Run for an assignment pass; it never blocks.
func (ib *Inbox) Kick() {
	select {
	case ib.kick <- struct{}{}:
	default:
	}
}

// retryAfter is the wait before another pass when a pass's commits
// failed for a reason other than the conversation moving on (the store
// is in trouble): soon enough, without spinning.
const retryAfter = time.Second

// Run makes an assignment pass whenever kicked, until ctx is done. With
// a feed it also runs the feed, and returns once the feed has stopped
// (it gives up the lead as it stops).
func (ib *Inbox) Run(ctx context.Context) {
	if ib.feed != nil {
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			if err := ib.feed.Run(ctx, listener{ib}); err != nil && ctx.Err() == nil {
				ib.log.Error("inbox: the feed of other processes' changes stopped", "err", err)
			}
		}()
		defer func() { <-stopped }()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ib.kick:
		}
		if _, err := ib.Rebalance(ctx); err != nil && ctx.Err() == nil {
			ib.log.Error("inbox: assignment pass", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryAfter):
			}
			ib.Kick()
		}
	}
}

// reservation is one decision of a pass.
type reservation struct {
	conv, agent string
	handoff     int
}

// Rebalance makes one assignment pass: it assigns waiting conversations
// to online agents with room (doc.go), commits the assignments, and sends
// the closed-hours replies due. It returns how many it assigned. Passes
// are serialised; Run calls it when kicked, tests call it directly. In a
// process that does not lead (cluster.go) it does nothing: the leader's
// pass follows the same commits, which the feed brings it.
func (ib *Inbox) Rebalance(ctx context.Context) (int, error) {
	ib.pass.Lock()
	defer ib.pass.Unlock()
	if !ib.leading.Load() {
		return 0, nil
	}
	ib.mu.Lock()
	res := ib.match()
	ib.mu.Unlock()

	// A commit cut short by ctx may land all the same (boltstore's do),
	// and then the view would give back a place the store holds: once
	// decided, a pass's commits run to their end.
	ctx = context.WithoutCancel(ctx)
	errs := make([]error, len(res))
	var wg sync.WaitGroup
	for i, r := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = ib.eng.Assign(ctx, r.conv, r.handoff, r.agent, "")
		}()
	}
	wg.Wait()
	assigned := 0
	var failed error
	for i, r := range res {
		if errs[i] == nil {
			assigned++
			continue
		}
		ib.release(r)
		if !moved(errs[i]) {
			failed = errors.Join(failed, fmt.Errorf("assigning %s to %s: %w", r.conv, r.agent, errs[i]))
		}
	}
	ib.closedReplies(ctx)
	return assigned, failed
}

// match reserves an agent for each waiting conversation it can place,
// highest priority then oldest handoff first. Called with mu held.
func (ib *Inbox) match() []reservation {
	var waiting []*entry
	for _, e := range ib.entries {
		if e.assignee == "" {
			waiting = append(waiting, e)
		}
	}
	if len(waiting) == 0 {
		return nil
	}
	slices.SortFunc(waiting, queueOrder)
	var res []reservation
	for _, e := range waiting {
		if ib.offNumber(e) {
			continue // its queue's agents serve other numbers: an admin moves it
		}
		a := ib.pick(e.queue)
		if a == nil {
			continue
		}
		ib.tick++
		a.lastAssigned = ib.tick
		ib.setAssignee(e, a.Email)
		e.pending = true
		res = append(res, reservation{conv: e.conv, agent: a.Email, handoff: e.handoff})
	}
	return res
}

// queueOrder is the order a queue is served in: highest priority, then
// oldest handoff, then conversation id (so equal times still have one
// order).
func queueOrder(a, b *entry) int {
	if c := cmp.Compare(b.priority, a.priority); c != 0 {
		return c
	}
	if c := a.handoffAt.Compare(b.handoffAt); c != 0 {
		return c
	}
	return cmp.Compare(a.conv, b.conv)
}

// pick is the agent a conversation of queue q goes to (one on a number
// q serves): online, in q, below capacity; fewest open, then assigned longest ago, then by email.
func (ib *Inbox) pick(q string) *agentState {
	var best *agentState
	for _, a := range ib.agents {
		if a.Status != Online || a.open >= a.Capacity || !a.InQueue(q) {
			continue
		}
		if best == nil || a.open < best.open ||
			(a.open == best.open && (a.lastAssigned < best.lastAssigned ||
				(a.lastAssigned == best.lastAssigned && a.Email < best.Email))) {
			best = a
		}
	}
	return best
}

// setAssignee moves e to agent (or to nobody), keeping the counts.
// Called with mu held.
func (ib *Inbox) setAssignee(e *entry, agent string) {
	if e.assignee == agent {
		return
	}
	if a := ib.agents[e.assignee]; a != nil {
		a.open--
	}
	e.assignee = agent
	if a := ib.agents[agent]; a != nil {
		a.open++
	}
}

// release gives back a reservation whose commit failed, if it still
// stands.
func (ib *Inbox) release(r reservation) {
	ib.mu.Lock()
	defer ib.mu.Unlock()
	if e := ib.entries[r.conv]; e != nil && e.pending && e.assignee == r.agent && e.handoff == r.handoff {
		ib.setAssignee(e, "")
		e.pending = false
	}
}

// closedReplies sends the closed-hours reply to each conversation that
// is still waiting after its first pass, when its queue is closed.
func (ib *Inbox) closedReplies(ctx context.Context) {
	type due struct {
		conv, text string
		handoff    int
	}
	now := ib.eng.Clock().Now()
	var todo []due
	ib.mu.Lock()
	for _, e := range ib.entries {
		if e.replied {
			continue
		}
		e.replied = true
		if e.assignee != "" {
			continue
		}
		if text := ib.queues[e.queue].closedReply(now); text != "" {
			todo = append(todo, due{e.conv, text, e.handoff})
		}
	}
	ib.mu.Unlock()
	for _, d := range todo {
		err := ib.eng.AutoReply(ctx, d.conv, d.handoff, d.text)
		switch {
		case errors.Is(err, engine.ErrWindowClosed):
			ib.log.Info("inbox: queue closed, no reply sent: the 24-hour window is closed", "conversation", d.conv)
		case err != nil && !errors.Is(err, engine.ErrNoConversation) && !errors.Is(err, engine.ErrStaleHandoff):
			ib.log.Error("inbox: sending the closed-hours reply", "conversation", d.conv, "err", err)
		}
	}
}
