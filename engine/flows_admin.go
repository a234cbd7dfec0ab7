package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// Errors of the flow administration calls.
var (
	// ErrNotFlowDocument is returned when a draft is not a JSON object with
	// a string id: such a body cannot even be filed under a flow.
	ErrNotFlowDocument = errors.New("not a flow document: a JSON object with a string \"id\" is expected")
	// ErrFlowIDMismatch is returned when a document's id is not the id of
	// the flow it is saved or published under.
	ErrFlowIDMismatch = errors.New("the document's id is not the flow's id")
	// ErrFlowTooLarge is returned for a draft over flows.MaxFlowBytes.
	ErrFlowTooLarge = fmt.Errorf("flow document over %d bytes", flows.MaxFlowBytes)
	// ErrDraftConflict is returned when a draft is saved, or published, from
	// a revision that is no longer the draft's: someone else saved it in
	// between. The DraftConflict error it wraps says who and when.
	ErrDraftConflict = errors.New("the draft was changed by someone else since it was opened")
	// ErrUnchanged is returned when a draft with nothing unpublished is
	// published: it would only repeat the latest version.
	ErrUnchanged = errors.New("nothing to publish: the draft is the same as the published version")
)

// DraftConflict is the error of a save or publish that met a newer draft
// (errors.Is(err, ErrDraftConflict)): Current is the draft's record now.
type DraftConflict struct {
	Current *model.FlowRecord
}

func (c *DraftConflict) Error() string {
	by := c.Current.DraftBy
	if by == "" {
		by = "someone"
	}
	return fmt.Sprintf("%s saved flow %s (revision %d) at %s, after the revision this change was based on", by, c.Current.ID, c.Current.DraftRev, c.Current.DraftAt.UTC().Format("15:04:05 UTC"))
}

// Is makes a DraftConflict match ErrDraftConflict.
func (c *DraftConflict) Is(target error) bool { return target == ErrDraftConflict }

// flowHeader is what a draft must have, however invalid the rest: its id
// (to file it) and its name (to list it).
type flowHeader struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// lockFlow serialises the read-modify-write of one flow record by the calls
// in this file, so that an archive and a draft saved at the same moment
// cannot undo each other. It borrows the engine's key locks with a key no
// contact can have: a contact key is a phone number id, a colon and an
// identity, none of which holds a NUL byte.
func (e *Engine) lockFlow(id string) func() {
	return e.locks.lock(model.ContactKey("\x00flow\x00" + id))
}

func readFlowHeader(doc []byte) (flowHeader, error) {
	var h flowHeader
	// Lenient on purpose: a draft may be invalid in every other way.
	if err := json.Unmarshal(doc, &h); err != nil || h.ID == "" {
		return h, ErrNotFlowDocument
	}
	return h, nil
}

// SaveDraft stores doc as the draft of flow id and returns the record with
// the draft's problems. A draft may be invalid, even unrunnable — an editor
// saves work in progress — so problems never refuse it; only a document
// that is not a JSON object with id as its "id" is refused
// (ErrNotFlowDocument, ErrFlowIDMismatch), or one over flows.MaxFlowBytes
// (ErrFlowTooLarge). The published versions, and so every conversation,
// are untouched until the draft is published.
func (e *Engine) SaveDraft(ctx context.Context, id string, doc []byte, by string) (*model.FlowRecord, flows.Problems, error) {
	return e.SaveDraftFrom(ctx, id, doc, by, -1)
}

// SaveDraftFrom is SaveDraft for an editor that opened the draft at
// revision base (FlowRecord.DraftRev): when the draft has been changed
// since, by someone else, nothing is saved and the error is a
// *DraftConflict (errors.Is ErrDraftConflict) naming who changed it. A
// document equal to the current draft is no conflict. A negative base
// saves whatever the draft is. Every save that changes the document moves
// DraftRev on by one.
func (e *Engine) SaveDraftFrom(ctx context.Context, id string, doc []byte, by string, base int) (*model.FlowRecord, flows.Problems, error) {
	if len(doc) > flows.MaxFlowBytes {
		return nil, nil, ErrFlowTooLarge
	}
	h, err := readFlowHeader(doc)
	if err != nil {
		return nil, nil, err
	}
	if h.ID != id {
		return nil, nil, fmt.Errorf("%w: %q under flow %q", ErrFlowIDMismatch, h.ID, id)
	}
	_, problems := e.Validate(doc)
	defer e.lockFlow(id)()
	rec, err := e.store.Flow(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		rec = &model.FlowRecord{ID: id}
	} else if err != nil {
		return nil, nil, err
	}
	same := len(rec.Draft) > 0 && sameJSON(rec.Draft, doc)
	if base >= 0 && base != rec.DraftRev && !same {
		return nil, nil, &DraftConflict{Current: rec}
	}
	if !same {
		rec.DraftRev++
	}
	rec.Name, rec.Draft, rec.DraftAt, rec.DraftBy = h.Name, bytes.Clone(doc), e.clock.Now(), by
	if err := e.store.SaveFlow(ctx, rec); err != nil {
		return nil, nil, fmt.Errorf("saving draft of flow %s: %w", id, err)
	}
	// SaveFlow keeps the stored latest version whatever rec said: read it back.
	if rec, err = e.store.Flow(ctx, id); err != nil {
		return nil, nil, err
	}
	return rec, problems, nil
}

// PublishDraft publishes flow id's current draft as its next version (see
// Publish), with the publisher's note (kept when the store is a
// VersionNoter): ErrNotFound for an unknown flow, ErrInvalidFlow with the
// problems for a draft with errors, ErrUnchanged (and the latest version)
// when the draft is that version's document. With draftRev 0 or more, a
// draft at another revision is not published: the publisher confirmed
// something else (a *DraftConflict).
func (e *Engine) PublishDraft(ctx context.Context, id, by, note string, draftRev int) (*model.FlowVersion, flows.Problems, error) {
	defer e.lockFlow(id)()
	rec, err := e.store.Flow(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if h, err := readFlowHeader(rec.Draft); err != nil || h.ID != id {
		return nil, nil, fmt.Errorf("flow %s: the draft is not this flow's document: %w", id, ErrFlowIDMismatch)
	}
	if draftRev >= 0 && draftRev != rec.DraftRev {
		return nil, nil, &DraftConflict{Current: rec}
	}
	changed, err := e.DraftChanged(ctx, rec)
	if err != nil {
		return nil, nil, err
	}
	if !changed {
		v, err := e.store.FlowVersion(ctx, id, rec.Published)
		if err != nil {
			return nil, nil, err
		}
		return v, nil, ErrUnchanged
	}
	return e.publishNoted(ctx, rec.Draft, by, note)
}

// Rollback publishes an old version of flow id again, as its next version:
// new conversations run it, running ones keep theirs. The document is
// validated again (the validator may have grown stricter since): with
// errors it returns ErrInvalidFlow and the problems, and publishes
// nothing.
//
// Publishing makes the draft the published document, but a rollback does
// not throw work away: a draft with unpublished changes is kept as it was;
// a draft equal to the latest version becomes the rolled-back document.
func (e *Engine) Rollback(ctx context.Context, id string, version int, by string) (*model.FlowVersion, flows.Problems, error) {
	defer e.lockFlow(id)()
	old, err := e.store.FlowVersion(ctx, id, version)
	if err != nil {
		return nil, nil, err
	}
	rec, err := e.store.Flow(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	changed, err := e.DraftChanged(ctx, rec)
	if err != nil {
		return nil, nil, err
	}
	v, problems, err := e.publish(ctx, old.Doc, by)
	if err != nil {
		return v, problems, err
	}
	if changed {
		kept, err := e.store.Flow(ctx, id)
		if err != nil {
			return v, problems, err
		}
		kept.Draft, kept.DraftAt, kept.DraftBy, kept.Name, kept.DraftRev = rec.Draft, rec.DraftAt, rec.DraftBy, rec.Name, rec.DraftRev
		if err := e.store.SaveFlow(ctx, kept); err != nil {
			return v, problems, fmt.Errorf("restoring the draft of flow %s: %w", id, err)
		}
	}
	return v, problems, nil
}

// DraftChanged reports whether a flow's draft differs from its latest
// published version (true when nothing is published). Documents are
// compared as compact JSON, so whitespace alone is no change.
func (e *Engine) DraftChanged(ctx context.Context, rec *model.FlowRecord) (bool, error) {
	if rec.Published == 0 {
		return true, nil
	}
	v, err := e.store.FlowVersion(ctx, rec.ID, rec.Published)
	if err != nil {
		return false, fmt.Errorf("flow %s v%d: %w", rec.ID, rec.Published, err)
	}
	return !sameJSON(rec.Draft, v.Doc), nil
}

func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// Archive archives (or, with archived false, restores) flow id: an archived
// flow's triggers stop starting conversations at once. Running
// conversations go on with the version they started on, and its versions
// and draft are kept. It returns ErrNotFound for an unknown flow.
func (e *Engine) Archive(ctx context.Context, id string, archived bool) error {
	defer e.lockFlow(id)()
	rec, err := e.store.Flow(ctx, id)
	if err != nil {
		return err
	}
	rec.Archived = archived
	if err := e.store.SaveFlow(ctx, rec); err != nil {
		return fmt.Errorf("archiving flow %s: %w", id, err)
	}
	return e.loadTriggers(ctx)
}
