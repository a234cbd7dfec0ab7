package inbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// AgentView is an agent's profile with what they hold.
type AgentView struct {
	Agent
	Open int `json:"open"`
}

// QueueView is a queue with its counts. Known is false for a queue a
// flow named but nobody created.
type QueueView struct {
	Queue
	Known        bool `json:"known"`
	Open         bool `json:"open"` // inside business hours (always, without hours)
	Waiting      int  `json:"waiting"`
	Assigned     int  `json:"assigned"`
	AgentsOnline int  `json:"agents_online"`
	// OffNumber counts the waiting conversations on a number the queue
	// does not serve: no agent of it gets them; an admin moves them
	// (doc.go).
	OffNumber int `json:"off_number,omitempty"`
}

// Agents lists the agents' profiles, by email.
func (ib *Inbox) Agents() []AgentView {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	out := make([]AgentView, 0, len(ib.agents))
	for _, a := range ib.agents {
		out = append(out, a.view())
	}
	slices.SortFunc(out, func(a, b AgentView) int { return strings.Compare(a.Email, b.Email) })
	return out
}

func (a *agentState) view() AgentView {
	v := AgentView{Agent: a.Agent, Open: a.open}
	v.Queues = slices.Clone(a.Queues)
	return v
}

// Agent returns one agent's profile, or ErrNotFound.
func (ib *Inbox) Agent(email string) (AgentView, error) {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	a := ib.agents[strings.ToLower(email)]
	if a == nil {
		return AgentView{}, fmt.Errorf("agent %s: %w", email, ErrNotFound)
	}
	return a.view(), nil
}

// PutAgent creates or replaces an agent's profile. A profile given no
// status keeps the one it had (offline for a new agent); one given a
// status takes it, as SetStatus would.
func (ib *Inbox) PutAgent(ctx context.Context, a Agent) (AgentView, error) {
	if a.Capacity == 0 {
		a.Capacity = DefaultCapacity
	}
	ib.mu.RLock()
	old := ib.agents[strings.ToLower(strings.TrimSpace(a.Email))]
	keep := Offline
	if old != nil {
		keep = old.Status
	}
	ib.mu.RUnlock()
	wanted := a.Status
	a.Status = keep
	if err := a.normalize(); err != nil {
		return AgentView{}, err
	}
	if old == nil || old.StatusAt.IsZero() {
		a.StatusAt = ib.eng.Clock().Now()
	} else {
		a.StatusAt = old.StatusAt
	}
	if err := ib.saveAgent(ctx, a); err != nil {
		return AgentView{}, err
	}
	if wanted != "" && wanted != keep {
		return ib.SetStatus(ctx, a.Email, wanted)
	}
	ib.Kick()
	return ib.Agent(a.Email)
}

// EnsureAgent returns an agent's profile, creating an offline one with no
// queues (and the default capacity) for a user with the agent role who
// has none yet.
func (ib *Inbox) EnsureAgent(ctx context.Context, email, name string) (AgentView, error) {
	if v, err := ib.Agent(email); err == nil {
		return v, nil
	}
	return ib.PutAgent(ctx, Agent{Email: email, Name: name, Status: Offline})
}

// saveAgent writes a profile, durably first, then into the view.
func (ib *Inbox) saveAgent(ctx context.Context, a Agent) error {
	ib.recMu.Lock()
	defer ib.recMu.Unlock()
	if err := ib.records.PutAgent(ctx, &a); err != nil {
		return fmt.Errorf("inbox: saving agent %s: %w", a.Email, err)
	}
	ib.mu.Lock()
	ib.dirtyRecords = true
	st := ib.agents[a.Email]
	if st == nil {
		st = &agentState{}
		ib.agents[a.Email] = st
		for _, e := range ib.entries {
			if e.assignee == a.Email {
				st.open++
			}
		}
	}
	st.Agent = a
	v := st.view()
	ib.mu.Unlock()
	ib.hub.Publish(Event{Type: EventAgent, At: ib.eng.Clock().Now(), Agent: &v.Agent})
	return nil
}

// SetStatus changes an agent's status. Going offline returns the
// conversations they hold to their queues (doc.go), where other agents
// take them; coming online lets them take waiting ones at once.
func (ib *Inbox) SetStatus(ctx context.Context, email string, s Status) (AgentView, error) {
	if !s.Valid() {
		return AgentView{}, fmt.Errorf("%w: status must be online, away or offline", ErrInvalid)
	}
	cur, err := ib.Agent(email)
	if err != nil {
		return AgentView{}, err
	}
	a := cur.Agent
	if a.Status != s {
		a.Status, a.StatusAt = s, ib.eng.Clock().Now()
		if err := ib.saveAgent(ctx, a); err != nil {
			return AgentView{}, err
		}
	}
	if s == Offline {
		// After any pass in flight: one may have given them one more
		// before it saw them go offline.
		ib.pass.Lock()
		err := ib.returnHeld(ctx, a.Email)
		ib.pass.Unlock()
		if err != nil {
			return AgentView{}, err
		}
	}
	if _, err := ib.Rebalance(ctx); err != nil {
		ib.log.Error("inbox: assignment pass", "err", err)
	}
	return ib.Agent(a.Email)
}

// returnHeld returns every conversation agent holds to its queue.
func (ib *Inbox) returnHeld(ctx context.Context, agent string) error {
	type held struct {
		conv    string
		handoff int
	}
	var hs []held
	ib.mu.RLock()
	for _, e := range ib.entries {
		if e.assignee == agent {
			hs = append(hs, held{e.conv, e.handoff})
		}
	}
	ib.mu.RUnlock()
	for _, h := range hs {
		if err := ib.eng.Assign(ctx, h.conv, h.handoff, "", agent); err != nil && !moved(err) {
			return fmt.Errorf("inbox: returning %s to its queue: %w", h.conv, err)
		}
	}
	return nil
}

// DeleteAgent removes an agent's profile; what they held returns to the
// queues.
func (ib *Inbox) DeleteAgent(ctx context.Context, email string) error {
	email = strings.ToLower(email)
	if _, err := ib.SetStatus(ctx, email, Offline); err != nil {
		return err
	}
	ib.recMu.Lock()
	defer ib.recMu.Unlock()
	if err := notFound(ib.records.DeleteAgent(ctx, email)); err != nil {
		return fmt.Errorf("agent %s: %w", email, err)
	}
	ib.mu.Lock()
	ib.dirtyRecords = true
	delete(ib.agents, email)
	ib.mu.Unlock()
	return nil
}

// Queues lists the queues, created or only named by handed-off
// conversations, by id, with their counts.
func (ib *Inbox) Queues() []QueueView {
	now := ib.eng.Clock().Now()
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	views := map[string]*QueueView{}
	get := func(id string) *QueueView {
		v := views[id]
		if v == nil {
			v = &QueueView{Queue: Queue{ID: id}, Open: true}
			if q := ib.queues[id]; q != nil {
				v.Queue, v.Known, v.Open = *q, true, q.Hours.IsOpen(now)
			}
			views[id] = v
		}
		return v
	}
	for id := range ib.queues {
		get(id)
	}
	for _, e := range ib.entries {
		v := get(e.queue)
		if e.assignee == "" {
			v.Waiting++
			if ib.offNumber(e) {
				v.OffNumber++
			}
		} else {
			v.Assigned++
		}
	}
	for _, a := range ib.agents {
		if a.Status != Online {
			continue
		}
		for _, q := range a.Queues {
			get(q).AgentsOnline++
		}
	}
	out := make([]QueueView, 0, len(views))
	for _, v := range views {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b QueueView) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Queue returns a created queue, or ErrNotFound.
func (ib *Inbox) Queue(id string) (Queue, error) {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	q := ib.queues[id]
	if q == nil {
		return Queue{}, fmt.Errorf("queue %s: %w", id, ErrNotFound)
	}
	return *q, nil
}

// PutQueue creates or replaces a queue. Its numbers must be numbers
// Parley serves (engine.ServesNumber); an unknown one is ErrInvalid,
// naming it. Conversations waiting in the queue are placed again by the
// new numbers at once.
func (ib *Inbox) PutQueue(ctx context.Context, q Queue) (Queue, error) {
	if err := q.normalize(); err != nil {
		return Queue{}, err
	}
	for _, n := range q.Numbers {
		if !ib.eng.ServesNumber(n) {
			return Queue{}, fmt.Errorf("%w: numbers: Parley does not serve the number %s (it serves %s)", ErrInvalid, n, ib.servedNumbers())
		}
	}
	ib.recMu.Lock()
	defer ib.recMu.Unlock()
	if err := ib.records.PutQueue(ctx, &q); err != nil {
		return Queue{}, fmt.Errorf("inbox: saving queue %s: %w", q.ID, err)
	}
	ib.mu.Lock()
	ib.dirtyRecords = true
	ib.queues[q.ID] = &q
	ib.mu.Unlock()
	ib.Kick()
	return q, nil
}

// servedNumbers lists the numbers Parley serves, for an error message.
func (ib *Inbox) servedNumbers() string {
	var ids []string
	for _, n := range ib.eng.PhoneNumbers() {
		ids = append(ids, n.ID)
	}
	return strings.Join(ids, ", ")
}

// DeleteQueue removes a queue's record. Its conversations stay where they
// are; the queue lives on, unknown, while it has any.
func (ib *Inbox) DeleteQueue(ctx context.Context, id string) error {
	ib.recMu.Lock()
	defer ib.recMu.Unlock()
	if err := notFound(ib.records.DeleteQueue(ctx, id)); err != nil {
		return fmt.Errorf("queue %s: %w", id, err)
	}
	ib.mu.Lock()
	ib.dirtyRecords = true
	delete(ib.queues, id)
	ib.mu.Unlock()
	ib.Kick() // an unknown queue serves every number
	return nil
}

// CannedFor lists the canned responses offered in queue ("" or in
// queues: all of those), by title.
func (ib *Inbox) CannedFor(queues []string, all bool) []Canned {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	var out []Canned
	for _, c := range ib.canned {
		if all || c.Queue == "" || slices.Contains(queues, c.Queue) {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, func(a, b Canned) int {
		if c := strings.Compare(a.Title, b.Title); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Canned returns one canned response, or ErrNotFound.
func (ib *Inbox) Canned(id string) (Canned, error) {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	c := ib.canned[id]
	if c == nil {
		return Canned{}, fmt.Errorf("canned response %s: %w", id, ErrNotFound)
	}
	return *c, nil
}

// PutCanned creates (ID "": a new id) or replaces a canned response.
func (ib *Inbox) PutCanned(ctx context.Context, c Canned) (Canned, error) {
	if err := c.normalize(); err != nil {
		return Canned{}, err
	}
	if c.ID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		c.ID = hex.EncodeToString(b[:])
	} else if _, err := ib.Canned(c.ID); err != nil {
		return Canned{}, err
	}
	ib.recMu.Lock()
	defer ib.recMu.Unlock()
	if err := ib.records.PutCanned(ctx, &c); err != nil {
		return Canned{}, fmt.Errorf("inbox: saving canned response: %w", err)
	}
	ib.mu.Lock()
	ib.dirtyRecords = true
	ib.canned[c.ID] = &c
	ib.mu.Unlock()
	return c, nil
}

// DeleteCanned removes a canned response.
func (ib *Inbox) DeleteCanned(ctx context.Context, id string) error {
	ib.recMu.Lock()
	defer ib.recMu.Unlock()
	if err := notFound(ib.records.DeleteCanned(ctx, id)); err != nil {
		return fmt.Errorf("canned response %s: %w", id, err)
	}
	ib.mu.Lock()
	ib.dirtyRecords = true
	delete(ib.canned, id)
	ib.mu.Unlock()
	return nil
}
