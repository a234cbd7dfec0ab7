package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// fanoutBatch is how many logged events one fan-out transaction moves.
const fanoutBatch = 256

// dueBatch is how many due deliveries start reads from the store at once.
const dueBatch = 256

// maxErrorBody is how much of a failed answer's body an attempt keeps,
// for the admin to read.
const maxErrorBody = 256

func randFloat() float64 { return rand.Float64() }

// Run delivers events until ctx is done: it looks at the log and the due
// deliveries when the engine records events, when an attempt ends, and
// every interval of real time (retries come due as time passes). It waits
// for the attempts under way before it returns.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	defer s.wg.Wait()
	for {
		if _, err := s.step(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("event webhooks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.kick:
		}
	}
}

// Pass moves the logged events into deliveries and attempts every
// delivery due now, waiting for the attempts, until none is left due (a
// delivery's success can make the next one of its contact due). It
// returns how many attempts it made. Tests call it on a manual clock
// instead of Run.
func (s *Service) Pass(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.step(ctx)
		s.wg.Wait()
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// step fans out, prunes once an hour, and starts the due attempts there
// is room for.
func (s *Service) step(ctx context.Context) (int, error) {
	if now := s.clock.Now(); s.claimer != nil && now.Sub(s.reloaded) >= SubscriptionsReload {
		s.reloaded = now
		if err := s.reload(ctx); err != nil {
			return 0, err
		}
	}
	if err := s.fanout(ctx); err != nil {
		return 0, err
	}
	if now := s.clock.Now(); now.Sub(s.pruned) >= time.Hour {
		s.pruned = now
		if n, err := s.store.PruneDeliveries(ctx, now.Add(-s.retention)); err != nil {
			s.log.Error("pruning event deliveries", "err", err)
		} else if n > 0 {
			s.log.Info("pruned event deliveries", "count", n)
		}
	}
	return s.start(ctx)
}

// fanout moves every logged event into a delivery per subscription that
// wants it, a batch per transaction.
func (s *Service) fanout(ctx context.Context) error {
	for {
		logged, err := s.store.EventsAfter(ctx, 0, fanoutBatch)
		if err != nil {
			return fmt.Errorf("reading the event log: %w", err)
		}
		if len(logged) == 0 {
			return nil
		}
		// On a shared store another process may have made a
		// subscription these events are for.
		if err := s.reload(ctx); err != nil {
			return err
		}
		now := s.clock.Now().UTC()
		s.subsMu.RLock()
		var ds []Delivery
		for _, le := range logged {
			for _, sub := range s.subs {
				// A subscription made after the event does not get it.
				if !sub.Wants(le.Event.Type) || le.Event.At.Before(sub.CreatedAt) {
					continue
				}
				ds = append(ds, Delivery{
					Subscription: sub.ID, Event: le.Event, OrderKey: orderKey(&le.Event), State: Pending,
					NextAt: now, CreatedAt: now, GiveUpAt: now.Add(s.maxAge),
				})
			}
		}
		s.subsMu.RUnlock()
		if err := s.store.Enqueue(ctx, logged[len(logged)-1].Seq, ds); err != nil {
			return fmt.Errorf("enqueueing %d deliveries: %w", len(ds), err)
		}
		if len(logged) < fanoutBatch {
			return nil
		}
	}
}

// start begins the due attempts there is room for, each in a goroutine
// of its own, and returns how many. It takes them from s.queue, read from
// the store a batch at a time: not on every attempt's end.
func (s *Service) start(ctx context.Context) (int, error) {
	s.mu.Lock()
	room := s.concurrency - len(s.inflight)
	empty := len(s.queue) == 0
	s.mu.Unlock()
	if room <= 0 {
		return 0, nil
	}
	if s.claimer != nil {
		// Claimed deliveries are posted at once: a claim waiting in a
		// queue could run out and be claimed again by another process.
		claimed, err := s.claimer.ClaimDue(ctx, s.clock.Now(), room)
		if err != nil {
			return 0, fmt.Errorf("claiming due deliveries: %w", err)
		}
		s.mu.Lock()
		s.queue = append(s.queue, claimed...)
		s.mu.Unlock()
	} else if empty {
		due, err := s.store.Due(ctx, s.clock.Now(), max(dueBatch, 2*s.concurrency))
		if err != nil {
			return 0, fmt.Errorf("reading due deliveries: %w", err)
		}
		s.mu.Lock()
		for _, d := range due {
			if !s.inflight[d.Seq] {
				s.queue = append(s.queue, d)
			}
		}
		s.mu.Unlock()
	}
	started := 0
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.queue) > 0 && started < room {
		d := s.queue[0]
		s.queue = s.queue[1:]
		if s.inflight[d.Seq] {
			continue
		}
		s.inflight[d.Seq] = true
		s.m.inflight.Add(1)
		started++
		s.wg.Add(1)
		go func(d Delivery) {
			defer s.wg.Done()
			s.attempt(ctx, d)
			s.mu.Lock()
			delete(s.inflight, d.Seq)
			s.mu.Unlock()
			s.m.inflight.Add(-1)
			s.Kick()
		}(d)
	}
	if len(s.queue) == 0 {
		s.queue = nil // let the batch's memory go
	}
	return started, nil
}

// attempt posts one delivery and records the outcome.
func (s *Service) attempt(ctx context.Context, d Delivery) {
	sub, ok := s.subscription(d.Subscription)
	if !ok && s.claimer != nil {
		// Made by another process since the last reload?
		if err := s.reload(ctx); err != nil {
			s.log.Error("event webhooks", "err", err)
			return // claimed: tried again when the claim runs out
		}
		sub, ok = s.subscription(d.Subscription)
	}
	if !ok {
		return // deleted meanwhile, with its deliveries
	}
	a := s.post(ctx, &sub, &d.Event, d.Seq)
	if ctx.Err() != nil {
		return // shutting down: the attempt is made again at the next start
	}
	now := s.clock.Now().UTC()
	d.AttemptCount++
	d.Attempts = append(d.Attempts, a)
	if len(d.Attempts) > MaxAttemptsKept {
		d.Attempts = d.Attempts[len(d.Attempts)-MaxAttemptsKept:]
	}
	// The log names the failure, never the receiver's words: an answer's
	// body may echo the event, customer text included.
	logErr := a.Error
	if a.Status != 0 {
		logErr = "HTTP " + strconv.Itoa(a.Status)
	}
	result := "delivered"
	// The last attempt is made at or after GiveUpAt: retried for at least
	// MaxAge.
	switch next := now.Add(Backoff(d.AttemptCount, s.rand())); {
	case a.Error == "":
		d.State, d.DoneAt, d.NextAt = Delivered, now, time.Time{}
	case !now.Before(d.GiveUpAt):
		d.State, d.DoneAt, d.NextAt = Failed, now, time.Time{}
		result = "failed"
		s.log.Warn("event delivery failed for good", "subscription", sub.ID, "event", d.Event.ID, "type", d.Event.Type,
			"delivery", d.Seq, "attempts", d.AttemptCount, "err", logErr)
	default:
		d.NextAt = next
		result = "retry"
		s.log.Debug("event delivery failed, to be retried", "subscription", sub.ID, "event", d.Event.ID, "delivery", d.Seq,
			"attempts", d.AttemptCount, "err", logErr, "next", next)
	}
	s.m.results.Inc(result)
	if _, err := s.store.UpdateDelivery(ctx, d); err != nil && ctx.Err() == nil {
		s.log.Error("recording an event delivery", "subscription", sub.ID, "delivery", d.Seq, "err", err)
	}
	if result == "delivered" && d.AttemptCount > 1 {
		s.hurry(ctx, sub.ID, now)
	}
}

// hurryEvery bounds how often a subscription's retries are brought
// forward: each one scans its pending deliveries.
const hurryEvery = time.Minute

// hurry brings a subscription's retries forward to now: a delivery that
// had failed went through, so the receiver is back, and its other
// contacts' events need not wait out their backoff.
func (s *Service) hurry(ctx context.Context, sub string, now time.Time) {
	s.mu.Lock()
	if now.Sub(s.hurried[sub]) < hurryEvery {
		s.mu.Unlock()
		return
	}
	s.hurried[sub] = now
	s.mu.Unlock()
	n, err := s.store.Hurry(ctx, sub, now)
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Error("bringing event retries forward", "subscription", sub, "err", err)
	case n > 0:
		s.log.Info("event receiver answering again: its retries go now", "subscription", sub, "count", n)
		s.Kick()
	}
}

// post sends ev to sub, signed, and says how it went. Nothing of the body
// or the answer is logged.
func (s *Service) post(ctx context.Context, sub *Subscription, ev *model.Event, seq uint64) Attempt {
	start := s.clock.Now().UTC()
	a := Attempt{At: start}
	fail := func(err string) Attempt {
		a.Error = err
		a.DurationMS = s.clock.Now().Sub(start).Milliseconds()
		return a
	}
	secret, err := s.seal.open(sub.ID, sub.SealedSecret)
	if err != nil {
		return fail(err.Error())
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fail("encoding the event: " + err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(body))
	if err != nil {
		return fail("bad URL: " + err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Parley-Webhooks/1")
	req.Header.Set(HeaderSignature, Sign(secret, start, body))
	req.Header.Set(HeaderEventID, ev.ID)
	req.Header.Set(HeaderEventType, string(ev.Type))
	if seq != 0 {
		req.Header.Set(HeaderDelivery, strconv.FormatUint(seq, 10))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return fail(fmt.Sprintf("no answer within %v", s.timeout))
		default:
			return fail(netError(err))
		}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	a.Status = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := "HTTP " + strconv.Itoa(resp.StatusCode)
		if t := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "")); t != "" {
			msg += ": " + t
		}
		return fail(msg)
	}
	a.DurationMS = s.clock.Now().Sub(start).Milliseconds()
	return a
}

// netError is a network error without Go's request preamble.
func netError(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}
