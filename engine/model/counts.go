package model

import "time"

// CountKind says what a Count counts.
type CountKind uint8

// Count kinds. Their values are stored: append only.
const (
	// CountEntered: a conversation arrived at the node.
	CountEntered CountKind = iota + 1
	// CountExit: a conversation left the node by Count.Exit (an exit name
	// of package nodes: "next", "cases/0", "on_timeout", "reengage"…).
	CountExit
	// CountEnded, CountExpired, CountFailed: the conversation finished
	// while at the node (dropped off there).
	CountEnded
	CountExpired
	CountFailed
	// CountSent, CountDelivered, CountRead, CountSendFailed: a message the
	// node sent reached that state (see countMove). Each message counts at
	// most once per kind.
	CountSent
	CountDelivered
	CountRead
	CountSendFailed
)

// Count is an increment of one analytics counter: N more of Kind (with
// Exit for CountExit) at Node of Flow's Version. A store adds it on the
// UTC day of its Change's At.
type Count struct {
	Flow    string    `json:"flow"`
	Version int       `json:"version"`
	Node    string    `json:"node"`
	Kind    CountKind `json:"kind"`
	Exit    string    `json:"exit,omitempty"`
	N       uint64    `json:"n"`
}

// FlowStat is one stored counter: its total over one UTC day.
type FlowStat struct {
	// Day is the day's midnight, UTC.
	Day     time.Time `json:"day"`
	Version int       `json:"version"`
	Node    string    `json:"node"`
	Kind    CountKind `json:"kind"`
	Exit    string    `json:"exit,omitempty"`
	N       uint64    `json:"n"`
}

// Day is the UTC day of t, as its midnight.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
