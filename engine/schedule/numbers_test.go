package schedule

import (
	"errors"
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
)

// A schedule that names a number sends to that number's contacts only;
// one without sends to every number's.
func TestScheduleSendsFromItsNumber(t *testing.T) {
	w := newWorld(t, 0)
	const other = "100000000000002"
	ours := w.contact("15550000001", nil)
	theirs := model.NewContactKey(other, "15550000002")
	if _, err := w.eng.UpdateContact(w.ctx, theirs, func(c *model.Contact) {
		c.PhoneNumberID, c.WaID, c.Name, c.OptedIn, c.OptedInAt = other, "15550000002", "Bea", true, t0.Add(-1)
	}); err != nil {
		t.Fatal(err)
	}
	one := reminder()
	one.Name, one.PhoneNumberID = "Only the second number", other
	sc := w.create(one)
	all := w.create(reminder())
	w.clock.Set(at(0, 9, 0))
	w.tick()
	if f := w.firings(sc.ID)[0]; f.PhoneNumberID != other || f.Counts.Audience != 1 || f.Counts.Sent != 1 {
		t.Errorf("the second number's firing: %+v", f)
	}
	if f := w.firings(all.ID)[0]; f.Counts.Audience != 2 {
		t.Errorf("every number's firing: %+v", f.Counts)
	}
	if got := w.scheduled(); got[theirs] != 2 || got[ours] != 1 {
		t.Errorf("scheduled: %v", got)
	}
}

func TestScheduleRefusesANumberNotServed(t *testing.T) {
	w := newWorld(t, 0)
	w.reopenWith([]engine.PhoneNumber{{ID: phone}})
	sc := reminder()
	sc.PhoneNumberID = "999"
	var inv *InvalidError
	if _, err := w.s.Create(w.ctx, sc, "tester"); !errors.As(err, &inv) || inv.Field != "phone_number_id" {
		t.Errorf("a number Parley does not serve: %v", err)
	}
}

// reopenWith restarts the world serving these numbers.
func (w *world) reopenWith(numbers []engine.PhoneNumber) {
	w.t.Helper()
	w.numbers = numbers
	w.reopen()
}
