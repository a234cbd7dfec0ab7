package schedule

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/parleyhq/parley/engine/model"
)

// Delivery is where a firing's sends stand now, read from their messages'
// states. Queued + Accepted + Delivered + the Failed + Unknown = Sent;
// Read counts the delivered that were also read.
type Delivery struct {
	// Queued: still in the outbox (or being sent).
	Queued int `json:"queued"`
	// Accepted: Meta took it (accepted or sent), not yet delivered.
	Accepted  int `json:"accepted"`
	Delivered int `json:"delivered"`
	Read      int `json:"read"`
	// Failed counts failures by Meta's error code ("131026"), or by
	// "blocked" when Parley refused it before sending.
	Failed map[string]int `json:"failed"`
	// Unknown: the send's outcome is not known (never resent blindly).
	Unknown int `json:"unknown"`
	// NoMessage: a flow started that sent nothing (yet).
	NoMessage int `json:"no_message"`
}

// Report is a firing with the delivery of its sends.
type Report struct {
	Firing   *Firing  `json:"firing"`
	Delivery Delivery `json:"delivery"`
}

// Report reads a firing and the current state of each of its sends; for a
// firing past the retention period, the delivery frozen when its
// per-contact records were pruned (retention.go).
func (s *Scheduler) Report(ctx context.Context, firingID string) (*Report, error) {
	f, err := s.Firing(ctx, firingID)
	if err != nil {
		return nil, err
	}
	if f.Delivery != nil {
		return &Report{Firing: f, Delivery: *f.Delivery}, nil
	}
	d, err := s.delivery(ctx, firingID)
	if err != nil {
		return nil, err
	}
	return &Report{Firing: f, Delivery: d}, nil
}

// delivery reads the state now of each message a firing sent.
func (s *Scheduler) delivery(ctx context.Context, firingID string) (Delivery, error) {
	var sends []Send
	err := s.records.ViewSchedules(ctx, func(tx Tx) error {
		sends = sends[:0]
		return tx.Sends(firingID, func(sd *Send) error {
			if sd.Outcome == OutcomeSent {
				sends = append(sends, *sd)
			}
			return nil
		})
	})
	if err != nil {
		return Delivery{}, err
	}
	d := Delivery{Failed: map[string]int{}}
	for _, sd := range sends {
		if sd.Seq == 0 {
			d.NoMessage++
			continue
		}
		m, err := s.e.Store().Message(ctx, sd.Conversation, sd.Seq)
		if errors.Is(err, model.ErrNotFound) {
			d.NoMessage++
			continue
		}
		if err != nil {
			return Delivery{}, fmt.Errorf("reading send %s/%d: %w", sd.Conversation, sd.Seq, err)
		}
		switch m.State {
		case model.Queued, model.Sending:
			d.Queued++
		case model.Accepted, model.Sent:
			d.Accepted++
		case model.Delivered:
			d.Delivered++
		case model.Read:
			d.Delivered++
			d.Read++
		case model.SendFailed:
			code := "blocked"
			if m.ErrorCode != 0 {
				code = strconv.Itoa(m.ErrorCode)
			}
			d.Failed[code]++
		default:
			d.Unknown++
		}
	}
	return d, nil
}

// Sends lists what a firing did for each contact, in contact order, up to
// limit after the contact key after ("" for the first).
func (s *Scheduler) Sends(ctx context.Context, firingID string, after model.ContactKey, limit int) ([]*Send, error) {
	out := []*Send{}
	err := s.records.ViewSchedules(ctx, func(tx Tx) error {
		out = out[:0]
		return tx.Sends(firingID, func(sd *Send) error {
			if sd.Contact <= after || (limit > 0 && len(out) >= limit) {
				return nil
			}
			out = append(out, sd)
			return nil
		})
	})
	return out, err
}
