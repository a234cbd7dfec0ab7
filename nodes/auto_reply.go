package nodes

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/flows"
)

// auto_reply answers the customer's latest message by rules: an FAQ bot.
//
//	{"id": "faq", "type": "auto_reply",
//	 "rules": [{"keywords": ["hours", "open"], "reply": {"type": "text", "text": "9 to 5."}},
//	           {"pattern": "(?i)refund", "reply": {"type": "text", "text": "…"}, "next": "to_agent"}],
//	 "default": {"reply": {"type": "text", "text": "Try 'hours' or 'refund'."}},
//	 "hours": {"timezone": "Europe/Dublin", "open": {"mon": ["09:00-17:30"]},
//	           "closed_reply": {"type": "text", "text": "We open at 9."}}}
//
// The first matching rule answers (keywords match whole words, ignoring case
// and accents, and a keyword of several words, "opening hours" or "e-mail",
// matches those words side by side; pattern is a regular expression; when
// an expression); outside hours the closed_reply answers instead. Then the
// flow follows that rule's next (the default's, or closed_next), else the
// node's next; with neither it stays here and answers each following
// message. On arrival it answers the message that started or interrupted
// the conversation, if no node has answered it yet; otherwise it waits for
// the next one.
func init() { Register(flows.TypeAutoReply, TypeFunc(stepAutoReply)) }

func stepAutoReply(n *flows.Node, v *View, ev Event) Effects {
	switch ev.Kind {
	case Arrive:
		if v.Pending == nil {
			return Effects{Wait: &Wait{}}
		}
		return answer(n, v, v.Pending)
	case Inbound:
		return answer(n, v, ev.Reply)
	}
	return Effects{Wait: &Wait{}}
}

func answer(n *flows.Node, v *View, r *flows.Reply) Effects {
	eff := Effects{Consumed: true, Reply: r}
	reply, next, exit := n.DefaultReplyMessage(), n.Next, ExitNext
	if n.DefaultReply != nil && n.DefaultReply.Next != "" {
		next, exit = n.DefaultReply.Next, ExitDefault
	}
	if h := n.Hours; h != nil && !isOpen(h, v.Env.Now, &eff) {
		reply, next, exit = h.ClosedReply, n.Next, ExitNext
		if h.ClosedNext != "" {
			next, exit = h.ClosedNext, ExitClosedHours
		}
	} else if i := matchRule(n, v, r, &eff); i >= 0 {
		rule := &n.Rules[i]
		reply, next, exit = rule.Reply, n.Next, ExitNext
		if rule.Next != "" {
			next, exit = rule.Next, RuleExit(i)
		}
	}
	if reply != nil {
		env := *v.Env
		env.Reply = *r
		view := *v
		view.Env = &env
		eff.Sends = []Send{{Message: message(reply, &view, &eff)}}
	}
	if next == "" {
		eff.Wait = &Wait{}
	}
	eff.Next = next
	if next != "" {
		eff.Exit = exit
	}
	return eff
}

func matchRule(n *flows.Node, v *View, r *flows.Reply, eff *Effects) int {
	text := r.Text
	if text == "" {
		text = r.Title
	}
	for i, rule := range n.Rules {
		switch {
		case len(rule.Keywords) > 0:
			if flows.HasAnyWord(text, rule.Keywords) {
				return i
			}
		case rule.Pattern != "":
			re, err := flows.Regexp(rule.Pattern)
			if err != nil {
				eff.Problems = append(eff.Problems, fmt.Sprintf("rules[%d].pattern: %v", i, err))
				continue
			}
			if re.MatchString(text) {
				return i
			}
		case rule.When != "":
			env := *v.Env
			env.Reply = *r
			ok, err := v.Flow.Test(rule.When, &env)
			if err != nil {
				eff.Problems = append(eff.Problems, fmt.Sprintf("rules[%d].when: %v", i, err))
				continue
			}
			if ok {
				return i
			}
		}
	}
	return -1
}

var weekdays = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

var zones sync.Map // name -> *time.Location

// isOpen reports whether now falls inside the business hours, in their
// time zone. Ranges are "HH:MM-HH:MM", end exclusive.
func isOpen(h *flows.Hours, now time.Time, eff *Effects) bool {
	loc := time.UTC
	if h.Timezone != "" {
		if l, ok := zones.Load(h.Timezone); ok {
			loc = l.(*time.Location)
		} else if l, err := time.LoadLocation(h.Timezone); err == nil {
			zones.Store(h.Timezone, l)
			loc = l
		} else {
			eff.Problems = append(eff.Problems, fmt.Sprintf("hours.timezone: %v", err))
		}
	}
	local := now.In(loc)
	minute := local.Hour()*60 + local.Minute()
	for _, span := range h.Open[weekdays[local.Weekday()]] {
		from, to, ok := ParseSpan(span)
		if ok && minute >= from && minute < to {
			return true
		}
	}
	return false
}

// ParseSpan reads "09:00-17:30" as minutes since midnight.
func ParseSpan(s string) (from, to int, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	from, ok1 := clock(strings.TrimSpace(a))
	to, ok2 := clock(strings.TrimSpace(b))
	return from, to, ok1 && ok2 && from < to
}

func clock(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 24 * 60, true
		}
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}
