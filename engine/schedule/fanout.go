package schedule

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// job is one contact of a batch the fan-out starts.
type job struct {
	contact *model.Contact
	reach   bool // takes a place under the messaging limit
	send    Send
}

// advance moves one unfinished firing on: batch after batch of contacts,
// until the audience is done, the messaging limit has no place left, or
// ctx ends. Each batch commits its Sends, counts and cursor together.
func (s *Scheduler) advance(ctx context.Context, f *Firing) error {
	now := s.now()
	sc, err := s.Get(ctx, f.Schedule)
	if errors.Is(err, model.ErrNotFound) {
		f.Status, f.Reason, f.FinishedAt = Cancelled, "the schedule was deleted", now
		return s.saveBatch(ctx, f, nil)
	}
	if err != nil {
		return err
	}
	if sc.Paused {
		return nil
	}
	if f.Status == Waiting && now.Before(f.FreeAt) && now.Sub(s.checked[f.ID]) < limitRecheck {
		return nil
	}
	s.checked[f.ID] = now
	run, why := s.prepare(ctx, f)
	if why != "" {
		f.Status, f.Reason, f.FinishedAt = Failed, why, now
		s.log.Warn("schedule firing failed", "schedule", f.Schedule, "firing", f.ID, "reason", why)
		return s.saveBatch(ctx, f, nil)
	}
	room := &capacity{s: s, limit: s.e.MessagingLimitOf(f.PhoneNumberID), number: f.PhoneNumberID}
	for ctx.Err() == nil {
		now = s.now()
		contacts, err := s.e.Store().ListContacts(ctx, f.Cursor, s.opts.Batch)
		if err != nil {
			return fmt.Errorf("listing contacts: %w", err)
		}
		if len(contacts) == 0 {
			f.Status, f.Reason, f.FreeAt, f.FinishedAt = Done, "", time.Time{}, now
			delete(s.checked, f.ID)
			s.log.Info("schedule firing done", "schedule", f.Schedule, "firing", f.ID,
				"audience", f.Counts.Audience, "sent", f.Counts.Sent, "skipped", sum(f.Counts.Skipped), "failed", sum(f.Counts.Failed))
			return s.saveBatch(ctx, f, nil)
		}
		next := *f
		next.Counts = cloneCounts(f.Counts)
		var jobs []*job
		var records []*Send
		waiting := false
		for _, c := range contacts {
			j, rec, wait, err := s.decide(ctx, run, &next, c, now, room)
			if err != nil {
				return err
			}
			if wait {
				waiting = true
				break
			}
			next.Cursor = c.Key
			if rec != nil {
				records = append(records, rec)
			}
			if j != nil {
				jobs = append(jobs, j)
			}
		}
		s.execute(ctx, run, &next, jobs)
		if ctx.Err() != nil {
			// Not recorded: the batch runs again after the restart, and
			// the dedupe keys keep what was sent from going twice.
			return ctx.Err()
		}
		room.batch = 0
		for _, j := range jobs {
			records = append(records, &j.send)
			if j.send.Outcome == OutcomeSent && j.reach && j.send.Seq > 0 {
				s.pending[msgRef{j.send.Conversation, j.send.Seq}] = true
			}
		}
		if waiting {
			used, freeAt := room.used, room.freeAt
			next.Status, next.FreeAt = Waiting, freeAt
			next.Reason = fmt.Sprintf("messaging limit: %d of %d unique customers reached in the moving 24 h (%d more queued); the rest waits for places to free",
				used, room.limit, len(s.pending))
			if !room.restricted.IsZero() {
				next.FreeAt = room.restricted
				next.Reason = "Meta restricted business-initiated messaging until " + room.restricted.UTC().Format(time.RFC3339) + "; the rest waits"
			}
			if f.Status != Waiting {
				s.log.Info("schedule firing waits for the messaging limit", "schedule", f.Schedule, "firing", f.ID, "free_at", freeAt, "sent", next.Counts.Sent)
			}
		} else {
			next.Status, next.Reason, next.FreeAt = Running, "", time.Time{}
		}
		if err := s.saveBatch(ctx, &next, records); err != nil {
			return err
		}
		*f = next
		if waiting {
			return nil
		}
	}
	return ctx.Err()
}

// run is what a firing needs at hand for its fan-out.
type run struct {
	c        *compiled
	loc      *time.Location
	category string // the template's category, for marketing opt-outs
}

// prepare compiles the firing's snapshot and checks that its action can
// run at all; why says what stops it.
func (s *Scheduler) prepare(ctx context.Context, f *Firing) (*run, string) {
	c := &compiled{}
	var err error
	if c.audience, err = compileAudience(f.Audience); err != nil {
		return nil, err.Error()
	}
	if err := c.compileAction(f.Action); err != nil {
		return nil, err.Error()
	}
	r := &run{c: c, loc: time.UTC}
	if loc, err := time.LoadLocation(f.TimeZone); err == nil {
		r.loc = loc
	}
	switch f.Action.Kind {
	case ActionStartFlow:
		rec, err := s.e.Store().Flow(ctx, f.Action.Flow)
		if err != nil || rec.Published == 0 || rec.Archived {
			return nil, fmt.Sprintf("flow %q is not published", f.Action.Flow)
		}
	case ActionSendTemplate:
		t := f.Action.Template
		info, ok := s.e.TemplateFrom(f.PhoneNumberID, t.Name, t.Language) // its number's WABA; the default one for every number
		switch {
		case !ok:
			return nil, fmt.Sprintf("template %s/%s is not in the registry", t.Name, t.Language)
		case info.Status != model.TemplateApproved:
			return nil, fmt.Sprintf("template %s/%s is %s, not APPROVED", t.Name, t.Language, info.Status)
		}
		ts := flows.TemplateSend(*t)
		for _, p := range templates.CheckTemplateSend(info, &ts, false) {
			if p.Kind == templates.ProblemFit {
				return nil, fmt.Sprintf("template %s/%s does not take what the schedule gives: %s", t.Name, t.Language, p)
			}
		}
		r.category = info.Category
	}
	return r, ""
}

// decide places one contact: not in the audience (nothing), skipped (a
// record), to start (a job), or — wait — no place under the limit.
func (s *Scheduler) decide(ctx context.Context, r *run, f *Firing, c *model.Contact, now time.Time, room *capacity) (*job, *Send, bool, error) {
	env := envOf(c, now.In(r.loc))
	in, err := inAudience(r.c.audience, env)
	rec := &Send{Contact: c.Key, At: now}
	if err != nil {
		f.Counts.Audience++
		f.Counts.skip(SkipAudienceError)
		rec.Outcome, rec.Reason, rec.Detail = OutcomeSkipped, SkipAudienceError, err.Error()
		return nil, rec, false, nil
	}
	if !in || (f.PhoneNumberID != "" && c.Key.PhoneNumberID() != f.PhoneNumberID) {
		return nil, nil, false, nil
	}
	if why := skipReason(c, r.category, now); why != "" {
		f.Counts.Audience++
		f.Counts.skip(why)
		rec.Outcome, rec.Reason = OutcomeSkipped, why
		return nil, rec, false, nil
	}
	if !policy.WindowOpen(c, now.Add(WindowSafety)) {
		if until := s.e.RestrictedUntilOf(c.Key.PhoneNumberID()); !until.IsZero() {
			room.restricted = until
			return nil, nil, true, nil
		}
	}
	reach, err := s.e.NeedsReach(ctx, c, now.Add(WindowSafety))
	if err != nil {
		return nil, nil, false, err
	}
	if reach {
		ok, err := room.take(ctx, now)
		if err != nil {
			return nil, nil, false, err
		}
		if !ok {
			return nil, nil, true, nil
		}
	}
	f.Counts.Audience++
	return &job{contact: c, reach: reach, send: Send{Contact: c.Key, At: now, Reach: reach}}, nil, false, nil
}

// skipReason is why consent or reachability keep a contact out, or "".
func skipReason(c *model.Contact, category string, now time.Time) string {
	marketing := strings.EqualFold(category, whatsapp.CategoryMarketing)
	switch {
	case c.OptedOut:
		return SkipOptedOut
	case !c.OptedIn:
		return SkipNoConsent
	case c.Unreachable:
		return SkipUnreachable
	case marketing && c.MarketingOptOut:
		return SkipMarketingOptOut
	case marketing && now.Before(c.HoldUntil):
		return SkipHeld
	}
	return ""
}

// execute starts a batch's jobs, Workers at a time, and records each
// outcome in its job and the counts.
func (s *Scheduler) execute(ctx context.Context, r *run, f *Firing, jobs []*job) {
	if len(jobs) == 0 {
		return
	}
	by := "schedule:" + f.Schedule
	work := make(chan *job)
	var wg sync.WaitGroup
	for range min(s.opts.Workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				s.start(ctx, r, f, by, j)
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	for _, j := range jobs {
		switch j.send.Outcome {
		case OutcomeSent:
			f.Counts.Sent++
		case OutcomeSkipped:
			f.Counts.skip(j.send.Reason)
		default:
			f.Counts.fail(j.send.Reason)
		}
	}
}

// start starts one contact, idempotently (the dedupe key).
func (s *Scheduler) start(ctx context.Context, r *run, f *Firing, by string, j *job) {
	in := engine.Initiation{Contact: j.contact.Key, DedupeKey: "sched:" + f.ID + ":" + string(j.contact.Key), By: by}
	var res engine.Initiated
	var err error
	switch f.Action.Kind {
	case ActionStartFlow:
		res, err = s.e.StartFlowOnce(ctx, in, f.Action.Flow)
	case ActionSendTemplate:
		ts, perr := r.c.tmpl.render(f.Action.Template, envOf(j.contact, s.now().In(r.loc)))
		if perr != nil {
			j.send.Outcome, j.send.Reason, j.send.Detail = OutcomeFailed, FailParams, perr.Error()
			return
		}
		res, err = s.e.SendTemplateOnce(ctx, in, ts)
	}
	switch {
	case errors.Is(err, engine.ErrBusy):
		j.send.Outcome, j.send.Reason = OutcomeSkipped, SkipBusy
	case errors.Is(err, engine.ErrNotSendable) || errors.Is(err, model.ErrOverLimit):
		j.send.Outcome, j.send.Reason, j.send.Detail = OutcomeFailed, FailNotSendable, err.Error()
	case err != nil:
		if ctx.Err() == nil {
			s.log.Error("schedule start failed", "firing", f.ID, "contact", j.contact.Key, "err", err)
		}
		j.send.Outcome, j.send.Reason, j.send.Detail = OutcomeFailed, FailError, err.Error()
	case res.Status == model.Failed && res.Seq == 0:
		j.send.Outcome, j.send.Reason, j.send.Detail = OutcomeFailed, FailFlowFailed, res.Reason
		j.send.Conversation = res.Conversation
	default:
		j.send.Outcome, j.send.Conversation, j.send.Seq = OutcomeSent, res.Conversation, res.Seq
	}
}

// saveBatch commits a firing's new state and a batch's Sends together.
func (s *Scheduler) saveBatch(ctx context.Context, f *Firing, records []*Send) error {
	err := s.records.UpdateSchedules(context.WithoutCancel(ctx), func(tx Tx) error {
		for _, r := range records {
			if err := tx.PutSend(f.ID, r); err != nil {
				return err
			}
		}
		return tx.PutFiring(f)
	})
	if err != nil {
		return fmt.Errorf("recording the fan-out: %w", err)
	}
	return nil
}

// capacity counts the places left under the messaging limit for one
// advance: limit − reached in the moving 24 h − this scheduler's sends
// still queued (pending). It reads the store only when its own count runs
// out.
type capacity struct {
	s      *Scheduler
	number string // the firing's number ("": the default portfolio's limit)
	limit  int
	loaded bool
	free   int
	used   int
	freeAt time.Time
	// batch counts the places taken by the batch being decided, not yet
	// in pending.
	batch int
	// restricted: Meta restricted business-initiated messaging until then.
	restricted time.Time
}

// take takes a place, reporting false when there is none.
func (c *capacity) take(ctx context.Context, now time.Time) (bool, error) {
	if c.limit <= 0 {
		return true, nil
	}
	if c.free <= 0 {
		if err := c.refresh(ctx, now); err != nil {
			return false, err
		}
	}
	if c.free <= 0 {
		return false, nil
	}
	c.free--
	c.batch++
	return true, nil
}

// refresh forgets pending sends that left the outbox, then reads the
// reach log: in that order, so a send that leaves the outbox between the
// two reads is counted twice (too few places), never not at all.
func (c *capacity) refresh(ctx context.Context, now time.Time) error {
	s := c.s
	for ref := range s.pending {
		m, err := s.e.Store().Message(ctx, ref.conv, ref.seq)
		if errors.Is(err, model.ErrNotFound) || (err == nil && m.State != model.Queued) {
			delete(s.pending, ref)
			continue
		}
		if err != nil {
			return fmt.Errorf("reading a pending send: %w", err)
		}
	}
	used, freeAt, err := s.e.ReachUsageOf(ctx, c.number)
	if err != nil {
		return err
	}
	c.used, c.freeAt = used, freeAt
	c.free = c.limit - used - len(s.pending) - c.batch
	return nil
}

// loadPending rebuilds the pending sends from the records of the firings
// claimed within the last day or not finished (older sends have long left
// the outbox). The messages are read after the scan: a read transaction
// must not wait on another in the same goroutine (bbolt).
func (s *Scheduler) loadPending(ctx context.Context) error {
	since := s.now().Add(-model.LimitWindow)
	var refs []msgRef
	err := s.records.ViewSchedules(ctx, func(tx Tx) error {
		refs = refs[:0]
		return tx.Firings(func(f *Firing) error {
			if f.ClaimedAt.Before(since) && f.Status.Finished() {
				return nil
			}
			return tx.Sends(f.ID, func(sd *Send) error {
				if sd.Outcome == OutcomeSent && sd.Reach && sd.Seq > 0 {
					refs = append(refs, msgRef{sd.Conversation, sd.Seq})
				}
				return nil
			})
		})
	})
	if err != nil {
		return err
	}
	for _, ref := range refs {
		m, err := s.e.Store().Message(ctx, ref.conv, ref.seq)
		if err == nil && m.State == model.Queued {
			s.pending[ref] = true
		}
	}
	return nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func cloneCounts(c Counts) Counts {
	out := Counts{Audience: c.Audience, Sent: c.Sent}
	if c.Skipped != nil {
		out.Skipped = make(map[string]int, len(c.Skipped))
		for k, v := range c.Skipped {
			out.Skipped[k] = v
		}
	}
	if c.Failed != nil {
		out.Failed = make(map[string]int, len(c.Failed))
		for k, v := range c.Failed {
			out.Failed[k] = v
		}
	}
	return out
}
