package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what a user may do. A user holds one or more.
type Role string

// The roles. Admin may do everything; Analyst builds flows, templates,
// schedules and reads analytics; Agent works the inbox.
const (
	Admin   Role = "admin"
	Analyst Role = "analyst"
	Agent   Role = "agent"
)

// Roles lists every role, in the order they are shown.
var Roles = []Role{Admin, Analyst, Agent}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// ParseRoles reads a comma-separated list ("admin,agent"), as the CLI
// takes it.
func ParseRoles(s string) ([]Role, error) {
	var rs []Role
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			rs = append(rs, Role(strings.ToLower(p)))
		}
	}
	return normalizeRoles(rs)
}

// normalizeRoles checks roles, drops repeats and puts them in the order
// of Roles, so that stored and shown lists are canonical.
func normalizeRoles(rs []Role) ([]Role, error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("%w: a user needs at least one role (%s)", ErrInvalidRole, roleList())
	}
	for _, r := range rs {
		if !r.Valid() {
			return nil, fmt.Errorf("%w: %q is not one of %s", ErrInvalidRole, r, roleList())
		}
	}
	var out []Role
	for _, r := range Roles {
		if slices.Contains(rs, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func roleList() string {
	s := make([]string, len(Roles))
	for i, r := range Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}
