package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // time zones do not depend on the host's zoneinfo

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// Errors of the scheduler.
var (
	// ErrNotFound is returned for an unknown schedule or firing; it is an
	// model.ErrNotFound.
	ErrNotFound = fmt.Errorf("schedule %w", model.ErrNotFound)
	// ErrPaused is returned by RunNow on a paused schedule: its firings
	// would not advance.
	ErrPaused = errors.New("the schedule is paused")
)

// InvalidError is returned when a schedule cannot be saved: Field names
// the field at fault ("cron", "timezone", "audience", "action.template.body[0]"…).
type InvalidError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

func invalid(field, format string, args ...any) *InvalidError {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ActionKind says what a schedule does for each contact.
type ActionKind string

// Action kinds.
const (
	// ActionStartFlow starts a published flow at its start node (which
	// normally opens with a template).
	ActionStartFlow ActionKind = "start_flow"
	// ActionSendTemplate sends one template, outside any flow.
	ActionSendTemplate ActionKind = "send_template"
)

// Action is what a schedule does for each contact of its audience.
type Action struct {
	Kind ActionKind `json:"kind"`
	// Flow is the flow to start (ActionStartFlow).
	Flow string `json:"flow,omitempty"`
	// Template is the template to send (ActionSendTemplate).
	Template *Template `json:"template,omitempty"`
}

// Template is a template to send, with parameters that may hold {{ }}
// expressions over the contact (Env): "{{ fields.appointment }}". It takes
// every parameter kind a flow's template node takes (docs/flow-format.md).
type Template = flows.TemplateRef

// BusyRule says what happens to a contact already in a running
// conversation.
type BusyRule string

// BusySkip skips the contact and records it (reason busy): the default
// and, for now, the only rule.
const BusySkip BusyRule = "skip"

// Schedule is a schedule as stored and as the API shows it.
type Schedule struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Cron is a five-field expression or a descriptor (@daily, @every 2h).
	Cron string `json:"cron"`
	// TimeZone is an IANA zone name; "" is UTC.
	TimeZone string `json:"timezone"`
	Action   Action `json:"action"`
	// Audience is a boolean expression over the contact (Env); "" is
	// every contact.
	Audience string   `json:"audience,omitempty"`
	Busy     BusyRule `json:"busy"`
	Paused   bool     `json:"paused"`
	// PhoneNumberID is the business number the schedule sends from: its
	// audience is that number's contacts, and its messaging limit is the
	// number's portfolio's. "": every number's contacts, each from their
	// own number.
	PhoneNumberID string `json:"phone_number_id,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	// Cursor: every fire time up to it has been claimed, recorded as
	// missed, or fell in a pause.
	Cursor time.Time `json:"cursor"`
}

// Firing statuses.
type FiringStatus string

// Firing statuses.
const (
	// Running: claimed; the fan-out is under way (or about to resume
	// after a restart).
	Running FiringStatus = "running"
	// Waiting: the fan-out stopped at the messaging limit; it resumes
	// when places free (Firing.FreeAt).
	Waiting FiringStatus = "waiting"
	// Done: every contact was considered.
	Done FiringStatus = "done"
	// Missed: the fire time passed beyond the grace period before it
	// could run.
	Missed FiringStatus = "missed"
	// Failed: the firing could not run at all (the flow is not published,
	// the template not sendable); no contact was considered.
	Failed FiringStatus = "failed"
	// Cancelled: the schedule was deleted before the fan-out was done.
	Cancelled FiringStatus = "cancelled"
)

// Finished reports whether a firing with this status is done: it has
// left the active index (Tx.Active).
func (s FiringStatus) Finished() bool { return s != Running && s != Waiting }

// Firing is one run of a schedule: its fire time and what it did.
type Firing struct {
	ID       string       `json:"id"`
	Schedule string       `json:"schedule"`
	Name     string       `json:"name"`
	At       time.Time    `json:"at"` // the fire time (Run now: when asked)
	Manual   bool         `json:"manual,omitempty"`
	By       string       `json:"by,omitempty"` // who asked, for Run now
	Status   FiringStatus `json:"status"`
	// Reason says why a firing is missed, failed or waiting.
	Reason string `json:"reason,omitempty"`
	// FreeAt is when a waiting firing expects a place under the limit.
	FreeAt     time.Time `json:"free_at,omitzero"`
	ClaimedAt  time.Time `json:"claimed_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`

	// The schedule as it was when claimed: the fan-out keeps to it even
	// if the schedule is edited meanwhile.
	Action   Action   `json:"action"`
	Audience string   `json:"audience,omitempty"`
	Busy     BusyRule `json:"busy"`
	TimeZone string   `json:"timezone"`
	// PhoneNumberID: see Schedule.PhoneNumberID.
	PhoneNumberID string `json:"phone_number_id,omitempty"`

	// Cursor is the last contact considered.
	Cursor model.ContactKey `json:"cursor,omitempty"`
	Counts Counts           `json:"counts"`
	// Delivery is frozen when the firing's per-contact records are pruned
	// after the retention period (retention.go); nil until then.
	Delivery *Delivery `json:"delivery,omitempty"`
}

// Skip reasons.
const (
	SkipNoConsent       = "no_consent"
	SkipOptedOut        = "opted_out"
	SkipMarketingOptOut = "marketing_opt_out"
	SkipHeld            = "held" // 131049: marketing hold
	SkipUnreachable     = "unreachable"
	SkipBusy            = "busy"
	// SkipAudienceError: the audience expression failed on the contact
	// (a field of an unexpected type, say).
	SkipAudienceError = "audience_error"
)

// Failure reasons of a contact that could not be started.
const (
	FailFlowFailed  = "flow_failed"  // the flow failed at once
	FailNotSendable = "not_sendable" // the engine refused the template
	FailParams      = "param_error"  // a parameter expression failed
	FailError       = "error"        // anything else (see the log)
)

// Counts add up: Audience = Sent + the Skipped + the Failed + those not
// considered yet (a waiting or running firing).
type Counts struct {
	Audience int            `json:"audience"`
	Sent     int            `json:"sent"`
	Skipped  map[string]int `json:"skipped"`
	Failed   map[string]int `json:"failed"`
}

func (c *Counts) skip(reason string) {
	if c.Skipped == nil {
		c.Skipped = map[string]int{}
	}
	c.Skipped[reason]++
}

func (c *Counts) fail(reason string) {
	if c.Failed == nil {
		c.Failed = map[string]int{}
	}
	c.Failed[reason]++
}

// Outcomes of a Send.
const (
	OutcomeSent    = "sent"
	OutcomeSkipped = "skipped"
	OutcomeFailed  = "failed"
)

// Send is what a firing did for one contact of its audience.
type Send struct {
	Contact model.ContactKey `json:"contact"`
	Outcome string           `json:"outcome"`
	Reason  string           `json:"reason,omitempty"`
	// Detail explains a failure (an error, never customer text).
	Detail string `json:"detail,omitempty"`
	// Conversation and Seq locate the first message sent, for its
	// delivery state; Seq 0 when the start queued none.
	Conversation string `json:"conversation,omitempty"`
	Seq          uint64 `json:"seq,omitempty"`
	// Reach: the send took a place under the messaging limit.
	Reach bool      `json:"reach,omitempty"`
	At    time.Time `json:"at"`
}

// normalize fills defaults and trims what the caller typed.
func (s *Schedule) normalize() {
	s.Name = strings.TrimSpace(s.Name)
	s.Cron = strings.TrimSpace(s.Cron)
	s.TimeZone = strings.TrimSpace(s.TimeZone)
	if s.TimeZone == "" {
		s.TimeZone = "UTC"
	}
	s.Audience = strings.TrimSpace(s.Audience)
	if s.Busy == "" {
		s.Busy = BusySkip
	}
}
