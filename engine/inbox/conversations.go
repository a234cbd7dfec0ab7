package inbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
)

// Viewer is who reads or acts: a user's email, and whether they are an
// admin (who sees every queue). Anyone else sees only the queues of their
// agent profile and the conversations assigned to them.
type Viewer struct {
	Email string
	Admin bool
}

// Item is a handed-off conversation in an inbox listing.
type Item struct {
	Conversation string           `json:"conversation"`
	Contact      model.ContactKey `json:"contact"`
	// PhoneNumberID is the business number the conversation is on.
	PhoneNumberID string    `json:"phone_number_id"`
	Name          string    `json:"name,omitempty"`
	Queue         string    `json:"queue"`
	Priority      int       `json:"priority,omitempty"`
	Note          string    `json:"note,omitempty"`
	Handoff       int       `json:"handoff"`
	HandoffAt     time.Time `json:"handoff_at"`
	Assignee      string    `json:"assignee,omitempty"`
	Unread        int       `json:"unread"`
	LastActivity  time.Time `json:"last_activity_at"`
	Preview       string    `json:"preview,omitempty"`
	// OffNumber: the queue does not serve the conversation's number. No
	// agent of the queue gets it or sees it; an admin moves it (doc.go).
	OffNumber bool `json:"off_number,omitempty"`
}

// ListFilter selects a listing: one queue (""), only the viewer's own
// (Mine), only those waiting for an agent (Unassigned).
type ListFilter struct {
	Queue      string
	Mine       bool
	Unassigned bool
}

// List returns the handed-off conversations the viewer may see that pass
// f: waiting ones in queue order (priority, then oldest), then held ones
// by latest activity.
func (ib *Inbox) List(v Viewer, f ListFilter) []Item {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	var es []*entry
	for _, e := range ib.entries {
		switch {
		case !ib.visibleLocked(v, e.queue, e.number(), e.assignee),
			f.Queue != "" && e.queue != f.Queue,
			f.Mine && e.assignee != v.Email,
			f.Unassigned && e.assignee != "":
			continue
		}
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b *entry) int {
		switch {
		case a.assignee == "" && b.assignee != "":
			return -1
		case a.assignee != "" && b.assignee == "":
			return 1
		case a.assignee == "":
			return queueOrder(a, b)
		}
		if c := b.lastActivity.Compare(a.lastActivity); c != 0 {
			return c
		}
		return cmp.Compare(a.conv, b.conv)
	})
	out := make([]Item, 0, len(es))
	for _, e := range es {
		out = append(out, ib.itemLocked(e))
	}
	return out
}

// itemLocked is e as listed. Called with mu held.
func (ib *Inbox) itemLocked(e *entry) Item {
	it := e.item()
	it.OffNumber = ib.offNumber(e)
	return it
}

func (e *entry) item() Item {
	return Item{
		Conversation: e.conv, Contact: e.contact, PhoneNumberID: e.contact.PhoneNumberID(), Name: e.name, Queue: e.queue, Priority: e.priority,
		Note: e.note, Handoff: e.handoff, HandoffAt: e.handoffAt, Assignee: e.assignee, Unread: e.unread,
		LastActivity: e.lastActivity, Preview: e.preview,
	}
}

// Item returns one handed-off conversation as listed, or ErrNotFound
// (also when it is not handed off now).
func (ib *Inbox) Item(conv string) (Item, error) {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	e := ib.entries[conv]
	if e == nil {
		return Item{}, fmt.Errorf("conversation %s: %w", conv, ErrNotFound)
	}
	return ib.itemLocked(e), nil
}

// Unread sums the unread counts of the viewer's own conversations and of
// the waiting ones they may see.
func (ib *Inbox) Unread(v Viewer) (mine, waiting int) {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	for _, e := range ib.entries {
		switch {
		case e.assignee == v.Email:
			mine += e.unread
		case e.assignee == "" && ib.visibleLocked(v, e.queue, e.number(), e.assignee):
			waiting += e.unread
		}
	}
	return mine, waiting
}

// CanSee reports whether the viewer may read a conversation: an admin
// any; anyone else one in a queue of their profile that serves its
// number, or assigned (now or last) to them.
func (ib *Inbox) CanSee(v Viewer, conv *model.Conversation) bool {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	queue, assignee := conv.Queue, conv.Assignee
	if e := ib.entries[conv.ID]; e != nil {
		queue, assignee = e.queue, e.assignee
	}
	return ib.visibleLocked(v, queue, conv.Contact.PhoneNumberID(), assignee)
}

// CanSeeEvent reports whether the viewer gets a live event: by the same
// rule as CanSee, where the conversation is now or was just before. Agent
// events go to everyone.
func (ib *Inbox) CanSeeEvent(v Viewer, ev Event) bool {
	if ev.Type == EventAgent || ev.Type == EventSending || ev.Type == EventReset || v.Admin {
		return true
	}
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	number := ev.Contact.PhoneNumberID()
	return ib.visibleLocked(v, ev.Queue, number, ev.Assignee) ||
		(ev.PrevQueue != "" || ev.PrevAssignee != "") && ib.visibleLocked(v, ev.PrevQueue, number, ev.PrevAssignee)
}

// Queues the viewer works ("" for an admin: all).
func (ib *Inbox) QueuesOf(v Viewer) []string {
	ib.mu.RLock()
	defer ib.mu.RUnlock()
	if a := ib.agents[v.Email]; a != nil {
		return slices.Clone(a.Queues)
	}
	return nil
}

// visibleLocked is the rule of CanSee for a conversation in queue on
// business number number, held by assignee. Called with mu held.
func (ib *Inbox) visibleLocked(v Viewer, queue, number, assignee string) bool {
	if v.Admin {
		return true
	}
	if v.Email == "" {
		return false
	}
	if assignee == v.Email {
		return true
	}
	a := ib.agents[v.Email]
	return a != nil && queue != "" && a.InQueue(queue) && ib.queues[queue].Serves(number)
}

// Claim assigns a waiting conversation to the viewer, who must work its
// queue (an admin needs an agent profile too, in any queue). Claiming
// one the viewer holds is a no-op; one another agent holds is
// ErrConflict. A claim is a person's choice: capacity does not bind it.
func (ib *Inbox) Claim(ctx context.Context, v Viewer, conv string) (Item, error) {
	ib.mu.Lock()
	e := ib.entries[conv]
	a := ib.agents[v.Email]
	switch {
	case e == nil || !ib.visibleLocked(v, e.queue, e.number(), e.assignee):
		ib.mu.Unlock()
		return Item{}, fmt.Errorf("conversation %s: %w", conv, ErrNotFound)
	case a == nil:
		ib.mu.Unlock()
		return Item{}, fmt.Errorf("%w: %s has no agent profile", ErrForbidden, v.Email)
	case e.assignee == v.Email:
		it := ib.itemLocked(e)
		ib.mu.Unlock()
		return it, nil
	case e.assignee != "":
		ib.mu.Unlock()
		return Item{}, fmt.Errorf("%w: conversation %s is assigned to %s", ErrConflict, conv, e.assignee)
	}
	ib.setAssignee(e, v.Email)
	e.pending = true
	r := reservation{conv: conv, agent: v.Email, handoff: e.handoff}
	ib.mu.Unlock()
	if err := ib.eng.Assign(ctx, conv, r.handoff, v.Email, v.Email); err != nil {
		ib.release(r)
		if moved(err) {
			return Item{}, fmt.Errorf("%w: conversation %s is no longer waiting", ErrConflict, conv)
		}
		return Item{}, err
	}
	return ib.Item(conv)
}

// Transfer moves a conversation to another queue and/or agent (queue ""
// keeps its queue; agent "" leaves it waiting there). Another queue must
// serve the conversation's number (ErrInvalid otherwise, for admins too:
// its agents could not see it). The target agent must have a profile
// and, unless the viewer is an admin, work the target queue. The viewer
// must see the conversation; an agent may move only what is waiting or
// theirs.
func (ib *Inbox) Transfer(ctx context.Context, v Viewer, conv, queue, agent string) (Item, error) {
	ib.mu.RLock()
	e := ib.entries[conv]
	var (
		target *agentState
		cur    Item
		serves bool
	)
	if e != nil {
		cur = ib.itemLocked(e)
		target = ib.agents[agent]
		serves = ib.queues[queue].Serves(e.number())
	}
	visible := e != nil && ib.visibleLocked(v, e.queue, e.number(), e.assignee)
	ib.mu.RUnlock()
	if !visible {
		return Item{}, fmt.Errorf("conversation %s: %w", conv, ErrNotFound)
	}
	if queue != "" && !validID(queue) {
		return Item{}, fmt.Errorf("%w: queue id %q: %s", ErrInvalid, queue, idRule)
	}
	q := cmp.Or(queue, cur.Queue)
	switch {
	case queue != "" && queue != cur.Queue && !serves:
		return Item{}, fmt.Errorf("%w: queue %s does not serve the number %s this conversation is on", ErrInvalid, queue, cur.PhoneNumberID)
	case agent != "" && target == nil:
		return Item{}, fmt.Errorf("%w: agent %s has no profile", ErrInvalid, agent)
	case agent != "" && !v.Admin && !target.InQueue(q):
		return Item{}, fmt.Errorf("%w: agent %s does not work queue %s", ErrInvalid, agent, q)
	case !v.Admin && cur.Assignee != "" && cur.Assignee != v.Email:
		return Item{}, fmt.Errorf("%w: conversation %s is assigned to %s", ErrConflict, conv, cur.Assignee)
	}
	if err := ib.eng.Transfer(ctx, conv, queue, agent, v.Email); err != nil {
		if moved(err) {
			return Item{}, fmt.Errorf("%w: conversation %s is no longer handed off", ErrConflict, conv)
		}
		return Item{}, err
	}
	if _, err := ib.Rebalance(ctx); err != nil {
		ib.log.Error("inbox: assignment pass", "err", err)
	}
	if it, err := ib.Item(conv); err == nil {
		return it, nil
	}
	return cur, nil
}

// TakeForReply makes sure the viewer may write to a conversation (reply,
// template, note, resolve): it must be visible to them and handed off;
// an agent may act on their own conversations, and on a waiting one,
// which they claim first (claim is set); one held by another agent is
// ErrConflict. Admins may act on any.
func (ib *Inbox) TakeForReply(ctx context.Context, v Viewer, conv string, claim bool) error {
	it, err := ib.Item(conv)
	if err != nil {
		return err
	}
	ib.mu.RLock()
	visible := ib.visibleLocked(v, it.Queue, it.PhoneNumberID, it.Assignee)
	ib.mu.RUnlock()
	switch {
	case !visible:
		return fmt.Errorf("conversation %s: %w", conv, ErrNotFound)
	case v.Admin, it.Assignee == v.Email:
		return nil
	case it.Assignee != "":
		return fmt.Errorf("%w: conversation %s is assigned to %s; ask them or an admin to transfer it", ErrConflict, conv, it.Assignee)
	case claim:
		_, err := ib.Claim(ctx, v, conv)
		return err
	}
	return nil
}

// MarkRead sets a conversation's unread count to zero (an agent opened
// it) and records the read, so that a restart does not count those
// messages again.
func (ib *Inbox) MarkRead(ctx context.Context, conv string) error {
	ib.mu.Lock()
	e := ib.entries[conv]
	if e == nil || e.unread == 0 {
		ib.mu.Unlock()
		return nil
	}
	seq := e.lastSeq
	e.readUpTo(seq)
	ev := Event{Type: EventRead, At: ib.eng.Clock().Now(), Conversation: conv, Contact: e.contact, Status: model.Agent, Queue: e.queue, Assignee: e.assignee}
	ib.mu.Unlock()
	ib.hub.Publish(ev)
	if err := ib.records.SaveRead(ctx, conv, seq); err != nil {
		return fmt.Errorf("inbox: recording the read of %s: %w", conv, err)
	}
	return nil
}

// moved reports whether an engine error means the conversation moved on
// (resolved, handed off again, taken by another agent) rather than a
// failure.
func moved(err error) bool {
	return errors.Is(err, engine.ErrNoConversation) || errors.Is(err, engine.ErrStaleHandoff) || errors.Is(err, engine.ErrAssigned)
}
