package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine"
)

// TestDraftConflicts pins the rules of safe editing: a save from an old
// revision of the draft is refused with who saved in between, an
// unchanged draft makes no version, and a note is kept with its version.
func TestDraftConflicts(t *testing.T) {
	h := newHarness(t, echoFlow)
	rec, err := h.store.Flow(h.ctx, "echo")
	if err != nil {
		t.Fatal(err)
	}
	base := rec.DraftRev
	v1 := strings.Replace(echoFlow, "you said", "Ann heard", 1)
	v2 := strings.Replace(echoFlow, "you said", "Bo heard", 1)

	// Ann and Bo opened the same revision; Ann saves first.
	rec, _, err = h.eng.SaveDraftFrom(h.ctx, "echo", []byte(v1), "ann", base)
	if err != nil {
		t.Fatal(err)
	}
	if rec.DraftRev != base+1 {
		t.Errorf("revision %d after a save from %d", rec.DraftRev, base)
	}
	// Ann saves again from her new revision: fine; the same document again: no new revision.
	if rec, _, err = h.eng.SaveDraftFrom(h.ctx, "echo", []byte(v1), "ann", base+1); err != nil || rec.DraftRev != base+1 {
		t.Fatalf("an unchanged save: rev %d, %v", rec.DraftRev, err)
	}
	// Bo saves from the old revision: a conflict naming Ann; nothing saved.
	_, _, err = h.eng.SaveDraftFrom(h.ctx, "echo", []byte(v2), "bo", base)
	var c *engine.DraftConflict
	if !errors.Is(err, engine.ErrDraftConflict) || !errors.As(err, &c) || c.Current.DraftBy != "ann" || !strings.Contains(err.Error(), "ann saved flow echo") {
		t.Fatalf("save from an old revision: %v", err)
	}
	if rec, _ := h.store.Flow(h.ctx, "echo"); string(rec.Draft) != v1 {
		t.Error("a conflicting save changed the draft")
	}
	// Saving what is already there is no conflict, whatever the base.
	if _, _, err := h.eng.SaveDraftFrom(h.ctx, "echo", []byte(v1), "bo", base); err != nil {
		t.Errorf("saving the current document from an old revision: %v", err)
	}
	// Bo chooses to overwrite: a save from the current revision.
	if rec, _, err = h.eng.SaveDraftFrom(h.ctx, "echo", []byte(v2), "bo", c.Current.DraftRev); err != nil || string(rec.Draft) != v2 {
		t.Fatalf("overwrite: %v", err)
	}

	// Publishing a revision other than the one confirmed is a conflict.
	if _, _, err := h.eng.PublishDraft(h.ctx, "echo", "bo", "", rec.DraftRev-1); !errors.Is(err, engine.ErrDraftConflict) {
		t.Errorf("publish of an old revision: %v", err)
	}
	v, _, err := h.eng.PublishDraft(h.ctx, "echo", "bo", "Bo's wording", rec.DraftRev)
	if err != nil || v.Version != 2 || v.Note != "Bo's wording" {
		t.Fatalf("publish: %+v, %v", v, err)
	}
	if got, _ := h.store.FlowVersion(h.ctx, "echo", 2); got.Note != "Bo's wording" {
		t.Errorf("stored note %q", got.Note)
	}
	// Nothing changed since: no new version.
	v, _, err = h.eng.PublishDraft(h.ctx, "echo", "bo", "again", -1)
	if !errors.Is(err, engine.ErrUnchanged) || v == nil || v.Version != 2 {
		t.Errorf("publishing an unchanged draft: %+v, %v", v, err)
	}
	if vs, _ := h.store.FlowVersions(h.ctx, "echo"); len(vs) != 2 {
		t.Errorf("%d versions after publishing an unchanged draft, want 2", len(vs))
	}
	// A rollback that replaces the draft moves the revision on: an editor
	// of the replaced draft must reload.
	before, _ := h.store.Flow(h.ctx, "echo")
	if _, _, err := h.eng.Rollback(h.ctx, "echo", 1, "ann"); err != nil {
		t.Fatal(err)
	}
	if after, _ := h.store.Flow(h.ctx, "echo"); after.DraftRev == before.DraftRev {
		t.Error("a rollback replaced the draft without moving its revision")
	}
}

func TestTriggerCollisions(t *testing.T) {
	orders := `{"format": "parley/flow@1", "id": "orders", "name": "Orders", "start": "a",
	 "triggers": [{"type": "keyword", "keywords": ["order status", "track"]}, {"type": "any"}],
	 "nodes": [{"id": "a", "type": "send", "message": {"type": "text", "text": "x"}}]}`
	h := newHarness(t, orders)
	mine := `{"format": "parley/flow@1", "id": "menu", "start": "a",
	 "triggers": [{"type": "keyword", "keywords": ["hello", "order"]}, {"type": "any"}],
	 "nodes": [{"id": "a", "type": "send", "message": {"type": "text", "text": "x"}}]}`
	f, ps := h.eng.Validate([]byte(mine))
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	got := h.eng.TriggerCollisions(f)
	want := []string{
		`/triggers/0/keywords/1: keyword "order" meets keyword "order status" of published flow "Orders" (orders): a message such as "order status" starts only flow "menu" (the first by id)`,
		`/triggers/1: catches every message, as published flow "Orders" (orders) does already: only one starts, flow "menu" (the first by id)`,
	}
	var lines []string
	for _, p := range got {
		lines = append(lines, p.Pointer+": "+p.Message)
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("collisions:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// Publishing says so, and publishes all the same.
	v, ps, err := h.eng.Publish(h.ctx, []byte(mine), "ann")
	if err != nil || v == nil || len(ps) != 2 {
		t.Errorf("publish: %v, %v", ps, err)
	}
	// A flow never collides with its own published version.
	f, _ = h.eng.Validate([]byte(orders))
	if c := h.eng.TriggerCollisions(f); len(c) != 2 { // with menu's, not its own
		t.Errorf("orders against menu: %v", c)
	}
}
