package flows

import "fmt"

// Choice is one button or list row of a wait_reply's prompt that has an
// exit of its own (docs/flow-format.md, "Per-choice exits").
type Choice struct {
	// Exit names the choice the way nodes.Effects.Exit and analytics do:
	// its JSON pointer relative to the node, without the trailing "/next"
	// ("prompt/buttons/1", "prompt/sections/0/rows/2").
	Exit string
	// Index is the choice's position among the prompt's buttons, or among
	// all its rows in section order.
	Index int
	ID    string
	Title string
	// Next is the node the choice leads to; "" follows the node's next.
	Next string
}

// Choices lists every button or row of a wait_reply's prompt, in order,
// with its exit. It is nil for other nodes and prompts without choices.
func (n *Node) Choices() []Choice {
	if n == nil || n.Type != TypeWaitReply || n.Prompt == nil {
		return nil
	}
	return messageChoices(n.Prompt)
}

func messageChoices(m *Message) []Choice {
	var out []Choice
	for i, b := range m.Buttons {
		out = append(out, Choice{Exit: fmt.Sprintf("prompt/buttons/%d", i), Index: len(out), ID: b.ID, Title: b.Title, Next: b.Next})
	}
	for s, sec := range m.Sections {
		for r, row := range sec.Rows {
			out = append(out, Choice{Exit: fmt.Sprintf("prompt/sections/%d/rows/%d", s, r), Index: len(out), ID: row.ID, Title: row.Title, Next: row.Next})
		}
	}
	return out
}

// ChoiceNexts reports whether any button or row of m carries a next.
func ChoiceNexts(m *Message) bool {
	if m == nil {
		return false
	}
	for _, c := range messageChoices(m) {
		if c.Next != "" {
			return true
		}
	}
	return false
}
