package engine_test

import (
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// TestRender pins both renderings of a transcript message: the scripts'
// (Render) and the inbox's (Display).
func TestRender(t *testing.T) {
	lat, lng := 52.52, 13.405
	tests := []struct {
		name string
		m    model.Message
		want string
		// display is the inbox's reading (engine.Display).
		display string
	}{
		{"text", model.Message{Message: &flows.Message{Type: flows.MsgText, Text: "Hi Ann!"}}, "text: Hi Ann!", "Hi Ann!"},
		{"buttons", model.Message{Message: &flows.Message{Type: flows.MsgButtons, Text: "Track?", Buttons: []flows.Button{{ID: "yes", Title: "Yes"}, {ID: "no", Title: "No"}}}}, "buttons: Track? [yes:Yes] [no:No]", "Track? [Yes] [No]"},
		{"location sent", model.Message{Message: &flows.Message{Type: flows.MsgLocation, Latitude: &lat, Longitude: &lng, Name: "Office"}}, "location: 52.52,13.405 Office", "📍 Office"},
		{"template", model.Message{Template: &flows.TemplateSend{Name: "order_followup", Language: "en_US", Body: flows.TextParams("Ann", "A-1")}}, "template: order_followup/en_US Ann | A-1", "Template order_followup (en_US): Ann · A-1"},
		{"note", model.Message{Direction: model.Note, Text: "blocked: no opt-in"}, "blocked: no opt-in", "blocked: no opt-in"},
		{"customer text, as it came", model.Message{Inbound: &flows.Reply{Type: flows.MsgText, Text: `<b>hi</b> & "bye"`}}, `text: <b>hi</b> & "bye"`, `<b>hi</b> & "bye"`},
		{"customer tapped a button", model.Message{Inbound: &flows.Reply{Type: flows.ReplyButton, ButtonID: "yes", Title: "Yes"}}, "button: [yes:Yes]", "Yes"},
		{"customer picked a row", model.Message{Inbound: &flows.Reply{Type: flows.ReplyList, ListID: "p1", Title: "Phone One"}}, "list: [p1:Phone One]", "Phone One"},
		{"customer shared a location", model.Message{Inbound: &flows.Reply{Type: flows.MsgLocation, Location: &flows.Location{Latitude: lat, Longitude: lng, Name: "Home"}}}, "location: 52.52,13.405 Home", "📍 Home"},
		{"customer sent a photo", model.Message{Inbound: &flows.Reply{Type: "image", Text: "my receipt", Media: &flows.MediaIn{ID: "m1", Caption: "my receipt"}}}, "image: m1 | my receipt", "my receipt"},
		{"customer reacted", model.Message{Inbound: &flows.Reply{Type: "reaction"}}, "reaction", "reaction"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := engine.Render(&tc.m); got != tc.want {
				t.Errorf("Render: got %q, want %q", got, tc.want)
			}
			if got := engine.Display(&tc.m); got != tc.display {
				t.Errorf("Display: got %q, want %q", got, tc.display)
			}
		})
	}
}
