package inbox

import (
	"context"
	"fmt"
)

// Records is where the inbox keeps its records: agents' profiles, queues,
// canned responses and read marks. The bbolt implementation is
// *boltstore.Store (engine/boltstore/inbox.go), the PostgreSQL one
// *pgstore.Store; package storetest's Inbox suite pins the contract.
// Implementations must be safe for concurrent use. None of these writes
// has to be atomic with an engine commit: the conversation's state is the
// engine's, and the inbox only keeps a view of it.
type Records interface {
	// PutAgent stores an agent's profile, replacing the one of the same
	// email.
	PutAgent(ctx context.Context, a *Agent) error
	// DeleteAgent removes the profile of email, reporting whether there
	// was one.
	DeleteAgent(ctx context.Context, email string) (bool, error)
	// Agents lists every profile, by email.
	Agents(ctx context.Context) ([]*Agent, error)

	// PutQueue stores a queue, replacing the one of the same id.
	PutQueue(ctx context.Context, q *Queue) error
	// DeleteQueue removes the queue id, reporting whether there was one.
	DeleteQueue(ctx context.Context, id string) (bool, error)
	// Queues lists every queue, by id.
	Queues(ctx context.Context) ([]*Queue, error)

	// PutCanned stores a canned response, replacing the one of the same id.
	PutCanned(ctx context.Context, c *Canned) error
	// DeleteCanned removes the canned response id, reporting whether there
	// was one.
	DeleteCanned(ctx context.Context, id string) (bool, error)
	// CannedResponses lists every canned response, by id.
	CannedResponses(ctx context.Context) ([]*Canned, error)

	// SaveRead records that conversation conv was read up to transcript
	// seq, unless a later read is recorded already (the larger seq wins,
	// whatever the order of concurrent calls).
	SaveRead(ctx context.Context, conv string, seq uint64) error
	// Reads returns every recorded read, by conversation id.
	Reads(ctx context.Context) (map[string]uint64, error)
	// ForgetReads deletes the recorded reads of these conversations; ids
	// without one are no error.
	ForgetReads(ctx context.Context, convs []string) error
}

// notFound turns a delete's "there was none" into ErrNotFound.
func notFound(found bool, err error) error {
	if err != nil {
		return err
	}
	if !found {
		return ErrNotFound
	}
	return nil
}

// loadRecords reads every agent, queue and canned response.
func loadRecords(ctx context.Context, r Records) (map[string]*agentState, map[string]*Queue, map[string]*Canned, error) {
	agents := map[string]*agentState{}
	queues := map[string]*Queue{}
	canned := map[string]*Canned{}
	as, err := r.Agents(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("inbox: loading agents: %w", err)
	}
	for _, a := range as {
		agents[a.Email] = &agentState{Agent: *a}
	}
	qs, err := r.Queues(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("inbox: loading queues: %w", err)
	}
	for _, q := range qs {
		queues[q.ID] = q
	}
	cs, err := r.CannedResponses(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("inbox: loading canned responses: %w", err)
	}
	for _, c := range cs {
		canned[c.ID] = c
	}
	return agents, queues, canned, nil
}
