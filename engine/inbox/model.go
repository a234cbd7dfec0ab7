package inbox

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/whatsapp"
)

// Errors of the inbox.
var (
	// ErrNotFound is returned for an agent, queue, canned response or
	// conversation the inbox does not hold.
	ErrNotFound = errors.New("not found")
	// ErrInvalid is returned for a record that breaks a rule; the rule
	// comes with it.
	ErrInvalid = errors.New("invalid")
	// ErrConflict is returned when an action does not fit the
	// conversation's state: claiming one another agent holds, replying to
	// one assigned to someone else.
	ErrConflict = errors.New("conflict")
	// ErrForbidden is returned when the acting agent may not touch the
	// conversation (not in their queues).
	ErrForbidden = errors.New("forbidden")
)

// Status is an agent's availability.
type Status string

// Agent statuses. Only online agents get new conversations; away ones
// keep theirs; offline ones give theirs back (doc.go).
const (
	Online  Status = "online"
	Away    Status = "away"
	Offline Status = "offline"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s == Online || s == Away || s == Offline }

// DefaultCapacity is a new agent's capacity: a handful of chats at once
// is what one person can follow.
const DefaultCapacity = 5

// MaxCapacity bounds an agent's capacity; beyond it a number is a typo.
const MaxCapacity = 100

// Agent is an agent's inbox profile. Email is the user's id (a user with
// the agent role); queues are the queues they work; capacity is how many
// conversations the automatic assignment gives them at once (1 to
// MaxCapacity; 0 in PutAgent means DefaultCapacity).
type Agent struct {
	Email    string    `json:"email"`
	Name     string    `json:"name,omitempty"`
	Queues   []string  `json:"queues"`
	Capacity int       `json:"capacity"`
	Status   Status    `json:"status"`
	StatusAt time.Time `json:"status_at,omitzero"`
}

// InQueue reports whether the agent works queue q.
func (a *Agent) InQueue(q string) bool { return slices.Contains(a.Queues, q) }

// normalize checks an agent profile and puts it in canonical form.
func (a *Agent) normalize() error {
	a.Email = strings.ToLower(strings.TrimSpace(a.Email))
	if a.Email == "" || !strings.Contains(a.Email, "@") || len(a.Email) > 254 {
		return fmt.Errorf("%w: an agent needs a user's email", ErrInvalid)
	}
	a.Name = strings.TrimSpace(a.Name)
	if utf8.RuneCountInString(a.Name) > 100 {
		return fmt.Errorf("%w: name is longer than 100 characters", ErrInvalid)
	}
	var qs []string
	for _, q := range a.Queues {
		if !validID(q) {
			return fmt.Errorf("%w: queue id %q: %s", ErrInvalid, q, idRule)
		}
		if !slices.Contains(qs, q) {
			qs = append(qs, q)
		}
	}
	slices.Sort(qs)
	a.Queues = qs
	if a.Queues == nil {
		a.Queues = []string{}
	}
	if a.Capacity < 1 || a.Capacity > MaxCapacity {
		return fmt.Errorf("%w: capacity must be 1 to %d", ErrInvalid, MaxCapacity)
	}
	if a.Status == "" {
		a.Status = Offline
	}
	if !a.Status.Valid() {
		return fmt.Errorf("%w: status must be online, away or offline", ErrInvalid)
	}
	return nil
}

// Queue is a queue of handed-off conversations: the `queue` a handoff
// node names.
type Queue struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Hours, when set, are when agents answer; outside them a waiting
	// customer gets ClosedReply (doc.go).
	Hours *Hours `json:"hours,omitempty"`
	// ClosedReply is the automatic reply outside hours; "{{opens}}" in it
	// becomes when the queue next opens ("Monday 09:00 (Europe/Dublin)").
	// Empty: DefaultClosedReply.
	ClosedReply string `json:"closed_reply,omitempty"`
	// Numbers are the business numbers (phone number ids) whose
	// conversations the queue serves; none: every number. Its agents get
	// and see only conversations on these numbers (doc.go).
	Numbers []string `json:"numbers,omitempty"`
}

// Serves reports whether the queue serves conversations on business
// number id: one of its Numbers, or any when it names none. A queue a
// flow named but nobody created (nil) serves every number.
func (q *Queue) Serves(id string) bool {
	return q == nil || len(q.Numbers) == 0 || slices.Contains(q.Numbers, id)
}

// MaxQueueNumbers bounds a queue's numbers: far more than one Parley
// serves; beyond it a list is a mistake.
const MaxQueueNumbers = 100

// DefaultClosedReply is the closed reply of a queue with hours and none
// of its own.
const DefaultClosedReply = "Thanks for your message. Our team is away right now; someone will answer from {{opens}}."

// Hours are a queue's business hours: for each weekday ("mon" … "sun"),
// spans "HH:MM-HH:MM" (end exclusive) in the time zone.
type Hours struct {
	Timezone string              `json:"timezone"`
	Open     map[string][]string `json:"open"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

const idRule = "ids are 1 to 64 of a-z, 0-9 and _ (as a flow's queue)"

func validID(s string) bool { return idPattern.MatchString(s) }

// normalize checks a queue.
func (q *Queue) normalize() error {
	if !validID(q.ID) {
		return fmt.Errorf("%w: queue id %q: %s", ErrInvalid, q.ID, idRule)
	}
	q.Name = strings.TrimSpace(q.Name)
	if utf8.RuneCountInString(q.Name) > 100 {
		return fmt.Errorf("%w: name is longer than 100 characters", ErrInvalid)
	}
	if utf8.RuneCountInString(q.ClosedReply) > 1024 {
		return fmt.Errorf("%w: closed_reply is longer than 1024 characters", ErrInvalid)
	}
	if q.Hours != nil {
		if err := q.Hours.check(); err != nil {
			return fmt.Errorf("%w: hours: %v", ErrInvalid, err)
		}
	}
	if len(q.Numbers) > MaxQueueNumbers {
		return fmt.Errorf("%w: numbers: at most %d", ErrInvalid, MaxQueueNumbers)
	}
	var ns []string
	for _, n := range q.Numbers {
		n = strings.TrimSpace(n)
		if !whatsapp.ValidPhoneNumberID(n) {
			return fmt.Errorf("%w: numbers: %q is not a phone number id (the digits Meta gives a business number, not its display number)", ErrInvalid, n)
		}
		if !slices.Contains(ns, n) {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	q.Numbers = ns
	return nil
}

// Canned is a canned response: a reply an agent picks instead of typing.
// Queue "" offers it in every queue.
type Canned struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
	Queue string `json:"queue,omitempty"`
}

// MaxCannedText is WhatsApp's cap on a text body: a canned response is
// sent as one.
const MaxCannedText = 4096

func (c *Canned) normalize() error {
	c.Title = strings.TrimSpace(c.Title)
	if c.Title == "" || utf8.RuneCountInString(c.Title) > 100 {
		return fmt.Errorf("%w: title holds 1 to 100 characters", ErrInvalid)
	}
	if strings.TrimSpace(c.Text) == "" || utf8.RuneCountInString(c.Text) > MaxCannedText {
		return fmt.Errorf("%w: text holds 1 to %d characters", ErrInvalid, MaxCannedText)
	}
	if c.Queue != "" && !validID(c.Queue) {
		return fmt.Errorf("%w: queue id %q: %s", ErrInvalid, c.Queue, idRule)
	}
	return nil
}
