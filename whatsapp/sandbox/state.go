package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The sandbox's state on disk (Persist): what Meta would still know after
// Parley restarts. Without it a restarted sandbox forgets its customers —
// so their 24-hour windows look closed and an agent's reply fails with
// 131047 — forgets the templates created through the API, which Parley's
// next sync then records as DELETED, and restarts its id sequence, so a
// new message could get the wamid of an old one, which Parley drops as a
// duplicate. Outbound messages still waiting for statuses, media, the
// request log and undelivered webhooks are not kept: Meta keeps them, but
// a sandbox restart losing them costs a few status ticks.

// stateVersion is the format of the state file; a file of another version
// is refused rather than misread.
const stateVersion = 1

// savedState is the state file's content.
type savedState struct {
	Version   int             `json:"version"`
	Seq       int64           `json:"seq"`
	Customers []savedCustomer `json:"customers"`
	Templates []savedTemplate `json:"templates"`
	// Webhooks are those not yet answered 200, delivered again after a
	// restart, as Meta delivers again what was not acknowledged.
	Webhooks []json.RawMessage `json:"webhooks,omitempty"`
}

type savedCustomer struct {
	Customer
	LastInbound time.Time `json:"last_inbound,omitzero"`
	Turns       []Turn    `json:"turns,omitempty"`
}

type savedTemplate struct {
	Template
	Created         time.Time `json:"created"`
	RejectionDetail string    `json:"rejection_detail,omitempty"`
	AutoReview      bool      `json:"auto_review,omitempty"`
}

// Persist keeps the sandbox's customers (their 24-hour windows and
// transcripts), its templates and its id sequence in the file at path: it
// loads them now if the file exists, and from then on writes the file
// after every change (coalesced: one write at a time, the latest state)
// and once more at Close. Each write goes to a temporary file renamed over
// path, so a crash leaves the previous state or the new one, never half of
// one. Call it once, before Start and before any traffic; a file that
// cannot be read is an error, and nothing is loaded.
func (s *Sandbox) Persist(path string) error {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("sandbox: reading its state: %w", err)
	default:
		if err := s.restore(data); err != nil {
			return fmt.Errorf("sandbox: reading its state from %s: %w", path, err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.statePath != "" {
		return errors.New("sandbox: Persist called twice")
	}
	s.statePath = path
	s.dirty = make(chan struct{}, 1)
	s.saverDone = make(chan struct{})
	go s.saveLoop(s.dirty, s.saverDone)
	return nil
}

// restore replaces the sandbox's customers, templates and sequence by the
// saved ones.
func (s *Sandbox) restore(data []byte) error {
	var st savedState
	if err := json.Unmarshal(data, &st); err != nil {
		return err
	}
	if st.Version != stateVersion {
		return fmt.Errorf("state format %d, this sandbox reads %d", st.Version, stateVersion)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq = max(s.seq, st.Seq)
	s.customers = map[string]*customer{}
	s.inbound = map[string]*customer{}
	for _, sc := range st.Customers {
		c := &customer{Customer: sc.Customer, lastInbound: sc.LastInbound}
		for i := range sc.Turns {
			t := sc.Turns[i]
			c.turns = append(c.turns, &t)
			if t.From == "customer" {
				s.inbound[t.WAMID] = c // marking it read still works
			}
		}
		if c.WaID != "" {
			s.customers[c.WaID] = c
		}
		if c.UserID != "" {
			s.customers[c.UserID] = c
		}
	}
	s.templates = nil
	for _, t := range st.Templates {
		s.templates = append(s.templates, &template{Template: t.Template, created: t.Created,
			rejectionDetail: t.RejectionDetail, autoReview: t.AutoReview})
	}
	s.restoredHooks = nil
	for _, w := range st.Webhooks {
		s.restoredHooks = append(s.restoredHooks, []byte(w))
	}
	return nil
}

// snapshotLocked is the state to save (under s.mu).
func (s *Sandbox) snapshotLocked() savedState {
	st := savedState{Version: stateVersion, Seq: s.seq, Customers: []savedCustomer{}, Templates: []savedTemplate{}}
	seen := map[*customer]bool{}
	for _, c := range s.customers {
		if seen[c] {
			continue // kept under its wa_id and its user id
		}
		seen[c] = true
		sc := savedCustomer{Customer: c.Customer, LastInbound: c.lastInbound}
		for _, t := range c.turns {
			sc.Turns = append(sc.Turns, *t)
		}
		st.Customers = append(st.Customers, sc)
	}
	for _, t := range s.templates {
		st.Templates = append(st.Templates, savedTemplate{Template: t.Template, Created: t.created,
			RejectionDetail: t.rejectionDetail, AutoReview: t.autoReview})
	}
	for _, w := range append(s.hooks.pending(), s.restoredHooks...) {
		st.Webhooks = append(st.Webhooks, json.RawMessage(w))
	}
	return st
}

// changed is changedLocked for callers without s.mu.
func (s *Sandbox) changed() {
	s.mu.Lock()
	s.changedLocked()
	s.mu.Unlock()
}

// changedLocked notes, under s.mu, that the state changed: the saver
// writes it soon.
func (s *Sandbox) changedLocked() {
	if s.dirty == nil || s.closed {
		return
	}
	select {
	case s.dirty <- struct{}{}:
	default: // a save is pending already; it will see this change
	}
}

// saveLoop writes the state each time it changed, until dirty is closed.
func (s *Sandbox) saveLoop(dirty <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for range dirty {
		s.saveErr(s.Save())
	}
}

// saveErr keeps the first error of a background save, for Close.
func (s *Sandbox) saveErr(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	if s.stateErr == nil {
		s.stateErr = err
	}
	s.mu.Unlock()
}

// Save writes the state to the Persist file now; without Persist it does
// nothing.
func (s *Sandbox) Save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	path := s.statePath
	if path == "" {
		s.mu.Unlock()
		return nil
	}
	data, err := json.Marshal(s.snapshotLocked())
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("sandbox: encoding its state: %w", err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("sandbox: saving its state: %w", err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file beside path, syncs it
// and renames it over path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp) //nolint:errcheck // the write failed already
	}
	return err
}

// closeState stops the saver and writes the state a last time.
func (s *Sandbox) closeState() error {
	s.mu.Lock()
	dirty, done := s.dirty, s.saverDone
	s.dirty = nil
	s.mu.Unlock()
	if dirty == nil {
		return nil
	}
	close(dirty)
	<-done
	err := s.Save()
	s.mu.Lock()
	if err == nil {
		err = s.stateErr
	}
	s.mu.Unlock()
	return err
}
