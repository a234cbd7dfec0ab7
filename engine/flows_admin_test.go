package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

func TestSaveDraft(t *testing.T) {
	h := newHarness(t, echoFlow)
	tests := []struct {
		name    string
		id, doc string
		err     error
		valid   bool
	}{
		{"valid", "echo", strings.Replace(echoFlow, "you said", "heard", 1), nil, true},
		{"invalid, saved all the same", "echo", strings.Replace(echoFlow, `"next": "ask"`, `"next": "gone"`, 1), nil, false},
		{"new flow", "fresh", `{"id": "fresh"}`, nil, false},
		{"another flow's document", "other", echoFlow, engine.ErrFlowIDMismatch, false},
		{"not an object", "echo", `["echo"]`, engine.ErrNotFlowDocument, false},
		{"no id", "echo", `{"name": "Echo"}`, engine.ErrNotFlowDocument, false},
		{"id not a string", "echo", `{"id": 7}`, engine.ErrNotFlowDocument, false},
		{"over the cap", "echo", `{"id": "echo", "x": "` + strings.Repeat("x", flows.MaxFlowBytes) + `"}`, engine.ErrFlowTooLarge, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := h.store.Flow(h.ctx, tc.id)
			rec, problems, err := h.eng.SaveDraft(h.ctx, tc.id, []byte(tc.doc), "ana")
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				if after, _ := h.store.Flow(h.ctx, tc.id); before != nil && string(after.Draft) != string(before.Draft) {
					t.Error("a refused draft changed the stored one")
				}
				return
			}
			if problems.HasErrors() == tc.valid {
				t.Errorf("valid = %v, want %v: %v", !problems.HasErrors(), tc.valid, problems)
			}
			if string(rec.Draft) != tc.doc || rec.DraftBy != "ana" {
				t.Errorf("record %+v", rec)
			}
			if tc.id == "echo" && rec.Published != 1 {
				t.Errorf("saving a draft moved Published to %d", rec.Published)
			}
		})
	}
	// Drafts never touch what runs.
	h.say("1", "hello")
	h.say("1", "x")
	equal(t, h.sent("1"), []string{"you said x"})
}

func TestRollbackAndDraftChanged(t *testing.T) {
	h := newHarness(t, echoFlow, strings.Replace(echoFlow, "you said", "v2 heard", 1))
	changed := func() bool {
		t.Helper()
		rec, err := h.store.Flow(h.ctx, "echo")
		if err != nil {
			t.Fatal(err)
		}
		c, err := h.eng.DraftChanged(h.ctx, rec)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if changed() {
		t.Fatal("the draft just published counts as changed")
	}
	// Whitespace is no change.
	if _, _, err := h.eng.SaveDraft(h.ctx, "echo", []byte(strings.ReplaceAll(strings.Replace(echoFlow, "you said", "v2 heard", 1), "\n", "\n\t")), "ana"); err != nil {
		t.Fatal(err)
	}
	if changed() {
		t.Fatal("re-indenting the draft counts as a change")
	}
	v, _, err := h.eng.Rollback(h.ctx, "echo", 1, "ana")
	if err != nil || v.Version != 3 {
		t.Fatalf("rollback: %+v, %v", v, err)
	}
	if changed() {
		t.Error("after a rollback over an unchanged draft, the draft is not the rolled-back document")
	}
	h.say("1", "hello")
	h.say("1", "x")
	equal(t, h.sent("1"), []string{"you said x"})

	if _, _, err := h.eng.Rollback(h.ctx, "echo", 9, "ana"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("rollback to a missing version: %v", err)
	}
	if err := h.eng.Archive(h.ctx, "nope", true); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("archive of an unknown flow: %v", err)
	}
	if _, _, err := h.eng.PublishDraft(h.ctx, "nope", "ana", "", -1); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("publish of an unknown flow: %v", err)
	}
}
