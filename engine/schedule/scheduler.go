package schedule

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
)

// Defaults of Options.
const (
	// DefaultGrace is how late a missed fire time may still run: a
	// reminder an hour late is still useful, a day late it is noise.
	DefaultGrace = time.Hour
	// DefaultBatch is the contacts read and recorded per fan-out step.
	DefaultBatch = 200
	// DefaultWorkers is how many starts of a batch run at once, so that
	// their commits share fsyncs.
	DefaultWorkers = 8
	// MaxMissedRecorded caps the missed firings recorded one by one after
	// a long downtime; the rest are counted in the earliest recorded.
	MaxMissedRecorded = 100
	// WindowSafety: a contact whose window closes within it is treated as
	// closed when counting places under the messaging limit, because the
	// send may wait that long in the outbox.
	WindowSafety = time.Hour
	// limitRecheck bounds how long a waiting firing goes without looking
	// at the limit again (on the engine's clock): its own queued sends may
	// fail and free places before the oldest reach ages out.
	limitRecheck = time.Minute
)

// Options configure a Scheduler.
type Options struct {
	Engine *engine.Engine
	// Records keeps schedules and firings (*boltstore.Store,
	// *pgstore.Store).
	Records Records
	// Grace: a fire time missed by at most this long still runs (once);
	// default DefaultGrace. Negative: never run late.
	Grace   time.Duration
	Batch   int
	Workers int
	// Retention is how long a finished firing keeps its per-contact
	// records (retention.go); default DefaultRetention, negative: forever.
	Retention time.Duration
	Logger    *slog.Logger
}

// Scheduler claims schedules' firings on the engine's clock and fans them
// out. Its methods are safe for concurrent use; Tick runs one at a time.
type Scheduler struct {
	e       *engine.Engine
	records Records
	opts    Options
	log     *slog.Logger
	kick    chan struct{}

	tickMu sync.Mutex // one Tick at a time
	// pending are this scheduler's sends that took a place under the
	// messaging limit and may still sit in the outbox, not yet in the
	// reach log (fanout.go). Rebuilt from the Send records at the first
	// Tick.
	pending       map[msgRef]bool
	pendingLoaded bool
	checked       map[string]time.Time // waiting firing → last limit check
	lastPrune     time.Time            // when Tick last looked for firings to prune

	cacheMu sync.Mutex
	cache   map[string]*compiled // schedule id + updated_at → compiled
}

type msgRef struct {
	conv string
	seq  uint64
}

// New returns a scheduler over the engine and its file.
func New(o Options) (*Scheduler, error) {
	if o.Engine == nil || o.Records == nil {
		return nil, errors.New("schedule: New needs an engine and its file")
	}
	if o.Grace == 0 {
		o.Grace = DefaultGrace
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Scheduler{
		e: o.Engine, records: o.Records, opts: o, log: o.Logger, kick: make(chan struct{}, 1),
		pending: map[msgRef]bool{}, checked: map[string]time.Time{}, cache: map[string]*compiled{},
	}, nil
}

// Grace is the grace period in force.
func (s *Scheduler) Grace() time.Duration { return max(s.opts.Grace, 0) }

func (s *Scheduler) now() time.Time { return s.e.Clock().Now() }

// wake asks Run for a Tick now.
func (s *Scheduler) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run ticks every interval of real time, and at once when a schedule is
// run by hand, until ctx is done. Tests call Tick on a ManualClock.
func (s *Scheduler) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("schedules: tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// compiled is a schedule's expressions, ready to run.
type compiled struct {
	timing   Timing
	audience *vm.Program
	tmpl     *templateTexts
}

// compile checks a schedule on its own (no engine): cron, zone,
// audience, action shape and parameters.
func compile(sc *Schedule) (*compiled, error) {
	tm, err := ParseTiming(sc.Cron, sc.TimeZone)
	if err != nil {
		return nil, err
	}
	c := &compiled{timing: tm}
	if c.audience, err = compileAudience(sc.Audience); err != nil {
		return nil, err
	}
	if err := c.compileAction(sc.Action); err != nil {
		return nil, err
	}
	if sc.Busy != BusySkip {
		return nil, invalid("busy", "%q is not a busy rule; the rule is %q", sc.Busy, BusySkip)
	}
	return c, nil
}

func (c *compiled) compileAction(a Action) (err error) {
	switch a.Kind {
	case ActionStartFlow:
		if a.Flow == "" {
			return invalid("action.flow", "a start_flow action names a flow")
		}
	case ActionSendTemplate:
		c.tmpl, err = compileTemplate(a.Template)
	default:
		return invalid("action.kind", "%q is not an action; use start_flow or send_template", a.Kind)
	}
	return err
}

// compiledOf compiles a stored schedule once per version.
func (s *Scheduler) compiledOf(sc *Schedule) (*compiled, error) {
	k := sc.ID + "@" + sc.UpdatedAt.Format(time.RFC3339Nano)
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if c := s.cache[k]; c != nil {
		return c, nil
	}
	c, err := compile(sc)
	if err != nil {
		return nil, err
	}
	s.cache[k] = c
	return c, nil
}

// check validates a schedule against the engine too: the flow must be
// published; a template the registry holds must get its parameter count.
func (s *Scheduler) check(ctx context.Context, sc *Schedule) error {
	sc.normalize()
	if sc.Name == "" {
		return invalid("name", "a schedule needs a name")
	}
	if len(sc.Name) > 200 {
		return invalid("name", "at most 200 bytes")
	}
	if _, err := compile(sc); err != nil {
		return err
	}
	if sc.PhoneNumberID != "" && !s.e.ServesNumber(sc.PhoneNumberID) {
		return invalid("phone_number_id", "Parley does not serve the number %q", sc.PhoneNumberID)
	}
	switch sc.Action.Kind {
	case ActionStartFlow:
		rec, err := s.e.Store().Flow(ctx, sc.Action.Flow)
		if errors.Is(err, model.ErrNotFound) || (err == nil && (rec.Published == 0 || rec.Archived)) {
			return invalid("action.flow", "flow %q is not published", sc.Action.Flow)
		}
		if err != nil {
			return err
		}
	case ActionSendTemplate:
		t := sc.Action.Template
		info, ok := s.e.TemplateFrom(sc.PhoneNumberID, t.Name, t.Language) // its number's WABA; the default one for every number
		if !ok {
			return invalid("action.template", "template %s/%s is not in the registry", t.Name, t.Language)
		}
		ts := flows.TemplateSend(*t)
		for _, p := range templates.CheckTemplateSend(info, &ts, false) {
			if p.Kind != templates.ProblemWarning {
				return invalid(templateField(p.Path), "template %s/%s: %s", t.Name, t.Language, p.Message)
			}
		}
	}
	return nil
}

func newID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "s" + hex.EncodeToString(b)
}

// Create stores a new schedule. Its first fire time is the first after
// now.
func (s *Scheduler) Create(ctx context.Context, sc Schedule, by string) (*Schedule, error) {
	if err := s.check(ctx, &sc); err != nil {
		return nil, err
	}
	now := s.now()
	sc.ID = newID()
	sc.CreatedAt, sc.CreatedBy, sc.UpdatedAt, sc.UpdatedBy, sc.Cursor = now, by, now, by, now
	err := s.records.UpdateSchedules(ctx, func(tx Tx) error {
		return tx.PutSchedule(&sc)
	})
	if err != nil {
		return nil, fmt.Errorf("saving schedule: %w", err)
	}
	s.wake()
	return &sc, nil
}

// Update replaces a schedule's definition (name, cron, zone, action,
// audience, busy, paused). A new cron expression or zone counts from now:
// fire times before the edit are not caught up.
func (s *Scheduler) Update(ctx context.Context, id string, in Schedule, by string) (*Schedule, error) {
	if err := s.check(ctx, &in); err != nil {
		return nil, err
	}
	return s.modify(ctx, id, func(sc *Schedule, now time.Time) error {
		if in.Cron != sc.Cron || in.TimeZone != sc.TimeZone || (sc.Paused && !in.Paused) {
			sc.Cursor = now
		}
		sc.Name, sc.Cron, sc.TimeZone, sc.Action, sc.Audience, sc.Busy, sc.Paused = in.Name, in.Cron, in.TimeZone, in.Action, in.Audience, in.Busy, in.Paused
		sc.PhoneNumberID = in.PhoneNumberID
		sc.UpdatedAt, sc.UpdatedBy = now, by
		return nil
	})
}

// SetPaused pauses or resumes a schedule. A paused schedule claims no
// firing and its running firings stop where they are; on resume they go
// on, and its cursor moves to now: the paused period is not caught up.
func (s *Scheduler) SetPaused(ctx context.Context, id string, paused bool, by string) (*Schedule, error) {
	return s.modify(ctx, id, func(sc *Schedule, now time.Time) error {
		if sc.Paused == paused {
			return nil
		}
		if !paused {
			sc.Cursor = now
		}
		sc.Paused, sc.UpdatedAt, sc.UpdatedBy = paused, now, by
		return nil
	})
}

// modify changes a stored schedule in one transaction.
func (s *Scheduler) modify(ctx context.Context, id string, fn func(*Schedule, time.Time) error) (*Schedule, error) {
	now := s.now()
	var out *Schedule
	err := s.records.UpdateSchedules(ctx, func(tx Tx) error {
		sc, err := storedSchedule(tx, id)
		if err != nil {
			return err
		}
		if err := fn(sc, now); err != nil {
			return err
		}
		out = sc
		return tx.PutSchedule(sc)
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return out, nil
}

// Delete removes a schedule; its unfinished firings are cancelled (their
// history stays).
func (s *Scheduler) Delete(ctx context.Context, id string) error {
	now := s.now()
	return s.records.UpdateSchedules(ctx, func(tx Tx) error {
		if _, err := storedSchedule(tx, id); err != nil {
			return err
		}
		fs, err := tx.FiringsOf(id, 0)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if f.Status.Finished() {
				continue
			}
			f.Status, f.Reason, f.FinishedAt = Cancelled, "the schedule was deleted", now
			if err := tx.PutFiring(f); err != nil {
				return err
			}
		}
		_, err = tx.DeleteSchedule(id)
		return err
	})
}

// Get returns a schedule.
func (s *Scheduler) Get(ctx context.Context, id string) (*Schedule, error) {
	var sc *Schedule
	err := s.records.ViewSchedules(ctx, func(tx Tx) error {
		var err error
		sc, err = storedSchedule(tx, id)
		return err
	})
	return sc, err
}

// storedSchedule reads a schedule in a transaction, or ErrNotFound.
func storedSchedule(tx Tx, id string) (*Schedule, error) {
	sc, err := tx.Schedule(id)
	if err == nil && sc == nil {
		err = ErrNotFound
	}
	return sc, err
}

// List returns every schedule, by name.
func (s *Scheduler) List(ctx context.Context) ([]*Schedule, error) {
	out := []*Schedule{}
	err := s.records.ViewSchedules(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Schedules()
		return err
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// NextFires is a stored schedule's next n fire times after now, in its
// zone (none while paused).
func (s *Scheduler) NextFires(sc *Schedule, n int) []time.Time {
	if sc.Paused {
		return []time.Time{}
	}
	c, err := s.compiledOf(sc)
	if err != nil {
		return []time.Time{}
	}
	return c.timing.Preview(maxTime(sc.Cursor, s.now()), n)
}

// Preview returns the next n fire times of a cron expression in a zone
// after now, to show before saving.
func (s *Scheduler) Preview(expr, zone string, n int) ([]time.Time, error) {
	tm, err := ParseTiming(expr, zone)
	if err != nil {
		return nil, err
	}
	return tm.Preview(s.now(), n), nil
}

// RunNow claims a firing of the schedule at now, outside its cron.
func (s *Scheduler) RunNow(ctx context.Context, id, by string) (*Firing, error) {
	now := s.now()
	var out *Firing
	err := s.records.UpdateSchedules(ctx, func(tx Tx) error {
		sc, err := storedSchedule(tx, id)
		if err != nil {
			return err
		}
		if sc.Paused {
			return ErrPaused
		}
		f := newFiring(sc, now, now, Running)
		f.ID, f.Manual, f.By = firingID(sc.ID, now, true), true, by
		if old, err := tx.Firing(f.ID); err != nil || old != nil {
			return cmp.Or(err, fmt.Errorf("schedule %s was already run at %s", id, now.Format(time.RFC3339Nano)))
		}
		out = f
		return tx.PutFiring(f)
	})
	if err != nil {
		return nil, err
	}
	s.wake()
	return out, nil
}

func newFiring(sc *Schedule, at, now time.Time, status FiringStatus) *Firing {
	return &Firing{
		ID: firingID(sc.ID, at, false), Schedule: sc.ID, Name: sc.Name, At: at, Status: status, ClaimedAt: now,
		Action: sc.Action, Audience: sc.Audience, Busy: sc.Busy, TimeZone: sc.TimeZone, PhoneNumberID: sc.PhoneNumberID,
	}
}

// Firings returns a schedule's firings, newest first, up to limit (0: all).
func (s *Scheduler) Firings(ctx context.Context, id string, limit int) ([]*Firing, error) {
	var out []*Firing
	err := s.records.ViewSchedules(ctx, func(tx Tx) error {
		var err error
		out, err = tx.FiringsOf(id, limit)
		return err
	})
	if out == nil {
		out = []*Firing{}
	}
	return out, err
}

// Firing returns one firing.
func (s *Scheduler) Firing(ctx context.Context, id string) (*Firing, error) {
	var f *Firing
	err := s.records.ViewSchedules(ctx, func(tx Tx) error {
		var err error
		f, err = tx.Firing(id)
		return err
	})
	if err == nil && f == nil {
		err = ErrNotFound
	}
	return f, err
}

// Tick claims every schedule's due fire times and advances every
// unfinished firing, oldest first, as far as the messaging limit lets it.
func (s *Scheduler) Tick(ctx context.Context) error {
	s.tickMu.Lock()
	defer s.tickMu.Unlock()
	now := s.now()
	if !s.pendingLoaded {
		if err := s.loadPending(ctx); err != nil {
			return err
		}
		s.pendingLoaded = true
	}
	defs, err := s.List(ctx)
	if err != nil {
		return err
	}
	var errs []error
	paused := map[string]bool{}
	for _, sc := range defs {
		if sc.Paused {
			paused[sc.ID] = true
			continue
		}
		if err := s.claimDue(ctx, sc, now); err != nil {
			errs = append(errs, fmt.Errorf("schedule %s: %w", sc.ID, err))
		}
	}
	active, err := s.active(ctx)
	if err != nil {
		return err
	}
	var owed time.Time // an older firing waits for places that free then
	for _, f := range active {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !owed.IsZero() && !s.now().Before(owed) {
			// Older firings go first: places that freed up during this
			// tick, while an older firing was found waiting for them, are
			// not a younger firing's; the next tick offers them to it.
			break
		}
		if err := s.advance(ctx, f); err != nil {
			errs = append(errs, fmt.Errorf("firing %s: %w", f.ID, err))
		}
		if f.Status == Waiting && !paused[f.Schedule] && (owed.IsZero() || f.FreeAt.Before(owed)) {
			owed = f.FreeAt
		}
	}
	if now.Sub(s.lastPrune) >= pruneEvery {
		s.lastPrune = now
		if _, err := s.Prune(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// claimDue claims the schedule's fire times up to now, in one transaction
// with its cursor: the latest runs if within the grace period, the others
// are recorded missed.
func (s *Scheduler) claimDue(ctx context.Context, snap *Schedule, now time.Time) error {
	c, err := s.compiledOf(snap)
	if err != nil {
		return err
	}
	if next := c.timing.Next(snap.Cursor); next.IsZero() || next.After(now) {
		return nil // the common case: nothing due, no write
	}
	grace := s.Grace()
	var claimed []*Firing
	err = s.records.UpdateSchedules(ctx, func(tx Tx) error {
		claimed = claimed[:0]
		sc, err := tx.Schedule(snap.ID)
		if err != nil || sc == nil || sc.Paused || !sc.UpdatedAt.Equal(snap.UpdatedAt) {
			return err // gone, paused or edited since: the next tick sees it
		}
		var due []time.Time // the last MaxMissedRecorded+1 fire times
		total := 0
		for t := c.timing.Next(sc.Cursor); !t.IsZero() && !t.After(now); t = c.timing.Next(t) {
			total++
			due = append(due, t)
			if len(due) > MaxMissedRecorded+1 {
				due = due[1:]
			}
			sc.Cursor = t
		}
		if total == 0 {
			return nil
		}
		last := due[len(due)-1]
		var run *Firing
		if now.Sub(last) <= grace {
			run = newFiring(sc, last, now, Running)
			due = due[:len(due)-1]
		}
		missed := due
		if len(missed) > MaxMissedRecorded {
			missed = missed[len(missed)-MaxMissedRecorded:]
		}
		for i, t := range missed {
			f := newFiring(sc, t, now, Missed)
			f.FinishedAt = now
			f.Reason = fmt.Sprintf("not run: %s late, past the grace period of %s (Parley was not running or could not keep up)", now.Sub(t).Round(time.Second), grace)
			if i == 0 && total-len(missed)-btoi(run != nil) > 0 {
				f.Reason += fmt.Sprintf("; %d earlier fire times were missed too", total-len(missed)-btoi(run != nil))
			}
			if old, err := tx.Firing(f.ID); err != nil || old != nil {
				if err != nil {
					return err
				}
				continue
			}
			if err := tx.PutFiring(f); err != nil {
				return err
			}
			claimed = append(claimed, f)
		}
		if run != nil {
			old, err := tx.Firing(run.ID)
			if err != nil {
				return err
			}
			if old == nil {
				if err := tx.PutFiring(run); err != nil {
					return err
				}
				claimed = append(claimed, run)
			}
		}
		return tx.PutSchedule(sc)
	})
	if err != nil {
		return fmt.Errorf("claiming: %w", err)
	}
	for _, f := range claimed {
		if f.Status == Missed {
			s.log.Warn("schedule firing missed", "schedule", f.Schedule, "firing", f.ID, "at", f.At)
		} else {
			s.log.Info("schedule firing claimed", "schedule", f.Schedule, "firing", f.ID, "at", f.At, "late", now.Sub(f.At))
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// active lists the unfinished firings, oldest fire time first.
func (s *Scheduler) active(ctx context.Context) ([]*Firing, error) {
	var out []*Firing
	err := s.records.ViewSchedules(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Active()
		return err
	})
	return out, err
}
