package inbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
)

// Several processes on one store (doc.go, "Several processes"): the feed
// brings other processes' changes into the view, and the process that
// leads makes the assignment passes.

// listener is the inbox as its feed's Listener.
type listener struct{ ib *Inbox }

func (l listener) Connected(ctx context.Context) error {
	if err := l.ib.reload(ctx); err != nil {
		return err
	}
	l.ib.synced.Store(true)
	return nil
}

func (l listener) Disconnected(error) { l.ib.synced.Store(false) }

func (l listener) Note(ctx context.Context, n Note) error { return l.ib.apply(ctx, n) }

func (l listener) Leading(lead bool) { l.ib.lead(lead) }

// Synced reports whether the inbox learns the other processes' changes
// now: always without a feed; with one, while it is connected (its view
// was read again when it connected).
func (ib *Inbox) Synced() bool { return ib.feed == nil || ib.synced.Load() }

// Leader reports whether this process makes the assignment passes: always
// without a feed.
func (ib *Inbox) Leader() bool { return ib.leading.Load() }

// lead makes this process the one that assigns, or stops it. Taking the
// lead, it counts every conversation it knows as replied to (another
// process may have sent the closed-hours reply, as a restart does), and
// orders the agents for round robin by when they were last given one.
func (ib *Inbox) lead(lead bool) {
	if !lead {
		if ib.leading.Swap(false) {
			ib.log.Info("inbox: no longer making the assignment passes")
		}
		return
	}
	ib.pass.Lock()
	ib.mu.Lock()
	for _, e := range ib.entries {
		e.replied = true
	}
	ib.orderAgents()
	ib.mu.Unlock()
	ib.leading.Store(true)
	ib.pass.Unlock()
	ib.log.Info("inbox: this process makes the assignment passes")
	ib.Kick()
}

// orderAgents numbers the agents for round robin by the latest
// assignment among the conversations they hold (none: first). Called
// with mu held.
func (ib *Inbox) orderAgents() {
	latest := map[string]*entry{}
	for _, e := range ib.entries {
		if l := latest[e.committed]; e.committed != "" && (l == nil || e.assignedAt.After(l.assignedAt)) {
			latest[e.committed] = e
		}
	}
	as := make([]*agentState, 0, len(ib.agents))
	for _, a := range ib.agents {
		as = append(as, a)
	}
	slices.SortFunc(as, func(a, b *agentState) int {
		la, lb := latest[a.Email], latest[b.Email]
		switch {
		case la == nil && lb == nil:
			return cmp.Compare(a.Email, b.Email)
		case la == nil:
			return -1
		case lb == nil:
			return 1
		}
		if c := la.assignedAt.Compare(lb.assignedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Email, b.Email)
	})
	for _, a := range as {
		ib.tick++
		a.lastAssigned = ib.tick
	}
}

// reload reads the view again from the store: the feed (re)connected,
// and what other processes did while it was away is unknown. No pass
// runs meanwhile. This process's own commits and record writes go on: the
// conversations they touch (dirty) and the records are read again once
// the new view is in place. Live streams are told to reload (EventReset).
func (ib *Inbox) reload(ctx context.Context) error {
	ib.pass.Lock()
	defer ib.pass.Unlock()
	ib.mu.Lock()
	ib.dirty, ib.dirtyRecords = map[string]bool{}, false
	ib.mu.Unlock()
	v, err := ib.load(ctx)
	ib.mu.Lock()
	dirty, dirtyRecords := ib.dirty, ib.dirtyRecords
	ib.dirty = nil
	if err != nil {
		ib.mu.Unlock()
		return err
	}
	for email, a := range v.agents {
		if old := ib.agents[email]; old != nil {
			a.lastAssigned = old.lastAssigned
		}
	}
	for id, e := range v.entries {
		if old := ib.entries[id]; old != nil && old.handoff == e.handoff {
			e.replied = old.replied
			if old.pending && e.assignee == "" {
				// A claim in flight: its commit, observed, settles it.
				e.assignee, e.pending = old.assignee, true
			}
		}
	}
	ib.agents, ib.queues, ib.canned, ib.entries = v.agents, v.queues, v.canned, v.entries
	ib.countOpen()
	ib.mu.Unlock()
	for id := range dirty {
		if err := ib.refresh(ctx, Note{Kind: NoteConversation, ID: id}); err != nil {
			return err
		}
	}
	if dirtyRecords {
		if _, err := ib.refreshRecords(ctx); err != nil {
			return err
		}
	}
	ib.log.Info("inbox: view read again", "agents", len(v.agents), "handed_off", len(v.entries))
	ib.hub.Publish(Event{Type: EventReset, At: ib.eng.Clock().Now()})
	ib.Kick()
	return nil
}

// apply brings another process's note into the view.
func (ib *Inbox) apply(ctx context.Context, n Note) error {
	switch n.Kind {
	case NoteConversation:
		return ib.refresh(ctx, n)
	case NoteAgent, NoteQueue, NoteCanned:
		offline, err := ib.refreshRecords(ctx)
		if err != nil || len(offline) == 0 {
			return err
		}
		// An agent went offline in another process, which returned what
		// it saw them hold; a pass of this one may have given them one
		// more since. Once no pass is in flight, the leader returns it.
		ib.pass.Lock()
		defer ib.pass.Unlock()
		if !ib.leading.Load() {
			return nil
		}
		for _, email := range offline {
			if err := ib.returnHeld(ctx, email); err != nil {
				ib.log.Error("inbox: returning an offline agent's conversations", "err", err)
			}
		}
	case NoteRead:
		ib.mu.Lock()
		e := ib.entries[n.ID]
		var ev *Event
		if e != nil && e.readUpTo(n.Seq) && e.unread == 0 {
			ev = &Event{Type: EventRead, At: ib.eng.Clock().Now(), Conversation: e.conv, Contact: e.contact, Status: model.Agent, Queue: e.queue, Assignee: e.assignee}
		}
		ib.mu.Unlock()
		if ev != nil {
			ib.hub.Publish(*ev)
		}
	case NoteSending:
		ib.hub.Publish(Event{Type: EventSending, At: ib.eng.Clock().Now(), Paused: n.Paused})
	}
	return nil
}

// refresh reads a conversation another process's commit changed, with
// the messages the note names, and brings them into the view as the
// observer does this process's commits. What it reads may be newer than
// the note: the view takes the newest state, and a later note of the
// same conversation finds nothing more to change but its messages. What
// it reads may also be older than a commit of this process observed
// meanwhile: then it reads again.
func (ib *Inbox) refresh(ctx context.Context, n Note) error {
	for {
		ib.mu.Lock()
		ib.watch[n.ID] = 0
		ib.mu.Unlock()
		c, err := ib.read(ctx, n)
		if err != nil || c == nil {
			ib.mu.Lock()
			delete(ib.watch, n.ID)
			ib.mu.Unlock()
			return err
		}
		if ib.update(*c, n.ID) {
			return nil
		}
	}
}

// read reads what a note of a conversation names: nil when the
// conversation is gone.
func (ib *Inbox) read(ctx context.Context, n Note) (*engine.Committed, error) {
	st := ib.eng.Store()
	conv, err := st.Conversation(ctx, n.ID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil // pruned: it had ended
	}
	if err != nil {
		return nil, fmt.Errorf("inbox: reading conversation %s: %w", n.ID, err)
	}
	c := engine.Committed{Conversation: conv}
	if conv.Status == model.Agent {
		ct, err := st.Contact(ctx, conv.Contact)
		if err != nil && !errors.Is(err, model.ErrNotFound) {
			return nil, fmt.Errorf("inbox: reading contact %s: %w", conv.Contact, err)
		}
		c.Contact = ct
	}
	read := func(seqs []uint64) ([]*model.Message, error) {
		var out []*model.Message
		for _, seq := range seqs {
			m, err := st.Message(ctx, n.ID, seq)
			if errors.Is(err, model.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("inbox: reading message %s #%d: %w", n.ID, seq, err)
			}
			out = append(out, m)
		}
		return out, nil
	}
	if c.Messages, err = read(n.Messages); err != nil {
		return nil, err
	}
	if c.Updates, err = read(n.Updates); err != nil {
		return nil, err
	}
	return &c, nil
}

// refreshRecords reads the agents, queues and canned responses again and
// puts them in the view, telling live streams of each agent that changed.
// It returns the agents who went offline.
func (ib *Inbox) refreshRecords(ctx context.Context) (offline []string, err error) {
	ib.recMu.Lock()
	defer ib.recMu.Unlock()
	agents, queues, canned, err := loadRecords(ctx, ib.records)
	if err != nil {
		return nil, err
	}
	var changed []Agent
	ib.mu.Lock()
	for email, a := range agents {
		old := ib.agents[email]
		if old == nil {
			ib.agents[email] = a
			changed = append(changed, a.view().Agent)
			continue
		}
		if !sameAgent(&old.Agent, &a.Agent) {
			if a.Status == Offline && old.Status != Offline {
				offline = append(offline, email)
			}
			old.Agent = a.Agent
			changed = append(changed, old.view().Agent)
		}
	}
	for email := range ib.agents {
		if agents[email] == nil {
			delete(ib.agents, email)
		}
	}
	ib.countOpen()
	ib.queues, ib.canned = queues, canned
	ib.mu.Unlock()
	now := ib.eng.Clock().Now()
	for i := range changed {
		ib.hub.Publish(Event{Type: EventAgent, At: now, Agent: &changed[i]})
	}
	ib.Kick()
	return offline, nil
}

func sameAgent(a, b *Agent) bool {
	return a.Email == b.Email && a.Name == b.Name && slices.Equal(a.Queues, b.Queues) && a.Capacity == b.Capacity &&
		a.Status == b.Status && a.StatusAt.Equal(b.StatusAt)
}
