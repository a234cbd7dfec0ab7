package script

import (
	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/flows"
)

// Render is the one-line rendering of an outbound message that script
// expectations match: "text: Hi Ann!", "buttons: Track? [yes:Yes] [no:No]",
// "template: order_followup/en_US Ann". It is engine.Render, which the
// API's transcripts share.
func Render(m *engine.Message) string { return engine.Render(m) }

// RenderMessage renders a free-form message (engine.RenderMessage).
func RenderMessage(msg *flows.Message) string { return engine.RenderMessage(msg) }
